package crm.tiering;

import java.util.ArrayList;
import java.util.List;

/**
 * The Java test programs' one harness (TieringTests, PortfolioTests, ContributionTests): named
 * cases, checks that record a problem without stopping the case, and the counts printed at the
 * end. Each program runs in its own JVM, so the counts are the program's.
 */
final class Cases {
    static int passed;
    static int failed;
    static final List<String> problems = new ArrayList<>();

    private Cases() {}

    /** A test case's body. */
    interface Case {
        void run() throws Exception;
    }

    /** Records a problem of the current case when {@code ok} is false. */
    static void check(boolean ok, String what) {
        if (!ok) {
            problems.add(what);
        }
    }

    /** Runs a case: passed when it recorded no problem and threw nothing. */
    static void run(String name, Case c) {
        problems.clear();
        try {
            c.run();
        } catch (Throwable t) {
            problems.add("threw " + t);
        }
        if (problems.isEmpty()) {
            passed++;
        } else {
            failed++;
            for (String p : problems) {
                System.err.println("FAIL [" + name + "] " + p);
            }
        }
    }
}
