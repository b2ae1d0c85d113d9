//! Reading a portfolio's inputs: prior states, monthly AUM, daily balances and special VIP
//! designations. Every bad row is collected with its file, line and field; nothing is dropped.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use crm_tiering::{
    AumInput, ComponentAmount, ComponentDaily, Customer, CustomerKind, CustomerState, Decimal, Month, MonthInput,
    RuleBook, SpecialChange, TierCode, parse_amount,
};
use serde::{Deserialize, Serialize};

use crate::Encoding;
use crate::exit::Failure;
use crate::text::{self, TextFile};

/// A row (or a customer) that could not be used, with where it came from and why.
#[derive(Debug, Clone, Default)]
pub(crate) struct Reject {
    /// The file, when the reject is about a row.
    pub(crate) file: String,
    /// The 1-based line, when the reject is about a row.
    pub(crate) line: Option<u32>,
    /// The customer, when known.
    pub(crate) customer: String,
    /// The month, when known.
    pub(crate) month: Option<Month>,
    /// `row` for unreadable rows, else the engine's category (`input`, `sequence`, `state`,
    /// `rules`) or `blocked` for a customer held back after an earlier reject.
    pub(crate) category: String,
    /// The field.
    pub(crate) field: String,
    /// What is wrong.
    pub(crate) message: String,
    /// The original line, for rows.
    pub(crate) text: String,
}

impl std::fmt::Display for Reject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.file.is_empty() {
            write!(f, "{}", self.file)?;
            if let Some(l) = self.line {
                write!(f, ":{l}")?;
            }
            write!(f, ": ")?;
        }
        // Engine messages name the customer and month themselves.
        if !self.message.starts_with("customer `") && !self.message.starts_with("invalid input for customer") {
            if !self.customer.is_empty() {
                write!(f, "customer `{}`: ", self.customer)?;
            }
            if let Some(m) = self.month {
                write!(f, "month {m}: ")?;
            }
            if !self.field.is_empty() {
                write!(f, "field `{}`: ", self.field)?;
            }
        }
        write!(f, "{}", self.message)
    }
}

/// Where a row came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Source {
    pub(crate) file: u16,
    pub(crate) line: u32,
}

/// A customer-month's AUM as read.
#[derive(Debug, Clone)]
pub(crate) enum RowAum {
    /// A single `aum` column.
    Total(Decimal),
    /// Component averages: a range of [`MonthRows::amounts`].
    Components { start: u32, len: u16 },
    /// Daily balances per component.
    Daily(Vec<ComponentDaily>),
}

/// A customer-month's row.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) source: Source,
    /// Interned legal entity ([`Portfolio::entities`]), when the row has one.
    pub(crate) entity: Option<u32>,
    pub(crate) kind: CustomerKind,
    pub(crate) aum: RowAum,
}

/// One month's rows, by customer index.
#[derive(Debug, Default)]
pub(crate) struct MonthRows {
    pub(crate) rows: HashMap<u32, Row>,
    /// Component averages of all rows: (component index, amount).
    pub(crate) amounts: Vec<(u16, Decimal)>,
    pub(crate) special: HashMap<u32, (SpecialChange, Source)>,
}

/// A line of a states file: the customer and its state.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StateLine {
    pub(crate) customer_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) legal_entity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) legal_entity_name: Option<String>,
    #[serde(default)]
    pub(crate) customer_kind: CustomerKind,
    pub(crate) state: CustomerState,
}

