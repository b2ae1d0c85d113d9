package crm.tiering;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The Java binding's boundary ("no silent wrong tier, round two: Java is memory-safe at its
 * boundary"): offsets and lengths checked before the native call, strings with a NUL refused,
 * months outside 0001-01..9999-11 refused without int overflow, results emptied after a failed
 * call, and the thread model (serialised calls, close waiting for calls in progress, a 4-thread
 * stress test compared with a single-threaded run). Every case asserts real values: on the binding
 * before these checks, the offsets case and the stress test crash the JVM, and the NUL, month and
 * reset cases fail. Prints each failure and "N passed, N failed"; exits non-zero on failure.
 *
 * <p>Usage: {@code java -Djna.library.path=target/debug -cp ... crm.tiering.BoundaryTests [group...]}
 * (groups: offsets, strings, months, reset, threads, stress; all by default)
 */
public final class BoundaryTests {
    private static int passed;
    private static int failed;
    private static final Queue<String> problems = new ConcurrentLinkedQueue<>();

    private BoundaryTests() {}

    private static void check(boolean ok, String what) {
        if (!ok) {
            problems.add(what);
        }
    }

    interface Case {
        void run() throws Exception;
    }

    private static void run(String name, Case c) {
        problems.clear();
        try {
            c.run();
        } catch (Throwable t) {
            problems.add("threw " + t + "\n" + stack(t));
        }
        if (problems.isEmpty()) {
            passed++;
            System.out.println("ok   " + name);
        } else {
            failed++;
            int shown = 0;
            for (String p : problems) {
                if (shown++ < 40) {
                    System.err.println("FAIL [" + name + "] " + p);
                }
            }
            if (shown > 40) {
                System.err.println("FAIL [" + name + "] ... and " + (shown - 40) + " more");
            }
        }
    }

    private static String stack(Throwable t) {
        java.io.StringWriter w = new java.io.StringWriter();
        t.printStackTrace(new java.io.PrintWriter(w));
        return w.toString();
    }

    /** Runs {@code r}, which must throw {@code type} with a message holding each of {@code words}. */
    private static <T extends Throwable> T expect(Class<T> type, String what, Case r, String... words) {
        try {
            r.run();
            problems.add(what + ": no exception (expected " + type.getSimpleName() + ")");
            return null;
        } catch (Throwable t) {
            if (!type.isInstance(t)) {
                problems.add(what + ": threw " + t + ", expected " + type.getSimpleName() + "\n" + stack(t));
                return null;
            }
            String m = String.valueOf(t.getMessage());
            for (String w : words) {
                check(m.contains(w), what + ": message does not name `" + w + "`: " + m);
            }
            return type.cast(t);
        }
    }

    // ---- data: n customers, month k (0 = 2024-01) ------------------------------------------------

    private static final YearMonth JAN = YearMonth.of(2024, 1);
    private static final YearMonth FEB = YearMonth.of(2024, 2);

    private static String id(int i) {
        return String.format("s%05d", i);
    }

    private static YearMonth month(int k) {
        return JAN.plusMonths(k);
    }

    /** Customer i's AUM in month k, in fen: spread over every tier, changing month to month. */
    private static long fen(int i, int k) {
        return ((i * 7919L + k * 104729L + (long) i * k * 31L) % 4_000_000L) * 100 + i % 100;
    }

    /** Records {@code from} to {@code to - 1} of month k as the bulk columns (and as strings). */
    private static final class Chunk {
        final int from;
        final int count;
        final byte[] ids;
        final long[] offsets;
        final String[] idStrings;
        final long[] fen;

        Chunk(int from, int to, int k) {
            this.from = from;
            this.count = to - from;
            idStrings = new String[count];
            offsets = new long[count + 1];
            fen = new long[count];
            StringBuilder all = new StringBuilder();
            for (int j = 0; j < count; j++) {
                idStrings[j] = id(from + j);
                all.append(idStrings[j]);
                offsets[j + 1] = all.length();
                fen[j] = BoundaryTests.fen(from + j, k);
            }
            ids = all.toString().getBytes(StandardCharsets.US_ASCII);
        }

        void addBytes(Extract x) {
            x.addTotals("aum", from, count, ids, offsets, null, null, null, null, fen);
        }

        void addStrings(Extract x) {
            x.addTotals("aum", from, idStrings, null, null, null, fen);
        }
    }

    /** States after January: customers 0 to n - 1, all known. */
    private static PortfolioStates january(RuleBook rb, int n) {
        PortfolioStates s = PortfolioStates.create();
        try (Extract x = new Extract(rb); PortfolioRun run = new PortfolioRun()) {
            new Chunk(0, n, 0).addBytes(x);
            rb.evaluatePortfolioInto(s, JAN, x, PortfolioOptions.DEFAULT, run);
            if (run.evaluatedCount() != n || run.errorCount() != 0) {
                throw new IllegalStateException("january: " + run.evaluatedCount() + " evaluated, " + run.errors());
            }
        }
        return s;
    }

    // ---- 1. offsets and lengths -------------------------------------------------------------------

