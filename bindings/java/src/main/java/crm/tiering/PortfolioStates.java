package crm.tiering;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A portfolio's stored states, keyed by customer id, held natively (a {@code crmt_portfolio}): each
 * customer's id, legal entity, kind and state, in a stable order (stored customers first, new ones
 * appended in record order), and the fingerprint of the rule book that last wrote them. An extract
 * meets these states by customer id, never by position ({@link RuleBook#evaluatePortfolio}).
 * Not thread-safe; close it when done.
 */
public final class PortfolioStates implements AutoCloseable {
    static final int ENTRY_SIZE = 104;
    private Pointer handle;

    private PortfolioStates(Pointer handle) {
        this.handle = handle;
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
        Tiering.check(CrmtLibrary.C.crmt_portfolio_from_text(text, text.length, out));
        return new PortfolioStates(out.getValue());
    }

    /** The states as checked text (header, one line per customer with its id, trailer with a SHA-256), stamped with the rule book. */
    public byte[] toText(RuleBook rules) {
        PointerByReference out = new PointerByReference();
        Tiering.check(CrmtLibrary.C.crmt_portfolio_to_text(handle(), rules.handle(), out));
        return Tiering.takeBuffer(out);
    }

    /** The states as the JSON list of the portfolio vectors ({@code customer_id, legal_entity, customer_kind, state}). */
    public String toJson() {
        PointerByReference out = new PointerByReference();
        Tiering.check(CrmtLibrary.C.crmt_portfolio_to_json(handle(), out));
        return PortfolioStates.utf8(Tiering.takeBuffer(out));
    }

    /**
     * Adds a stored customer (migrating a core system's own store).
     *
     * @throws TieringException.State when the id is already there or the state cannot be read
     * @throws TieringException.Input for an unusable id
     */
    public void put(Customer customer, CustomerState state) {
        byte[] b = state.raw();
        String entity = customer.legalEntity();
        Tiering.check(CrmtLibrary.C.crmt_portfolio_insert(handle(), Tiering.cString(customer.id()),
                entity == null ? null : Tiering.cString(entity), customer.kind() == Customer.Kind.CORPORATE ? 1 : 0, b,
                b.length, null));
    }

    /** The number of customers. */
    public int size() {
        return Math.toIntExact(CrmtLibrary.C.crmt_portfolio_len(handle()));
    }

    /** The fingerprint of the rule book that last wrote the states, or empty. */
    public String ruleBook() {
        Pointer h = handle();
        return Tiering.text((b, l, w) -> CrmtLibrary.C.crmt_portfolio_rule_book(h, b, l, w));
    }

    /** The customer ids, in portfolio order. */
    public List<String> ids() {
        int n = size();
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(idAt(i));
        }
        return out;
    }

    String idAt(long index) {
        Pointer h = handle();
        return Tiering.text((b, l, w) -> CrmtLibrary.C.crmt_portfolio_customer_id(h, index, b, l, w));
    }

    /** A customer's state (status, tier, effective tier...), or empty when the portfolio does not hold the id. */
    public Optional<CustomerState> get(String id) {
        return find(id).map(i -> {
            PointerByReference out = new PointerByReference();
            Tiering.check(CrmtLibrary.C.crmt_portfolio_state_bytes(handle(), i, out));
            return CustomerState.own(Tiering.takeBuffer(out));
        });
    }

    /** A customer's identity (id, legal entity, kind), or empty. */
    public Optional<Customer> customer(String id) {
        return find(id).map(i -> {
            Pointer h = handle();
            Memory m = new Memory(ENTRY_SIZE);
            Tiering.check(CrmtLibrary.C.crmt_portfolio_entry_at(h, i, m));
            String entity = Tiering.text((b, l, w) -> CrmtLibrary.C.crmt_portfolio_legal_entity(h, i, b, l, w));
            return new Customer(id, entity.isEmpty() ? null : entity,
                    m.getInt(8) == 1 ? Customer.Kind.CORPORATE : Customer.Kind.PERSONAL);
        });
    }

    private Optional<Long> find(String id) {
        Memory m = new Memory(ENTRY_SIZE);
        int rc = CrmtLibrary.C.crmt_portfolio_find(handle(), Tiering.cString(id), m);
        if (rc == 22) { // CRMT_NOT_FOUND
            return Optional.empty();
        }
        Tiering.check(rc);
        return Optional.of(m.getLong(0));
    }

    Pointer handle() {
        if (handle == null) {
            throw new IllegalStateException("the portfolio states are closed");
        }
        return handle;
    }

    /** Frees the native states; later calls throw {@link IllegalStateException}. Idempotent. */
    @Override
    public void close() {
        if (handle != null) {
            CrmtLibrary.C.crmt_portfolio_free(handle);
            handle = null;
        }
    }

    @Override
    public String toString() {
        return handle == null ? "PortfolioStates(closed)" : "PortfolioStates(" + size() + ")";
    }

    static String utf8(byte[] b) {
        return new String(b, java.nio.charset.StandardCharsets.UTF_8);
    }

    static long unused(LongByReference r) {
        return r.getValue();
    }
}
