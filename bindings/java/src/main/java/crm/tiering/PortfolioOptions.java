package crm.tiering;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Options of a portfolio run. Every option is read by the library's one parser (the same keys
 * as the CLI's {@code --option KEY=VALUE}, Python's keyword arguments and the conformance
 * vectors): {@code absent}, {@code acceptRuleBookChange} and {@code threads} are the usual three;
 * any other, such as {@code allow_empty_month}, {@code empty_entities} or {@code catch_up}, is set
 * by key with {@link #with(String, String)} and its shorthands, and applied after them.
 *
 * @param absent what a known customer without an AUM record in a month means
 * @param acceptRuleBookChange evaluate states written under another rule book (tiers mapped)
 * @param threads worker threads (1 or more; the results are the same for any number)
 * @param settings further options by key, in the order set (values as text)
 */
public record PortfolioOptions(Absent absent, boolean acceptRuleBookChange, int threads, Map<String, String> settings) {
    /** Absent customers: zero AUM (default), held (state kept), or an error (held and reported). */
    public enum Absent { ZERO, HOLD, ERROR }

    /** Zero AUM for absent customers, refuse another rule book's states, one thread. */
    public static final PortfolioOptions DEFAULT = new PortfolioOptions(Absent.ZERO, false, 1);

    /** The options, the settings copied (their order kept). */
    public PortfolioOptions {
        Objects.requireNonNull(absent, "absent");
        settings = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(settings, "settings")));
    }

    /** The usual three options, no other setting. */
    public PortfolioOptions(Absent absent, boolean acceptRuleBookChange, int threads) {
        this(absent, acceptRuleBookChange, threads, Map.of());
    }

    /**
     * These options with one more set by key (an unknown key or a value the key does not take is
     * refused when the options are used, with {@link TieringException.Argument} naming the key).
     */
    public PortfolioOptions with(String key, String value) {
        Map<String, String> more = new LinkedHashMap<>(settings);
        more.remove(Objects.requireNonNull(key, "key"));
        more.put(key, Objects.requireNonNull(value, "value"));
        return new PortfolioOptions(absent, acceptRuleBookChange, threads, more);
    }

    /** A declared month with no AUM record at all is evaluated (refused by default: a missing extract). */
    public PortfolioOptions allowEmptyMonth() {
        return with("allow_empty_month", "true");
    }

    /** Legal entities known to have no AUM record this month: their customers follow {@link #absent()}. */
    public PortfolioOptions emptyEntities(String... legalEntities) {
        return with("empty_entities", String.join(",", legalEntities));
    }

    /** A catch-up run: only customers held back earlier, whose next month is the one evaluated. */
    public PortfolioOptions catchUp() {
        return with("catch_up", "true");
    }

    /** Every option as the library's key and text, in the order they apply. */
    Map<String, String> pairs() {
        Map<String, String> all = new LinkedHashMap<>();
        all.put("absent", absent.name().toLowerCase(java.util.Locale.ROOT));
        all.put("rule_book_change", acceptRuleBookChange ? "accept" : "refuse");
        all.put("threads", Integer.toString(Math.max(1, threads)));
        all.putAll(settings);
        return all;
    }
}