    static void offsetsAndLengths() {
        run("bulk offsets and lengths are checked in Java before the native call", () -> {
            try (RuleBook rb = RuleBook.defaults(); PortfolioStates s = january(rb, 4); Extract x = new Extract(rb);
                    PortfolioRun run = new PortfolioRun()) {
                byte[] ids = "s00000s00001".getBytes(StandardCharsets.US_ASCII);
                long[] fen = {30_000_000L, 70_000_000L};
                // An offset beyond 2^32: the old (int) cast made it 2 and the library read 4 GiB past the array.
                IndexOutOfBoundsException e = expect(IndexOutOfBoundsException.class, "offset 2^32 + 12",
                        () -> x.addTotals("aum", 0, 2, ids, new long[] {0, 6, (1L << 32) + 12}, null, null, null,
                                null, fen), "idOffsets[2]", "4294967308", "ids");
                check(e != null, "offset 2^32");
                expect(IndexOutOfBoundsException.class, "offset past the ids",
                        () -> x.addTotals("aum", 0, 2, ids, new long[] {0, 6, 13}, null, null, null, null, fen),
                        "idOffsets[2]", "13");
                expect(IndexOutOfBoundsException.class, "negative first offset",
                        () -> x.addTotals("aum", 0, 2, ids, new long[] {-6, 0, 6}, null, null, null, null, fen),
                        "idOffsets[0]", "-6");
                expect(IndexOutOfBoundsException.class, "Long.MIN_VALUE offset",
                        () -> x.addTotals("aum", 0, 1, ids, new long[] {Long.MIN_VALUE, 6}, null, null, null, null,
                                fen), "idOffsets[0]");
                expect(IndexOutOfBoundsException.class, "offsets shorter than count + 1",
                        () -> x.addTotals("aum", 0, 2, ids, new long[] {0, 6}, null, null, null, null, fen),
                        "idOffsets", "3 needed");
                expect(IndexOutOfBoundsException.class, "no offsets at all",
                        () -> x.addTotals("aum", 0, 0, ids, new long[0], null, null, null, null, fen), "idOffsets");
                expect(IndexOutOfBoundsException.class, "count beyond the amounts",
                        () -> x.addTotals("aum", 0, 3, ids, new long[] {0, 6, 12, 12}, null, null, null, null, fen),
                        "fen", "3");
                expect(IndexOutOfBoundsException.class, "kinds shorter than count",
                        () -> x.addTotals("aum", 0, 2, ids, new long[] {0, 6, 12}, null, null, new byte[1], null,
                                fen), "kinds");
                expect(IndexOutOfBoundsException.class, "months shorter than count",
                        () -> x.addTotals("aum", 0, 2, ids, new long[] {0, 6, 12}, null, null, null, new int[1],
                                fen), "months");
                byte[] le = "0101".getBytes(StandardCharsets.US_ASCII);
                expect(IllegalArgumentException.class, "legal entities without offsets",
                        () -> x.addTotals("aum", 0, 2, ids, new long[] {0, 6, 12}, le, null, null, null, fen),
                        "legalEntityOffsets");
                expect(IndexOutOfBoundsException.class, "legal entity offset beyond 2^31",
                        () -> x.addTotals("aum", 0, 2, ids, new long[] {0, 6, 12}, le,
                                new long[] {0, 4, (1L << 31) + 4}, null, null, fen), "legalEntityOffsets[2]");
                TieringException.Argument dec = expect(TieringException.Argument.class, "decreasing offsets",
                        () -> x.addTotals("aum", 0, 2, ids, new long[] {0, 12, 6}, null, null, null, null, fen),
                        "idOffsets", "index 2");
                check(dec == null || "id_offsets".equals(dec.field()), "decreasing: field " + (dec == null ? null
                        : dec.field()));
                expect(IllegalArgumentException.class, "negative count",
                        () -> x.addTotals("aum", 0, -1, ids, new long[] {0}, null, null, null, null, fen), "count");
                expect(IllegalArgumentException.class, "negative first row",
                        () -> x.addTotals("aum", -1, 2, ids, new long[] {0, 6, 12}, null, null, null, null, fen),
                        "firstRow");
                expect(IllegalArgumentException.class, "first row + count past Long.MAX_VALUE",
                        () -> x.addTotals("aum", Long.MAX_VALUE - 1, 2, ids, new long[] {0, 6, 12}, null, null, null,
                                null, fen), "firstRow", "count");
                expect(IndexOutOfBoundsException.class, "string form: legal entities shorter than ids",
                        () -> x.addTotals("aum", 0, new String[] {"s00000", "s00001"}, new String[] {"0101"}, null,
                                null, fen), "legalEntities");
                expect(IllegalArgumentException.class, "negative row", () -> x.addTotal("aum", -3, "s00000", null,
                        null, FEB, BigDecimal.ONE), "row", "-3");
                expect(IllegalArgumentException.class, "negative designation months",
                        () -> x.grant("d", 0, "s00000", FEB, null, -1), "months");
                // Nothing of the refused calls was added: one good chunk (longer arrays: only `count` read).
                x.addTotals("aum", 10, 1, ids, new long[] {0, 6, 12, 99}, null, null, new byte[] {-1, 5, 5},
                        new int[] {0, 7, 7}, new long[] {30_000_000L, 1, 1});
                rb.evaluatePortfolioInto(s, FEB, x, new PortfolioOptions(PortfolioOptions.Absent.HOLD, false, 1),
                        run);
                check(run.evaluatedCount() == 1 && run.errorCount() == 0, "one record: " + run.evaluatedCount()
                        + " evaluated, errors " + run.errors());
                check(Arrays.equals(run.evaluatedAumsFen(), new long[] {30_000_000L}), "its amount "
                        + Arrays.toString(run.evaluatedAumsFen()));
                check(run.evaluatedCount() == 1 && "s00000".equals(run.customerId(run.evaluatedCustomerIndices()[0])),
                        "its customer");
            }
        });
        run("batch arguments are checked in Java", () -> {
            expect(IllegalArgumentException.class, "negative batch size", () -> BatchStates.create(-1), "count");
            try (RuleBook rb = RuleBook.defaults(); BatchStates b = BatchStates.create(2)) {
                List<Customer> two = List.of(Customer.personal("b1"), Customer.personal("b2"));
                expect(IllegalArgumentException.class, "negative threads",
                        () -> rb.evaluateBatch(JAN, two, new long[2], b, -1), "threads");
                expect(IllegalArgumentException.class, "amounts for another count",
                        () -> rb.evaluateBatch(JAN, two, new long[3], b, 1), "aumFen", "3");
                expect(IllegalArgumentException.class, "matrix of another size",
                        () -> rb.evaluateBatch(JAN, two, List.of("time_deposit"), new long[3], b, 1), "averagesFen");
                expect(IndexOutOfBoundsException.class, "state -1", () -> b.get(-1));
                expect(IndexOutOfBoundsException.class, "state 2 of 2", () -> b.get(2));
                BatchResult r = rb.evaluateBatch(JAN, two, new long[] {30_000_000L, 1}, b, 0);
                check(r.events().size() == 1 && "gold".equals(r.events().get(0).toTier()), "batch " + r.events());
                check("gold".equals(b.get(0).tier()) && b.get(1).tier() == null, "states after the batch");
            }
        });
    }

    // ---- 2. strings with a NUL ----------------------------------------------------------------

