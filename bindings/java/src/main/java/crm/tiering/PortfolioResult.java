package crm.tiering;

import java.math.BigDecimal;
import java.time.YearMonth;
import java.util.List;

/**
 * What a portfolio run gave, month by month in portfolio order, each item with its customer id.
 *
 * @param events the events
 * @param alerts the alerts
 * @param evaluated the customers evaluated
 * @param errors the customers held back and records refused, in the order reported
 * @param json the whole result as the portfolio vectors' {@code expected.months} JSON
 */
public record PortfolioResult(List<CustomerEvent> events, List<CustomerAlert> alerts, List<Evaluated> evaluated,
        List<RecordError> errors, String json) {
    /** An event of a customer ({@code event.customerIndex()} is its index in the portfolio). */
    public record CustomerEvent(String customerId, Event event) {}

    /** An alert of a customer. */
    public record CustomerAlert(String customerId, Alert alert) {}

    /** A customer evaluated in a month: its AUM, and whether it had a record (false: absent, zero). */
    public record Evaluated(YearMonth month, String customerId, BigDecimal aum, boolean hasRecord) {}
}
