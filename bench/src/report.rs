//! Collecting figures, printing them as a table and writing them as JSON.

use std::path::Path;

use anyhow::Context;
use serde_json::{Value, json};

#[derive(Debug, Default)]
pub(crate) struct Report {
    rows: Vec<(String, String, String)>,
    figures: serde_json::Map<String, Value>,
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

    pub(crate) fn print(&self) {
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

/// The `p`-th percentile (0..=100) of sorted values.
pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p / 100.0 * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}
