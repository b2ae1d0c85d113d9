package crm.tiering;

import static crm.tiering.Cases.check;
import static crm.tiering.Cases.failed;
import static crm.tiering.Cases.passed;
import static crm.tiering.Cases.run;

import java.math.BigDecimal;
import java.time.YearMonth;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The alerts' severity from Java ({@link Severity}, {@link Alert#severity()}; SPEC §11.1): every
 * alert of a portfolio run over the default book, and every kind with every count, against the
 * SPEC's table written below (the countdowns' boundary, 1 month left high and 2 medium,
 * included); the codes and names; alerts made in Java with a kind or count the library refuses.
 * A plain runner: prints each failure and a closing "N passed, N failed"; exits non-zero on failure.
 *
 * <p>Usage: {@code java -Djna.library.path=target/debug -cp ... crm.tiering.SeverityTests}
 */
public final class SeverityTests {
    private SeverityTests() {}

    /** SPEC §11.1's table: each kind's severity; written from the SPEC, not asked of the library. */
    private static final Map<String, Severity> SPEC = Map.ofEntries(Map.entry("watch_active", Severity.MEDIUM),
            Map.entry("exit_risk", Severity.MEDIUM), Map.entry("in_retention", Severity.MEDIUM),
            Map.entry("special_expiring", Severity.MEDIUM), Map.entry("held_back", Severity.MEDIUM),
            Map.entry("drop_pct", Severity.MEDIUM), Map.entry("below_for", Severity.MEDIUM),
            Map.entry("large_flow", Severity.MEDIUM), Map.entry("dormant", Severity.HIGH),
            Map.entry("reactivated", Severity.HIGH), Map.entry("maturity_not_reinvested", Severity.HIGH),
            Map.entry("upgrade_opportunity", Severity.LOW), Map.entry("downgrade_risk", Severity.LOW),
            Map.entry("potential_vip", Severity.LOW));

    /** The countdowns: {@code high} with at most one month left. */
    private static final List<String> COUNTDOWNS = List.of("watch_active", "exit_risk", "in_retention");

    /** The severity the SPEC gives an alert, or null for a kind the table lacks. */
    private static Severity spec(String kind, Integer monthsLeft) {
        if (COUNTDOWNS.contains(kind) && monthsLeft != null && monthsLeft <= 1) {
            return Severity.HIGH;
        }
        return SPEC.get(kind);
    }

    private static Alert alert(String kind, Integer monthsLeft) {
        return new Alert(0, kind, "", YearMonth.of(2024, 1), null, null, monthsLeft, null, null, null, null, null,
                null);
    }

    private static void texts() {
        run("the order is the work-list's; the codes and names are SPEC §11.1's", () -> {
            Severity[] all = Severity.values();
            check(all.length == 3 && all[0] == Severity.HIGH && all[1] == Severity.MEDIUM && all[2] == Severity.LOW,
                    "order");
            String[] codes = {"high", "medium", "low"};
            String[] zh = {"高", "中", "低"};
            for (int i = 0; i < 3; i++) {
                check(all[i].rank() == i, all[i] + " rank " + all[i].rank());
                check(codes[i].equals(all[i].code()), all[i] + " code " + all[i].code());
                check(zh[i].equals(all[i].zh()), all[i] + " zh " + all[i].zh());
            }
            // The SPEC table names every kind the library has, and only those.
            int kinds = 0;
            while (!Tiering.code(CrmtLibrary.C.crmt_alert_kind_code(kinds)).isEmpty()) {
                check(SPEC.containsKey(Tiering.code(CrmtLibrary.C.crmt_alert_kind_code(kinds))), "kind " + kinds);
                kinds++;
            }
            check(kinds == SPEC.size(), "the library has " + kinds + " alert kinds, the SPEC table " + SPEC.size());
        });
    }

