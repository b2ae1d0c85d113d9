package crm.tiering;

import static crm.tiering.Cases.check;
import static crm.tiering.Cases.failed;
import static crm.tiering.Cases.passed;
import static crm.tiering.Cases.problems;
import static crm.tiering.Cases.run;

import com.sun.jna.Structure;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The Java binding's tests: every conformance vector of rules-spec/vectors/ and the API cases.
 * A plain runner: prints each failure and a closing "N passed, N failed"; exits non-zero on failure.
 *
 * <p>Usage: {@code java -Djna.library.path=target/debug -cp ... crm.tiering.TieringTests rules-spec/vectors}
 */
public final class TieringTests {
    /** The folder of the rule books (rules-spec/). */
    private static Path rulesDir = Path.of("rules-spec");

    private TieringTests() {}

    @SuppressWarnings("unchecked")
    private static Map<String, Object> obj(Object o) {
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object o) {
        return o == null ? List.of() : (List<Object>) o;
    }

    private static String category(TieringException e) {
        if (e instanceof TieringException.Rules) {
            return "rules";
        }
        if (e instanceof TieringException.Input) {
            return "input";
        }
        if (e instanceof TieringException.Sequence) {
            return "sequence";
        }
        if (e instanceof TieringException.State) {
            return "state";
        }
        return "other:" + e.codeName();
    }

    private static void vector(Path path) throws IOException {
        Map<String, Object> v = obj(Json.parse(Files.readString(path, StandardCharsets.UTF_8)));
        String rules = Json.write(v.get("rules"));
        Map<String, Object> rulesError = obj(v.get("expect_rules_error"));
        RuleBook book;
        try {
            book = RuleBook.fromJson(rules);
        } catch (TieringException.Rules e) {
            check(rulesError != null, "unexpected rules error: " + e.getMessage());
            if (rulesError != null) {
                Object field = rulesError.get("field");
                check(e.field().equals(field == null ? "" : field), "rules error on `" + e.field() + "`, expected `"
                        + field + "`: " + e.getMessage());
                check(e.code() == 10, "code " + e.code());
            }
            return;
        }
        check(rulesError == null, "the rule book loaded, but an error was expected");
        try (RuleBook base = book) {
            Map<String, Object> options = obj(v.get("options"));
            RuleBook rb = options != null && "treat_as_zero".equals(options.get("missing_months"))
                    ? base.withMissingMonthsAsZero()
                    : base;
            try {
                runMonths(v, rb);
            } finally {
                if (rb != base) {
                    rb.close();
                }
            }
        }
    }

    private static void runMonths(Map<String, Object> v, RuleBook rb) {
        Map<String, Object> c = obj(v.get("customer"));
        Customer customer = new Customer((String) c.get("id"), (String) c.get("legal_entity"),
                "corporate".equals(c.get("kind")) ? Customer.Kind.CORPORATE : Customer.Kind.PERSONAL);
        Object initial = v.get("initial_state");
        CustomerState state = initial == null ? CustomerState.NEW : CustomerState.fromJson(Json.write(initial));
        for (Object mo : list(v.get("months"))) {
            Map<String, Object> m = obj(mo);
            String monthText = (String) m.get("month");
            YearMonth month = YearMonth.parse(monthText);
            String input = Json.write(m.get("input"));
            Map<String, Object> wantError = obj(m.get("expect_error"));
            try {
                MonthResult r = rb.evaluateJson(customer, state, month, input);
                check(wantError == null, monthText + ": expected an error, got none");
                Map<String, Object> expected = obj(m.get("expected"));
                if (expected != null) {
                    Object got = Json.parse(r.json());
                    check(Json.same(expected, got), monthText + ": outcome differs:\n  expected " + Json.write(expected)
                            + "\n  got      " + r.json());
                    check(r.aum().equals(new BigDecimal((String) expected.get("aum"))), monthText + ": aum " + r.aum());
                    // The state's JSON carries the history a book's windows read (SPEC 19.5) beside it.
                    Map<String, Object> stateJson = new java.util.LinkedHashMap<>(obj(Json.parse(r.state().toJson())));
                    Object history = stateJson.remove("history");
                    Object wantHistory = expected.get("history");
                    check(wantHistory == null ? history == null : Json.same(wantHistory, history), monthText + ": history");
                    check(Json.same(expected.get("state"), stateJson), monthText + ": state");
                    checkEventsAlerts(expected, r.events(), r.alerts(), monthText);
                }
                state = r.state();
            } catch (TieringException e) {
                check(wantError != null, monthText + ": unexpected error: " + e.getMessage());
                if (wantError != null) {
                    check(wantError.get("category").equals(category(e)), monthText + ": expected a "
                            + wantError.get("category") + " error, got " + category(e) + ": " + e.getMessage());
                    Object field = wantError.get("field");
                    if (field != null && e instanceof TieringException.Input) {
                        check(field.equals(e.field()), monthText + ": field `" + e.field() + "`, expected `" + field + "`");
                    }
                    if (!(e instanceof TieringException.Rules)) {
                        check(customer.id().equals(e.customer()), monthText + ": error names `" + e.customer() + "`");
                    }
                }
            }
        }
    }

