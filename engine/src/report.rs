//! The `engine compare --html` page: one self-contained file (inline CSS and SVG, no scripts, no
//! network) with metric bars per branch, per-query differences and chunk size histograms.

use std::fmt::Write;

use serde_json::Value;

const WIDTH: f64 = 640.0;
const COLORS: [&str; 6] = [
    "#4269d0", "#efb118", "#ff725c", "#6cc5b0", "#3ca951", "#a463f2",
];

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Renders a compare report (the `--json` object) as a page.
pub fn render(report: &Value, title: &str) -> String {
    let mut page = String::new();
    let _ = write!(
        page,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\n<style>{}</style></head><body>\n<h1>{}</h1>\n<p>{}</p>\n",
        escape(title),
        STYLE,
        escape(title),
        match report["judged_queries"].as_u64() {
            Some(judged) => format!(
                "{} queries, {judged} of them judged (metrics are means over the judged ones)",
                report["queries"]
            ),
            None => format!("{} queries (no judgments)", report["queries"]),
        }
    );
    // What the text report says beside its tables: the warnings about the inputs, and the
    // notes on reading the figures (a run's missing queries, indexes older than the pipeline).
    page.push_str(&list_section("Warnings", &report["warnings"]));
    let notes: Vec<Value> = (report["index_notes"].as_array().into_iter().flatten())
        .chain(report["notes"].as_array().into_iter().flatten())
        .cloned()
        .collect();
    page.push_str(&list_section("Notes", &Value::Array(notes)));
    page.push_str(&metric_section(report));
    page.push_str(&pairs_section(report));
    page.push_str(&chunks_section(report));
    page.push_str("</body></html>\n");
    page
}

