//! Events (what changed, why, on what evidence) and alerts (what an account manager should see).

use std::fmt::{self, Write as _};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::code::TierCode;
use crate::money::{MAX_AMOUNT, MAX_FEN, from_fen, to_fen};
use crate::month::Month;

macro_rules! code_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $code:literal / $zh:literal,)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vm])* $variant,)*
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The stable snake_case code used in files and across languages.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code,)* }
            }

            /// The Chinese display name.
            pub fn name_zh(self) -> &'static str {
                match self { $($name::$variant => $zh,)* }
            }

            /// Parses a code written by [`Self::as_str`].
            pub fn from_code(code: &str) -> Option<Self> {
                match code { $($code => Some($name::$variant),)* _ => None }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

code_enum! {
    /// What happened to a customer's standing.
    EventKind {
        /// Entered VIP management (纳入).
        Entered = "entered" / "纳入",
        /// Upgraded to a higher tier (升级).
        Upgraded = "upgraded" / "升级",
        /// A downgrade watch started (关注).
        WatchStarted = "watch_started" / "进入关注",
        /// A downgrade watch ended because a month reached the tier (解除关注).
        WatchCleared = "watch_cleared" / "解除关注",
        /// Downgraded after a full watch (降级).
        Downgraded = "downgraded" / "降级",
        /// Exited after consecutive months below entry, into retention (已退未评级).
        ExitedToRetention = "exited_to_retention" / "退出(已退未评级)",
        /// Qualified again during retention (重新评级).
        ReEntered = "re_entered" / "重新评级",
        /// Retention ran out: fully exited (完全退出).
        FullyExited = "fully_exited" / "完全退出",
        /// A special VIP designation took effect (特殊VIP认定).
        SpecialGranted = "special_granted" / "特殊VIP认定",
        /// A special VIP designation ran out (特殊VIP到期).
        SpecialExpired = "special_expired" / "特殊VIP到期",
        /// A special VIP designation was revoked (特殊VIP撤销).
        SpecialRevoked = "special_revoked" / "特殊VIP撤销",
    }
}

code_enum! {
    /// Why an event happened: the rule that decided it.
    Reason {
        /// The month's AUM met the tier's minimum.
        MetTierMinimum = "met_tier_minimum" / "月日均AUM达到等级标准",
        /// The month's AUM was short of the current tier's minimum.
        ShortOfTier = "short_of_tier" / "月日均AUM未达原等级标准",
        /// A full watch ended; the target is the highest tier qualified in the window.
        HighestInWindow = "highest_in_window" / "关注期满,降入期内达到的最高等级",
        /// A full watch ended; the target is the tier of the window's last month.
        LastMonth = "last_month" / "关注期满,降入末月达到的等级",
        /// A full watch ended; the target is one tier down.
        OneDown = "one_down" / "关注期满,降一级",
        /// A full watch ended with no tier qualified; the lowest tier is the floor (exit is the
        /// exit rule's job).
        LowestTierFloor = "lowest_tier_floor" / "关注期满,保底最低等级",
        /// Consecutive months below the entry threshold reached the exit length.
        BelowEntryRun = "below_entry_run" / "连续未达准入标准",
        /// The retention months ran out without qualifying.
        RetentionEnded = "retention_ended" / "保留期满未达标",
        /// A special VIP designation was given.
        Designated = "designated" / "特殊VIP认定",
        /// The designation's validity ended.
        ValidityEnded = "validity_ended" / "有效期届满",
        /// The designation was revoked.
        Revoked = "revoked" / "撤销",
        /// The watched tier has no tier below it any more (a newer rule version made it the
        /// lowest): the watch ends, and only the exit rule applies.
        NoLowerTier = "no_lower_tier" / "已是最低等级,解除关注",
    }
}

code_enum! {
    /// What an account manager is told about.
    AlertKind {
        /// A downgrade watch is active, with months left before the downgrade.
        WatchActive = "watch_active" / "关注中",
        /// Rated, with consecutive months below entry: months left before the exit.
        ExitRisk = "exit_risk" / "退出风险",
        /// In retention (已退未评级), with months left.
        InRetention = "in_retention" / "已退未评级",
        /// A special VIP designation ends soon.
        SpecialExpiring = "special_expiring" / "特殊VIP即将到期",
        /// AUM is within the near-threshold band below the next tier's minimum.
        UpgradeOpportunity = "upgrade_opportunity" / "临界升级",
        /// Not a VIP, and AUM is within the band below the entry threshold.
        PotentialVip = "potential_vip" / "潜在VIP",
        /// AUM is within the band above the current tier's minimum.
        DowngradeRisk = "downgrade_risk" / "临界降级",
        /// The customer was held back (a bad record, the absent policy `hold`, a missing
        /// file, or an earlier month not caught up): its standing is frozen at `tier` and it
        /// was not evaluated this month; `months_counted` months have not been evaluated
        /// since its last evaluated month (SPEC §15.7). No AUM.
        HeldBack = "held_back" / "暂停评级",
    }
}

/// An amount in whole fen, kept as two 32-bit halves: events and alerts then need only a
/// 4-byte alignment and carry no padding (a batch holds one of them per event and per alert).
/// `i64::MIN` stands for no amount: amounts are never negative (SPEC §16).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct PackedFen {
    low: u32,
    high: i32,
}

