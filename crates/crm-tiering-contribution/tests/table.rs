//! The account-month table: read line by line from a CSV file, it holds the records
//! `read_account_months` reads from the whole text, or the same errors; a run reports a
//! duplicate account however the accounts come.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use crm_tiering_contribution::{
    AccountMonth, AccountMonthTable, ContributionError, ContributionErrors, Inputs, RuleBook, compute, compute_table,
    compute_table_streaming, read_account_months,
};

fn both(text: &str) -> (Result<Vec<AccountMonth>, ContributionErrors>, Result<Vec<AccountMonth>, ContributionErrors>) {
    let list = read_account_months("accounts.csv", text);
    let table = AccountMonthTable::read_csv("accounts.csv", text.as_bytes())
        .map(|t| (0..t.len()).map(|i| t.get(i).unwrap()).collect());
    (list, table)
}

#[test]
fn the_same_records() {
    let text = "\u{feff}month,customer,account,\"product\",term,side,average_balance,customer_rate,days,branch,\
                legal_entity,loan_class,risk_weight\r\n\
                2024-03,c1,a1,demand,,liability,1000.01,0.0030,,b1,le1,,\r\n\
                \r\n\
                2024-03,\"c,1\",a2,loan,1y,资产,50000.00,0.0450,30,b2,le1,关注,0.75\n\
                2024-03,c1,a3,loan,1y,asset,1.00,0.0400,,b2,le1,loss,\n\
                2024-03,c2,a0,demand,none,负债,0,0,,b1,le2,,";
    let (list, table) = both(text);
    let list = list.unwrap();
    assert_eq!(list.len(), 4);
    assert_eq!(list[1].customer, "c,1");
    assert_eq!(table.unwrap(), list);
    let copied = AccountMonthTable::from_account_months(&list).unwrap();
    assert_eq!((0..copied.len()).map(|i| copied.get(i).unwrap()).collect::<Vec<_>>(), list);
    assert!(copied.get(4).is_none());
}

#[test]
fn the_same_errors() {
    let header = "month,customer,account,product,side,average_balance,customer_rate,branch,legal_entity";
    let bad = format!(
        "{header}\n2024-13,c1,a1,demand,liability,1.00,0.01,b1,le1\n2024-03,,a2,demand,sideways,x,0.01,b1,le1\n\
         2024-03,c1,a3\n2024-03,c1,\"a4,demand,liability,1.00,0.01,b1,le1\n2024-03,c1,a5,demand,asset,1.00,0.01,b1,le1\n"
    );
    for text in [
        bad.as_str(),
        "",
        "\n2024-03,c1",
        "month,customer,account,colour",
        "month,month,customer,account,product,side,average_balance,customer_rate,branch,legal_entity",
    ] {
        let (list, table) = both(text);
        let list = list.unwrap_err();
        assert!(!list.errors().is_empty());
        assert_eq!(table.unwrap_err(), list, "{text}");
    }
    let (list, _) = both(&bad);
    assert_eq!(list.unwrap_err().errors().len(), 6);
}

#[test]
fn a_line_not_utf8_is_named() {
    let mut text = b"month,customer,account,product,side,average_balance,customer_rate,branch,legal_entity\n".to_vec();
    text.extend_from_slice(b"2024-03,c1,a1,demand,liability,1.00,0.01,b1,le1\n2024-03,c\xff,a2\n");
    let err = AccountMonthTable::read_csv("accounts.csv", text.as_slice()).unwrap_err();
    assert_eq!(err.errors()[0].table_record(), Some(("accounts.csv", 3)));
    assert_eq!(err.to_string(), "accounts.csv line 3: not UTF-8 text");
}

#[test]
fn duplicate_accounts_in_any_order() {
    let book = RuleBook::from_toml_str(
        "basis = 360\n[ftp]\nrates = [{ product = \"demand\", term = \"none\", effective = \"2024-01\", rate = \"0.02\" }]",
    )
    .unwrap();
    let month = "2024-03".parse().unwrap();
    let line =
        |customer: &str, account: &str| format!("2024-03,{customer},{account},demand,liability,1.00,0.01,b1,le1\n");
    let header = "month,customer,account,product,side,average_balance,customer_rate,branch,legal_entity\n";
    for (accounts, duplicates) in [
        (vec![("c1", "a1"), ("c1", "a2"), ("c2", "a3")], vec![]),
        (vec![("c1", "a1"), ("c1", "a2"), ("c2", "a1")], vec!["a1"]),
        (vec![("c1", "a1"), ("c2", "a1"), ("c3", "a1")], vec!["a1", "a1"]),
        (vec![("c2", "a2"), ("c1", "a1"), ("c1", "a1"), ("c3", "a3"), ("c3", "a2")], vec!["a1", "a2"]),
    ] {
        let text: String =
            std::iter::once(header.to_string()).chain(accounts.iter().map(|(c, a)| line(c, a))).collect();
        let inputs =
            Inputs { account_months: read_account_months("accounts.csv", &text).unwrap(), ..Inputs::default() };
        let found = |r: Result<_, ContributionErrors>| -> Vec<String> {
            match r {
                Ok(_) => Vec::new(),
                Err(e) => e
                    .errors()
                    .iter()
                    .map(|e| match e {
                        ContributionError::DuplicateAccountMonth { account, .. } => account.clone(),
                        other => panic!("{other}"),
                    })
                    .collect(),
            }
        };
        assert_eq!(found(compute(&book, month, &inputs)), duplicates, "{accounts:?}");
        let table = AccountMonthTable::read_csv("accounts.csv", text.as_bytes()).unwrap();
        let rest = Inputs::default();
        assert_eq!(found(compute_table_streaming(&book, month, &table, &rest, |_| {})), duplicates, "{accounts:?}");
    }
}

#[test]
fn compute_table_is_compute() {
    let book = RuleBook::from_toml_str(
        "basis = 365\n[ftp]\nrates = [{ product = \"demand\", term = \"none\", effective = \"2024-01\", rate = \"0.02\" }]\n\
         [[stages]]\npool = \"counter\"\ndriver = \"accounts\"",
    )
    .unwrap();
    let month = "2024-03".parse().unwrap();
    let text = "month,customer,account,product,side,average_balance,customer_rate,branch,legal_entity\n\
                2024-03,c2,a3,demand,liability,73000.00,0.0030,b1,le1\n\
                2024-03,c1,a1,demand,liability,365000.00,0.0030,b1,le1\n\
                2024-03,c1,a2,demand,liability,1000.10,0.0010,b2,le1\n";
    let pools =
        crm_tiering_contribution::read_cost_pools("pools.csv", "month,cost_centre,amount\n2024-03,counter,100.01\n")
            .unwrap();
    let list = Inputs {
        account_months: read_account_months("accounts.csv", text).unwrap(),
        cost_pools: pools.clone(),
        ..Inputs::default()
    };
    let expected = compute(&book, month, &list).unwrap();
    assert_eq!(expected.lineage.len(), 5);
    let table = AccountMonthTable::read_csv("accounts.csv", text.as_bytes()).unwrap();
    assert_eq!((table.account(0), table.account(2), table.account(3)), (Some("a3"), Some("a2"), None));
    let rest = Inputs { cost_pools: pools, ..Inputs::default() };
    assert_eq!(compute_table(&book, month, &table, &rest).unwrap(), expected);
    // The account-months given twice are refused.
    let err = compute_table(&book, month, &table, &list).unwrap_err();
    assert!(err.to_string().contains("account_months"), "{err}");
}