/// A heading and a list of `items` (strings), or nothing when there are none.
fn list_section(heading: &str, items: &Value) -> String {
    let items: Vec<&str> = (items.as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .collect();
    if items.is_empty() {
        return String::new();
    }
    let mut section = format!("<h2>{heading}</h2>\n<ul>\n");
    for item in items {
        let _ = writeln!(section, "<li>{}</li>", escape(item));
    }
    section.push_str("</ul>\n");
    section
}

const STYLE: &str = "body{font:14px system-ui,sans-serif;margin:2em;max-width:60em;color:#222}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}\
th:first-child,td:first-child{text-align:left}svg{display:block;margin:1em 0}figcaption{color:#555}";

/// (branch/mode label, metric → value) rows.
fn rows(report: &Value) -> Vec<(String, serde_json::Map<String, Value>)> {
    let mut rows = Vec::new();
    for (branch, modes) in report["branches"].as_object().into_iter().flatten() {
        for (mode, metrics) in modes.as_object().into_iter().flatten() {
            if let Some(metrics) = metrics.as_object() {
                rows.push((format!("{branch} · {mode}"), metrics.clone()));
            }
        }
    }
    rows
}

fn metric_section(report: &Value) -> String {
    let rows = rows(report);
    let metrics: Vec<String> = rows
        .first()
        .map(|(_, m)| {
            m.keys()
                .filter(|k| m[k.as_str()].is_number())
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let mut html = String::from("<h2>Metrics per branch</h2>\n<table><tr><th>branch · mode</th>");
    for metric in &metrics {
        let _ = write!(html, "<th>{}</th>", escape(metric));
    }
    html.push_str("</tr>\n");
    for (label, values) in &rows {
        let _ = write!(html, "<tr><td>{}</td>", escape(label));
        for metric in &metrics {
            let _ = write!(
                html,
                "<td>{:.4}</td>",
                values[metric.as_str()].as_f64().unwrap_or(0.0)
            );
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</table>\n");
    for metric in &metrics {
        let bars: Vec<(String, f64)> = rows
            .iter()
            .map(|(label, values)| {
                (
                    label.clone(),
                    values[metric.as_str()].as_f64().unwrap_or(0.0),
                )
            })
            .collect();
        html.push_str(&bar_chart(metric, &bars));
    }
    html
}

/// Horizontal bars, one per label.
fn bar_chart(caption: &str, bars: &[(String, f64)]) -> String {
    let max = bars
        .iter()
        .map(|(_, v)| *v)
        .fold(0.0f64, f64::max)
        .max(f64::MIN_POSITIVE);
    let height = bars.len() as f64 * 24.0 + 10.0;
    let mut svg = format!(
        "{}<svg class=\"chart\" role=\"img\" aria-label=\"{1}\" width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\">\n",
        open_figure(caption),
        escape(caption)
    );
    for (i, (label, value)) in bars.iter().enumerate() {
        let y = 5.0 + i as f64 * 24.0;
        let width = (WIDTH - 260.0) * value / max;
        let _ = writeln!(
            svg,
            "<text x=\"0\" y=\"{:.1}\" font-size=\"12\">{}</text><rect x=\"200\" y=\"{y:.1}\" width=\"{width:.1}\" height=\"18\" fill=\"{}\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\">{}</text>",
            y + 13.0,
            escape(label),
            COLORS[i % COLORS.len()],
            205.0 + width,
            y + 13.0,
            number(*value)
        );
    }
    close_figure(svg)
}

/// A bar's value: counts as integers, scores with three decimals.
fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        format!("{value:.3}")
    }
}

/// Starts a figure with its caption, above the chart it names (below, it read as the title
/// of the next chart).
fn open_figure(caption: &str) -> String {
    format!("<figure><figcaption>{}</figcaption>", escape(caption))
}

/// Ends an SVG figure.
fn close_figure(mut svg: String) -> String {
    svg.push_str("</svg></figure>\n");
    svg
}

fn pairs_section(report: &Value) -> String {
    let mut html = String::from("<h2>Pairs</h2>\n");
    for pair in report["pairs"].as_array().into_iter().flatten() {
        let name = |side: &str| {
            format!(
                "{} · {}",
                pair[side]["index"].as_str().unwrap_or_default(),
                pair[side]["mode"].as_str().unwrap_or_default()
            )
        };
        let (a, b) = (name("a"), name("b"));
        if let Some(overlap) = pair["mean_overlap"].as_f64() {
            let _ = writeln!(
                html,
                "<p>{} vs {}: mean top-k overlap {overlap:.3}</p>",
                escape(&a),
                escape(&b)
            );
            continue;
        }
        let Some(ndcg) = pair["metrics"].get("ndcg@10") else {
            continue;
        };
        let _ = writeln!(
            html,
            "<h3>{} → {}</h3><p>nDCG@10 difference {:+.4}, p = {:.4}; B wins {}, loses {}, ties {}</p>",
            escape(&a),
            escape(&b),
            ndcg["mean_difference"].as_f64().unwrap_or(0.0),
            ndcg["p_value"].as_f64().unwrap_or(1.0),
            ndcg["wins"],
            ndcg["losses"],
            ndcg["ties"]
        );
        let mut differences: Vec<(&str, f64)> = (ndcg["differences"].as_object())
            .into_iter()
            .flatten()
            .filter_map(|(query, difference)| Some((query.as_str(), difference.as_f64()?)))
            .collect();
        differences.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(b.0)));
        html.push_str(&difference_plot(
            &format!("per-query nDCG@10 difference, {b} minus {a}"),
            &differences,
        ));
    }
    html
}

/// Per-query differences (query id, difference), sorted, as bars above (B better) and below
/// (A better) zero, with the scale at the left and each bar's query and difference as its
/// tooltip.
fn difference_plot(caption: &str, differences: &[(&str, f64)]) -> String {
    let height = 160.0;
    let middle = height / 2.0;
    let scale = 56.0;
    let max = differences
        .iter()
        .map(|(_, d)| d.abs())
        .fold(0.0f64, f64::max)
        .max(f64::MIN_POSITIVE);
    let step = (WIDTH - scale) / differences.len().max(1) as f64;
    let mut svg = format!(
        "{}<svg class=\"chart\" role=\"img\" aria-label=\"{1}\" width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\">\n<line x1=\"{scale}\" x2=\"{WIDTH}\" y1=\"{middle}\" y2=\"{middle}\" stroke=\"#999\"/>\n",
        open_figure(caption),
        escape(caption)
    );
    let shown = if max == f64::MIN_POSITIVE { 0.0 } else { max };
    let _ = writeln!(
        svg,
        "<text x=\"0\" y=\"12\" font-size=\"11\">{:+.3}</text><text x=\"0\" y=\"{:.1}\" font-size=\"11\">0</text><text x=\"0\" y=\"{:.1}\" font-size=\"11\">{:+.3}</text>",
        shown,
        middle + 4.0,
        height - 2.0,
        -shown
    );
    for (i, (query, difference)) in differences.iter().enumerate() {
        let length = (middle - 4.0) * difference.abs() / max;
        let (y, color) = if *difference >= 0.0 {
            (middle - length, "#3ca951")
        } else {
            (middle, "#ff725c")
        };
        let _ = writeln!(
            svg,
            "<rect x=\"{:.2}\" y=\"{y:.2}\" width=\"{:.2}\" height=\"{length:.2}\" fill=\"{color}\"><title>query {}: {difference:+.4}</title></rect>",
            scale + i as f64 * step,
            (step - 0.5).max(0.5),
            escape(query)
        );
    }
    close_figure(svg)
}

fn chunks_section(report: &Value) -> String {
    let mut html = String::from("<h2>Chunks per branch</h2>\n");
    for (branch, stats) in report["chunks"].as_object().into_iter().flatten() {
        let chunks = match (stats["count"].as_u64(), stats["indexed_chunks"].as_u64()) {
            (Some(made), Some(_)) => format!(
                "{made} chunks of {}{}",
                escape(stats["step"].as_str().unwrap_or_default()),
                escape(&crate::compare::indexed_note(stats))
            ),
            (Some(made), None) => format!("{made} chunks"),
            (None, Some(held)) => format!("{held} chunks"),
            (None, None) => "chunks not known".to_owned(),
        };
        let _ = writeln!(
            html,
            "<h3>{}</h3><p>{chunks}; index {} bytes on disk</p>",
            escape(branch),
            stats["index_bytes"]
        );
        if let Some(histogram) = stats["histogram"].as_array() {
            let bars: Vec<(String, f64)> = histogram
                .iter()
                .map(|bin| {
                    (
                        format!("{}–{}", bin["from"], bin["to"]),
                        bin["count"].as_f64().unwrap_or(0.0),
                    )
                })
                .collect();
            html.push_str(&bar_chart(
                &format!(
                    "chunk sizes of {branch} ({})",
                    stats["unit"].as_str().unwrap_or("units")
                ),
                &bars,
            ));
        }
    }
    html
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_page_is_self_contained_and_escapes_names() {
        let report = json!({
            "queries": 2, "judged_queries": 1, "warnings": ["q.tsv: <b> judged twice"],
            "notes": ["run `x` has no results for 1 of the queries"],
            "index_notes": ["`c` was built before `chunk` changed"],
            "branches": {"a<b": {"hybrid": {"ndcg@10": 0.4, "recall@100": 0.8}}, "c": {"hybrid": {"ndcg@10": 0.5, "recall@100": 0.7}}},
            "pairs": [{"a": {"index": "a<b", "mode": "hybrid"}, "b": {"index": "c", "mode": "hybrid"},
                       "metrics": {"ndcg@10": {"mean_difference": 0.1, "p_value": 0.03, "wins": 1, "losses": 0, "ties": 1,
                                               "differences": {"1": 0.2, "2": 0.0}}}}],
            "chunks": {"c": {"count": 10, "index_bytes": 1234, "unit": "tokens",
                             "histogram": [{"from": 0, "to": 100, "count": 4}, {"from": 100, "to": 200, "count": 6}]}}
        });
        let page = render(&report, "A vs B");
        assert!(page.starts_with("<!doctype html>"));
        // What the text report says of the queries and inputs, the page says too.
        assert!(page.contains("<p>2 queries, 1 of them judged"), "{page}");
        assert!(
            page.contains("<li>q.tsv: &lt;b&gt; judged twice</li>"),
            "{page}"
        );
        assert!(
            page.contains("<h2>Notes</h2>\n<ul>\n<li>`c` was built before `chunk` changed</li>\n<li>run `x` has no results for 1 of the queries</li>"),
            "{page}"
        );
        assert!(page.contains("<title>query 1: +0.2000</title>"), "{page}");
        assert!(
            page.contains("<figure><figcaption>per-query nDCG@10 difference"),
            "captions above their charts: {page}"
        );
        assert!(page.contains("a&lt;b · hybrid"));
        assert_eq!(
            page.matches("<svg").count(),
            4,
            "two metric charts, one difference plot, one histogram"
        );
        assert!(
            !page.contains("<script") && !page.contains("http"),
            "no scripts, no network"
        );
    }
}
