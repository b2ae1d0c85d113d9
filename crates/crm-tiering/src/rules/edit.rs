//! Edits of a rule book, as an analyst sizes a rule change (`simulate`): one setting, or one
//! tier's minimum, in every version or in a selected one. Written once here for every surface;
//! the edited book is validated like any book (SPEC §9, RULES.md).

use rust_decimal::Decimal;

use super::RuleBook;
use super::file::{RuleBookFile, RuleVersionFile, TierFile};
use crate::error::{InputError, RuleError, TieringError};
use crate::month::Month;

/// Which versions of a book an edit applies to: every version, or those of one rule set (by
/// name), or the version effective from one month, or both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VersionSelection<'a> {
    /// The rule set's name; none for every set.
    pub rule_set: Option<&'a str>,
    /// The version's `effective_from`; none for every version.
    pub effective_from: Option<Month>,
}

impl RuleBook {
    /// A new book with setting `name` (a field of a rule version: `watch_months`,
    /// `exit_after_months`, `retention_months`, `downgrade_target`, `near_threshold_band`,
    /// `threshold_comparison`, `special_vip_months`, `special_vip_default_tier`, `tier_map`,
    /// `label_after`, `assessment_months`, `upgrade_timing`, ...) set to `value` (as the rule file's JSON writes it) in the selected versions. This
    /// book is unchanged.
    ///
    /// ```
    /// use crm_tiering::RuleBook;
    /// use crm_tiering::VersionSelection;
    /// let book = RuleBook::default_book()?;
    /// let longer = book.with_setting("watch_months", &serde_json::json!(6), VersionSelection::default())?;
    /// assert_eq!(longer.rule_sets()[0].versions[0].settings.watch_months, 6);
    /// assert!(book.with_setting("tiers", &serde_json::json!([]), VersionSelection::default()).is_err());
    /// // Settings a book leaves out until set (`label_after`, `assessment_months`, ...) too:
    /// let half_yearly = book.with_setting("assessment_months", &serde_json::json!([12, 6]), VersionSelection::default())?;
    /// assert_eq!(half_yearly.rule_sets()[0].versions[0].settings.assessment_months, Some(vec![6, 12]));
    /// let label = book.with_setting("label_after", &serde_json::json!(3), VersionSelection::default());
    /// assert!(label.unwrap_err().to_string().contains("label_after 3 is not below"));
    /// # Ok::<(), crm_tiering::TieringError>(())
    /// ```
    ///
    /// # Errors
    /// [`TieringError::Input`] on field `name` for a name that is not a setting, or on
    /// `rule_set` / `effective_from` for a selection of no version; [`TieringError::Rules`]
    /// naming the field when the edited book is invalid.
    pub fn with_setting(
        &self,
        name: &str,
        value: &serde_json::Value,
        selection: VersionSelection<'_>,
    ) -> Result<RuleBook, TieringError> {
        if matches!(name, "tiers" | "effective_from" | "aum") {
            let why = "not a setting: use with_tier_minimum for tiers, or edit the rule file for the versions";
            return Err(InputError::new("", None, name, why).into());
        }
        let mut file = self.source().clone();
        for (at, v) in selected(&mut file, selection)? {
            let mut obj = serde_json::to_value(&*v).map_err(|e| RuleError::new(&at, e.to_string()))?;
            let known = obj.get(name).is_some() || super::file::SETTINGS_LEFT_OUT_WHEN_UNSET.contains(&name);
            let Some(fields) = obj.as_object_mut().filter(|_| known) else {
                return Err(
                    InputError::new("", None, name, format!("`{name}` is not a setting of a rule version")).into()
                );
            };
            fields.insert(name.to_string(), value.clone());
            *v = serde_json::from_value(obj).map_err(|e| RuleError::new(format!("{at}.{name}"), e.to_string()))?;
        }
        RuleBook::from_file(file)
    }

    /// A new book with tier `tier`'s minimum AUM set to `min_aum` in the selected versions that
    /// have the tier. This book is unchanged.
    ///
    /// # Errors
    /// [`TieringError::Input`] on field `tier` when no selected version has the tier, or on
    /// the selection as [`RuleBook::with_setting`]; [`TieringError::Rules`] when the edited
    /// book is invalid (minimums no longer ascending, ...).
    pub fn with_tier_minimum(
        &self,
        tier: &str,
        min_aum: Decimal,
        selection: VersionSelection<'_>,
    ) -> Result<RuleBook, TieringError> {
        let why = || format!("no selected version has a tier `{tier}`");
        self.with_tiers_edited(tier, selection, ("tier", &why), |t| {
            t.min_aum = min_aum;
            1
        })
    }

