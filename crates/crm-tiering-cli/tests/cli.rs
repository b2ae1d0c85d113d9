//! End-to-end tests of the `crm-tiering` binary on files generated into temporary directories.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// The demo rule book: personal and corporate rule sets.
const DEMO_RULES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules-spec/demo-rules.toml");

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

/// The customer lines of a states file, after checking its header and trailer.
fn states_file(path: &Path) -> Vec<Value> {
    let lines = jsonl(path);
    assert_eq!(lines[0]["crm_tiering_states"], 2, "header: {}", lines[0]);
    let n = lines[0]["customers"].as_u64().unwrap() as usize;
    assert_eq!(lines.len(), n + 2);
    assert_eq!(lines[n + 1]["end_of_states"]["customers"], n as u64);
    lines[1..=n].to_vec()
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
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

/// `run` as the tests of the file outputs knew it, over the store: `--out DIR` becomes the store
/// `DIR/crm-tiering.db` (a prior `--states FILE` is imported into it first with
/// `import-states`), and a successful run is exported into DIR: `states.jsonl` (the checked
/// states of the last month), `events.jsonl`, `alerts.jsonl`, and the CSV files `states.csv`,
/// `events.csv`, `alerts.csv`, `rejects.csv`.
fn run_out(args: &[&str]) -> Output {
    let value = |name: &str| args.iter().position(|a| *a == name).and_then(|i| args.get(i + 1)).copied();
    let out = Path::new(value("--out").expect("--out")).to_path_buf();
    std::fs::create_dir_all(&out).unwrap();
    let db = out.join("crm-tiering.db");
    if let Some(states) = value("--states") {
        let mut import = vec!["import-states", states, "--store", p(&db), "--create-store"];
        // The states are imported under the run's rule book, unless the run accepts a change
        // of rule book (then they keep their own).
        if let Some(rules) = value("--rules").filter(|_| !args.contains(&"--accept-rule-change")) {
            import.extend(["--rules", rules]);
        }
        let o = cli(&import);
        if code(&o) != 0 {
            return o;
        }
    }
    let mut run: Vec<&str> = Vec::new();
    let mut skip = false;
    for a in args {
        if skip {
            skip = false;
            continue;
        }
        if *a == "--out" || *a == "--states" {
            skip = true;
            continue;
        }
        run.push(a);
    }
    run.extend(["--store", p(&db), "--create-store"]);
    let o = cli(&run);
    if code(&o) == 0 || code(&o) == 6 {
        let month = value("--month").unwrap();
        let last = month.rsplit("..").next().unwrap();
        for format in ["jsonl", "csv"] {
            let e = cli(&["export", "--month", month, "--format", format, "--store", p(&db), "--out", p(&out)]);
            assert_eq!(code(&e), 0, "{}", stderr(&e));
        }
        std::fs::rename(out.join(format!("states-{last}.jsonl")), out.join("states.jsonl")).unwrap();
    }
    o
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
         2024-01,c4,620201,嘉峪关,personal,190000\n\
         2024-01,c5,620201,嘉峪关,personal,300000\n\
         2024-02,c1,620101,兰州,personal,250000.00\n\
         2024-02,c2,620101,兰州,personal,650000\n\
         2024-02,c3,620201,嘉峪关,personal,100000\n\
         2024-02,c4,620201,嘉峪关,personal,190000\n",
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
    let o = run_out(&[
        "run",
        "--month",
        "2024-01..2024-02",
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

    let states = states_file(&out1.join("states.jsonl"));
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
         2024-03,c3,620201,personal,100000,0\n\
         2024-04,c1,620101,personal,100000,150000\n\
         2024-04,c3,620201,personal,100000,0\n\
         2024-04,c2,620101,personal,30000,600000\n",
    )
    .unwrap();
    let out2 = d.join("out2");
    let o = run_out(&[
        "run",
        "--month",
        "2024-03..2024-04",
        "--aum",
        p(&d.join("aum-2.csv")),
        "--states",
        p(&out1.join("states.jsonl")),
        "--out",
        p(&out2),
        "--quiet",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let states = states_file(&out2.join("states.jsonl"));
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
    let csv = std::fs::read_to_string(out2.join("events.csv")).unwrap();
    assert!(csv.lines().nth(1).unwrap().starts_with("2024-04,c2,2024-05,downgraded,降级,diamond,platinum,"), "{csv}");
    // The committed months: the second run went on from the first's states in the store.
    assert!(stdout(&o).contains("committed 2024-03..2024-04 (runs 2..3)"), "{}", stdout(&o));

    // The story of c2 across the second run's outputs.
    let o = cli(&["explain", "--customer", "c2", "--store", p(&out2.join("crm-tiering.db"))]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let story = stdout(&o);
    assert!(story.contains("640000.00") && story.contains("630000.00"), "{story}");
    assert!(story.contains("downgraded from diamond to platinum from 2024-05"), "{story}");
    assert!(story.contains("降级"), "{story}");
    assert!(story.contains("白金卡 platinum"), "{story}");
    let o = cli(&["explain", "--customer", "nobody", "--store", p(&out2.join("crm-tiering.db"))]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("`nobody`"));

    // The story of c2 across both runs (one store): January's entry and February's watch too.
    let o = cli(&["explain", "--customer", "c2", "--store", p(&out1.join("crm-tiering.db"))]);
    assert!(stdout(&o).contains("watch started"), "{}", stdout(&o));
    // Running month 3 again on the same states is out of sequence: exit 5 and nothing written.
    let out3 = d.join("out3");
    let o = run_out(&[
        "run",
        "--month",
        "2024-03..2024-04",
        "--aum",
        p(&d.join("aum-2.csv")),
        "--states",
        p(&out2.join("states.jsonl")),
        "--out",
        p(&out3),
    ]);
    // (The store holds the states after 2024-04: 2024-03 is before it, exit 8.)
    assert_eq!(code(&o), 8, "{}", stderr(&o));
    assert!(stderr(&o).contains("month 2024-03 is before the latest committed month 2024-04"), "{}", stderr(&o));
    assert!(!out3.join("states.jsonl").exists());
}

#[test]
fn reads_each_file_in_its_own_encoding_and_delimiter() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // The core system's GBK extract delimited by `|`, and a UTF-8 designation file by `,`.
    let text = "月份|客户号|法人机构号|法人机构名称|客户类型|活期存款|定期存款\n\
                202403|6221000001|620301|金昌|个人|120000.50|400000\n\
                202403|6221000002|620301|金昌|个人|1000|2000\n";
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(text);
    assert!(!unmappable);
    std::fs::write(d.join("aum-gbk.txt"), &gbk).unwrap();
    std::fs::write(
        d.join("designations.csv"),
        "customer_id,month,action,tier,months\n6221000002,202403,grant,白金卡,6\n",
    )
    .unwrap();
    let out = d.join("out");
    let args = |encoding: &str, delimiter: &str, out: &std::path::Path| {
        run_out(&[
            "run",
            "--month",
            "2024-03",
            "--aum",
            p(&d.join("aum-gbk.txt")),
            "--designations",
            p(&d.join("designations.csv")),
            "--encoding",
            encoding,
            "--delimiter",
            delimiter,
            "--rules",
            DEMO_RULES,
            "--out",
            p(out),
        ])
    };
    let o = args("auto", "auto", &out);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("aum-gbk.txt: read as gbk, fields delimited by `|`"), "{}", stderr(&o));
    assert!(stderr(&o).contains("designations.csv: read as utf-8, fields delimited by `,`"), "{}", stderr(&o));
    assert!(stdout(&o).contains("620301 金昌"), "{}", stdout(&o));
    let states = states_file(&out.join("states.jsonl"));
    assert_eq!(state_of(&states, "6221000001")["tier"], "platinum");
    assert_eq!(state_of(&states, "6221000002")["special"]["tier"], "platinum");

    // One encoding for both, as before: the UTF-8 file's Chinese is not GBK text.
    let o = args("gbk", "auto", &d.join("out-gbk"));
    assert_ne!(code(&o), 0, "{}", stderr(&o));
    // A header that holds as many of two delimiters is not guessed.
    std::fs::write(d.join("odd.csv"), "month,customer_id|aum\n2024-03,c1|250000\n").unwrap();
    let o = run_out(&[
        "run",
        "--month",
        "2024-03",
        "--aum",
        p(&d.join("odd.csv")),
        "--delimiter",
        "auto",
        "--out",
        p(&d.join("o3")),
    ]);
    assert_eq!(code(&o), 4, "{}", stderr(&o));
    assert!(stderr(&o).contains("the header holds as many `,` and `|` as each other"), "{}", stderr(&o));
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
    let o = run_out(&[
        "run",
        "--month",
        "2024-03",
        "--aum",
        p(&d.join("aum-gbk.txt")),
        "--encoding",
        "gbk",
        "--delimiter",
        "|",
        "--rules",
        DEMO_RULES,
        "--out",
        p(&out),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("620301 金昌"), "{}", stdout(&o));
    let states = states_file(&out.join("states.jsonl"));
    assert_eq!(state_of(&states, "6221000001")["tier"], "platinum");
    assert_eq!(states[0]["legal_entity"], "620301");
    assert_eq!(states[1]["customer_kind"], "corporate");
    let events = jsonl(&out.join("events.jsonl"));
    assert_eq!(events[0]["evidence"]["aum"], "520000.50");

    // The same bytes read as UTF-8: every undecodable line is a bad row, nothing is written.
    let out2 = d.join("out-utf8");
    let o = run_out(&[
        "run",
        "--month",
        "2024-03",
        "--aum",
        p(&d.join("aum-gbk.txt")),
        "--delimiter",
        "|",
        "--out",
        p(&out2),
    ]);
    assert_eq!(code(&o), 4, "{}", stderr(&o));
    assert!(stderr(&o).contains("--encoding gbk"), "{}", stderr(&o));
    assert!(!out2.join("states.jsonl").exists());
}

#[test]
fn bad_rows_stop_the_run_or_hold_their_customers_back() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let aum = d.join("aum.csv");
    write(
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
         2024-02,b1,620101,personal,250000\n\
         2024-01,g2,620101,personal,600000\n",
    );
    let out = d.join("out");
    // A previous run's file in the output directory must survive a failed run untouched.
    std::fs::create_dir_all(&out).unwrap();
    write(&out.join("states.jsonl"), "previous\n");
    let o = run_out(&["run", "--month", "2024-01..2024-02", "--aum", p(&aum), "--out", p(&out)]);
    assert_eq!(code(&o), 4, "{}", stderr(&o));
    let err = stderr(&o);
    let name = p(&aum);
    for expected in [
        format!(
            "{name}:3: invalid input for customer `b1`, month 2024-01, field `aum`: `25O000` is not a decimal amount"
        ),
        format!("{name}:4: invalid input for customer `b2`, field `month`: `2024-13` is not a month"),
        format!("{name}:5: invalid input for customer `b3`, month 2024-01, field `aum`: amount -5 is negative"),
        format!("{name}:6: invalid input for customer `b4`, field `customer_kind`"),
        format!("{name}:7: invalid input for customer `b5`, field `record`: the record has 4 fields, the header 5"),
        format!(
            "{name}:8: invalid input for customer `g1`, month 2024-01, field `customer_id`: a second record for the customer in the month (first at {name}:2)"
        ),
    ] {
        assert!(err.contains(&expected), "missing {expected:?} in\n{err}");
    }
    assert!(err.contains("6 bad input record(s); nothing was written"), "{err}");
    assert_eq!(std::fs::read_to_string(out.join("states.jsonl")).unwrap(), "previous\n");
    let mut left: Vec<String> =
        std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    left.sort();
    assert_eq!(left, ["crm-tiering.db", "states.jsonl"], "no temporary file is left behind");
    let o = cli(&["history", "--store", p(&out.join("crm-tiering.db"))]);
    // The refused run is in the audit as aborted, with why; no month is committed.
    assert!(stdout(&o).contains("run 1 month 2024-01 aborted"), "{}", stdout(&o));
    assert!(stdout(&o).contains("note: 6 bad input record(s)"), "{}", stdout(&o));
    assert!(!stdout(&o).contains("committed"), "{}", stdout(&o));

    let o = run_out(&["run", "--month", "2024-01..2024-02", "--aum", p(&aum), "--out", p(&out), "--skip-bad-rows"]);
    assert_eq!(code(&o), 6, "{}", stderr(&o));
    let rejects = std::fs::read_to_string(out.join("rejects.csv")).unwrap();
    let lines: Vec<&str> = rejects.lines().collect();
    assert_eq!(
        lines[0].trim_start_matches('\u{feff}'),
        "month,run_id,seq,customer_id,category,field,record,other_record,message"
    );
    let row = |line: u32| -> &str {
        lines
            .iter()
            .find(|l| l.contains(&format!(",{name}:{line},")))
            .unwrap_or_else(|| panic!("no line {line} in {rejects}"))
    };
    assert!(row(3).starts_with("2024-01,2,") && row(3).contains(&format!(",b1,input,aum,{name}:3,,")), "{rejects}");
    assert!(row(4).contains(&format!(",b2,input,month,{name}:4,,")), "{rejects}");
    assert!(row(7).contains(&format!(",b5,input,record,{name}:7,,")), "{rejects}");
    // The duplicate names both records.
    assert!(row(8).contains(&format!(",g1,input,customer_id,{name}:8,{name}:2,")), "{rejects}");
    // Every held customer once; b1 (a bad January row) is held from January on although its
    // February row is good: a skipped row never silently becomes zero AUM.
    assert_eq!(lines.len(), 1 + 6, "{rejects}");
    // g2 was evaluated both months; b3's negative amount is refused by the engine when b3 joins
    // the portfolio, so b3 is stored but never evaluated; the others never joined.
    let states = states_file(&out.join("states.jsonl"));
    let ids: Vec<&str> = states.iter().map(|s| s["customer_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["b3", "g2"]);
    assert_eq!(state_of(&states, "g2")["last_month"], "2024-02");
    assert!(state_of(&states, "b3")["last_month"].is_null());
    let history = std::fs::read_to_string(out.join("states.csv")).unwrap();
    assert!(
        history.lines().skip(1).filter(|l| l.split(',').nth(4) == Some("true")).all(|l| l.contains(",g2,")),
        "{history}"
    );
}

/// Issue 8: a March extract with one stray April row never evaluates April.
#[test]
fn a_stray_row_of_another_month_holds_its_customer_and_no_other_month_runs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let aum = d.join("aum.csv");
    write(&aum, "month,customer_id,aum\n2024-03,c1,250000\n2024-04,c2,900000\n2024-03,c3,600000\n");
    let out = d.join("out");
    let o = run_out(&["run", "--month", "2024-03", "--aum", p(&aum), "--out", p(&out)]);
    assert_eq!(code(&o), 4, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains(&format!("{}:3: invalid input for customer `c2`, month 2024-04, field `month`", p(&aum))),
        "{err}"
    );
    assert!(!out.join("states.jsonl").exists());

    let o = run_out(&["run", "--month", "2024-03", "--aum", p(&aum), "--out", p(&out), "--skip-bad-rows"]);
    assert_eq!(code(&o), 6, "{}", stderr(&o));
    let states = states_file(&out.join("states.jsonl"));
    assert_eq!(states.len(), 2);
    assert!(states.iter().all(|s| s["state"]["last_month"] == "2024-03"), "{states:?}");
    assert_eq!(state_of(&states, "c1")["tier"], "gold");
    assert_eq!(state_of(&states, "c3")["tier"], "platinum");
    let history = std::fs::read_to_string(out.join("states.csv")).unwrap();
    assert!(!history.contains("2024-04"), "{history}");
    let rejects = std::fs::read_to_string(out.join("rejects.csv")).unwrap();
    assert!(rejects.contains(&format!(",c2,input,month,{}:3,", p(&aum))), "{rejects}");

    // The month is required, and strict.
    let o = run_out(&["run", "--aum", p(&aum), "--out", p(&out)]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let o = run_out(&["run", "--month", "2024-+3", "--aum", p(&aum), "--out", p(&out)]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    // A declared month without a single record is a missing extract, not a month of zeros.
    let o = run_out(&[
        "run",
        "--month",
        "2024-05",
        "--aum",
        p(&aum),
        "--states",
        p(&out.join("states.jsonl")),
        "--out",
        p(&d.join("o2")),
    ]);
    assert_eq!(code(&o), 4, "{}", stderr(&o));
    assert!(stderr(&o).contains("no AUM record for 2024-05"), "{}", stderr(&o));
}

/// Issue 8: two names of one component are refused, naming the column.
#[test]
fn two_names_of_one_component_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let aum = d.join("aum.csv");
    write(&aum, "month,customer_id,time_deposit,定期存款\n2024-03,c1,100,250000\n");
    let out = d.join("out");
    for skip in [false, true] {
        let mut args = vec!["run", "--month", "2024-03", "--aum", p(&aum), "--out", p(&out)];
        if skip {
            args.push("--skip-bad-rows");
        }
        let o = run_out(&args);
        assert_eq!(code(&o), 4, "{}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains(&format!("{}:1: field `定期存款`: column `定期存款`", p(&aum))), "{err}");
        assert!(!out.join("states.jsonl").exists());
    }
}

/// Issue 8: an extract without the legal_entity column keeps the stored legal entity.
#[test]
fn a_missing_identity_column_keeps_the_stored_values() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // The demo rule book tiers corporate customers (对公金卡 from 1,000,000).
    write(
        &d.join("jan.csv"),
        "month,customer_id,legal_entity,customer_kind,aum\n2024-01,c1,620101,corporate,1250000\n",
    );
    let (jan, o1) = (d.join("jan.csv"), d.join("o1"));
    let o = run_out(&["run", "--month", "2024-01", "--rules", DEMO_RULES, "--aum", p(&jan), "--out", p(&o1)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    write(&d.join("feb.csv"), "month,customer_id,aum\n2024-02,c1,1260000\n");
    let o = run_out(&[
        "run",
        "--month",
        "2024-02",
        "--rules",
        DEMO_RULES,
        "--aum",
        p(&d.join("feb.csv")),
        "--states",
        p(&d.join("o1/states.jsonl")),
        "--out",
        p(&d.join("o2")),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let states = states_file(&d.join("o2/states.jsonl"));
    assert_eq!(states[0]["legal_entity"], "620101");
    assert_eq!(states[0]["customer_kind"], "corporate");
    assert_eq!(states[0]["state"]["last_month"], "2024-02");
    let history = std::fs::read_to_string(d.join("o2/states.csv")).unwrap();
    assert!(
        history.lines().nth(1).unwrap().starts_with("2024-02,c1,620101,corporate,true,true,1260000.00,rated,corp_gold"),
        "{history}"
    );
}

/// Issue 8: a row with the wrong number of fields holds its customer back under
/// --skip-bad-rows: no zero-AUM evaluation, no exit-risk alert, state kept.
#[test]
fn a_row_with_the_wrong_number_of_fields_holds_its_customer() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // c1 is gold and 5 months below... simply gold since January.
    write(
        &d.join("jan.csv"),
        "month,customer_id,legal_entity,aum\n2024-01,c1,620101,250000\n2024-01,c2,620101,600000\n",
    );
    let o = run_out(&["run", "--month", "2024-01", "--aum", p(&d.join("jan.csv")), "--out", p(&d.join("o1"))]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let before = states_file(&d.join("o1/states.jsonl"));
    let feb = d.join("feb.csv");
    write(&feb, "month,customer_id,legal_entity,aum\n2024-02,c1,620101\n2024-02,c2,620101,600000\n");
    let o = run_out(&[
        "run",
        "--month",
        "2024-02",
        "--aum",
        p(&feb),
        "--states",
        p(&d.join("o1/states.jsonl")),
        "--out",
        p(&d.join("o2")),
        "--skip-bad-rows",
    ]);
    assert_eq!(code(&o), 6, "{}", stderr(&o));
    let states = states_file(&d.join("o2/states.jsonl"));
    assert_eq!(state_of(&states, "c1"), state_of(&before, "c1"), "c1's state is kept");
    assert_eq!(state_of(&states, "c2")["last_month"], "2024-02");
    // Its only alert says it was held back, its tier frozen (SPEC §15.7).
    let alerts = jsonl(&d.join("o2/alerts.jsonl"));
    let c1: Vec<&Value> = alerts.iter().filter(|a| a["customer_id"] == "c1").collect();
    assert_eq!(c1.len(), 1, "{alerts:?}");
    assert_eq!((c1[0]["kind"].as_str(), c1[0]["tier"].as_str()), (Some("held_back"), Some("gold")), "{alerts:?}");
    assert!(c1[0].get("aum").is_none(), "{alerts:?}");
    let events = jsonl(&d.join("o2/events.jsonl"));
    assert!(events.iter().all(|e| e["customer_id"] != "c1"), "{events:?}");
    let rejects = std::fs::read_to_string(d.join("o2/rejects.csv")).unwrap();
    assert!(rejects.contains(&format!(",c1,input,record,{}:2,", p(&feb))), "{rejects}");
    // A row whose customer cannot be identified stops the run even with --skip-bad-rows.
    write(&feb, "month,customer_id,legal_entity,aum\n2024-02, c1,620101,1\n2024-02,c2,620101,600000\n");
    let o = run_out(&[
        "run",
        "--month",
        "2024-02",
        "--aum",
        p(&feb),
        "--states",
        p(&d.join("o1/states.jsonl")),
        "--out",
        p(&d.join("o3")),
        "--skip-bad-rows",
    ]);
    assert_eq!(code(&o), 4, "{}", stderr(&o));
    assert!(stderr(&o).contains(&format!("{}:2: ", p(&feb))), "{}", stderr(&o));
    assert!(!d.join("o3/states.jsonl").exists());
}

/// Issue 8: a states file cut short, at a line end or anywhere, or altered, is refused.
#[test]
fn damaged_or_stale_states_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(&d.join("jan.csv"), "month,customer_id,aum\n2024-01,c1,250000\n2024-01,c2,600000\n2024-01,c3,1200000\n");
    let o = run_out(&["run", "--month", "2024-01", "--aum", p(&d.join("jan.csv")), "--out", p(&d.join("o1"))]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let good = std::fs::read_to_string(d.join("o1/states.jsonl")).unwrap();
    write(&d.join("feb.csv"), "month,customer_id,aum\n2024-02,c1,250000\n");
    let cut_at_line_end = {
        let lines: Vec<&str> = good.lines().collect();
        format!("{}\n", lines[..lines.len() - 2].join("\n"))
    };
    let cut_mid = good[..good.len() * 2 / 3].to_string();
    let altered = good.replace("\"platinum\"", "\"diamond\"");
    let run = |text: &str, extra: &[&str]| {
        let states = d.join("states.jsonl");
        write(&states, text);
        let out = d.join("o2");
        let _ = std::fs::remove_dir_all(&out);
        let feb = d.join("feb.csv");
        let mut args = vec!["run", "--month", "2024-02", "--aum", p(&feb), "--out"];
        args.push(p(&out));
        args.extend(["--states", p(&states)]);
        args.extend(extra);
        let o = run_out(&args);
        (o, out.join("states.jsonl").exists())
    };
    for (what, text) in [("cut at a line end", &cut_at_line_end), ("cut mid-line", &cut_mid), ("altered", &altered)] {
        let (o, written) = run(text, &["--skip-bad-rows"]);
        assert_eq!(code(&o), 4, "{what}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains(&format!("{}:", p(&d.join("states.jsonl")))), "{what}: {err}");
        assert!(err.contains("category state"), "{what}: {err}");
        assert!(!written, "{what}: nothing is written");
    }
    let (o, written) = run(&good, &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(written);

    // States written under another rule book: refused unless --accept-rule-change.
    let default =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules-spec/default-rules.toml")).unwrap();
    let other = d.join("other.toml");
    write(&other, &default.replace("near_threshold_band = \"0.10\"", "near_threshold_band = \"0.05\""));
    assert_ne!(std::fs::read_to_string(&other).unwrap(), default, "the rule book changed");
    let (o, written) = run(&good, &["--rules", p(&other)]);
    assert_eq!(code(&o), 4, "{}", stderr(&o));
    assert!(stderr(&o).contains("written under rule book"), "{}", stderr(&o));
    assert!(!written);
    let (o, written) = run(&good, &["--rules", p(&other), "--accept-rule-change"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(written);
}

/// Issue 8: a duplicate id in the extract names both lines.
#[test]
fn a_duplicate_customer_names_both_lines() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let aum = d.join("aum.csv");
    write(&aum, "month,customer_id,aum\n2024-03,c1,250000\n2024-03,c2,250000\n2024-03,c1,900000\n");
    let o = run_out(&["run", "--month", "2024-03", "--aum", p(&aum), "--out", p(&d.join("o"))]);
    assert_eq!(code(&o), 4, "{}", stderr(&o));
    let name = p(&aum);
    assert!(
        stderr(&o).contains(&format!("{name}:4: ")) && stderr(&o).contains(&format!("(first at {name}:2)")),
        "{}",
        stderr(&o)
    );
    let o = run_out(&["run", "--month", "2024-03", "--aum", p(&aum), "--out", p(&d.join("o")), "--skip-bad-rows"]);
    assert_eq!(code(&o), 6, "{}", stderr(&o));
    let rejects = std::fs::read_to_string(d.join("o/rejects.csv")).unwrap();
    assert!(rejects.contains(&format!(",c1,input,customer_id,{name}:4,{name}:2,")), "{rejects}");
    let states = states_file(&d.join("o/states.jsonl"));
    assert_eq!(states.len(), 1, "c1 is held back, never evaluated: {states:?}");
}

/// Issue 8: CSV outputs neutralise cells that a spreadsheet would run as formulas; the tool's
/// own numbers are written as they are, and explain still finds the customer.
#[test]
fn formula_cells_are_neutralised() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let aum = d.join("aum.csv");
    write(
        &aum,
        "month,customer_id,legal_entity,aum\n2024-03,=1+2,@SUM(A1),250000\n2024-03,+86,-5,12x\n2024-03,c3,\"=HYPERLINK(\"\"x\"\",1)\",600000\n",
    );
    let out = d.join("o");
    let o = run_out(&["run", "--month", "2024-03", "--aum", p(&aum), "--out", p(&out), "--skip-bad-rows"]);
    assert_eq!(code(&o), 6, "{}", stderr(&o));
    let events = std::fs::read_to_string(out.join("events.csv")).unwrap();
    assert!(events.lines().any(|l| l.starts_with("2024-03,'=1+2,2024-04,entered,")), "{events}");
    let history = std::fs::read_to_string(out.join("states.csv")).unwrap();
    assert!(history.lines().any(|l| l.starts_with("2024-03,c3,\"'=HYPERLINK(\"\"x\"\",1)\",personal,")), "{history}");
    assert!(
        history.lines().any(|l| l.starts_with("2024-03,'=1+2,'@SUM(A1),personal,true,true,250000.00,rated,gold,gold,")),
        "{history}"
    );
    let rejects = std::fs::read_to_string(out.join("rejects.csv")).unwrap();
    assert!(rejects.lines().any(|l| l.contains(&format!(",'+86,input,aum,{}:3,", p(&aum)))), "{rejects}");
    // The JSON outputs keep the exact ids, and explain finds the customer.
    let states = states_file(&out.join("states.jsonl"));
    assert_eq!(state_of(&states, "=1+2")["tier"], "gold");
    let o = cli(&["explain", "--customer", "=1+2", "--store", p(&out.join("crm-tiering.db"))]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("entered at gold"), "{}", stdout(&o));
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
    let o = run_out(&["run", "--month", "2024-01", "--rules", p(&broken), "--aum", p(&broken), "--out", p(dir.path())]);
    assert_eq!(code(&o), 3);

    // A book with measures shows each tier's criteria and each measure's column (SPEC §19).
    let o =
        cli(&["check-rules", concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules-spec/gallery/cebbank-private.toml")]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    for expected in
        ["any of: aum >= 6000000.00, loan_balance >= 6000000.00", "read from column `loan_balance`", "absent: zero"]
    {
        assert!(text.contains(expected), "missing {expected} in\n{text}");
    }
    // A book with windows shows them and the history each state keeps (SPEC §19.2, §19.5).
    let o = cli(&["check-rules", concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules-spec/gallery/citic-private.toml")]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    for expected in
        ["any of: aum over prev_quarter >= 6000000.00", "history kept beside each state for the windows: aum 5 months"]
    {
        assert!(stdout(&o).contains(expected), "missing {expected} in\n{}", stdout(&o));
    }
    // A criterion naming no declared measure names the field.
    let gallery =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules-spec/gallery/cebbank-private.toml"))
            .unwrap();
    std::fs::write(&broken, gallery.replace("measure = \"loan_balance\"", "measure = \"loan_balanse\"")).unwrap();
    let o = cli(&["check-rules", p(&broken)]);
    assert_eq!(code(&o), 3);
    assert!(
        stderr(&o).contains("tiers[3].qualify.any_of[1].measure") && stderr(&o).contains("loan_balanse"),
        "{}",
        stderr(&o)
    );
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
    let db = out.join("crm-tiering.db");
    assert!(text.contains(&format!("committed 2023-01..2023-06 (runs 1..6) into {}", p(&db))), "{text}");
    let e = cli(&["export", "--month", "2023-06", "--format", "jsonl", "--store", p(&db), "--out", p(&out.join("x"))]);
    assert_eq!(code(&e), 0, "{}", stderr(&e));
    let states = std::fs::read_to_string(out.join("x/states-2023-06.jsonl")).unwrap();
    let customers = states_file(&out.join("x/states-2023-06.jsonl")).len() as u64;
    assert!((1900..=2000).contains(&customers), "{customers}");
    assert!(text.contains("run --month 2023-01..2023-06 --rules"), "{text}");
    // Only the store (and the inputs) in the demo's directory: no temporary file (SQLite's own
    // -wal and -shm files, which a read-only open of the store leaves, aside).
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with("-wal") && !n.ends_with("-shm"))
        .collect();
    names.sort();
    assert_eq!(names, [".crm-tiering-demo", "crm-tiering.db", "input", "loans", "x"]);

    // The printed command gives the same states, in a store of its own.
    let again = dir.path().join("again.db");
    let o = cli(&[
        "run",
        "--month",
        "2023-01..2023-06",
        "--rules",
        p(&out.join("input/rules.toml")),
        "--aum",
        p(&out.join("input/aum-monthly.csv")),
        "--daily",
        p(&out.join("input/daily-balances.csv")),
        "--designations",
        p(&out.join("input/designations.csv")),
        "--store",
        p(&again),
        "--create-store",
        "--quiet",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let e =
        cli(&["export", "--month", "2023-06", "--format", "jsonl", "--store", p(&again), "--out", p(&out.join("y"))]);
    assert_eq!(code(&e), 0, "{}", stderr(&e));
    assert_eq!(std::fs::read_to_string(out.join("y/states-2023-06.jsonl")).unwrap(), states);

    // The customer the demo suggests has a story across the committed months.
    let id = text.split("explain --customer ").nth(1).unwrap().split_whitespace().next().unwrap();
    let o = cli(&["explain", "--customer", id, "--store", p(&db)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("entered at"), "{}", stdout(&o));
    assert!(stdout(&o).contains("6 committed month(s), 2023-01 to 2023-06"), "{}", stdout(&o));

    // A demo again makes its store anew, and leaves none of the earlier demo's loan months and
    // daily balances (a two-month demo has no daily month).
    assert!(out.join("loans/2023-06").is_dir() && out.join("input/daily-balances.csv").is_file());
    let o = cli(&["demo", "--out", p(&out), "--customers", "200", "--months", "2"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(out.join("loans/2023-02").is_dir() && out.join("input/loans/2023-02.csv").is_file());
    assert!(!out.join("loans/2023-03").exists() && !out.join("input/loans/2023-03.csv").exists());
    assert!(!out.join("input/daily-balances.csv").exists());
}

#[test]
fn help_documents_the_exit_codes() {
    let o = cli(&["run", "--help"]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("6  completed, but some customers were held back"), "{}", stdout(&o));
    assert!(stdout(&o).contains("--catch-up"), "{}", stdout(&o));
    let o = cli(&["run", "--out"]);
    assert_eq!(code(&o), 2);
}

#[test]
fn simulate_sizes_a_rule_change_as_python_does() {
    // The expected files are checked by bindings/python/tests/test_simulate_cli.py too: the CLI
    // and Python's `simulate` (both over the core's `portfolio::simulate`) give the same tables.
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/simulate");
    let rules_a = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules-spec/default-rules.toml");
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("sim");
    let o = cli(&[
        "simulate",
        "--rules-a",
        p(&rules_a),
        "--rules-b",
        p(&data.join("rules-b.toml")),
        "--month",
        "2024-01..2024-06",
        "--aum",
        p(&data.join("aum.csv")),
        "--designations",
        p(&data.join("designations.csv")),
        "--out",
        p(&out),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    for name in ["counts", "changes"] {
        let got = std::fs::read_to_string(out.join(format!("{name}.csv"))).expect("written");
        let expected = std::fs::read_to_string(data.join(format!("expected-{name}.csv"))).expect("checked in");
        assert_eq!(got, expected, "{name}.csv differs from tests/data/simulate/expected-{name}.csv");
    }
    assert!(stdout(&o).contains("2024-06 gold"), "{}", stdout(&o));
    // From a run's states: simulate one later month from them.
    let run = dir.path().join("run");
    let o = run_out(&[
        "run",
        "--rules",
        p(&rules_a),
        "--month",
        "2024-01",
        "--aum",
        p(&data.join("aum.csv")),
        "--out",
        p(&run),
        "--skip-bad-rows",
        "-q",
    ]);
    assert_eq!(code(&o), 6, "{}", stderr(&o)); // the other months' rows are held back
    let later = dir.path().join("later");
    let o = cli(&[
        "simulate",
        "--rules-a",
        p(&rules_a),
        "--rules-b",
        p(&data.join("rules-b.toml")),
        "--month",
        "2024-02",
        "--aum",
        p(&data.join("aum.csv")),
        "--states",
        p(&run.join("states.jsonl")),
        "--out",
        p(&later),
    ]);
    // Rows of other months hold their customers back: exit 6, and they are listed.
    assert_eq!(code(&o), 6, "{}", stderr(&o));
    assert!(stderr(&o).contains("held back under rules A"), "{}", stderr(&o));
    // A broken rule book B is a rules error naming the file.
    let o = cli(&[
        "simulate",
        "--rules-a",
        p(&rules_a),
        "--rules-b",
        p(&data.join("aum.csv")),
        "--month",
        "2024-01",
        "--aum",
        p(&data.join("aum.csv")),
        "--out",
        p(&later),
    ]);
    assert_eq!(code(&o), 3, "{}", stderr(&o));
}