    /**
     * The default book over 2024-01..2024-10, absent customers held: a platinum customer on watch
     * (2 then 1 month left), a gold one below entry (exit counter 5..1, then retention 2 and 1),
     * near-threshold customers, a special VIP of three months (expiring: not a countdown), one
     * absent in March (held back).
     */
    private static void portfolio() {
        run("every alert of a portfolio run has the SPEC's severity", () -> {
            try (RuleBook book = RuleBook.defaults(); PortfolioStates states = PortfolioStates.create();
                    Extract x = new Extract(book)) {
                String[] ids = {"watch", "exit", "potential", "upgrade", "downgrade", "special", "held"};
                long row = 0;
                for (int m = 1; m <= 10; m++) {
                    String[] aum = {m == 1 ? "600000" : "300000", m == 1 ? "250000" : "10000", "190000", "480000",
                        "210000", "1", "300000"};
                    for (int i = 0; i < ids.length; i++) {
                        if (i != 6 || m != 3) {
                            x.addTotal("aum", row++, ids[i], null, null, YearMonth.of(2024, m), new BigDecimal(aum[i]));
                        }
                    }
                }
                x.grant("special", 0, "special", YearMonth.of(2024, 1), "gold", 3);
                PortfolioResult r = book.evaluatePortfolio(states, YearMonth.of(2024, 1), YearMonth.of(2024, 10), x,
                        new PortfolioOptions(PortfolioOptions.Absent.HOLD, false, 1));
                check(r.errors().isEmpty(), "errors " + r.errors());
                Map<String, Integer> seen = new HashMap<>();
                for (PortfolioResult.CustomerAlert ca : r.alerts()) {
                    Alert a = ca.alert();
                    Severity want = spec(a.kind(), a.monthsLeft());
                    check(a.severity() == want, a.month() + " " + ca.customerId() + " " + a.kind() + " months left "
                            + a.monthsLeft() + ": " + a.severity() + ", the SPEC says " + want);
                    seen.merge(a.kind(), 1, Integer::sum);
                    seen.merge(a.kind() + "/" + a.monthsLeft(), 1, Integer::sum);
                }
                check(r.alerts().size() >= 40, r.alerts().size() + " alerts");
                for (String k : COUNTDOWNS) {
                    check(seen.containsKey(k + "/1") && seen.containsKey(k + "/2"), k + " not seen with 1 and 2 left");
                }
                for (String k : List.of("special_expiring/1", "held_back", "potential_vip", "upgrade_opportunity",
                        "downgrade_risk")) {
                    check(seen.containsKey(k), "no " + k);
                }
            }
        });
    }

    private static void everyKind() {
        run("every kind with every count, in alerts made in Java", () -> {
            for (String kind : SPEC.keySet()) {
                for (Integer left : new Integer[] {null, 0, 1, 2, 3, 12, Integer.MAX_VALUE}) {
                    Severity got = alert(kind, left).severity();
                    check(got == spec(kind, left), kind + " months left " + left + ": " + got + ", the SPEC says "
                            + spec(kind, left));
                }
            }
        });
    }

    private static void refused() {
        run("a kind the library does not know, or a negative count, is refused naming the field", () -> {
            for (String kind : new String[] {"no_such_kind", "", "EXIT_RISK", null}) {
                try {
                    alert(kind, 1).severity();
                    check(false, "kind `" + kind + "` accepted");
                } catch (TieringException.Argument e) {
                    check(e.code() == 5 && "kind".equals(e.field()), kind + ": " + e.code() + " " + e.field());
                }
            }
            for (int left : new int[] {-1, -2, Integer.MIN_VALUE}) {
                try {
                    alert("exit_risk", left).severity();
                    check(false, "months left " + left + " accepted");
                } catch (TieringException.Argument e) {
                    check(e.code() == 5 && "monthsLeft".equals(e.field()), left + ": " + e.code() + " " + e.field());
                }
            }
        });
    }

    public static void main(String[] args) {
        texts();
        portfolio();
        everyKind();
        refused();
        System.out.println(passed + " passed, " + failed + " failed");
        System.exit(failed == 0 ? 0 : 1);
    }
}