/// Everything a run evaluates.
#[derive(Debug, Default)]
pub(crate) struct Portfolio {
    /// Customers, those with prior states first, then by the month they first appear.
    pub(crate) customers: Vec<Customer>,
    /// The month each customer is first evaluated (none: from the first month of the run).
    pub(crate) first_month: Vec<Option<Month>>,
    /// States, parallel to `customers`.
    pub(crate) states: Vec<CustomerState>,
    /// The months of the run, in order, with their rows.
    pub(crate) months: BTreeMap<Month, MonthRows>,
    /// Component codes, indexed by [`RowAum::Components`] entries.
    pub(crate) codes: Vec<String>,
    /// Legal entity codes, interned.
    pub(crate) entities: Vec<String>,
    /// Display names of legal entities (from `legal_entity_name` columns).
    pub(crate) entity_names: BTreeMap<String, String>,
    /// Input file names, indexed by [`Source::file`].
    pub(crate) files: Vec<String>,
    /// Rows that could not be read.
    pub(crate) bad_rows: Vec<Reject>,
    /// Customers held back (not evaluated) from a month on, because a row of theirs was bad.
    pub(crate) blocked: HashMap<u32, Option<Month>>,
    index: HashMap<String, u32>,
    entity_index: HashMap<String, u32>,
    component_index: HashMap<String, u16>,
    tier_names: HashMap<String, TierCode>,
    /// Bad rows naming a customer id not (yet) known.
    pending_blocks: Vec<(String, Option<Month>)>,
}

/// The input files of a run.
pub(crate) struct InputFiles<'a> {
    pub(crate) states: Option<&'a PathBuf>,
    pub(crate) aum: &'a [PathBuf],
    pub(crate) daily: &'a [PathBuf],
    pub(crate) designations: &'a [PathBuf],
    pub(crate) encoding: Encoding,
    pub(crate) delimiter: char,
}

fn norm(header: &str) -> String {
    header.trim().trim_matches('"').to_lowercase().replace([' ', '-'], "_")
}

/// Column roles recognized in headers, with their English and Chinese names.
const META_COLUMNS: &[(&str, &[&str])] = &[
    ("month", &["month", "stat_month", "月份", "数据月份", "统计月份"]),
    ("customer_id", &["customer_id", "cust_id", "客户号", "客户编号"]),
    ("legal_entity", &["legal_entity", "法人机构号", "法人机构", "法人行号"]),
    ("legal_entity_name", &["legal_entity_name", "法人机构名称", "机构名称"]),
    ("customer_kind", &["customer_kind", "客户类型"]),
    ("aum", &["aum", "月日均aum", "月日均"]),
    ("date", &["date", "日期", "数据日期"]),
    ("component", &["component", "资产类型", "产品类型"]),
    ("balance", &["balance", "余额", "日终余额"]),
    ("action", &["action", "操作"]),
    ("tier", &["tier", "等级"]),
    ("months", &["months", "有效月数"]),
];

fn meta_role(header: &str) -> Option<&'static str> {
    let h = norm(header);
    META_COLUMNS.iter().find(|(_, names)| names.contains(&h.as_str())).map(|(role, _)| *role)
}

/// The columns of a header.
struct Header {
    roles: HashMap<&'static str, usize>,
    /// Component columns: (column, component index).
    components: Vec<(usize, u16)>,
    width: usize,
}

impl Header {
    fn get<'a>(&self, fields: &'a [Cow<'a, str>], role: &str) -> Option<&'a str> {
        self.roles.get(role).and_then(|&i| fields.get(i)).map(|c| c.as_ref())
    }
}

impl Portfolio {
    /// Reads every input file. Unreadable files are failures; bad rows are collected.
    ///
    /// # Errors
    /// A usage failure for a file that cannot be read.
    pub(crate) fn load(book: &RuleBook, files: &InputFiles<'_>) -> Result<Portfolio, Failure> {
        let mut p = Portfolio::default();
        for set in book.rule_sets() {
            for v in &set.versions {
                for c in v.aum.components() {
                    if !p.component_index.contains_key(&c.code) {
                        let i = p.codes.len() as u16;
                        p.codes.push(c.code.clone());
                        p.component_index.insert(c.code.clone(), i);
                        if !c.name_zh.is_empty() {
                            p.component_index.entry(c.name_zh.clone()).or_insert(i);
                        }
                    }
                }
                for t in &v.tiers {
                    p.tier_names.insert(t.code.to_string(), t.code);
                    p.tier_names.entry(t.name_zh.clone()).or_insert(t.code);
                    p.tier_names.entry(t.name_en.to_lowercase()).or_insert(t.code);
                }
            }
        }
        if let Some(path) = files.states {
            let text = text::read_utf8(path)?;
            let name = path.display().to_string();
            p.read_states(&name, &text);
        }
        let mut first_seen: Vec<Option<Month>> = vec![None; p.customers.len()];
        for path in files.aum {
            let f = text::read_text(path, files.encoding)?;
            p.read_monthly(&f, files, &mut first_seen);
        }
        for path in files.daily {
            let f = text::read_text(path, files.encoding)?;
            p.read_daily(&f, files, &mut first_seen);
        }
        for path in files.designations {
            let f = text::read_text(path, files.encoding)?;
            p.read_designations(&f, files, &mut first_seen);
        }
        for (id, month) in std::mem::take(&mut p.pending_blocks) {
            if let Some(&i) = p.index.get(&id) {
                p.block(i, month);
            }
        }
        p.first_month = first_seen;
        p.reorder();
        Ok(p)
    }

