//! The columns of an input table: which header names what, resolved once for every surface.

use rustc_hash::{FxHashMap, FxHashSet};

use rust_decimal::Decimal;

use crate::error::{InputError, TieringError};
use crate::money::from_fen;
use crate::rules::RuleBook;

/// The kinds of input table a portfolio month reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TableKind {
    /// Monthly AUM: one row per customer and month, with a total `aum` or component averages.
    Aum,
    /// Daily balances: one row per customer, component and day.
    Daily,
    /// Special VIP designations: grant or revoke, per customer and month.
    Designations,
}

/// What a column holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ColumnRole {
    /// `month` (月份): the evaluated month, `YYYY-MM` or `YYYYMM`.
    Month,
    /// `customer_id` (客户号).
    CustomerId,
    /// `legal_entity` (法人机构号), for rule selection.
    LegalEntity,
    /// `legal_entity_name` (法人机构名称), for reports.
    LegalEntityName,
    /// `customer_kind` (客户类型): personal or corporate.
    CustomerKind,
    /// `aum` (月日均): the month's AUM.
    Aum,
    /// `date` (日期) of a daily balance.
    Date,
    /// `component` (资产类型) of a daily balance.
    Component,
    /// `balance` (日终余额).
    Balance,
    /// `action` (操作) of a designation: grant (认定) or revoke (撤销).
    Action,
    /// `tier` (等级) of a designation.
    Tier,
    /// `months` (有效月数) of a designation.
    Months,
    /// A component's monthly daily average, by the component's code.
    ComponentAverage(String),
    /// A measure's value for the month (SPEC §19.1), by the measure's code.
    Measure(String),
}

impl ColumnRole {
    /// A small index for every role but a component's.
    fn slot(&self) -> Option<usize> {
        Some(match self {
            ColumnRole::Month => 0,
            ColumnRole::CustomerId => 1,
            ColumnRole::LegalEntity => 2,
            ColumnRole::LegalEntityName => 3,
            ColumnRole::CustomerKind => 4,
            ColumnRole::Aum => 5,
            ColumnRole::Date => 6,
            ColumnRole::Component => 7,
            ColumnRole::Balance => 8,
            ColumnRole::Action => 9,
            ColumnRole::Tier => 10,
            ColumnRole::Months => 11,
            ColumnRole::ComponentAverage(_) | ColumnRole::Measure(_) => return None,
        })
    }

    /// Whether the column holds amounts (`aum`, a component, a measure, `balance`).
    pub(crate) fn is_amount(&self) -> bool {
        matches!(self, ColumnRole::Aum | ColumnRole::ComponentAverage(_) | ColumnRole::Measure(_) | ColumnRole::Balance)
    }

    /// The role's name: `month`, `customer_id`, ..., or a component's or measure's code.
    pub fn name(&self) -> &str {
        match self {
            ColumnRole::Month => "month",
            ColumnRole::CustomerId => "customer_id",
            ColumnRole::LegalEntity => "legal_entity",
            ColumnRole::LegalEntityName => "legal_entity_name",
            ColumnRole::CustomerKind => "customer_kind",
            ColumnRole::Aum => "aum",
            ColumnRole::Date => "date",
            ColumnRole::Component => "component",
            ColumnRole::Balance => "balance",
            ColumnRole::Action => "action",
            ColumnRole::Tier => "tier",
            ColumnRole::Months => "months",
            ColumnRole::ComponentAverage(code) | ColumnRole::Measure(code) => code,
        }
    }
}

/// Header names of each role, in English and Chinese.
const NAMES: &[(&[&str], ColumnRole)] = &[
    (&["month", "stat_month", "月份", "数据月份", "统计月份"], ColumnRole::Month),
    (&["customer_id", "cust_id", "客户号", "客户编号"], ColumnRole::CustomerId),
    (&["legal_entity", "法人机构号", "法人机构", "法人行号"], ColumnRole::LegalEntity),
    (&["legal_entity_name", "法人机构名称", "机构名称"], ColumnRole::LegalEntityName),
    (&["customer_kind", "客户类型"], ColumnRole::CustomerKind),
    (&["aum", "月日均aum", "月日均"], ColumnRole::Aum),
    (&["date", "日期", "数据日期"], ColumnRole::Date),
    (&["component", "资产类型", "产品类型"], ColumnRole::Component),
    (&["balance", "余额", "日终余额"], ColumnRole::Balance),
    (&["action", "操作"], ColumnRole::Action),
    (&["tier", "等级"], ColumnRole::Tier),
    (&["months", "有效月数"], ColumnRole::Months),
];

