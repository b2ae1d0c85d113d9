package crm.tiering;

import java.time.YearMonth;

/**
 * A customer of a batch that could not be evaluated; its state was left unchanged.
 *
 * @param index the customer's index in the batch
 * @param code the ABI result code
 * @param message the message, naming the customer, month and field
 * @param field the field, or empty
 * @param month the month, or null
 */
public record CustomerError(int index, int code, String message, String field, YearMonth month) {
    /** The error as the exception a single evaluation would have thrown. */
    public TieringException toException(String customer) {
        return TieringException.of(code, message, customer, field, month);
    }
}