    fn file_index(&mut self, name: &str) -> u16 {
        self.files.push(name.to_string());
        (self.files.len() - 1) as u16
    }

    fn bad(&mut self, file: &str, line: u32, field: &str, message: impl Into<String>, text: &str) {
        self.bad_rows.push(Reject {
            file: file.to_string(),
            line: Some(line),
            category: "row".into(),
            field: field.to_string(),
            message: message.into(),
            text: text.to_string(),
            ..Reject::default()
        });
    }

    /// A bad row about a customer: it is held back from that month on (from the start when the
    /// month is unknown), so that a skipped row never silently becomes zero AUM.
    /// Parses a row's `month` field, recording a bad row for the customer when it is no month.
    fn month_field(&mut self, file: &str, line: u32, text: &str, month_text: &str, customer: &str) -> Option<Month> {
        match month_text.parse::<Month>() {
            Ok(month) => Some(month),
            Err(_) => {
                let message = format!("`{month_text}` is not a month: expected YYYY-MM or YYYYMM");
                self.bad(file, line, "month", message, text);
                self.bad_for(customer, None);
                None
            }
        }
    }

    fn bad_for(&mut self, customer: &str, month: Option<Month>) {
        if let Some(r) = self.bad_rows.last_mut() {
            r.customer = customer.to_string();
            r.month = month;
        }
        if customer.is_empty() {
            return;
        }
        match self.index.get(customer) {
            Some(&i) => self.block(i, month),
            None => self.pending_blocks.push((customer.to_string(), month)),
        }
    }

    fn block(&mut self, i: u32, month: Option<Month>) {
        let e = self.blocked.entry(i).or_insert(month);
        *e = match (*e, month) {
            (Some(a), Some(b)) => Some(a.min(b)),
            _ => None,
        };
    }

    fn customer(&mut self, id: &str, first_seen: &mut Vec<Option<Month>>, month: Month) -> u32 {
        if let Some(&i) = self.index.get(id) {
            if let Some(Some(m)) = first_seen.get_mut(i as usize)
                && month < *m
            {
                *m = month;
            }
            return i;
        }
        let i = self.customers.len() as u32;
        self.customers.push(Customer { id: id.to_string(), legal_entity: None, kind: CustomerKind::Personal });
        self.states.push(CustomerState::default());
        self.index.insert(id.to_string(), i);
        first_seen.push(Some(month));
        i
    }

    fn entity(&mut self, code: &str) -> u32 {
        if let Some(&i) = self.entity_index.get(code) {
            return i;
        }
        let i = self.entities.len() as u32;
        self.entities.push(code.to_string());
        self.entity_index.insert(code.to_string(), i);
        i
    }

