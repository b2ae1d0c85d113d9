package crm.tiering;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A portfolio's stored states, keyed by customer id, held natively (a {@code crmt_portfolio}): each
 * customer's id, legal entity, kind and state, in a stable order (stored customers first, new ones
 * appended in record order), and the fingerprint of the rule book that last wrote them. An extract
 * meets these states by customer id, never by position ({@link RuleBook#evaluatePortfolio}).
 * Close it when done.
 *
 * <p><b>Threads.</b> Every call locks the states for its duration, an evaluation that updates them
 * included: calls from several threads run one at a time, never at once (a read made while a month
 * is evaluated waits for it, and sees the states before or after the month, never halfway).
 * {@link #close()} waits for the call in progress; later calls throw {@link IllegalStateException};
 * closing again, from any thread, does nothing. The {@link CustomerState}s it returns are copies.
 *
 * <p>Ids and legal entities holding a NUL are refused with {@link IllegalArgumentException} (the
 * library reads C strings: {@code get("c1\u0000other")} would otherwise find {@code c1}).
 */
public final class PortfolioStates implements AutoCloseable {
    static final int ENTRY_SIZE = 104;
    private final NativeHandle handle;

    private PortfolioStates(Pointer handle) {
        this.handle = new NativeHandle("the portfolio states", "the portfolio states are closed",
                NativeHandle.PORTFOLIO_STATES, false, handle, CrmtLibrary.C::crmt_portfolio_free);
    }

    /** An empty portfolio. */
    public static PortfolioStates create() {
        PointerByReference out = new PointerByReference();
        Tiering.check(CrmtLibrary.C.crmt_portfolio_new(out));
        return new PortfolioStates(out.getValue());
    }

    /**
     * Stored states from their checked text ({@link #toText}): text cut at any byte (a line end
     * included), altered, or holding an id twice is refused.
     *
     * @throws TieringException.State naming the line ({@link TieringException#recordRow()})
     */
    public static PortfolioStates fromText(byte[] text) {
        PointerByReference out = new PointerByReference();
        Tiering.check(CrmtLibrary.C.crmt_portfolio_from_text(Objects.requireNonNull(text, "text"), text.length, out));
        return new PortfolioStates(out.getValue());
    }

    /** The states as checked text (header, one line per customer with its id, trailer with a SHA-256), stamped with the rule book. */
    public byte[] toText(RuleBook rules) {
        NativeHandle book = Objects.requireNonNull(rules, "rules").nativeHandle();
        PointerByReference out = new PointerByReference();
        Pointer[] p = NativeHandle.enter(book, handle);
        try {
            Tiering.check(CrmtLibrary.C.crmt_portfolio_to_text(p[1], p[0], out));
        } finally {
            NativeHandle.exit(book, handle);
        }
        return Tiering.takeBuffer(out);
    }

    /** The states as the JSON list of the portfolio vectors ({@code customer_id, legal_entity, customer_kind, state}). */
    public String toJson() {
        PointerByReference out = new PointerByReference();
        Pointer h = handle.enter();
        try {
            Tiering.check(CrmtLibrary.C.crmt_portfolio_to_json(h, out));
        } finally {
            handle.exit();
        }
        return PortfolioStates.utf8(Tiering.takeBuffer(out));
    }

    /**
     * Adds a stored customer (migrating a core system's own store).
     *
     * @throws TieringException.State when the id is already there or the state cannot be read
     * @throws TieringException.Input for an unusable id
     * @throws IllegalArgumentException when the id or the legal entity holds a NUL
     */
    public void put(Customer customer, CustomerState state) {
        Objects.requireNonNull(customer, "customer");
        byte[] b = Objects.requireNonNull(state, "state").raw();
        byte[] id = Tiering.cString(customer.id(), "customer.id");
        byte[] entity = Tiering.cStringOrNull(customer.legalEntity(), "customer.legalEntity");
        Pointer h = handle.enter();
        try {
            Tiering.check(CrmtLibrary.C.crmt_portfolio_insert(h, id, entity,
                    customer.kind() == Customer.Kind.CORPORATE ? 1 : 0, b, b.length, null));
        } finally {
            handle.exit();
        }
    }

    /** The number of customers. */
    public int size() {
        Pointer h = handle.enter();
        try {
            return Math.toIntExact(CrmtLibrary.C.crmt_portfolio_len(h));
        } finally {
            handle.exit();
        }
    }

    /** The fingerprint of the rule book that last wrote the states, or empty. */
    public String ruleBook() {
        Pointer h = handle.enter();
        try {
            return Tiering.text((b, l, w) -> CrmtLibrary.C.crmt_portfolio_rule_book(h, b, l, w));
        } finally {
            handle.exit();
        }
    }

    /** The customer ids, in portfolio order (one consistent snapshot). */
    public List<String> ids() {
        Pointer h = handle.enter();
        try {
            int n = Math.toIntExact(CrmtLibrary.C.crmt_portfolio_len(h));
            List<String> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                long index = i;
                out.add(Tiering.text((b, l, w) -> CrmtLibrary.C.crmt_portfolio_customer_id(h, index, b, l, w)));
            }
            return out;
        } finally {
            handle.exit();
        }
    }

    String idAt(long index) {
        Pointer h = handle.enter();
        try {
            return Tiering.text((b, l, w) -> CrmtLibrary.C.crmt_portfolio_customer_id(h, index, b, l, w));
        } finally {
            handle.exit();
        }
    }

    /** A customer's state (status, tier, effective tier...), or empty when the portfolio does not hold the id. */
    public Optional<CustomerState> get(String id) {
        byte[] key = Tiering.cString(id, "id");
        Pointer h = handle.enter();
        try {
            long i = find(h, key);
            if (i < 0) {
                return Optional.empty();
            }
            PointerByReference out = new PointerByReference();
            Tiering.check(CrmtLibrary.C.crmt_portfolio_state_bytes(h, i, out));
            return Optional.of(CustomerState.own(Tiering.takeBuffer(out)));
        } finally {
            handle.exit();
        }
    }

    /** A customer's identity (id, legal entity, kind), or empty. */
    public Optional<Customer> customer(String id) {
        byte[] key = Tiering.cString(id, "id");
        Pointer h = handle.enter();
        try {
            long i = find(h, key);
            if (i < 0) {
                return Optional.empty();
            }
            Memory m = new Memory(ENTRY_SIZE);
            Tiering.check(CrmtLibrary.C.crmt_portfolio_entry_at(h, i, m));
            String entity = Tiering.text((b, l, w) -> CrmtLibrary.C.crmt_portfolio_legal_entity(h, i, b, l, w));
            return Optional.of(new Customer(id, entity.isEmpty() ? null : entity,
                    m.getInt(8) == 1 ? Customer.Kind.CORPORATE : Customer.Kind.PERSONAL));
        } finally {
            handle.exit();
        }
    }

    /** The index of an id, or -1; the caller holds the lock. */
    private static long find(Pointer h, byte[] id) {
        Memory m = new Memory(ENTRY_SIZE);
        int rc = CrmtLibrary.C.crmt_portfolio_find(h, id, m);
        if (rc == 22) { // CRMT_NOT_FOUND
            return -1;
        }
        Tiering.check(rc);
        return m.getLong(0);
    }

    /** The lock-guarded native handle (see the class comment). */
    NativeHandle nativeHandle() {
        return handle;
    }

    /**
     * Frees the native states once the call in progress (from any thread) has returned; later calls
     * throw {@link IllegalStateException}. Idempotent and safe from any thread.
     */
    @Override
    public void close() {
        handle.close();
    }

    @Override
    public String toString() {
        try {
            return "PortfolioStates(" + size() + ")";
        } catch (IllegalStateException closed) {
            return "PortfolioStates(closed)";
        }
    }

    static String utf8(byte[] b) {
        return new String(b, java.nio.charset.StandardCharsets.UTF_8);
    }
}
