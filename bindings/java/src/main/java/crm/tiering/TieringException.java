package crm.tiering;

import java.time.YearMonth;

/**
 * A failure reported by the engine, with the ABI's result code and the customer, month and field
 * it is about. Subclasses name the category.
 */
public class TieringException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int code;
    private final String customer;
    private final String field;
    private final YearMonth month;

    TieringException(int code, String message, String customer, String field, YearMonth month) {
        super(message);
        this.code = code;
        this.customer = customer;
        this.field = field;
        this.month = month;
    }

    /** The ABI result code ({@code crmt_result}), such as 11 for an input error. */
    public int code() {
        return code;
    }

    /** The code's name, such as {@code CRMT_INPUT_ERROR}. */
    public String codeName() {
        return Tiering.code(CrmtLibrary.C.crmt_result_name(code));
    }

    /** The customer id the failure is about, or empty. */
    public String customer() {
        return customer;
    }

    /** The field: a component code, {@code aum}, {@code special.tier}, a rule file path... or empty. */
    public String field() {
        return field;
    }

    /** The month the failure is about, or null. */
    public YearMonth month() {
        return month;
    }

    static TieringException fromLastError(int rc) {
        CrmtLibrary c = CrmtLibrary.C;
        String message = Tiering.text(c::crmt_last_error_message);
        String customer = Tiering.text(c::crmt_last_error_customer);
        String field = Tiering.text(c::crmt_last_error_field);
        YearMonth month = Tiering.month(c.crmt_last_error_month());
        return of(rc, message, customer, field, month);
    }

    static TieringException of(int rc, String message, String customer, String field, YearMonth month) {
        return switch (rc) {
            case 10 -> new Rules(rc, message, customer, field, month);
            case 11 -> new Input(rc, message, customer, field, month);
            case 12 -> new Sequence(rc, message, customer, field, month);
            case 13 -> new State(rc, message, customer, field, month);
            case 99 -> new Internal(rc, message, customer, field, month);
            default -> new Argument(rc, message, customer, field, month);
        };
    }

    /** The rule book is invalid, or has no rule set for the customer ({@code CRMT_RULES_ERROR}). */
    public static final class Rules extends TieringException {
        private static final long serialVersionUID = 1L;

        Rules(int c, String m, String cu, String f, YearMonth mo) {
            super(c, m, cu, f, mo);
        }
    }

    /** A customer's input for the month is invalid ({@code CRMT_INPUT_ERROR}). */
    public static final class Input extends TieringException {
        private static final long serialVersionUID = 1L;

        Input(int c, String m, String cu, String f, YearMonth mo) {
            super(c, m, cu, f, mo);
        }
    }

    /** A month was evaluated out of order ({@code CRMT_SEQUENCE_ERROR}). */
    public static final class Sequence extends TieringException {
        private static final long serialVersionUID = 1L;

        Sequence(int c, String m, String cu, String f, YearMonth mo) {
            super(c, m, cu, f, mo);
        }
    }

    /** A stored state cannot be used ({@code CRMT_STATE_ERROR}). */
    public static final class State extends TieringException {
        private static final long serialVersionUID = 1L;

        State(int c, String m, String cu, String f, YearMonth mo) {
            super(c, m, cu, f, mo);
        }
    }

    /** An argument was refused at the boundary: invalid UTF-8, amount, month, kind or length. */
    public static final class Argument extends TieringException {
        private static final long serialVersionUID = 1L;

        Argument(int c, String m, String cu, String f, YearMonth mo) {
            super(c, m, cu, f, mo);
        }
    }

    /** An internal error: a panic caught at the library boundary ({@code CRMT_PANIC}). */
    public static final class Internal extends TieringException {
        private static final long serialVersionUID = 1L;

        Internal(int c, String m, String cu, String f, YearMonth mo) {
            super(c, m, cu, f, mo);
        }
    }
}