    fn read_states(&mut self, name: &str, text: &str) {
        for (line, l) in text::lines(text) {
            let parsed: Result<StateLine, _> = serde_json::from_str(l);
            match parsed {
                Ok(s) => {
                    if self.index.contains_key(&s.customer_id) {
                        self.bad(name, line, "customer_id", "the customer has another state line in this file", l);
                        let id = s.customer_id.clone();
                        self.bad_for(&id, None);
                        continue;
                    }
                    let i = self.customers.len() as u32;
                    self.index.insert(s.customer_id.clone(), i);
                    if let (Some(e), Some(n)) = (&s.legal_entity, &s.legal_entity_name) {
                        self.entity_names.insert(e.clone(), n.clone());
                    }
                    self.customers.push(Customer {
                        id: s.customer_id,
                        legal_entity: s.legal_entity,
                        kind: s.customer_kind,
                    });
                    self.states.push(s.state);
                }
                Err(e) => {
                    let id = serde_json::from_str::<serde_json::Value>(l)
                        .ok()
                        .and_then(|v| v.get("customer_id").and_then(|c| c.as_str()).map(str::to_string))
                        .unwrap_or_default();
                    let message = e.to_string();
                    let message = match message.rfind(" at line ") {
                        Some(i) => message[..i].to_string(),
                        None => message,
                    };
                    self.bad(name, line, "state", format!("not a valid state line: {message}"), l);
                    self.bad_for(&id, None);
                }
            }
        }
    }

    /// Parses a header line; on error every row of the file is unusable.
    fn header(&mut self, f: &TextFile, files: &InputFiles<'_>, required: &[&str], components: bool) -> Option<Header> {
        let mut lines = text::lines(&f.text);
        let Some((line, h)) = lines.next() else {
            self.bad(&f.name, 1, "", "the file is empty: expected a header line", "");
            return None;
        };
        if let Some(msg) = text::undecodable(h, files.encoding) {
            self.bad(&f.name, line, "header", msg, h);
            return None;
        }
        let mut fields = Vec::new();
        if let Err(e) = text::split(h, files.delimiter, &mut fields) {
            self.bad(&f.name, line, "header", e, h);
            return None;
        }
        let mut header = Header { roles: HashMap::new(), components: Vec::new(), width: fields.len() };
        let mut ok = true;
        for (col, name) in fields.iter().enumerate() {
            let role = meta_role(name);
            if let Some(role) = role {
                if header.roles.insert(role, col).is_some() {
                    self.bad(&f.name, line, name, "the column appears twice in the header", h);
                    ok = false;
                }
                continue;
            }
            let component = if components { self.component_index.get(name.trim()).copied() } else { None };
            match component {
                Some(c) => header.components.push((col, c)),
                None => {
                    let expected = if components {
                        format!(
                            "month, customer_id, legal_entity, legal_entity_name, customer_kind, and either aum or component codes of the rule book ({})",
                            self.codes.join(", ")
                        )
                    } else {
                        required.join(", ")
                    };
                    self.bad(&f.name, line, name, format!("unknown column (expected {expected})"), h);
                    ok = false;
                }
            }
        }
        if fields.len() == 1 && files.delimiter != ',' && h.contains(',') {
            self.bad(&f.name, line, "header", "the header has one column: is --delimiter right?", h);
            return None;
        }
        for r in required {
            if !header.roles.contains_key(r) {
                self.bad(&f.name, line, r, "the header lacks this column", h);
                ok = false;
            }
        }
        if components {
            match (header.roles.contains_key("aum"), header.components.is_empty()) {
                (true, false) => {
                    self.bad(&f.name, line, "aum", "give either an aum column or component columns, not both", h);
                    ok = false;
                }
                (false, true) => {
                    self.bad(&f.name, line, "aum", "the header has neither an aum column nor component columns", h);
                    ok = false;
                }
                _ => {}
            }
        }
        ok.then_some(header)
    }