    /// A new book with the minimum of tier `tier`'s criterion on `measure` (SPEC §19.3) set to
    /// `min` in the selected versions: every criterion on that measure in the tier's `qualify`,
    /// or, for `aum` and a tier that qualifies by `min_aum`, its minimum AUM. A what-if on a loan
    /// threshold, say. This book is unchanged.
    ///
    /// ```
    /// use crm_tiering::{RuleBook, VersionSelection, parse_amount};
    /// let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules-spec/gallery/cebbank-private.toml"))?;
    /// let book = RuleBook::from_toml_str(&text)?;
    /// let lower = book.with_criterion_minimum("private", "loan_balance", parse_amount("5000000")?, VersionSelection::default())?;
    /// let private = &lower.rule_sets()[0].versions[0].tiers[3];
    /// assert_eq!(private.qualify.as_ref().unwrap().criteria[1].min.to_string(), "5000000.00");
    /// assert!(book.with_criterion_minimum("gold", "loan_balance", parse_amount("1")?, VersionSelection::default()).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`TieringError::Input`] on field `measure` when no selected version has the tier with a
    /// criterion on `measure`, or on the selection as [`RuleBook::with_setting`];
    /// [`TieringError::Rules`] when the edited book is invalid.
    pub fn with_criterion_minimum(
        &self,
        tier: &str,
        measure: &str,
        min: Decimal,
        selection: VersionSelection<'_>,
    ) -> Result<RuleBook, TieringError> {
        let why = || format!("no selected version has a tier `{tier}` with a criterion on `{measure}`");
        self.with_tiers_edited(tier, selection, ("measure", &why), |t| match &mut t.qualify {
            Some(q) => {
                let mut n = 0;
                for c in q.any_of.iter_mut().chain(q.all_of.iter_mut()).filter(|c| c.measure == measure) {
                    c.min = min;
                    n += 1;
                }
                n
            }
            None if measure == "aum" => {
                t.min_aum = min;
                1
            }
            None => 0,
        })
    }

    /// A new book with `edit` applied to tier `tier` of the selected versions; `edit` returns
    /// how many values it set, and none set in all is an input error on `field` saying `why`.
    fn with_tiers_edited(
        &self,
        tier: &str,
        selection: VersionSelection<'_>,
        (field, why): (&str, &dyn Fn() -> String),
        mut edit: impl FnMut(&mut TierFile) -> usize,
    ) -> Result<RuleBook, TieringError> {
        let mut file = self.source().clone();
        let mut found = 0;
        for (_, v) in selected(&mut file, selection)? {
            for t in v.tiers.iter_mut().filter(|t| t.code == tier) {
                found += edit(t);
            }
        }
        if found == 0 {
            return Err(InputError::new("", None, field, why()).into());
        }
        RuleBook::from_file(file)
    }
}

/// The selected versions of a book file, with their field paths; an error when there are none.
fn selected<'f>(
    file: &'f mut RuleBookFile,
    selection: VersionSelection<'_>,
) -> Result<Vec<(String, &'f mut RuleVersionFile)>, TieringError> {
    let mut out = Vec::new();
    for (i, set) in file.rule_sets.iter_mut().enumerate() {
        if selection.rule_set.is_some_and(|n| n != set.name) {
            continue;
        }
        for (j, v) in set.versions.iter_mut().enumerate() {
            if selection.effective_from.is_some_and(|m| m != v.effective_from) {
                continue;
            }
            out.push((format!("rule_sets[{i}].versions[{j}]"), v));
        }
    }
    if !out.is_empty() {
        return Ok(out);
    }
    let (field, what) = match (selection.rule_set, selection.effective_from) {
        (Some(n), Some(m)) => ("rule_set", format!("rule set `{n}` has no version effective from {m}")),
        (Some(n), None) => ("rule_set", format!("the book has no rule set `{n}`")),
        (None, Some(m)) => ("effective_from", format!("no version is effective from {m}")),
        (None, None) => ("effective_from", "the book has no versions".to_string()),
    };
    Err(InputError::new("", None, field, what).into())
}
