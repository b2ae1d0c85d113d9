//! A sink that stops a range between months (`PortfolioSink::proceed`, how Python honours
//! Ctrl-C): the months before stay applied, whole, exactly as a run over those months alone.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crm_tiering::portfolio::{
    Columns, Extract, PortfolioOptions, PortfolioOutcome, PortfolioSink, PortfolioStates, RecordError, TableKind,
};
use crm_tiering::{Alert, CustomerRef, CustomerState, Decimal, Engine, Event, Month, RuleBook};

struct StopBefore {
    at: Month,
    inner: PortfolioOutcome,
    asked: Vec<Month>,
}

impl PortfolioSink for StopBefore {
    fn begin_month(&mut self, month: Month) {
        self.inner.begin_month(month);
    }
    fn event(&mut self, month: Month, index: usize, customer: CustomerRef<'_>, event: &Event) {
        self.inner.event(month, index, customer, event);
    }
    fn alert(&mut self, month: Month, index: usize, customer: CustomerRef<'_>, alert: &Alert) {
        self.inner.alert(month, index, customer, alert);
    }
    fn evaluated(&mut self, m: Month, i: usize, c: CustomerRef<'_>, aum: Decimal, has: bool, s: &CustomerState) {
        self.inner.evaluated(m, i, c, aum, has, s);
    }
    fn held(&mut self, month: Month, index: Option<usize>, error: &RecordError) {
        self.inner.held(month, index, error);
    }
    fn proceed(&mut self, next: Month) -> bool {
        self.asked.push(next);
        next != self.at
    }
}

fn extract(book: &RuleBook, months: &[&str]) -> Extract {
    let cols = Columns::resolve(book, TableKind::Aum, &["month", "customer_id", "aum"]).unwrap();
    let mut x = Extract::new(book);
    let mut row = 0;
    for m in months {
        for (id, aum) in [("c1", "1200000"), ("c2", "250000")] {
            x.push_cells("aum", &cols, row, &[m, id, aum]);
            row += 1;
        }
    }
    x.end_table("aum", &cols);
    x
}

#[test]
fn a_range_stopped_between_months_keeps_whole_months() {
    let engine = Engine::new(RuleBook::default_book().unwrap());
    let book = engine.rule_book();
    let all = extract(book, &["2024-01", "2024-02", "2024-03", "2024-04"]);
    let mut states = PortfolioStates::new();
    let mut sink = StopBefore { at: "2024-03".parse().unwrap(), inner: PortfolioOutcome::default(), asked: vec![] };
    let options = PortfolioOptions::default();
    engine
        .evaluate_portfolio_with(&mut states, "2024-01..2024-04".parse().unwrap(), &all, &options, &mut sink)
        .unwrap();
    let asked: Vec<String> = sink.asked.iter().map(ToString::to_string).collect();
    assert_eq!(asked, ["2024-02", "2024-03"]);
    assert_eq!(sink.inner.months.len(), 2);
    // The same states as a run over January and February alone, stamped as after any run.
    let mut two = PortfolioStates::new();
    let first = extract(book, &["2024-01", "2024-02"]);
    engine.evaluate_portfolio(&mut two, "2024-01..2024-02".parse().unwrap(), &first, &options).unwrap();
    assert_eq!(states.to_jsonl(book), two.to_jsonl(book));
    assert_eq!(states.latest_month().map(|m| m.to_string()).as_deref(), Some("2024-02"));
    // And the portfolio goes on from there.
    let rest = extract(book, &["2024-03", "2024-04"]);
    engine.evaluate_portfolio(&mut states, "2024-03..2024-04".parse().unwrap(), &rest, &options).unwrap();
    assert_eq!(states.latest_month().map(|m| m.to_string()).as_deref(), Some("2024-04"));
}
