package crm.tiering;

import java.math.BigDecimal;
import java.util.List;

/**
 * The result of a portfolio's month: events and alerts in customer order (each with its
 * customer's index), each customer's AUM, and the customers in error. An immutable Java copy: it
 * holds no native memory and may be shared by threads.
 */
public final class BatchResult {
    private final List<Event> events;
    private final List<Alert> alerts;
    private final long[] aumFen;
    private final List<CustomerError> errors;

    BatchResult(List<Event> events, List<Alert> alerts, long[] aumFen, List<CustomerError> errors) {
        this.events = events;
        this.alerts = alerts;
        this.aumFen = aumFen;
        this.errors = errors;
    }

    /** The events, in customer order. */
    public List<Event> events() {
        return events;
    }

    /** The alerts, in customer order. */
    public List<Alert> alerts() {
        return alerts;
    }

    /** Customer {@code i}'s AUM (zero for a customer in error). */
    public BigDecimal aum(int i) {
        return BigDecimal.valueOf(aumFen[i], 2);
    }

    /** Customer {@code i}'s AUM in fen. */
    public long aumFen(int i) {
        return aumFen[i];
    }

    /** The customers that could not be evaluated, in customer order. */
    public List<CustomerError> errors() {
        return errors;
    }
}
