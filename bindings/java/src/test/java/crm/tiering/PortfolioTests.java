package crm.tiering;

import static crm.tiering.Cases.check;
import static crm.tiering.Cases.failed;
import static crm.tiering.Cases.passed;
import static crm.tiering.Cases.problems;
import static crm.tiering.Cases.run;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Tests of the portfolio month from Java (keyed states, extract with designations, declared month)
 * and a runner over rules-spec/portfolio-vectors. Prints each failure and "N passed, N failed".
 *
 * <p>Usage: {@code java ... crm.tiering.PortfolioTests rules-spec/portfolio-vectors}
 */
public final class PortfolioTests {
    /** The folder of the rule books (rules-spec/). */
    private static Path rulesDir = Path.of("rules-spec");
    private static final YearMonth JAN = YearMonth.of(2024, 1);
    private static final YearMonth FEB = YearMonth.of(2024, 2);
    private static final YearMonth MAR = YearMonth.of(2024, 3);

    private PortfolioTests() {}

    private static final String[] IDS = {"c1", "c2", "c3", "c4", "c5"};
    private static final String[] JAN_AUM = {"250000", "600000", "1", "1200000", "210000"};

    private static PortfolioStates january(RuleBook rb) {
        PortfolioStates s = PortfolioStates.create();
        try (Extract x = new Extract(rb)) {
            for (int i = 0; i < 5; i++) {
                x.addTotal("aum", i, IDS[i], i == 3 ? "3301" : null, i == 3 ? Customer.Kind.CORPORATE : null, JAN,
                        new BigDecimal(JAN_AUM[i]));
            }
            rb.evaluatePortfolio(s, JAN, x, PortfolioOptions.DEFAULT);
        }
        return s;
    }

