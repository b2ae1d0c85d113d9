package crm.tiering;

import static crm.tiering.Cases.check;
import static crm.tiering.Cases.failed;
import static crm.tiering.Cases.passed;
import static crm.tiering.Cases.run;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The loan classification through Java ({@link Loans}): every loan vector of
 * rules-spec/loan-vectors/ (format: its README.md). A vector's settings become the
 * {@code [loans]} table of the default rule book (a settings error must refuse the book on
 * {@code loans.<field>} with the core's message); each month is classified from the states the
 * month before wrote (the initial state as one JSON line), its customer written as the vector's
 * JSON (loans, worst, trend, has_non_performing, signal lines, the state) and compared whole; an
 * error is compared by category, customer, the loan of the record it names, month, field and
 * exact message, and the next month reads the states from before it. As in the C suite, a
 * record of another customer than the vector's is that customer's record (the month groups
 * records by customer), checked to be classified as such. Then bad input and misuse.
 *
 * <p>Usage: {@code java ... crm.tiering.LoanTests rules-spec/loan-vectors}
 */
public final class LoanTests {

    private LoanTests() {}

    @SuppressWarnings("unchecked")
    private static Map<String, Object> obj(Object o) {
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object o) {
        return o == null ? List.of() : (List<Object>) o;
    }

    private static String base;

    private static RuleBook book(String settings) {
        return RuleBook.fromToml(settings == null ? base : base + "\n[loans]\n" + settings);
    }

    private static Loans.Record record(Map<String, Object> l, String customer, YearMonth month) {
        Object c = l.get("customer_id");
        Object m = l.get("month");
        Object ratio = l.get("expected_loss");
        return new Loans.Record(c == null ? customer : (String) c, (String) l.get("loan_id"),
                m == null ? month : YearMonth.parse((String) m),
                ((BigDecimal) l.get("principal_overdue_days")).longValueExact(),
                ((BigDecimal) l.get("interest_overdue_days")).longValueExact(), (String) l.get("bank_class"),
                ratio == null ? null : new BigDecimal((String) ratio), Boolean.TRUE.equals(l.get("repayment_due")));
    }

    private static String signalLine(Loans.Signal s) {
        String line = s.loanId() + " " + s.kind() + " days=" + s.overdueDays() + " boundary="
                + (s.boundary() == null ? "-" : s.boundary()) + " floor=" + s.floor() + " bank=" + s.bank()
                + " effective=" + s.effective();
        return s.cleanMonths() == null ? line : line + " clean=" + s.cleanMonths() + "/" + s.cleanPeriods();
    }

    private static final Map<String, String> SPEC_SIGNALS = Map.of(
            "overdue", "2201 逾期",
            "approaching_non_performing", "2202 临近不良",
            "non_performing", "2203 不良贷款",
            "bank_class_kinder_than_floor", "2204 分类宽于监管底线",
            "upgrade_held_by_clean_window", "2205 不良上调观察期未满");

    /** The one customer's month as the vector writes it. */
    private static Map<String, Object> outcome(Loans.Month m, String customer, YearMonth month, boolean withState) {
        check(m.customers().size() == 1, m.customers().size() + " customers");
        check(month.equals(m.month()), "month " + m.month());
        Loans.CustomerLoans c = m.customers().get(0);
        check(customer.equals(c.customerId()), "customer " + c.customerId());
        List<Object> loans = new ArrayList<>();
        for (Loans.Loan l : c.loans()) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("loan_id", l.loanId());
            o.put("overdue_days", BigDecimal.valueOf(l.overdueDays()));
            o.put("floor", l.floor());
            o.put("bank", l.bank());
            o.put("effective", l.effective());
            o.put("bank_kinder_than_floor", l.bankKinderThanFloor());
            o.put("upgrade", l.upgrade());
            o.put("clean_months", BigDecimal.valueOf(l.cleanMonths()));
            o.put("clean_periods", BigDecimal.valueOf(l.cleanPeriods()));
            if (l.expectedLoss() != null) {
                o.put("expected_loss", l.expectedLoss().toPlainString());
            }
            loans.add(o);
        }
        List<Object> signals = new ArrayList<>();
        for (Loans.Signal s : c.signals()) {
            check((s.number() + " " + s.kindZh()).equals(SPEC_SIGNALS.get(s.kind())), "signal " + s);
            check(customer.equals(s.customerId()), "signal of " + s.customerId());
            signals.add(signalLine(s));
        }
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("loans", loans);
        o.put("worst", c.worst());
        o.put("trend", c.trend());
        o.put("has_non_performing", c.nonPerforming());
        o.put("signals", signals);
        if (withState) {
            o.put("state", obj(Json.parse(m.states().strip())).get("state"));
        }
        return o;
    }

    private static Map<String, Object> error(TieringException e, List<Loans.Record> records) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("category", e instanceof TieringException.Rules ? "rules"
                : e instanceof TieringException.Input ? "input"
                : e instanceof TieringException.Sequence ? "sequence" : e.codeName());
        o.put("customer", e.customer());
        boolean named = e.recordTable().equals("loans") && e.recordRow() < records.size();
        o.put("loan", named ? records.get((int) e.recordRow()).loanId() : null);
        o.put("month", e.month() == null ? null : e.month().toString());
        o.put("field", e.field());
        o.put("message", e.getMessage());
        return o;
    }

    private static String anotherCustomer(List<Loans.Record> records, String customer) {
        return records.stream().map(Loans.Record::customerId).filter(c -> !c.equals(customer)).findFirst()
                .orElse(null);
    }

    /** Classifies one month; the states for the next (unchanged after an error). */
    private static String month(RuleBook book, Map<String, Object> m, int i, String customer, String states) {
        YearMonth month = YearMonth.parse((String) m.get("month"));
        List<Loans.Record> records = new ArrayList<>();
        for (Object l : list(m.get("loans"))) {
            records.add(record(obj(l), customer, month));
        }
        Map<String, Object> expected = obj(m.get("expected"));
        Map<String, Object> wantError = obj(m.get("expect_error"));
        String other = anotherCustomer(records, customer);
        try {
            Loans.Month got = Loans.classify(book, month, records, states);
            if (other != null && wantError != null && "customer_id".equals(wantError.get("field"))) {
                check(got.customers().size() == 1 && other.equals(got.customers().get(0).customerId()),
                        "months[" + i + "]: the record is not " + other + "'s");
                return states;
            }
            check(expected != null, "months[" + i + "]: classified, an error was expected");
            if (expected != null) {
                Map<String, Object> o = outcome(got, customer, month, expected.containsKey("state"));
                check(Json.same(expected, o), "months[" + i + "]:\n  expected " + Json.write(expected)
                        + "\n  got      " + Json.write(o));
            }
            return got.states();
        } catch (TieringException e) {
            Map<String, Object> o = error(e, records);
            check(wantError != null && Json.same(wantError, o), "months[" + i + "]: expected error "
                    + Json.write(wantError) + ", got " + Json.write(o));
            return states;
        }
    }

    private static void settingsError(String settings, Map<String, Object> want) {
        try {
            book(settings).close();
            check(false, "the book loaded, a settings error was expected");
        } catch (TieringException.Rules e) {
            check(("loans." + want.get("field")).equals(e.field()), "field " + e.field());
            String message = (String) want.get("message");
            String core;
            if (message != null) {
                // The core's message without "invalid loan settings: <field>: " and the position.
                String rest = message.substring(message.indexOf(": ", message.indexOf(": ") + 2) + 2);
                core = rest.replaceAll(" \\(line \\d+, column \\d+\\)$", "");
            } else {
                core = (String) want.get("message_contains");
            }
            check(e.getMessage().contains(core), "message `" + e.getMessage() + "` lacks `" + core + "`");
        }
    }

    private static void vector(Map<String, Object> v) {
        String customer = (String) v.get("customer_id");
        String settings = (String) v.get("settings");
        if (v.containsKey("expect_settings_error")) {
            settingsError(settings, obj(v.get("expect_settings_error")));
            return;
        }
        try (RuleBook book = book(settings)) {
            String states = null;
            if (v.containsKey("initial_state")) {
                Map<String, Object> line = new LinkedHashMap<>();
                line.put("customer_id", customer);
                line.put("state", v.get("initial_state"));
                states = Json.write(line) + "\n";
            }
            int i = 0;
            for (Object m : list(v.get("months"))) {
                states = month(book, obj(m), i++, customer, states);
            }
        }
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "rules-spec/loan-vectors");
        base = Files.readString(dir.resolveSibling("default-rules.toml"));
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        }
        run("loan vectors folder", () -> check(files.size() >= 20, "expected the loan vectors in " + dir));
        for (Path f : files) {
            Map<String, Object> v = obj(Json.parse(Files.readString(f, StandardCharsets.UTF_8)));
            run(f.getFileName().toString(), () -> vector(v));
        }
        LoanMisuse.all();
        System.out.println(passed + " passed, " + failed + " failed");
        System.exit(failed == 0 ? 0 : 1);
    }
}
