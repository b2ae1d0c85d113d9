//! The five loan classes (五级分类), the customer's trend and a loan's upgrade status (SPEC
//! §21.1, §21.4).

use std::fmt;

use serde::{Deserialize, Serialize};

/// A loan's risk class under the five-level classification (五级分类), kindest first: the
/// order is the severity, so `a < b` means `a` is kinder than `b`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoanClass {
    /// 正常: performing, no reason to doubt full repayment.
    Normal,
    /// 关注: performing, with factors that may hurt repayment (any overdue day at the latest).
    SpecialMention,
    /// 次级: non-performing, some loss likely (over 90 days overdue at the latest).
    Substandard,
    /// 可疑: non-performing, a large loss likely (over 270 days overdue at the latest).
    Doubtful,
    /// 损失: non-performing, most or all of it lost (over 360 days overdue at the latest).
    Loss,
}

impl LoanClass {
    /// Every class, kindest first.
    pub const ALL: [LoanClass; 5] =
        [LoanClass::Normal, LoanClass::SpecialMention, LoanClass::Substandard, LoanClass::Doubtful, LoanClass::Loss];

    /// The stable snake_case code used in files and across languages.
    pub fn as_str(self) -> &'static str {
        match self {
            LoanClass::Normal => "normal",
            LoanClass::SpecialMention => "special_mention",
            LoanClass::Substandard => "substandard",
            LoanClass::Doubtful => "doubtful",
            LoanClass::Loss => "loss",
        }
    }

    /// The Chinese display name.
    pub fn name_zh(self) -> &'static str {
        match self {
            LoanClass::Normal => "正常",
            LoanClass::SpecialMention => "关注",
            LoanClass::Substandard => "次级",
            LoanClass::Doubtful => "可疑",
            LoanClass::Loss => "损失",
        }
    }

    /// The stable numeric code, 1 (正常) to 5 (损失), as banks' systems number the classes.
    pub fn number(self) -> u8 {
        match self {
            LoanClass::Normal => 1,
            LoanClass::SpecialMention => 2,
            LoanClass::Substandard => 3,
            LoanClass::Doubtful => 4,
            LoanClass::Loss => 5,
        }
    }

    /// Reads a bank's class text: the code (`substandard`), the Chinese name (`次级`) or the
    /// number (`3`), exactly as written (no trimming, no case folding, as every code of SPEC
    /// §16); `None` for anything else.
    pub fn from_text(text: &str) -> Option<Self> {
        LoanClass::ALL.into_iter().find(|c| c.as_str() == text || c.name_zh() == text || c.number().to_string() == text)
    }

    /// Whether the class is non-performing (不良): 次级, 可疑 or 损失.
    pub fn is_non_performing(self) -> bool {
        self >= LoanClass::Substandard
    }
}

impl fmt::Display for LoanClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A customer's worst class this month against last month's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trend {
    /// Worse than last month's worst class.
    Worse,
    /// The same as last month's worst class.
    Same,
    /// Kinder than last month's worst class.
    Better,
    /// The customer had no loan last month (or no state).
    New,
}

impl Trend {
    /// The stable snake_case code.
    pub fn as_str(self) -> &'static str {
        match self {
            Trend::Worse => "worse",
            Trend::Same => "same",
            Trend::Better => "better",
            Trend::New => "new",
        }
    }

    /// The Chinese display name.
    pub fn name_zh(self) -> &'static str {
        match self {
            Trend::Worse => "恶化",
            Trend::Same => "持平",
            Trend::Better => "好转",
            Trend::New => "新增",
        }
    }
}

impl fmt::Display for Trend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a loan leaves non-performing this month (SPEC §21.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Upgrade {
    /// No upgrade out of non-performing is at stake: last month's effective class was
    /// performing, the loan is new, or this month's class is non-performing anyway.
    None,
    /// Last month's effective class was non-performing, this month's floor and bank class are
    /// both performing, and the clean window is met: the loan leaves non-performing.
    Allowed,
    /// As [`Upgrade::Allowed`] but the clean window is not met: the effective class is held
    /// at 次级.
    Held,
}

impl Upgrade {
    /// The stable snake_case code: `none`, `allowed` or `held`.
    pub fn as_str(self) -> &'static str {
        match self {
            Upgrade::None => "none",
            Upgrade::Allowed => "allowed",
            Upgrade::Held => "held",
        }
    }
}

impl fmt::Display for Upgrade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_read_from_code_name_or_number() {
        for c in LoanClass::ALL {
            assert_eq!(LoanClass::from_text(c.as_str()), Some(c));
            assert_eq!(LoanClass::from_text(c.name_zh()), Some(c));
            assert_eq!(LoanClass::from_text(&c.number().to_string()), Some(c));
            assert_eq!(LoanClass::from_text(&format!(" {}", c.as_str())), None);
        }
        assert_eq!(LoanClass::from_text("pass"), None);
        assert_eq!(LoanClass::from_text("6"), None);
        assert_eq!(LoanClass::from_text(""), None);
    }

    #[test]
    fn order_is_severity() {
        assert!(LoanClass::Normal < LoanClass::SpecialMention);
        assert!(LoanClass::Doubtful < LoanClass::Loss);
        assert!(!LoanClass::SpecialMention.is_non_performing());
        assert!(LoanClass::Substandard.is_non_performing());
    }
}