    /// Customer id, legal entity and kind of a row. Records the bad field and returns none.
    fn identity(
        &mut self,
        f: &TextFile,
        line: u32,
        l: &str,
        header: &Header,
        fields: &[Cow<'_, str>],
    ) -> Option<(String, Option<u32>, CustomerKind)> {
        let id = header.get(fields, "customer_id").unwrap_or_default();
        if id.is_empty() {
            self.bad(&f.name, line, "customer_id", "the customer id is empty", l);
            return None;
        }
        let entity = match header.get(fields, "legal_entity") {
            Some(e) if !e.is_empty() => Some(self.entity(e)),
            _ => None,
        };
        if let (Some(e), Some(n)) = (entity, header.get(fields, "legal_entity_name"))
            && !n.is_empty()
        {
            let code = self.entities[e as usize].clone();
            self.entity_names.entry(code).or_insert_with(|| n.to_string());
        }
        let kind = match header.get(fields, "customer_kind") {
            None | Some("") => CustomerKind::Personal,
            Some(k) => match k.parse() {
                Ok(k) => k,
                Err(e) => {
                    self.bad(&f.name, line, "customer_kind", e, l);
                    let id = id.to_string();
                    self.bad_for(&id, None);
                    return None;
                }
            },
        };
        Some((id.to_string(), entity, kind))
    }

    fn split_row<'a>(
        &mut self,
        f: &TextFile,
        files: &InputFiles<'_>,
        line: u32,
        l: &'a str,
        width: usize,
        fields: &mut Vec<Cow<'a, str>>,
    ) -> bool {
        if let Some(msg) = text::undecodable(l, files.encoding) {
            self.bad(&f.name, line, "", msg, l);
            return false;
        }
        if let Err(e) = text::split(l, files.delimiter, fields) {
            self.bad(&f.name, line, "", e, l);
            return false;
        }
        if fields.len() != width {
            self.bad(&f.name, line, "", format!("the row has {} fields, the header {width}", fields.len()), l);
            return false;
        }
        true
    }

    fn read_monthly(&mut self, f: &TextFile, files: &InputFiles<'_>, first_seen: &mut Vec<Option<Month>>) {
        let Some(header) = self.header(f, files, &["month", "customer_id"], true) else { return };
        let file = self.file_index(&f.name);
        let mut fields = Vec::with_capacity(header.width);
        let mut amounts: Vec<(u16, Decimal)> = Vec::with_capacity(header.components.len());
        for (line, l) in text::lines(&f.text).skip(1) {
            if !self.split_row(f, files, line, l, header.width, &mut fields) {
                continue;
            }
            let Some((id, entity, kind)) = self.identity(f, line, l, &header, &fields) else { continue };
            let month_text = header.get(&fields, "month").unwrap_or_default();
            let Some(month) = self.month_field(&f.name, line, l, month_text, &id) else { continue };
            let aum = if header.components.is_empty() {
                let text = header.get(&fields, "aum").unwrap_or_default();
                match amount(text, true) {
                    Ok(a) => Ok(RowAum::Total(a.unwrap_or_default())),
                    Err(e) => Err(("aum".to_string(), e)),
                }
            } else {
                amounts.clear();
                let mut err = None;
                for &(col, c) in &header.components {
                    match amount(&fields[col], false) {
                        Ok(Some(a)) => amounts.push((c, a)),
                        Ok(None) => {}
                        Err(e) => {
                            err = Some((self.codes[c as usize].clone(), e));
                            break;
                        }
                    }
                }
                match err {
                    Some(e) => Err(e),
                    None => Ok(RowAum::Components { start: 0, len: amounts.len() as u16 }),
                }
            };
            let aum = match aum {
                Ok(a) => a,
                Err((field, msg)) => {
                    self.bad(&f.name, line, &field, msg, l);
                    self.bad_for(&id, Some(month));
                    continue;
                }
            };
            let i = self.customer(&id, first_seen, month);
            let rows = self.months.entry(month).or_default();
            if let Some(prev) = rows.rows.get(&i) {
                let msg = format!("the customer already has a row for {month} at {}", at(&self.files, prev.source));
                self.bad(&f.name, line, "customer_id", msg, l);
                self.bad_for(&id, Some(month));
                continue;
            }
            let aum = match aum {
                RowAum::Components { len, .. } => {
                    let start = rows.amounts.len() as u32;
                    rows.amounts.extend_from_slice(&amounts);
                    RowAum::Components { start, len }
                }
                other => other,
            };
            rows.rows.insert(i, Row { source: Source { file, line }, entity, kind, aum });
        }
    }

