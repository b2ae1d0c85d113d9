//! Events (what changed, why, on what evidence) and alerts (what an account manager should see).

use std::fmt::{self, Write as _};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::code::TierCode;
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
    }
}

/// The figures that decided an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// The evaluated month's AUM.
    #[serde(with = "rust_decimal::serde::str")]
    pub aum: Decimal,
    /// The threshold the AUM was compared with.
    #[serde(default, with = "rust_decimal::serde::str_option", skip_serializing_if = "Option::is_none")]
    pub threshold: Option<Decimal>,
    /// First month of the window that decided it (watch, below-entry run, designation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_from: Option<Month>,
    /// Months in that window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_months: Option<u32>,
    /// Highest AUM in that window.
    #[serde(default, with = "rust_decimal::serde::str_option", skip_serializing_if = "Option::is_none")]
    pub peak_aum: Option<Decimal>,
}

impl Evidence {
    pub(crate) fn aum(aum: Decimal, threshold: Option<Decimal>) -> Self {
        Evidence { aum, threshold, window_from: None, window_months: None, peak_aum: None }
    }

    pub(crate) fn window(mut self, from: Month, months: u32, peak: Option<Decimal>) -> Self {
        self.window_from = Some(from);
        self.window_months = Some(months);
        self.peak_aum = peak;
        self
    }
}

/// A change of standing, with its reason and evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The evaluated month whose figures decided it.
    pub month: Month,
    /// The month it takes effect (the month after).
    pub effective_from: Month,
    /// What happened.
    pub kind: EventKind,
    /// The tier before, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_tier: Option<TierCode>,
    /// The tier after, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_tier: Option<TierCode>,
    /// The rule that decided it.
    pub reason: Reason,
    /// The figures.
    pub evidence: Evidence,
}

impl Event {
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
                    self.effective_from
                )
            }
            EventKind::Upgraded | EventKind::Downgraded => write!(
                s,
                "{} from {} to {} from {}",
                self.kind,
                tier(self.from_tier),
                tier(self.to_tier),
                self.effective_from
            ),
            EventKind::SpecialGranted => {
                write!(s, "special VIP at {} from {}", tier(self.to_tier), self.effective_from)
            }
            _ => write!(s, "{} ({})", self.kind.as_str().replace('_', " "), tier(self.from_tier.or(self.to_tier))),
        };
        let e = &self.evidence;
        let threshold = e.threshold.map(|t| t.to_string()).unwrap_or_default();
        let _ = match self.reason {
            Reason::MetTierMinimum => write!(s, ": AUM {} met the minimum {threshold}", e.aum),
            Reason::ShortOfTier => write!(s, ": AUM {} is short of the minimum {threshold}", e.aum),
            Reason::NoLowerTier => write!(s, ": the tier has no tier below it under the rules in force"),
            Reason::HighestInWindow | Reason::LastMonth | Reason::OneDown | Reason::LowestTierFloor => write!(
                s,
                ": {} consecutive months short of {threshold} since {} (peak AUM {}), target rule {}",
                e.window_months.unwrap_or(0),
                e.window_from.map(|m| m.to_string()).unwrap_or_default(),
                e.peak_aum.unwrap_or_default(),
                self.reason
            ),
            Reason::BelowEntryRun => write!(
                s,
                ": {} consecutive months below the entry threshold {threshold} since {} (peak AUM {})",
                e.window_months.unwrap_or(0),
                e.window_from.map(|m| m.to_string()).unwrap_or_default(),
                e.peak_aum.unwrap_or_default()
            ),
            Reason::RetentionEnded => write!(s, ": retention ended with AUM {} below {threshold}", e.aum),
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// The evaluated month.
    pub month: Month,
    /// What it is about.
    pub kind: AlertKind,
    /// The tier concerned: watched, current, next, entry, last or designated tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<TierCode>,
    /// Months counted so far (watch months, months below entry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub months_counted: Option<u32>,
    /// Months left before the watch, exit, retention or designation ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub months_left: Option<u32>,
    /// The evaluated month's AUM.
    #[serde(with = "rust_decimal::serde::str")]
    pub aum: Decimal,
    /// The threshold concerned.
    #[serde(default, with = "rust_decimal::serde::str_option", skip_serializing_if = "Option::is_none")]
    pub threshold: Option<Decimal>,
    /// Distance to the threshold: how much is missing (opportunities) or how much cushion is
    /// left (downgrade risk).
    #[serde(default, with = "rust_decimal::serde::str_option", skip_serializing_if = "Option::is_none")]
    pub gap: Option<Decimal>,
}