    static void unitTests() {
        run("reordered extract gives identical results", () -> {
            try (RuleBook rb = bothKinds(); PortfolioStates jan = january(rb)) {
                byte[] stored = jan.toText(rb);
                String[] ids = {"c1", "c2", "c3", "c4", "c5", "c6"};
                String[] aum = {"10000", "600000", "300000", "500000", "195000", "400000"};
                String[] json = new String[2];
                String[] after = new String[2];
                for (int order = 0; order < 2; order++) {
                    try (PortfolioStates s = PortfolioStates.fromText(stored); Extract x = new Extract(rb)) {
                        for (int k = 0; k < 6; k++) {
                            int i = order == 0 ? k : 5 - k;
                            x.addTotal("aum", k, ids[i], null, null, FEB, new BigDecimal(aum[i]));
                        }
                        PortfolioResult r = rb.evaluatePortfolio(s, FEB, x,
                                new PortfolioOptions(PortfolioOptions.Absent.ZERO, false, order + 1));
                        check(r.errors().isEmpty() && r.evaluated().size() == 6, "errors " + r.errors());
                        json[order] = r.json();
                        after[order] = new String(s.toText(rb), StandardCharsets.UTF_8);
                        check(s.ids().indexOf("c6") == 5, "c6 appended");
                        CustomerState c3 = s.get("c3").orElseThrow();
                        check("gold".equals(c3.tier()) && c3.status() == CustomerState.Status.RATED, "c3 " + c3);
                        Customer c4 = s.customer("c4").orElseThrow();
                        check("3301".equals(c4.legalEntity()) && c4.kind() == Customer.Kind.CORPORATE, "c4 " + c4);
                        check(r.events().stream().allMatch(e -> ids[0].equals(e.customerId())
                                || Arrays.asList(ids).contains(e.customerId())), "event ids");
                    }
                }
                check(json[0].equals(json[1]), "results differ");
                check(after[0].equals(after[1]), "states differ");
            }
        });
        run("bulk totals and the primitive fast path equal the per-row path", () -> {
            try (RuleBook rb = bothKinds(); PortfolioStates jan = january(rb)) {
                byte[] stored = jan.toText(rb);
                String[] ids = {"c1", "c2", "c3", "c4", "c5", "c6", "c7", "客户8"};
                String[] entities = {null, "3301", null, "3301", null, "", " 3301", null};
                byte[] kinds = {-1, 7, -1, 1, 0, 0, -1, -1};
                int[] months = {0, 202402, 0, 202402, 202413, 0, 0, 0};
                long[] fen = {1000000, 60000000, Long.MIN_VALUE, 50000000, 19500000, 40000000, 100, 600000000};
                String[] json = new String[2];
                String[] after = new String[2];
                for (int way = 0; way < 2; way++) {
                    try (PortfolioStates s = PortfolioStates.fromText(stored); Extract x = new Extract(rb)) {
                        if (way == 0) {
                            for (int i = 0; i < ids.length; i++) {
                                Customer.Kind k = kinds[i] == -1 ? null : kinds[i] == 1 ? Customer.Kind.CORPORATE
                                        : kinds[i] == 0 ? Customer.Kind.PERSONAL : null;
                                if (kinds[i] == 7) {
                                    // The per-row API cannot express kind 7: push it through the raw call.
                                    x.addTotals("aum", i, new String[] {ids[i]}, new String[] {entities[i]},
                                            new byte[] {7}, new int[] {months[i]}, new long[] {fen[i]});
                                    continue;
                                }
                                if (fen[i] == Long.MIN_VALUE || months[i] == 202413) {
                                    x.addTotals("aum", i, new String[] {ids[i]}, new String[] {entities[i]},
                                            new byte[] {kinds[i]}, new int[] {months[i]}, new long[] {fen[i]});
                                    continue;
                                }
                                x.addTotal("aum", i, ids[i], entities[i], k, months[i] == 0 ? null : FEB,
                                        BigDecimal.valueOf(fen[i], 2));
                            }
                        } else {
                            x.addTotals("aum", 0, ids, entities, kinds, months, fen);
                        }
                        PortfolioResult r = rb.evaluatePortfolio(s, FEB, x, PortfolioOptions.DEFAULT);
                        json[way] = r.json();
                        after[way] = new String(s.toText(rb), StandardCharsets.UTF_8);
                        check(r.errors().size() == 4, "bad cells held: " + r.errors());
                    }
                }
                check(json[0].equals(json[1]), "results differ:\n" + json[0] + "\n" + json[1]);
                check(after[0].equals(after[1]), "states differ");
                // The fast path: the same run read as primitive columns.
                try (PortfolioStates s = PortfolioStates.fromText(stored); Extract x = new Extract(rb);
                        PortfolioStates s2 = PortfolioStates.fromText(stored); Extract x2 = new Extract(rb);
                        PortfolioRun run = new PortfolioRun()) {
                    x.addTotals("aum", 0, ids, entities, kinds, months, fen);
                    x2.addTotals("aum", 0, ids, entities, kinds, months, fen);
                    PortfolioResult slow = rb.evaluatePortfolio(s, FEB, x, PortfolioOptions.DEFAULT);
                    rb.evaluatePortfolioInto(s2, FEB, x2, PortfolioOptions.DEFAULT, run);
                    check(run.evaluatedCount() == slow.evaluated().size(), "evaluated count");
                    int[] idx = run.evaluatedCustomerIndices();
                    long[] aums = run.evaluatedAumsFen();
                    boolean[] has = run.evaluatedHasRecord();
                    for (int k = 0; k < idx.length; k++) {
                        PortfolioResult.Evaluated e = slow.evaluated().get(k);
                        check(e.customerId().equals(run.customerId(idx[k])) && e.aum().equals(BigDecimal.valueOf(aums[k], 2))
                                && e.hasRecord() == has[k] && run.evaluatedMonths()[k] == 202402, "evaluated " + k);
                    }
                    check(run.eventCount() == slow.events().size(), "event count");
                    for (int k = 0; k < run.eventCount(); k++) {
                        check(run.event(k).equals(slow.events().get(k).event())
                                && run.customerId(run.eventCustomerIndices()[k]).equals(slow.events().get(k).customerId()),
                                "event " + k);
                    }
                    check(run.alertCount() == slow.alerts().size() && (run.alertCount() == 0
                            || run.alert(0).equals(slow.alerts().get(0).alert())), "alerts");
                    check(run.errorCount() == 4 && run.errors().equals(slow.errors()), "errors " + run.errors());
                }
                // Unidentifiable rows refuse the run the same way; bad columns are refused whole.
                try (PortfolioStates s = PortfolioStates.fromText(stored); Extract x = new Extract(rb);
                        PortfolioRun run = new PortfolioRun()) {
                    x.addTotals("aum", 0, new String[] {"c1", "", " c2"}, null, null, null, new long[] {1, 2, 3});
                    try {
                        rb.evaluatePortfolioInto(s, FEB, x, PortfolioOptions.DEFAULT, run);
                        check(false, "not refused");
                    } catch (TieringException.Refused e) {
                        check(e.errors().size() == 2 && e.errors().get(0).recordRow() == 1, "refused " + e.errors());
                    }
                    check(new String(s.toText(rb), StandardCharsets.UTF_8).equals(
                            new String(stored, StandardCharsets.UTF_8)), "unchanged");
                    try {
                        x.addTotals("aum", 0, 2, new byte[] {'a', 'b'}, new long[] {0, 2, 1}, null, null, null, null,
                                new long[] {1, 2});
                        check(false, "decreasing offsets accepted");
                    } catch (TieringException.Argument e) {
                        check("id_offsets".equals(e.field()), "field " + e.field());
                    }
                }
            }
        });
        run("duplicate ids are refused naming both rows", () -> {
            try (RuleBook rb = bothKinds(); PortfolioStates s = january(rb); Extract x = new Extract(rb)) {
                x.addTotal("aum", 0, "c1", null, null, FEB, new BigDecimal("300000"));
                x.addTotal("aum", 1, "c2", null, null, FEB, new BigDecimal("600000"));
                x.addTotal("aum", 2, "c1", null, null, FEB, new BigDecimal("900000"));
                PortfolioResult r = rb.evaluatePortfolio(s, FEB, x, PortfolioOptions.DEFAULT.emptyEntities("3301"));
                check(r.errors().size() == 1, "one error: " + r.errors());
                RecordError e = r.errors().get(0);
                check("c1".equals(e.customerId()) && "customer_id".equals(e.field()) && "input".equals(e.category()),
                        "error " + e);
                check("aum".equals(e.recordTable()) && e.recordRow() == 2 && "aum".equals(e.otherTable())
                        && e.otherRow() == 0, "both rows " + e);
                check(JAN.equals(s.get("c1").orElseThrow().lastMonth()), "c1 held back");
            }
        });
        run("stored states cut at a line end or any byte are refused", () -> {
            try (RuleBook rb = bothKinds(); PortfolioStates s = january(rb)) {
                byte[] text = s.toText(rb);
                check(rb.fingerprint().equals(s.ruleBook()), "stamped");
                int lineEnds = 0;
                for (int cut = 0; cut < text.length; cut++) {
                    try (PortfolioStates back = PortfolioStates.fromText(Arrays.copyOf(text, cut))) {
                        check(back == null, "cut at " + cut + " accepted");
                    } catch (TieringException.State e) {
                        if (cut > 0 && text[cut - 1] == '\n') {
                            lineEnds++;
                            check("states".equals(e.recordTable()) && e.recordRow() > 0, "names the line");
                        }
                    }
                }
                check(lineEnds == 6, "line ends " + lineEnds);
                try (PortfolioStates back = PortfolioStates.fromText(text)) {
                    check(back.size() == 5 && back.ids().equals(s.ids()), "round trip");
                }
            }
        });
        run("designations through the portfolio month", () -> {
            try (RuleBook rb = bothKinds(); PortfolioStates s = january(rb); Extract x = new Extract(rb)) {
                x.addTotal("aum", 0, "c3", null, null, FEB, new BigDecimal("1"));
                x.grant("designations", 0, "c3", FEB, "platinum", 12);
                x.grant("designations", 1, "c7", FEB, null, 0);
                x.grant("designations", 2, "c5", MAR, null, 0);
                // c4 is the only customer of legal entity 3301: declared empty, it is evaluated at zero.
                PortfolioResult r = rb.evaluatePortfolio(s, FEB, x, PortfolioOptions.DEFAULT.emptyEntities("3301"));
                CustomerState c3 = s.get("c3").orElseThrow();
                check("platinum".equals(c3.effectiveTier()) && c3.tier() == null && "platinum".equals(c3.specialTier()),
                        "c3 " + c3);
                check("gold".equals(s.get("c7").orElseThrow().specialTier()), "c7 default grant");
                check(r.errors().size() == 1 && "c5".equals(r.errors().get(0).customerId())
                        && "month".equals(r.errors().get(0).field()) && r.errors().get(0).recordRow() == 2,
                        "c5 held: " + r.errors());
            }
            try (RuleBook rb = bothKinds(); PortfolioStates s = january(rb)) {
                try (Extract x = new Extract(rb)) {
                    x.grant("designations", 0, "c3", FEB, null, 0);
                    // Designations alone are no AUM record: an empty month, refused unless declared.
                    try {
                        rb.evaluatePortfolio(s, FEB, x, PortfolioOptions.DEFAULT);
                        check(false, "an empty month is refused");
                    } catch (TieringException.Refused e) {
                        check("month".equals(e.field()), "empty month: " + e.field());
                    }
                    try {
                        rb.evaluatePortfolio(s, FEB, x, PortfolioOptions.DEFAULT.with("allow_empty_mnoth", "true"));
                        check(false, "an unknown option is refused");
                    } catch (TieringException.Argument e) {
                        check("allow_empty_mnoth".equals(e.field()), "unknown option: " + e.field());
                    }
                    rb.evaluatePortfolio(s, FEB, x, PortfolioOptions.DEFAULT.allowEmptyMonth());
                }
                try (Extract x = new Extract(rb)) {
                    x.revoke("designations", 0, "c3", MAR);
                    rb.evaluatePortfolio(s, MAR, x, PortfolioOptions.DEFAULT.allowEmptyMonth());
                }
                check(s.get("c3").orElseThrow().specialTier() == null, "revoked");
            }
        });
        run("a run refused as a whole", () -> {
            try (RuleBook rb = bothKinds(); PortfolioStates s = january(rb); Extract x = new Extract(rb)) {
                byte[] before = s.toText(rb);
                x.addTotal("aum", 0, "c1", null, null, FEB, new BigDecimal("1"));
                x.addTotal("aum", 1, "", null, null, FEB, new BigDecimal("1"));
                try {
                    rb.evaluatePortfolio(s, FEB, x, PortfolioOptions.DEFAULT);
                    check(false, "not refused");
                } catch (TieringException.Refused e) {
                    check(e.code() == 14 && e.errors().size() == 1 && e.errors().get(0).recordRow() == 1
                            && "customer_id".equals(e.errors().get(0).field()), "errors " + e.errors());
                }
                check(Arrays.equals(before, s.toText(rb)), "unchanged");
                try {
                    rb.evaluatePortfolio(s, YearMonth.of(9999, 12), x, PortfolioOptions.DEFAULT);
                    check(false, "9999-12 accepted");
                } catch (TieringException.Argument e) {
                    check("month".equals(e.field()), "field " + e.field());
                }
            }
        });
        run("header with two names of one component", () -> {
            try (RuleBook rb = bothKinds(); Extract x = new Extract(rb)) {
                x.addTable("aum", Extract.TableKind.AUM, List.of("month", "customer_id", "time_deposit", "定期存款"),
                        List.of(List.of("2024-03", "c1", "100", "250000")));
                check(false, "accepted");
            } catch (TieringException.Input e) {
                check("定期存款".equals(e.field()), "field " + e.field());
            }
        });
    }

