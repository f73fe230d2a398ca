//! When a request is sent again: the decision as a pure function of what
//! the last attempt gave, plus the backoff and `Retry-After` it waits.
//!
//! Rules:
//! - 429 and 503 are retried for every method (the service did not act),
//!   waiting for Retry-After, or backing off when it is absent, as long as
//!   the policy's attempts and total wait allow.
//! - Other 5xx (500, 502, 504) and network errors are retried only for
//!   requests marked [`Retry::Idempotent`]; a POST the service may have
//!   acted on is never sent twice. A 5xx that carries a Graph error the
//!   request takes as final (a monitor reporting a failed job) is not.
//!   Failures to connect are retried for every request (nothing was sent).
//! - A request that ran past its total deadline is never retried (a peer
//!   that trickles would trickle again), nor is a failure of another kind
//!   (TLS, proxy, cancel, a bad argument).
//! - (A 401 is retried once after a token refresh: `Transport::send` does
//!   that itself, it is not a wait.)

use std::time::{Duration, Instant};

use super::settings::RetryPolicy;

/// Which failures a request may be repeated after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Safe to repeat after any failure (GET, DELETE, PUT that replaces).
    Idempotent,
    /// Only after answers that prove nothing was done (429, 503, connect failures).
    OnlyUnacted,
}

/// What an attempt gave, as far as the decision goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Outcome {
    /// An HTTP answer.
    Answer {
        status: u16,
        retry_after: Option<Duration>,
        /// The body holds a Graph error that the request takes as its
        /// final answer (`Request::graph_error_is_final`).
        final_graph_error: bool,
    },
    /// No answer: see `failure::classify`.
    Failed(Failure),
}

/// A request that got no answer, by what that says about the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// Nothing was sent (refused, no such host, connect timeout).
    Unsent,
    /// Sent, perhaps acted on: the connection broke or stalled.
    Sent,
    /// The request ran past its total deadline.
    PastDeadline,
    /// Not a blip: TLS, proxy, cancel, a bad argument, a local read.
    Final,
}

/// Where the request stands after an attempt.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Attempt {
    /// The attempt just made, from 1.
    pub number: u32,
    /// Attempts allowed in all (0 counts as 1).
    pub max: u32,
    /// How much of the policy's total wait is left.
    pub wait_left: Duration,
    /// Whether the method may be repeated after it may have acted.
    pub safety: Retry,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Send again after this pause.
    Retry { after: Duration },
    /// The outcome is the answer.
    Stop,
}

/// Whether to send again, and when. `backoff` is the pause this attempt
/// would back off for ([`backoff`]; passed in so the decision stays pure).
pub(crate) fn decide(attempt: &Attempt, outcome: &Outcome, backoff: Duration) -> Decision {
    let idempotent = attempt.safety == Retry::Idempotent;
    let delay = match *outcome {
        Outcome::Answer {
            status: 429 | 503,
            retry_after,
            ..
        } => Some(retry_after.unwrap_or(backoff)),
        Outcome::Answer {
            status: 500 | 502 | 504,
            final_graph_error: false,
            ..
        } if idempotent => Some(backoff),
        Outcome::Answer { .. } => None,
        Outcome::Failed(Failure::Unsent) => Some(backoff),
        Outcome::Failed(Failure::Sent) if idempotent => Some(backoff),
        Outcome::Failed(_) => None,
    };
    match delay {
        Some(after) if attempt.number < attempt.max.max(1) && after <= attempt.wait_left => {
            Decision::Retry { after }
        }
        _ => Decision::Stop,
    }
}

/// Exponential backoff with jitter: base·2^(n-1), capped, ±25 %.
pub(crate) fn backoff(policy: &RetryPolicy, attempt: u32) -> Duration {
    backoff_with(policy, attempt, jitter_fraction())
}

/// [`backoff`] with a given jitter factor (in [0.75, 1.25)).
fn backoff_with(policy: &RetryPolicy, attempt: u32, jitter: f64) -> Duration {
    let exp = policy
        .base_backoff
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
    exp.min(policy.max_backoff).mul_f64(jitter)
}

fn jitter_fraction() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    // RandomState is seeded per process; a fresh hasher per call is enough
    // jitter to spread clients that were throttled together.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(Instant::now().elapsed().as_nanos());
    0.75 + (h.finish() % 1000) as f64 / 2000.0
}

