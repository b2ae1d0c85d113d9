package crm.tiering;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * A customer's state between monthly evaluations, in its serialized form (versioned JSON): what
 * a core system stores in its own database. Immutable.
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
        return new CustomerState(json.getBytes(StandardCharsets.UTF_8));
    }

    static CustomerState own(byte[] bytes) {
        return new CustomerState(bytes);
    }

    byte[] raw() {
        return bytes;
    }

    /** The bytes to store. */
    public byte[] toBytes() {
        return bytes.clone();
    }

    /** The JSON text to store (empty for {@link #NEW}). */
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
