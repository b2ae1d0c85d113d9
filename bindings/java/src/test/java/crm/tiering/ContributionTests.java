package crm.tiering;

import static crm.tiering.Cases.check;
import static crm.tiering.Cases.failed;
import static crm.tiering.Cases.passed;
import static crm.tiering.Cases.problems;
import static crm.tiering.Cases.run;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The contribution month through Java ({@link Contribution}): every contribution vector of
 * rules-spec/contribution-vectors/ (SPEC §20.9), as one JSON list that
 * scripts/contribution-vectors-json.py writes from the TOML. A case with figures is computed and
 * its customers, managers and unassigned figures compared field by field (amounts as exact text,
 * a customer's pools from {@link Contribution#toJson()}); a case with errors must throw the
 * category of its first error with every expected message, one a line. Then the API's misuse.
 * A plain runner: prints each failure and a closing "N passed, N failed".
 *
 * <p>Usage: {@code java ... crm.tiering.ContributionTests contribution-vectors.json}
 */
public final class ContributionTests {

    private ContributionTests() {}

    @SuppressWarnings("unchecked")
    private static Map<String, Object> obj(Object o) {
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object o) {
        return o instanceof List ? (List<Object>) o : o == null ? List.of() : List.of(o);
    }

    private static String text(Object v) {
        return v instanceof BigDecimal d ? d.toPlainString() : String.valueOf(v);
    }

    private static Map<String, String> tables(Map<String, Object> v) {
        Map<String, String> t = new HashMap<>();
        for (String name : Contribution.TABLES) {
            if (v.get(name) instanceof String s) {
                t.put(name, s);
            }
        }
        return t;
    }

    /** A customer's pools as the vectors write them ("ops=33.34 branch_b=19.23"), from the JSON. */
    private static String byPool(Map<String, Object> customer) {
        List<String> parts = new ArrayList<>();
        for (Object p : list(customer.get("allocated_by_pool"))) {
            parts.add(obj(p).get("pool") + "=" + obj(p).get("amount"));
        }
        return String.join(" ", parts);
    }

    /** Each field an expected entry gives, against the computed values of the entry. */
    private static void compare(String list, int i, Map<String, Object> want, Map<String, String> got) {
        for (Map.Entry<String, Object> e : want.entrySet()) {
            String expected = text(e.getValue());
            String actual = got.get(e.getKey());
            check(expected.equals(actual), list + "[" + i + "]." + e.getKey() + ": expected " + expected + ", got "
                    + actual);
        }
    }

    private static Map<String, String> values(Map<String, BigDecimal> figures) {
        Map<String, String> m = new HashMap<>();
        figures.forEach((k, v) -> m.put(k, v.toPlainString()));
        return m;
    }

    private static void figures(Contribution c, Map<String, Object> expected) {
        List<Object> want = list(expected.get("customers"));
        List<Object> json = list(obj(Json.parse(c.toJson())).get("customers"));
        check(c.customers().size() == want.size(), "customers: expected " + want.size() + ", computed "
                + c.customers().size());
        for (int i = 0; i < Math.min(want.size(), c.customers().size()); i++) {
            Contribution.Customer cu = c.customers().get(i);
            Map<String, String> got = values(cu.figures());
            got.put("customer", cu.customer());
            got.put("by_pool", byPool(obj(json.get(i))));
            compare("customers", i, obj(want.get(i)), got);
        }
        if (expected.containsKey("managers")) {
            List<Object> wm = list(expected.get("managers"));
            check(c.managers().size() == wm.size(), "managers: expected " + wm.size() + ", computed "
                    + c.managers().size());
            for (int i = 0; i < Math.min(wm.size(), c.managers().size()); i++) {
                Contribution.Manager m = c.managers().get(i);
                Map<String, String> got = values(m.figures());
                got.put("manager", m.manager());
                got.put("customers", Long.toString(m.customers()));
                compare("managers", i, obj(wm.get(i)), got);
            }
        }
        if (expected.containsKey("unassigned")) {
            compare("unassigned", 0, obj(expected.get("unassigned")), values(c.unassigned()));
        }
    }

    private static void errors(TieringException e, List<Object> want) {
        String first = text(want.get(0));
        boolean rules = first.startsWith("rule book");
        check(rules ? e instanceof TieringException.Rules : e instanceof TieringException.Input,
                "expected a " + (rules ? "rules" : "input") + " error, got " + e.codeName());
        List<String> lines = List.of(e.getMessage().split("\n", -1));
        List<String> expected = want.stream().map(ContributionTests::text).toList();
        check(lines.equals(expected), "errors: expected " + expected + ", got " + lines);
    }

    private static void vector(Map<String, Object> v) {
        YearMonth month = YearMonth.parse(text(v.get("month")));
        Map<String, Object> expected = obj(v.get("expected"));
        try (Contribution c = Contribution.compute(text(v.get("book")), month, tables(v))) {
            check(!expected.containsKey("errors"), "expected errors, computed a month");
            check(month.equals(c.month()), "month " + c.month());
            figures(c, expected);
        } catch (TieringException e) {
            if (expected.containsKey("errors")) {
                errors(e, list(expected.get("errors")));
            } else {
                check(false, "failed: " + e.getMessage());
            }
        }
    }

    private static void misuse(Map<String, Object> v) {
        YearMonth month = YearMonth.parse(text(v.get("month")));
        Map<String, String> bad = new HashMap<>(tables(v));
        bad.put("accounts", "x");
        try {
            Contribution.compute(text(v.get("book")), month, bad);
            check(false, "an unknown table name was taken");
        } catch (IllegalArgumentException expected) {
            check(expected.getMessage().contains("`accounts`"), expected.getMessage());
        }
        Contribution c = Contribution.compute(text(v.get("book")), month, tables(v));
        c.close();
        c.close();
        check(!c.customers().isEmpty(), "the figures stay readable once closed");
        try {
            c.toJson();
            check(false, "toJson after close");
        } catch (IllegalStateException expected) {
            check(expected.getMessage().contains("closed"), expected.getMessage());
        }
        check(Contribution.FIGURES.size() == 8 && Contribution.FIGURES.get(7).equals("net_contribution"),
                "figure names " + Contribution.FIGURES);
    }

    public static void main(String[] args) throws Exception {
        Path path = Path.of(args.length > 0 ? args[0] : "contribution-vectors.json");
        List<Object> cases = list(Json.parse(Files.readString(path, StandardCharsets.UTF_8)));
        run("contribution vectors", () -> check(!cases.isEmpty(), "no vectors in " + path));
        for (Object o : cases) {
            Map<String, Object> v = obj(o);
            run(text(v.get("name")), () -> vector(v));
        }
        if (!cases.isEmpty()) {
            run("misuse", () -> misuse(obj(cases.get(0))));
        }
        System.out.println(passed + " passed, " + failed + " failed");
        System.exit(failed == 0 ? 0 : 1);
    }
}
