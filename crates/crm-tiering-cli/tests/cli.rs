//! End-to-end tests of the `crm-tiering` binary on files generated into temporary directories.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_crm-tiering")).args(args).output().expect("the binary runs")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited with a code")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn state_of(states: &[Value], id: &str) -> Value {
    states.iter().find(|s| s["customer_id"] == id).unwrap_or_else(|| panic!("no state for {id}"))["state"].clone()
}

fn event_kinds(events: &[Value], id: &str) -> Vec<String> {
    events.iter().filter(|e| e["customer_id"] == id).map(|e| e["kind"].as_str().unwrap().to_string()).collect()
}

/// A daily file: `days` balances of `balance` for one customer and component, then blank days.
fn daily_rows(id: &str, month: &str, component: &str, balance: &str, days: u32, total_days: u32) -> String {
    (1..=total_days)
        .map(|d| {
            let b = if d <= days { balance } else { "" };
            format!("{month}-{d:02},{id},620101,personal,{component},{b}\n")
        })
        .collect()
}

/// Two runs of two months each, the second fed with the first's states.jsonl.
#[test]
fn run_feeds_states_forward_and_explains_a_customer() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Months 1 and 2: a single `aum` column; c5 has no row in February (zero AUM).
    std::fs::write(
        d.join("aum-1.csv"),
        "month,customer_id,legal_entity,legal_entity_name,customer_kind,aum\n\
         2024-01,c1,620101,兰州,personal,250000\n\
         2024-01,c2,620101,兰州,personal,1200000\n\
         2024-01,c3,620201,嘉峪关,personal,100000\n\
         2024-01,c4,620201,嘉峪关,corporate,190000\n\
         2024-01,c5,620201,嘉峪关,personal,300000\n\
         2024-02,c1,620101,兰州,personal,250000.00\n\
         2024-02,c2,620101,兰州,personal,650000\n\
         2024-02,c3,620201,嘉峪关,personal,100000\n\
         2024-02,c4,620201,嘉峪关,corporate,190000\n",
    )
    .unwrap();
    // c6's January comes from daily balances: 30 days of 217,000 and one day without a balance
    // (zero under the default rule book): 6,510,000 / 31 = 210,000.
    let mut daily = String::from("date,customer_id,legal_entity,customer_kind,component,balance\n");
    daily.push_str(&daily_rows("c6", "2024-01", "time_deposit", "217000", 30, 31));
    std::fs::write(d.join("daily-1.csv"), daily).unwrap();
    std::fs::write(d.join("designations.csv"), "customer_id,month,action,tier,months\nc3,2024-02,grant,platinum,6\n")
        .unwrap();
    let out1 = d.join("out1");
    let o = cli(&[
        "run",
        "--aum",
        p(&d.join("aum-1.csv")),
        "--daily",
        p(&d.join("daily-1.csv")),
        "--designations",
        p(&d.join("designations.csv")),
        "--out",
        p(&out1),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("620101 兰州"), "{text}");
    assert!(text.contains("金卡"), "{text}");

    let states = jsonl(&out1.join("states.jsonl"));
    assert_eq!(states.len(), 6);
    assert_eq!(state_of(&states, "c1")["tier"], "gold");
    assert_eq!(state_of(&states, "c2")["tier"], "diamond");
    assert_eq!(state_of(&states, "c2")["watch"]["short_months"], 1);
    assert_eq!(state_of(&states, "c3")["status"], "not_enrolled");
    assert_eq!(state_of(&states, "c3")["effective_tier"], "platinum");
    assert_eq!(state_of(&states, "c5")["below_entry"]["months"], 1);
    assert_eq!(state_of(&states, "c6")["tier"], "gold");
    assert_eq!(state_of(&states, "c6")["last_month"], "2024-02");
    let events = jsonl(&out1.join("events.jsonl"));
    assert_eq!(event_kinds(&events, "c2"), ["entered", "watch_started"]);
    assert_eq!(event_kinds(&events, "c3"), ["special_granted"]);
    assert_eq!(event_kinds(&events, "c6"), ["entered"]);
    let c6 = events.iter().find(|e| e["customer_id"] == "c6").unwrap();
    assert_eq!(c6["evidence"]["aum"], "210000.00");
    assert_eq!(c6["kind_zh"], "纳入");
    let alerts = jsonl(&out1.join("alerts.jsonl"));
    assert!(alerts.iter().any(|a| a["customer_id"] == "c4" && a["kind"] == "potential_vip" && a["gap"] == "10000.00"));

    // Months 3 and 4: component columns (demand + time deposits), fed the states forward.
    std::fs::write(
        d.join("aum-2.csv"),
        "month,customer_id,legal_entity,customer_kind,demand_deposit,time_deposit\n\
         2024-03,c1,620101,personal,100000,150000\n\
         2024-03,c2,620101,personal,40000,600000\n\
         2024-04,c1,620101,personal,100000,150000\n\
         2024-04,c2,620101,personal,30000,600000\n",
    )
    .unwrap();
    let out2 = d.join("out2");
    let o = cli(&[
        "run",
        "--aum",
        p(&d.join("aum-2.csv")),
        "--states",
        p(&out1.join("states.jsonl")),
        "--out",
        p(&out2),
        "--quiet",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let states = jsonl(&out2.join("states.jsonl"));
    assert_eq!(states.len(), 6);
    // Three months short of diamond (650,000, 640,000, 630,000): down to the best tier of the
    // window, platinum.
    assert_eq!(state_of(&states, "c2")["tier"], "platinum");
    assert!(state_of(&states, "c2")["watch"].is_null());
    assert_eq!(state_of(&states, "c1")["tier"], "gold");
    assert_eq!(state_of(&states, "c5")["below_entry"]["months"], 3);
    assert_eq!(state_of(&states, "c6")["last_month"], "2024-04");
    let events = jsonl(&out2.join("events.jsonl"));
    assert_eq!(event_kinds(&events, "c2"), ["downgraded"]);
    let summary: Value = serde_json::from_str(&std::fs::read_to_string(out2.join("summary.json")).unwrap()).unwrap();
    let april = &summary["months"][1];
    assert_eq!(april["month"], "2024-04");
    assert_eq!(april["events"]["downgraded"], 1);
    assert_eq!(april["migration"]["diamond"]["platinum"], 1);
    assert_eq!(april["migration"]["gold"]["gold"], 3);
    assert_eq!(april["without_row"], 4);
    assert_eq!(april["by_legal_entity"]["620101"]["effective_tier"]["platinum"], 1);
    assert_eq!(summary["legal_entity_names"]["620201"], "嘉峪关");
    let csv = std::fs::read_to_string(out2.join("events.csv")).unwrap();
    assert!(csv.lines().nth(1).unwrap().starts_with("c2,620101,2024-04,2024-05,downgraded,降级,diamond,platinum,"));

    // The story of c2 across the second run's outputs.
    let o = cli(&["explain", "--customer", "c2", "--out", p(&out2)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let story = stdout(&o);
    assert!(story.contains("640000.00") && story.contains("630000.00"), "{story}");
    assert!(story.contains("downgraded from diamond to platinum from 2024-05"), "{story}");
    assert!(story.contains("降级"), "{story}");
    assert!(story.contains("白金卡 platinum"), "{story}");
    let o = cli(&["explain", "--customer", "nobody", "--out", p(&out2)]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("`nobody`"));

    // Running month 3 again on the same states is out of sequence: exit 5 and nothing written.
    let out3 = d.join("out3");
    let o =
        cli(&["run", "--aum", p(&d.join("aum-2.csv")), "--states", p(&out2.join("states.jsonl")), "--out", p(&out3)]);
    assert_eq!(code(&o), 5, "{}", stderr(&o));
    assert!(stderr(&o).contains("customer `c1`") && stderr(&o).contains("2024-03"), "{}", stderr(&o));
    assert!(!out3.join("states.jsonl").exists());
}

#[test]
fn reads_a_gbk_extract_with_chinese_headers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let text = "月份|客户号|法人机构号|法人机构名称|客户类型|活期存款|定期存款\n\
                202403|6221000001|620301|金昌|个人|120000.50|400000\n\
                202403|6221000002|620301|金昌|对公|1000|2000\n";
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(text);
    assert!(!unmappable);
    std::fs::write(d.join("aum-gbk.txt"), &gbk).unwrap();
    let out = d.join("out");
    let o =
        cli(&["run", "--aum", p(&d.join("aum-gbk.txt")), "--encoding", "gbk", "--delimiter", "|", "--out", p(&out)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("620301 金昌"), "{}", stdout(&o));
    let states = jsonl(&out.join("states.jsonl"));
    assert_eq!(state_of(&states, "6221000001")["tier"], "platinum");
    assert_eq!(states[0]["legal_entity_name"], "金昌");
    assert_eq!(states[1]["customer_kind"], "corporate");
    let events = jsonl(&out.join("events.jsonl"));
    assert_eq!(events[0]["evidence"]["aum"], "520000.50");

    // The same bytes read as UTF-8: every undecodable line is a bad row, nothing is written.
    let out2 = d.join("out-utf8");
    let o = cli(&["run", "--aum", p(&d.join("aum-gbk.txt")), "--delimiter", "|", "--out", p(&out2)]);
    assert_eq!(code(&o), 4, "{}", stderr(&o));
    assert!(stderr(&o).contains("--encoding gbk"), "{}", stderr(&o));
    assert!(!out2.join("states.jsonl").exists());
}

#[test]
fn bad_rows_stop_the_run_or_go_to_the_rejects_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let aum = d.join("aum.csv");
    std::fs::write(
        &aum,
        "month,customer_id,legal_entity,customer_kind,aum\n\
         2024-01,g1,620101,personal,250000\n\
         2024-01,b1,620101,personal,25O000\n\
         2024-13,b2,620101,personal,100\n\
         2024-01,b3,620101,personal,-5\n\
         2024-01,b4,620101,retail,100\n\
         2024-01,b5,620101,personal\n\
         2024-01,g1,620101,personal,1\n\
         2024-02,g1,620101,personal,250000\n\
         2024-02,b1,620101,personal,250000\n",
    )
    .unwrap();
    let out = d.join("out");
    // A previous run's file in the output directory must survive a failed run untouched.
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("states.jsonl"), "previous\n").unwrap();
    let o = cli(&["run", "--aum", p(&aum), "--out", p(&out)]);
    assert_eq!(code(&o), 4, "{}", stderr(&o));
    let err = stderr(&o);
    let name = p(&aum);
    for expected in [
        format!("{name}:3: customer `b1`: month 2024-01: field `aum`: `25O000` is not a decimal amount"),
        format!("{name}:4: customer `b2`: field `month`: `2024-13` is not a month"),
        format!("{name}:5: customer `b3`: month 2024-01: field `aum`: amount -5 is negative"),
        format!("{name}:6: customer `b4`: field `customer_kind`"),
        format!("{name}:7: the row has 4 fields, the header 5"),
        format!(
            "{name}:8: customer `g1`: month 2024-01: field `customer_id`: the customer already has a row for 2024-01 at {name}:2"
        ),
    ] {
        assert!(err.contains(&expected), "missing {expected:?} in\n{err}");
    }
    assert!(err.contains("6 bad row(s)"), "{err}");
    assert_eq!(std::fs::read_to_string(out.join("states.jsonl")).unwrap(), "previous\n");
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1, "no temporary file is left behind");

    let o = cli(&["run", "--aum", p(&aum), "--out", p(&out), "--skip-bad-rows"]);
    assert_eq!(code(&o), 6, "{}", stderr(&o));
    let rejects = std::fs::read_to_string(out.join("rejects.csv")).unwrap();
    let lines: Vec<&str> = rejects.lines().collect();
    assert_eq!(lines[0], "file,line,customer_id,month,category,field,message,original_line");
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with(",row,aum,`25O000` is not a decimal amount,\"2024-01,b1,620101,personal,25O000\"")),
        "{rejects}"
    );
    assert!(lines.iter().any(|l| l.contains(",7,,,row,,\"the row has 4 fields, the header 5\",")), "{rejects}");
    // g1's January has two rows: g1 is held back from January on; b1 (a bad January row) from
    // its first month, although its February row is good: a skipped row never silently becomes
    // zero AUM.
    assert!(lines.iter().any(|l| l.contains(",g1,2024-01,blocked,")), "{rejects}");
    assert!(lines.iter().any(|l| l.contains(",b1,2024-02,blocked,")), "{rejects}");
    assert_eq!(lines.len(), 1 + 6 + 2, "{rejects}");
    let states = jsonl(&out.join("states.jsonl"));
    assert_eq!(states.len(), 2);
    assert!(states.iter().all(|s| s["state"]["status"] == "not_enrolled" && s["state"]["last_month"].is_null()));
    let history = std::fs::read_to_string(out.join("history.csv")).unwrap();
    assert_eq!(history.lines().count(), 1, "nobody was evaluated: {history}");
}

