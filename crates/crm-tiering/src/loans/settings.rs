//! Loan classification settings: the floor's day boundaries, the approaching window and the
//! clean window (SPEC §21.2, §21.3). Defaults are the 2023 rules (商业银行金融资产风险分类办法,
//! effective 2023-07-01).

use serde::{Deserialize, Serialize};

use super::class::LoanClass;
use super::error::LoanError;
use crate::error::RuleError;
use crate::rules::whole;

/// How the two clean-window lengths combine (SPEC §21.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CleanRule {
    /// Both lengths must be reached, the longer of the two windows (按两者孰长原则, the 2023
    /// rules): `clean_months` clean months and `clean_periods` clean repayment periods.
    #[default]
    Longer,
    /// Either length is enough.
    Either,
}

/// The loan classification settings, read from TOML (unknown fields refused). Every day
/// boundary is exclusive: a loan is at least the class when its overdue days are **greater
/// than** the boundary.
///
/// ```
/// use crm_tiering::{LoanClass, LoanSettings};
/// let settings = LoanSettings::from_toml_str("approaching_days = 15")?;
/// assert_eq!(settings.floor(90), LoanClass::SpecialMention);
/// assert_eq!(settings.floor(91), LoanClass::Substandard);
/// assert!(settings.approaching(76) && !settings.approaching(75));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoanSettings {
    /// Past this many overdue days a loan is at least 关注 (default 0: any overdue day).
    #[serde(deserialize_with = "whole::deserialize_u32")]
    pub special_mention_after_days: u32,
    /// Past this many overdue days a loan is at least 次级 (default 90).
    #[serde(deserialize_with = "whole::deserialize_u32")]
    pub substandard_after_days: u32,
    /// Past this many overdue days a loan is at least 可疑 (default 270).
    #[serde(deserialize_with = "whole::deserialize_u32")]
    pub doubtful_after_days: u32,
    /// Past this many overdue days a loan is 损失 (default 360).
    #[serde(deserialize_with = "whole::deserialize_u32")]
    pub loss_after_days: u32,
    /// The `approaching_non_performing` signal starts this many days before the 次级 boundary
    /// (default 30: from 61 days to 90); 0 turns it off.
    #[serde(deserialize_with = "whole::deserialize_u32")]
    pub approaching_days: u32,
    /// Consecutive clean months an upgrade out of non-performing needs (default 6).
    #[serde(deserialize_with = "whole::deserialize_u32")]
    pub clean_months: u32,
    /// Consecutive clean repayment periods an upgrade out of non-performing needs (default 2).
    #[serde(deserialize_with = "whole::deserialize_u32")]
    pub clean_periods: u32,
    /// How the two lengths combine (default `longer`: both).
    pub clean_rule: CleanRule,
}

impl Default for LoanSettings {
    fn default() -> Self {
        LoanSettings {
            special_mention_after_days: 0,
            substandard_after_days: 90,
            doubtful_after_days: 270,
            loss_after_days: 360,
            approaching_days: 30,
            clean_months: 6,
            clean_periods: 2,
            clean_rule: CleanRule::Longer,
        }
    }
}

