import crm.tiering.Alert;
import crm.tiering.BatchResult;
import crm.tiering.Customer;
import crm.tiering.CustomerError;
import crm.tiering.Event;
import crm.tiering.PortfolioStates;
import crm.tiering.RuleBook;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.List;

/**
 * A core system's month-end tiering job in Java:
 *
 * <pre>java MonthlyBatch RULES.toml PORTFOLIO.csv YYYY-MM STATES_IN.jsonl STATES_OUT.jsonl</pre>
 *
 * loads the rule book, reads the month's rows of the extract (customer_id, legal_entity, kind,
 * month, aum in yuan), reads the prior states from the store (JSON Lines; missing: all new),
 * evaluates the portfolio in one batch, writes the new states and prints events and alerts.
 */
public final class MonthlyBatch {
    private MonthlyBatch() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 5) {
            System.err.println("usage: MonthlyBatch RULES.toml PORTFOLIO.csv YYYY-MM STATES_IN.jsonl STATES_OUT.jsonl");
            System.exit(2);
        }
        YearMonth month = YearMonth.parse(args[2]);
        List<Customer> customers = new ArrayList<>();
        List<BigDecimal> aums = new ArrayList<>();
        List<String> lines = Files.readAllLines(Path.of(args[1]), StandardCharsets.UTF_8);
        for (String line : lines.subList(1, lines.size())) {
            String[] c = line.split(",", -1);
            if (c.length != 5 || !c[3].equals(args[2])) {
                continue;
            }
            customers.add(new Customer(c[0], c[1].isEmpty() ? null : c[1],
                    c[2].equals("corporate") ? Customer.Kind.CORPORATE : Customer.Kind.PERSONAL));
            aums.add(new BigDecimal(c[4]));
        }
        Path store = Path.of(args[3]);
        try (RuleBook rules = RuleBook.fromToml(Files.readString(Path.of(args[0])));
                PortfolioStates states = Files.exists(store)
                        ? PortfolioStates.fromLines(Files.readAllBytes(store))
                        : PortfolioStates.create(customers.size())) {
            if (states.size() != customers.size()) {
                throw new IllegalStateException("the store holds " + states.size() + " states for "
                        + customers.size() + " customers");
            }
            BatchResult result = rules.evaluateBatch(month, customers, aums, states, 2);
            Files.write(Path.of(args[4]), states.toLines());
            System.out.printf("%s: %d customers, %d events, %d alerts, %d rejected%n", month, customers.size(),
                    result.events().size(), result.alerts().size(), result.errors().size());
            for (Event e : result.events()) {
                System.out.printf("  event  %s %-20s %s %s -> %s from %s (AUM %s, %s)%n",
                        customers.get(e.customerIndex()).id(), e.kind(), e.kindZh(),
                        e.fromTier() == null ? "-" : e.fromTier(), e.toTier() == null ? "-" : e.toTier(),
                        e.effectiveFrom(), e.aum().toPlainString(), e.reason());
            }
            for (Alert a : result.alerts()) {
                System.out.printf("  alert  %s %-20s %s tier %s months left %s (AUM %s, gap %s)%n",
                        customers.get(a.customerIndex()).id(), a.kind(), a.kindZh(), a.tier(),
                        a.monthsLeft() == null ? "-" : a.monthsLeft(), a.aum().toPlainString(),
                        a.gap() == null ? "-" : a.gap().toPlainString());
            }
            for (CustomerError e : result.errors()) {
                System.out.printf("  reject %s: %s%n", customers.get(e.index()).id(), e.message());
            }
        }
    }
}
