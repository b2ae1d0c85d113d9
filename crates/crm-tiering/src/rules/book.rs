//! The validated rule book: loading, fingerprint, rule-set and version selection.

use std::path::Path;

use super::compile::compile;
use super::{CustomerKind, DEFAULT_RULES_TOML, RuleBookFile, RuleSet, RuleSetId, RuleVersion};
use crate::error::{InputError, RuleError, TieringError};
use crate::history::HistoryLayout;
use crate::month::Month;

/// A validated rule book. Immutable, `Send + Sync`, cheap to share behind an `Arc`.
///
/// ```
/// use crm_tiering::{RuleBook, CustomerKind, Month};
/// let book = RuleBook::default_book()?;
/// let set = book.rule_set(book.select(None, CustomerKind::Personal)?);
/// let v = set.version_for("2024-01".parse()?).unwrap();
/// let names: Vec<&str> = v.tiers.iter().map(|t| t.name_zh.as_str()).collect();
/// assert_eq!(names, ["金卡", "白金卡", "钻石卡", "私行级"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RuleBook {
    name: String,
    /// The customer kinds the book tiers, in [`CustomerKind::ALL`] order.
    kinds: Vec<CustomerKind>,
    rule_sets: Vec<RuleSet>,
    source: RuleBookFile,
    fingerprint: String,
    /// What each customer's history keeps for the windows of every version (SPEC §19.5).
    history: HistoryLayout,
}

impl RuleBook {
    /// The default rule book of `rules-spec/default-rules.toml`.
    ///
    /// # Errors
    /// Never in a released build (a test checks the shipped file); the `Result` keeps the
    /// library free of panics.
    pub fn default_book() -> Result<Self, TieringError> {
        Self::from_toml_str(DEFAULT_RULES_TOML)
    }

    /// Parses and validates a TOML rule book.
    ///
    /// # Errors
    /// [`TieringError::Rules`] naming the field (and line and column for syntax errors and
    /// unknown fields).
    pub fn from_toml_str(text: &str) -> Result<Self, TieringError> {
        let file: RuleBookFile = serde_path_to_error::deserialize(toml::Deserializer::new(text)).map_err(|e| {
            let (line, column) = match e.inner().span() {
                Some(span) => line_col(text, span.start),
                None => (None, None),
            };
            RuleError { field: field_path(e.path()), message: toml_message(e.inner()), line, column }
        })?;
        Self::from_file(file)
    }

    /// Parses and validates a JSON rule book.
    ///
    /// # Errors
    /// [`TieringError::Rules`] naming the field, line and column.
    pub fn from_json_str(text: &str) -> Result<Self, TieringError> {
        let json_error = |field: String, e: &serde_json::Error| RuleError {
            field,
            message: strip_json_position(&e.to_string()),
            line: Some(e.line()),
            column: Some(e.column()),
        };
        let mut de = serde_json::Deserializer::from_str(text);
        let file: RuleBookFile =
            serde_path_to_error::deserialize(&mut de).map_err(|e| json_error(field_path(e.path()), e.inner()))?;
        de.end().map_err(|e| json_error(String::new(), &e))?;
        Self::from_file(file)
    }

    /// Parses a rule book from text, JSON when it starts with `{`, TOML otherwise.
    ///
    /// # Errors
    /// As [`RuleBook::from_toml_str`] and [`RuleBook::from_json_str`].
    pub fn from_str_auto(text: &str) -> Result<Self, TieringError> {
        if text.trim_start().starts_with('{') { Self::from_json_str(text) } else { Self::from_toml_str(text) }
    }