    // ---- the portfolio vectors ----------------------------------------------------------------

    @SuppressWarnings("unchecked")
    private static Map<String, Object> obj(Object o) {
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object o) {
        return o == null ? List.of() : (List<Object>) o;
    }

    private static final String[] ERROR_KEYS = {"category", "customer_id", "month", "field", "record", "other_record"};

    private static boolean sameErrors(Object want, Object got) {
        List<Object> w = list(want), g = list(got);
        if (w.size() != g.size()) {
            return false;
        }
        for (int i = 0; i < w.size(); i++) {
            for (String k : ERROR_KEYS) {
                if (!Json.same(obj(w.get(i)).get(k), obj(g.get(i)).get(k))) {
                    return false;
                }
            }
        }
        return true;
    }

    private static Map<String, Object> errorJson(String category, String customer, YearMonth month, String field,
            String table, long row, String otherTable, long otherRow) {
        Map<String, Object> m = new java.util.HashMap<>();
        m.put("category", category);
        m.put("customer_id", customer == null || customer.isEmpty() ? null : customer);
        m.put("month", month == null ? null : month.toString());
        m.put("field", field == null || field.isEmpty() ? null : field);
        m.put("record", table == null || table.isEmpty() ? null
                : Map.of("table", table, "row", BigDecimal.valueOf(row)));
        m.put("other_record", otherTable == null || otherTable.isEmpty() ? null
                : Map.of("table", otherTable, "row", BigDecimal.valueOf(otherRow)));
        return m;
    }