fn normalize(header: &str) -> String {
    header.trim().to_lowercase().replace([' ', '-'], "_")
}

/// An input error about a table's header, naming the column as its field.
fn input_error(field: &str, message: String) -> TieringError {
    InputError::new("", None, field, message).into()
}

/// The component columns an AUM table may have, by code or Chinese name, each with its code
/// (none for the other tables).
fn component_names(book: &RuleBook, kind: TableKind) -> FxHashMap<String, String> {
    let mut components: FxHashMap<String, String> = FxHashMap::default();
    if kind == TableKind::Aum {
        for set in book.rule_sets() {
            for v in &set.versions {
                for c in v.aum.components() {
                    components.entry(c.code.clone()).or_insert_with(|| c.code.clone());
                    if !c.name_zh.is_empty() {
                        components.entry(c.name_zh.clone()).or_insert_with(|| c.code.clone());
                    }
                }
            }
        }
    }
    components
}

/// The measure columns an AUM table may have: the codes of the measures any version of the
/// book declares (none for the other tables, and none for a book without measures).
fn measure_codes(book: &RuleBook, kind: TableKind) -> FxHashSet<String> {
    let mut codes = FxHashSet::default();
    if kind == TableKind::Aum {
        for set in book.rule_sets() {
            for v in &set.versions {
                codes.extend(v.measures.iter().map(|m| m.code.to_string()));
            }
        }
    }
    codes
}

/// The columns a table of `kind` takes, for the message about an unknown one.
fn expected_columns(kind: TableKind, components: &FxHashMap<String, String>, measures: &FxHashSet<String>) -> String {
    match kind {
        TableKind::Aum => {
            let mut codes: Vec<&str> = components.iter().filter(|(k, v)| k == v).map(|(k, _)| k.as_str()).collect();
            codes.sort_unstable();
            let mut measures: Vec<&str> = measures.iter().map(String::as_str).collect();
            measures.sort_unstable();
            let measures = if measures.is_empty() {
                String::new()
            } else {
                format!(", and measure codes ({})", measures.join(", "))
            };
            format!(
                "month, customer_id, legal_entity, legal_entity_name, customer_kind, and either aum or component codes of the rule book ({}){measures}",
                codes.join(", ")
            )
        }
        TableKind::Daily => {
            "date, customer_id, legal_entity, legal_entity_name, customer_kind, component, balance".into()
        }
        TableKind::Designations => "customer_id, month, action, tier, months".into(),
    }
}

/// Whether a column of `role` belongs in a table of `kind`.
fn belongs(role: &ColumnRole, kind: TableKind) -> bool {
    matches!(
        (role, kind),
        (ColumnRole::CustomerId | ColumnRole::LegalEntity | ColumnRole::LegalEntityName, _)
            | (ColumnRole::CustomerKind, TableKind::Aum | TableKind::Daily)
            | (
                ColumnRole::Month | ColumnRole::Aum | ColumnRole::ComponentAverage(_) | ColumnRole::Measure(_),
                TableKind::Aum
            )
            | (ColumnRole::Date | ColumnRole::Component | ColumnRole::Balance, TableKind::Daily)
            | (ColumnRole::Month | ColumnRole::Action | ColumnRole::Tier | ColumnRole::Months, TableKind::Designations)
    )
}

