package crm.tiering;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * A customer's state between monthly evaluations, in its serialized form (versioned JSON): what
 * a core system stores in its own database. Immutable; it holds no native handle (each native
 * use makes and frees its own), so it may be shared by threads.
 */
public final class CustomerState {
    /** A new customer: not enrolled, never evaluated. */
    public static final CustomerState NEW = new CustomerState(new byte[0]);

    private final byte[] bytes;

    private CustomerState(byte[] bytes) {
        this.bytes = bytes;
    }

    /** A state read back from storage (validated when used; empty means a new customer). */
    public static CustomerState fromBytes(byte[] bytes) {
        return new CustomerState(Objects.requireNonNull(bytes, "bytes").clone());
    }

    /** A state read back from its JSON text. */
    public static CustomerState fromJson(String json) {
        return new CustomerState(Tiering.utf8(json, "json"));
    }

    static CustomerState own(byte[] bytes) {
        return new CustomerState(bytes);
    }

    byte[] raw() {
        return bytes;
    }

    /** A state's figures, read natively from the state ({@code crmt_state_get_info}). */
    private com.sun.jna.Memory info() {
        com.sun.jna.ptr.PointerByReference st = new com.sun.jna.ptr.PointerByReference();
        Tiering.check(CrmtLibrary.C.crmt_state_from_bytes(bytes, bytes.length, st));
        try {
            com.sun.jna.Memory m = new com.sun.jna.Memory(INFO_SIZE);
            Tiering.check(CrmtLibrary.C.crmt_state_get_info(st.getValue(), m));
            return m;
        } finally {
            CrmtLibrary.C.crmt_state_free(st.getValue());
        }
    }

    static final int INFO_SIZE = 88;

    /** Where the customer stands in VIP management. */
    public enum Status { NOT_ENROLLED, RATED, RETAINED }

    private static String code(com.sun.jna.Memory m, long offset) {
        String s = m.getString(offset, "UTF-8");
        return s.isEmpty() ? null : s;
    }

    /** The status: not enrolled (未纳入), rated (已评级) or retained (已退未评级). */
    public Status status() {
        return Status.values()[info().getInt(0)];
    }

    /** The earned tier (current when rated, last when retained), or null. */
    public String tier() {
        return code(info(), 4);
    }

    /** The effective tier: earned or special VIP, whichever is higher; null when none. */
    public String effectiveTier() {
        return code(info(), 21);
    }

    /** The special VIP tier, or null. */
    public String specialTier() {
        return code(info(), 56);
    }

    /** The last evaluated month, or null for a new customer. */
    public java.time.YearMonth lastMonth() {
        return Tiering.month(info().getInt(40));
    }

    /** The bytes to store. */
    public byte[] toBytes() {
        return bytes.clone();
    }

    /**
     * The JSON text to store (empty for {@link #NEW}): the state, with a {@code history} member
     * under a rule book whose windows read earlier months (SPEC §19.5), so store all of it.
     */
    public String toJson() {
        return new String(bytes, StandardCharsets.UTF_8);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CustomerState s && Arrays.equals(bytes, s.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return bytes.length == 0 ? "CustomerState.NEW" : toJson();
    }
}
