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
 * on request ({@link #event(int)}, {@link #alert(int)}, {@link #errors()}). Not thread-safe;
 * close it.
 */
public final class PortfolioRun implements AutoCloseable {
    private static final int EVALUATED_SIZE = 24;
    private Pointer handle;
    private PortfolioStates states;
    private ByteBuffer evaluated = ByteBuffer.allocate(0);
    private int evaluatedCount;
    private ByteBuffer events = ByteBuffer.allocate(0);
    private int eventCount;
    private ByteBuffer alerts = ByteBuffer.allocate(0);
    private int alertCount;
    private int errorCount;

    /** An empty run, to pass to {@link RuleBook#evaluatePortfolioInto} month after month. */
    public PortfolioRun() {
        PointerByReference out = new PointerByReference();
        Tiering.check(CrmtLibrary.C.crmt_portfolio_result_new(out));
        this.handle = out.getValue();
    }

    Pointer handle() {
        if (handle == null) {
            throw new IllegalStateException("the portfolio run is closed");
        }
        return handle;
    }

    private static ByteBuffer view(Pointer p, long count, int size) {
        if (p == null || count == 0) {
            return ByteBuffer.allocate(0);
        }
        return p.getByteBuffer(0, count * size).order(ByteOrder.nativeOrder());
    }

    /** Takes views of the result handle's arrays after a run (the getters copy from them). */
    void filled(PortfolioStates states) {
        this.states = states;
        long[] n = new long[1];
        Pointer p = CrmtDirect.crmt_portfolio_result_evaluated(handle, n);
        evaluatedCount = Math.toIntExact(n[0]);
        evaluated = view(p, n[0], EVALUATED_SIZE);
        p = CrmtDirect.crmt_portfolio_result_events(handle, n);
        eventCount = Math.toIntExact(n[0]);
        events = view(p, n[0], Structs.EVENT_SIZE);
        p = CrmtDirect.crmt_portfolio_result_alerts(handle, n);
        alertCount = Math.toIntExact(n[0]);
        alerts = view(p, n[0], Structs.ALERT_SIZE);
        CrmtDirect.crmt_portfolio_result_errors(handle, n);
        errorCount = Math.toIntExact(n[0]);
    }

    /** The number of customers evaluated (month by month, in portfolio order). */
    public int evaluatedCount() {
        return evaluatedCount;
    }

    /** The portfolio index of each evaluated customer ({@link PortfolioStates#ids()} order). */
    public int[] evaluatedCustomerIndices() {
        int[] out = new int[evaluatedCount];
        for (int k = 0; k < evaluatedCount; k++) {
            out[k] = evaluated.getInt(k * EVALUATED_SIZE + 4);
        }
        return out;
    }

    /** The month ({@code yyyymm}) of each evaluated customer. */
    public int[] evaluatedMonths() {
        int[] out = new int[evaluatedCount];
        for (int k = 0; k < evaluatedCount; k++) {
            out[k] = evaluated.getInt(k * EVALUATED_SIZE);
        }
        return out;
    }

    /** The month's AUM in fen of each evaluated customer. */
    public long[] evaluatedAumsFen() {
        long[] out = new long[evaluatedCount];
        for (int k = 0; k < evaluatedCount; k++) {
            out[k] = evaluated.getLong(k * EVALUATED_SIZE + 8);
        }
        return out;
    }

    /** Whether each evaluated customer had a record (false: absent, evaluated at zero). */
    public boolean[] evaluatedHasRecord() {
        boolean[] out = new boolean[evaluatedCount];
        for (int k = 0; k < evaluatedCount; k++) {
            out[k] = evaluated.get(k * EVALUATED_SIZE + 16) != 0;
        }
        return out;
    }

    /** The number of events. */
    public int eventCount() {
        return eventCount;
    }

    /** The portfolio index of each event's customer. */
    public int[] eventCustomerIndices() {
        int[] out = new int[eventCount];
        for (int k = 0; k < eventCount; k++) {
            out[k] = events.getInt(k * Structs.EVENT_SIZE);
        }
        return out;
    }

    /** Event {@code k}, built on request. */
    public Event event(int k) {
        java.util.Objects.checkIndex(k, eventCount);
        return Structs.events(handlePointer(events, k, Structs.EVENT_SIZE), 1).get(0);
    }

    /** The number of alerts. */
    public int alertCount() {
        return alertCount;
    }

    /** Alert {@code k}, built on request. */
    public Alert alert(int k) {
        java.util.Objects.checkIndex(k, alertCount);
        return Structs.alerts(handlePointer(alerts, k, Structs.ALERT_SIZE), 1).get(0);
    }

    private static Pointer handlePointer(ByteBuffer view, int k, int size) {
        return com.sun.jna.Native.getDirectBufferPointer(view).share((long) k * size);
    }

    /** The number of errors (customers held back, records refused). */
    public int errorCount() {
        return errorCount;
    }

    /** The errors, built on request. */
    public List<RecordError> errors() {
        return RuleBook.errors(handle(), states);
    }

    /** The id of the customer at a portfolio index, on request. */
    public String customerId(int index) {
        return states.idAt(index);
    }

    /** Frees the native result. Idempotent. */
    @Override
    public void close() {
        if (handle != null) {
            CrmtLibrary.C.crmt_portfolio_result_free(handle);
            handle = null;
            evaluated = events = alerts = ByteBuffer.allocate(0);
            evaluatedCount = eventCount = alertCount = errorCount = 0;
        }
    }
}
