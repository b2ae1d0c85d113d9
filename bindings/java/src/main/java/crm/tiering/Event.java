package crm.tiering;

import java.math.BigDecimal;
import java.time.YearMonth;

/**
 * A change of a customer's standing.
 *
 * @param customerIndex the customer's index in a batch (0 for a single evaluation)
 * @param kind the stable code, such as {@code watch_started}
 * @param kindZh the Chinese display name, such as 进入关注
 * @param reason the rule that decided it, such as {@code highest_in_window}
 * @param month the evaluated month
 * @param effectiveFrom the month it takes effect
 * @param fromTier the tier before, or null
 * @param toTier the tier after, or null
 * @param aum the month's AUM
 * @param threshold the threshold compared with, or null
 * @param windowFrom the first month of the deciding window, or null
 * @param windowMonths the months in that window (0 when none)
 * @param peakAum the highest AUM in that window, or null
 * @param measure the measure of the criterion that decided, in a rule book that qualifies tiers
 *     by criteria (then {@code threshold} is that criterion's minimum), or null
 * @param measureValue that measure's value this month, or null
 * @param measureWindow the window that measure was read over, such as {@code prev_quarter}, or null
 *     for the evaluated month alone
 */
public record Event(int customerIndex, String kind, String kindZh, String reason, YearMonth month,
        YearMonth effectiveFrom, String fromTier, String toTier, BigDecimal aum, BigDecimal threshold,
        YearMonth windowFrom, int windowMonths, BigDecimal peakAum, String measure, BigDecimal measureValue,
        String measureWindow) {}
