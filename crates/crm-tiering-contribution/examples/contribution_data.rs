//! A deterministic contribution month for benchmarks and tests: account-months, FTP rates,
//! fees, cost pools, activities, direct costs, manager assignments and a rule book with five
//! allocation stages (one of each driver kind), for 2024-03.
//!
//! ```text
//! cargo run --release -p crm-tiering-contribution --example contribution_data -- \
//!     [customers] [accounts per customer] [out dir] [seed]
//! ```
//! Defaults: 1,000,000 customers, 10 accounts each (10M account-months), `contribution-data`,
//! seed 1. Writes `accounts.csv`, `ftp.csv`, `fees.csv`, `pools.csv`, `activities.csv`,
//! `direct_costs.csv`, `assignments.csv` and `book.toml` (which reads `ftp.csv` beside it).
//! The same arguments give the same bytes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::print_stdout, missing_docs)]

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// splitmix64: a small deterministic generator.
fn next(seed: &mut u64) -> u64 {
    *seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *seed;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A number below `n`.
fn below(seed: &mut u64, n: u64) -> u64 {
    next(seed) % n
}

/// Products: name, term bucket, side, the FTP rates effective 2023-01, 2024-01 and 2024-06
/// (after the month: never in force), and the customer rate's range in basis points × 100.
type Product = (&'static str, &'static str, &'static str, [&'static str; 3], (u64, u64));
const PRODUCTS: [Product; 7] = [
    ("demand", "none", "liability", ["0.0190", "0.0175", "0.0160"], (10, 35)),
    ("time", "3m", "liability", ["0.0205", "0.0195", "0.0180"], (110, 160)),
    ("time", "1y", "liability", ["0.0240", "0.0225", "0.0210"], (150, 200)),
    ("time", "3y", "liability", ["0.0290", "0.0275", "0.0260"], (200, 260)),
    ("wealth", "none", "liability", ["0.0210", "0.0200", "0.0190"], (100, 180)),
    ("mortgage", "5y", "asset", ["0.0380", "0.0365", "0.0350"], (390, 490)),
    ("consumer", "1y", "asset", ["0.0330", "0.0310", "0.0300"], (450, 900)),
];
const CLASSES: [&str; 5] = ["正常", "关注", "次级", "可疑", "损失"];
const CHANNELS: [&str; 3] = ["柜面", "手机银行", "网银"];
const ENTITIES: u64 = 20;
const BRANCHES_PER_ENTITY: u64 = 10;

fn writer(dir: &Path, name: &str) -> BufWriter<File> {
    BufWriter::with_capacity(1 << 20, File::create(dir.join(name)).expect("create an output file"))
}