#[test]
fn check_rules_prints_the_tiers_or_names_the_broken_field() {
    let o = cli(&["check-rules", concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules-spec/default-rules.toml")]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    for expected in
        ["金卡", "Gold", "200000.00", "私行级", "3000000.00", "exit after 6 months", "retention 2 months", "活期存款"]
    {
        assert!(text.contains(expected), "missing {expected} in\n{text}");
    }

    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.toml");
    let default =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules-spec/default-rules.toml")).unwrap();
    std::fs::write(&broken, default.replace("exit_after_months = 6", "exit_after_months = 6\nexit_afer_months = 7"))
        .unwrap();
    let o = cli(&["check-rules", p(&broken)]);
    assert_eq!(code(&o), 3);
    let err = stderr(&o);
    assert!(err.contains("exit_afer_months") && err.contains("line "), "{err}");

    std::fs::write(&broken, default.replace("min_aum = \"500000\"", "min_aum = \"150000\"")).unwrap();
    let o = cli(&["check-rules", p(&broken)]);
    assert_eq!(code(&o), 3);
    assert!(stderr(&o).contains("rule_sets[0].versions[0].tiers[1].min_aum"), "{}", stderr(&o));

    // A run refuses an invalid rule book with the same exit code.
    let o = cli(&["run", "--rules", p(&broken), "--aum", p(&broken), "--out", p(dir.path())]);
    assert_eq!(code(&o), 3);
}

#[test]
fn demo_generates_runs_and_reproduces_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let o = cli(&["demo", "--out", p(&out), "--customers", "2000", "--months", "6"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("620101 兰州") && text.contains("620802 崆峒"), "{text}");
    assert!(text.contains("2023-06") && text.contains("entered"), "{text}");
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("output/summary.json")).unwrap()).unwrap();
    let customers = summary["customers"].as_u64().unwrap();
    assert!((1900..=2000).contains(&customers), "{customers}");
    let last = &summary["months"][5];
    let vip = last["vip"].as_u64().unwrap();
    assert!(vip > 20 && vip < customers / 4, "most customers are below entry: {vip} of {customers}");
    let states = std::fs::read_to_string(out.join("output/states.jsonl")).unwrap();
    assert_eq!(states.lines().count() as u64, customers);

    // The printed command gives the same states.
    let again = dir.path().join("again");
    let o = cli(&[
        "run",
        "--aum",
        p(&out.join("input/aum-monthly.csv")),
        "--designations",
        p(&out.join("input/designations.csv")),
        "--out",
        p(&again),
        "--quiet",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(again.join("states.jsonl")).unwrap(), states);

    // The customer the demo suggests has a story.
    let id = text.split("explain --customer ").nth(1).unwrap().split_whitespace().next().unwrap();
    let o = cli(&["explain", "--customer", id, "--out", p(&out.join("output"))]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("entered at"), "{}", stdout(&o));
}

#[test]
fn help_documents_the_exit_codes() {
    let o = cli(&["run", "--help"]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("6  completed with --skip-bad-rows"), "{}", stdout(&o));
    let o = cli(&["run", "--out"]);
    assert_eq!(code(&o), 2);
}
