import crm.tiering.Alert;
import crm.tiering.Customer;
import crm.tiering.Event;
import crm.tiering.Extract;
import crm.tiering.PortfolioOptions;
import crm.tiering.PortfolioResult;
import crm.tiering.PortfolioStates;
import crm.tiering.RecordError;
import crm.tiering.RuleBook;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.YearMonth;
import java.util.List;

/**
 * A core system's month-end tiering job in Java:
 *
 * <pre>java MonthlyBatch RULES.toml PORTFOLIO.csv YYYY-MM STATES_IN STATES_OUT</pre>
 *
 * loads the rule book, reads the month's rows of the extract (customer_id, legal_entity, kind,
 * month, aum in yuan), reads the prior states from the store (checked text keyed by id; missing: empty),
 * evaluates the portfolio in one batch, writes the new states and prints events and alerts.
 */
public final class MonthlyBatch {
    private MonthlyBatch() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 5) {
            System.err.println("usage: MonthlyBatch RULES.toml PORTFOLIO.csv YYYY-MM STATES_IN STATES_OUT");
            System.exit(2);
        }
        YearMonth month = YearMonth.parse(args[2]);
        Path store = Path.of(args[3]);
        try (RuleBook rules = RuleBook.fromToml(Files.readString(Path.of(args[0])));
                PortfolioStates states = Files.exists(store)
                        ? PortfolioStates.fromText(Files.readAllBytes(store))
                        : PortfolioStates.create();
                Extract extract = new Extract(rules)) {
            // The month's rows, matched to the stored states by customer id (any order).
            List<String> lines = Files.readAllLines(Path.of(args[1]), StandardCharsets.UTF_8);
            for (int k = 1; k < lines.size(); k++) {
                String[] c = lines.get(k).split(",", -1);
                if (c.length != 5 || !c[3].equals(args[2])) {
                    continue;
                }
                extract.addTotal(args[1], k + 1, c[0], c[1].isEmpty() ? null : c[1],
                        c[2].equals("corporate") ? Customer.Kind.CORPORATE : Customer.Kind.PERSONAL, month,
                        new BigDecimal(c[4]));
            }
            PortfolioResult result = rules.evaluatePortfolio(states, month, extract,
                    new PortfolioOptions(PortfolioOptions.Absent.ZERO, false, 2));
            Files.write(Path.of(args[4]), states.toText(rules));
            System.out.printf("%s: %d customers, %d evaluated, %d events, %d alerts, %d held%n", month, states.size(),
                    result.evaluated().size(), result.events().size(), result.alerts().size(), result.errors().size());
            for (PortfolioResult.CustomerEvent ce : result.events()) {
                Event e = ce.event();
                System.out.printf("  event  %s %-20s %s %s -> %s from %s (AUM %s, %s)%n", ce.customerId(), e.kind(),
                        e.kindZh(), e.fromTier() == null ? "-" : e.fromTier(), e.toTier() == null ? "-" : e.toTier(),
                        e.effectiveFrom(), e.aum().toPlainString(), e.reason());
            }
            for (PortfolioResult.CustomerAlert ca : result.alerts()) {
                Alert a = ca.alert();
                System.out.printf("  alert  %s %-20s %s tier %s months left %s (AUM %s, gap %s)%n", ca.customerId(),
                        a.kind(), a.kindZh(), a.tier(), a.monthsLeft() == null ? "-" : a.monthsLeft(),
                        a.aum().toPlainString(), a.gap() == null ? "-" : a.gap().toPlainString());
            }
            for (RecordError e : result.errors()) {
                System.out.printf("  held   %s (%s, field %s, %s:%d): %s%n", e.customerId(), e.category(), e.field(),
                        e.recordTable(), e.recordRow(), e.message());
            }
        }
    }
}
