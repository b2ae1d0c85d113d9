//! The contribution rule book (SPEC §20.2): the day-count basis, the rounding, the FTP rate
//! table, the allocation stages, the provision rates and the capital charge.

mod file;
mod stage;

use std::path::Path;

use crm_tiering::Decimal;

use crate::error::{ContributionError, ContributionErrors};
use crate::fen::Rounding;
use crate::ftp::{FtpRate, FtpTable, check_rate};
use crate::inputs::LoanClass;
pub use file::Dimension;
pub use stage::{Driver, Stage};

/// A checked contribution rule book.
///
/// ```toml
/// basis = 360                 # the day-count basis: 360 or 365
/// rounding = "half_up"        # 四舍五入 (default) or "half_even"
/// [ftp]
/// rates = [{ product = "demand", term = "none", effective = "2024-01", rate = "0.0230" }]
/// [[stages]]
/// pool = "counter"
/// driver = "quantity"
/// quantity = "counter_minutes"
/// [provision]                 # 正常 / 关注 / 次级 / 可疑 / 损失
/// normal = "0.015"
/// special_mention = "0.03"
/// substandard = "0.25"
/// doubtful = "0.5"
/// loss = "1"
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleBook {
    basis: u32,
    rounding: Rounding,
    ftp: FtpTable,
    stages: Vec<Stage>,
    provision: Option<[Decimal; 5]>,
    capital_rate: Option<Decimal>,
}

impl RuleBook {
    /// Reads a book from TOML text. A book whose `[ftp]` names a `file` must be read with
    /// [`RuleBook::from_path`] (the file is found beside the book).
    ///
    /// # Errors
    /// [`ContributionError::Rules`] naming the key: a syntax error, an unknown key, a value
    /// out of range or a stage that cannot run.
    pub fn from_toml_str(text: &str) -> Result<Self, ContributionErrors> {
        Self::parse(text, None)
    }

    /// Reads a book from a TOML file; `[ftp] file` is a CSV of rates (columns `product`,
    /// `term`, `effective`, `rate`) relative to the book's directory.
    ///
    /// # Errors
    /// As [`RuleBook::from_toml_str`], and a file that cannot be read or a rate table line
    /// that cannot be parsed.
    pub fn from_path(path: &Path) -> Result<Self, ContributionErrors> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ContributionError::rules("", format!("cannot read {}: {e}", path.display())))?;
        Self::parse(&text, Some(path.parent().unwrap_or(Path::new("."))))
    }

    fn parse(text: &str, dir: Option<&Path>) -> Result<Self, ContributionErrors> {
        let book: file::BookFile = serde_path_to_error::deserialize(toml::Deserializer::new(text)).map_err(|e| {
            let path = e.path().to_string();
            let field = if path == "." { String::new() } else { path };
            let message = e.inner().message().trim().to_string();
            match e.inner().span() {
                Some(span) => {
                    let before = text.get(..span.start).unwrap_or(text);
                    let line = before.matches('\n').count() + 1;
                    ContributionError::rules(field, format!("line {line}: {message}"))
                }
                None => ContributionError::rules(field, message),
            }
        })?;
        let mut errors = Vec::new();
        let basis = match book.basis.0 {
            360 => 360,
            365 => 365,
            other => {
                let message = format!("{other} is not a day-count basis: expected 360 or 365");
                errors.push(ContributionError::rules("basis", message));
                365
            }
        };
        let ftp = ftp_table(&book.ftp, dir).unwrap_or_else(|e| {
            errors.extend(e);
            FtpTable::default()
        });
        let stages = stage::compile(&book.stages).unwrap_or_else(|e| {
            errors.extend(e);
            Vec::new()
        });
        let provision = book.provision.as_ref().map(|p| {
            let rates = [p.normal.0, p.special_mention.0, p.substandard.0, p.doubtful.0, p.loss.0];
            for (class, rate) in CLASSES.iter().zip(rates) {
                errors.extend(rule_rate(rate, &format!("provision.{}", class.as_str())));
            }
            rates
        });
        let capital_rate = book.capital.as_ref().map(|c| c.rate.0);
        if let Some(rate) = capital_rate {
            errors.extend(rule_rate(rate, "capital.rate"));
        }
        if !errors.is_empty() {
            return Err(ContributionErrors(errors));
        }
        Ok(RuleBook { basis, rounding: book.rounding, ftp, stages, provision, capital_rate })
    }

    /// The day-count basis, 360 or 365.
    #[must_use]
    pub fn basis(&self) -> u32 {
        self.basis
    }

    /// How computed amounts are rounded to the fen.
    #[must_use]
    pub fn rounding(&self) -> Rounding {
        self.rounding
    }

    /// The FTP rate table.
    #[must_use]
    pub fn ftp(&self) -> &FtpTable {
        &self.ftp
    }

    /// The same book with another FTP rate table: what an analyst's what-if on transfer
    /// prices runs (the basis, rounding, stages, provision and capital are kept).
    #[must_use]
    pub fn with_ftp(&self, ftp: FtpTable) -> RuleBook {
        RuleBook { ftp, ..self.clone() }
    }

    /// The allocation stages, in the order they run.
    #[must_use]
    pub fn stages(&self) -> &[Stage] {
        &self.stages
    }

    /// The annual provision rate of a loan class, when the book has `[provision]`.
    #[must_use]
    pub fn provision_rate(&self, class: LoanClass) -> Option<Decimal> {
        let i = CLASSES.iter().position(|c| *c == class)?;
        self.provision.and_then(|p| p.get(i).copied())
    }

    /// The annual capital charge rate, when the book has `[capital]`.
    #[must_use]
    pub fn capital_rate(&self) -> Option<Decimal> {
        self.capital_rate
    }
}

