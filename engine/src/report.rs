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
    // What the text report says beside its tables: the warnings about the inputs.
    let warnings: Vec<&str> = (report["warnings"].as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .collect();
    if !warnings.is_empty() {
        page.push_str("<h2>Warnings</h2>\n<ul>\n");
        for warning in warnings {
            let _ = writeln!(page, "<li>{}</li>", escape(warning));
        }
        page.push_str("</ul>\n");
    }
    page.push_str(&metric_section(report));
    page.push_str(&pairs_section(report));
    page.push_str(&chunks_section(report));
    page.push_str("</body></html>\n");
    page
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
        "<figure><svg class=\"chart\" role=\"img\" aria-label=\"{0}\" width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\">\n",
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
    close_figure(svg, caption)
}

/// A bar's value: counts as integers, scores with three decimals.
fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        format!("{value:.3}")
    }
}

/// Ends an SVG figure with its caption.
fn close_figure(mut svg: String, caption: &str) -> String {
    let _ = writeln!(
        svg,
        "</svg><figcaption>{}</figcaption></figure>",
        escape(caption)
    );
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
        let mut differences: Vec<f64> = ndcg["differences"]
            .as_object()
            .map(|d| d.values().filter_map(Value::as_f64).collect())
            .unwrap_or_default();
        differences.sort_by(f64::total_cmp);
        html.push_str(&difference_plot(
            &format!("per-query nDCG@10 difference, {b} minus {a}"),
            &differences,
        ));
    }
    html
}

/// Sorted per-query differences as bars above (B better) and below (A better) zero.
fn difference_plot(caption: &str, differences: &[f64]) -> String {
    let height = 160.0;
    let middle = height / 2.0;
    let max = differences
        .iter()
        .map(|d| d.abs())
        .fold(0.0f64, f64::max)
        .max(f64::MIN_POSITIVE);
    let step = WIDTH / differences.len().max(1) as f64;
    let mut svg = format!(
        "<figure><svg class=\"chart\" role=\"img\" aria-label=\"{0}\" width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\">\n<line x1=\"0\" x2=\"{WIDTH}\" y1=\"{middle}\" y2=\"{middle}\" stroke=\"#999\"/>\n",
        escape(caption)
    );
    for (i, difference) in differences.iter().enumerate() {
        let length = (middle - 4.0) * difference.abs() / max;
        let (y, color) = if *difference >= 0.0 {
            (middle - length, "#3ca951")
        } else {
            (middle, "#ff725c")
        };
        let _ = writeln!(
            svg,
            "<rect x=\"{:.2}\" y=\"{y:.2}\" width=\"{:.2}\" height=\"{length:.2}\" fill=\"{color}\"/>",
            i as f64 * step,
            (step - 0.5).max(0.5)
        );
    }
    close_figure(svg, caption)
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