    /// Reads a rule book file (`.json` is JSON, anything else TOML).
    ///
    /// # Errors
    /// When the file cannot be read, or as [`RuleBook::from_toml_str`].
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self, TieringError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| RuleError::new(path.display().to_string(), format!("cannot read the rule file: {e}")))?;
        if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
            Self::from_json_str(&text)
        } else {
            Self::from_str_auto(&text)
        }
    }

    /// Validates a parsed file and compiles it.
    ///
    /// # Errors
    /// [`TieringError::Rules`] naming the first invalid field.
    pub fn from_file(file: RuleBookFile) -> Result<Self, TieringError> {
        let rule_sets = compile(&file)?;
        let kinds = customer_kinds(&file)?;
        if let Some(loans) = file.loans {
            loans.validate().map_err(|e| match e {
                crate::loans::LoanError::Rules(mut r) => {
                    r.field = format!("loans.{}", r.field);
                    r
                }
                other => RuleError::new("loans", other.to_string()),
            })?;
        }
        let fingerprint = crate::digest::sha256_hex(serde_json::to_string(&file).unwrap_or_default().as_bytes());
        let history = HistoryLayout::of_versions(rule_sets.iter().flat_map(|s| s.versions.iter()));
        Ok(RuleBook { name: file.name.clone(), kinds, rule_sets, source: file, fingerprint, history })
    }

    /// The loan classification settings of the book's `[loans]` table (SPEC §21.2), the 2023
    /// rules' defaults when it has none.
    pub fn loan_settings(&self) -> crate::loans::LoanSettings {
        self.source.loans.unwrap_or_default()
    }

    /// What each customer's history keeps for the book's windows (SPEC §19.5): empty for a
    /// book without windows.
    pub fn history_layout(&self) -> &HistoryLayout {
        &self.history
    }

    /// The customer kinds the book tiers (`customer_kinds`, SPEC §9).
    pub fn customer_kinds(&self) -> &[CustomerKind] {
        &self.kinds
    }

    /// Whether the book tiers customers of `kind`.
    pub fn tiers_kind(&self, kind: CustomerKind) -> bool {
        self.kinds.contains(&kind)
    }

    /// The error of a customer whose kind the book does not tier (SPEC §9).
    #[cold]
    pub(crate) fn kind_not_tiered(&self, customer: &str, kind: CustomerKind, month: Option<Month>) -> TieringError {
        let kinds: Vec<&str> = self.kinds.iter().map(|k| k.as_str()).collect();
        InputError::new(
            customer,
            month,
            "customer_kind",
            format!(
                "the customer is {kind}, and the rule book tiers {} customers only (customer_kinds): it is refused rather than tiered by rules written for another kind",
                kinds.join(" and ")
            ),
        )
        .into()
    }

    /// The book's fingerprint: the SHA-256 of its canonical JSON (every setting, defaults
    /// filled in), as 64 lowercase hex digits. Two books with the same rules have the same
    /// fingerprint whatever their file format or layout; stored states carry the fingerprint of
    /// the book that wrote them, so that states are never silently evaluated under other rules.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Every tier code of the book, each once: the default rule set's latest version's tiers in
    /// rank order, then codes found only in other sets and versions, in book order. Bindings
    /// use it for categorical tier columns.
    pub fn tier_codes(&self) -> Vec<crate::code::TierCode> {
        let mut sets: Vec<&RuleSet> = self.rule_sets.iter().collect();
        sets.sort_by_key(|s| s.legal_entity.is_some() || s.customer_kind.is_some());
        let mut codes = Vec::new();
        for set in sets {
            for v in set.versions.iter().rev() {
                for t in &v.tiers {
                    if !codes.contains(&t.code) {
                        codes.push(t.code);
                    }
                }
            }
        }
        codes
    }

    /// The book's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether any rule set selects by legal entity (when none does, selection ignores it).
    pub fn selects_by_legal_entity(&self) -> bool {
        self.rule_sets.iter().any(|s| s.legal_entity.is_some())
    }

    /// The codes of the measures some version of the book declares besides `aum` (SPEC §19.1),
    /// in order of first declaration, each once.
    pub fn measure_codes(&self) -> Vec<crate::MeasureCode> {
        let mut codes = Vec::new();
        for m in self.rule_sets.iter().flat_map(|s| &s.versions).flat_map(|v| &v.measures) {
            if !codes.contains(&m.code) {
                codes.push(m.code);
            }
        }
        codes
    }

    /// The rule sets.
    pub fn rule_sets(&self) -> &[RuleSet] {
        &self.rule_sets
    }

    /// A rule set by id.
    #[expect(
        clippy::indexing_slicing,
        reason = "a book has at least one rule set (compile refuses none) and the index is clamped to the last; ids are only made by `select` on this book"
    )]
    pub fn rule_set(&self, id: RuleSetId) -> &RuleSet {
        &self.rule_sets[id.index().min(self.rule_sets.len().saturating_sub(1))]
    }

    /// The book as written (with defaults filled in), for tools and bindings.
    pub fn source(&self) -> &RuleBookFile {
        &self.source
    }

    /// The book as JSON text (defaults filled in). Loading it again gives an equal book.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.source).unwrap_or_default()
    }

    /// Selects the rule set for a customer: the most specific match, legal entity and kind
    /// first, then legal entity, then kind, then the default.
    ///
    /// # Errors
    /// [`TieringError::Rules`] when no rule set applies (a book without a default set).
    pub fn select(&self, legal_entity: Option<&str>, kind: CustomerKind) -> Result<RuleSetId, TieringError> {
        let mut best: Option<(u8, usize)> = None;
        for (i, s) in self.rule_sets.iter().enumerate() {
            let mut score = 0u8;
            if let Some(e) = &s.legal_entity {
                if Some(e.as_str()) != legal_entity {
                    continue;
                }
                score += 2;
            }
            if let Some(k) = s.customer_kind {
                if k != kind {
                    continue;
                }
                score += 1;
            }
            if best.is_none_or(|(b, _)| score > b) {
                best = Some((score, i));
            }
        }
        match best {
            Some((_, i)) => match u32::try_from(i) {
                Ok(i) => Ok(RuleSetId(i)),
                Err(_) => Err(RuleError::new("rule_sets", "a rule book holds at most 4294967295 rule sets").into()),
            },
            None => Err(RuleError::new(
                "rule_sets",
                format!(
                    "no rule set applies to legal entity `{}`, customer kind {kind} (add a rule set without selectors as the default)",
                    legal_entity.unwrap_or("")
                ),
            )
            .into()),
        }
    }

    /// The version of a rule set in force for a month.
    ///
    /// # Errors
    /// [`TieringError::Input`] naming the customer and month when no version is in force yet.
    pub fn version_for(&self, id: RuleSetId, month: Month, customer: &str) -> Result<&RuleVersion, TieringError> {
        let set = self.rule_set(id);
        set.version_for(month).ok_or_else(|| {
            InputError::new(
                customer,
                Some(month),
                "month",
                format!(
                    "no version of rule set `{}` is in force (its first version starts {})",
                    set.name,
                    set.versions.first().map(|v| v.effective_from.to_string()).unwrap_or_default()
                ),
            )
            .into()
        })
    }
}