const CLASSES: [LoanClass; 5] =
    [LoanClass::Normal, LoanClass::SpecialMention, LoanClass::Substandard, LoanClass::Doubtful, LoanClass::Loss];

/// A rule book rate between 0 and 1, at most ten decimals.
fn rule_rate(rate: Decimal, field: &str) -> Option<ContributionError> {
    check_rate(rate, "", field, true).map(|e| match e {
        ContributionError::Record { message, .. } => ContributionError::rules(field, message),
        other => other,
    })
}

fn ftp_table(ftp: &file::FtpFile, dir: Option<&Path>) -> Result<FtpTable, Vec<ContributionError>> {
    let mut named: Vec<(String, FtpRate)> = ftp
        .rates
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let rate =
                FtpRate { product: r.product.clone(), term: r.term.clone(), effective: r.effective, rate: r.rate.0 };
            (format!("ftp.rates[{i}]"), rate)
        })
        .collect();
    if let Some(name) = &ftp.file {
        let Some(dir) = dir else {
            return Err(vec![ContributionError::rules(
                "ftp.file",
                "a rate file needs the book's path: read the book from its file",
            )]);
        };
        let path = dir.join(name);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| vec![ContributionError::rules("ftp.file", format!("cannot read {}: {e}", path.display()))])?;
        let rates = crate::csv::read_ftp_rates(name, &text).map_err(|e| e.0)?;
        named.extend(rates.into_iter().enumerate().map(|(i, r)| (format!("{name} rate {}", i + 1), r)));
    }
    if named.is_empty() {
        return Err(vec![ContributionError::rules("ftp", "the rate table has no rate: give `rates` or a `file`")]);
    }
    FtpTable::build(named.iter().map(|(n, r)| (n.clone(), r))).map_err(|errors| {
        let inline = |e: ContributionError| match e {
            ContributionError::Record { record, field, message } if record.starts_with("ftp.rates[") => {
                ContributionError::rules(format!("{record}.{field}"), message)
            }
            other => other,
        };
        errors.into_iter().map(inline).collect()
    })
}