impl PackedFen {
    const NONE: PackedFen = PackedFen::new(i64::MIN);

    #[inline(always)]
    const fn new(fen: i64) -> Self {
        PackedFen { low: fen as u32, high: (fen >> 32) as i32 }
    }

    #[inline(always)]
    fn opt(fen: Option<i64>) -> Self {
        fen.map_or(Self::NONE, Self::new)
    }

    #[inline(always)]
    const fn get(self) -> i64 {
        ((self.high as i64) << 32) | self.low as i64
    }

    #[inline(always)]
    fn get_opt(self) -> Option<i64> {
        let fen = self.get();
        (fen != i64::MIN).then_some(fen)
    }
}

/// An amount of an event or an alert read from JSON: whole fen (SPEC §16), not negative.
fn fen_field(what: &str, amount: Decimal) -> Result<i64, String> {
    match to_fen(amount) {
        Some(fen) if (0..=MAX_FEN).contains(&fen) => Ok(fen),
        _ => Err(format!("{what} {amount} is not a whole number of fen from 0 to {MAX_AMOUNT}")),
    }
}

fn fen_field_opt(what: &str, amount: Option<Decimal>) -> Result<Option<i64>, String> {
    amount.map(|a| fen_field(what, a)).transpose()
}

/// The figures that decided an event. Amounts are whole fen (SPEC §16); they are read as
/// decimals ([`Evidence::aum`]) or as fen ([`Evidence::aum_fen`]).
///
/// ```
/// use crm_tiering::{Customer, CustomerState, Engine, MonthInput, RuleBook, parse_amount};
/// let engine = Engine::new(RuleBook::default_book()?);
/// let out = engine.evaluate(&Customer::personal("c1"), &CustomerState::default(),
///     "2024-01".parse()?, &MonthInput::total(parse_amount("523400.5")?))?;
/// let evidence = out.events[0].evidence;
/// assert_eq!(evidence.aum().to_string(), "523400.50");
/// assert_eq!(evidence.aum_fen(), 52_340_050);
/// assert_eq!(evidence.threshold_fen(), Some(50_000_000)); // platinum's minimum
/// assert_eq!(evidence.peak_aum(), None); // no window decided an entry
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "EvidenceJson", try_from = "EvidenceJson")]
pub struct Evidence {
    aum: PackedFen,
    threshold: PackedFen,
    peak_aum: PackedFen,
    /// First month of the window that decided it (watch, below-entry run, designation).
    pub window_from: Option<Month>,
    /// Months in that window.
    pub window_months: Option<u32>,
}

impl Evidence {
    pub(crate) fn fen(aum_fen: i64, threshold_fen: Option<i64>) -> Self {
        Evidence {
            aum: PackedFen::new(aum_fen),
            threshold: PackedFen::opt(threshold_fen),
            peak_aum: PackedFen::NONE,
            window_from: None,
            window_months: None,
        }
    }

    pub(crate) fn window(mut self, from: Month, months: u32, peak_fen: Option<i64>) -> Self {
        self.window_from = Some(from);
        self.window_months = Some(months);
        self.peak_aum = PackedFen::opt(peak_fen);
        self
    }

    /// The evaluated month's AUM.
    pub fn aum(&self) -> Decimal {
        from_fen(self.aum.get())
    }

    /// The evaluated month's AUM in fen.
    pub fn aum_fen(&self) -> i64 {
        self.aum.get()
    }

    /// The threshold the AUM was compared with.
    pub fn threshold(&self) -> Option<Decimal> {
        self.threshold.get_opt().map(from_fen)
    }

