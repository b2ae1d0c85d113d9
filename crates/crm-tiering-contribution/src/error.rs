//! Errors of a contribution run: each names the record (customer, account, pool or the line of
//! a CSV table) and the field, in the bank's words.

use std::fmt;

use crm_tiering::Month;

/// One thing wrong with a rule book, a table or a record (SPEC §20.8). A run with any of them
/// gives no result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContributionError {
    /// A rule book that cannot be read or used: `field` is its key path (`stages[1].driver`).
    #[error("rule book: {}{message}", field_prefix(field))]
    Rules {
        /// The key, as a path from the top of the book (empty for the whole book).
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// A CSV table whose header or line cannot be read.
    #[error("{table} line {line}{}: {message}", column_suffix(column))]
    Table {
        /// The table (its file name, or the kind of input).
        table: String,
        /// The line, counting the header as line 1.
        line: usize,
        /// The column, when one cell is at fault.
        column: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// An Arrow table (feature `arrow`) whose columns cannot be read (`row` is `None`: the
    /// message names the column) or a row whose cell cannot be.
    #[error("{table}{}: {message}", row_suffix(*row, column))]
    Arrow {
        /// The table (the kind of input, or the caller's name for it).
        table: String,
        /// The row, counting from 0 over the table's batches; `None` for the whole column.
        row: Option<usize>,
        /// The column, when one column is at fault.
        column: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// A record with a bad value: `record` names it (`account A1`, `customer C1`,
    /// `pool counter_ops`), `field` the field.
    #[error("{record}: {field}: {message}")]
    Record {
        /// The record, by its id.
        record: String,
        /// The field at fault.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// An account-month whose product and term have no transfer-pricing rate in force for the
    /// month: the table has rates for the product, none effective on or before it.
    #[error("account {account}: product {product}, term {term}: no ftp rate in force for {month}")]
    RateGap {
        /// The account.
        account: String,
        /// Its product.
        product: String,
        /// Its term bucket.
        term: String,
        /// The month computed.
        month: Month,
    },
    /// An account-month whose product (or product and term bucket) the rate table does not
    /// know at all.
    #[error("account {account}: product {product}, term {term}: unknown to the ftp rate table")]
    UnknownProduct {
        /// The account.
        account: String,
        /// Its product.
        product: String,
        /// Its term bucket.
        term: String,
    },
    /// The same account twice in the month's account-months.
    #[error("account {account}: more than one account-month for {month}")]
    DuplicateAccountMonth {
        /// The account.
        account: String,
        /// The month.
        month: Month,
    },
    /// A customer's account manager shares (主办/协办) that do not sum to exactly 100%.
    #[error("customer {customer}: manager shares sum to {total}%, not 100%")]
    Shares {
        /// The customer.
        customer: String,
        /// The sum of the shares, in percent.
        total: String,
    },
    /// A stage whose pool has an amount to allocate and whose driver is zero for every target.
    #[error("pool {pool} (stage {stage}): the driver total is zero, so {amount} cannot be allocated")]
    ZeroDriver {
        /// The pool (cost centre).
        pool: String,
        /// The stage, counting from 1.
        stage: usize,
        /// The pool's amount.
        amount: String,
    },
    /// An allocation or roll-up whose parts do not add up to its whole, to the fen. Never
    /// expected: the check runs on every computation so that a fault is an error, not a figure.
    #[error("{what}: the parts sum to {parts}, not {whole}")]
    Conservation {
        /// What was split (`pool counter_ops`, `manager roll-up, fees`).
        what: String,
        /// The sum of the parts.
        parts: String,
        /// The whole.
        whole: String,
    },
    /// A product of amounts and rates beyond what the computation holds exactly (far beyond
    /// any real balance).
    #[error("{what}: too large to compute exactly")]
    TooLarge {
        /// What was computed.
        what: String,
    },
}

fn field_prefix(field: &str) -> String {
    if field.is_empty() { String::new() } else { format!("{field}: ") }
}

fn row_suffix(row: Option<usize>, column: &Option<String>) -> String {
    row.map_or_else(String::new, |r| format!(" row {r}{}", column_suffix(column)))
}

fn column_suffix(column: &Option<String>) -> String {
    column.as_ref().map_or_else(String::new, |c| format!(", column {c}"))
}

impl ContributionError {
    /// A record error.
    pub(crate) fn record(record: impl Into<String>, field: impl Into<String>, message: impl Into<String>) -> Self {
        ContributionError::Record { record: record.into(), field: field.into(), message: message.into() }
    }

    /// The field the error is about: a rule book's key path (`stages[1].driver`), a table's
    /// column, a record's field, `product` for a missing FTP rate, `account` for a duplicate,
    /// `share` for manager shares, `driver` for a zero driver total; `None` when none (a whole
    /// book or line, a conservation fault).
    #[must_use]
    pub fn field(&self) -> Option<&str> {
        match self {
            ContributionError::Rules { field, .. } => Some(field.as_str()).filter(|f| !f.is_empty()),
            ContributionError::Table { column, .. } | ContributionError::Arrow { column, .. } => column.as_deref(),
            ContributionError::Record { field, .. } => Some(field),
            ContributionError::RateGap { .. } | ContributionError::UnknownProduct { .. } => Some("product"),
            ContributionError::DuplicateAccountMonth { .. } => Some("account"),
            ContributionError::Shares { .. } => Some("share"),
            ContributionError::ZeroDriver { .. } => Some("driver"),
            ContributionError::Conservation { .. } | ContributionError::TooLarge { .. } => None,
        }
    }

    /// The table and line (a CSV table's, the header line 1) or row (an Arrow table's, from 0)
    /// the error is about; `None` for an error of no table record.
    #[must_use]
    pub fn table_record(&self) -> Option<(&str, usize)> {
        match self {
            ContributionError::Table { table, line, .. } => Some((table, *line)),
            ContributionError::Arrow { table, row: Some(row), .. } => Some((table, *row)),
            _ => None,
        }
    }

    /// The customer the error is about, when it names one as such (manager shares).
    #[must_use]
    pub fn customer(&self) -> Option<&str> {
        match self {
            ContributionError::Shares { customer, .. } => Some(customer),
            _ => None,
        }
    }

    /// Whether the error is the rule book's (the rest are the inputs').
    #[must_use]
    pub fn is_rules(&self) -> bool {
        matches!(self, ContributionError::Rules { .. })
    }

    /// A rule book error.
    pub(crate) fn rules(field: impl Into<String>, message: impl Into<String>) -> Self {
        ContributionError::Rules { field: field.into(), message: message.into() }
    }
}

/// Every error of a failed run (or a failed table read), in the order found: records in input
/// order, then the computation's. Never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContributionErrors(pub Vec<ContributionError>);

impl ContributionErrors {
    /// The errors.
    #[must_use]
    pub fn errors(&self) -> &[ContributionError] {
        &self.0
    }
}

impl fmt::Display for ContributionErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_slice() {
            [] => write!(f, "contribution failed"),
            [one] => write!(f, "{one}"),
            [first, rest @ ..] => write!(f, "{first} (and {} more)", rest.len()),
        }
    }
}

impl std::error::Error for ContributionErrors {}

impl From<ContributionError> for ContributionErrors {
    fn from(e: ContributionError) -> Self {
        ContributionErrors(vec![e])
    }
}
