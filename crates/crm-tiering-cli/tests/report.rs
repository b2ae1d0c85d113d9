//! `crm-tiering report`: the HTML picture of a committed month, end to end.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::path::Path;

use common::{cli, code, err, out, p};

/// Makes a demo store of 2000 customers over 2023-01..2023-03 in `dir`; returns its path.
fn demo_store(dir: &Path) -> std::path::PathBuf {
    let o = cli(&["demo", "--out", p(dir), "--customers", "2000", "--months", "3"]);
    assert_eq!(code(&o), 0, "{}", err(&o));
    dir.join("crm-tiering.db")
}

/// Runs `report` and returns the page.
fn report(store: &Path, month: &str, file: &Path, extra: &[&str]) -> String {
    let mut args = vec!["report", "--month", month, "--store", p(store), "--out", p(file)];
    args.extend_from_slice(extra);
    let o = cli(&args);
    assert_eq!(code(&o), 0, "{}", err(&o));
    assert!(out(&o).contains(&format!("the report of {month}")), "{}", out(&o));
    std::fs::read_to_string(file).unwrap()
}

/// The `<svg>` elements of a page, each from `<svg` to `</svg>`.
fn svgs(html: &str) -> Vec<&str> {
    html.match_indices("<svg").map(|(i, _)| &html[i..i + html[i..].find("</svg>").expect("a closed svg")]).collect()
}

/// What every report must be: one page, nothing from the network, no script, charts drawn.
fn assert_self_contained(html: &str, charts: usize) {
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    for banned in ["http://", "https://", "<script", "<link", "<img", "src=", "href=", "@import", "url("] {
        assert!(!html.contains(banned), "the page holds `{banned}`");
    }
    let svgs = svgs(html);
    assert_eq!(svgs.len(), charts, "{} charts", svgs.len());
    for s in svgs {
        let shapes = s.matches("<rect").count() + s.matches("<circle").count() + s.matches("<polyline").count();
        assert!(shapes > 0 && s.contains("<text"), "a chart without shapes or labels: {s}");
        assert!(s.contains("viewBox=\"0 0 ") && s.contains("<title>"), "{s}");
    }
}

#[test]
fn a_demo_month_as_a_page() {
    let dir = tempfile::tempdir().unwrap();
    let store = demo_store(&dir.path().join("demo"));
    let file = dir.path().join("report.html");
    let html = report(&store, "2023-03", &file, &[]);
    // Distribution (shares, VIP counts), migration, trend, events, alerts.
    assert_self_contained(&html, 6);
    for entity in ["620101", "620201", "620301", "620401", "620501", "620621", "620722", "620802"] {
        assert!(html.contains(&format!(">{entity}<")), "{entity}");
    }
    for label in [
        "层级分布",
        "Tier distribution by legal entity",
        "层级迁移 Tier migration",
        "迁移矩阵 Migration matrix 2023-02 → 2023-03",
        "层级趋势 Tier counts over the committed months",
        "事件与提醒 Events and alerts of 2023-03",
        "临界客户 Near-threshold customers",
        "客户经理工作清单 Alert work-list per account manager",
        "非VIP not VIP",
        "金卡 Gold",
        "私行级 Private banking",
        "纳入 entered",
        "进入关注 watch_started",
        "关注中 watch_active",
        "临界升级 upgrade_opportunity",
        "潜在VIP potential_vip",
        "No assignment file given",
    ] {
        assert!(html.contains(label), "missing `{label}`");
    }
    // The facts of the month, from the store: 1,989 customers, 84 VIPs (as `demo` prints).
    assert!(html.contains("客户 Customers: 1,989 · VIP: 84 (4.2%)"), "{html}");
    assert!(html.contains("Committed 20") && html.contains("(运行 run 3)"));
    // The near-threshold table states its total and lists at most 50 rows.
    assert!(html.contains("near-threshold alert(s) in 2023-03"));
    // Determinism: the same store gives the same bytes.
    let again = dir.path().join("again.html");
    report(&store, "2023-03", &again, &[]);
    assert_eq!(std::fs::read(&file).unwrap(), std::fs::read(&again).unwrap());

    // The first committed month has no migration: said, not drawn.
    let first = report(&store, "2023-01", &dir.path().join("first.html"), &[]);
    assert_self_contained(&first, 5);
    assert!(first.contains("2023-01 is the first committed month of the store"), "{first}");
    assert!(!first.contains("迁移矩阵"));
}