    /// The threshold in fen.
    pub fn threshold_fen(&self) -> Option<i64> {
        self.threshold.get_opt()
    }

    /// Highest AUM in the window.
    pub fn peak_aum(&self) -> Option<Decimal> {
        self.peak_aum.get_opt().map(from_fen)
    }

    /// Highest AUM in the window, in fen.
    pub fn peak_aum_fen(&self) -> Option<i64> {
        self.peak_aum.get_opt()
    }
}

impl fmt::Debug for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Evidence")
            .field("aum", &self.aum())
            .field("threshold", &self.threshold())
            .field("window_from", &self.window_from)
            .field("window_months", &self.window_months)
            .field("peak_aum", &self.peak_aum())
            .finish()
    }
}

/// The JSON form of [`Evidence`] (SPEC §14): amounts as decimal strings.
#[derive(Serialize, Deserialize)]
struct EvidenceJson {
    #[serde(with = "rust_decimal::serde::str")]
    aum: Decimal,
    #[serde(default, with = "rust_decimal::serde::str_option", skip_serializing_if = "Option::is_none")]
    threshold: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    window_from: Option<Month>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    window_months: Option<u32>,
    #[serde(default, with = "rust_decimal::serde::str_option", skip_serializing_if = "Option::is_none")]
    peak_aum: Option<Decimal>,
}

impl From<Evidence> for EvidenceJson {
    fn from(e: Evidence) -> Self {
        EvidenceJson {
            aum: e.aum(),
            threshold: e.threshold(),
            window_from: e.window_from,
            window_months: e.window_months,
            peak_aum: e.peak_aum(),
        }
    }
}

impl TryFrom<EvidenceJson> for Evidence {
    type Error = String;

    fn try_from(e: EvidenceJson) -> Result<Self, String> {
        Ok(Evidence {
            aum: PackedFen::new(fen_field("evidence aum", e.aum)?),
            threshold: PackedFen::opt(fen_field_opt("evidence threshold", e.threshold)?),
            peak_aum: PackedFen::opt(fen_field_opt("evidence peak_aum", e.peak_aum)?),
            window_from: e.window_from,
            window_months: e.window_months,
        })
    }
}

/// A change of standing, with its reason and evidence. It takes effect the month after its
/// month ([`Event::effective_from`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "EventJson", try_from = "EventJson")]
pub struct Event {
    /// The evaluated month whose figures decided it.
    pub month: Month,
    /// What happened.
    pub kind: EventKind,
    /// The tier before, when there was one.
    pub from_tier: Option<TierCode>,
    /// The tier after, when there is one.
    pub to_tier: Option<TierCode>,
    /// The rule that decided it.
    pub reason: Reason,
    /// The figures.
    pub evidence: Evidence,
}

/// The JSON form of [`Event`] (SPEC §14), with its `effective_from`.
#[derive(Serialize, Deserialize)]
struct EventJson {
    month: Month,
    effective_from: Month,
    kind: EventKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    from_tier: Option<TierCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    to_tier: Option<TierCode>,
    reason: Reason,
    evidence: Evidence,
}

impl From<Event> for EventJson {
    fn from(e: Event) -> Self {
        EventJson {
            month: e.month,
            effective_from: e.effective_from(),
            kind: e.kind,
            from_tier: e.from_tier,
            to_tier: e.to_tier,
            reason: e.reason,
            evidence: e.evidence,
        }
    }
}

impl TryFrom<EventJson> for Event {
    type Error = String;

    fn try_from(e: EventJson) -> Result<Self, String> {
        if e.month == Month::LAST || e.effective_from != e.month.next() {
            return Err(format!(
                "event effective_from {} is not the month after its month {}",
                e.effective_from, e.month
            ));
        }
        Ok(Event {
            month: e.month,
            kind: e.kind,
            from_tier: e.from_tier,
            to_tier: e.to_tier,
            reason: e.reason,
            evidence: e.evidence,
        })
    }
}

impl Event {
    /// The month it takes effect: the month after [`Event::month`].
    pub fn effective_from(&self) -> Month {
        self.month.next()
    }

