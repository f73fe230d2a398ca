//! Fault rules: which request misbehaves, and how.

use crate::config::{FaultAction, FaultRule, Times};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::watch;

/// Requests held by a `hold_request` fault, each until the next release.
pub(crate) struct Gate {
    waiting: Arc<AtomicUsize>,
    released: watch::Sender<u64>,
}

/// One request counted as held while it waits (also when its connection goes).
struct Waiting(Arc<AtomicUsize>);

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Default for Gate {
    fn default() -> Gate {
        Gate {
            waiting: Arc::default(),
            released: watch::channel(0).0,
        }
    }
}

impl Gate {
    /// Wait until the next [`Gate::release`].
    pub async fn hold(&self) {
        // subscribed before counted: a release that sees this request ends its wait
        let mut rx = self.released.subscribe();
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let _waiting = Waiting(self.waiting.clone());
        let _ = rx.changed().await;
    }

    /// Let every held request go on; returns how many were held.
    pub fn release(&self) -> usize {
        let n = self.held();
        self.released.send_modify(|v| *v += 1);
        n
    }

    pub fn held(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }
}

pub(crate) struct Armed {
    pub rule: FaultRule,
    /// matching requests seen (EveryNth)
    seen: u64,
    /// firings left (Next)
    left: u32,
}

impl Armed {
    pub fn new(rule: FaultRule) -> Armed {
        let left = match rule.times {
            Times::Next(n) => n,
            Times::EveryNth(_) => u32::MAX,
        };
        Armed {
            rule,
            seen: 0,
            left,
        }
    }

    fn matches(&self, origin: &str, method: &str, path: &str) -> bool {
        let r = &self.rule;
        r.origin
            .as_deref()
            .is_none_or(|o| o.eq_ignore_ascii_case(origin))
            && r.method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && r.path_contains.as_deref().is_none_or(|p| path.contains(p))
    }
}

/// The action of the first rule that matches and fires; spent `Next` rules are removed.
pub(crate) fn pick(
    rules: &mut Vec<Armed>,
    origin: &str,
    method: &str,
    path: &str,
) -> Option<FaultAction> {
    let mut fired = None;
    for (i, a) in rules.iter_mut().enumerate() {
        if !a.matches(origin, method, path) {
            continue;
        }
        match a.rule.times {
            Times::Next(_) => {
                if a.left == 0 {
                    continue;
                }
                a.left -= 1;
                fired = Some(i);
                break;
            }
            Times::EveryNth(n) => {
                a.seen += 1;
                if a.seen % u64::from(n.max(1)) == 0 {
                    fired = Some(i);
                    break;
                }
            }
        }
    }
    let i = fired?;
    let action = rules[i].rule.action.clone();
    rules.retain(|a| !matches!(a.rule.times, Times::Next(_)) || a.left > 0);
    Some(action)
}

/// How a fault shows in the request log.
pub(crate) fn label(action: &FaultAction) -> String {
    match action {
        FaultAction::Status {
            status,
            retry_after: Some(s),
        } => format!("status {status} retry_after {s}"),
        FaultAction::Status {
            status,
            retry_after: None,
        } => format!("status {status}"),
        FaultAction::DropRequestAfter(k) => format!("drop_request_after {k}"),
        FaultAction::DropResponseAfter(k) => format!("drop_response_after {k}"),
        FaultAction::DropBodyAfter(n) => format!("drop_body_after {n}"),
        FaultAction::DelayMs(ms) => format!("delay_ms {ms}"),
        FaultAction::HoldJob => "hold_job".into(),
        FaultAction::HoldRequest => "hold_request".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(times: Times, status: u16) -> FaultRule {
        FaultRule::new(
            times,
            FaultAction::Status {
                status,
                retry_after: None,
            },
        )
    }

    #[test]
    fn next_and_every_nth() {
        let mut rules = vec![
            Armed::new(rule(Times::Next(2), 429)),
            Armed::new(rule(Times::EveryNth(3), 503)),
        ];
        let got: Vec<Option<u16>> = (0..8)
            .map(|_| match pick(&mut rules, "api", "GET", "/x") {
                Some(FaultAction::Status { status, .. }) => Some(status),
                _ => None,
            })
            .collect();
        // Next(2) fires twice (the EveryNth rule does not see those requests), then every 3rd.
        assert_eq!(
            got,
            vec![
                Some(429),
                Some(429),
                None,
                None,
                Some(503),
                None,
                None,
                Some(503)
            ]
        );
        assert_eq!(rules.len(), 1);
    }

    #[test]
    fn filters() {
        let mut r = rule(Times::EveryNth(1), 500);
        r.origin = Some("monitor".into());
        r.method = Some("put".into());
        r.path_contains = Some("/upload/".into());
        let mut rules = vec![Armed::new(r)];
        assert!(pick(&mut rules, "api", "PUT", "/upload/x").is_none());
        assert!(pick(&mut rules, "monitor", "GET", "/upload/x").is_none());
        assert!(pick(&mut rules, "monitor", "PUT", "/other").is_none());
        assert!(pick(&mut rules, "monitor", "PUT", "/upload/x").is_some());
    }

    #[test]
    fn json_forms() {
        let r: FaultRule = serde_json::from_str(
            r#"{"times":{"next":2},"action":{"status":{"status":429,"retry_after":1}}}"#,
        )
        .unwrap();
        assert_eq!(r.times, Times::Next(2));
        assert_eq!(
            r.action,
            FaultAction::Status {
                status: 429,
                retry_after: Some(1)
            }
        );
        let r: FaultRule =
            serde_json::from_str(r#"{"action":{"drop_request_after":1000},"method":"PUT"}"#)
                .unwrap();
        assert_eq!(r.action, FaultAction::DropRequestAfter(1000));
        assert_eq!(r.method.as_deref(), Some("PUT"));
        assert_eq!(r.times, Times::EveryNth(1));
        let r: FaultRule = serde_json::from_str(r#"{"action":{"delay_ms":200}}"#).unwrap();
        assert_eq!(r.action, FaultAction::DelayMs(200));
        let r: FaultRule = serde_json::from_str(
            r#"{"times":{"every_nth":3},"action":{"drop_response_after":5},"origin":"monitor"}"#,
        )
        .unwrap();
        assert_eq!(r.times, Times::EveryNth(3));
        let back = serde_json::to_value(&r).unwrap();
        assert_eq!(back["action"]["drop_response_after"], 5);
        assert_eq!(back["times"]["every_nth"], 3);
        let r: FaultRule = serde_json::from_str(
            r#"{"method":"POST","path_contains":"/held/","action":"hold_job"}"#,
        )
        .unwrap();
        assert_eq!(r.action, FaultAction::HoldJob);
        assert_eq!(serde_json::to_value(&r).unwrap()["action"], "hold_job");
        assert_eq!(label(&r.action), "hold_job");
        let r: FaultRule = serde_json::from_str(r#"{"action":"hold_request"}"#).unwrap();
        assert_eq!(r.action, FaultAction::HoldRequest);
        assert_eq!(label(&r.action), "hold_request");
        let r: FaultRule = serde_json::from_str(r#"{"action":{"status":{"status":503}}}"#).unwrap();
        assert_eq!(
            r.action,
            FaultAction::Status {
                status: 503,
                retry_after: None
            }
        );
    }
}