    private static Map<String, Object> errorJson(TieringException e) {
        String category = switch (e.code()) {
            case 10 -> "rules";
            case 12 -> "sequence";
            case 13 -> "state";
            default -> "input"; // 11, and a declared month refused at the boundary
        };
        return errorJson(category, e.customer(), e.month(), e.field(), e.recordTable(), e.recordRow(), e.otherTable(),
                e.otherRow());
    }

    private static List<Object> errorsJson(List<RecordError> errors) {
        List<Object> out = new ArrayList<>();
        for (RecordError e : errors) {
            out.add(errorJson(e.category(), e.customerId(), e.month(), e.field(), e.recordTable(), e.recordRow(),
                    e.otherTable(), e.otherRow()));
        }
        return out;
    }

    private static void failure(String name, int k, Map<String, Object> run, List<Object> got) {
        Object want = run.get("expect_failure");
        if (want != null) {
            check(sameErrors(want, got), name + " run " + k + ": failure differs: expected " + Json.write(want)
                    + " got " + Json.write(got));
        } else {
            check(!run.containsKey("expected"), name + " run " + k + ": refused: " + Json.write(got));
        }
    }

    private static void checkExpect(String name, int k, Map<String, Object> run, PortfolioStates s, Set<String> held) {
        Map<String, Object> expect = obj(run.get("expect"));
        if (expect == null) {
            return;
        }
        if (expect.get("tiers") != null) {
            for (Map.Entry<String, Object> t : obj(expect.get("tiers")).entrySet()) {
                String got = s.get(t.getKey()).map(CustomerState::tier).orElse(null);
                check(Json.same(t.getValue(), got), name + " run " + k + ": tier of " + t.getKey() + " " + got);
            }
        }
        if (expect.get("held") != null) {
            Set<String> want = new HashSet<>();
            for (Object h : list(expect.get("held"))) {
                want.add((String) h);
            }
            check(want.equals(held), name + " run " + k + ": held " + held + ", expected " + want);
        }
        for (Object id : list(expect.get("not_in_states"))) {
            check(s.get((String) id).isEmpty(), name + " run " + k + ": " + id + " in the states");
        }
    }

