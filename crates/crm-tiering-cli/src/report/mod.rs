//! `crm-tiering report`: a picture of a committed month (月度报告) as one self-contained HTML
//! file: the tier distribution per legal entity, the migration from the month before as a heat
//! map, the tier counts over the committed months, the events and alerts by kind, the
//! near-threshold customers and, given an assignment file, an alert work-list per account
//! manager. The charts are SVG drawn here: the page needs no script, style sheet, font or
//! anything else from the network. Read from the store opened read-only; the same store gives
//! the same bytes (the only time on the page is the month's committed time).

mod data;
mod html;
mod managers;
mod svg;

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use crm_tiering::{AlertKind, Month};

use self::data::{NEAR_THRESHOLD, ReportData};
use self::html::{STYLE, Table, amount, count, esc, legend, percent, tier_colour};
use self::svg::Series;
use crate::exit::{Exit, Failure, io_error};
use crate::store::open_read_only;

/// The most near-threshold alerts listed (the smallest gaps; the total is stated).
const NEAR_THRESHOLD_ROWS: usize = 50;

/// `crm-tiering report`: writes the report of `month` to `out`.
///
/// # Errors
/// A usage failure when the month is not committed or the assignment file cannot be read; a
/// store failure; an internal failure when the file cannot be written.
pub(crate) fn report_command(
    location: &str,
    month: Month,
    out: &Path,
    managers: Option<&Path>,
) -> Result<Exit, Failure> {
    let assignment = managers.map(managers::read_assignment).transpose()?;
    let mut store = open_read_only(location)?;
    let data = data::read(&mut store, month)?;
    let page = page(&data, assignment.as_ref().zip(managers));
    write_atomically(out, &page)?;
    let svgs = page.matches("<svg").count();
    println!(
        "wrote {}: the report of {month} ({} customers, {svgs} charts; committed {}, run {})",
        out.display(),
        count(data.customers()),
        data.record.committed_at,
        data.record.run_id
    );
    Ok(Exit::Ok)
}

/// Writes the file under a temporary name beside it, then renames it into place.
fn write_atomically(out: &Path, page: &str) -> Result<(), Failure> {
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if name.is_empty() {
        return Err(Failure::new(Exit::Usage, format!("--out {}: give a file name for the report", out.display())));
    }
    let dir = out.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let written =
        std::fs::File::create(&tmp).and_then(|mut f| f.write_all(page.as_bytes()).and_then(|()| f.sync_all()));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(io_error(Exit::Internal, out, "write the report", &e));
    }
    std::fs::rename(&tmp, out).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io_error(Exit::Internal, out, "write the report", &e)
    })
}

/// The whole page.
fn page(data: &ReportData, managers: Option<(&managers::Assignment, &Path)>) -> String {
    let title = format!("月度客户分层报告 Monthly tiering report · {}", data.month);
    let mut html = String::with_capacity(64 * 1024);
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n",
        esc(&title)
    );
    html.push_str(&header(data, &title));
    html.push_str(&distribution(data));
    html.push_str(&migration(data));
    html.push_str(&trend(data));
    html.push_str(&events_and_alerts(data));
    html.push_str(&near_threshold(data));
    html.push_str("<h2>客户经理工作清单 Alert work-list per account manager</h2>\n");
    match managers {
        Some((assignment, path)) => {
            // The file's name only: the page does not change with where the file lies.
            let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
            html.push_str(&managers::section(data, assignment, &name));
        }
        None => html.push_str(
            "<p class=\"note\">未提供客户经理分配文件,本节从略。No assignment file given (--managers FILE, CSV customer_id,manager): this section is left out.</p>\n",
        ),
    }
    let _ = write!(
        html,
        "<p class=\"note\">{} · 数据来自存储(只读)data read from the store, read-only · 本页不引用任何外部资源 the page loads nothing from the network.</p>\n</body>\n</html>\n",
        esc(&crate::store::tool_version())
    );
    html
}