    /// One line explaining the event, in English.
    ///
    /// ```
    /// use crm_tiering::{Engine, RuleBook, CustomerState, MonthInput, Customer, parse_amount};
    /// let engine = Engine::new(RuleBook::default_book()?);
    /// let out = engine.evaluate(&Customer::personal("c1"), &CustomerState::default(),
    ///     "2024-01".parse()?, &MonthInput::total(parse_amount("523400")?))?;
    /// assert_eq!(out.events[0].explain(),
    ///     "2024-01: entered at platinum from 2024-02: AUM 523400.00 met the minimum 500000.00");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn explain(&self) -> String {
        let mut s = format!("{}: ", self.month);
        let tier = |t: Option<TierCode>| t.map(|t| t.to_string()).unwrap_or_else(|| "-".into());
        let _ = match self.kind {
            EventKind::Entered | EventKind::ReEntered => {
                write!(
                    s,
                    "{} at {} from {}",
                    self.kind.as_str().replace('_', "-"),
                    tier(self.to_tier),
                    self.effective_from()
                )
            }
            EventKind::Upgraded | EventKind::Downgraded => write!(
                s,
                "{} from {} to {} from {}",
                self.kind,
                tier(self.from_tier),
                tier(self.to_tier),
                self.effective_from()
            ),
            EventKind::SpecialGranted => {
                write!(s, "special VIP at {} from {}", tier(self.to_tier), self.effective_from())
            }
            _ => write!(s, "{} ({})", self.kind.as_str().replace('_', " "), tier(self.from_tier.or(self.to_tier))),
        };
        let e = &self.evidence;
        let threshold = e.threshold().map(|t| t.to_string()).unwrap_or_default();
        let _ = match self.reason {
            Reason::MetTierMinimum => write!(s, ": AUM {} met the minimum {threshold}", e.aum()),
            Reason::ShortOfTier => write!(s, ": AUM {} is short of the minimum {threshold}", e.aum()),
            Reason::NoLowerTier => write!(s, ": the tier has no tier below it under the rules in force"),
            Reason::HighestInWindow | Reason::LastMonth | Reason::OneDown | Reason::LowestTierFloor => write!(
                s,
                ": {} consecutive months short of {threshold} since {} (peak AUM {}), target rule {}",
                e.window_months.unwrap_or(0),
                e.window_from.map(|m| m.to_string()).unwrap_or_default(),
                e.peak_aum().unwrap_or_default(),
                self.reason
            ),
            Reason::BelowEntryRun => write!(
                s,
                ": {} consecutive months below the entry threshold {threshold} since {} (peak AUM {})",
                e.window_months.unwrap_or(0),
                e.window_from.map(|m| m.to_string()).unwrap_or_default(),
                e.peak_aum().unwrap_or_default()
            ),
            Reason::RetentionEnded => write!(s, ": retention ended with AUM {} below {threshold}", e.aum()),
            Reason::Designated => write!(
                s,
                ": designated for {} months from {}",
                e.window_months.unwrap_or(0),
                e.window_from.map(|m| m.to_string()).unwrap_or_default()
            ),
            Reason::ValidityEnded => write!(s, ": validity ended"),
            Reason::Revoked => write!(s, ": revoked"),
        };
        s
    }
}

/// A notice for the account manager, about the month the new state is effective for.
/// Amounts are whole fen (SPEC §16); they are read as decimals ([`Alert::aum`]) or as fen
/// ([`Alert::aum_fen`]).
///
/// ```
/// use crm_tiering::{AlertKind, Customer, CustomerState, Engine, MonthInput, RuleBook, parse_amount};
/// let engine = Engine::new(RuleBook::default_book()?);
/// let out = engine.evaluate(&Customer::personal("c1"), &CustomerState::default(),
///     "2024-01".parse()?, &MonthInput::total(parse_amount("190000")?))?;
/// let potential = out.alerts.iter().find(|a| a.kind == AlertKind::PotentialVip).unwrap();
/// assert_eq!(potential.gap().unwrap().to_string(), "10000.00"); // missing to 200,000
/// assert_eq!(potential.gap_fen(), Some(1_000_000));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "AlertJson", try_from = "AlertJson")]
pub struct Alert {
    /// The evaluated month.
    pub month: Month,
    /// What it is about.
    pub kind: AlertKind,
    /// The tier concerned: watched, current, next, entry, last or designated tier.
    pub tier: Option<TierCode>,
    /// Months counted so far (watch months, months below entry).
    pub months_counted: Option<u32>,
    /// Months left before the watch, exit, retention or designation ends.
    pub months_left: Option<u32>,
    aum: PackedFen,
    threshold: PackedFen,
    gap: PackedFen,
}