/// The path of a field as `rule_sets[0].versions[1].tiers[2].min_aum` (empty at the top).
fn field_path(path: &serde_path_to_error::Path) -> String {
    let p = path.to_string();
    if p == "." { String::new() } else { p }
}

fn line_col(text: &str, offset: usize) -> (Option<usize>, Option<usize>) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (Some(line), Some(column))
}

fn toml_message(e: &toml::de::Error) -> String {
    e.message().trim().to_string()
}

fn strip_json_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// The kinds a book tiers: `customer_kinds` as written (not empty, each once, every kind a rule
/// set selects included), or `personal` and the kinds rule sets select.
fn customer_kinds(file: &RuleBookFile) -> Result<Vec<CustomerKind>, RuleError> {
    let selected = |k: CustomerKind| file.rule_sets.iter().any(|s| s.customer_kind == Some(k));
    let Some(listed) = &file.customer_kinds else {
        return Ok(CustomerKind::ALL.iter().copied().filter(|&k| k == CustomerKind::Personal || selected(k)).collect());
    };
    if listed.is_empty() {
        return Err(RuleError::new("customer_kinds", "a rule book tiers at least one customer kind"));
    }
    for (i, k) in listed.iter().enumerate() {
        if listed.iter().take(i).any(|l| l == k) {
            return Err(RuleError::new(format!("customer_kinds[{i}]"), format!("{k} is listed twice")));
        }
    }
    for (i, set) in file.rule_sets.iter().enumerate() {
        if let Some(k) = set.customer_kind
            && !listed.contains(&k)
        {
            return Err(RuleError::new(
                format!("rule_sets[{i}].customer_kind"),
                format!("the rule set selects {k} customers, which `customer_kinds` does not list"),
            ));
        }
    }
    Ok(CustomerKind::ALL.iter().copied().filter(|k| listed.contains(k)).collect())
}
