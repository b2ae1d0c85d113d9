//! The CSV files of a contribution month: UTF-8, a header row, months as `YYYY-MM`, amounts as
//! plain decimals with two places, text cells neutralised against formulas. Written under
//! temporary names and renamed into place only when every file is written.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crm_tiering::Decimal;
use crm_tiering_contribution::{Contribution, Driver, Figures, Inputs, LineageLine, RuleBook};

use crate::exit::Failure;
use crate::output::{OutFile, Staging};
use crate::text::csv_field;

/// The figure columns of a customer, manager, branch or legal entity, in this order.
pub(crate) const FIGURES: [&str; 8] = Figures::NAMES;

/// The columns of lineage.csv.
pub(crate) const LINEAGE: [&str; 17] = [
    "month",
    "customer",
    "kind",
    "account",
    "pool",
    "stage",
    "product",
    "item",
    "balance",
    "ftp_rate",
    "customer_rate",
    "rate",
    "risk_weight",
    "days",
    "driver_quantity",
    "driver_total",
    "amount",
];

/// An amount with two places.
pub(crate) fn amount(d: Decimal) -> String {
    format!("{:.2}", d)
}

/// A figure set's eight cells.
pub(crate) fn figure_cells(f: &Figures) -> Vec<String> {
    f.values().into_iter().map(amount).collect()
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| csv_field(&v.to_string()).into_owned()).unwrap_or_default()
}

/// A lineage line's cells (without the month), as lineage.csv and the store keep them.
pub(crate) fn lineage_cells(l: &LineageLine) -> Vec<String> {
    vec![
        csv_field(&l.customer).into_owned(),
        l.kind.as_str().to_string(),
        opt(l.account.as_deref()),
        opt(l.pool.as_deref()),
        opt(l.stage),
        opt(l.product.as_deref()),
        opt(l.item.as_deref()),
        l.balance.map(amount).unwrap_or_default(),
        opt(l.ftp_rate),
        opt(l.customer_rate),
        opt(l.rate),
        opt(l.risk_weight),
        opt(l.days),
        opt(l.driver_quantity),
        opt(l.driver_total),
        amount(l.amount),
    ]
}

/// The name of a stage's driver, as the book writes it.
pub(crate) fn driver_name(d: &Driver) -> &'static str {
    match d {
        Driver::Accounts { .. } => "accounts",
        Driver::Balances { .. } => "balances",
        Driver::Quantity { .. } => "quantity",
        Driver::Coefficients { .. } => "coefficients",
        Driver::CostCentres { .. } => "cost_centres",
    }
}

/// What a stage did, checked against the lineage: its pool's amount, what reached customers
/// (their allocated-cost lines of the stage) and other pools, and whether the two agree.
pub(crate) struct StageRow {
    pub(crate) stage: usize,
    pub(crate) pool: String,
    pub(crate) amount: Decimal,
    pub(crate) driver_total: Decimal,
    pub(crate) targets: usize,
    pub(crate) allocated: Decimal,
    pub(crate) to_pools: String,
    pub(crate) conserved: bool,
}

/// What reached customers by stage: the sum of the stage share lines (costs, so negated).
pub(crate) type ToCustomers = BTreeMap<usize, Decimal>;

/// Adds a lineage line to what reached customers by stage.
fn count(to_customers: &mut ToCustomers, l: &LineageLine) {
    if let Some(stage) = l.stage {
        *to_customers.entry(stage).or_default() -= l.amount;
    }
}

/// Each stage's row: the allocated amount is recounted from the lineage and the pool-to-pool
/// moves, so `conserved` is a check of the output, not a copy of the computation's.
pub(crate) fn stage_rows(result: &Contribution) -> Vec<StageRow> {
    let mut to_customers = ToCustomers::new();
    for l in &result.lineage {
        count(&mut to_customers, l);
    }
    stage_rows_counted(result, &to_customers)
}

