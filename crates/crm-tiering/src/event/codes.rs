//! The stable codes of events, reasons and alerts, with their Chinese names (SPEC §11, §12).

use std::fmt;

use serde::{Deserialize, Serialize};

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
        /// A two-stage watch reached `label_after` short months: shown as 关注 from next month.
        WatchLabelled = "watch_labelled" / "关注",
        /// An entry, re-entry or upgrade the month would make was held: the version's
        /// `pause_upgrades_while` measure is above zero (SPEC §21.8).
        UpgradePaused = "upgrade_paused" / "暂停升级",
        /// The customer's lifecycle stage changed (SPEC §23.2): `from_tier` and `to_tier` hold
        /// the stages (decision 48).
        StageChanged = "stage_changed" / "生命周期阶段变化",
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
        /// A full watch ended; the target is the highest tier qualified over the downgrade
        /// window's months (SPEC §19.4).
        HighestOver = "highest_over" / "关注期满,降入近期达到的最高等级",
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
        /// The version's `pause_upgrades_while` measure (a non-performing loan balance) is above
        /// zero: the upgrade is held (SPEC §21.8).
        PausedByMeasure = "paused_by_measure" / "不良贷款期间暂停升级",
        /// The first stage of the version's lifecycle whose rules hold this month (SPEC §23.2).
        StageRule = "stage_rule" / "满足生命周期阶段条件",
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
        /// A `drop_pct` warning (SPEC §22): the measure fell more than the rule's percent below
        /// its value over the rule's window.
        DropPct = "drop_pct" / "大幅下降",
        /// A `below_for` warning (SPEC §22): the measure was below the rule's amount in each of
        /// the rule's months.
        BelowFor = "below_for" / "持续低于",
        /// A `large_flow` warning (SPEC §22.5): a day's total balance moved by more than the
        /// rule's amount from the day before.
        LargeFlow = "large_flow" / "大额变动",
        /// A `dormant` warning (SPEC §22.6): no customer-initiated activity for the rule's days,
        /// with AUM at most its amount.
        Dormant = "dormant" / "睡眠",
        /// A `reactivated` warning (SPEC §22.6): dormant last month, active this month with AUM
        /// at least the rule's amount.
        Reactivated = "reactivated" / "重新激活",
        /// A `maturity_not_reinvested` warning (SPEC §22.7): principal matured in the month and
        /// not reinvested reached the rule's amount.
        MaturityNotReinvested = "maturity_not_reinvested" / "到期未续存",
    }
}

code_enum! {
    /// How soon an account manager must act on an alert (SPEC §11.1): the order of a work-list,
    /// most urgent first ([`Severity::rank`]).
    Severity {
        /// Act this month: the next month's evaluation can take the customer's standing away
        /// (a downgrade, an exit, the end of retention), or a warning with a deadline or a
        /// risk of its own (睡眠, 重新激活, 到期未续存).
        High = "high" / "高",
        /// Act soon: a standing under way to a loss with months to go, an abnormal change, an
        /// expiring designation, a customer held back.
        Medium = "medium" / "中",
        /// Worth a call: a near-threshold band (临界升级, 临界降级, 潜在VIP), where nothing counts
        /// yet.
        Low = "low" / "低",
    }
}

impl Severity {
    /// The place in a work-list: 0 for `high`, 1 for `medium`, 2 for `low`.
    pub fn rank(self) -> u8 {
        match self {
            Severity::High => 0,
            Severity::Medium => 1,
            Severity::Low => 2,
        }
    }
}

impl AlertKind {
    /// The kind's severity (SPEC §11.1). A countdown (`watch_active`, `exit_risk`,
    /// `in_retention`) is `high` once one month is left: ask [`Alert::severity`](super::Alert::severity)
    /// of an alert, which applies that rule.
    pub fn severity(self) -> Severity {
        match self {
            AlertKind::Dormant | AlertKind::Reactivated | AlertKind::MaturityNotReinvested => Severity::High,
            AlertKind::WatchActive
            | AlertKind::ExitRisk
            | AlertKind::InRetention
            | AlertKind::SpecialExpiring
            | AlertKind::HeldBack
            | AlertKind::DropPct
            | AlertKind::BelowFor
            | AlertKind::LargeFlow => Severity::Medium,
            AlertKind::UpgradeOpportunity | AlertKind::DowngradeRisk | AlertKind::PotentialVip => Severity::Low,
        }
    }

    /// Whether the kind counts down to a loss of standing (`watch_active`, `exit_risk`,
    /// `in_retention`): its `months_left` are the months before the downgrade, the exit or
    /// the full exit.
    pub fn is_countdown(self) -> bool {
        matches!(self, AlertKind::WatchActive | AlertKind::ExitRisk | AlertKind::InRetention)
    }

    /// Whether the alert is a warning of the rule book's (SPEC §22) rather than one of the
    /// alerts every book gives (SPEC §11).
    pub fn is_warning(self) -> bool {
        matches!(
            self,
            AlertKind::DropPct
                | AlertKind::BelowFor
                | AlertKind::LargeFlow
                | AlertKind::Dormant
                | AlertKind::Reactivated
                | AlertKind::MaturityNotReinvested
        )
    }
}