    /** A month's events and alerts against the expected JSON's (kind, reason, tiers, evidence, measure). */
    private static void checkEventsAlerts(Map<String, Object> expected, List<Event> evs, List<Alert> als,
            String monthText) {
        List<Object> events = list(expected.get("events"));
        check(events.size() == evs.size(), monthText + ": " + evs.size() + " events");
        for (int k = 0; k < Math.min(events.size(), evs.size()); k++) {
            Map<String, Object> e = obj(events.get(k));
            Event got2 = evs.get(k);
            check(e.get("kind").equals(got2.kind()), monthText + ": event kind " + got2.kind());
            check(e.get("reason").equals(got2.reason()), monthText + ": reason " + got2.reason());
            check(java.util.Objects.equals(e.get("to_tier"), got2.toTier()), monthText + ": to_tier");
            check(java.util.Objects.equals(e.get("from_tier"), got2.fromTier()), monthText + ": from_tier");
            check(YearMonth.parse((String) e.get("effective_from")).equals(got2.effectiveFrom()),
                    monthText + ": effective_from");
            Map<String, Object> ev = obj(e.get("evidence"));
            check(new BigDecimal((String) ev.get("aum")).compareTo(got2.aum()) == 0, monthText + ": aum");
            check(java.util.Objects.equals(ev.get("measure"), got2.measure()), monthText + ": measure");
            check(java.util.Objects.equals(ev.get("measure_window"), got2.measureWindow()),
                    monthText + ": measure_window");
            Object mv = ev.get("measure_value");
            check(mv == null ? got2.measureValue() == null
                    : new BigDecimal((String) mv).compareTo(got2.measureValue()) == 0, monthText + ": measure_value");
        }
        List<Object> alerts = list(expected.get("alerts"));
        check(alerts.size() == als.size(), monthText + ": " + als.size() + " alerts");
        for (int k = 0; k < Math.min(alerts.size(), als.size()); k++) {
            Map<String, Object> a = obj(alerts.get(k));
            Alert got2 = als.get(k);
            check(a.get("kind").equals(got2.kind()), monthText + ": alert kind " + got2.kind());
            Object left = a.get("months_left");
            check(left == null ? got2.monthsLeft() == null
                    : got2.monthsLeft() != null && ((BigDecimal) left).intValue() == got2.monthsLeft(),
                    monthText + ": months_left");
            Object gap = a.get("gap");
            check(gap == null ? got2.gap() == null : new BigDecimal((String) gap).compareTo(got2.gap()) == 0,
                    monthText + ": gap");
            check(java.util.Objects.equals(a.get("measure"), got2.measure()), monthText + ": alert measure");
            check(java.util.Objects.equals(a.get("measure_window"), got2.measureWindow()),
                    monthText + ": alert measure_window");
        }
    }

    /** Whether some version of a vector's rules declares measures besides AUM (SPEC §19.1). */
    private static boolean declaresMeasures(Map<String, Object> v) {
        for (Object set : list(obj(v.get("rules")).get("rule_sets"))) {
            for (Object version : list(obj(set).get("versions"))) {
                if (!list(obj(version).get("measures")).isEmpty()) {
                    return true;
                }
            }
        }
        return false;
    }

    /** An amount in whole fen; null when it has more than two decimals. */
    private static Long fenOf(Object amount) {
        try {
            return new BigDecimal((String) amount).movePointRight(2).longValueExact();
        } catch (ArithmeticException | ClassCastException | NullPointerException | NumberFormatException e) {
            return null;
        }
    }

    /**
     * Whether a vector can run through the totals paths with measures: a book that declares
     * measures, no initial state, and every month a total and measure values in whole fen, no special.
     */
    private static boolean totalsWithMeasures(Map<String, Object> v) {
        if (v.get("expect_rules_error") != null || v.get("initial_state") != null || v.get("options") != null
                || !declaresMeasures(v)) {
            return false;
        }
        for (Object mo : list(v.get("months"))) {
            Map<String, Object> input = obj(obj(mo).get("input"));
            if (input.get("special") != null || fenOf(obj(input.get("aum")).get("total")) == null) {
                return false;
            }
            Map<String, Object> given = obj(input.get("measures"));
            if (given != null && given.values().stream().anyMatch(x -> fenOf(x) == null)) {
                return false;
            }
        }
        return true;
    }

