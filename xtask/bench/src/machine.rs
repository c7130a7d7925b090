//! How the machine's CPUs were spent while a case ran. On a virtual
//! machine the hypervisor may run other guests on our cores ("steal"):
//! a case that lost a fifth of its time that way measures the host, not
//! the code, and ratios between two loads that wait on each other in
//! different ways (a node and Redis against Redis alone) move with it.

/// The machine's CPU time so far, in clock ticks, from `/proc/stat`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CpuTimes {
    total: u64,
    idle: u64,
    steal: u64,
}

impl CpuTimes {
    /// `None` where there is no `/proc/stat` (not Linux): the report then
    /// leaves the row out.
    pub(crate) fn now() -> Option<CpuTimes> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        parse(stat.lines().next()?)
    }

    /// The shares of the time since `earlier` the CPUs were stolen and
    /// idle, in percent.
    pub(crate) fn since(&self, earlier: &CpuTimes) -> Option<(f64, f64)> {
        let total = self.total.checked_sub(earlier.total)?;
        if total == 0 {
            return None;
        }
        let share = |now: u64, then: u64| 100.0 * now.saturating_sub(then) as f64 / total as f64;
        Some((
            share(self.steal, earlier.steal),
            share(self.idle, earlier.idle),
        ))
    }
}

/// The aggregate `cpu` line: user nice system idle iowait irq softirq
/// steal (guest time is already counted in user and nice).
fn parse(line: &str) -> Option<CpuTimes> {
    let mut fields = line.split_whitespace();
    if fields.next()? != "cpu" {
        return None;
    }
    let ticks: Vec<u64> = fields
        .take(8)
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    let [_, _, _, idle, iowait, _, _, steal] = ticks[..] else {
        return None;
    };
    Some(CpuTimes {
        total: ticks.iter().sum(),
        idle: idle + iowait,
        steal,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_come_from_the_aggregate_line() {
        let before = parse("cpu  100 0 100 700 0 0 0 100 0 0").unwrap();
        let after = parse("cpu  200 0 200 1300 100 0 0 200 0 0").unwrap();
        let (steal, idle) = after.since(&before).unwrap();
        assert_eq!((steal, idle), (10.0, 70.0));
    }

    #[test]
    fn other_lines_and_short_lines_are_refused() {
        assert!(parse("cpu0 1 2 3 4 5 6 7 8").is_none());
        assert!(parse("cpu 1 2 3").is_none());
        assert!(parse("cpu 1 2 x 4 5 6 7 8").is_none());
    }
}
