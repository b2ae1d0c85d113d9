//! The contribution month (SPEC §20) in the store, on SQLite and on PostgreSQL when
//! `CRMT_TEST_POSTGRES_URL` is set: written in one transaction, read back as computed, refused
//! and then replaced on a re-run, and a store of schema 4 migrates to the contribution tables.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{commit_month, create, fresh, sql, sql_int};
use crm_tiering_contribution::{
    Contribution, Inputs, RuleBook, compute, read_account_months, read_assignments, read_fees,
};
use crm_tiering_store::{ContributionMeta, SCHEMA_VERSION, Store, StoreErrorKind};

const BOOK: &str = r#"
basis = 360
[ftp]
rates = [{ product = "demand", term = "none", effective = "2024-01", rate = "0.0200" }]
"#;

/// c1: 360,000.00 × (2.00% − 0.20%) × 31 / 360 = 558.00, and a fee; c2: 36,000.00 × 1.50% ×
/// 31 / 360 = 46.50.
fn month(fee: &str) -> Contribution {
    let book = RuleBook::from_toml_str(BOOK).unwrap();
    let accounts = "month,customer,account,product,side,average_balance,customer_rate,branch,legal_entity\n\
                    2024-03,c1,a1,demand,liability,360000.00,0.0020,b1,le1\n\
                    2024-03,c2,a2,demand,liability,36000.00,0.0050,b1,le1\n";
    let inputs = Inputs {
        account_months: read_account_months("accounts", accounts).unwrap(),
        fees: read_fees("fees", &format!("month,customer,amount\n2024-03,c1,{fee}\n")).unwrap(),
        assignments: read_assignments("managers", "customer,manager,role,share\nc1,m1,lead,100\n").unwrap(),
        ..Inputs::default()
    };
    compute(&book, "2024-03".parse().unwrap(), &inputs).unwrap()
}

fn meta(rerun: bool) -> ContributionMeta {
    ContributionMeta {
        tool_version: "crm-tiering-store tests".into(),
        rule_book_text: BOOK.into(),
        rerun,
        unassigned_customers: 1,
    }
}

#[test]
fn a_contribution_month_is_read_back_as_computed_and_replaced_only_on_a_rerun() {
    let f = fresh("contribution");
    for loc in &f.locations {
        let mut store = create(loc);
        commit_month(&mut store, "2024-03", 20, false);
        let c = month("12.34");
        store.write_contribution(&c, &meta(false)).unwrap();
        let back = store.customer_contribution("c1").unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].month, c.month);
        assert_eq!(back[0].figures, c.customer("c1").unwrap().figures);
        assert_eq!(back[0].figures.net_contribution.to_string(), "570.34");
        let lines: Vec<_> = c.explain("c1").cloned().collect();
        assert_eq!(back[0].lines, lines);
        assert_eq!(sql_int(loc, "SELECT count(*) FROM contribution_lineage"), 3);
        // The managers' roll-up keeps m1 and the customers without a manager ('').
        assert_eq!(sql_int(loc, "SELECT count(*) FROM contribution_managers WHERE manager = ''"), 1);
        assert_eq!(sql_int(loc, "SELECT net_contribution FROM contribution_managers WHERE manager = 'm1'"), 57034);

        let e = store.write_contribution(&month("1.00"), &meta(false)).unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::AlreadyCommitted, "{e}");
        assert!(e.to_string().contains("the contribution month 2024-03 is in"), "{e}");
        assert_eq!(store.customer_contribution("c1").unwrap()[0].figures.fees.to_string(), "12.34");

        store.write_contribution(&month("1.00"), &meta(true)).unwrap();
        let back = store.customer_contribution("c1").unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].figures.net_contribution.to_string(), "559.00");
        assert_eq!(sql_int(loc, "SELECT count(*) FROM contribution_customers"), 2);
        assert_eq!(sql_int(loc, "SELECT count(*) FROM contribution_months"), 1);
        assert_eq!(store.contribution_months().unwrap(), vec![c.month]);
        // The tiering month's chain is untouched.
        assert_eq!(store.verify().unwrap().len(), 1);
        assert!(store.customer_contribution("nobody").unwrap().is_empty());
        drop(store);
        let mut ro = Store::open_read_only(loc).unwrap();
        assert_eq!(ro.customer_contribution("c2").unwrap()[0].figures.net_contribution.to_string(), "46.50");
        let e = ro.write_contribution(&month("1.00"), &meta(true)).unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::ReadOnly, "{e}");
    }
}

#[test]
fn a_schema_4_store_migrates_to_the_contribution_tables() {
    let f = fresh("contribution_schema4");
    for loc in &f.locations {
        let mut store = create(loc);
        commit_month(&mut store, "2024-03", 20, false);
        drop(store);
        // What schema 4 was: the same store without the contribution (and loan) tables.
        sql(
            loc,
            "DROP TABLE loan_states; DROP TABLE loan_signals; DROP TABLE loan_results; DROP TABLE loan_customers; \
             DROP TABLE loan_months; DROP TABLE contribution_lineage; DROP TABLE contribution_managers; DROP TABLE contribution_customers; \
             DROP TABLE contribution_months; UPDATE meta SET value = '4' WHERE key = 'schema_version';",
        );
        let e = Store::open_read_only(loc).unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::Schema, "{e}");
        let mut store = Store::open(loc).unwrap();
        let v = format!("SELECT count(*) FROM meta WHERE key = 'schema_version' AND value = '{SCHEMA_VERSION}'");
        assert_eq!(sql_int(loc, &v), 1);
        assert_eq!(SCHEMA_VERSION, 6);
        assert_eq!(store.verify().unwrap().len(), 1);
        assert!(store.contribution_months().unwrap().is_empty());
        store.write_contribution(&month("12.34"), &meta(false)).unwrap();
        assert_eq!(store.contribution_months().unwrap().len(), 1);
    }
}

