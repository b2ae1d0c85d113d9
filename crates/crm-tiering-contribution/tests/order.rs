//! The order of the input records changes nothing: account-months grouped by customer (the
//! usual extract, read without sorting) and the same records interleaved give the same
//! contribution, figures, roll-ups and lineage alike.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use crm_tiering_contribution::{
    AccountMonthTable, Inputs, RuleBook, compute, compute_streaming, compute_table_streaming, read_account_months,
    read_activities, read_assignments, read_cost_pools, read_fees,
};

const BOOK: &str = r#"
basis = 365
[ftp]
rates = [
    { product = "demand", term = "none", effective = "2024-01", rate = "0.0200" },
    { product = "loan", term = "1y", effective = "2024-01", rate = "0.0300" },
]
[[stages]]
pool = "head"
driver = "cost_centres"
weights = { ops = "2", it = "1" }
[[stages]]
pool = "ops"
driver = "accounts"
[[stages]]
pool = "it"
driver = "coefficients"
keys = ["product", "branch"]
coefficients = [
    { product = "demand", branch = "b1", coefficient = "1" },
    { product = "demand", branch = "b2", coefficient = "1.5" },
    { product = "loan", branch = "b1", coefficient = "3" },
    { product = "loan", branch = "b2", coefficient = "2" },
]
[[stages]]
pool = "counter"
driver = "quantity"
quantity = "visits"
[[stages]]
pool = "marketing"
driver = "balances"
side = "liability"
[provision]
normal = "0.015"
special_mention = "0.03"
substandard = "0.25"
doubtful = "0.5"
loss = "1"
[capital]
rate = "0.0105"
"#;

const HEADER: &str =
    "month,customer,account,product,term,side,average_balance,customer_rate,branch,legal_entity,loan_class,risk_weight";

/// Three customers' accounts across two branches, grouped by customer and account.
const ACCOUNTS: [&str; 8] = [
    "2024-03,c1,a1,demand,none,liability,1000.01,0.0030,b1,le1,,",
    "2024-03,c1,a4,loan,1y,asset,50000.00,0.0450,b2,le1,关注,0.75",
    "2024-03,c1,a7,demand,none,liability,333.33,0.0010,b2,le1,,",
    "2024-03,c2,a2,demand,none,liability,777.77,0.0025,b1,le1,,",
    "2024-03,c2,a5,loan,1y,asset,12345.67,0.0500,b1,le1,正常,1",
    "2024-03,c3,a3,demand,none,liability,10.00,0.0000,b2,le2,,",
    "2024-03,c3,a6,demand,none,liability,99999.99,0.0015,b2,le2,,",
    "2024-03,c3,a8,loan,1y,asset,1.00,0.0400,b2,le2,损失,",
];

fn inputs(order: &[usize]) -> Inputs {
    let mut accounts = format!("{HEADER}\n");
    for i in order {
        accounts.push_str(ACCOUNTS[*i]);
        accounts.push('\n');
    }
    Inputs {
        account_months: read_account_months("accounts.csv", &accounts).unwrap(),
        fees: read_fees("fees.csv", "month,customer,amount\n2024-03,c2,10.00\n2024-03,c1,0.01\n").unwrap(),
        cost_pools: read_cost_pools(
            "pools.csv",
            "month,cost_centre,amount\n2024-03,head,100.01\n2024-03,ops,7.77\n2024-03,counter,1.00\n\
             2024-03,marketing,0.05\n",
        )
        .unwrap(),
        activities: read_activities(
            "activities.csv",
            "month,customer,quantity,value\n2024-03,c3,visits,2\n2024-03,c1,visits,1\n2024-03,c3,visits,1\n",
        )
        .unwrap(),
        assignments: read_assignments(
            "assignments.csv",
            "customer,manager,role,share\nc1,m1,主办,60\nc1,m2,协办,40\nc3,m2,主办,100\n",
        )
        .unwrap(),
        ..Inputs::default()
    }
}

#[test]
fn grouped_and_interleaved_inputs_agree() {
    let book = RuleBook::from_toml_str(BOOK).unwrap();
    let month = "2024-03".parse().unwrap();
    let grouped = compute(&book, month, &inputs(&[0, 1, 2, 3, 4, 5, 6, 7])).unwrap();
    for order in [[7, 6, 5, 4, 3, 2, 1, 0], [0, 3, 5, 1, 4, 6, 2, 7], [5, 0, 4, 2, 7, 3, 1, 6]] {
        let other = compute(&book, month, &inputs(&order)).unwrap();
        assert_eq!(other, grouped, "order {order:?}");
    }
    // Every kind of line is there, and the customers' lines sum to their figures.
    assert_eq!(grouped.customers.len(), 3);
    assert_eq!(grouped.stages.len(), 5);
    for c in &grouped.customers {
        let sum: crm_tiering::Decimal = grouped.explain(&c.customer).map(|l| l.amount).sum();
        assert_eq!(sum, c.figures.net_contribution, "{}", c.customer);
    }
}

#[test]
fn streaming_hands_over_the_lineage_in_order() {
    let book = RuleBook::from_toml_str(BOOK).unwrap();
    let month = "2024-03".parse().unwrap();
    let inputs = inputs(&[5, 0, 4, 2, 7, 3, 1, 6]);
    let whole = compute(&book, month, &inputs).unwrap();
    let mut lines = Vec::new();
    let mut streamed = compute_streaming(&book, month, &inputs, |l| lines.push(l)).unwrap();
    assert!(streamed.lineage.is_empty());
    assert!(lines.len() > 10);
    assert_eq!(lines, whole.lineage);
    streamed.lineage = lines;
    assert_eq!(streamed, whole);
    // A month that does not compute hands over no line.
    let mut bad = inputs.clone();
    bad.account_months[0].product = "unknown".into();
    let mut called = 0;
    assert!(compute_streaming(&book, month, &bad, |_| called += 1).is_err());
    assert_eq!(called, 0);
}

#[test]
fn a_table_read_line_by_line_computes_as_the_list() {
    let book = RuleBook::from_toml_str(BOOK).unwrap();
    let month = "2024-03".parse().unwrap();
    for order in [[0, 1, 2, 3, 4, 5, 6, 7], [5, 0, 4, 2, 7, 3, 1, 6]] {
        let mut inputs = inputs(&order);
        let whole = compute(&book, month, &inputs).unwrap();
        let mut text = format!("{HEADER}\r\n");
        for i in order {
            text.push_str(ACCOUNTS[i]);
            text.push_str("\r\n");
        }
        let table = AccountMonthTable::read_csv("accounts.csv", text.as_bytes()).unwrap();
        assert_eq!(table.len(), inputs.account_months.len());
        // Given both ways, the account-months are refused, naming the field.
        let both = compute_table_streaming(&book, month, &table, &inputs, |_| {}).unwrap_err();
        assert_eq!(both.errors()[0].field(), Some("account_months"), "{both}");
        inputs.account_months.clear();
        let mut lines = Vec::new();
        let mut tabled = compute_table_streaming(&book, month, &table, &inputs, |l| lines.push(l)).unwrap();
        tabled.lineage = lines;
        assert_eq!(tabled, whole, "order {order:?}");
    }
}
