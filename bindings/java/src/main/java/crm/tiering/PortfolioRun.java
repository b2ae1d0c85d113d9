package crm.tiering;

import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * The results of a portfolio run read as primitive columns (the fast path of
 * {@link RuleBook#evaluatePortfolioInto}): no Java object per customer is made unless asked for.
 * It holds the native result handle, which the next run into it reuses (emptied first; the arrays
 * the getters return are copies and stay valid). Events, alerts and errors are built as objects only
 * on request ({@link #event(int)}, {@link #alert(int)}, {@link #errors()}). Close it.
 *
 * <p><b>After a failed run</b> the run is empty: every count is 0 and {@link #errors()} is empty,
 * whatever the failure (a refused argument, a closed object, a month the library refuses), so the
 * previous run's events, alerts and errors can never be read as this one's. A run refused as a
 * whole ({@link TieringException.Refused}) holds the reasons in {@link #errors()} and nothing else.
 *
 * <p><b>Threads.</b> Every call (a run into it, each getter, {@link #close()}) locks the run for its
 * duration: calls from several threads run one at a time, and a getter reads one whole run, never
 * half of one. A run into it from another thread may come between two getters: read what belongs
 * together (counts and columns) from one thread that owns the run, or run and read under your own
 * lock. {@link #close()} waits for the call in progress; later calls throw
 * {@link IllegalStateException}; closing again, from any thread, does nothing.
 */
public final class PortfolioRun implements AutoCloseable {
    private static final int EVALUATED_SIZE = 24;
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);
    private final NativeHandle handle;
    // Guarded by handle's lock.
    private PortfolioStates states;
    private ByteBuffer evaluated = EMPTY;
    private int evaluatedCount;
    private ByteBuffer events = EMPTY;
    private int eventCount;
    private ByteBuffer alerts = EMPTY;
    private int alertCount;
    private int errorCount;

    /** An empty run, to pass to {@link RuleBook#evaluatePortfolioInto} month after month. */
    public PortfolioRun() {
        PointerByReference out = new PointerByReference();
        Tiering.check(CrmtLibrary.C.crmt_portfolio_result_new(out));
        // Freed with its views forgotten, under the lock (they would point into freed memory).
        this.handle = new NativeHandle("the portfolio run", "the portfolio run is closed", NativeHandle.PORTFOLIO_RUN,
                false, out.getValue(), p -> {
                    clear();
                    CrmtLibrary.C.crmt_portfolio_result_free(p);
                });
    }

    /** The lock-guarded native handle (see the class comment). */
    NativeHandle nativeHandle() {
        return handle;
    }

    private static ByteBuffer view(Pointer p, long count, int size) {
        if (p == null || count == 0) {
            return EMPTY;
        }
        return p.getByteBuffer(0, count * size).order(ByteOrder.nativeOrder());
    }

    /**
     * Forgets the last run's results (its views point into memory the next native run reuses):
     * the run is empty until {@link #filled}. Takes the lock (reentrant: the evaluation holds it).
     *
     * @throws IllegalStateException when the run is closed
     */
    void reset() {
        handle.enter();
        try {
            clear();
        } finally {
            handle.exit();
        }
    }

    private void clear() {
        states = null;
        evaluated = events = alerts = EMPTY;
        evaluatedCount = eventCount = alertCount = errorCount = 0;
    }

    /** Takes views of the result handle's arrays after a run; the caller holds the lock. */
    void filled(PortfolioStates states) {
        Pointer h = handle.enter();
        try {
            this.states = states;
            long[] n = new long[1];
            Pointer p = CrmtDirect.crmt_portfolio_result_evaluated(h, n);
            evaluatedCount = Math.toIntExact(n[0]);
            evaluated = view(p, n[0], EVALUATED_SIZE);
            p = CrmtDirect.crmt_portfolio_result_events(h, n);
            eventCount = Math.toIntExact(n[0]);
            events = view(p, n[0], Structs.EVENT_SIZE);
            p = CrmtDirect.crmt_portfolio_result_alerts(h, n);
            alertCount = Math.toIntExact(n[0]);
            alerts = view(p, n[0], Structs.ALERT_SIZE);
            CrmtDirect.crmt_portfolio_result_errors(h, n);
            errorCount = Math.toIntExact(n[0]);
        } finally {
            handle.exit();
        }
    }

    /** The number of customers evaluated (month by month, in portfolio order). */
    public int evaluatedCount() {
        handle.enter();
        try {
            return evaluatedCount;
        } finally {
            handle.exit();
        }
    }

    /** The portfolio index of each evaluated customer ({@link PortfolioStates#ids()} order). */
    public int[] evaluatedCustomerIndices() {
        handle.enter();
        try {
            int[] out = new int[evaluatedCount];
            for (int k = 0; k < evaluatedCount; k++) {
                out[k] = evaluated.getInt(k * EVALUATED_SIZE + 4);
            }
            return out;
        } finally {
            handle.exit();
        }
    }

    /** The month ({@code yyyymm}) of each evaluated customer. */
    public int[] evaluatedMonths() {
        handle.enter();
        try {
            int[] out = new int[evaluatedCount];
            for (int k = 0; k < evaluatedCount; k++) {
                out[k] = evaluated.getInt(k * EVALUATED_SIZE);
            }
            return out;
        } finally {
            handle.exit();
        }
    }

    /** The month's AUM in fen of each evaluated customer. */
    public long[] evaluatedAumsFen() {
        handle.enter();
        try {
            long[] out = new long[evaluatedCount];
            for (int k = 0; k < evaluatedCount; k++) {
                out[k] = evaluated.getLong(k * EVALUATED_SIZE + 8);
            }
            return out;
        } finally {
            handle.exit();
        }
    }

    /** Whether each evaluated customer had a record (false: absent, evaluated at zero). */
    public boolean[] evaluatedHasRecord() {
        handle.enter();
        try {
            boolean[] out = new boolean[evaluatedCount];
            for (int k = 0; k < evaluatedCount; k++) {
                out[k] = evaluated.get(k * EVALUATED_SIZE + 16) != 0;
            }
            return out;
        } finally {
            handle.exit();
        }
    }

    /** The number of events. */
    public int eventCount() {
        handle.enter();
        try {
            return eventCount;
        } finally {
            handle.exit();
        }
    }

    /** The portfolio index of each event's customer. */
    public int[] eventCustomerIndices() {
        handle.enter();
        try {
            int[] out = new int[eventCount];
            for (int k = 0; k < eventCount; k++) {
                out[k] = events.getInt(k * Structs.EVENT_SIZE);
            }
            return out;
        } finally {
            handle.exit();
        }
    }

    /** Event {@code k}, built on request. */
    public Event event(int k) {
        handle.enter();
        try {
            java.util.Objects.checkIndex(k, eventCount);
            return Structs.events(pointer(events, k, Structs.EVENT_SIZE), 1).get(0);
        } finally {
            handle.exit();
        }
    }

    /** The number of alerts. */
    public int alertCount() {
        handle.enter();
        try {
            return alertCount;
        } finally {
            handle.exit();
        }
    }

    /** Alert {@code k}, built on request. */
    public Alert alert(int k) {
        handle.enter();
        try {
            java.util.Objects.checkIndex(k, alertCount);
            return Structs.alerts(pointer(alerts, k, Structs.ALERT_SIZE), 1).get(0);
        } finally {
            handle.exit();
        }
    }

    private static Pointer pointer(ByteBuffer view, int k, int size) {
        return com.sun.jna.Native.getDirectBufferPointer(view).share((long) k * size);
    }

    /** The number of errors (customers held back, records refused). */
    public int errorCount() {
        handle.enter();
        try {
            return errorCount;
        } finally {
            handle.exit();
        }
    }

    /** The errors, built on request (empty after a failed run). */
    public List<RecordError> errors() {
        Pointer h = handle.enter();
        try {
            return errorCount == 0 ? List.of() : RuleBook.errors(h);
        } finally {
            handle.exit();
        }
    }

    /**
     * The id of the customer at a portfolio index, on request, from the states of the last run.
     *
     * @throws IllegalStateException when the run holds no results (none yet, or the last one failed)
     *     or those states are closed
     */
    public String customerId(int index) {
        PortfolioStates s;
        handle.enter();
        try {
            s = states;
        } finally {
            handle.exit();
        }
        if (s == null) {
            throw new IllegalStateException("the portfolio run holds no results");
        }
        // The states' lock is taken after the run's is released: the global order puts the states first.
        return s.idAt(index);
    }

    /**
     * Frees the native result once the call in progress (from any thread) has returned; later calls
     * throw {@link IllegalStateException}. Idempotent and safe from any thread.
     */
    @Override
    public void close() {
        handle.close();
    }
}