    fn read_daily(&mut self, f: &TextFile, files: &InputFiles<'_>, first_seen: &mut Vec<Option<Month>>) {
        let required = ["date", "customer_id", "component", "balance"];
        let Some(header) = self.header(f, files, &required, false) else { return };
        let file = self.file_index(&f.name);
        let mut fields = Vec::with_capacity(header.width);
        for (line, l) in text::lines(&f.text).skip(1) {
            if !self.split_row(f, files, line, l, header.width, &mut fields) {
                continue;
            }
            let Some((id, entity, kind)) = self.identity(f, line, l, &header, &fields) else { continue };
            let date = header.get(&fields, "date").unwrap_or_default();
            let Some((month, day)) = parse_date(date) else {
                self.bad(&f.name, line, "date", format!("`{date}` is not a date: expected YYYY-MM-DD or YYYYMMDD"), l);
                self.bad_for(&id, None);
                continue;
            };
            let comp = header.get(&fields, "component").unwrap_or_default();
            let Some(&c) = self.component_index.get(comp) else {
                let msg = format!("`{comp}` is not a component of the rule book ({})", self.codes.join(", "));
                self.bad(&f.name, line, "component", msg, l);
                self.bad_for(&id, Some(month));
                continue;
            };
            let balance = match amount(header.get(&fields, "balance").unwrap_or_default(), false) {
                Ok(b) => b,
                Err(e) => {
                    self.bad(&f.name, line, "balance", e, l);
                    self.bad_for(&id, Some(month));
                    continue;
                }
            };
            let i = self.customer(&id, first_seen, month);
            let code = &self.codes[c as usize];
            let rows = self.months.entry(month).or_default();
            let row = rows.rows.entry(i).or_insert_with(|| Row {
                source: Source { file, line },
                entity,
                kind,
                aum: RowAum::Daily(Vec::new()),
            });
            let conflict = match &mut row.aum {
                RowAum::Daily(series) => {
                    let s = match series.iter().position(|s| s.component == *code) {
                        Some(p) => &mut series[p],
                        None => {
                            series.push(ComponentDaily {
                                component: code.clone(),
                                balances: vec![None; month.days() as usize],
                            });
                            let last = series.len() - 1;
                            &mut series[last]
                        }
                    };
                    let slot = &mut s.balances[day as usize - 1];
                    if slot.is_some() {
                        Some(format!("the customer already has a {code} balance for {date}"))
                    } else {
                        // An empty balance marks a day without one (the rule book's missing_day).
                        *slot = balance;
                        None
                    }
                }
                _ => Some(format!(
                    "the customer already has a monthly AUM row for {month} at {}",
                    at(&self.files, row.source)
                )),
            };
            if let Some(msg) = conflict {
                self.bad(&f.name, line, "customer_id", msg, l);
                self.bad_for(&id, Some(month));
            }
        }
    }