    /** A month's measure values as columns for {@code n} records, each value repeated. */
    private static MeasureColumns monthMeasures(Map<String, Object> input, int n) {
        Map<String, Object> given = obj(input.get("measures"));
        List<String> codes = given == null ? List.of() : List.copyOf(given.keySet());
        long[] values = new long[codes.size() * n];
        for (int j = 0; j < codes.size(); j++) {
            java.util.Arrays.fill(values, j * n, (j + 1) * n, fenOf(given.get(codes.get(j))));
        }
        return new MeasureColumns(codes, values);
    }

    /**
     * A call refused as a whole for a measure the book does not declare, where the vector expects
     * the customer's error on field {@code measures.<code>}.
     */
    private static void checkRefused(TieringException e, Map<String, Object> wantError, String monthText) {
        check(wantError != null, monthText + ": unexpected refusal: " + e.getMessage());
        if (wantError != null) {
            check("input".equals(category(e)) && wantError.get("category").equals("input"),
                    monthText + ": refused as " + category(e));
            check(("measures." + e.field()).equals(wantError.get("field")), monthText + ": field " + e.field());
        }
    }

    /** A vector of totals with measures through the batch: the vector's customer and a copy. */
    private static void batchWithMeasures(Map<String, Object> v) {
        Map<String, Object> c = obj(v.get("customer"));
        Customer customer = new Customer((String) c.get("id"), (String) c.get("legal_entity"),
                "corporate".equals(c.get("kind")) ? Customer.Kind.CORPORATE : Customer.Kind.PERSONAL);
        List<Customer> customers = List.of(customer, customer);
        try (RuleBook rb = RuleBook.fromJson(Json.write(v.get("rules"))); BatchStates states = BatchStates.create(2)) {
            for (Object mo : list(v.get("months"))) {
                Map<String, Object> m = obj(mo);
                String monthText = (String) m.get("month");
                Map<String, Object> input = obj(m.get("input"));
                long fen = fenOf(obj(input.get("aum")).get("total"));
                Map<String, Object> wantError = obj(m.get("expect_error"));
                BatchResult b;
                try {
                    b = rb.evaluateBatch(YearMonth.parse(monthText), customers, new long[] {fen, fen},
                            monthMeasures(input, 2), states, 1);
                } catch (TieringException e) {
                    checkRefused(e, wantError, monthText);
                    continue;
                }
                if (wantError != null) {
                    check(b.errors().size() == 2, monthText + ": " + b.errors().size() + " errors");
                    for (CustomerError e : b.errors()) {
                        check(category(e.toException(customer.id())).equals(wantError.get("category"))
                                && java.util.Objects.equals(wantError.get("field"), e.field()),
                                monthText + ": error " + e);
                    }
                    continue;
                }
                Map<String, Object> expected = obj(m.get("expected"));
                check(b.errors().isEmpty(), monthText + ": errors " + b.errors());
                for (int i = 0; i < 2 && expected != null; i++) {
                    int k = i;
                    checkEventsAlerts(expected, b.events().stream().filter(e -> e.customerIndex() == k).toList(),
                            b.alerts().stream().filter(a -> a.customerIndex() == k).toList(), monthText);
                    checkState(expected, states.get(i), monthText);
                }
            }
        }
    }

    /** A state, and the history its windows read, against a month's expected ones. */
    private static void checkState(Map<String, Object> expected, CustomerState state, String monthText) {
        Map<String, Object> stateJson = new java.util.LinkedHashMap<>(obj(Json.parse(state.toJson())));
        Object history = stateJson.remove("history");
        Object wantHistory = expected.get("history");
        check(wantHistory == null ? history == null : Json.same(wantHistory, history), monthText + ": history");
        check(Json.same(expected.get("state"), stateJson), monthText + ": state " + stateJson);
    }