/// `fen` as a decimal amount with two decimals.
fn amount(fen: u64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let customers: u64 = args.first().map_or(1_000_000, |a| a.parse().expect("customers"));
    let per: u64 = args.get(1).map_or(10, |a| a.parse().expect("accounts per customer"));
    let dir = Path::new(args.get(2).map_or("contribution-data", String::as_str)).to_path_buf();
    let mut seed: u64 = args.get(3).map_or(1, |a| a.parse().expect("seed"));
    std::fs::create_dir_all(&dir).expect("create the out dir");
    let mut accounts = writer(&dir, "accounts.csv");
    let mut fees = writer(&dir, "fees.csv");
    let mut activities = writer(&dir, "activities.csv");
    let mut direct = writer(&dir, "direct_costs.csv");
    let mut assignments = writer(&dir, "assignments.csv");
    let header = "month,customer,account,product,term,side,average_balance,customer_rate,branch,legal_entity,\
                  loan_class,risk_weight\n";
    accounts.write_all(header.as_bytes()).unwrap();
    fees.write_all(b"month,customer,product,amount\n").unwrap();
    activities.write_all(b"month,customer,quantity,channel,value\n").unwrap();
    direct.write_all(b"month,customer,item,amount\n").unwrap();
    assignments.write_all(b"customer,manager,role,share\n").unwrap();
    let managers = (customers / 200).max(2);
    let mut account = 0u64;
    for c in 0..customers {
        let id = format!("c{c:08}");
        let entity = below(&mut seed, ENTITIES);
        let branch = entity * BRANCHES_PER_ENTITY + below(&mut seed, BRANCHES_PER_ENTITY);
        let wealthy = below(&mut seed, 10) == 0;
        for _ in 0..per {
            account += 1;
            let p = usize::try_from(below(&mut seed, 20)).unwrap();
            // Mostly deposits: demand, time and wealth 85%, loans 15%.
            let p = [0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 4, 4, 4, 4, 5, 5, 6][p];
            let (product, term, side, _, (lo, hi)) = PRODUCTS[p];
            let top = if wealthy { 500_000_000 } else { 20_000_000 };
            let balance = below(&mut seed, top) + 1;
            let rate = lo * 100 + below(&mut seed, (hi - lo) * 100);
            let (class, weight) = if side == "asset" {
                let k = below(&mut seed, 100);
                let class = if k < 90 {
                    0
                } else if k < 95 {
                    1
                } else {
                    usize::try_from(2 + k % 3).unwrap()
                };
                (CLASSES[class], if product == "mortgage" { "0.5" } else { "0.75" })
            } else {
                ("", "")
            };
            writeln!(
                accounts,
                "2024-03,{id},a{account:09},{product},{term},{side},{},0.{rate:06},b{branch:03},le{entity:02},{class},{weight}",
                amount(balance)
            )
            .unwrap();
        }
        if below(&mut seed, 10) < 3 {
            let product = PRODUCTS[usize::try_from(below(&mut seed, 7)).unwrap()].0;
            writeln!(fees, "2024-03,{id},{product},{}", amount(below(&mut seed, 50_000) + 100)).unwrap();
        }
        if below(&mut seed, 2) == 0 {
            let channel = CHANNELS[usize::try_from(below(&mut seed, 3)).unwrap()];
            writeln!(activities, "2024-03,{id},counter_transactions,{channel},{}", below(&mut seed, 30) + 1).unwrap();
        }
        if below(&mut seed, 50) == 0 {
            writeln!(direct, "2024-03,{id},gift,{}", amount(below(&mut seed, 20_000) + 1)).unwrap();
        }
        let lead = below(&mut seed, managers);
        if below(&mut seed, 10) < 3 {
            let other = (lead + 1 + below(&mut seed, managers - 1)) % managers;
            writeln!(assignments, "{id},m{lead:06},主办,60\n{id},m{other:06},协办,40").unwrap();
        } else {
            writeln!(assignments, "{id},m{lead:06},主办,100").unwrap();
        }
    }
    for mut w in [accounts, fees, activities, direct, assignments] {
        w.flush().unwrap();
    }
    write_tables(&dir, customers);
    println!("{customers} customers, {account} account-months in {}", dir.display());
}

/// The FTP rates, the cost pools and the rule book: pools scale with the customers.
fn write_tables(dir: &Path, customers: u64) {
    let mut ftp = writer(dir, "ftp.csv");
    ftp.write_all(b"product,term,effective,rate\n").unwrap();
    for (product, term, _, rates, _) in PRODUCTS {
        for (effective, rate) in ["2023-01", "2024-01", "2024-06"].iter().zip(rates) {
            writeln!(ftp, "{product},{term},{effective},{rate}").unwrap();
        }
    }
    ftp.flush().unwrap();
    let mut pools = writer(dir, "pools.csv");
    pools.write_all(b"month,cost_centre,amount\n").unwrap();
    // About 20, 5, 3, 2 and 4 yuan a customer, with odd fen so remainders are awkward.
    for (pool, per_customer) in
        [("head_office", 2_000), ("operations", 500), ("it", 300), ("counter", 200), ("marketing", 400)]
    {
        writeln!(pools, "2024-03,{pool},{}", amount(customers * per_customer + 7)).unwrap();
    }
    pools.flush().unwrap();
    let book = r#"# Five allocation stages, one of each driver kind.
basis = 365
rounding = "half_up"

[ftp]
file = "ftp.csv"

[[stages]]
pool = "head_office"
driver = "cost_centres"
weights = { operations = "3", it = "2" }

[[stages]]
pool = "operations"
driver = "accounts"

[[stages]]
pool = "it"
driver = "coefficients"
keys = ["product"]
coefficients = [
    { product = "demand", coefficient = "1" },
    { product = "time", coefficient = "0.5" },
    { product = "wealth", coefficient = "2.5" },
    { product = "mortgage", coefficient = "3" },
    { product = "consumer", coefficient = "1.75" },
]

[[stages]]
pool = "counter"
driver = "quantity"
quantity = "counter_transactions"

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
    std::fs::write(dir.join("book.toml"), book).unwrap();
}
