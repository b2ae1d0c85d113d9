package crm.tiering;

/**
 * Options of a portfolio run.
 *
 * @param absent what a known customer without a record in a month means
 * @param acceptRuleBookChange evaluate states written under another rule book (tiers mapped)
 * @param threads worker threads (1 or more; the results are the same for any number)
 */
public record PortfolioOptions(Absent absent, boolean acceptRuleBookChange, int threads) {
    /** Absent customers: zero AUM (default), held (state kept), or an error (held and reported). */
    public enum Absent { ZERO, HOLD, ERROR }

    /** Zero AUM for absent customers, refuse another rule book's states, one thread. */
    public static final PortfolioOptions DEFAULT = new PortfolioOptions(Absent.ZERO, false, 1);
}