    /**
     * A vector of totals with measures through a portfolio month by month: each month an extract of
     * the vector's customer and a copy, added in one bulk call.
     */
    private static void extractWithMeasures(Map<String, Object> v) {
        Map<String, Object> c = obj(v.get("customer"));
        String id = (String) c.get("id");
        String entity = (String) c.get("legal_entity");
        String[] ids = {id, id + "-copy"};
        byte kind = (byte) ("corporate".equals(c.get("kind")) ? 1 : 0);
        try (RuleBook rb = RuleBook.fromJson(Json.write(v.get("rules"))); PortfolioStates states = PortfolioStates.create()) {
            for (Object mo : list(v.get("months"))) {
                Map<String, Object> m = obj(mo);
                String monthText = (String) m.get("month");
                Map<String, Object> input = obj(m.get("input"));
                long fen = fenOf(obj(input.get("aum")).get("total"));
                Map<String, Object> wantError = obj(m.get("expect_error"));
                Map<String, java.util.Optional<CustomerState>> before = new java.util.HashMap<>();
                for (String i : ids) {
                    before.put(i, states.get(i));
                }
                try (Extract x = new Extract(rb)) {
                    try {
                        x.addTotals("aum", 1, ids, entity == null ? null : new String[] {entity, entity},
                                new byte[] {kind, kind}, null, new long[] {fen, fen}, monthMeasures(input, 2));
                    } catch (TieringException e) {
                        checkRefused(e, wantError, monthText);
                        continue;
                    }
                    PortfolioResult r = rb.evaluatePortfolio(states, YearMonth.parse(monthText), x,
                            PortfolioOptions.DEFAULT);
                    if (wantError != null) {
                        check(r.errors().size() == 2, monthText + ": " + r.errors().size() + " errors");
                        for (RecordError e : r.errors()) {
                            check(e.category().equals(wantError.get("category"))
                                    && java.util.Objects.equals(wantError.get("field"), e.field()),
                                    monthText + ": error " + e);
                        }
                        for (String i : ids) {
                            // A customer new to the portfolio joins it with a state that evaluated no month.
                            String now = states.get(i).map(CustomerState::toJson).orElse(null);
                            String was = before.get(i).map(CustomerState::toJson).orElse(null);
                            check(was == null ? now == null || obj(Json.parse(now)).get("last_month") == null
                                    : was.equals(now), monthText + ": state of " + i + " changed on error");
                        }
                        continue;
                    }
                    Map<String, Object> expected = obj(m.get("expected"));
                    check(r.errors().isEmpty(), monthText + ": errors " + r.errors());
                    for (String i : ids) {
                        if (expected == null) {
                            break;
                        }
                        checkEventsAlerts(expected,
                                r.events().stream().filter(e -> e.customerId().equals(i))
                                        .map(PortfolioResult.CustomerEvent::event).toList(),
                                r.alerts().stream().filter(a -> a.customerId().equals(i))
                                        .map(PortfolioResult.CustomerAlert::alert).toList(), monthText);
                        check(states.get(i).isPresent(), monthText + ": " + i + " in the portfolio");
                        states.get(i).ifPresent(st -> checkState(expected, st, monthText));
                    }
                }
            }
        }
    }

    /** JNA's layout of the C structs, to check the offsets Structs reads. */
    @Structure.FieldOrder({"customer_index", "kind", "reason", "month", "effective_from", "from_tier", "to_tier",
            "aum_fen", "threshold_fen", "window_from", "window_months", "peak_aum_fen", "measure_value_fen", "measure",
            "measure_window"})
    public static class CEvent extends Structure {
        public int customer_index;
        public int kind;
        public int reason;
        public int month;
        public int effective_from;
        public byte[] from_tier = new byte[17];
        public byte[] to_tier = new byte[17];
        public long aum_fen;
        public long threshold_fen;
        public int window_from;
        public int window_months;
        public long peak_aum_fen;
        public long measure_value_fen;
        public byte[] measure = new byte[41];
        public byte[] measure_window = new byte[16];

        int offset(String field) {
            return fieldOffset(field);
        }
    }

    /** JNA's layout of {@code crmt_alert}. */
    @Structure.FieldOrder({"customer_index", "kind", "month", "tier", "months_counted", "months_left", "aum_fen",
            "threshold_fen", "gap_fen", "measure_value_fen", "measure", "measure_window"})
    public static class CAlert extends Structure {
        public int customer_index;
        public int kind;
        public int month;
        public byte[] tier = new byte[17];
        public int months_counted;
        public int months_left;
        public long aum_fen;
        public long threshold_fen;
        public long gap_fen;
        public long measure_value_fen;
        public byte[] measure = new byte[41];
        public byte[] measure_window = new byte[16];

        int offset(String field) {
            return fieldOffset(field);
        }
    }

