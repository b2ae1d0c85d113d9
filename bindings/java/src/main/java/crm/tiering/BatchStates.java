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
 * {@link RuleBook#evaluatePortfolio}. Close it when done.
 *
 * <p><b>Threads.</b> Every call (a batch evaluated into it, {@link #get}, {@link #size},
 * {@link #close()}) locks the states for its duration: batches and reads from several threads run
 * one at a time, never at once. {@link #close()} waits for the call in progress; later calls throw
 * {@link IllegalStateException}; closing again, from any thread, does nothing. The
 * {@link BatchResult} of a batch is a Java copy: it holds no native memory.
 */
public final class BatchStates implements AutoCloseable {
    private final NativeHandle handle;
    // Guarded by handle's lock.
    /** The batch result handle reused month after month ({@code crmt_evaluate_batch_into}). */
    private Pointer batch;
    /** The customers of the last batch and their native columns, reused while they are equal. */
    private List<Customer> lastCustomers;
    private Object lastColumns;

    private BatchStates(Pointer states) {
        this.handle = new NativeHandle("the batch states", "the batch states are closed", NativeHandle.BATCH_STATES,
                false, states, p -> {
                    CrmtLibrary.C.crmt_states_free(p);
                    CrmtLibrary.C.crmt_batch_free(batch);
                    batch = null;
                    lastCustomers = null;
                    lastColumns = null;
                });
    }

    /**
     * {@code count} new customers.
     *
     * @throws IllegalArgumentException when {@code count} is negative
     * @throws TieringException.Argument when that many states cannot be allocated
     */
    public static BatchStates create(int count) {
        if (count < 0) {
            throw new IllegalArgumentException("`count` " + count + " is negative");
        }
        PointerByReference out = new PointerByReference();
        Tiering.check(CrmtLibrary.C.crmt_states_new(count, out));
        return new BatchStates(out.getValue());
    }

    /** The number of states. */
    public int size() {
        Pointer h = handle.enter();
        try {
            return Math.toIntExact(CrmtLibrary.C.crmt_states_len(h));
        } finally {
            handle.exit();
        }
    }

    /**
     * State {@code i}.
     *
     * @throws IndexOutOfBoundsException when {@code i} is not an index of the states
     */
    public CustomerState get(int i) {
        Pointer h = handle.enter();
        try {
            java.util.Objects.checkIndex(i, Math.toIntExact(CrmtLibrary.C.crmt_states_len(h)));
            PointerByReference out = new PointerByReference();
            Tiering.check(CrmtLibrary.C.crmt_states_get_bytes(h, i, out));
            return CustomerState.own(Tiering.takeBuffer(out));
        } finally {
            handle.exit();
        }
    }

    /** The batch handle; the caller holds the lock. */
    Pointer batch() {
        if (batch == null) {
            PointerByReference out = new PointerByReference();
            Tiering.check(CrmtLibrary.C.crmt_batch_new(out));
            batch = out.getValue();
        }
        return batch;
    }

    /** The caller holds the lock. */
    Object columnsFor(List<Customer> customers) {
        return customers.equals(lastCustomers) ? lastColumns : null;
    }

    /** The caller holds the lock. */
    void remember(List<Customer> customers, Object columns) {
        lastCustomers = List.copyOf(customers);
        lastColumns = columns;
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
            return "BatchStates(" + size() + ")";
        } catch (IllegalStateException closed) {
            return "BatchStates(closed)";
        }
    }

    static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
