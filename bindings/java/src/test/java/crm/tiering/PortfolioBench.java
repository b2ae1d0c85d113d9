package crm.tiering;

import java.time.YearMonth;

/**
 * The Java figure of bindings/c/bench_portfolio.sh: the portfolio month on the data of the C
 * program (same ids and amounts), through the fast path: {@link Extract#addTotals} (bulk push,
 * JNA direct mapping, prepared UTF-8 columns, 65,536 customers per call),
 * {@link RuleBook#evaluatePortfolioInto} and the results read as primitive arrays (evaluated
 * indices and AUMs, event customer indices). Each round starts from a new portfolio, runs January
 * (not timed) and times February. Best of 3 rounds, one thread.
 *
 * <p>Usage: {@code PortfolioBench [customers]}. Prints {@code java_portfolio <seconds> <events> <sum>}.
 */
public final class PortfolioBench {
    private static final int CHUNK = 65536;

    private PortfolioBench() {}

    private static long month(RuleBook rules, PortfolioStates s, PortfolioRun run, YearMonth m, int n, byte[] ids,
            long[] offsets, long[] fen, long[] events) {
        try (Extract x = new Extract(rules)) {
            long[] o = new long[CHUNK + 1];
            long[] f = new long[CHUNK];
            for (int start = 0; start < n; start += CHUNK) {
                int c = Math.min(CHUNK, n - start);
                System.arraycopy(offsets, start, o, 0, c + 1);
                System.arraycopy(fen, start, f, 0, c);
                x.addTotals("aum", start, c, ids, o, null, null, null, null, f);
            }
            rules.evaluatePortfolioInto(s, m, x, PortfolioOptions.DEFAULT, run);
        }
        long[] aums = run.evaluatedAumsFen();
        int[] idx = run.evaluatedCustomerIndices();
        int[] ev = run.eventCustomerIndices();
        if (run.errorCount() != 0 || aums.length != n || idx.length != n) {
            throw new IllegalStateException(run.errorCount() + " errors, " + aums.length + " evaluated");
        }
        long sum = 0;
        for (long a : aums) {
            sum += a;
        }
        events[0] = ev.length;
        return sum;
    }

    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        byte[] ids = new byte[n * 10];
        long[] offsets = new long[n + 1];
        long[] jan = new long[n];
        long[] feb = new long[n];
        for (int i = 0; i < n; i++) {
            byte[] id = String.format("%010d", 6_221_000_000L + i).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            System.arraycopy(id, 0, ids, i * 10, 10);
            offsets[i + 1] = (i + 1) * 10L;
            jan[i] = BatchBench.aumFen(i, 0);
            feb[i] = BatchBench.aumFen(i, 1);
        }
        double best = 1e9;
        long[] events = new long[1];
        long sum = 0;
        try (RuleBook rules = RuleBook.defaults(); PortfolioRun run = new PortfolioRun()) {
            for (int round = 0; round < 4; round++) {
                try (PortfolioStates s = PortfolioStates.create()) {
                    month(rules, s, run, YearMonth.of(2024, 1), n, ids, offsets, jan, events);
                    long t = System.nanoTime();
                    sum = month(rules, s, run, YearMonth.of(2024, 2), n, ids, offsets, feb, events);
                    double dt = (System.nanoTime() - t) / 1e9;
                    // Round 0 warms the JIT up and is not counted.
                    System.err.printf("  java portfolio 2024-02: %.3f s%s%n", dt, round == 0 ? " (warm-up)" : "");
                    if (round > 0) {
                        best = Math.min(best, dt);
                    }
                }
            }
        }
        System.out.printf("java_portfolio %.6f %d %d%n", best, events[0], sum);
    }
}