/// The columns of a table: each header resolved to its role, every role named once.
///
/// ```
/// use crm_tiering::RuleBook;
/// use crm_tiering::portfolio::{Columns, TableKind};
/// let book = RuleBook::default_book()?;
/// let cols = Columns::resolve(&book, TableKind::Aum, &["month", "客户号", "time_deposit"])?;
/// assert_eq!(cols.width(), 3);
/// // Two names of one component are refused, naming both columns.
/// let err = Columns::resolve(&book, TableKind::Aum, &["customer_id", "time_deposit", "定期存款"]).unwrap_err();
/// assert_eq!(err.field(), Some("定期存款"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Columns {
    pub(crate) kind: TableKind,
    pub(crate) roles: Vec<Option<ColumnRole>>,
    by_role: FxHashMap<ColumnRole, usize>,
    /// The column of each role other than a component, by [`ColumnRole::slot`]: the readers
    /// look them up for every record.
    slots: [Option<usize>; 12],
    /// Component average columns: (column, component code), in column order.
    pub(crate) components: Vec<(usize, std::sync::Arc<str>)>,
    /// Measure columns: (column, measure code), in column order.
    pub(crate) measures: Vec<(usize, std::sync::Arc<str>)>,
    /// Amount columns named `<name>_fen`: they hold integer fen (分).
    fen: Vec<bool>,
    /// The headers, as given (trimmed).
    names: Vec<Box<str>>,
}

impl Columns {
    /// Resolves a header against the rule book: role names in English or Chinese, component
    /// columns by code or Chinese name and measure columns by the code of a measure some
    /// version of the book declares (SPEC §19.1; AUM tables only). Columns whose role the
    /// table does not use (`legal_entity_name`, say) are kept but ignored.
    ///
    /// # Errors
    /// [`TieringError::Input`] naming the column (field) for an unknown column, two columns of
    /// one role or component, a missing required column, or an `aum` column together with
    /// component columns.
    pub fn resolve(book: &RuleBook, kind: TableKind, headers: &[&str]) -> Result<Self, TieringError> {
        let components = component_names(book, kind);
        let measures = measure_codes(book, kind);
        let mut cols = Columns {
            kind,
            roles: Vec::new(),
            by_role: FxHashMap::default(),
            slots: [None; 12],
            components: Vec::new(),
            measures: Vec::new(),
            fen: Vec::new(),
            names: Vec::new(),
        };
        for (i, raw) in headers.iter().enumerate() {
            let full = raw.trim().trim_start_matches('\u{feff}');
            // `aum_fen`, `time_deposit_fen`, `balance_fen`: an amount column in integer fen.
            let (h, fen) = match full.strip_suffix("_fen") {
                Some(base) if !base.is_empty() => (base, true),
                _ => (full, false),
            };
            let n = normalize(h);
            let role = NAMES
                .iter()
                .find(|(names, _)| names.contains(&n.as_str()))
                .map(|(_, r)| r.clone())
                .or_else(|| components.get(h).map(|code| ColumnRole::ComponentAverage(code.clone())))
                .or_else(|| measures.get(h).map(|code| ColumnRole::Measure(code.clone())));
            let Some(role) = role else {
                let expected = expected_columns(kind, &components, &measures);
                return Err(input_error(h, format!("unknown column (expected {expected})")));
            };
            if let Some(&first) = cols.by_role.get(&role) {
                return Err(input_error(
                    h,
                    format!(
                        "column `{h}` names `{}` like column `{}` before it: each is named once",
                        role.name(),
                        headers.get(first).map_or("", |h| h.trim())
                    ),
                ));
            }
            if !belongs(&role, kind) {
                return Err(input_error(h, format!("column `{h}` ({}) does not belong in this table", role.name())));
            }
            if fen && !role.is_amount() {
                return Err(input_error(
                    full,
                    format!(
                        "column `{full}`: only amount columns (aum, balance, the components, the measures) can hold integer fen"
                    ),
                ));
            }
            cols.add_column(i, full, fen, role);
        }
        cols.check_complete()?;
        Ok(cols)
    }

    /// Adds column `i`, named `full`, of a role not yet named.
    fn add_column(&mut self, i: usize, full: &str, fen: bool, role: ColumnRole) {
        self.fen.push(fen);
        self.names.push(full.into());
        match &role {
            ColumnRole::ComponentAverage(code) => self.components.push((i, std::sync::Arc::from(code.as_str()))),
            ColumnRole::Measure(code) => self.measures.push((i, std::sync::Arc::from(code.as_str()))),
            _ => {}
        }
        if let Some(slot) = role.slot().and_then(|slot| self.slots.get_mut(slot)) {
            *slot = Some(i);
        }
        self.by_role.insert(role.clone(), i);
        self.roles.push(Some(role));
    }

