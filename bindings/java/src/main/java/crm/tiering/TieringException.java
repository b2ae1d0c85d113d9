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
        com.sun.jna.ptr.LongByReference row = new com.sun.jna.ptr.LongByReference();
        String table = Tiering.text((b, l, w) -> c.crmt_last_error_record(row, b, l, w));
        com.sun.jna.ptr.LongByReference otherRow = new com.sun.jna.ptr.LongByReference();
        String other = Tiering.text((b, l, w) -> c.crmt_last_error_other_record(otherRow, b, l, w));
        TieringException e = of(rc, message, customer, field, month);
        e.recordTable = table;
        e.recordRow = row.getValue();
        e.otherTable = other;
        e.otherRow = otherRow.getValue();
        return e;
    }

    private String recordTable = "";
    private long recordRow;
    private String otherTable = "";
    private long otherRow;

    /** The table of the record the failure is about ({@code states} for stored states), or empty. */
    public String recordTable() {
        return recordTable;
    }

    /** That record's row (for stored states, the 1-based line); 0 when none. */
    public long recordRow() {
        return recordRow;
    }

    /** For a duplicate, the table of the first record, or empty. */
    public String otherTable() {
        return otherTable;
    }

    /** That record's row; 0 when none. */
    public long otherRow() {
        return otherRow;
    }

    static TieringException of(int rc, String message, String customer, String field, YearMonth month) {
        return switch (rc) {
            case 10 -> new Rules(rc, message, customer, field, month);
            case 11 -> new Input(rc, message, customer, field, month);
            case 12 -> new Sequence(rc, message, customer, field, month);
            case 13 -> new State(rc, message, customer, field, month);
            case 14 -> new Refused(rc, message, customer, field, month, java.util.List.of());
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

    /**
     * A portfolio run refused as a whole ({@code CRMT_PORTFOLIO_REFUSED}): nothing was evaluated and
     * the states are unchanged; {@link #errors()} lists every reason (records whose customer cannot
     * be identified, states of another rule book...).
     */
    public static final class Refused extends TieringException {
        private static final long serialVersionUID = 1L;
        private final transient java.util.List<RecordError> errors;

        Refused(int c, String m, String cu, String f, YearMonth mo, java.util.List<RecordError> errors) {
            super(c, m, cu, f, mo);
            this.errors = java.util.List.copyOf(errors);
        }

        /** Every reason, in record order. */
        public java.util.List<RecordError> errors() {
            return errors;
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
