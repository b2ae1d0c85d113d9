package crm.tiering;

import java.time.YearMonth;
import java.util.ArrayList;
import java.util.List;

/**
 * The Java figure of bindings/c/bench.sh: {@link RuleBook#evaluateBatch} on the data of the C and
 * Rust benchmarks (same generator), three months. The timing covers the whole Java call: building
 * the native columns, the native batch, and reading events, alerts and AUMs back into Java objects.
 *
 * <p>Usage: {@code BatchBench [customers] [threads]}
 */
public final class BatchBench {
    private BatchBench() {}

    static long aumFen(long i, long m) {
        long x = Long.remainderUnsigned((i * 2654435761L) ^ (m * 40503L), 1_000_003L);
        return (x * x) / 250_000L * 100 + i % 100;
    }

    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 1;
        List<Customer> customers = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            customers.add(Customer.personal(String.format("%010d", 6_221_000_000L + i)));
        }
        try (RuleBook rules = RuleBook.defaults(); BatchStates states = BatchStates.create(n)) {
            double secs = 0;
            long events = 0;
            for (int m = 0; m < 3; m++) {
                long[] aums = new long[n];
                for (int i = 0; i < n; i++) {
                    aums[i] = aumFen(i, m);
                }
                long t = System.nanoTime();
                BatchResult r = rules.evaluateBatch(YearMonth.of(2024, m + 1), customers, aums, states, threads);
                double dt = (System.nanoTime() - t) / 1e9;
                System.err.printf("  java month 2024-%02d: %.3f s%n", m + 1, dt);
                secs += dt;
                events += r.events().size();
                if (!r.errors().isEmpty()) {
                    throw new IllegalStateException("errors: " + r.errors().get(0));
                }
            }
            System.out.printf("java  RuleBook.evaluateBatch: %d customers x 3 months in %.3f s = %.0f customer-months/s"
                    + " (%d events)%n", n, secs, n * 3 / secs, events);
        }
    }
}