#[test]
fn a_work_list_per_account_manager() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let store = demo_store(&demo);
    // Every customer of the demo, by turns to two managers, one of them with markup in the name.
    let aum = std::fs::read_to_string(demo.join("input/aum-monthly.csv")).unwrap();
    let mut ids: Vec<&str> = aum.lines().skip(1).filter_map(|l| l.split(',').nth(1)).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut text = String::from("customer_id,manager\n");
    for (i, id) in ids.iter().enumerate() {
        text.push_str(&format!("{id},{}\n", if i % 2 == 0 { "王芳" } else { "\"Li <Lei> & Co\"" }));
    }
    let managers = dir.path().join("managers.csv");
    std::fs::write(&managers, text).unwrap();
    let html = report(&store, "2023-03", &dir.path().join("r.html"), &["--managers", p(&managers)]);
    assert_self_contained(&html, 6);
    assert!(!html.contains("No assignment file given"));
    assert!(html.contains("<details><summary>王芳 · "), "{html}");
    assert!(html.contains("<details><summary>Li &lt;Lei&gt; &amp; Co · "), "{html}");
    assert!(!html.contains("<Lei>"));
    assert!(html.contains("alerts of customers without a manager: 0"), "{html}");

    // A customer given to two managers is refused, naming the file and line.
    std::fs::write(&managers, "c1,a\nc1,b\n").unwrap();
    let o = cli(&["report", "--month", "2023-03", "--store", p(&store), "--out", p(&dir.path().join("x.html"))]
        .into_iter()
        .chain(["--managers", p(&managers)])
        .collect::<Vec<_>>());
    assert_eq!(code(&o), 2, "{}", err(&o));
    assert!(err(&o).contains("managers.csv:2") && err(&o).contains("`c1`"), "{}", err(&o));
    assert!(!dir.path().join("x.html").exists());
}

#[test]
fn text_from_the_input_is_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.db");
    let entity = "R&D <x>";
    let months = [("2024-01", "150000"), ("2024-02", "190000")];
    for (m, aum) in months {
        let file = dir.path().join(format!("{m}.csv"));
        let text = format!(
            "month,customer_id,legal_entity,aum\n\
             {m},\"c<1>&\",\"{entity}\",{aum}\n\
             {m},c2,\"{entity}\",250000\n\
             {m},c3,620101,600000\n"
        );
        std::fs::write(&file, text).unwrap();
        let mut args = vec!["run", "--month", m, "--aum", p(&file), "--store", p(&store), "--quiet"];
        if m == "2024-01" {
            args.push("--create-store");
        }
        let o = cli(&args);
        assert_eq!(code(&o), 0, "{}", err(&o));
    }
    let html = report(&store, "2024-02", &dir.path().join("r.html"), &[]);
    assert_self_contained(&html, 6);
    // The legal entity in the bars and the table, the customer (潜在VIP, 10,000 short of gold)
    // in the near-threshold table: escaped everywhere, never raw.
    assert!(html.contains("R&amp;D &lt;x&gt;"), "{html}");
    assert!(html.contains("<td class=\"t\">c&lt;1&gt;&amp;</td>"), "{html}");
    assert!(html.contains("10,000.00"), "{html}");
    for raw in ["R&D", "<x>", "c<1>", "<1>&"] {
        assert!(!html.contains(raw), "`{raw}` is not escaped");
    }
}

#[test]
fn a_month_not_committed_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = demo_store(&dir.path().join("demo"));
    let file = dir.path().join("r.html");
    let o = cli(&["report", "--month", "2023-05", "--store", p(&store), "--out", p(&file)]);
    assert_eq!(code(&o), 2, "{}", err(&o));
    assert!(
        err(&o).contains("month 2023-05 is not committed") && err(&o).contains("no report was written"),
        "{}",
        err(&o)
    );
    assert!(err(&o).contains("its committed months are 2023-01..2023-03"), "{}", err(&o));
    assert!(!file.exists());
    // No store there: a usage error too, and nothing written.
    let o = cli(&["report", "--month", "2023-01", "--store", p(&dir.path().join("none.db")), "--out", p(&file)]);
    assert_eq!(code(&o), 2, "{}", err(&o));
    assert!(!file.exists());
    // The subcommand documents itself.
    let o = cli(&["report", "--help"]);
    assert!(out(&o).contains("--managers") && out(&o).contains("self-contained HTML"), "{}", out(&o));
}
