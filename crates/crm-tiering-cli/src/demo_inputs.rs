//! The demo's inputs for the early warnings (SPEC §22): each customer's days without
//! customer-initiated activity (睡眠户 and their return), the principal that matured and left the
//! bank, and the daily balances of the legal entity whose extract is daily (large flows).
//!
//! Every draw comes from the demo's seeded [`Rng`], on a stream of its own, so the same seed
//! gives the same inputs, and the portfolio's balances are drawn as before.

use std::fmt::Write as _;

use crm_tiering::{Month, RuleBook, WarningKind, from_fen};

use crate::demo::{DemoSpec, Rng};
use crate::demo_loans::Borrower;
use crate::exit::Failure;
use crate::output::{OutFile, Staging};

/// The default book's AUM components, and each profile's shares of a customer's AUM (per mille).
pub(crate) const COMPONENTS: &[&str] = &[
    "demand_deposit",
    "time_deposit",
    "cert_treasury",
    "wealth_product",
    "securities_fund",
    "treasury_bond",
    "gold",
    "cts_margin",
];
pub(crate) const PROFILES: &[[i64; 8]] = &[
    // Savers: deposits and certificate bonds (most rural customers).
    [300, 620, 80, 0, 0, 0, 0, 0],
    // Mixed: deposits and wealth-management products.
    [200, 400, 0, 250, 100, 0, 50, 0],
    // Investors: funds, bonds and a securities account's margin.
    [100, 150, 0, 300, 200, 100, 0, 150],
];

/// The measure columns the demo's warehouse writes beside the AUM (SPEC §22.6, §22.7, §21.8),
/// each only when the book declares it (a column no measure names would stop the table).
const MEASURES: [&str; 3] = ["days_inactive", "matured_not_reinvested", "non_performing"];

/// The legal entity (嘉峪关) whose core system exports daily balances in the demo's last month.
pub(crate) const DAILY_ENTITY: &str = "620201";

/// The last months of the demo whose balances 嘉峪关 exports day by day (one: a daily month
/// costs the demo about as much as five monthly ones).
pub(crate) const DAILY_MONTHS: u32 = 1;

/// A demo of this many months or fewer stays monthly: the two-month extract of
/// scripts/bench-e2e.sh, and the four-month demos whose aum-monthly.csv the Python store tests
/// replay month by month beside the CLI.
const MONTHLY_DEMO_MONTHS: u32 = 4;

/// A customer's customer-initiated activity: when it stops (the customer falls asleep, its money
/// gone but for a residue) and when it comes back with money.
pub(crate) struct Activity {
    sleeps_at: u32,
    wakes_at: u32,
    /// Days since the last customer-initiated activity at the latest month-end.
    days: i64,
    /// The residue a sleeping customer leaves, in fen.
    residual: i64,
}

impl Activity {
    /// A customer's activity over `months` months: a few percent fall asleep, about a third of
    /// those come back 7 to 14 months later.
    pub(crate) fn new(rng: &mut Rng, months: u32, corporate: bool) -> Self {
        let sleeps = rng.chance(if corporate { 60 } else { 40 });
        let sleeps_at = if sleeps { rng.below(u64::from(months)) as u32 } else { u32::MAX };
        let wakes_at = if sleeps && rng.chance(300) { sleeps_at + rng.range(7, 14) as u32 } else { u32::MAX };
        // Someone asleep from the first month may have been asleep for a while already.
        let days = if sleeps_at == 0 { rng.range(0, 400) } else { 0 };
        Activity { sleeps_at, wakes_at, days, residual: rng.range(0, 8_000) }
    }

