package crm.tiering;

import java.math.BigDecimal;
import java.time.YearMonth;
import java.util.List;

/**
 * The result of one customer's month.
 *
 * @param month the evaluated month
 * @param aum the month's AUM, rounded to the fen
 * @param state the new state, effective for the month after; store it for the next run
 * @param events what changed
 * @param alerts notices for the account manager
 * @param json the outcome as JSON ({@code {"aum", "state", "events", "alerts"}}), as the
 *     conformance vectors write it
 */
public record MonthResult(YearMonth month, BigDecimal aum, CustomerState state, List<Event> events,
        List<Alert> alerts, String json) {}
