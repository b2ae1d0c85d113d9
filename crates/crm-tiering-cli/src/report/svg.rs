//! The report's charts, drawn here as inline SVG so that the page renders without scripts or
//! network access: stacked bars, a heat map, a line chart and plain bars. Sizes are computed
//! from the data; coordinates are written with one decimal, so the same data gives the same
//! bytes. Every label is escaped.

use std::fmt::Write as _;

use super::html::{count, esc, percent};

/// A series of a chart: its label and colour.
#[derive(Debug, Clone)]
pub(crate) struct Series {
    /// The label (plain text).
    pub(crate) label: String,
    /// A CSS colour.
    pub(crate) colour: &'static str,
}

/// The font size of labels, in SVG units.
const FONT: f64 = 12.0;
/// The font size of secondary labels.
const SMALL: f64 = 10.5;
/// The width of the bars' plotting area.
const PLOT_W: f64 = 640.0;

/// The approximate width of a label: Latin characters are narrow, CJK ones square.
fn text_width(text: &str) -> f64 {
    text.chars().map(|c| if c.is_ascii() { FONT * 0.6 } else { FONT * 1.05 }).sum()
}

/// The width of the label column for `labels`, bounded.
fn label_column(labels: impl Iterator<Item = String>) -> f64 {
    labels.map(|l| text_width(&l)).fold(60.0_f64, f64::max).min(280.0) + 16.0
}

/// An `<svg>` element of the given size with its accessible title.
fn open(w: f64, h: f64, title: &str) -> String {
    format!(
        "<svg class=\"chart\" viewBox=\"0 0 {w:.0} {h:.0}\" width=\"{w:.0}\" height=\"{h:.0}\" style=\"max-width:{w:.0}px\" role=\"img\" aria-label=\"{t}\"><title>{t}</title>\n",
        t = esc(title)
    )
}

/// A text element; `anchor` is start, middle or end.
fn text(out: &mut String, x: f64, y: f64, anchor: &str, extra: &str, label: &str) {
    let size = if extra.contains("font-size") { String::new() } else { format!(" font-size=\"{FONT}\"") };
    let _ =
        writeln!(out, "<text x=\"{x:.1}\" y=\"{y:.1}\"{size} text-anchor=\"{anchor}\"{extra}>{}</text>", esc(label));
}

/// A rectangle with a tooltip.
fn rect(out: &mut String, (x, y, w, h): (f64, f64, f64, f64), fill: &str, tip: &str) {
    let _ = writeln!(
        out,
        "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"{fill}\"><title>{}</title></rect>",
        esc(tip)
    );
}

/// A round step for an axis from 0 to `max` with about five ticks: 1, 2 or 5 times a power of
/// ten.
pub(crate) fn nice_step(max: u64) -> u64 {
    let mut step = 1u64;
    loop {
        for m in [1u64, 2, 5] {
            let s = step.saturating_mul(m);
            if max.div_ceil(s.max(1)) <= 5 {
                return s.max(1);
            }
        }
        step = step.saturating_mul(10);
        if step == u64::MAX {
            return step;
        }
    }
}

/// Horizontal stacked bars, one per row, a segment per series. With `share`, every bar spans
/// the full width (the series' shares of the row); otherwise bars are to a common count scale.
/// Each row is annotated with its total and, with `share`, the share of the series after the
/// first (the VIP share when the first is "not VIP").
pub(crate) fn stacked_bars(title: &str, rows: &[(String, Vec<u64>)], series: &[Series], share: bool) -> String {
    let lw = label_column(rows.iter().map(|r| r.0.clone()));
    let (row_h, bar_h, top) = (28.0, 18.0, 8.0);
    let max = rows.iter().map(|r| r.1.iter().sum::<u64>()).max().unwrap_or(0);
    let step = nice_step(max);
    let scale_max = if share { 1 } else { max.div_ceil(step).max(1).saturating_mul(step) };
    let h = top + row_h * rows.len() as f64 + 28.0;
    let w = lw + PLOT_W + 170.0;
    let mut out = open(w, h, title);
    for (i, (label, values)) in rows.iter().enumerate() {
        let y = top + row_h * i as f64;
        let total: u64 = values.iter().sum();
        text(&mut out, lw - 8.0, y + bar_h * 0.5 + 4.0, "end", "", label);
        rect(&mut out, (lw, y, PLOT_W, bar_h), "#f0f4f8", &format!("{label}: {}", count(total)));
        let denominator = if share { total.max(1) } else { scale_max };
        let mut x = lw;
        for (s, v) in series.iter().zip(values) {
            if *v == 0 {
                continue;
            }
            let seg = PLOT_W * *v as f64 / denominator as f64;
            let tip = format!("{label} · {}: {} ({})", s.label, count(*v), percent(*v, total));
            rect(&mut out, (x, y, seg, bar_h), s.colour, &tip);
            x += seg;
        }
        let note = if share {
            format!("{} · VIP {}", count(total), percent(total - values.first().copied().unwrap_or(0), total))
        } else {
            count(total)
        };
        let at = if share { lw + PLOT_W } else { x };
        text(&mut out, at + 6.0, y + bar_h * 0.5 + 4.0, "start", "", &note);
    }
    let axis_y = top + row_h * rows.len() as f64;
    let ticks: Vec<(f64, String)> = if share {
        (0..=4).map(|k| (k as f64 / 4.0, format!("{}%", k * 25))).collect()
    } else {
        (0..=scale_max / step).map(|k| ((k * step) as f64 / scale_max as f64, count(k * step))).collect()
    };
    for (f, label) in ticks {
        let x = lw + PLOT_W * f;
        let _ = writeln!(
            out,
            "<line x1=\"{x:.1}\" y1=\"{axis_y:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#9aa5b1\"/>",
            axis_y + 4.0
        );
        text(&mut out, x, axis_y + 17.0, "middle", " fill=\"#52606d\"", &label);
    }
    out.push_str("</svg>\n");
    out
}