    fn read_designations(&mut self, f: &TextFile, files: &InputFiles<'_>, first_seen: &mut [Option<Month>]) {
        let required = ["customer_id", "month", "action"];
        let Some(header) = self.header(f, files, &required, false) else { return };
        let file = self.file_index(&f.name);
        let mut fields = Vec::with_capacity(header.width);
        for (line, l) in text::lines(&f.text).skip(1) {
            if !self.split_row(f, files, line, l, header.width, &mut fields) {
                continue;
            }
            let id = header.get(&fields, "customer_id").unwrap_or_default().to_string();
            let month_text = header.get(&fields, "month").unwrap_or_default();
            let Some(month) = self.month_field(&f.name, line, l, month_text, &id) else { continue };
            let Some(&i) = self.index.get(&id) else {
                self.bad(
                    &f.name,
                    line,
                    "customer_id",
                    "the customer is neither in the prior states nor in the AUM files",
                    l,
                );
                continue;
            };
            let action = header.get(&fields, "action").unwrap_or_default();
            let change = match norm(action).as_str() {
                "grant" | "认定" | "授予" => {
                    let tier = match header.get(&fields, "tier").unwrap_or_default() {
                        "" => Ok(None),
                        t => self
                            .tier_names
                            .get(t)
                            .or_else(|| self.tier_names.get(&t.to_lowercase()))
                            .copied()
                            .map(Some)
                            .ok_or_else(|| ("tier", format!("`{t}` is not a tier of the rule book"))),
                    };
                    let months = match header.get(&fields, "months").unwrap_or_default() {
                        "" => Ok(None),
                        m => m
                            .parse::<u32>()
                            .map(Some)
                            .map_err(|_| ("months", format!("`{m}` is not a number of months"))),
                    };
                    tier.and_then(|tier| months.map(|months| SpecialChange::Grant { tier, months }))
                }
                "revoke" | "撤销" => Ok(SpecialChange::Revoke),
                _ => Err(("action", format!("`{action}` is not an action: expected grant or revoke"))),
            };
            let change = match change {
                Ok(c) => c,
                Err((field, msg)) => {
                    self.bad(&f.name, line, field, msg, l);
                    self.bad_for(&id, Some(month));
                    continue;
                }
            };
            // A designated customer is evaluated from the designation's month on.
            if let Some(Some(m)) = first_seen.get_mut(i as usize)
                && month < *m
            {
                *m = month;
            }
            let rows = self.months.entry(month).or_default();
            if let Some((_, prev)) = rows.special.get(&i) {
                let msg = format!("the customer already has a designation for {month} at {}", at(&self.files, *prev));
                self.bad(&f.name, line, "customer_id", msg, l);
                self.bad_for(&id, Some(month));
                continue;
            }
            rows.special.insert(i, (change, Source { file, line }));
        }
    }

    /// Orders customers: those with prior states first (file order), then by the month they
    /// first appear (file order within a month), so that each month evaluates a prefix.
    fn reorder(&mut self) {
        let n = self.customers.len();
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.sort_by_key(|&i| (self.first_month[i as usize], i));
        if order.iter().enumerate().all(|(k, &i)| k as u32 == i) {
            return;
        }
        let mut new_of = vec![0u32; n];
        for (k, &i) in order.iter().enumerate() {
            new_of[i as usize] = k as u32;
        }
        let mut old: Vec<Option<Customer>> = std::mem::take(&mut self.customers).into_iter().map(Some).collect();
        self.customers =
            order.iter().map(|&i| old[i as usize].take().unwrap_or_else(|| Customer::personal(""))).collect();
        self.states = order.iter().map(|&i| self.states[i as usize]).collect();
        self.first_month = order.iter().map(|&i| self.first_month[i as usize]).collect();
        for v in self.index.values_mut() {
            *v = new_of[*v as usize];
        }
        self.blocked = self.blocked.drain().map(|(i, m)| (new_of[i as usize], m)).collect();
        for rows in self.months.values_mut() {
            rows.rows = rows.rows.drain().map(|(i, r)| (new_of[i as usize], r)).collect();
            rows.special = rows.special.drain().map(|(i, s)| (new_of[i as usize], s)).collect();
        }
    }

    /// The number of customers evaluated in a month (a prefix of `customers`).
    pub(crate) fn active_in(&self, month: Month) -> usize {
        self.first_month.partition_point(|m| m.is_none_or(|m| m <= month))
    }

