//! Collecting figures, printing them as a table and writing them as JSON.

use std::path::Path;

use anyhow::Context;
use serde_json::{Value, json};

#[derive(Debug, Default)]
pub(crate) struct Report {
    rows: Vec<(String, String, String)>,
    comparisons: Vec<Comparison>,
    figures: serde_json::Map<String, Value>,
}

/// zenserver against a reference on one case. `ratio` is always "how many
/// times better": ours / theirs when more is better, theirs / ours when
/// less is.
#[derive(Debug)]
struct Comparison {
    case: String,
    unit: String,
    ours: f64,
    reference: String,
    theirs: f64,
    ratio: f64,
}

impl Report {
    /// One printed row and the same figure in the JSON report.
    pub(crate) fn add(&mut self, case: &str, metric: &str, value: Value, shown: String) {
        self.rows.push((case.to_owned(), metric.to_owned(), shown));
        let entry = self
            .figures
            .entry(case.to_owned())
            .or_insert_with(|| json!({}));
        if let Value::Object(map) = entry {
            map.insert(metric.to_owned(), value);
        }
    }

    /// A comparison where more is better (requests/s, entries/s).
    pub(crate) fn compare(
        &mut self,
        case: &str,
        unit: &str,
        ours: f64,
        reference: &str,
        theirs: f64,
    ) {
        self.push_comparison(case, unit, ours, reference, theirs, ours / theirs);
    }

    /// A comparison where less is better (bytes per entry); the ratio is
    /// still "times better", so above 1 is a win.
    pub(crate) fn compare_lower_is_better(
        &mut self,
        case: &str,
        unit: &str,
        ours: f64,
        reference: &str,
        theirs: f64,
    ) {
        self.push_comparison(case, unit, ours, reference, theirs, theirs / ours);
    }

    fn push_comparison(
        &mut self,
        case: &str,
        unit: &str,
        ours: f64,
        reference: &str,
        theirs: f64,
        ratio: f64,
    ) {
        self.figures.insert(
            case.to_owned(),
            json!({"unit": unit, "zenserver": ours, "reference": reference, "reference_value": theirs, "ratio": ratio}),
        );
        self.comparisons.push(Comparison {
            case: case.to_owned(),
            unit: unit.to_owned(),
            ours,
            reference: reference.to_owned(),
            theirs,
            ratio,
        });
    }

    pub(crate) fn print(&self) {
        if !self.comparisons.is_empty() {
            println!(
                "{:<24}  {:>14}  {:>14}  {:<20}  {:>6}",
                "case", "zenserver", "reference", "", "ratio"
            );
            for c in &self.comparisons {
                println!(
                    "{:<24}  {:>14}  {:>14}  {:<20}  {:>6.2}",
                    c.case,
                    format_value(c.ours, &c.unit),
                    format_value(c.theirs, &c.unit),
                    c.reference,
                    c.ratio
                );
            }
            println!();
        }
        let widths = self.rows.iter().fold((4, 6), |(case, metric), row| {
            (case.max(row.0.len()), metric.max(row.1.len()))
        });
        println!(
            "{:<w0$}  {:<w1$}  value",
            "case",
            "metric",
            w0 = widths.0,
            w1 = widths.1
        );
        for (case, metric, shown) in &self.rows {
            println!(
                "{case:<w0$}  {metric:<w1$}  {shown}",
                w0 = widths.0,
                w1 = widths.1
            );
        }
    }

    pub(crate) fn write(&self, path: &Path) -> anyhow::Result<()> {
        let text = serde_json::to_string_pretty(&Value::Object(self.figures.clone()))?;
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
    }
}

fn format_value(value: f64, unit: &str) -> String {
    if unit == "bytes" {
        format!("{value:.1} B")
    } else if value >= 1e6 {
        format!("{:.2} M/s", value / 1e6)
    } else {
        format!("{:.1} k/s", value / 1e3)
    }
}

/// The `p`-th percentile (0..=100) of sorted values.
pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p / 100.0 * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}
