//! Evaluating a portfolio over a declared month or range of months (SPEC §15): the checks of
//! the whole run, then the months one by one ([`super::run`]).

use super::extract::Extract;
use super::options::{MonthRange, PortfolioOptions, RuleBookChange};
use super::placement::Placement;
use super::record::{PortfolioFailure, RecordError, RecordRef};
use super::run::Run;
use super::sink::{PortfolioOutcome, PortfolioSink};
use super::states::PortfolioStates;
use crate::engine::{Engine, MissingMonths};
use crate::error::{InputError, SequenceError, StateError};

impl Engine {
    /// Evaluates a portfolio over a declared month (or range of months) and collects the
    /// results; see [`Engine::evaluate_portfolio_with`].
    ///
    /// ```
    /// use crm_tiering::{Engine, RuleBook};
    /// use crm_tiering::portfolio::{Columns, Extract, PortfolioOptions, PortfolioStates, TableKind};
    /// let engine = Engine::new(RuleBook::default_book()?);
    /// let book = engine.rule_book();
    /// let cols = Columns::resolve(book, TableKind::Aum, &["month", "customer_id", "aum"])?;
    /// let mut extract = Extract::new(book);
    /// extract.push_cells("aum.csv", &cols, 2, &["2024-03", "c1", "250000"]);
    /// extract.push_cells("aum.csv", &cols, 3, &["2024-04", "c2", "900000"]); // not March
    /// let mut states = PortfolioStates::new();
    /// let out = engine.evaluate_portfolio(&mut states, "2024-03".parse()?, &extract, &PortfolioOptions::default())?;
    /// assert_eq!(states.get("c1").unwrap().1.tier.unwrap().as_str(), "gold");
    /// let (_, held) = &out.months[0].held[0];
    /// assert_eq!((held.customer(), held.field()), (Some("c2"), Some("month")));
    /// assert!(states.get("c2").is_none()); // never evaluated, April never touched
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`Engine::evaluate_portfolio_with`].
    pub fn evaluate_portfolio(
        &self,
        states: &mut PortfolioStates,
        months: MonthRange,
        extract: &Extract,
        options: &PortfolioOptions,
    ) -> Result<PortfolioOutcome, PortfolioFailure> {
        let mut out = PortfolioOutcome::default();
        self.evaluate_portfolio_with(states, months, extract, options, &mut out)?;
        Ok(out)
    }

    /// Evaluates a portfolio over a declared month or range of months, streaming the results to
    /// `sink` (SPEC §15):
    ///
    /// - records are matched to states by customer id; new ids join the portfolio with their
    ///   record's identity, and identity cells left empty keep the stored values;
    /// - a record dated outside `months`, a second record of a customer-month (both are named),
    ///   a rejected record of the extract, and a customer the engine rejects are held back:
    ///   state kept, reported once with [`PortfolioSink::held`], and not evaluated in the
    ///   range's later months; a customer held back gets one `held_back` alert every month it
    ///   is not evaluated (its standing is frozen);
    /// - a stored customer held back in an earlier run (its last evaluated month is before the
    ///   month before) is held back again, naming the month it misses, until a catch-up run
    ///   ([`PortfolioOptions::catch_up`]) evaluates that month for it (SPEC §15.7);
    /// - a known customer without an AUM record follows `options.absent`; under the default
    ///   `zero`, the customers of a legal entity that has no AUM record at all are held back (a
    ///   missing file) unless the entity is declared in `options.empty_entities`;
    /// - the states are stamped with the rule book's fingerprint;
    /// - a sink whose [`PortfolioSink::proceed`] says no stops the run after the whole months
    ///   evaluated before it.
    ///
    /// # Errors
    /// [`PortfolioFailure`], with nothing evaluated and `states` unchanged, when the extract has
    /// records whose customer cannot be identified; when the states were written under another
    /// rule book (unless [`RuleBookChange::Accept`]); when a declared month has no AUM record at
    /// all (unless `options.allow_empty_month`); when the first declared month is not the month
    /// after the states' latest month (SPEC §15.1), or, for a catch-up run, when a declared
    /// month is after it; or when a table without a month column meets a range of several
    /// months.
    pub fn evaluate_portfolio_with(
        &self,
        states: &mut PortfolioStates,
        months: MonthRange,
        extract: &Extract,
        options: &PortfolioOptions,
        sink: &mut dyn PortfolioSink,
    ) -> Result<(), PortfolioFailure> {
        self.check_run(states, months, extract, options)?;
        let placement = Placement::new(self.rule_book(), states, months, extract, !options.catch_up)?;
        let mut run = Run::start(self, states, months, extract, options, placement)?;
        for (k, m) in months.months().enumerate() {
            if k > 0 && !sink.proceed(m) {
                break;
            }
            run.month(m, sink)?;
        }
        states.set_rule_book(self.rule_book());
        Ok(())
    }

    /// The checks of a whole run, before anything changes (SPEC §15.1, §15.2, §15.6, §15.7).
    fn check_run(
        &self,
        states: &PortfolioStates,
        months: MonthRange,
        extract: &Extract,
        options: &PortfolioOptions,
    ) -> Result<(), PortfolioFailure> {
        if !extract.fatal.is_empty() {
            return Err(PortfolioFailure { errors: extract.fatal.clone() });
        }
        let book = self.rule_book();
        if let Some(found) = states.rule_book()
            && found != book.fingerprint()
            && options.rule_book_change == RuleBookChange::Refuse
        {
            let error = StateError::RuleBookChanged { found: found.to_string(), expected: book.fingerprint().into() };
            return Err(RecordError::at(error, None).into());
        }
        super::control::check_extract(extract, months, options)?;
        self.check_sequence(states, months, options)
    }

    /// The declared months against the states' latest month (SPEC §15.1, §15.7).
    fn check_sequence(
        &self,
        states: &PortfolioStates,
        months: MonthRange,
        options: &PortfolioOptions,
    ) -> Result<(), PortfolioFailure> {
        let latest = states.latest_month();
        let refuse = |message: String| {
            Err(RecordError::at(InputError::new("", Some(months.first()), "month", message), None).into())
        };
        if options.catch_up {
            return match latest {
                None => refuse("a catch-up run evaluates customers held back in months the portfolio has evaluated, and these states hold no evaluated month".into()),
                Some(last) if months.last() > last => refuse(format!(
                    "a catch-up run evaluates months the portfolio has evaluated already: its latest is {last}, and {} is after it (evaluate it as a regular month)",
                    months.last()
                )),
                Some(_) => Ok(()),
            };
        }
        match latest {
            Some(last) if months.first() != last.next() => {
                let gaps_filled = self.options().missing_months == MissingMonths::TreatAsZero;
                if months.first() <= last || !gaps_filled {
                    let error = SequenceError::Portfolio { last, got: months.first() };
                    return Err(RecordError::at(error, None::<RecordRef>).into());
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

impl RecordRef {
    /// A record reference.
    pub fn new(table: impl Into<String>, row: u64) -> Self {
        RecordRef { table: table.into(), row }
    }
}