    /// Builds a month's engine inputs for the first `n` customers, updating their legal
    /// entities and kinds from the month's rows. Customers without a row get zero AUM.
    pub(crate) fn month_inputs(&mut self, month: Month, n: usize) -> (Vec<MonthInput>, Vec<bool>) {
        let mut inputs = Vec::with_capacity(n);
        let mut has_row = vec![false; n];
        let Some(rows) = self.months.get(&month) else {
            inputs.resize_with(n, MonthInput::default);
            return (inputs, has_row);
        };
        for (i, flag) in has_row.iter_mut().enumerate() {
            let key = i as u32;
            let special = rows.special.get(&key).map(|(c, _)| *c);
            let aum = match rows.rows.get(&key) {
                Some(row) => {
                    *flag = true;
                    let c = &mut self.customers[i];
                    let entity = row.entity.map(|e| &self.entities[e as usize]);
                    if c.legal_entity.as_ref() != entity {
                        c.legal_entity = entity.cloned();
                    }
                    c.kind = row.kind;
                    match &row.aum {
                        RowAum::Total(a) => AumInput::Total(*a),
                        RowAum::Components { start, len } => AumInput::Averages(
                            rows.amounts[*start as usize..*start as usize + *len as usize]
                                .iter()
                                .map(|(c, a)| ComponentAmount {
                                    component: self.codes[*c as usize].clone(),
                                    amount: *a,
                                })
                                .collect(),
                        ),
                        RowAum::Daily(d) => AumInput::Daily(d.clone()),
                    }
                }
                None => AumInput::default(),
            };
            inputs.push(MonthInput { aum, special });
        }
        (inputs, has_row)
    }

    /// Where a customer's row for a month came from.
    pub(crate) fn source_of(&self, month: Month, i: u32) -> Option<(String, u32)> {
        let rows = self.months.get(&month)?;
        let s = rows.rows.get(&i).map(|r| r.source).or_else(|| rows.special.get(&i).map(|(_, s)| *s))?;
        Some((self.files.get(s.file as usize).cloned().unwrap_or_default(), s.line))
    }
}

/// `file:line` of a source.
fn at(files: &[String], s: Source) -> String {
    format!("{}:{}", files.get(s.file as usize).map_or("", String::as_str), s.line)
}

/// Parses an amount cell. Empty cells are `None` unless `required`.
fn amount(text: &str, required: bool) -> Result<Option<Decimal>, String> {
    if text.is_empty() {
        return if required { Err("the amount is empty".into()) } else { Ok(None) };
    }
    let a = parse_amount(text).map_err(|e| e.to_string())?;
    if a.is_sign_negative() && !a.is_zero() {
        return Err(format!("amount {text} is negative"));
    }
    Ok(Some(a))
}

/// Parses `YYYY-MM-DD` or `YYYYMMDD` into the month and the day.
pub(crate) fn parse_date(text: &str) -> Option<(Month, u32)> {
    let t = text.trim();
    let (y, m, d) = if t.len() == 10 && t.as_bytes()[4] == b'-' && t.as_bytes()[7] == b'-' {
        (&t[0..4], &t[5..7], &t[8..10])
    } else if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
        (&t[0..4], &t[4..6], &t[6..8])
    } else {
        return None;
    };
    let month = Month::new(y.parse().ok()?, m.parse().ok()?).ok()?;
    let day: u32 = d.parse().ok()?;
    (1..=month.days()).contains(&day).then_some((month, day))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dates() {
        assert_eq!(parse_date("2024-02-29").map(|(m, d)| (m.to_string(), d)), Some(("2024-02".into(), 29)));
        assert_eq!(parse_date("20240131").map(|(m, d)| (m.to_string(), d)), Some(("2024-01".into(), 31)));
        assert!(parse_date("2023-02-29").is_none());
        assert!(parse_date("2024/01/01").is_none());
        assert!(parse_date("2024-01-00").is_none());
    }

    #[test]
    fn amounts_are_exact_and_not_negative() {
        assert_eq!(amount("200000.10", true).unwrap().unwrap().to_string(), "200000.10");
        assert_eq!(amount("", false).unwrap(), None);
        assert!(amount("", true).is_err());
        assert!(amount("-5", false).unwrap_err().contains("negative"));
        assert!(amount("1e5", false).is_err());
    }
}