impl Alert {
    /// An alert with no counts, threshold or gap.
    pub(crate) fn new(month: Month, kind: AlertKind, tier: Option<TierCode>, aum_fen: i64) -> Self {
        Alert {
            month,
            kind,
            tier,
            months_counted: None,
            months_left: None,
            aum: PackedFen::new(aum_fen),
            threshold: PackedFen::NONE,
            gap: PackedFen::NONE,
        }
    }

    /// With the months counted so far, if any, and the months left.
    pub(crate) fn with_months(mut self, counted: Option<u32>, left: u32) -> Self {
        self.months_counted = counted;
        self.months_left = Some(left);
        self
    }

    /// With its threshold, in fen.
    pub(crate) fn with_threshold(mut self, threshold_fen: i64) -> Self {
        self.threshold = PackedFen::new(threshold_fen);
        self
    }

    /// With its gap, in fen.
    pub(crate) fn with_gap(mut self, gap_fen: i64) -> Self {
        self.gap = PackedFen::new(gap_fen);
        self
    }

    /// An alert that a customer was held back in `month`: its standing `tier` is frozen, and
    /// the months since `last_month` (this one included) were not evaluated.
    pub fn held_back(month: Month, tier: Option<TierCode>, last_month: Option<Month>) -> Self {
        let counted = last_month.map(|l| month.months_since(l).max(1) as u32);
        Alert {
            month,
            kind: AlertKind::HeldBack,
            tier,
            months_counted: counted,
            months_left: None,
            aum: PackedFen::NONE,
            threshold: PackedFen::NONE,
            gap: PackedFen::NONE,
        }
    }

    /// The evaluated month's AUM; none for a `held_back` alert (the customer was not
    /// evaluated).
    pub fn aum(&self) -> Option<Decimal> {
        self.aum.get_opt().map(from_fen)
    }

    /// The evaluated month's AUM in fen; none for a `held_back` alert.
    pub fn aum_fen(&self) -> Option<i64> {
        self.aum.get_opt()
    }

    /// The threshold concerned.
    pub fn threshold(&self) -> Option<Decimal> {
        self.threshold.get_opt().map(from_fen)
    }

    /// The threshold in fen.
    pub fn threshold_fen(&self) -> Option<i64> {
        self.threshold.get_opt()
    }

    /// Distance to the threshold: how much is missing (opportunities) or how much cushion is
    /// left (downgrade risk).
    pub fn gap(&self) -> Option<Decimal> {
        self.gap.get_opt().map(from_fen)
    }

    /// The gap in fen.
    pub fn gap_fen(&self) -> Option<i64> {
        self.gap.get_opt()
    }
}

impl fmt::Debug for Alert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Alert")
            .field("month", &self.month)
            .field("kind", &self.kind)
            .field("tier", &self.tier)
            .field("months_counted", &self.months_counted)
            .field("months_left", &self.months_left)
            .field("aum", &self.aum())
            .field("threshold", &self.threshold())
            .field("gap", &self.gap())
            .finish()
    }
}

/// The JSON form of [`Alert`] (SPEC §14): amounts as decimal strings.
#[derive(Serialize, Deserialize)]
struct AlertJson {
    month: Month,
    kind: AlertKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tier: Option<TierCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    months_counted: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    months_left: Option<u32>,
    #[serde(default, with = "rust_decimal::serde::str_option", skip_serializing_if = "Option::is_none")]
    aum: Option<Decimal>,
    #[serde(default, with = "rust_decimal::serde::str_option", skip_serializing_if = "Option::is_none")]
    threshold: Option<Decimal>,
    #[serde(default, with = "rust_decimal::serde::str_option", skip_serializing_if = "Option::is_none")]
    gap: Option<Decimal>,
}

impl From<Alert> for AlertJson {
    fn from(a: Alert) -> Self {
        AlertJson {
            month: a.month,
            kind: a.kind,
            tier: a.tier,
            months_counted: a.months_counted,
            months_left: a.months_left,
            aum: a.aum(),
            threshold: a.threshold(),
            gap: a.gap(),
        }
    }
}

impl TryFrom<AlertJson> for Alert {
    type Error = String;

    fn try_from(a: AlertJson) -> Result<Self, String> {
        Ok(Alert {
            month: a.month,
            kind: a.kind,
            tier: a.tier,
            months_counted: a.months_counted,
            months_left: a.months_left,
            aum: PackedFen::opt(fen_field_opt("alert aum", a.aum)?),
            threshold: PackedFen::opt(fen_field_opt("alert threshold", a.threshold)?),
            gap: PackedFen::opt(fen_field_opt("alert gap", a.gap)?),
        })
    }
}
