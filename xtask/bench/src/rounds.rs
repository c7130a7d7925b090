//! Alternating rounds: timings on this machine are noisy, so each case runs
//! zenserver and its reference in turn, several times, and reports medians.

/// Rounds per comparison.
pub(crate) const ROUNDS: usize = 3;

/// The median of `values` (the upper middle for an even count).
pub(crate) fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Runs `zen` and `reference` alternately for [`ROUNDS`] rounds; the medians.
pub(crate) fn alternate(
    mut zen: impl FnMut() -> anyhow::Result<f64>,
    mut reference: impl FnMut() -> anyhow::Result<f64>,
) -> anyhow::Result<(f64, f64)> {
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        ours.push(zen()?);
        theirs.push(reference()?);
    }
    Ok((median(&ours), median(&theirs)))
}
