package crm.tiering;

import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The states of a batch's customers for {@link RuleBook#evaluateBatch}: created new and bound to
 * the ordered customer ids of the first batch (a later batch with other ids, or the same ids in
 * another order, is refused), held natively between months. It cannot be stored or loaded:
 * stored states are keyed by customer id in {@link PortfolioStates}, evaluated with
 * {@link RuleBook#evaluatePortfolio}. Not thread-safe; close it when done.
 */
public final class BatchStates implements AutoCloseable {
    private Pointer handle;
    /** The batch result handle reused month after month ({@code crmt_evaluate_batch_into}). */
    private Pointer batch;
    /** The customers of the last batch and their native columns, reused while they are equal. */
    private List<Customer> lastCustomers;
    private Object lastColumns;

    private BatchStates(Pointer handle) {
        this.handle = handle;
    }

    /** {@code count} new customers. */
    public static BatchStates create(int count) {
        PointerByReference out = new PointerByReference();
        Tiering.check(CrmtLibrary.C.crmt_states_new(count, out));
        return new BatchStates(out.getValue());
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
            throw new IllegalStateException("the batch states are closed");
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
        return handle == null ? "BatchStates(closed)" : "BatchStates(" + size() + ")";
    }

    static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
