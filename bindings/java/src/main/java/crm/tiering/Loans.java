package crm.tiering;

import com.sun.jna.Pointer;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Loan classification signals (五级分类, SPEC §21) for a month of loan records, computed by the
 * library under a rule book's {@code [loans]} settings (the 2023 rules without the table): each
 * loan's regulatory floor from its overdue days, the bank's class against it, the effective class
 * with its clean window, and per customer the worst class, its trend and whether it has a
 * non-performing loan, with the signals (逾期, 临近不良, 不良贷款, 分类宽于监管底线,
 * 不良上调观察期未满). Every rule and check is the library's ({@code crmt_loans_evaluate}); this
 * class converts at the edges: {@link BigDecimal} expected losses, {@link YearMonth} months, the
 * library's codes as text.
 *
 * <p>{@link #classify} is a pure function: the native handles it makes live for the call only,
 * so any number of threads may classify at once (the rule book is shared).
 */
public final class Loans {
    private Loans() {}

    /**
     * A loan-month record (SPEC §21.1): the bank's class as written ({@code substandard},
     * {@code 次级} or {@code 3}); {@code expectedLoss} a ratio from 0 to 1, or null.
     */
    public record Record(String customerId, String loanId, YearMonth month, long principalOverdueDays,
            long interestOverdueDays, String bankClass, BigDecimal expectedLoss, boolean repaymentDue) {
        /** @throws NullPointerException for a null id, month or class */
        public Record {
            Objects.requireNonNull(customerId, "customerId");
            Objects.requireNonNull(loanId, "loanId");
            Objects.requireNonNull(month, "month");
            Objects.requireNonNull(bankClass, "bankClass");
        }
    }

    /**
     * One loan's classification (SPEC §21.2, §21.3): classes and the upgrade status as the
     * library's codes ({@code substandard}, {@code held}); {@code expectedLoss} as given, or null.
     */
    public record Loan(String loanId, long principalOverdueDays, long interestOverdueDays, long overdueDays,
            String floor, String bank, String effective, boolean bankKinderThanFloor, String upgrade,
            long cleanMonths, long cleanPeriods, BigDecimal expectedLoss) {}

    /**
     * A signal with its evidence (SPEC §21.5): its stable number (2201–2205), code and Chinese
     * name; {@code boundary}, {@code cleanMonths} and {@code cleanPeriods} null when it has none.
     */
    public record Signal(String customerId, String loanId, int number, String kind, String kindZh, long overdueDays,
            Long boundary, String floor, String bank, String effective, Long cleanMonths, Long cleanPeriods) {}

    /**
     * A customer's month (SPEC §21.4): its loans by loan id, the worst effective class (null
     * without loans) with its Chinese name, the trend (null without loans), whether it has a
     * non-performing loan, and its signals by loan id, then number.
     */
    public record CustomerLoans(String customerId, List<Loan> loans, String worst, String worstZh, String trend,
            boolean nonPerforming, List<Signal> signals) {}

    /**
     * A classified month: every customer in id order (bytes), and their states for the next
     * month as JSON Lines ({@code states}, the CLI's {@code loan-states.jsonl}).
     */
    public record Month(YearMonth month, List<CustomerLoans> customers, String states) {}

    private static final int CUSTOMER_SIZE = 48;
    private static final int LOAN_SIZE = 48;
    private static final int SIGNAL_SIZE = 64;

    /**
     * Classifies a month's loans: every customer with a record, and every customer of
     * {@code states} (whose loans may all have closed), from its state after the month before.
     *
     * @param book the rule book whose {@code [loans]} table holds the settings
     * @param month the month classified: every record must be of it
     * @param records the month's loan-month records
     * @param states the states the month before wrote ({@link Month#states()}), or null for none
     * @throws TieringException.Input for a bad record (the first customer's, in id order):
     *     {@link TieringException#field()} names the field, {@link TieringException#recordRow()}
     *     the record's index in {@code records} (table {@code loans}); the message holds every
     *     customer's error, one a line
     * @throws TieringException.Sequence when the month does not follow a customer's state
     * @throws TieringException.State for a line of {@code states} that is not a loan state
     *     (table {@code states}, row the line from 1)
     * @throws TieringException.Argument for a month no record can have (code {@code
     *     CRMT_INVALID_MONTH}) or an expected loss that is no decimal
     * @throws IllegalStateException when the rule book is closed
     */
    public static Month classify(RuleBook book, YearMonth month, List<Record> records, String states) {
        Objects.requireNonNull(book, "book");
        Objects.requireNonNull(records, "records");
        int yyyymm = Tiering.yyyymm(month, "month");
        CrmtLibrary c = CrmtLibrary.C;
        PointerByReference out = new PointerByReference();
        Pointer recs = null;
        Pointer st = null;
        Pointer result = null;
        Pointer b = book.nativeHandle().enter();
        try {
            Tiering.check(c.crmt_loan_records_new(out));
            recs = out.getValue();
            for (Record r : records) {
                Objects.requireNonNull(r, "record");
                String ratio = r.expectedLoss() == null ? null : r.expectedLoss().toPlainString();
                Tiering.check(c.crmt_loan_records_push(recs, Tiering.cString(r.customerId(), "customerId"),
                        Tiering.cString(r.loanId(), "loanId"), Tiering.yyyymm(r.month(), "month"),
                        r.principalOverdueDays(), r.interestOverdueDays(),
                        Tiering.cString(r.bankClass(), "bankClass"), Tiering.cStringOrNull(ratio, "expectedLoss"),
                        r.repaymentDue()));
            }
            if (states != null) {
                byte[] text = Tiering.utf8(states, "states");
                Tiering.check(c.crmt_loan_states_from_jsonl(text, text.length, out));
                st = out.getValue();
            }
            Tiering.check(c.crmt_loans_evaluate(b, yyyymm, recs, st, out));
            result = out.getValue();
            return read(result);
        } finally {
            book.nativeHandle().exit();
            c.crmt_loan_result_free(result);
            c.crmt_loan_states_free(st);
            c.crmt_loan_records_free(recs);
        }
    }

    private static ByteBuffer array(Pointer p, LongByReference count, int size) {
        long n = count.getValue();
        byte[] raw = p == null || n == 0 ? new byte[0] : p.getByteArray(0, Math.toIntExact(n * size));
        return ByteBuffer.wrap(raw).order(ByteOrder.nativeOrder());
    }

    private static String code(Pointer p) {
        String s = Tiering.code(p);
        return s.isEmpty() ? null : s;
    }

    private static long days(ByteBuffer b, int at) {
        return Integer.toUnsignedLong(b.getInt(at));
    }

    private static Long value(long v) {
        return v == -1 ? null : v; // CRMT_LOAN_NO_VALUE
    }

    private static Month read(Pointer r) {
        CrmtLibrary c = CrmtLibrary.C;
        LongByReference n = new LongByReference();
        ByteBuffer cs = array(c.crmt_loan_result_customers(r, n), n, CUSTOMER_SIZE);
        int customers = (int) n.getValue();
        ByteBuffer ls = array(c.crmt_loan_result_loans(r, n), n, LOAN_SIZE);
        List<Loan> loans = new ArrayList<>();
        for (int k = 0; k < n.getValue(); k++) {
            int o = k * LOAN_SIZE;
            long index = k;
            String ratio = ls.get(o + 45) != 0
                    ? Tiering.text((buf, len, w) -> c.crmt_loan_result_expected_loss(r, index, buf, len, w))
                    : null;
            loans.add(new Loan(Tiering.text((buf, len, w) -> c.crmt_loan_result_loan_id(r, index, buf, len, w)),
                    days(ls, o + 8), days(ls, o + 12), days(ls, o + 16), code(c.crmt_loan_class_code(ls.getInt(o + 20))),
                    code(c.crmt_loan_class_code(ls.getInt(o + 24))), code(c.crmt_loan_class_code(ls.getInt(o + 28))),
                    ls.get(o + 44) != 0, code(c.crmt_loan_upgrade_code(ls.getInt(o + 32))), days(ls, o + 36),
                    days(ls, o + 40), ratio == null ? null : new BigDecimal(ratio)));
        }
        List<String> ids = new ArrayList<>();
        for (int k = 0; k < customers; k++) {
            long index = k;
            ids.add(Tiering.text((buf, len, w) -> c.crmt_loan_result_customer_id(r, index, buf, len, w)));
        }
        ByteBuffer ss = array(c.crmt_loan_result_signals(r, n), n, SIGNAL_SIZE);
        List<Signal> signals = new ArrayList<>();
        for (int k = 0; k < n.getValue(); k++) {
            int o = k * SIGNAL_SIZE;
            int kind = ss.getInt(o + 16);
            signals.add(new Signal(ids.get((int) ss.getLong(o)), loans.get((int) ss.getLong(o + 8)).loanId(), kind,
                    code(c.crmt_loan_signal_kind_code(kind)), code(c.crmt_loan_signal_kind_name_zh(kind)),
                    days(ss, o + 20), value(ss.getLong(o + 24)), code(c.crmt_loan_class_code(ss.getInt(o + 32))),
                    code(c.crmt_loan_class_code(ss.getInt(o + 36))), code(c.crmt_loan_class_code(ss.getInt(o + 40))),
                    value(ss.getLong(o + 48)), value(ss.getLong(o + 56))));
        }
        List<CustomerLoans> out = new ArrayList<>();
        for (int k = 0; k < customers; k++) {
            int o = k * CUSTOMER_SIZE;
            int firstLoan = (int) cs.getLong(o);
            int firstSignal = (int) cs.getLong(o + 16);
            int worst = cs.getInt(o + 32);
            out.add(new CustomerLoans(ids.get(k),
                    List.copyOf(loans.subList(firstLoan, firstLoan + (int) cs.getLong(o + 8))),
                    code(c.crmt_loan_class_code(worst)), code(c.crmt_loan_class_name_zh(worst)),
                    code(c.crmt_loan_trend_code(cs.getInt(o + 36))), cs.get(o + 40) != 0,
                    List.copyOf(signals.subList(firstSignal, firstSignal + (int) cs.getLong(o + 24)))));
        }
        PointerByReference buf = new PointerByReference();
        Tiering.check(c.crmt_loan_result_states_jsonl(r, buf));
        String states = new String(Tiering.takeBuffer(buf), StandardCharsets.UTF_8);
        return new Month(Tiering.month(c.crmt_loan_result_month(r)), List.copyOf(out), states);
    }
}