/// A caller's own error, or the store's.
#[derive(Debug)]
enum Streamed {
    Bad(String),
    Store(crm_tiering_store::StoreError),
}

impl From<crm_tiering_store::StoreError> for Streamed {
    fn from(e: crm_tiering_store::StoreError) -> Self {
        Streamed::Store(e)
    }
}

/// The month's lineage, customers and managers as rows, in key order.
fn dump(loc: &str) -> (i64, i64, i64, i64, i64) {
    (
        sql_int(loc, "SELECT count(*) FROM contribution_months"),
        sql_int(loc, "SELECT count(*) FROM contribution_customers"),
        sql_int(loc, "SELECT count(*) FROM contribution_managers"),
        sql_int(loc, "SELECT count(*) FROM contribution_lineage"),
        sql_int(loc, "SELECT CAST(coalesce(sum(amount), 0) AS BIGINT) FROM contribution_lineage"),
    )
}

#[test]
fn a_streamed_contribution_month_is_stored_as_the_whole_one_and_a_failure_part_way_leaves_nothing() {
    let f = fresh("contribution_streamed");
    for loc in &f.locations {
        let mut store = create(loc);
        let c = month("12.34");
        // A bad record found after lines were inserted: nothing of the month is written.
        let e = store
            .write_contribution_streaming(c.month, &meta(false), |sink| {
                for l in &c.lineage {
                    sink.push(l);
                }
                assert_eq!(sink.lines(), c.lineage.len() as u64);
                Err::<crm_tiering_store::StreamedContribution<&Contribution>, _>(Streamed::Bad("a bad record".into()))
            })
            .unwrap_err();
        assert!(matches!(&e, Streamed::Bad(m) if m == "a bad record"), "{e:?}");
        assert_eq!(dump(loc), (0, 0, 0, 0, 0));
        assert!(store.contribution_months().unwrap().is_empty());

        // Streamed, the month is the whole result's.
        let back = store
            .write_contribution_streaming(c.month, &meta(false), |sink| {
                for l in &c.lineage {
                    sink.push(l);
                }
                Ok::<_, Streamed>(crm_tiering_store::StreamedContribution { contribution: &c, unassigned_customers: 1 })
            })
            .unwrap();
        assert_eq!(back, &c);
        let streamed = (dump(loc), store.contribution_range(c.month, c.month).unwrap());
        store.write_contribution(&c, &meta(true)).unwrap();
        assert_eq!((dump(loc), store.contribution_range(c.month, c.month).unwrap()), streamed);
        assert_eq!(streamed.0, (1, 2, 2, 3, 57034 + 4650));

        // A re-run that fails part way leaves the stored month as it was: a caller's error
        // after the old month was deleted and new lines inserted, and a line the store refuses.
        let other = month("1.00");
        let e = store
            .write_contribution_streaming(other.month, &meta(true), |sink| {
                for l in &other.lineage {
                    sink.push(l);
                }
                Err::<crm_tiering_store::StreamedContribution<&Contribution>, _>(Streamed::Bad("late".into()))
            })
            .unwrap_err();
        assert!(matches!(e, Streamed::Bad(_)), "{e:?}");
        let mut odd = other.lineage[0].clone();
        odd.amount = "0.001".parse().unwrap();
        let e = store
            .write_contribution_streaming(other.month, &meta(true), |sink| {
                sink.push(&other.lineage[0]);
                sink.push(&odd);
                assert!(sink.failed());
                sink.push(&other.lineage[1]);
                assert_eq!(sink.lines(), 1);
                Ok::<_, Streamed>(crm_tiering_store::StreamedContribution {
                    contribution: &other,
                    unassigned_customers: 1,
                })
            })
            .unwrap_err();
        match e {
            Streamed::Store(e) => {
                assert_eq!(e.kind(), StoreErrorKind::Input, "{e}");
                assert!(e.to_string().contains("is not a whole number of fen"), "{e}");
            }
            Streamed::Bad(m) => panic!("{m}"),
        }
        assert_eq!((dump(loc), store.contribution_range(c.month, c.month).unwrap()), streamed);

        // A month stored already is refused before the computation runs.
        let mut ran = false;
        let e = store
            .write_contribution_streaming(other.month, &meta(false), |_| {
                ran = true;
                Ok::<_, Streamed>(crm_tiering_store::StreamedContribution {
                    contribution: &other,
                    unassigned_customers: 1,
                })
            })
            .unwrap_err();
        assert!(matches!(&e, Streamed::Store(e) if e.kind() == StoreErrorKind::AlreadyCommitted), "{e:?}");
        assert!(!ran);
        assert_eq!(dump(loc).0, 1);
    }
}