    /// Moves to month `m`'s end (`days_in_month` days): returns whether the customer is asleep.
    /// A customer falling asleep keeps only its residue; one waking brings 12,000 to 100,000
    /// back (`wealth` is set).
    pub(crate) fn month(
        &mut self,
        rng: &mut Rng,
        m: u32,
        days_in_month: i64,
        wealth: &mut i64,
        salaried: bool,
    ) -> bool {
        if m == self.wakes_at {
            *wealth = 1_200_000 + rng.below(8_800_000) as i64;
            self.days = rng.range(0, 10);
            return false;
        }
        if (self.sleeps_at..self.wakes_at).contains(&m) {
            if m == self.sleeps_at {
                self.days += rng.range(0, 25);
            } else {
                self.days += days_in_month;
            }
            *wealth = self.residual;
            return true;
        }
        self.days = rng.range(0, if salaried { 12 } else { 45 });
        false
    }

    /// Days since the last customer-initiated activity at the month-end.
    pub(crate) fn days(&self) -> i64 {
        self.days
    }
}

/// Principal of time deposits and wealth products that matured in the month and left the bank
/// (fen): about 1.5% of the customer-months of customers holding them.
pub(crate) fn matured_not_reinvested(rng: &mut Rng, total: i64, shares: &[i64; 8]) -> i64 {
    let term = shares[1] + shares[3];
    if term == 0 || !rng.chance(15) {
        return 0;
    }
    total * term / 1000 * rng.range(30, 100) / 100
}

/// A customer-month the demo writes.
pub(crate) struct CustomerMonth<'a> {
    pub(crate) month: Month,
    /// The customer's number (its id is `62` and the number in 8 digits).
    pub(crate) id: u64,
    /// The legal entity's code and name.
    pub(crate) entity: (&'a str, &'a str),
    pub(crate) kind: &'a str,
    /// The month's AUM, in fen.
    pub(crate) total: i64,
    /// The profile's shares of the AUM by component (per mille).
    pub(crate) shares: &'a [i64; 8],
}

/// The demo's AUM files: aum-monthly.csv with the measure columns the book declares, and
/// daily-balances.csv when the book warns of large flows.
pub(crate) struct MonthFiles {
    aum: OutFile,
    daily: Option<OutFile>,
    /// The first month (counted from the demo's first) 嘉峪关 gives as daily balances.
    daily_from: u32,
    measures: Vec<&'static str>,
    components: bool,
    flows: Rng,
    line: String,
}

impl MonthFiles {
    /// Opens the files with their headers.
    ///
    /// # Errors
    /// A file that cannot be created or written.
    pub(crate) fn new(staging: &mut Staging, book: &RuleBook, spec: &DemoSpec) -> Result<Self, Failure> {
        let components = book
            .rule_sets()
            .first()
            .and_then(|s| s.versions.last())
            .is_some_and(|v| COMPONENTS.iter().all(|c| v.aum.component(c).is_some()));
        let declared = book.measure_codes();
        let measures: Vec<&str> =
            MEASURES.iter().copied().filter(|m| declared.iter().any(|d| d.as_str() == *m)).collect();
        let versions = || book.rule_sets().iter().flat_map(|s| &s.versions);
        let large_flows = components
            && spec.months > MONTHLY_DEMO_MONTHS
            && versions().flat_map(|v| &v.warnings).any(|w| w.kind == WarningKind::LargeFlow);
        let mut aum = staging.create("aum-monthly.csv")?;
        let mut header = String::from("month,customer_id,legal_entity,legal_entity_name,customer_kind");
        for c in if components { COMPONENTS } else { &["aum"] } {
            header.push(',');
            header.push_str(c);
        }
        for m in &measures {
            header.push(',');
            header.push_str(m);
        }
        aum.line(&header)?;
        let daily = match large_flows {
            true => {
                let mut f = staging.create("daily-balances.csv")?;
                f.line("date,customer_id,legal_entity,customer_kind,component,balance")?;
                Some(f)
            }
            false => None,
        };
        Ok(MonthFiles {
            aum,
            daily,
            daily_from: spec.months.saturating_sub(DAILY_MONTHS),
            measures,
            components,
            flows: Rng::new(spec.seed ^ 0x4441_494C_595F_464C),
            line: String::with_capacity(200),
        })
    }

    /// Whether 嘉峪关's last month is written as daily balances (the book warns of large flows).
    pub(crate) fn daily(&self) -> bool {
        self.daily.is_some()
    }

