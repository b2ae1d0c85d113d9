package crm.tiering;

import static crm.tiering.Cases.check;
import static crm.tiering.Cases.run;

import java.math.BigDecimal;
import java.time.YearMonth;
import java.util.List;

/** {@link Loans}' bad input and misuse, for {@link LoanTests}. */
final class LoanMisuse {
    private LoanMisuse() {}

    private static final YearMonth MARCH = YearMonth.of(2024, 3);

    private static Loans.Record loan(String customer, String loan, YearMonth month, long days, String bank) {
        return new Loans.Record(customer, loan, month, days, 0, bank, null, true);
    }

    static void all() {
        run("a refused month names the first customer's record and field, and lists every customer's error", () -> {
            try (RuleBook book = RuleBook.defaults()) {
                List<Loans.Record> records = List.of(loan("c1", "L1", MARCH, 0, "normal"),
                        loan("c2", "L1", MARCH, 0, "pass"), loan("c2", "L2", MARCH, 0, "2"),
                        loan("c3", "L1", YearMonth.of(2024, 2), 0, "正常"));
                Loans.classify(book, MARCH, records, null);
                check(false, "classified");
            } catch (TieringException.Input e) {
                check("c2".equals(e.customer()) && "bank_class".equals(e.field()), e.customer() + " " + e.field());
                check(e.recordTable().equals("loans") && e.recordRow() == 1, e.recordTable() + " " + e.recordRow());
                String[] lines = e.getMessage().split("\n");
                check(lines.length == 2 && lines[0].contains("unknown loan class `pass`")
                        && lines[1].contains("customer `c3`, loan `L1`, month 2024-03, field `month`"), e.getMessage());
            }
        });
        run("a month carried to the next through its states; a skipped month is a sequence error", () -> {
            try (RuleBook book = RuleBook.defaults()) {
                Loans.Record secured = new Loans.Record("b1", "L1", MARCH, 120, 0, "关注", new BigDecimal("0.350"), true);
                Loans.Month march = Loans.classify(book, MARCH, List.of(secured, loan("b2", "L9", MARCH, 0, "1")), null);
                Loans.CustomerLoans b1 = march.customers().get(0);
                check(b1.nonPerforming() && "substandard".equals(b1.worst()) && "次级".equals(b1.worstZh()), "" + b1);
                check(b1.loans().get(0).expectedLoss().equals(new BigDecimal("0.350")), "ratio kept exactly");
                check(b1.signals().stream().map(Loans.Signal::number).toList().equals(List.of(2201, 2203, 2204)),
                        "signals " + b1.signals());
                Loans.Month april = Loans.classify(book, MARCH.plusMonths(1),
                        List.of(loan("b1", "L1", MARCH.plusMonths(1), 0, "关注")), march.states());
                Loans.CustomerLoans held = april.customers().get(0);
                check("held".equals(held.loans().get(0).upgrade()) && "same".equals(held.trend()), "" + held);
                Loans.CustomerLoans closed = april.customers().get(1);
                check(closed.loans().isEmpty() && closed.worst() == null && closed.trend() == null, "" + closed);
                try {
                    Loans.classify(book, MARCH.plusMonths(2), List.of(), march.states());
                    check(false, "a skipped month was classified");
                } catch (TieringException.Sequence e) {
                    check("month".equals(e.field()) && e.recordTable().isEmpty(), e.field() + " " + e.recordTable());
                }
            }
        });
        run("bad states, months and ids are refused before anything is classified", () -> {
            try (RuleBook book = RuleBook.defaults()) {
                try {
                    Loans.classify(book, MARCH, List.of(), "{\"customer_id\":\"c1\",\"state\":{}}\nnot json\n");
                    check(false, "a bad states line was read");
                } catch (TieringException.State e) {
                    check(e.recordTable().equals("states") && e.recordRow() == 2, e.recordTable() + e.recordRow());
                    check(e.getMessage().startsWith("states line 2: not a loan state"), e.getMessage());
                }
                try {
                    Loans.classify(book, MARCH, List.of(loan("c1", "L1", YearMonth.of(1800, 1), 0, "1")), null);
                    check(false, "month 1800-01 was pushed");
                } catch (TieringException.Argument e) {
                    check("month".equals(e.field()) && e.recordRow() == 0 && e.getMessage().startsWith("loan record 0"),
                            e.field() + " " + e.getMessage());
                }
                try {
                    Loans.classify(book, MARCH, List.of(loan("c\uD800", "L1", MARCH, 0, "1")), null);
                    check(false, "a lone surrogate was taken");
                } catch (IllegalArgumentException e) {
                    check(e.getMessage().contains("surrogate"), e.getMessage());
                }
            }
            RuleBook closed = RuleBook.defaults();
            closed.close();
            try {
                Loans.classify(closed, MARCH, List.of(), null);
                check(false, "a closed book was used");
            } catch (IllegalStateException e) {
                check(e.getMessage().contains("closed"), e.getMessage());
            }
        });
    }
}