/// Each stage's row, what reached customers counted from the lineage lines as they passed.
pub(crate) fn stage_rows_counted(result: &Contribution, to_customers: &ToCustomers) -> Vec<StageRow> {
    result
        .stages
        .iter()
        .map(|s| {
            let to_customers = to_customers.get(&s.stage).copied().unwrap_or_default();
            let to_pools: Decimal = s.to_pools.iter().map(|p| p.amount).sum();
            let allocated = to_customers + to_pools;
            StageRow {
                stage: s.stage,
                pool: s.pool.clone(),
                amount: s.amount,
                driver_total: s.driver_total,
                targets: s.targets,
                allocated,
                to_pools: s
                    .to_pools
                    .iter()
                    .map(|p| format!("{}:{}", p.pool, amount(p.amount)))
                    .collect::<Vec<_>>()
                    .join(";"),
                conserved: allocated == s.amount,
            }
        })
        .collect()
}

/// The pools allocated to customers, in stage order: a column each in customers.csv.
fn customer_pools(book: &RuleBook) -> Vec<String> {
    book.stages().iter().filter(|s| !matches!(s.driver, Driver::CostCentres { .. })).map(|s| s.pool.clone()).collect()
}

/// Writes a file's header and rows, each row made as it is written (a month's lineage is
/// never held as text).
fn write(
    staging: &mut Staging,
    name: &str,
    head: &[String],
    rows: impl IntoIterator<Item = Vec<String>>,
) -> Result<(), Failure> {
    let mut f = staging.create(name)?;
    f.line(&header_line(head))?;
    for r in rows {
        f.line(&r.join(","))?;
    }
    f.finish()
}

/// A file's header line.
fn header_line(head: &[String]) -> String {
    head.iter().map(|h| csv_field(h).into_owned()).collect::<Vec<_>>().join(",")
}

fn head(first: &[&str], rest: &[&str]) -> Vec<String> {
    first.iter().chain(rest).map(|s| (*s).to_string()).collect()
}

/// lineage.csv written as the computation hands the lines over (a month's lineage is never
/// held), and what reached customers by stage counted from them. The output directory and the
/// file are made at the first line (the computation hands none over unless the whole month
/// computes), under a temporary name as the other files.
pub(crate) struct LineageOut {
    dir: Option<PathBuf>,
    month: String,
    staged: Option<(Staging, OutFile)>,
    pub(crate) to_customers: ToCustomers,
    failed: Option<Failure>,
}

impl LineageOut {
    /// Lines of `month` to lineage.csv in `dir`, or only counted when there is no `dir`.
    pub(crate) fn new(dir: Option<&Path>, month: crm_tiering::Month) -> Self {
        LineageOut {
            dir: dir.map(Path::to_path_buf),
            month: month.to_string(),
            staged: None,
            to_customers: ToCustomers::new(),
            failed: None,
        }
    }

    /// The next line: counted, and written unless a write failed before.
    pub(crate) fn push(&mut self, l: &LineageLine) {
        count(&mut self.to_customers, l);
        if self.failed.is_none()
            && let Err(e) = self.write(l)
        {
            self.failed = Some(e);
        }
    }

    fn staged(&mut self) -> Result<Option<&mut (Staging, OutFile)>, Failure> {
        let Some(dir) = &self.dir else { return Ok(None) };
        if self.staged.is_none() {
            let mut staging = Staging::new(dir)?;
            let mut f = staging.create("lineage.csv")?;
            f.line(&header_line(&head(&LINEAGE, &[])))?;
            self.staged = Some((staging, f));
        }
        Ok(self.staged.as_mut())
    }

    fn write(&mut self, l: &LineageLine) -> Result<(), Failure> {
        // Without a directory the line is only counted: no text made for it.
        if self.dir.is_none() {
            return Ok(());
        }
        let line = format!("{},{}", self.month, lineage_cells(l).join(","));
        let Some((_, f)) = self.staged()? else { return Ok(()) };
        f.line(&line)
    }

    /// The staging with lineage.csv written (`None` without a directory), or the first write's
    /// failure.
    pub(crate) fn finish(mut self) -> Result<Option<Staging>, Failure> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        self.staged()?;
        match self.staged.take() {
            Some((staging, f)) => {
                f.finish()?;
                Ok(Some(staging))
            }
            None => Ok(None),
        }
    }
}