/// Plain horizontal bars, one per item (label, value, colour), to a common scale.
pub(crate) fn bars(title: &str, items: &[(String, u64, &'static str)]) -> String {
    let rows: Vec<(String, Vec<u64>)> = items.iter().map(|(l, v, _)| (l.clone(), vec![*v])).collect();
    let lw = label_column(rows.iter().map(|r| r.0.clone()));
    let (row_h, bar_h, top) = (24.0, 16.0, 8.0);
    let max = items.iter().map(|i| i.1).max().unwrap_or(0);
    let step = nice_step(max);
    let scale_max = max.div_ceil(step).max(1).saturating_mul(step);
    let h = top + row_h * items.len() as f64 + 28.0;
    let mut out = open(lw + PLOT_W + 90.0, h, title);
    for (i, (label, v, colour)) in items.iter().enumerate() {
        let y = top + row_h * i as f64;
        text(&mut out, lw - 8.0, y + bar_h * 0.5 + 4.0, "end", "", label);
        rect(&mut out, (lw, y, PLOT_W, bar_h), "#f5f7fa", &format!("{label}: {}", count(*v)));
        let bw = PLOT_W * *v as f64 / scale_max as f64;
        if *v > 0 {
            rect(&mut out, (lw, y, bw, bar_h), colour, &format!("{label}: {}", count(*v)));
        }
        text(&mut out, lw + bw + 6.0, y + bar_h * 0.5 + 4.0, "start", "", &count(*v));
    }
    let axis_y = top + row_h * items.len() as f64;
    for k in 0..=scale_max / step {
        let x = lw + PLOT_W * (k * step) as f64 / scale_max as f64;
        let _ = writeln!(
            out,
            "<line x1=\"{x:.1}\" y1=\"{axis_y:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#9aa5b1\"/>",
            axis_y + 4.0
        );
        text(&mut out, x, axis_y + 17.0, "middle", " fill=\"#52606d\"", &count(k * step));
    }
    out.push_str("</svg>\n");
    out
}

/// The colour of a heat-map cell: from near white to deep blue by `t` in 0..=1; white for an
/// empty cell.
fn heat(t: f64, empty: bool) -> String {
    if empty {
        return "#ffffff".to_string();
    }
    let mix = |a: f64, b: f64| (a + (b - a) * t).round() as u8;
    format!("#{:02x}{:02x}{:02x}", mix(222.0, 8.0), mix(235.0, 48.0), mix(247.0, 107.0))
}

/// A heat map of `matrix[row][column]` with two-line (Chinese, English) labels; colour by the
/// logarithm of the count, so that the few movers show beside the many who stay.
pub(crate) fn heat_map(title: &str, labels: &[(String, String)], matrix: &[Vec<u64>], axes: (&str, &str)) -> String {
    let lw = label_column(labels.iter().map(|(zh, en)| format!("{zh} {en}")));
    let widest = labels.iter().map(|(zh, en)| text_width(zh).max(text_width(en) * SMALL / FONT)).fold(0.0, f64::max);
    let (cell_w, cell_h, head) = ((widest + 12.0).max(72.0), 34.0, 58.0);
    let n = labels.len();
    let max = matrix.iter().flatten().copied().max().unwrap_or(0);
    let w = lw + cell_w * n as f64 + 16.0;
    let h = head + cell_h * n as f64 + 8.0;
    let mut out = open(w, h, title);
    text(&mut out, lw + cell_w * n as f64 * 0.5, 14.0, "middle", " font-weight=\"600\"", axes.1);
    text(&mut out, lw - 8.0, head - 8.0, "end", " font-weight=\"600\"", axes.0);
    for (j, (zh, en)) in labels.iter().enumerate() {
        let x = lw + cell_w * (j as f64 + 0.5);
        text(&mut out, x, head - 22.0, "middle", "", zh);
        text(&mut out, x, head - 8.0, "middle", &format!(" fill=\"#52606d\" font-size=\"{SMALL}\""), en);
    }
    for (i, (zh, en)) in labels.iter().enumerate() {
        let y = head + cell_h * i as f64;
        text(&mut out, lw - 8.0, y + cell_h * 0.5 + 4.0, "end", "", &format!("{zh} {en}"));
        for (j, (zh_to, en_to)) in labels.iter().enumerate() {
            let v = matrix.get(i).and_then(|r| r.get(j)).copied().unwrap_or(0);
            let t = if max == 0 { 0.0 } else { ((v as f64) + 1.0).ln() / ((max as f64) + 1.0).ln() };
            let x = lw + cell_w * j as f64;
            let tip = format!("{zh} {en} → {zh_to} {en_to}: {}", count(v));
            let _ = writeln!(
                out,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{cell_w:.1}\" height=\"{cell_h:.1}\" fill=\"{}\" stroke=\"#d9e2ec\"><title>{}</title></rect>",
                heat(t, v == 0),
                esc(&tip)
            );
            let ink = if t > 0.55 {
                "#ffffff"
            } else if v == 0 {
                "#9aa5b1"
            } else {
                "#1f2933"
            };
            let weight = if i == j { " font-weight=\"600\"" } else { "" };
            let extra = format!(" fill=\"{ink}\"{weight}");
            text(&mut out, x + cell_w * 0.5, y + cell_h * 0.5 + 4.0, "middle", &extra, &count(v));
        }
    }
    out.push_str("</svg>\n");
    out
}

/// A line chart: one line per series over the months (x), counts on y, a marker at each point.
pub(crate) fn line_chart(title: &str, months: &[String], lines: &[(Series, Vec<u64>)]) -> String {
    let (left, right, top, bottom, plot_h) = (70.0, 44.0, 12.0, 44.0, 300.0);
    let plot_w = 760.0;
    let max = lines.iter().flat_map(|(_, v)| v.iter().copied()).max().unwrap_or(0);
    let step = nice_step(max);
    let scale_max = max.div_ceil(step).max(1).saturating_mul(step);
    let mut out = open(left + plot_w + right, top + plot_h + bottom, title);
    let y_of = |v: u64| top + plot_h - plot_h * v as f64 / scale_max as f64;
    let n = months.len();
    let x_of = |i: usize| if n <= 1 { left + plot_w * 0.5 } else { left + plot_w * i as f64 / (n - 1) as f64 };
    for k in 0..=scale_max / step {
        let y = y_of(k * step);
        let _ = writeln!(
            out,
            "<line x1=\"{left:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#e4e7eb\"/>",
            left + plot_w
        );
        text(&mut out, left - 6.0, y + 4.0, "end", " fill=\"#52606d\"", &count(k * step));
    }
    let every = n.div_ceil(12).max(1);
    for (i, m) in months.iter().enumerate() {
        if i.is_multiple_of(every) || i + 1 == n {
            text(&mut out, x_of(i), top + plot_h + 18.0, "middle", " fill=\"#52606d\"", m);
        }
    }
    for (s, values) in lines {
        let points: Vec<String> =
            values.iter().enumerate().map(|(i, v)| format!("{:.1},{:.1}", x_of(i), y_of(*v))).collect();
        if points.len() > 1 {
            let _ = writeln!(
                out,
                "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>",
                points.join(" "),
                s.colour
            );
        }
        for (i, v) in values.iter().enumerate() {
            let tip = format!("{} · {}: {}", months.get(i).map_or("", String::as_str), s.label, count(*v));
            let _ = writeln!(
                out,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3.5\" fill=\"{}\"><title>{}</title></circle>",
                x_of(i),
                y_of(*v),
                s.colour,
                esc(&tip)
            );
        }
    }
    let _ = writeln!(
        out,
        "<line x1=\"{left:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#52606d\"/>",
        top + plot_h,
        left + plot_w,
        top + plot_h
    );
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_round() {
        assert_eq!(nice_step(0), 1);
        assert_eq!(nice_step(5), 1);
        assert_eq!(nice_step(7), 2);
        assert_eq!(nice_step(23), 5);
        assert_eq!(nice_step(1906), 500);
        assert!(nice_step(u64::MAX) >= u64::MAX / 5);
    }

    #[test]
    fn labels_are_escaped() {
        let s = Series { label: "<b>&".into(), colour: "#000" };
        let svg = stacked_bars("t<", &[("R&D <x>".into(), vec![1, 2])], &[s.clone(), s], true);
        assert!(svg.contains("R&amp;D &lt;x&gt;") && !svg.contains("<b>") && svg.contains("t&lt;"));
        let svg = heat_map("h", &[("<".into(), "&".into())], &[vec![3]], ("a<", "b&"));
        assert!(svg.contains("&lt; &amp;") && svg.contains("a&lt;") && !svg.contains("b&<"));
    }
}