    /** An option's value as text: strings as they are, booleans and numbers as written, lists joined by commas. */
    static String optionText(Object value) {
        if (value instanceof List<?> items) {
            List<String> texts = new ArrayList<>();
            items.forEach(i -> texts.add(optionText(i)));
            return String.join(",", texts);
        }
        if (value instanceof Double d && d == Math.rint(d)) {
            return Long.toString(d.longValue());
        }
        return String.valueOf(value);
    }

    static void runVector(String name, Map<String, Object> v) throws IOException {
        Object rules = v.get("rules");
        List<Object> runs = list(v.get("runs"));
        try (RuleBook rb = rules == null ? RuleBook.defaults() : RuleBook.fromJson(Json.write(rules))) {
            Map<String, Object> opts = v.get("options") == null ? Map.of() : obj(v.get("options"));
            PortfolioStates states;
            if (v.get("states_text") instanceof String text) {
                String fp;
                try (RuleBook def = RuleBook.defaults()) {
                    fp = def.fingerprint();
                }
                try {
                    states = PortfolioStates.fromText(
                            text.replace("{default_book_fingerprint}", fp).getBytes(StandardCharsets.UTF_8));
                } catch (TieringException e) {
                    failure(name, 0, obj(runs.get(0)), List.of(errorJson(e)));
                    return;
                }
            } else {
                states = PortfolioStates.create();
                for (Object o : list(v.get("states"))) {
                    Map<String, Object> st = obj(o);
                    Customer c = new Customer((String) st.get("customer_id"), (String) st.get("legal_entity"),
                            "corporate".equals(st.get("customer_kind")) ? Customer.Kind.CORPORATE
                                    : Customer.Kind.PERSONAL);
                    states.put(c, CustomerState.fromJson(Json.write(st.get("state"))));
                }
            }
            try (PortfolioStates s = states) {
                int k = 0;
                for (Object ro : runs) {
                    Map<String, Object> run = obj(ro);
                    // Every option by key, the vector's then the run's (VECTORS.md §7).
                    PortfolioOptions options = PortfolioOptions.DEFAULT;
                    for (Map<String, Object> o : List.of(opts,
                            run.get("options") == null ? Map.<String, Object>of() : obj(run.get("options")))) {
                        for (Map.Entry<String, Object> kv : o.entrySet()) {
                            options = options.with(kv.getKey(), optionText(kv.getValue()));
                        }
                    }
                    String months = (String) run.get("months");
                    String[] parts = months.split("\\.\\.");
                    YearMonth first = YearMonth.parse(parts[0]);
                    YearMonth last = parts.length > 1 ? YearMonth.parse(parts[1]) : first;
                    Set<String> held = new HashSet<>();
                    try (Extract x = new Extract(rb)) {
                        List<Object> header = null;
                        for (Object to : list(run.get("tables"))) {
                            Map<String, Object> t = obj(to);
                            List<String> cols = new ArrayList<>();
                            list(t.get("columns")).forEach(c -> cols.add((String) c));
                            List<List<String>> rows = new ArrayList<>();
                            for (Object r : list(t.get("rows"))) {
                                List<String> cells = new ArrayList<>();
                                list(r).forEach(c -> cells.add((String) c));
                                rows.add(cells);
                            }
                            try {
                                x.addTable((String) t.get("name"),
                                        Extract.TableKind.valueOf(((String) t.get("kind")).toUpperCase()), cols, rows);
                            } catch (TieringException e) {
                                if (header == null) {
                                    header = List.of(errorJson(e));
                                }
                            }
                        }
                        if (header != null) {
                            failure(name, k, run, header);
                        } else {
                            try {
                                PortfolioResult r = rb.evaluatePortfolio(s, first, last, x, options);
                                check(!run.containsKey("expect_failure"), name + " run " + k + ": went through");
                                r.errors().forEach(e -> {
                                    if (e.customerId() != null) {
                                        held.add(e.customerId());
                                    }
                                });
                                Map<String, Object> expected = obj(run.get("expected"));
                                if (expected != null) {
                                    List<Object> want = list(expected.get("months"));
                                    List<Object> got = list(obj(Json.parse(r.json())).get("months"));
                                    check(want.size() == got.size(), name + " run " + k + ": months");
                                    for (int i = 0; i < Math.min(want.size(), got.size()); i++) {
                                        for (String part : List.of("month", "events", "alerts", "evaluated")) {
                                            Object w = obj(want.get(i)).get(part), g = obj(got.get(i)).get(part);
                                            check(Json.same(w, g), name + " run " + k + " month " + i + ": " + part
                                                    + " differ: expected " + Json.write(w) + " got " + Json.write(g));
                                        }
                                        Object wh = obj(want.get(i)).get("held"), gh = obj(got.get(i)).get("held");
                                        check(sameErrors(wh, gh), name + " run " + k + ": held differ: expected "
                                                + Json.write(wh) + " got " + Json.write(gh));
                                    }
                                    // The typed errors say what the JSON says.
                                    check(sameErrors(errorsJson(r.errors()), flatHeld(got)), name + ": typed errors");
                                    Object ws = expected.get("states"), gs = Json.parse(s.toJson());
                                    check(Json.same(ws, gs), name + " run " + k + ": states differ: expected "
                                            + Json.write(ws) + " got " + Json.write(gs));
                                }
                            } catch (TieringException.Refused e) {
                                failure(name, k, run, errorsJson(e.errors()));
                            } catch (TieringException.Argument e) {
                                failure(name, k, run, List.of(errorJson(e)));
                            }
                        }
                    }
                    checkExpect(name, k, run, s, held);
                    k++;
                }
            }
        }
    }

    private static List<Object> flatHeld(List<Object> months) {
        List<Object> out = new ArrayList<>();
        for (Object m : months) {
            out.addAll(list(obj(m).get("held")));
        }
        return out;
    }

    /**
     * The default rules for personal and corporate customers alike ({@code customer_kinds} lists
     * both): the default book itself tiers personal customers only, and refuses a corporate one.
     */
    static RuleBook bothKinds() throws IOException {
        String text = Files.readString(rulesDir.resolve("default-rules.toml"));
        return RuleBook.fromToml("customer_kinds = [\"personal\", \"corporate\"]\n" + text);
    }

    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args.length > 0 ? args[0] : "rules-spec/portfolio-vectors");
        rulesDir = dir.toAbsolutePath().getParent();
        unitTests();
        List<Path> files;
        try (Stream<Path> st = Files.list(dir)) {
            files = st.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        }
        run("portfolio vectors folder", () -> check(!files.isEmpty(), "no vectors in " + dir));
        for (Path f : files) {
            run(f.getFileName().toString(), () -> runVector(f.getFileName().toString(),
                    obj(Json.parse(Files.readString(f)))));
        }
        System.out.println(passed + " passed, " + failed + " failed");
        System.exit(failed == 0 ? 0 : 1);
    }
}
