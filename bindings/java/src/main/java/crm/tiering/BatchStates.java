package crm.tiering;

import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The states of a portfolio, indexed like the batch's customers, held natively between monthly
 * batches (which also keeps the customers' native form from one month to the next). Not
 * thread-safe; close it when done.
 */
public final class PortfolioStates implements AutoCloseable {
    private Pointer handle;
    /** The batch result handle reused month after month ({@code crmt_evaluate_batch_into}). */
    private Pointer batch;
    /** The customers of the last batch and their native columns, reused while they are equal. */
    private List<Customer> lastCustomers;
    private Object lastColumns;

    private PortfolioStates(Pointer handle) {
        this.handle = handle;
    }

    /** {@code count} new customers. */
    public static PortfolioStates create(int count) {
        PointerByReference out = new PointerByReference();
        Tiering.check(CrmtLibrary.C.crmt_states_new(count, out));
        return new PortfolioStates(out.getValue());
    }

    /**
     * States from JSON Lines (one per customer in batch order; an empty line is a new customer).
     *
     * @throws TieringException.State naming the line of a state that cannot be read
     */
    public static PortfolioStates fromLines(byte[] lines) {
        PointerByReference out = new PointerByReference();
        Tiering.check(CrmtLibrary.C.crmt_states_from_lines(lines, lines.length, out));
        return new PortfolioStates(out.getValue());
    }

    /** The states as JSON Lines, to store. */
    public byte[] toLines() {
        PointerByReference out = new PointerByReference();
        Tiering.check(CrmtLibrary.C.crmt_states_to_lines(handle(), out));
        return Tiering.takeBuffer(out);
    }

    /** The number of states. */
    public int size() {
        return Math.toIntExact(CrmtLibrary.C.crmt_states_len(handle()));
    }

    /** State {@code i}. */
    public CustomerState get(int i) {
        PointerByReference out = new PointerByReference();
        Tiering.check(CrmtLibrary.C.crmt_states_get_bytes(handle(), i, out));
        return CustomerState.own(Tiering.takeBuffer(out));
    }

    /** Replaces state {@code i}. */
    public void set(int i, CustomerState state) {
        byte[] b = state.raw();
        Tiering.check(CrmtLibrary.C.crmt_states_set_bytes(handle(), i, b, b.length));
    }

    Pointer batch() {
        if (batch == null) {
            PointerByReference out = new PointerByReference();
            Tiering.check(CrmtLibrary.C.crmt_batch_new(out));
            batch = out.getValue();
        }
        return batch;
    }

    Object columnsFor(List<Customer> customers) {
        return customers.equals(lastCustomers) ? lastColumns : null;
    }

    void remember(List<Customer> customers, Object columns) {
        lastCustomers = List.copyOf(customers);
        lastColumns = columns;
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
            CrmtLibrary.C.crmt_states_free(handle);
            CrmtLibrary.C.crmt_batch_free(batch);
            handle = null;
            batch = null;
            lastCustomers = null;
            lastColumns = null;
        }
    }

    @Override
    public String toString() {
        return handle == null ? "PortfolioStates(closed)" : "PortfolioStates(" + size() + ")";
    }

    static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