/// The title and the month's facts: portfolio, committed time, run, rule book, customers.
fn header(data: &ReportData, title: &str) -> String {
    let customers = data.customers();
    let not_vip = data.history.last().and_then(|(_, c)| c.first().copied()).unwrap_or(0);
    let r = &data.record;
    format!(
        "<h1>{}</h1>\n\
         <p class=\"meta\">组合 Portfolio {} · 提交时间 Committed {} (运行 run {}) · 生效月份 Effective from {}</p>\n\
         <p class=\"meta\">规则 Rule book: {} (fingerprint {})</p>\n\
         <p class=\"meta\">客户 Customers: {} · VIP: {} ({}) · 事件 Events: {} · 提醒 Alerts: {}</p>\n",
        esc(title),
        esc(&data.portfolio_id),
        esc(&r.committed_at),
        r.run_id,
        data.month.next(),
        esc(&data.rule_book),
        esc(r.rule_book_fingerprint.get(..12).unwrap_or(&r.rule_book_fingerprint)),
        count(customers),
        count(customers - not_vip),
        percent(customers - not_vip, customers),
        count(data.events.iter().map(|e| e.1).sum()),
        count(data.alerts.iter().map(|a| a.1).sum()),
    )
}

/// A legal entity's label (none: customers without one).
fn entity_label(entity: Option<&String>) -> String {
    entity.cloned().unwrap_or_else(|| "(无 none)".to_string())
}

/// The series of the tier axis, from index `from` on.
fn tier_series(data: &ReportData, from: usize) -> Vec<Series> {
    data.tiers.iter().enumerate().skip(from).map(|(i, t)| Series { label: t.both(), colour: tier_colour(i) }).collect()
}

/// Section 1: the effective tiers per legal entity, as shares (not VIP included) and as VIP
/// counts, and the table of counts.
fn distribution(data: &ReportData) -> String {
    let mut html = String::from("<h2>层级分布(按法人机构)Tier distribution by legal entity</h2>\n");
    let _ = writeln!(
        html,
        "<p class=\"note\">{} 月末的有效层级(评定层级或特殊VIP层级)。Effective tier after {} (the rated tier or an active special VIP tier), effective from {}.</p>",
        data.month,
        data.month,
        data.month.next()
    );
    let series = tier_series(data, 0);
    let items: Vec<(String, &str)> = series.iter().map(|s| (s.label.clone(), s.colour)).collect();
    html.push_str(&legend(&items));
    let rows: Vec<(String, Vec<u64>)> =
        data.entities.iter().map(|(e, c)| (entity_label(e.as_ref()), c.clone())).collect();
    html.push_str(&svg::stacked_bars("层级占比 Tier shares by legal entity (法人机构)", &rows, &series, true));
    html.push_str("<h3>VIP 客户数 VIP customers by tier</h3>\n");
    let vip_rows: Vec<(String, Vec<u64>)> =
        rows.iter().map(|(l, c)| (l.clone(), c.iter().skip(1).copied().collect())).collect();
    html.push_str(&svg::stacked_bars(
        "VIP 客户数 VIP customers by legal entity",
        &vip_rows,
        &tier_series(data, 1),
        false,
    ));
    let mut head = vec!["法人机构 legal entity".to_string(), "客户 customers".to_string()];
    head.extend(data.tiers.iter().map(|t| t.both()));
    let mut t = Table::new(&head, 1);
    let mut total = vec![0u64; data.tiers.len()];
    for (label, c) in &rows {
        let mut row = vec![label.clone(), count(c.iter().sum())];
        row.extend(c.iter().map(|n| count(*n)));
        t.row(&row);
        total.iter_mut().zip(c).for_each(|(t, n)| *t += n);
    }
    let mut row = vec!["合计 total".to_string(), count(total.iter().sum())];
    row.extend(total.iter().map(|n| count(*n)));
    t.row(&row);
    html.push_str(&t.finish());
    html
}