    private static void apiCases(String defaultRules) {
        run("version and layout", () -> {
            check(!Tiering.version().isEmpty(), "version");
            CEvent e = new CEvent();
            CAlert a = new CAlert();
            check(e.size() == Structs.EVENT_SIZE, "event size " + e.size());
            check(e.offset("aum_fen") == 56 && e.offset("to_tier") == 37 && e.offset("window_from") == 72,
                    "event offsets");
            check(a.size() == Structs.ALERT_SIZE, "alert size " + a.size());
            check(a.offset("months_counted") == 32 && a.offset("aum_fen") == 40, "alert offsets");
            check(e.offset("measure_value_fen") == 88 && e.offset("measure") == 96, "event measure offsets");
            check(a.offset("measure_value_fen") == 64 && a.offset("measure") == 72, "alert measure offsets");
            check(e.offset("measure_window") == 137 && a.offset("measure_window") == 113, "window offsets");
        });
        run("evaluate, then sequence errors", () -> {
            try (RuleBook rb = RuleBook.fromToml(defaultRules)) {
                Customer c = Customer.personal("6221000001");
                MonthResult jan = rb.evaluate(c, CustomerState.NEW, YearMonth.of(2024, 1), new BigDecimal("523400.5"));
                check(jan.aum().equals(new BigDecimal("523400.50")), "aum " + jan.aum());
                check(jan.events().size() == 1 && "entered".equals(jan.events().get(0).kind())
                        && "platinum".equals(jan.events().get(0).toTier()), "entered platinum");
                check("纳入".equals(jan.events().get(0).kindZh()), "zh");
                check(jan.events().get(0).threshold().equals(new BigDecimal("500000.00")), "threshold");
                check(jan.events().get(0).effectiveFrom().equals(YearMonth.of(2024, 2)), "effective");
                try {
                    rb.evaluate(c, jan.state(), YearMonth.of(2024, 1), BigDecimal.ONE);
                    check(false, "repeated month accepted");
                } catch (TieringException.Sequence e) {
                    check(e.code() == 12 && e.customer().equals("6221000001"), "sequence " + e.code());
                    check(YearMonth.of(2024, 1).equals(e.month()), "month " + e.month());
                }
                try {
                    rb.evaluate(c, jan.state(), YearMonth.of(2024, 3), BigDecimal.ONE);
                    check(false, "gap accepted");
                } catch (TieringException.Sequence e) {
                    check(e.getMessage().contains("2024-02"), "names the missing month: " + e.getMessage());
                }
                // Stored and read back, the state goes on.
                CustomerState stored = CustomerState.fromBytes(jan.state().toBytes());
                MonthResult feb = rb.evaluate(c, stored, YearMonth.of(2024, 2), new BigDecimal("100"));
                check(feb.events().size() == 1 && "watch_started".equals(feb.events().get(0).kind()), "watch");
            }
        });
        run("misuse", () -> {
            RuleBook rb = RuleBook.defaults();
            Customer c = Customer.personal("c1");
            try {
                rb.evaluate(c, CustomerState.fromJson("{\"schema_version\": 99}"), YearMonth.of(2024, 1), BigDecimal.TEN);
                check(false, "bad state accepted");
            } catch (TieringException.State e) {
                check(e.getMessage().contains("99"), e.getMessage());
            }
            try {
                rb.evaluate(c, CustomerState.NEW, YearMonth.of(2024, 1), new BigDecimal("-5"));
                check(false, "negative AUM accepted");
            } catch (TieringException.Input e) {
                check("c1".equals(e.customer()) && !e.field().isEmpty(), "input names customer and field");
            }
            try {
                rb.evaluateJson(c, CustomerState.NEW, YearMonth.of(2024, 1), "{\"aum\": {\"total\": \"1e5\"}}");
                check(false, "exponent accepted");
            } catch (TieringException.Input e) {
                check(e.getMessage().contains("1e5"), e.getMessage());
            }
            try {
                RuleBook.fromToml("name = 3");
                check(false, "bad rules accepted");
            } catch (TieringException.Rules e) {
                check(e.code() == 10, "rules code");
            }
            try {
                rb.evaluate(c, CustomerState.NEW, YearMonth.of(2024, 1), null);
                check(false, "null accepted");
            } catch (NullPointerException e) {
                check(true, "");
            }
            try {
                Tiering.selftestPanic();
                check(false, "no panic");
            } catch (TieringException.Internal e) {
                check(e.code() == 99 && e.getMessage().contains("panic"), e.getMessage());
            }
            rb.close();
            rb.close(); // idempotent: no double free
            try {
                rb.evaluate(c, CustomerState.NEW, YearMonth.of(2024, 1), BigDecimal.TEN);
                check(false, "closed rule book used");
            } catch (IllegalStateException e) {
                check(true, "");
            }
            try {
                Tiering.fen(new BigDecimal("0.001"));
                check(false, "sub-fen amount accepted for the batch");
            } catch (IllegalArgumentException e) {
                check(true, "");
            }
        });
        run("threads share a rule book", () -> {
            try (RuleBook rb = RuleBook.defaults()) {
                String[] want = {"gold", "platinum", "diamond", "private"};
                long[] aum = {250_000, 600_000, 1_200_000, 3_500_000};
                String[] got = new String[4];
                boolean[] detailsOk = new boolean[4];
                Thread[] threads = new Thread[4];
                for (int t = 0; t < 4; t++) {
                    int k = t;
                    threads[t] = new Thread(() -> {
                        Customer c = Customer.personal("thread-" + k);
                        CustomerState s = CustomerState.NEW;
                        boolean ok = true;
                        for (int m = 1; m <= 12; m++) {
                            MonthResult r = rb.evaluate(c, s, YearMonth.of(2024, m), BigDecimal.valueOf(aum[k] + m));
                            try {
                                rb.evaluate(c, r.state(), YearMonth.of(2024, m), BigDecimal.ONE);
                                ok = false;
                            } catch (TieringException.Sequence e) {
                                ok &= e.customer().equals("thread-" + k);
                            }
                            s = r.state();
                        }
                        detailsOk[k] = ok;
                        got[k] = (String) obj(Json.parse(s.toJson())).get("tier");
                    });
                    threads[t].start();
                }
                for (Thread t : threads) {
                    t.join();
                }
                for (int t = 0; t < 4; t++) {
                    check(want[t].equals(got[t]), "thread " + t + ": tier " + got[t]);
                    check(detailsOk[t], "thread " + t + ": error details of another thread");
                }
            }
        });
        run("batch with a measure column: private banking by loans (the 光大 gallery book)", () -> {
            String toml = Files.readString(rulesDir.resolve("gallery").resolve("cebbank-private.toml"));
            try (RuleBook rb = RuleBook.fromToml(toml); BatchStates s = BatchStates.create(2)) {
                List<Customer> two = List.of(Customer.personal("l1"), Customer.personal("l2"));
                long[] fen = {100_000_000L, 650_000_000L, 100_000_000L, RuleBook.NO_AMOUNT};
                BatchResult b = rb.evaluateBatch(YearMonth.of(2024, 1), two, List.of("demand_deposit", "loan_balance"), fen, s, 1);
                check(b.errors().isEmpty(), "errors " + b.errors());
                check(b.events().size() == 2, b.events().size() + " events");
                Event e1 = b.events().get(0);
                check("private".equals(e1.toTier()) && "loan_balance".equals(e1.measure())
                        && new BigDecimal("6500000.00").equals(e1.measureValue()), "l1: " + e1);
                check("platinum".equals(b.events().get(1).toTier()) && "aum".equals(b.events().get(1).measure()),
                        "l2: " + b.events().get(1));
            }
        });
        run("totals with measures: each customer's own value, an unknown code refused (the 光大 book)", () -> {
            String toml = Files.readString(rulesDir.resolve("gallery").resolve("cebbank-private.toml"));
            try (RuleBook rb = RuleBook.fromToml(toml); BatchStates s = BatchStates.create(2);
                    PortfolioStates ps = PortfolioStates.create(); Extract x = new Extract(rb)) {
                List<Customer> two = List.of(Customer.personal("l1"), Customer.personal("l2"));
                long[] totals = {100_000_000L, 100_000_000L};
                MeasureColumns loans = new MeasureColumns(List.of("loan_balance"),
                        new long[] {650_000_000L, RuleBook.NO_AMOUNT});
                MeasureColumns unknown = new MeasureColumns(List.of("mortgage"), new long[] {1L, 1L});
                try {
                    rb.evaluateBatch(YearMonth.of(2024, 1), two, totals, unknown, s, 1);
                    check(false, "unknown measure accepted by the batch");
                } catch (TieringException.Input e) {
                    check("mortgage".equals(e.field()) && e.getMessage().contains("mortgage"), e.getMessage());
                }
                try {
                    rb.evaluateBatch(YearMonth.of(2024, 1), two, totals,
                            new MeasureColumns(List.of("loan_balance"), new long[1]), s, 1);
                    check(false, "a short measure column accepted");
                } catch (IndexOutOfBoundsException e) {
                    check(e.getMessage().contains("valuesFen"), e.getMessage());
                }
                BatchResult b = rb.evaluateBatch(YearMonth.of(2024, 1), two, totals, loans, s, 1);
                check(b.errors().isEmpty() && b.events().size() == 2, "batch: " + b.events() + b.errors());
                check(b.events().size() == 2 && "private".equals(b.events().get(0).toTier())
                        && "loan_balance".equals(b.events().get(0).measure())
                        && "platinum".equals(b.events().get(1).toTier()), "batch: " + b.events());
                String[] ids = {"l1", "l2"};
                try {
                    x.addTotals("aum", 1, ids, null, null, null, totals, unknown);
                    check(false, "unknown measure accepted by the extract");
                } catch (TieringException.Input e) {
                    check("mortgage".equals(e.field()), e.getMessage());
                }
                x.addTotals("aum", 1, ids, null, null, null, totals, loans);
                PortfolioResult r = rb.evaluatePortfolio(ps, YearMonth.of(2024, 1), x, PortfolioOptions.DEFAULT);
                check(r.errors().isEmpty() && r.events().size() == 2, "extract: " + r.events() + r.errors());
                check(r.events().size() == 2 && "private".equals(r.events().get(0).event().toTier())
                        && "l1".equals(r.events().get(0).customerId())
                        && "platinum".equals(r.events().get(1).event().toTier()), "extract: " + r.events());
            }
        });
        run("batch of component averages agrees with single evaluations, on 1 and 2 threads", () -> {
            List<String> components = List.of("time_deposit", "demand_deposit", "wealth_product");
            int n = 40;
            List<Customer> customers = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                customers.add(Customer.personal("k" + i));
            }
            try (RuleBook rb = RuleBook.defaults(); BatchStates s1 = BatchStates.create(n);
                    BatchStates s2 = BatchStates.create(n)) {
                CustomerState[] singles = new CustomerState[n];
                java.util.Arrays.fill(singles, CustomerState.NEW);
                for (int m = 1; m <= 4; m++) {
                    YearMonth month = YearMonth.of(2024, m);
                    long[] fen = new long[n * components.size()];
                    for (int i = 0; i < n; i++) {
                        for (int j = 0; j < components.size(); j++) {
                            long v = ((i * 7919L + j * 31L + m * 104729L) % 1_500_000) * 100 + i;
                            // Some customers lack a component; customer 13 has a negative amount in April.
                            fen[i * components.size() + j] = (i + j) % 5 == 0 ? RuleBook.NO_AMOUNT
                                    : i == 13 && m == 4 && j == 1 ? -100 : v;
                        }
                    }
                    BatchResult b1 = rb.evaluateBatch(month, customers, components, fen, s1, 1);
                    BatchResult b2 = rb.evaluateBatch(month, customers, components, fen, s2, 2);
                    check(b1.events().equals(b2.events()) && b1.alerts().equals(b2.alerts()), month + ": 1 vs 2 threads");
                    List<Event> expected = new ArrayList<>();
                    int errors = 0;
                    for (int i = 0; i < n; i++) {
                        StringBuilder items = new StringBuilder();
                        for (int j = 0; j < components.size(); j++) {
                            long v = fen[i * components.size() + j];
                            if (v != RuleBook.NO_AMOUNT) {
                                items.append(items.length() == 0 ? "" : ",").append("{\"component\":\"")
                                        .append(components.get(j)).append("\",\"amount\":\"")
                                        .append(BigDecimal.valueOf(v, 2).toPlainString()).append("\"}");
                            }
                        }
                        String input = "{\"aum\":{\"averages\":[" + items + "]}}";
                        try {
                            MonthResult r = rb.evaluateJson(customers.get(i), singles[i], month, input);
                            singles[i] = r.state();
                            check(b1.aum(i).equals(r.aum()), month + ": aum " + i);
                            for (Event e : r.events()) {
                                expected.add(new Event(i, e.kind(), e.kindZh(), e.reason(), e.month(),
                                        e.effectiveFrom(), e.fromTier(), e.toTier(), e.aum(), e.threshold(),
                                        e.windowFrom(), e.windowMonths(), e.peakAum(), e.measure(), e.measureValue(),
                                        e.measureWindow()));
                            }
                        } catch (TieringException.Input e) {
                            errors++;
                            CustomerError got = b1.errors().isEmpty() ? null : b1.errors().get(0);
                            check(got != null && got.index() == i && got.code() == 11
                                    && "demand_deposit".equals(got.field()), month + ": error slot " + got);
                        }
                    }
                    check(errors == (m == 4 ? 1 : 0) && b1.errors().size() == errors,
                            month + ": " + errors + " errors, " + b1.errors().size() + " in the batch");
                    check(!expected.isEmpty() || m > 1, month + ": some events");
                    check(expected.equals(b1.events()), month + ": batch events differ");
                    for (int i = 0; i < n; i++) {
                        check(s1.get(i).equals(singles[i]) && s2.get(i).equals(singles[i]), month + ": state " + i);
                    }
                }
            }
        });
        run("batch agrees with single evaluations", () -> {
            // The demo rule book tiers corporate customers too (the default book is personal only).
            String demo = tiersOnly(Files.readString(rulesDir.resolve("demo-rules.toml")));
            try (RuleBook rb = RuleBook.fromToml(demo); BatchStates states = BatchStates.create(50)) {
                List<Customer> customers = new ArrayList<>();
                CustomerState[] singles = new CustomerState[50];
                for (int i = 0; i < 50; i++) {
                    customers.add(new Customer("c" + i, i % 2 == 0 ? "0101" : null,
                            i % 7 == 0 ? Customer.Kind.CORPORATE : Customer.Kind.PERSONAL));
                    singles[i] = CustomerState.NEW;
                }
                for (int m = 1; m <= 8; m++) {
                    List<BigDecimal> aums = new ArrayList<>();
                    for (int i = 0; i < 50; i++) {
                        aums.add(BigDecimal.valueOf(((i * 7919L + m * 104729L) % 4_000_000) * 100 + i, 2));
                    }
                    YearMonth month = YearMonth.of(2024, m);
                    BatchResult b = rb.evaluateBatch(month, customers, aums, states, m % 2 + 1);
                    check(b.errors().isEmpty(), "errors " + b.errors());
                    List<Event> expectedEvents = new ArrayList<>();
                    for (int i = 0; i < 50; i++) {
                        MonthResult r = rb.evaluate(customers.get(i), singles[i], month, aums.get(i));
                        singles[i] = r.state();
                        for (Event e : r.events()) {
                            expectedEvents.add(new Event(i, e.kind(), e.kindZh(), e.reason(), e.month(), e.effectiveFrom(),
                                    e.fromTier(), e.toTier(), e.aum(), e.threshold(), e.windowFrom(), e.windowMonths(),
                                    e.peakAum(), e.measure(), e.measureValue(), e.measureWindow()));
                        }
                        check(b.aum(i).equals(r.aum()), "aum " + i);
                    }
                    check(expectedEvents.equals(b.events()), month + ": batch events differ");
                    for (int i = 0; i < 50; i++) {
                        check(states.get(i).equals(singles[i]), month + ": state " + i);
                    }
                }
                // Bound to the ids of the first batch: the same customers reordered are refused.
                List<Customer> reordered = new ArrayList<>(customers);
                java.util.Collections.reverse(reordered);
                try {
                    rb.evaluateBatch(YearMonth.of(2024, 7), reordered, new long[50], states, 1);
                    check(false, "reordered customers accepted by position");
                } catch (TieringException.Argument e) {
                    check("states".equals(e.field()), "field " + e.field());
                }
                // A customer in error keeps its state and is reported; the others go on.
                List<Customer> two = List.of(Customer.personal("ok"), Customer.personal("late"));
                try (BatchStates s2 = BatchStates.create(2)) {
                    rb.evaluateBatch(YearMonth.of(2024, 2), List.of(Customer.personal("ok"), Customer.personal("late")),
                            new long[] {0L, 1L}, s2, 1);
                    // "late" gets a negative amount: an input error, its state kept.
                    BatchResult b = rb.evaluateBatch(YearMonth.of(2024, 3), two, new long[] {30_000_000L, -1L}, s2, 1);
                    check(b.errors().size() == 1 && b.errors().get(0).index() == 1 && b.errors().get(0).code() == 11,
                            "error slot " + b.errors());
                    check(b.errors().get(0).toException("late") instanceof TieringException.Input, "category");
                    check(b.events().size() == 1 && b.events().get(0).customerIndex() == 0, "events of the good one");
                }
            }
        });
    }

    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args.length > 0 ? args[0] : "rules-spec/vectors");
        rulesDir = dir.toAbsolutePath().getParent();
        String defaultRules = Files.readString(dir.resolveSibling("default-rules.toml"));
        apiCases(defaultRules);
        List<Path> vectors;
        try (Stream<Path> s = Files.list(dir)) {
            vectors = s.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        }
        run("vectors folder", () -> check(!vectors.isEmpty(), "no vectors in " + dir));
        for (Path p : vectors) {
            run("vector " + p.getFileName(), () -> vector(p));
            Map<String, Object> v = obj(Json.parse(Files.readString(p, StandardCharsets.UTF_8)));
            if (totalsWithMeasures(v)) {
                run("batch of totals and measures " + p.getFileName(), () -> batchWithMeasures(v));
                run("extract of totals and measures " + p.getFileName(), () -> extractWithMeasures(v));
            }
        }
        System.out.println(passed + " passed, " + failed + " failed");
        System.exit(failed == 0 ? 0 : 1);
    }

    /**
     * The demo book's tiers and timing without its measures, warnings, lifecycle, upgrade pause
     * and loan settings: a batch of AUM totals carries no measure values, and the demo book's
     * warnings and stages keep histories the positional batch does not.
     */
    static String tiersOnly(String book) {
        StringBuilder out = new StringBuilder();
        boolean skip = false;
        for (String line : book.split("\n", -1)) {
            String t = line.trim();
            if (t.startsWith("[")) {
                skip = t.equals("[loans]") || t.equals("[[rule_sets.versions.measures]]")
                        || t.equals("[[rule_sets.versions.warnings]]") || t.equals("[rule_sets.versions.lifecycle]");
            }
            if (!skip && !t.startsWith("pause_upgrades_while")) {
                out.append(line).append('\n');
            }
        }
        return out.toString();
    }
}