    static void nulStrings() {
        run("strings with a NUL are refused before they become C strings", () -> {
            try (RuleBook rb = RuleBook.defaults(); PortfolioStates s = january(rb, 3); Extract x = new Extract(rb);
                    PortfolioRun run = new PortfolioRun()) {
                String bad = "s00001\u0000other";
                // Before: recorded as s00001, then evaluated at this amount as if it were s00001's.
                expect(IllegalArgumentException.class, "id", () -> x.addTotal("aum", 0, bad, null, null, FEB,
                        new BigDecimal("5000000")), "customerId", "NUL", "index 6");
                expect(IllegalArgumentException.class, "legal entity", () -> x.addTotal("aum", 0, "s00001",
                        "0101\u0000x", null, FEB, BigDecimal.ONE), "legalEntity", "NUL");
                expect(IllegalArgumentException.class, "table", () -> x.addTotal("aum\u0000", 0, "s00001", null,
                        null, FEB, BigDecimal.ONE), "table", "NUL");
                expect(IllegalArgumentException.class, "tier", () -> x.grant("d", 0, "s00001", FEB, "diamond\u0000",
                        0), "tier", "NUL");
                expect(IllegalArgumentException.class, "grant id", () -> x.grant("d", 0, bad, FEB, null, 0),
                        "customerId");
                expect(IllegalArgumentException.class, "revoke id", () -> x.revoke("d", 0, bad, FEB), "customerId");
                expect(IllegalArgumentException.class, "bulk table name", () -> x.addTotals("aum\u0000x", 0,
                        new String[] {"s00001"}, null, null, null, new long[] {1}), "table");
                expect(IllegalArgumentException.class, "header", () -> x.addTable("aum", Extract.TableKind.AUM,
                        List.of("customer_id", "aum\u0000"), List.of(List.of("s00001", "1"))), "header[1]", "NUL");
                expect(IllegalArgumentException.class, "a cell of the second row (nothing added)",
                        () -> x.addTable("aum", Extract.TableKind.AUM, List.of("customer_id", "aum"),
                                List.of(List.of("s00002", "9000000"), List.of(bad, "9000000"))), "rows[1][0]");
                expect(IllegalArgumentException.class, "a lone surrogate (would be `s0000?`)",
                        () -> x.addTotal("aum", 0, "s0000\uD800", null, null, FEB, BigDecimal.ONE), "customerId",
                        "surrogate");
                expect(IllegalArgumentException.class, "lone surrogate in the bulk strings",
                        () -> x.addTotals("aum", 0, new String[] {"s00001", "客户\uDC00"}, null, null, null,
                                new long[] {1, 2}), "ids[1]", "surrogate");
                // Nothing was recorded: the month has no AUM record at all, so it is refused as empty.
                expect(TieringException.Refused.class, "nothing was recorded",
                        () -> rb.evaluatePortfolioInto(s, FEB, x,
                                new PortfolioOptions(PortfolioOptions.Absent.HOLD, false, 1), run), "no AUM record");
                check(run.evaluatedCount() == 0, "records were added: " + run.evaluatedCount() + " evaluated");
                check(JAN.equals(s.get("s00001").orElseThrow().lastMonth()), "s00001 moved on");

                // Reads by id: before, get("s00001\0other") found s00001.
                expect(IllegalArgumentException.class, "get", () -> s.get(bad), "id", "NUL");
                expect(IllegalArgumentException.class, "customer", () -> s.customer(bad), "id", "NUL");
                expect(IllegalArgumentException.class, "put", () -> s.put(new Customer("s00009\u0000", null,
                        Customer.Kind.PERSONAL), CustomerState.NEW), "customer.id", "NUL");
                expect(IllegalArgumentException.class, "put legal entity", () -> s.put(new Customer("s00009",
                        "01\u000001", Customer.Kind.PERSONAL), CustomerState.NEW), "customer.legalEntity");
                check(s.size() == 3 && s.get("s00009").isEmpty(), "put added a customer");

                // One customer's month and the batch.
                expect(IllegalArgumentException.class, "evaluate", () -> rb.evaluate(Customer.personal(bad),
                        CustomerState.NEW, JAN, BigDecimal.TEN), "customer.id", "NUL");
                expect(IllegalArgumentException.class, "evaluate legal entity", () -> rb.evaluate(new Customer("c1",
                        "0101\u0000", Customer.Kind.PERSONAL), CustomerState.NEW, JAN, BigDecimal.TEN),
                        "customer.legalEntity");
                try (BatchStates b = BatchStates.create(1)) {
                    expect(IllegalArgumentException.class, "component code",
                            () -> rb.evaluateBatch(JAN, List.of(Customer.personal("b1")),
                                    List.of("time_deposit\u0000x"), new long[] {1}, b, 1), "components[0]", "NUL");
                    expect(IllegalArgumentException.class, "batch id", () -> rb.evaluateBatch(JAN,
                            List.of(Customer.personal(bad)), new long[] {1}, b, 1), "customers[0].id", "NUL");
                    expect(IllegalArgumentException.class, "batch legal entity", () -> rb.evaluateBatch(JAN,
                            List.of(new Customer("b1", "0101\u0000", Customer.Kind.PERSONAL)), new long[] {1}, b, 1),
                            "customers[0].legalEntity", "NUL");
                    check(b.get(0).lastMonth() == null, "batch evaluated");
                }
            }
        });
        run("the bulk path refuses an id with a NUL as an unidentifiable customer", () -> {
            try (RuleBook rb = RuleBook.defaults(); PortfolioStates s = january(rb, 3); Extract x = new Extract(rb);
                    PortfolioRun run = new PortfolioRun()) {
                byte[] before = s.toText(rb);
                x.addTotals("aum", 0, new String[] {"s00000", "s00001\u0000other"}, null, null, null,
                        new long[] {1, 500_000_000L});
                TieringException.Refused e = expect(TieringException.Refused.class, "run",
                        () -> rb.evaluatePortfolioInto(s, FEB, x, PortfolioOptions.DEFAULT, run));
                check(e != null && e.errors().size() == 1 && e.errors().get(0).recordRow() == 1
                        && "customer_id".equals(e.errors().get(0).field()), "refusal names row 1: "
                        + (e == null ? null : e.errors()));
                check(Arrays.equals(before, s.toText(rb)), "states changed");
            }
        });
    }

    // ---- 3. months --------------------------------------------------------------------------------