/// Section 2: the migration from the previous committed month as a heat map, or why none.
fn migration(data: &ReportData) -> String {
    let mut html = String::from("<h2>层级迁移 Tier migration</h2>\n");
    let Some(previous) = data.previous else {
        let _ = writeln!(
            html,
            "<p class=\"note\">{m} 是存储中第一个已提交月份,没有上月可比较。{m} is the first committed month of the store: there is no month before it to migrate from.</p>",
            m = data.month
        );
        return html;
    };
    let _ = writeln!(
        html,
        "<p class=\"note\">行:{p} 月末有效层级;列:{m} 月末有效层级;格内为客户数,颜色按对数刻度。Rows: effective tier after {p}; columns: after {m}; each cell counts customers (colour on a log scale). Customers new in {m} start in the row 非VIP not VIP.</p>",
        p = previous,
        m = data.month
    );
    // Tiers nobody held in either month are left out (not VIP always stays).
    let cell = |i: usize, j: usize| data.migration.get(i).and_then(|r| r.get(j)).copied().unwrap_or(0);
    let n = data.tiers.len();
    let kept: Vec<usize> = (0..n).filter(|&i| i == 0 || (0..n).any(|j| cell(i, j) > 0 || cell(j, i) > 0)).collect();
    let labels: Vec<(String, String)> =
        kept.iter().filter_map(|&i| data.tiers.get(i)).map(|t| (t.zh.clone(), t.en.clone())).collect();
    let matrix: Vec<Vec<u64>> = kept.iter().map(|&i| kept.iter().map(|&j| cell(i, j)).collect()).collect();
    let title = format!("迁移矩阵 Migration matrix {previous} → {}", data.month);
    let axes = (format!("行 rows: {previous} ↓"), format!("列 columns: {} →", data.month));
    html.push_str(&svg::heat_map(&title, &labels, &matrix, (&axes.0, &axes.1)));
    if kept.len() < n {
        html.push_str(
            "<p class=\"note\">两个月均无客户的层级从略。Tiers nobody held in either month are left out.</p>\n",
        );
    }
    let stayed: u64 = (0..data.migration.len()).filter_map(|i| data.migration.get(i).and_then(|r| r.get(i))).sum();
    let all: u64 = data.migration.iter().flatten().sum();
    let _ = writeln!(
        html,
        "<p class=\"note\">层级未变 Same tier: {} ({}) · 层级变化 Changed: {}</p>",
        count(stayed),
        percent(stayed, all),
        count(all - stayed)
    );
    html
}

/// Section 3: the tier counts of every committed month up to M: a line per VIP tier and the
/// VIP total, and the table (not VIP included).
fn trend(data: &ReportData) -> String {
    let mut html = String::from("<h2>层级趋势 Tier counts over the committed months</h2>\n");
    let months: Vec<String> = data.history.iter().map(|(m, _)| m.to_string()).collect();
    let _ = writeln!(
        html,
        "<p class=\"note\">{} 个已提交月份 committed month(s) up to {}. 图中为各 VIP 层级及 VIP 合计;非VIP 见下表。The chart shows each VIP tier held in some month and the VIP total; not VIP is in the table.</p>",
        months.len(),
        data.month
    );
    let mut lines: Vec<(Series, Vec<u64>)> = tier_series(data, 1)
        .into_iter()
        .enumerate()
        .map(|(k, s)| (s, data.history.iter().map(|(_, c)| c.get(k + 1).copied().unwrap_or(0)).collect::<Vec<_>>()))
        .filter(|(_, values)| values.iter().any(|v| *v > 0))
        .collect();
    let totals = data.history.iter().map(|(_, c)| c.iter().skip(1).sum()).collect();
    lines.push((Series { label: "VIP 合计 total".into(), colour: "#1f2933" }, totals));
    let items: Vec<(String, &str)> = lines.iter().map(|(s, _)| (s.label.clone(), s.colour)).collect();
    html.push_str(&legend(&items));
    html.push_str(&svg::line_chart("层级趋势 VIP customers per tier by month", &months, &lines));
    let mut head = vec!["月份 month".to_string(), "客户 customers".to_string()];
    head.extend(data.tiers.iter().map(|t| t.both()));
    let mut t = Table::new(&head, 1);
    for (m, c) in &data.history {
        let mut row = vec![m.to_string(), count(c.iter().sum())];
        row.extend(c.iter().map(|n| count(*n)));
        t.row(&row);
    }
    html.push_str(&t.finish());
    html
}