/// `Retry-After` in seconds (the form Graph sends). An HTTP-date is not
/// trusted (clocks differ): the caller backs off instead.
pub(crate) fn parse_retry_after(v: &str) -> Option<Duration> {
    let secs: f64 = v.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(86_400.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("1.5"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("NaN"), None);
        assert_eq!(parse_retry_after("1e30"), Some(Duration::from_secs(86_400)));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy::default();
        let first = backoff(&p, 1);
        assert!(first >= Duration::from_millis(150) && first < Duration::from_millis(250));
        let late = backoff(&p, 30);
        assert!(late <= p.max_backoff.mul_f64(1.25));
        assert!(late >= p.max_backoff.mul_f64(0.75));
        assert_eq!(backoff_with(&p, 1, 1.0), p.base_backoff);
        assert_eq!(backoff_with(&p, 3, 1.0), p.base_backoff * 4);
        assert_eq!(backoff_with(&p, 40, 1.0), p.max_backoff);
    }

    #[test]
    fn decisions_from_a_table() {
        use Failure::*;
        use Retry::*;
        let s = Duration::from_secs;
        let answer = |status, retry_after| Outcome::Answer {
            status,
            retry_after,
            final_graph_error: false,
        };
        let final_error = |status| Outcome::Answer {
            status,
            retry_after: None,
            final_graph_error: true,
        };
        let again = |after| Decision::Retry { after };
        let stop = Decision::Stop;
        let backoff = s(1);
        // (attempt, of, wait left, method safety, outcome, decision)
        let table = [
            // throttling: every method, Retry-After first, backoff without
            (
                1,
                5,
                s(60),
                OnlyUnacted,
                answer(429, Some(s(7))),
                again(s(7)),
            ),
            (1, 5, s(60), OnlyUnacted, answer(503, None), again(backoff)),
            (
                1,
                5,
                s(60),
                Idempotent,
                answer(503, Some(s(0))),
                again(s(0)),
            ),
            // a Retry-After beyond the wait left, or no attempt left: stop
            (1, 5, s(6), Idempotent, answer(429, Some(s(7))), stop),
            (1, 5, s(7), Idempotent, answer(429, Some(s(7))), again(s(7))),
            (5, 5, s(60), Idempotent, answer(429, Some(s(1))), stop),
            (1, 1, s(60), Idempotent, answer(503, None), stop),
            (1, 0, s(60), Idempotent, answer(503, None), stop),
            // other 5xx: idempotent requests only
            (1, 5, s(60), Idempotent, answer(500, None), again(backoff)),
            (
                2,
                5,
                s(60),
                Idempotent,
                answer(502, Some(s(9))),
                again(backoff),
            ),
            (1, 5, s(60), Idempotent, answer(504, None), again(backoff)),
            (1, 5, s(60), OnlyUnacted, answer(500, None), stop),
            (1, 5, s(60), OnlyUnacted, answer(502, None), stop),
            (1, 5, s(60), Idempotent, answer(501, None), stop),
            (1, 5, s(60), Idempotent, answer(507, None), stop),
            // a Graph error the request takes as final is the answer
            (1, 5, s(60), Idempotent, final_error(500), stop),
            (1, 5, s(60), Idempotent, final_error(503), again(backoff)),
            // answers that are not blips
            (1, 5, s(60), Idempotent, answer(200, None), stop),
            (1, 5, s(60), Idempotent, answer(401, None), stop),
            (1, 5, s(60), Idempotent, answer(404, Some(s(1))), stop),
            (1, 5, s(60), Idempotent, answer(409, None), stop),
            // no answer: unsent for every method, sent for idempotent ones
            (
                1,
                5,
                s(60),
                OnlyUnacted,
                Outcome::Failed(Unsent),
                again(backoff),
            ),
            (
                1,
                5,
                s(60),
                Idempotent,
                Outcome::Failed(Unsent),
                again(backoff),
            ),
            (
                1,
                5,
                s(60),
                Idempotent,
                Outcome::Failed(Sent),
                again(backoff),
            ),
            (1, 5, s(60), OnlyUnacted, Outcome::Failed(Sent), stop),
            (1, 5, s(0), Idempotent, Outcome::Failed(Unsent), stop),
            (
                4,
                5,
                s(60),
                Idempotent,
                Outcome::Failed(Sent),
                again(backoff),
            ),
            (5, 5, s(60), Idempotent, Outcome::Failed(Unsent), stop),
            // past the deadline, or final: never
            (1, 5, s(60), Idempotent, Outcome::Failed(PastDeadline), stop),
            (1, 5, s(60), Idempotent, Outcome::Failed(Final), stop),
        ];
        for (i, (number, max, wait_left, safety, outcome, want)) in table.into_iter().enumerate() {
            let attempt = Attempt {
                number,
                max,
                wait_left,
                safety,
            };
            assert_eq!(
                decide(&attempt, &outcome, backoff),
                want,
                "row {i}: {attempt:?} {outcome:?}"
            );
        }
    }
}