/// Writes customers.csv, managers.csv, branches.csv, legal_entities.csv and stages.csv (the
/// stages' rows given) into the staging.
pub(crate) fn write_rest(
    staging: &mut Staging,
    book: &RuleBook,
    result: &Contribution,
    inputs: &Inputs,
    stages: &[StageRow],
) -> Result<(), Failure> {
    let month = result.month.to_string();
    let pools = customer_pools(book);
    let mut customers_head = head(&["month", "customer"], &FIGURES);
    customers_head.extend(pools.iter().map(|p| format!("allocated_{p}")));
    let customers =
        result.customers.iter().map(|c| {
            let mut row = vec![month.clone(), csv_field(&c.customer).into_owned()];
            row.extend(figure_cells(&c.figures));
            row.extend(pools.iter().map(|p| {
                amount(c.allocated_by_pool.iter().find(|a| &a.pool == p).map_or(Decimal::ZERO, |a| a.amount))
            }));
            row
        });
    write(staging, "customers.csv", &customers_head, customers)?;
    write(staging, "managers.csv", &head(&["month", "manager", "customers"], &FIGURES), manager_rows(result, inputs))?;
    let branches = result.branches.iter().map(|b| {
        let mut row = vec![month.clone(), csv_field(&b.legal_entity).into_owned(), csv_field(&b.branch).into_owned()];
        row.extend(figure_cells(&b.figures));
        row
    });
    write(staging, "branches.csv", &head(&["month", "legal_entity", "branch"], &FIGURES), branches)?;
    let entities = result.legal_entities.iter().map(|e| {
        let mut row = vec![month.clone(), csv_field(&e.legal_entity).into_owned()];
        row.extend(figure_cells(&e.figures));
        row
    });
    write(staging, "legal_entities.csv", &head(&["month", "legal_entity"], &FIGURES), entities)?;
    write(staging, "stages.csv", &head(&STAGES, &[]), stage_cells(book, result, stages))
}

const STAGES: [&str; 10] =
    ["month", "stage", "pool", "driver", "amount", "driver_total", "targets", "allocated", "to_pools", "conserved"];

fn stage_cells(book: &RuleBook, result: &Contribution, stages: &[StageRow]) -> Vec<Vec<String>> {
    let month = result.month.to_string();
    stages
        .iter()
        .map(|s| {
            let driver = book.stages().get(s.stage.saturating_sub(1)).map_or("", |st| driver_name(&st.driver));
            vec![
                month.clone(),
                s.stage.to_string(),
                csv_field(&s.pool).into_owned(),
                driver.to_string(),
                amount(s.amount),
                s.driver_total.to_string(),
                s.targets.to_string(),
                amount(s.allocated),
                csv_field(&s.to_pools).into_owned(),
                s.conserved.to_string(),
            ]
        })
        .collect()
}

/// managers.csv's rows: each manager, then the customers without one (an empty manager), when
/// there are any.
fn manager_rows(result: &Contribution, inputs: &Inputs) -> Vec<Vec<String>> {
    let month = result.month.to_string();
    let mut rows: Vec<Vec<String>> = result
        .managers
        .iter()
        .map(|m| {
            let mut row = vec![month.clone(), csv_field(&m.manager).into_owned(), m.customers.to_string()];
            row.extend(figure_cells(&m.figures));
            row
        })
        .collect();
    let unassigned = unassigned_customers(result, inputs);
    if unassigned > 0 {
        let mut row = vec![month, String::new(), unassigned.to_string()];
        row.extend(figure_cells(&result.unassigned));
        rows.push(row);
    }
    rows
}

/// The number of customers without an account manager.
pub(crate) fn unassigned_customers(result: &Contribution, inputs: &Inputs) -> usize {
    let assigned: std::collections::BTreeSet<&str> = inputs.assignments.iter().map(|a| a.customer.as_str()).collect();
    result.customers.iter().filter(|c| !assigned.contains(c.customer.as_str())).count()
}