impl LoanSettings {
    /// Parses and validates TOML settings; a field left out takes its default.
    ///
    /// # Errors
    /// [`LoanError::Rules`] naming the field (with line and column for syntax errors, unknown
    /// fields and wrong types), or a boundary that does not increase (see [`Self::validate`]).
    pub fn from_toml_str(text: &str) -> Result<Self, LoanError> {
        let settings: LoanSettings = serde_path_to_error::deserialize(toml::Deserializer::new(text)).map_err(|e| {
            let (line, column) = e.inner().span().map_or((None, None), |s| line_col(text, s.start));
            let path = e.path().to_string();
            RuleError {
                field: if path == "." { String::new() } else { path },
                message: e.inner().message().trim().to_string(),
                line,
                column,
            }
        })?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks the settings: the day boundaries increase strictly (关注 < 次级 < 可疑 < 损失) and
    /// `approaching_days` is at most the 次级 boundary.
    ///
    /// # Errors
    /// [`LoanError::Rules`] naming the first field out of order.
    pub fn validate(&self) -> Result<(), LoanError> {
        let boundaries = [
            ("special_mention_after_days", self.special_mention_after_days),
            ("substandard_after_days", self.substandard_after_days),
            ("doubtful_after_days", self.doubtful_after_days),
            ("loss_after_days", self.loss_after_days),
        ];
        for (before, after) in boundaries.iter().zip(boundaries.iter().skip(1)) {
            if after.1 <= before.1 {
                return Err(RuleError::new(
                    after.0,
                    format!(
                        "the day boundaries must increase: {} ({}) must be greater than {} ({})",
                        after.0, after.1, before.0, before.1
                    ),
                )
                .into());
            }
        }
        if self.approaching_days > self.substandard_after_days {
            return Err(RuleError::new(
                "approaching_days",
                format!(
                    "the approaching window ({} days) cannot start before day 0 (substandard_after_days is {})",
                    self.approaching_days, self.substandard_after_days
                ),
            )
            .into());
        }
        Ok(())
    }

    /// The regulatory floor for a loan `days` overdue (the larger of principal and interest
    /// overdue days): the worst class whose boundary `days` is greater than, 正常 below all.
    pub fn floor(&self, days: u32) -> LoanClass {
        if days > self.loss_after_days {
            LoanClass::Loss
        } else if days > self.doubtful_after_days {
            LoanClass::Doubtful
        } else if days > self.substandard_after_days {
            LoanClass::Substandard
        } else if days > self.special_mention_after_days {
            LoanClass::SpecialMention
        } else {
            LoanClass::Normal
        }
    }

    /// The boundary past which `class` applies: none for 正常.
    pub fn boundary(&self, class: LoanClass) -> Option<u32> {
        match class {
            LoanClass::Normal => None,
            LoanClass::SpecialMention => Some(self.special_mention_after_days),
            LoanClass::Substandard => Some(self.substandard_after_days),
            LoanClass::Doubtful => Some(self.doubtful_after_days),
            LoanClass::Loss => Some(self.loss_after_days),
        }
    }

    /// Whether `days` is in the approaching window: greater than the 次级 boundary minus
    /// `approaching_days` and not greater than the boundary.
    pub fn approaching(&self, days: u32) -> bool {
        self.approaching_days > 0
            && days > self.substandard_after_days - self.approaching_days.min(self.substandard_after_days)
            && days <= self.substandard_after_days
    }

    /// Whether the clean window is met by `months` consecutive clean months and `periods`
    /// consecutive clean repayment periods.
    pub fn clean_window_met(&self, months: u32, periods: u32) -> bool {
        match self.clean_rule {
            CleanRule::Longer => months >= self.clean_months && periods >= self.clean_periods,
            CleanRule::Either => months >= self.clean_months || periods >= self.clean_periods,
        }
    }
}

/// The 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (Option<usize>, Option<usize>) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (Some(line), Some(column))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_2023_rules() {
        let s = LoanSettings::from_toml_str("").unwrap();
        assert_eq!(s, LoanSettings::default());
        let floors: Vec<_> = [0, 1, 90, 91, 270, 271, 360, 361].iter().map(|&d| s.floor(d)).collect();
        use LoanClass::*;
        assert_eq!(
            floors,
            [Normal, SpecialMention, SpecialMention, Substandard, Substandard, Doubtful, Doubtful, Loss]
        );
        assert!(!s.approaching(60) && s.approaching(61) && s.approaching(90) && !s.approaching(91));
    }

    #[test]
    fn boundaries_must_increase() {
        let e = LoanSettings::from_toml_str("doubtful_after_days = 90").unwrap_err();
        let LoanError::Rules(e) = e else { panic!("{e:?}") };
        assert_eq!(e.field, "doubtful_after_days");
        let e = LoanSettings::from_toml_str("approaching_days = 91").unwrap_err();
        assert_eq!(e.field(), Some("approaching_days"));
        assert!(LoanSettings::from_toml_str("approaching_days = 90").is_ok());
    }

    #[test]
    fn unknown_fields_and_negative_days_are_refused() {
        let e = LoanSettings::from_toml_str("\nsubstandard_days = 90").unwrap_err();
        let LoanError::Rules(e) = e else { panic!("{e:?}") };
        assert_eq!((e.line, e.column), (Some(2), Some(1)));
        let e = LoanSettings::from_toml_str("loss_after_days = -1").unwrap_err();
        let LoanError::Rules(e) = e else { panic!("{e:?}") };
        assert_eq!(e.field, "loss_after_days");
    }
}