/// Section 4: the events and alerts of M by kind (every kind listed, with its Chinese name).
fn events_and_alerts(data: &ReportData) -> String {
    let mut html = format!("<h2>事件与提醒 Events and alerts of {}</h2>\n", data.month);
    let events: Vec<(String, u64, &'static str)> =
        data.events.iter().map(|(k, n)| (format!("{} {}", k.name_zh(), k.as_str()), *n, "#4e79a7")).collect();
    html.push_str("<h3>事件 Events</h3>\n");
    html.push_str(&svg::bars(&format!("事件 Events of {} by kind", data.month), &events));
    let alert_colour = |k: AlertKind| if NEAR_THRESHOLD.contains(&k) { "#f28e2b" } else { "#e15759" };
    let alerts: Vec<(String, u64, &'static str)> =
        data.alerts.iter().map(|(k, n)| (format!("{} {}", k.name_zh(), k.as_str()), *n, alert_colour(*k))).collect();
    html.push_str("<h3>提醒 Alerts</h3>\n");
    html.push_str(&svg::bars(&format!("提醒 Alerts of {} by kind", data.month), &alerts));
    html.push_str(&legend(&[
        ("临界提醒 near-threshold".to_string(), "#f28e2b"),
        ("其他提醒 other alerts".to_string(), "#e15759"),
    ]));
    html
}

/// Section 5: the near-threshold alerts (临界升级, 临界降级, 潜在VIP) with the smallest gaps.
fn near_threshold(data: &ReportData) -> String {
    let mut html = String::from("<h2>临界客户 Near-threshold customers</h2>\n");
    let mut items: Vec<_> = data.alert_items.iter().filter(|i| NEAR_THRESHOLD.contains(&i.alert.kind)).collect();
    items.sort_by(|a, b| {
        let gap = |i: &data::AlertItem| i.alert.gap_fen().unwrap_or(i64::MAX);
        gap(a).cmp(&gap(b)).then_with(|| a.customer_id.cmp(&b.customer_id)).then_with(|| {
            let rank = |i: &data::AlertItem| NEAR_THRESHOLD.iter().position(|k| *k == i.alert.kind);
            rank(a).cmp(&rank(b))
        })
    });
    let shown = items.len().min(NEAR_THRESHOLD_ROWS);
    let _ = writeln!(
        html,
        "<p class=\"note\">共 {total} 条临界提醒,按差距从小到大列出前 {shown} 条。{total} near-threshold alert(s) in {m} (临界升级 upgrade_opportunity, 临界降级 downgrade_risk, 潜在VIP potential_vip); the {shown} with the smallest gap are listed (gap: missing to the tier's minimum, or cushion above it).</p>",
        total = count(items.len() as u64),
        m = data.month
    );
    if items.is_empty() {
        return html;
    }
    let head = [
        "客户 customer",
        "法人机构 legal entity",
        "提醒 alert",
        "当前层级 tier",
        "相关层级 tier concerned",
        "月日均 AUM",
        "差距 gap",
    ]
    .map(String::from);
    let mut t = Table::new(&head, 5);
    for item in items.iter().take(NEAR_THRESHOLD_ROWS) {
        let a = &item.alert;
        let standing = data.standings.get(&item.customer_id);
        t.row(&[
            item.customer_id.clone(),
            entity_label(standing.and_then(|s| s.legal_entity.as_ref())),
            format!("{} {}", a.kind.name_zh(), a.kind.as_str()),
            data.tier_label(standing.and_then(|s| s.tier)),
            a.tier.map(|c| data.tier_label(Some(c))).unwrap_or_default(),
            a.aum().map(amount).unwrap_or_default(),
            a.gap().map(amount).unwrap_or_default(),
        ]);
    }
    html.push_str(&t.finish());
    html
}
