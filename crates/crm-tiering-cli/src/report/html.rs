//! The HTML pieces of the report: escaping, numbers, tables, the style sheet and the colours.
//! Every text that reaches the page goes through [`esc`].

use std::fmt::Write as _;

/// The page's style sheet (inline: the report opens without network access).
pub(crate) const STYLE: &str = "\
body{font-family:system-ui,-apple-system,\"Segoe UI\",\"Noto Sans CJK SC\",\"Noto Sans SC\",\"PingFang SC\",\
\"Microsoft YaHei\",sans-serif;margin:0;padding:24px 32px;color:#1f2933;background:#fff;max-width:1200px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 8px;border-bottom:2px solid #d9e2ec;padding-bottom:4px}
h3{font-size:15px;margin:16px 0 6px}
p.meta{color:#52606d;margin:2px 0}p.note{color:#52606d;font-size:13px;margin:6px 0}
svg.chart{display:block;width:100%;height:auto;max-width:1100px;margin:8px 0}
svg text{font-family:inherit}
table{border-collapse:collapse;font-size:13px;margin:8px 0}
th,td{border:1px solid #d9e2ec;padding:3px 8px;text-align:right;white-space:nowrap}
th{background:#f0f4f8;white-space:normal;vertical-align:bottom}td.t,th.t{text-align:left}
div.wide{overflow-x:auto;max-width:100%}
details{margin:4px 0}summary{cursor:pointer;font-weight:600}
.legend span{display:inline-block;margin-right:14px;font-size:13px}
.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}
";

/// The colour of "not VIP".
pub(crate) const NOT_VIP_COLOUR: &str = "#c5ccd6";

/// Colours of the tiers, lowest first (repeating when a book has more tiers).
const TIER_COLOURS: [&str; 10] =
    ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#2f4b7c"];

/// The colour of tier index `i` of the report's tier axis (0 is not VIP).
pub(crate) fn tier_colour(i: usize) -> &'static str {
    match i {
        0 => NOT_VIP_COLOUR,
        _ => TIER_COLOURS[(i - 1) % TIER_COLOURS.len()],
    }
}

/// Escapes text for HTML and SVG (element content and quoted attribute values alike).
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A count with thousands separators: 1,234,567.
pub(crate) fn count(n: u64) -> String {
    group(&n.to_string())
}

/// An amount with thousands separators, its decimals kept: 1,234.50.
pub(crate) fn amount(d: crm_tiering::Decimal) -> String {
    let text = d.to_string();
    let (sign, digits) = text.strip_prefix('-').map_or(("", text.as_str()), |rest| ("-", rest));
    let (whole, frac) = digits.split_once('.').map_or((digits, None), |(w, f)| (w, Some(f)));
    match frac {
        Some(f) => format!("{sign}{}.{f}", group(whole)),
        None => format!("{sign}{}", group(whole)),
    }
}

fn group(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A share as a percentage with one decimal: 4.2%.
pub(crate) fn percent(part: u64, whole: u64) -> String {
    if whole == 0 { "0.0%".to_string() } else { format!("{:.1}%", part as f64 * 100.0 / whole as f64) }
}

/// A table: a header of (already escaped) cells, then rows; the first `text_columns` columns
/// are text (left-aligned), the rest numbers.
pub(crate) struct Table {
    html: String,
    text_columns: usize,
}

impl Table {
    /// A table with its header cells, given as plain text.
    pub(crate) fn new(head: &[String], text_columns: usize) -> Self {
        let mut html = String::from("<div class=\"wide\"><table><thead><tr>");
        for (i, h) in head.iter().enumerate() {
            let class = if i < text_columns { " class=\"t\"" } else { "" };
            let _ = write!(html, "<th{class}>{}</th>", esc(h));
        }
        html.push_str("</tr></thead><tbody>\n");
        Table { html, text_columns }
    }

    /// A row of plain-text cells.
    pub(crate) fn row(&mut self, cells: &[String]) {
        self.html.push_str("<tr>");
        for (i, c) in cells.iter().enumerate() {
            let class = if i < self.text_columns { " class=\"t\"" } else { "" };
            let _ = write!(self.html, "<td{class}>{}</td>", esc(c));
        }
        self.html.push_str("</tr>\n");
    }

    /// The finished table.
    pub(crate) fn finish(mut self) -> String {
        self.html.push_str("</tbody></table></div>\n");
        self.html
    }
}

/// A legend of coloured swatches, for the series of a chart.
pub(crate) fn legend(items: &[(String, &str)]) -> String {
    let mut html = String::from("<div class=\"legend\">");
    for (label, colour) in items {
        let _ = write!(html, "<span><i style=\"background:{colour}\"></i>{}</span>", esc(label));
    }
    html.push_str("</div>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(esc("R&D <x> \"q\" 'a'"), "R&amp;D &lt;x&gt; &quot;q&quot; &#39;a&#39;");
        assert_eq!(esc("兰州"), "兰州");
    }

    #[test]
    fn groups_digits() {
        assert_eq!(count(0), "0");
        assert_eq!(count(1234), "1,234");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(amount("-1234567.50".parse().unwrap()), "-1,234,567.50");
        assert_eq!(amount("999".parse().unwrap()), "999");
        assert_eq!(percent(1, 3), "33.3%");
        assert_eq!(percent(1, 0), "0.0%");
    }
}