    /// Checks that the table has its required columns, and (an AUM table) either an `aum`
    /// column or component columns.
    fn check_complete(&self) -> Result<(), TieringError> {
        let required: &[ColumnRole] = match self.kind {
            TableKind::Aum => &[ColumnRole::CustomerId],
            TableKind::Daily => &[ColumnRole::Date, ColumnRole::CustomerId, ColumnRole::Component, ColumnRole::Balance],
            TableKind::Designations => &[ColumnRole::CustomerId, ColumnRole::Month, ColumnRole::Action],
        };
        for r in required {
            if !self.by_role.contains_key(r) {
                return Err(input_error(r.name(), format!("the table has no `{}` column", r.name())));
            }
        }
        if self.kind == TableKind::Aum {
            match (self.by_role.contains_key(&ColumnRole::Aum), self.components.is_empty()) {
                (true, false) => {
                    return Err(input_error(
                        "aum",
                        "the table has both an `aum` column and component columns: give one or the other".into(),
                    ));
                }
                (false, true) => {
                    return Err(input_error(
                        "aum",
                        "the table has neither an `aum` column nor component columns".into(),
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The role of column `i` (none past the last column).
    pub fn role(&self, i: usize) -> Option<&ColumnRole> {
        self.roles.get(i).and_then(Option::as_ref)
    }

    /// Whether column `i` is an amount column named `<name>_fen`, holding integer fen.
    pub fn is_fen(&self, i: usize) -> bool {
        self.fen.get(i).copied().unwrap_or(false)
    }

    /// An amount from an integer cell of column `i` (SPEC §16): fen in a `_fen` column; in any
    /// other column an integer is refused, since whether it means yuan or fen is never guessed.
    ///
    /// # Errors
    /// The message naming the column, for an integer outside a `_fen` column.
    pub fn amount_from_integer(&self, i: usize, headers: &[&str], value: i64) -> Result<Decimal, String> {
        if self.is_fen(i) {
            return Ok(from_fen(value));
        }
        Err(Self::integer_amount_message(headers.get(i).map_or("", |h| h.trim())))
    }

    /// The message for integer amounts in a column not named `<name>_fen`, refused on every
    /// surface: whether they are yuan or fen is never guessed.
    pub fn integer_amount_message(name: &str) -> String {
        format!(
            "column `{name}` holds integers: whether they are yuan or fen is never guessed: name the column `{name}_fen` when it holds fen (分), or write the amounts as decimals or strings"
        )
    }

    /// The message for a column of binary floating-point amounts, refused on every surface.
    pub fn float_amount_message(name: &str) -> String {
        format!(
            "column `{name}` is written as binary floating-point numbers: write it as a decimal (DECIMAL(p, 2)) or a string so that it stays exact, or as integer fen in a column named `{name}_fen`"
        )
    }

    /// The header of column `i`, as given (without surrounding spaces or a byte-order mark);
    /// empty past the last column.
    pub fn name(&self, i: usize) -> &str {
        self.names.get(i).map_or("", |n| n)
    }

    /// The number of columns.
    pub fn width(&self) -> usize {
        self.roles.len()
    }

    /// The column of a role.
    pub fn column(&self, role: &ColumnRole) -> Option<usize> {
        match role.slot() {
            Some(slot) => self.slots.get(slot).copied().flatten(),
            None => self.by_role.get(role).copied(),
        }
    }

    /// The table kind.
    pub fn kind(&self) -> TableKind {
        self.kind
    }

    /// Whether the table carries component averages rather than a total.
    pub fn has_components(&self) -> bool {
        !self.components.is_empty()
    }

    /// Whether the table has measure columns (SPEC §19.1).
    pub fn has_measures(&self) -> bool {
        !self.measures.is_empty()
    }
}