    static void months() {
        run("months outside 0001-01..9999-11 are refused without int overflow", () -> {
            YearMonth overflow = YearMonth.of(42951697, 1); // 42951697 * 100 + 1 wraps to 202405
            check(overflow.getYear() * 100 + overflow.getMonthValue() == 202405, "the overflow itself");
            try (RuleBook rb = RuleBook.defaults()) {
                Customer c = Customer.personal("m1");
                for (YearMonth m : List.of(overflow, YearMonth.of(-42951697, 5), YearMonth.of(0, 1),
                        YearMonth.of(-1, 12), YearMonth.of(10000, 1), YearMonth.of(9999, 12),
                        YearMonth.of(999_999_999, 12), YearMonth.of(-999_999_999, 1))) {
                    TieringException.Argument e = expect(TieringException.Argument.class, "evaluate " + m,
                            () -> rb.evaluate(c, CustomerState.NEW, m, new BigDecimal("250000")), "month", "0001-01",
                            "9999-11");
                    check(e == null || (e.code() == 4 && "month".equals(e.field())), m + ": code/field "
                            + (e == null ? null : e.code() + " " + e.field()));
                }
                // The ends: 9999-11 is evaluated; before 1900-01 the library refuses, as the usual exception.
                MonthResult last = rb.evaluate(c, CustomerState.NEW, YearMonth.of(9999, 11), new BigDecimal("250000"));
                check(YearMonth.of(9999, 11).equals(last.state().lastMonth()) && "gold".equals(last.state().tier()),
                        "9999-11: " + last.state());
                for (YearMonth m : List.of(YearMonth.of(1899, 12), YearMonth.of(1, 1))) {
                    TieringException.Argument e = expect(TieringException.Argument.class, "library refuses " + m,
                            () -> rb.evaluate(c, CustomerState.NEW, m, BigDecimal.ONE), "month");
                    check(e == null || (e.code() == 4 && "CRMT_INVALID_MONTH".equals(e.codeName())
                            && "month".equals(e.field())), m + ": " + (e == null ? null : e.codeName()));
                }
                try (PortfolioStates s = january(rb, 3); Extract x = new Extract(rb);
                        PortfolioRun run = new PortfolioRun()) {
                    byte[] before = s.toText(rb);
                    new Chunk(0, 3, 4).addBytes(x);
                    expect(TieringException.Argument.class, "portfolio first", () -> rb.evaluatePortfolio(s,
                            overflow, x, PortfolioOptions.DEFAULT), "`first`");
                    expect(TieringException.Argument.class, "portfolio last", () -> rb.evaluatePortfolio(s, FEB,
                            overflow, x, PortfolioOptions.DEFAULT), "`last`");
                    expect(TieringException.Argument.class, "portfolio into", () -> rb.evaluatePortfolioInto(s,
                            overflow, x, PortfolioOptions.DEFAULT, run), "month");
                    expect(TieringException.Argument.class, "portfolio 1899-12 (library)",
                            () -> rb.evaluatePortfolioInto(s, YearMonth.of(1899, 12), x, PortfolioOptions.DEFAULT,
                                    run), "month");
                    check(Arrays.equals(before, s.toText(rb)), "states changed by a refused month");
                    expect(TieringException.Argument.class, "record month", () -> x.addTotal("aum", 9, "s00001",
                            null, null, overflow, BigDecimal.ONE), "month");
                    expect(TieringException.Argument.class, "grant month", () -> x.grant("d", 0, "s00001",
                            YearMonth.of(99999, 1), null, 0), "month");
                    try (BatchStates b = BatchStates.create(1)) {
                        expect(TieringException.Argument.class, "batch month", () -> rb.evaluateBatch(overflow,
                                List.of(Customer.personal("b1")), new long[] {1}, b, 1), "month");
                    }
                    // 2024-05 itself (what the overflow mapped onto) is evaluated with the records pushed above.
                    rb.evaluatePortfolioInto(s, FEB, x, PortfolioOptions.DEFAULT, run);
                    check(run.evaluatedCount() == 3, "feb evaluated " + run.evaluatedCount() + " " + run.errors());
                }
            }
        });
    }

    // ---- 5. results reset after a failed call ----------------------------------------------------

    static void resetAfterFailure() {
        run("a PortfolioRun shows nothing of the previous run after a failed one", () -> {
            try (RuleBook rb = RuleBook.defaults(); PortfolioStates s = january(rb, 40);
                    PortfolioRun run = new PortfolioRun()) {
                Extract good = new Extract(rb);
                new Chunk(0, 40, 1).addBytes(good);
                good.addTotal("aum", 99, "s00003", null, null, YearMonth.of(2024, 9), BigDecimal.ONE); // held
                rb.evaluatePortfolioInto(s, FEB, good, PortfolioOptions.DEFAULT, run);
                check(run.evaluatedCount() == 39 && run.eventCount() > 0 && run.errorCount() == 1, "full run: "
                        + run.evaluatedCount() + " evaluated, " + run.eventCount() + " events, " + run.errorCount()
                        + " errors");
                List<Case> failures = List.of(
                        // refused in Java: a month, a closed extract, null options
                        () -> rb.evaluatePortfolioInto(s, YearMonth.of(42951697, 3), good, PortfolioOptions.DEFAULT,
                                run),
                        () -> {
                            Extract closed = new Extract(rb);
                            closed.close();
                            rb.evaluatePortfolioInto(s, month(2), closed, PortfolioOptions.DEFAULT, run);
                        },
                        () -> rb.evaluatePortfolioInto(s, month(2), good, null, run),
                        // refused by the library: a month before 1900, a range backwards
                        () -> rb.evaluatePortfolioInto(s, YearMonth.of(1899, 1), good, PortfolioOptions.DEFAULT, run),
                        () -> rb.evaluatePortfolioInto(s, month(3), month(2), good, PortfolioOptions.DEFAULT, run));
                int k = 0;
                for (Case f : failures) {
                    // Fill it again, then fail.
                    try (PortfolioStates again = january(rb, 40); Extract x = new Extract(rb)) {
                        new Chunk(0, 40, 1).addBytes(x);
                        rb.evaluatePortfolioInto(again, FEB, x, PortfolioOptions.DEFAULT, run);
                        check(run.eventCount() > 0, "refilled");
                    }
                    try {
                        f.run();
                        check(false, "failure " + k + " went through");
                    } catch (TieringException | IllegalStateException | NullPointerException e) {
                        check(!(e instanceof TieringException.Refused), "failure " + k + " refused: " + e);
                    }
                    check(run.evaluatedCount() == 0 && run.eventCount() == 0 && run.alertCount() == 0
                            && run.errorCount() == 0, "failure " + k + ": counts " + run.evaluatedCount() + "/"
                            + run.eventCount() + "/" + run.alertCount() + "/" + run.errorCount());
                    check(run.evaluatedAumsFen().length == 0 && run.evaluatedCustomerIndices().length == 0
                            && run.eventCustomerIndices().length == 0 && run.errors().isEmpty(),
                            "failure " + k + ": columns not empty");
                    expect(IndexOutOfBoundsException.class, "failure " + k + ": event(0)", () -> run.event(0));
                    expect(IllegalStateException.class, "failure " + k + ": customerId", () -> run.customerId(0),
                            "no results");
                    k++;
                }
                // A run refused as a whole shows its reasons and nothing else.
                try (PortfolioStates again = january(rb, 40); Extract x = new Extract(rb); Extract bad = new Extract(rb)) {
                    new Chunk(0, 40, 1).addBytes(x);
                    rb.evaluatePortfolioInto(again, FEB, x, PortfolioOptions.DEFAULT, run);
                    bad.addTotals("aum", 0, new String[] {"s00001", " s2", ""}, null, null, null, new long[] {1, 2, 3});
                    TieringException.Refused e = expect(TieringException.Refused.class, "refused",
                            () -> rb.evaluatePortfolioInto(again, month(2), bad, PortfolioOptions.DEFAULT, run));
                    check(run.evaluatedCount() == 0 && run.eventCount() == 0 && run.alertCount() == 0
                            && run.errorCount() == 2, "refused: counts " + run.evaluatedCount() + "/"
                            + run.eventCount() + "/" + run.errorCount());
                    check(e != null && run.errors().equals(e.errors()), "refused: the reasons");
                }
                // And the next good run is whole again, as the list path gives it.
                try (PortfolioStates a = january(rb, 40); PortfolioStates b = january(rb, 40);
                        Extract xa = new Extract(rb); Extract xb = new Extract(rb)) {
                    new Chunk(0, 40, 1).addBytes(xa);
                    new Chunk(0, 40, 1).addBytes(xb);
                    rb.evaluatePortfolioInto(a, FEB, xa, PortfolioOptions.DEFAULT, run);
                    PortfolioResult list = rb.evaluatePortfolio(b, FEB, xb, PortfolioOptions.DEFAULT);
                    check(run.evaluatedCount() == 40 && run.eventCount() == list.events().size(), "good run again");
                    for (int e = 0; e < run.eventCount(); e++) {
                        check(run.event(e).equals(list.events().get(e).event()), "event " + e);
                    }
                }
                good.close();
            }
        });
    }