    /// Writes a customer-month (month `m` of the demo): a row of aum-monthly.csv with its
    /// measures, or 嘉峪关's daily balances in the demo's last months.
    ///
    /// # Errors
    /// A file that cannot be written.
    pub(crate) fn write(
        &mut self,
        m: u32,
        c: &CustomerMonth<'_>,
        days_inactive: i64,
        matured: i64,
        borrower: Borrower,
    ) -> Result<(), Failure> {
        if let Some(f) = self.daily.as_mut().filter(|_| m >= self.daily_from && c.entity.0 == DAILY_ENTITY) {
            return write_daily(f, &mut self.line, &mut self.flows, c);
        }
        let line = &mut self.line;
        line.clear();
        let _ = write!(line, "{},62{:08},{},{},{}", c.month, c.id, c.entity.0, c.entity.1, c.kind);
        aum_cells(line, c.total, c.shares, self.components);
        for measure in &self.measures {
            let _ = match (*measure, borrower) {
                ("days_inactive", _) => write!(line, ",{days_inactive}"),
                ("matured_not_reinvested", _) if matured > 0 => write!(line, ",{}", from_fen(matured)),
                ("non_performing", Borrower::NonPerforming) => write!(line, ",1"),
                ("non_performing", Borrower::Performing) => write!(line, ",0"),
                _ => write!(line, ","),
            };
        }
        self.aum.line(line)
    }

    /// Flushes the files.
    ///
    /// # Errors
    /// A file that cannot be written.
    pub(crate) fn finish(self) -> Result<(), Failure> {
        self.aum.finish()?;
        self.daily.map_or(Ok(()), OutFile::finish)
    }
}

/// Appends a customer-month's AUM cells: by component (the profile's shares, the remainder in
/// demand deposits) or one total.
fn aum_cells(line: &mut String, total: i64, shares: &[i64; 8], components: bool) {
    if components {
        let parts: Vec<i64> = shares.iter().map(|s| total * s / 1000).collect();
        let rest = total - parts.iter().sum::<i64>();
        for (i, (p, share)) in parts.iter().zip(shares).enumerate() {
            let v = if i == 0 { p + rest } else { *p };
            if *share == 0 && i != 0 {
                line.push(',');
            } else {
                let _ = write!(line, ",{}", from_fen(v));
            }
        }
    } else {
        let _ = write!(line, ",{}", from_fen(total));
    }
}

/// Writes a customer-month as daily balances (`date,customer_id,legal_entity,customer_kind,
/// component,balance`): each component at its share of the AUM every day, except that about
/// 6% of customer-months have one large movement of the demand deposits (a sale or a loan paid
/// in, 60,000 to 500,000; or most of the balance moved out) from a day on.
fn write_daily(out: &mut OutFile, line: &mut String, rng: &mut Rng, row: &CustomerMonth<'_>) -> Result<(), Failure> {
    let shares = row.shares;
    let parts: Vec<i64> = shares.iter().map(|s| row.total * s / 1000).collect();
    let demand = row.total - parts.iter().skip(1).sum::<i64>();
    let days = i64::from(row.month.days());
    let (flow_day, after) = if rng.chance(60) {
        let day = rng.range(2, days);
        let moved = if rng.chance(500) {
            demand + rng.range(6_000_000, 50_000_000)
        } else {
            demand - demand * rng.range(60, 100) / 100
        };
        (day, moved)
    } else {
        (days + 1, demand)
    };
    for day in 1..=days {
        for (i, (code, share)) in COMPONENTS.iter().zip(shares).enumerate() {
            let balance = match i {
                0 if day >= flow_day => after,
                0 => demand,
                _ if *share == 0 => continue,
                _ => parts.get(i).copied().unwrap_or(0),
            };
            line.clear();
            let _ = write!(
                line,
                "{}-{day:02},62{:08},{},{},{code},{}",
                row.month,
                row.id,
                row.entity.0,
                row.kind,
                from_fen(balance)
            );
            out.line(line)?;
        }
    }
    Ok(())
}
