//! Whether Redis answers, as `/health` reports it. Three witnesses: the
//! check every second (a PING, which a cluster sends to every master, so a
//! failed master shows until its replica has taken over), the change
//! subscription, and the requests in between. A request that succeeds only
//! speaks for itself: in a cluster, other slots may still be away.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

#[derive(Debug)]
pub(crate) struct Health {
    problems: Mutex<Problems>,
    /// Whether `problems.request` is set, read on every answer without the
    /// lock.
    request_failing: AtomicBool,
    /// Set with every problem: change messages may have been missed since,
    /// so the directory is loaded whole once Redis answers again.
    pub(crate) reload_wanted: AtomicBool,
}

#[derive(Debug, Default)]
struct Problems {
    check: Option<String>,
    subscription: Option<String>,
    request: Option<String>,
}

impl Problems {
    fn first(&self) -> Option<&String> {
        self.check
            .as_ref()
            .or(self.subscription.as_ref())
            .or(self.request.as_ref())
    }
}

/// Which witness speaks.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Witness {
    Check,
    Subscription,
    Request,
}

impl Health {
    pub(crate) fn new() -> Health {
        Health {
            problems: Mutex::new(Problems {
                check: Some("not connected yet".into()),
                ..Problems::default()
            }),
            request_failing: AtomicBool::new(false),
            reload_wanted: AtomicBool::new(true),
        }
    }

    /// Why the store is not fully available, or `None` when it is.
    pub(crate) fn problem(&self) -> Option<String> {
        self.lock().first().cloned()
    }

    /// `witness` saw a problem (`Some`) or none (`None`).
    pub(crate) fn report(&self, witness: Witness, problem: Option<String>) {
        let mut problems = self.lock();
        let was = problems.first().is_some();
        if problem.is_some() {
            self.reload_wanted.store(true, Ordering::Release);
        }
        match witness {
            Witness::Check => {
                // All masters answer: whatever requests met is over too.
                if problem.is_none() {
                    problems.request = None;
                    self.request_failing.store(false, Ordering::Release);
                }
                problems.check = problem;
            }
            Witness::Subscription => problems.subscription = problem,
            Witness::Request => {
                self.request_failing
                    .store(problem.is_some(), Ordering::Release);
                problems.request = problem;
            }
        }
        match (was, problems.first()) {
            (false, Some(problem)) => log::warn!("the session store is unavailable: {problem}"),
            (true, None) => log::info!("the session store answers"),
            _ => {}
        }
    }

    /// Whether the subscription was reported broken and not renewed since.
    pub(crate) fn subscription_broken(&self) -> bool {
        self.lock().subscription.is_some()
    }

    /// A request was answered: the problem requests met, if any, is over.
    pub(crate) fn request_answered(&self) {
        if self.request_failing.load(Ordering::Acquire) {
            self.report(Witness::Request, None);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Problems> {
        self.problems.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The probes a node publishes on the change channel to hear them back:
/// `P <node> <number>`.
#[derive(Debug)]
pub(crate) struct Probes {
    node: String,
    sent: AtomicU64,
    heard: AtomicU64,
}

impl Probes {
    pub(crate) fn new(node: String) -> Probes {
        Probes {
            node,
            sent: AtomicU64::new(0),
            heard: AtomicU64::new(0),
        }
    }

    /// The next probe's message.
    pub(crate) fn next(&self) -> String {
        let number = self.sent.fetch_add(1, Ordering::AcqRel) + 1;
        format!("P {} {number}", self.node)
    }

    /// A probe came back, this node's or another's.
    pub(crate) fn heard(&self, message: &str) {
        let mut words = message.split(' ').skip(1);
        if words.next() == Some(self.node.as_str())
            && let Some(Ok(number)) = words.next().map(str::parse::<u64>)
        {
            self.heard.fetch_max(number, Ordering::AcqRel);
        }
    }

    /// Probes sent that have not come back, but the one just sent.
    pub(crate) fn missed(&self) -> u64 {
        let sent = self.sent.load(Ordering::Acquire);
        sent.saturating_sub(self.heard.load(Ordering::Acquire))
            .saturating_sub(1)
    }

    /// A new subscription: what the old one missed no longer counts.
    pub(crate) fn restart(&self) {
        self.heard
            .store(self.sent.load(Ordering::Acquire), Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_that_succeeds_does_not_clear_what_the_check_saw() {
        let health = Health::new();
        health.report(Witness::Check, None);
        assert_eq!(health.problem(), None);
        health.report(Witness::Check, Some("a master is down".into()));
        health.request_answered();
        assert_eq!(health.problem().as_deref(), Some("a master is down"));
        health.report(Witness::Request, Some("timed out".into()));
        health.report(Witness::Check, None);
        assert_eq!(
            health.problem(),
            None,
            "a passing check clears requests' problem"
        );
        health.report(Witness::Request, Some("timed out".into()));
        health.request_answered();
        assert_eq!(health.problem(), None);
    }

    #[test]
    fn every_problem_asks_for_the_directory_again() {
        let health = Health::new();
        health.reload_wanted.store(false, Ordering::Release);
        health.report(Witness::Subscription, Some("disconnected".into()));
        assert!(health.reload_wanted.load(Ordering::Acquire));
    }

    #[test]
    fn probes_count_what_did_not_come_back() {
        let probes = Probes::new("node-a".into());
        let first = probes.next();
        assert_eq!(probes.missed(), 0, "the one just sent is not missed yet");
        probes.heard(&first);
        probes.heard("P node-b 7");
        let _second = probes.next();
        let _third = probes.next();
        assert_eq!(probes.missed(), 1);
        let _fourth = probes.next();
        assert_eq!(probes.missed(), 2);
        probes.restart();
        assert_eq!(probes.missed(), 0);
    }
}
