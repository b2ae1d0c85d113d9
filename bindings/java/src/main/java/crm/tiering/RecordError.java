package crm.tiering;

import java.time.YearMonth;

/**
 * An error of a portfolio run, exactly as the core reports it (nothing is rebuilt from the
 * message): a customer held back, a record refused, or one reason a run was refused.
 *
 * @param category {@code rules}, {@code input}, {@code sequence} or {@code state}
 * @param code the category's ABI result code (10 to 13)
 * @param reportedMonth the month of the run it was reported in, or null in a refused run
 * @param customerIndex the customer's index in the portfolio, or -1 when it does not hold it
 * @param customerId the customer id, or null
 * @param month the month it is about, or null
 * @param field the field ({@code month}, {@code aum}, a component, {@code customer_id}...), or null
 * @param message the message
 * @param recordTable the table of the record it is about, or null
 * @param recordRow that record's row (0 when none)
 * @param otherTable for a duplicate, the table of the first record, or null
 * @param otherRow that record's row (0 when none)
 */
public record RecordError(String category, int code, YearMonth reportedMonth, long customerIndex, String customerId,
        YearMonth month, String field, String message, String recordTable, long recordRow, String otherTable,
        long otherRow) {}
