package crm.tiering;

import java.math.BigDecimal;
import java.time.YearMonth;

/**
 * A notice for the account manager.
 *
 * @param customerIndex the customer's index in a batch (0 for a single evaluation)
 * @param kind the stable code, such as {@code exit_risk}
 * @param kindZh the Chinese display name, such as 退出风险
 * @param month the evaluated month
 * @param tier the tier concerned, or null
 * @param monthsCounted months counted so far, or null
 * @param monthsLeft months left, or null
 * @param aum the month's AUM
 * @param threshold the threshold concerned, or null
 * @param gap the distance to the threshold, or null
 * @param measure the measure of the criterion the alert is about, in a rule book that qualifies
 *     tiers by criteria (then {@code threshold} and {@code gap} are in its units), or null
 * @param measureValue that measure's value this month, or null
 * @param measureWindow the window that measure was read over, or null for the evaluated month alone
 */
public record Alert(int customerIndex, String kind, String kindZh, YearMonth month, String tier,
        Integer monthsCounted, Integer monthsLeft, BigDecimal aum, BigDecimal threshold, BigDecimal gap,
        String measure, BigDecimal measureValue, String measureWindow) {
    /**
     * How soon the account manager must act (SPEC §11.1), by the library's rule
     * ({@code crmt_alert_severity}, the engine's {@code Alert::severity}) on the alert's
     * {@code kind} and {@code monthsLeft}: the kind's severity, except that a countdown
     * ({@code watch_active}, {@code exit_risk}, {@code in_retention}) with at most one month left
     * is {@link Severity#HIGH}. Any alert the library gave has one.
     *
     * @throws TieringException.Argument code {@code CRMT_INVALID_ARGUMENT} for an alert made in
     *     Java with a kind that is no alert kind of the library (field {@code kind}) or a negative
     *     {@code monthsLeft} (field {@code monthsLeft}; none is null)
     */
    public Severity severity() {
        return Structs.severity(kind, monthsLeft);
    }
}
