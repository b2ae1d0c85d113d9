//! `run --measure CODE=FILE`: a measure's values from a file of their own (SPEC §20.11), such as
//! the `non_performing` column of `crm-tiering loans`'s customers.csv for an upgrade pause
//! (SPEC §21.8), or points a warehouse delivers apart from the balances. The core gives each
//! record of the month its customer's value (`Extract::supply_measure`).

use std::collections::HashMap;
use std::path::Path;

use clap::Args;
use crm_tiering::portfolio::{Extract, MonthRange};
use crm_tiering::{Decimal, Month, RuleBook};

use crate::exit::{Exit, Failure};
use crate::text::{read_utf8, split};

/// The flag of `run` for measures from files of their own.
#[derive(Debug, Clone, Args)]
pub(crate) struct RunMeasureArgs {
    /// A measure's values from a CSV file of their own, `CODE=FILE`: its header has
    /// `customer_id` and a column named CODE (and optionally `month`, which must be the
    /// declared month); each customer once. Each record of the month gets its customer's value
    /// (a customer without one: the measure's `absent`). Repeat for several measures; needs a
    /// single --month.
    #[arg(long = "measure", value_name = "CODE=FILE")]
    pub(crate) measures: Vec<String>,
}

/// Gives each `--measure` file's values to the month's records.
///
/// # Errors
/// A flag that is not `CODE=FILE`, a range of months (usage), a file's bad line (exit code 4,
/// each named by its line and field), and the core's refusals: a book or rule set without the
/// measure (exit code 3), a record that gives it itself (exit code 4). Nothing is written then.
pub(crate) fn supply(
    args: &RunMeasureArgs,
    months: MonthRange,
    book: &RuleBook,
    extract: &mut Extract,
) -> Result<(), Failure> {
    for flag in &args.measures {
        let Some((code, file)) = flag.split_once('=') else {
            return Err(Failure::new(Exit::Usage, format!("--measure {flag}: give CODE=FILE")));
        };
        if months.first() != months.last() {
            return Err(Failure::new(
                Exit::Usage,
                format!("--measure {flag}: needs a single --month; nothing was written"),
            ));
        }
        let values = read_values(Path::new(file), code, months.first())?;
        extract.supply_measure(book, code, months.first(), &values).map_err(|e| {
            let exit = if e.category() == "rules" { Exit::Rules } else { Exit::BadInput };
            Failure::new(exit, format!("--measure {flag}: {e}; nothing was written"))
        })?;
    }
    Ok(())
}

/// The values of column `code` by customer id; every bad line listed (exit code 4).
fn read_values(path: &Path, code: &str, month: Month) -> Result<HashMap<String, Decimal>, Failure> {
    let text = read_utf8(path)?;
    let name = path.display();
    let bad = |m: String| Failure::new(Exit::BadInput, format!("{name}: {m}; nothing was written"));
    let mut lines = text.lines().enumerate();
    let mut cells = Vec::new();
    let header = lines.next().map_or("", |(_, h)| h.trim_start_matches('\u{feff}'));
    split(header, ',', &mut cells).map_err(|e| bad(format!("line 1: {e}")))?;
    let column = |c: &str| cells.iter().position(|h| h.trim() == c);
    let (Some(id_at), Some(value_at)) = (column("customer_id"), column(code)) else {
        return Err(bad(format!("the header needs `customer_id` and `{code}`")));
    };
    let month_at = column("month");
    let (mut values, mut errors) = (HashMap::new(), Vec::new());
    for (k, line) in lines.filter(|(_, l)| !l.trim().is_empty()) {
        let cell = |cells: &[std::borrow::Cow<'_, str>], i: usize| cells.get(i).map_or("", |c| c.trim()).to_string();
        let read = split(line, ',', &mut cells).map_err(|e| e.to_string()).and_then(|()| {
            if let Some(m) = month_at.map(|i| cell(&cells, i)).filter(|m| *m != month.to_string()) {
                return Err(format!("field `month`: {m} is not the declared month {month}"));
            }
            let id = cell(&cells, id_at);
            let value =
                crm_tiering::parse_amount(&cell(&cells, value_at)).map_err(|e| format!("field `{code}`: {e}"))?;
            match values.insert(id.clone(), value) {
                Some(_) => Err(format!("customer `{id}` is listed twice")),
                None => Ok(()),
            }
        });
        if let Err(e) = read {
            errors.push(format!("{name} line {}: {e}", k + 1));
        }
    }
    if !errors.is_empty() {
        return Err(crate::exit::listed(Exit::BadInput, &errors, &format!("bad line(s) in {name}")));
    }
    Ok(values)
}