    // ---- 4. thread model --------------------------------------------------------------------------

    private static void await(Thread t, long millis) throws InterruptedException {
        t.join(millis);
    }

    static void threadModel() {
        run("a call from another thread waits for the call in progress (serialised, not refused)", () -> {
            try (RuleBook rb = RuleBook.defaults(); PortfolioStates s = january(rb, 5)) {
                NativeHandle h = s.nativeHandle();
                h.enter(); // this thread is "in a call"
                int[] size = {-1};
                Thread reader = new Thread(() -> size[0] = s.size());
                try {
                    reader.start();
                    await(reader, 300);
                    check(reader.isAlive() && size[0] == -1, "the read did not wait");
                } finally {
                    h.exit();
                }
                await(reader, 10_000);
                check(!reader.isAlive() && size[0] == 5, "the read after the call: " + size[0]);
            }
        });
        run("close waits for the call in progress, then every call throws IllegalStateException", () -> {
            try (RuleBook rb = RuleBook.defaults()) {
                PortfolioStates s = january(rb, 5);
                Extract x = new Extract(rb);
                PortfolioRun run = new PortfolioRun();
                BatchStates b = BatchStates.create(1);
                RuleBook book = RuleBook.defaults();
                List<AutoCloseable> all = List.of(s, x, run, b, book);
                List<NativeHandle> handles = List.of(s.nativeHandle(), x.nativeHandle(), run.nativeHandle(),
                        b.nativeHandle(), book.nativeHandle());
                for (int k = 0; k < all.size(); k++) {
                    AutoCloseable o = all.get(k);
                    NativeHandle h = handles.get(k);
                    h.enter();
                    Thread closer = new Thread(() -> {
                        try {
                            o.close();
                        } catch (Exception e) {
                            problems.add("close threw " + e);
                        }
                    });
                    try {
                        closer.start();
                        await(closer, 300);
                        check(closer.isAlive(), o.getClass().getSimpleName() + ": close did not wait");
                    } finally {
                        h.exit();
                    }
                    await(closer, 10_000);
                    check(!closer.isAlive(), o.getClass().getSimpleName() + ": close did not return");
                }
                // Every call after close: IllegalStateException, never a crash.
                List<Case> calls = List.of(s::size, s::ids, () -> s.get("s00001"), () -> s.toText(rb), s::toJson,
                        s::ruleBook, () -> s.put(Customer.personal("z"), CustomerState.NEW),
                        () -> x.addTotal("aum", 0, "s00001", null, null, FEB, BigDecimal.ONE),
                        () -> x.addTotals("aum", 0, new String[] {"a"}, null, null, null, new long[] {1}),
                        () -> x.grant("d", 0, "a", FEB, null, 0), () -> x.revoke("d", 0, "a", FEB),
                        () -> x.addTable("aum", Extract.TableKind.AUM, List.of("customer_id", "aum"), List.of()),
                        run::evaluatedCount, run::evaluatedAumsFen, run::eventCount, run::errors, () -> run.event(0),
                        () -> run.customerId(0), b::size, () -> b.get(0),
                        () -> book.evaluate(Customer.personal("c"), CustomerState.NEW, JAN, BigDecimal.ONE),
                        book::fingerprint, book::withMissingMonthsAsZero, () -> new Extract(book),
                        () -> rb.evaluateBatch(JAN, List.of(Customer.personal("b")), new long[] {1}, b, 1));
                for (int k = 0; k < calls.size(); k++) {
                    expect(IllegalStateException.class, "call " + k + " after close", calls.get(k), "closed");
                }
                try (PortfolioStates open = january(rb, 2); Extract xo = new Extract(rb);
                        PortfolioRun ro = new PortfolioRun()) {
                    expect(IllegalStateException.class, "closed run", () -> rb.evaluatePortfolioInto(open, FEB, xo,
                            PortfolioOptions.DEFAULT, run), "portfolio run is closed");
                    expect(IllegalStateException.class, "closed states", () -> rb.evaluatePortfolioInto(s, FEB, xo,
                            PortfolioOptions.DEFAULT, ro), "portfolio states are closed");
                    expect(IllegalStateException.class, "closed rule book", () -> book.evaluatePortfolio(open, FEB,
                            xo, PortfolioOptions.DEFAULT), "rule book is closed");
                    check(open.size() == 2, "a refused call left a lock behind");
                }
                // Closing again, from several threads at once, does nothing.
                Thread[] closers = new Thread[4];
                for (int t = 0; t < 4; t++) {
                    closers[t] = new Thread(() -> all.forEach(o -> {
                        try {
                            o.close();
                        } catch (Exception e) {
                            problems.add("second close threw " + e);
                        }
                    }));
                    closers[t].start();
                }
                for (Thread t : closers) {
                    await(t, 10_000);
                }
            }
        });
        run("4 threads close one object at once: freed once, calls in progress finish", () -> {
            try (RuleBook rb = RuleBook.defaults()) {
                for (int round = 0; round < 20; round++) {
                    PortfolioStates s = january(rb, 200);
                    CountDownLatch go = new CountDownLatch(1);
                    AtomicInteger reads = new AtomicInteger();
                    Thread[] threads = new Thread[4];
                    for (int t = 0; t < 4; t++) {
                        int k = t;
                        threads[t] = new Thread(() -> {
                            try {
                                go.await();
                                if (k % 2 == 0) {
                                    s.close();
                                } else {
                                    for (int i = 0; i < 1000; i++) {
                                        check(s.ids().size() == 200, "ids");
                                        reads.incrementAndGet();
                                    }
                                }
                            } catch (IllegalStateException closed) {
                                check(closed.getMessage().contains("closed"), "message " + closed.getMessage());
                            } catch (Throwable e) {
                                problems.add("thread " + k + " threw " + e);
                            }
                        });
                        threads[t].start();
                    }
                    go.countDown();
                    for (Thread t : threads) {
                        await(t, 30_000);
                        check(!t.isAlive(), "a thread hangs");
                    }
                    expect(IllegalStateException.class, "after close", s::size);
                }
            }
        });
        run("a rule book shared by 4 evaluating threads and closed under them", () -> {
            RuleBook rb = RuleBook.defaults();
            // Single-threaded reference: four customers, twelve months each.
            String[][] want = new String[4][12];
            for (int t = 0; t < 4; t++) {
                CustomerState st = CustomerState.NEW;
                for (int m = 0; m < 12; m++) {
                    st = rb.evaluate(Customer.personal("r" + t), st, month(m), BigDecimal.valueOf(fen(t, m), 2)).state();
                    want[t][m] = st.toJson();
                }
            }
            AtomicInteger evaluated = new AtomicInteger();
            AtomicInteger refused = new AtomicInteger();
            Thread[] threads = new Thread[4];
            for (int t = 0; t < 4; t++) {
                int k = t;
                threads[t] = new Thread(() -> {
                    boolean closed = false;
                    while (!closed) {
                        CustomerState st = CustomerState.NEW;
                        for (int m = 0; m < 12 && !closed; m++) {
                            try {
                                st = rb.evaluate(Customer.personal("r" + k), st, month(m),
                                        BigDecimal.valueOf(fen(k, m), 2)).state();
                                check(want[k][m].equals(st.toJson()), "thread " + k + " month " + m + ": " + st);
                                evaluated.incrementAndGet();
                            } catch (IllegalStateException e) {
                                closed = true;
                                refused.incrementAndGet();
                            } catch (Throwable e) {
                                problems.add("thread " + k + " threw " + e);
                                closed = true;
                            }
                        }
                    }
                });
                threads[t].start();
            }
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (evaluated.get() < 40 && System.nanoTime() < until) {
                Thread.sleep(1);
            }
            rb.close();
            for (Thread t : threads) {
                await(t, 30_000);
                check(!t.isAlive(), "an evaluating thread hangs");
            }
            check(evaluated.get() > 0 && refused.get() == 4, evaluated.get() + " evaluated, " + refused.get()
                    + " threads stopped by the close");
        });
        run("a BatchStates shared by a batch thread and readers", () -> {
            int n = 300;
            List<Customer> customers = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                customers.add(Customer.personal(id(i)));
            }
            try (RuleBook rb = RuleBook.defaults(); BatchStates ref = BatchStates.create(n);
                    BatchStates shared = BatchStates.create(n)) {
                List<List<Event>> wantEvents = new ArrayList<>();
                for (int m = 0; m < 6; m++) {
                    wantEvents.add(rb.evaluateBatch(month(m), customers, monthFen(n, m), ref, 1).events());
                }
                CountDownLatch done = new CountDownLatch(1);
                Thread batch = new Thread(() -> {
                    try {
                        for (int m = 0; m < 6; m++) {
                            BatchResult r = rb.evaluateBatch(month(m), customers, monthFen(n, m), shared, 1 + m % 2);
                            check(r.events().equals(wantEvents.get(m)) && r.errors().isEmpty(), "month " + m);
                        }
                    } catch (Throwable e) {
                        problems.add("batch thread threw " + e);
                    } finally {
                        done.countDown();
                    }
                });
                List<Thread> readers = new ArrayList<>();
                for (int t = 0; t < 3; t++) {
                    Thread r = new Thread(() -> {
                        try {
                            while (done.getCount() > 0) {
                                int i = ThreadLocalRandom.current().nextInt(n);
                                CustomerState st = shared.get(i);
                                check(shared.size() == n && (st.lastMonth() == null
                                        || !st.lastMonth().isAfter(month(5))), "read " + i + ": " + st);
                            }
                        } catch (Throwable e) {
                            problems.add("reader threw " + e);
                        }
                    });
                    readers.add(r);
                }
                batch.start();
                readers.forEach(Thread::start);
                await(batch, 60_000);
                for (Thread r : readers) {
                    await(r, 10_000);
                }
                for (int i = 0; i < n; i++) {
                    check(shared.get(i).equals(ref.get(i)), "state " + i + " differs from the single-threaded run");
                }
            }
        });
    }

    private static long[] monthFen(int n, int k) {
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            out[i] = fen(i, k);
        }
        return out;
    }

    // ---- 6. the 4-thread stress test --------------------------------------------------------------

    /** What a single thread gets, month by month (k = 1..MONTHS after January). */
    private static final class Reference {
        final long[][] aums = new long[STRESS_MONTHS + 1][];
        final int[][] eventIndices = new int[STRESS_MONTHS + 1][];
        final List<List<Event>> events = new ArrayList<>();
        final String[] json = new String[STRESS_MONTHS + 1];
        final byte[][] text = new byte[STRESS_MONTHS + 1][];
        final String[][] state = new String[STRESS_MONTHS + 1][];
        List<String> ids;
    }

    private static final int STRESS_N = 3000;
    private static final int STRESS_MONTHS = 7; // 2024-02 .. 2024-08; the last one meets the concurrent close
    private static final int CHUNK = 150;

    private static Reference reference(RuleBook rb) {
        Reference ref = new Reference();
        try (PortfolioStates s = january(rb, STRESS_N); PortfolioRun run = new PortfolioRun()) {
            ref.ids = s.ids();
            ref.events.add(List.of());
            ref.text[0] = s.toText(rb);
            ref.json[0] = s.toJson();
            ref.state[0] = states(s);
            for (int k = 1; k <= STRESS_MONTHS; k++) {
                try (Extract x = new Extract(rb)) {
                    new Chunk(0, STRESS_N, k).addBytes(x);
                    rb.evaluatePortfolioInto(s, month(k), x, PortfolioOptions.DEFAULT, run);
                }
                ref.aums[k] = run.evaluatedAumsFen();
                ref.eventIndices[k] = run.eventCustomerIndices();
                List<Event> ev = new ArrayList<>();
                for (int e = 0; e < run.eventCount(); e++) {
                    ev.add(run.event(e));
                }
                ref.events.add(ev);
                ref.text[k] = s.toText(rb);
                ref.json[k] = s.toJson();
                ref.state[k] = states(s);
                if (run.errorCount() != 0 || ref.aums[k].length != STRESS_N || ev.isEmpty()) {
                    throw new IllegalStateException("reference month " + k + ": " + run.errors());
                }
            }
        }
        return ref;
    }

    private static String[] states(PortfolioStates s) {
        String[] out = new String[STRESS_N];
        for (int i = 0; i < STRESS_N; i++) {
            out[i] = s.get(id(i)).orElseThrow().toJson();
        }
        return out;
    }

    /** The chunks of month k for adder {@code a} (0 or 1): alternate chunks. */
    private static List<Chunk> chunks(int k, int a) {
        List<Chunk> out = new ArrayList<>();
        for (int from = a * CHUNK; from < STRESS_N; from += 2 * CHUNK) {
            out.add(new Chunk(from, Math.min(from + CHUNK, STRESS_N), k));
        }
        return out;
    }

    /** Refused adds: each must throw its exception and add nothing. */
    private static void refusedAdds(Extract x, int k) {
        byte[] ids = "s00000s00001".getBytes(StandardCharsets.US_ASCII);
        long[] fen = {1, 2};
        switch (ThreadLocalRandom.current().nextInt(6)) {
            case 0 -> expectQuiet(IndexOutOfBoundsException.class, () -> x.addTotals("aum", 0, 2, ids,
                    new long[] {0, 6, (1L << 32) + 12}, null, null, null, null, fen));
            case 1 -> expectQuiet(IndexOutOfBoundsException.class, () -> x.addTotals("aum", 0, 2, ids,
                    new long[] {-1, 6, 12}, null, null, null, null, fen));
            case 2 -> expectQuiet(IllegalArgumentException.class, () -> x.addTotal("aum", 0, "s00001\u0000other",
                    null, null, month(k), new BigDecimal("99999999")));
            case 3 -> expectQuiet(TieringException.Argument.class, () -> x.addTotal("aum", 0, "s00001", null, null,
                    YearMonth.of(42951697, 1 + k), BigDecimal.ONE));
            case 4 -> expectQuiet(IndexOutOfBoundsException.class, () -> x.addTotals("aum", 0, 3, ids,
                    new long[] {0, 6, 12, 12}, null, null, null, null, fen));
            default -> expectQuiet(TieringException.Argument.class, () -> x.addTotals("aum", 0, 2, ids,
                    new long[] {0, 12, 6}, null, null, null, null, fen));
        }
    }

    /** Set when the stress test starts closing its objects: from then on, "closed" is a fine answer. */
    private static final java.util.concurrent.atomic.AtomicBoolean closing =
            new java.util.concurrent.atomic.AtomicBoolean();

    private static void expectQuiet(Class<? extends Throwable> type, Case r) {
        try {
            r.run();
            problems.add("a refused call went through (expected " + type.getSimpleName() + ")");
        } catch (Throwable t) {
            if (!type.isInstance(t) && !(t instanceof IllegalStateException && closing.get())) {
                problems.add("expected " + type.getSimpleName() + ", got " + t + "\n" + stack(t));
            }
        }
    }

    /** A snapshot of run columns: empty, or the reference's of some month. */
    private static int whichMonth(Reference ref, long[] aums) {
        if (aums.length == 0) {
            return 0;
        }
        for (int k = 1; k <= STRESS_MONTHS; k++) {
            if (Arrays.equals(aums, ref.aums[k])) {
                return k;
            }
        }
        return -1;
    }

    /**
     * One round of T4's reads: each read must see the states or the run as some month left them,
     * never halfway (a read waits for the evaluation in progress).
     */
    private static void readRound(Reference ref, RuleBook rb, PortfolioStates s, PortfolioRun run,
            ThreadLocalRandom rnd) {
        int i = rnd.nextInt(STRESS_N);
        String st = s.get(id(i)).orElseThrow().toJson();
        boolean known = false;
        for (int k = 0; k <= STRESS_MONTHS && !known; k++) {
            known = ref.state[k][i].equals(st);
        }
        check(known, "state of " + id(i) + " is no month's: " + st);
        check(s.size() == STRESS_N, "size");
        if (rnd.nextInt(20) == 0) {
            check(s.ids().equals(ref.ids), "ids");
            byte[] text = s.toText(rb);
            boolean whole = false;
            for (int k = 0; k <= STRESS_MONTHS && !whole; k++) {
                whole = Arrays.equals(ref.text[k], text);
            }
            check(whole, "states text is no month's");
        }
        check(whichMonth(ref, run.evaluatedAumsFen()) >= 0, "run AUMs are no month's");
        check(run.errors().isEmpty(), "run errors");
        String id3;
        try {
            id3 = run.customerId(3);
        } catch (IllegalStateException empty) {
            if (!empty.getMessage().contains("no results")) {
                throw empty; // closed
            }
            id3 = ref.ids.get(3);
        }
        check(ref.ids.get(3).equals(id3), "customer id 3: " + id3);
    }

    static void stress() {
        run("4 threads hammer one PortfolioStates, Extract and PortfolioRun, then close them under a run", () -> {
            try (RuleBook rb = RuleBook.defaults()) {
                Reference ref = reference(rb);
                PortfolioStates s = january(rb, STRESS_N);
                PortfolioRun run = new PortfolioRun();
                Extract[] x = new Extract[STRESS_MONTHS + 1];
                CountDownLatch[] added = new CountDownLatch[STRESS_MONTHS + 1];
                CountDownLatch[] evaluated = new CountDownLatch[STRESS_MONTHS + 1];
                for (int k = 1; k <= STRESS_MONTHS; k++) {
                    x[k] = new Extract(rb);
                    added[k] = new CountDownLatch(2);
                    evaluated[k] = new CountDownLatch(1);
                }
                AtomicInteger verifiedRuns = new AtomicInteger();
                AtomicInteger reads = new AtomicInteger();
                AtomicInteger failedCalls = new AtomicInteger();
                AtomicInteger closedCalls = new AtomicInteger();
                AtomicInteger closedUnderRun = new AtomicInteger();
                closing.set(false);
                java.util.concurrent.atomic.AtomicBoolean lastMonthWent = new java.util.concurrent.atomic.AtomicBoolean();

                // T1: evaluates month after month into the shared run, reads it back, checks the states.
                Case evaluator = () -> {
                    for (int k = 1; k <= STRESS_MONTHS; k++) {
                        added[k].await();
                        try {
                            rb.evaluatePortfolioInto(s, month(k), x[k], PortfolioOptions.DEFAULT, run);
                            if (k == STRESS_MONTHS) {
                                lastMonthWent.set(true);
                            }
                            // No failing evaluation runs now (T2, T3 only add, refused, until this month is
                            // read): the run holds exactly this month, whatever the reader read meanwhile.
                            check(Arrays.equals(run.evaluatedAumsFen(), ref.aums[k]), "month " + k + ": AUMs differ");
                            int[] ev = run.eventCustomerIndices();
                            check(Arrays.equals(ev, ref.eventIndices[k]), "month " + k + ": events differ");
                            for (int e = 0; e < ev.length; e += 97) {
                                check(run.event(e).equals(ref.events.get(k).get(e)), "month " + k + ": event " + e);
                            }
                            check(run.errorCount() == 0 && ref.ids.get(ev[0]).equals(run.customerId(ev[0])),
                                    "month " + k + ": errors or ids");
                            check(ref.json[k].equals(s.toJson()), "month " + k + ": states differ");
                            verifiedRuns.incrementAndGet();
                        } catch (IllegalStateException e) {
                            // Only the last month meets the concurrent close.
                            check(k == STRESS_MONTHS && closing.get(), "month " + k + ": " + e);
                            closedCalls.incrementAndGet();
                        } catch (RuntimeException e) {
                            // A failure, never a hang: the other threads wait for every month.
                            check(false, "month " + k + " threw " + e);
                        } finally {
                            evaluated[k].countDown();
                        }
                    }
                };

                // T2, T3: add alternate chunks of each month (bytes / strings), interleaved with refused
                // adds and failing evaluations into the shared run (emptied, the states kept); then hammer
                // that month's extract with refused adds while T1 evaluates it.
                java.util.function.IntFunction<Case> adder = a -> () -> {
                    for (int k = 1; k <= STRESS_MONTHS; k++) {
                        Extract xk = x[k];
                        int n = 0;
                        for (Chunk c : chunks(k, a)) {
                            if (a == 0) {
                                c.addBytes(xk);
                            } else {
                                c.addStrings(xk);
                            }
                            refusedAdds(xk, k);
                            YearMonth bad = n++ % 2 == 0 ? YearMonth.of(1899, 12) : YearMonth.of(42951697, 2);
                            expectQuiet(TieringException.Argument.class, () -> rb.evaluatePortfolioInto(s, bad, xk,
                                    PortfolioOptions.DEFAULT, run));
                            failedCalls.addAndGet(2);
                        }
                        added[k].countDown();
                        if (k == STRESS_MONTHS) {
                            break;
                        }
                        int spins = 0;
                        while (evaluated[k].getCount() > 0 || spins < 20) {
                            spins++;
                            refusedAdds(xk, k);
                            failedCalls.incrementAndGet();
                        }
                    }
                    // The concurrent close: once both adders are done with the last month (a slow
                    // adder on a loaded machine must not meet a closed extract), wait until T1's last run
                    // holds the lock (or a while), then close.
                    added[STRESS_MONTHS].await();
                    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
                    NativeHandle h = a == 0 ? run.nativeHandle() : x[STRESS_MONTHS].nativeHandle();
                    while (!h.isLocked() && evaluated[STRESS_MONTHS].getCount() > 0 && System.nanoTime() < until) {
                        Thread.onSpinWait();
                    }
                    closing.set(true);
                    if (h.isLocked()) {
                        closedUnderRun.incrementAndGet();
                    }
                    if (a == 0) {
                        run.close();
                    } else {
                        x[STRESS_MONTHS].close();
                    }
                };

                // T4: reads the states and the run all along; at the end closes the states under the run.
                Case reader = () -> {
                    ThreadLocalRandom rnd = ThreadLocalRandom.current();
                    while (evaluated[STRESS_MONTHS - 1].getCount() > 0) {
                        try {
                            readRound(ref, rb, s, run, rnd);
                            reads.incrementAndGet();
                        } catch (IllegalStateException closed) {
                            // The run may be closed by T2 once the last month is under way.
                            check(closing.get(), "a read refused before the close: " + closed);
                            break;
                        }
                    }
                    added[STRESS_MONTHS].await();
                    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
                    while (!s.nativeHandle().isLocked() && evaluated[STRESS_MONTHS].getCount() > 0
                            && System.nanoTime() < until) {
                        Thread.onSpinWait();
                    }
                    closing.set(true);
                    if (s.nativeHandle().isLocked()) {
                        closedUnderRun.incrementAndGet();
                    }
                    s.close();
                };

                ExecutorService pool = Executors.newFixedThreadPool(4);
                List<Future<?>> futures = new ArrayList<>();
                for (Case c : List.of(evaluator, adder.apply(0), adder.apply(1), reader)) {
                    futures.add(pool.submit(() -> {
                        try {
                            c.run();
                        } catch (Throwable t) {
                            problems.add("a stress thread threw " + t + "\n" + stack(t));
                        }
                    }));
                }
                for (Future<?> f : futures) {
                    try {
                        f.get(300, TimeUnit.SECONDS);
                    } catch (TimeoutException e) {
                        problems.add("a stress thread hangs (deadlock?)");
                        // What the other threads met first: a thread that died leaves the others waiting.
                        problems.forEach(p -> System.err.println("problem: " + p));
                        Thread.getAllStackTraces().forEach((t, st) -> System.err.println(t + " " + Arrays.toString(st)));
                        System.err.println("FAIL [stress] hangs");
                        System.exit(2);
                    }
                }
                pool.shutdown();
                // After the concurrent close: every call refused, closing again is harmless.
                expect(IllegalStateException.class, "states after close", s::size, "closed");
                expect(IllegalStateException.class, "run after close", run::eventCount, "closed");
                expect(IllegalStateException.class, "extract after close", () -> x[STRESS_MONTHS].addTotal("aum", 0,
                        "s00001", null, null, month(STRESS_MONTHS), BigDecimal.ONE), "closed");
                s.close();
                run.close();
                for (int k = 1; k <= STRESS_MONTHS; k++) {
                    x[k].close();
                }
                check(verifiedRuns.get() >= STRESS_MONTHS - 1, "only " + verifiedRuns.get() + " months verified");
                check(reads.get() > 0 && failedCalls.get() > 0, reads.get() + " reads, " + failedCalls.get()
                        + " refused calls");
                System.out.println("     stress: " + verifiedRuns.get() + " months verified, " + reads.get()
                        + " rounds of reads, " + failedCalls.get()
                        + " refused calls, last month " + (lastMonthWent.get() ? "evaluated before" : "refused after")
                        + " the close (" + closedCalls.get() + " calls refused as closed), " + closedUnderRun.get()
                        + " of 3 closes called while their object was locked by a call");
            }
        });
    }

    /** Runs every group, or those named: offsets, strings, months, reset, threads, stress. */
    public static void main(String[] args) {
        List<String> only = List.of(args);
        java.util.Map<String, Runnable> groups = new java.util.LinkedHashMap<>();
        groups.put("offsets", BoundaryTests::offsetsAndLengths);
        groups.put("strings", BoundaryTests::nulStrings);
        groups.put("months", BoundaryTests::months);
        groups.put("reset", BoundaryTests::resetAfterFailure);
        groups.put("threads", BoundaryTests::threadModel);
        groups.put("stress", BoundaryTests::stress);
        groups.forEach((name, g) -> {
            if (only.isEmpty() || only.contains(name)) {
                g.run();
            }
        });
        System.out.println(passed + " passed, " + failed + " failed");
        System.exit(failed == 0 ? 0 : 1);
    }
}
