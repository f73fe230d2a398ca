//! What a monitor URL's answer says about a job, read without any request:
//! the job's state, percentage and error, and, once it completed, where
//! the new item is named (read afterwards by `Client::poll_job`).
//!
//! The answers:
//! - 202 (or 200) with an AsyncJobStatus: `status`, `percentageComplete`,
//!   on completion perhaps `resourceId` / `resourceLocation`;
//! - 202 with nothing (or nothing readable: a gateway's page): running;
//! - 303 See Other, `Location` = the new item: completed;
//! - 500 with a Graph error body: the job failed;
//! - 5xx without one (a gateway, a proxy): a blip, still running;
//! - 404 (or 500 `operationNotFound`): unknown or expired.

use std::time::Duration;

use serde_json::Value;

use super::error::{Error, ErrorKind, GraphErrorBody, Result};
use super::http::Response;
use super::item::Item;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    NotStarted,
    Running,
    Completed,
    Failed,
    Cancelled,
    /// A status this client does not know; treated as still running.
    Unknown,
}

impl JobState {
    /// Maps the service's status strings (both enums it uses); unknown ones
    /// are accepted as [`JobState::Unknown`].
    pub fn from_status(s: &str) -> JobState {
        match s.to_ascii_lowercase().as_str() {
            "notstarted" | "waiting" => JobState::NotStarted,
            "inprogress" | "updating" | "cancelpending" | "deletepending" => JobState::Running,
            "completed" | "succeeded" => JobState::Completed,
            "failed" | "deletefailed" => JobState::Failed,
            "cancelled" | "canceled" => JobState::Cancelled,
            _ => JobState::Unknown,
        }
    }

    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobState::Completed | JobState::Failed | JobState::Cancelled
        )
    }
}

/// What one look at the monitor URL told.
#[derive(Debug, Clone, PartialEq)]
pub struct JobStatus {
    pub state: JobState,
    /// The service's own status word (empty after a 303).
    pub status_text: String,
    /// 0–100, when the service said.
    pub percent: Option<f64>,
    /// The new item, once completed.
    pub item: Option<Item>,
    /// The service's error, once failed.
    pub error: Option<Error>,
    /// How long the service asked to wait before the next look.
    pub retry_after: Option<Duration>,
}

/// One look at the monitor, read: the status, and where the new item is
/// named when the job completed and the item still has to be read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Look {
    /// Its `item` is set only when the monitor sent the item itself.
    pub status: JobStatus,
    pub finished: Option<Finished>,
}

/// Where a completed job names its new item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Finished {
    /// By id (`resourceId`), in the job's drive.
    Id(String),
    /// By URL (a 303's `Location`, a `resourceLocation`), as sent: relative
    /// to the monitor URL.
    Location(String),
}

impl Look {
    fn status(status: JobStatus) -> Look {
        Look {
            status,
            finished: None,
        }
    }
}

/// Reads the monitor's answer to one look. `Err` for an answer that says
/// nothing of the job (404, an unknown job, a body that is not JSON).
pub(crate) fn read_answer(resp: &Response) -> Result<Look> {
    match resp.status {
        // Accepted, nothing (or nothing readable: a gateway's page) said:
        // still running. A 202 says so whatever its body holds.
        200..=299
            if resp.body.iter().all(u8::is_ascii_whitespace)
                || (resp.status == 202 && resp.json().is_err()) =>
        {
            Ok(Look::status(still_running(resp.retry_after)))
        }
        // A 5xx without a Graph error (a gateway, a proxy): a blip on
        // the way, not news of the job.
        500..=599 if GraphErrorBody::parse(&resp.body).code.is_none() => {
            Ok(Look::status(still_running(resp.retry_after)))
        }
        200..=299 => read_status(&resp.json()?, resp.retry_after),
        301..=303 | 307 | 308 => {
            let location = resp
                .location
                .as_deref()
                .ok_or_else(|| Error::protocol("a redirect from the monitor without Location"))?;
            let body = serde_json::from_slice::<Value>(&resp.body).ok();
            Ok(Look {
                status: JobStatus {
                    state: JobState::Completed,
                    status_text: String::new(),
                    percent: Some(100.0),
                    item: None,
                    error: None,
                    retry_after: None,
                },
                finished: finished(body.as_ref(), Some(location)),
            })
        }
        500 if !is_not_found(&resp.body) && GraphErrorBody::parse(&resp.body).code.is_some() => {
            Ok(Look::status(JobStatus {
                state: JobState::Failed,
                status_text: "failed".to_owned(),
                percent: None,
                item: None,
                error: Some(resp.error().with_kind(ErrorKind::JobFailed)),
                retry_after: None,
            }))
        }
        _ => {
            let e = resp.error();
            Err(if is_not_found(&resp.body) {
                e.with_kind(ErrorKind::NotFound)
            } else {
                e
            })
        }
    }
}

/// Reads a job-status body (a 2xx's JSON).
pub(crate) fn read_status(body: &Value, retry_after: Option<Duration>) -> Result<Look> {
    let status_text = body
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let percent = body.get("percentageComplete").and_then(|p| match p {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    });
    let percent = percent
        .filter(|p| p.is_finite())
        .map(|p| p.clamp(0.0, 100.0));
    let mut state = JobState::from_status(&status_text);
    if status_text.is_empty() && body.get("id").is_some() && body.get("status").is_none() {
        // Some monitors answer with the finished item itself.
        return Ok(Look::status(JobStatus {
            state: JobState::Completed,
            status_text,
            percent: Some(100.0),
            item: Some(Item::from_json(body.clone())?),
            error: None,
            retry_after,
        }));
    }
    let mut error = None;
    let mut done = None;
    match state {
        JobState::Completed => {
            let location = body.get("resourceLocation").and_then(Value::as_str);
            done = finished(Some(body), location);
        }
        JobState::Failed | JobState::Cancelled => {
            let detail = body
                .get("error")
                .map(GraphErrorBody::from_value)
                .unwrap_or_default();
            let kind = if state == JobState::Failed {
                ErrorKind::JobFailed
            } else {
                ErrorKind::JobCancelled
            };
            let message = detail
                .message
                .clone()
                .or_else(|| {
                    body.get("statusDescription")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
                .unwrap_or_else(|| format!("the job ended with status {status_text:?}"));
            let mut e = Error::new(kind, message);
            e.code = detail.code;
            e.inner_code = detail.inner_code;
            e.request_id = detail.request_id;
            error = Some(e);
        }
        JobState::NotStarted | JobState::Running | JobState::Unknown => {
            if status_text.is_empty() {
                state = JobState::Unknown;
            }
        }
    }
    Ok(Look {
        status: JobStatus {
            state,
            status_text,
            percent,
            item: None,
            error,
            retry_after,
        },
        finished: done,
    })
}

/// Where a completion names the new item: a `resourceId` in the body
/// first, else a URL; `None` when it names none.
fn finished(body: Option<&Value>, location: Option<&str>) -> Option<Finished> {
    let id = body
        .and_then(|b| b.get("resourceId"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    match (id, location) {
        (Some(id), _) => Some(Finished::Id(id.to_owned())),
        (None, Some(url)) => Some(Finished::Location(url.to_owned())),
        (None, None) => None,
    }
}

/// The item id in a URL of the form `…/items/{id}[/…|?…]`, percent-decoded.
pub(crate) fn item_id_in(url: &str) -> Option<String> {
    let rest = &url[url.find("/items/")? + "/items/".len()..];
    let raw = rest
        .split(['/', '?', '#', ':'])
        .next()
        .filter(|s| !s.is_empty())?;
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).and_then(|&b| hex(b)),
            bytes.get(i + 2).and_then(|&b| hex(b)),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

pub(crate) fn is_not_found(body: &[u8]) -> bool {
    let e = GraphErrorBody::parse(body);
    [e.code, e.inner_code].iter().flatten().any(|c| {
        c.eq_ignore_ascii_case("operationNotFound") || c.eq_ignore_ascii_case("itemNotFound")
    })
}

/// A look that told nothing new: the job is taken to be still running.
fn still_running(retry_after: Option<Duration>) -> JobStatus {
    JobStatus {
        state: JobState::Unknown,
        status_text: String::new(),
        percent: None,
        item: None,
        error: None,
        retry_after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_words() {
        use JobState::*;
        for (s, st) in [
            ("notStarted", NotStarted),
            ("waiting", NotStarted),
            ("inProgress", Running),
            ("updating", Running),
            ("cancelPending", Running),
            ("deletePending", Running),
            ("completed", Completed),
            ("failed", Failed),
            ("deleteFailed", Failed),
            ("cancelled", Cancelled),
            ("somethingNew", Unknown),
            ("", Unknown),
        ] {
            assert_eq!(JobState::from_status(s), st, "{s}");
        }
        assert!(Completed.is_final() && Failed.is_final() && !Running.is_final());
    }

    #[test]
    fn item_ids_in_urls() {
        assert_eq!(
            item_id_in("https://api.onedrive.com/v1.0/drives/d/items/A!12").as_deref(),
            Some("A!12")
        );
        assert_eq!(
            item_id_in("https://x/_api/v2.0/drives/d/items/01AB%21C?tempauth=z").as_deref(),
            Some("01AB!C")
        );
        assert_eq!(
            item_id_in("https://x/v1.0/drives/d/items/ID/children").as_deref(),
            Some("ID")
        );
        assert_eq!(item_id_in("https://x/v1.0/drives/d/items/"), None);
        assert_eq!(item_id_in("https://x/v1.0/monitor/abc"), None);
    }
    fn answer(status: u16, location: Option<&str>, body: &str) -> Response {
        Response {
            status,
            location: location.map(str::to_owned),
            body: body.as_bytes().to_vec(),
            ..Response::default()
        }
    }

    #[test]
    fn monitor_answers_read_without_a_request() {
        use Finished::{Id, Location};
        use JobState::*;
        const URL: &str = "https://x/drives/d/items/NEW";
        let loc = Some(URL);
        /// (status, Location, body, state, percent, where the item is named)
        type Row = (
            u16,
            Option<&'static str>,
            &'static str,
            JobState,
            Option<f64>,
            Option<Finished>,
        );
        let table: [Row; 14] = [
            (202, None, "", Unknown, None, None),
            (202, None, "<html>busy</html>", Unknown, None, None),
            (502, None, "bad gateway", Unknown, None, None),
            (
                202,
                None,
                r#"{"status":"inProgress","percentageComplete":42.5}"#,
                Running,
                Some(42.5),
                None,
            ),
            (
                200,
                None,
                r#"{"status":"notStarted","percentageComplete":"150"}"#,
                NotStarted,
                Some(100.0),
                None,
            ),
            (
                200,
                None,
                r#"{"percentageComplete":7}"#,
                Unknown,
                Some(7.0),
                None,
            ),
            (
                200,
                None,
                r#"{"status":"completed","resourceId":"ID1","resourceLocation":"/x"}"#,
                Completed,
                None,
                Some(Id("ID1".into())),
            ),
            (
                200,
                None,
                r#"{"status":"succeeded","resourceId":"","resourceLocation":"/items/A"}"#,
                Completed,
                None,
                Some(Location("/items/A".into())),
            ),
            (
                200,
                None,
                r#"{"status":"completed"}"#,
                Completed,
                None,
                None,
            ),
            (
                303,
                loc,
                "",
                Completed,
                Some(100.0),
                Some(Location(URL.into())),
            ),
            (
                303,
                loc,
                r#"{"resourceId":"R"}"#,
                Completed,
                Some(100.0),
                Some(Id("R".into())),
            ),
            (
                500,
                None,
                r#"{"error":{"code":"generalException","message":"boom"}}"#,
                Failed,
                None,
                None,
            ),
            (
                200,
                None,
                r#"{"status":"failed","error":{"code":"x","message":"m"}}"#,
                Failed,
                None,
                None,
            ),
            (
                200,
                None,
                r#"{"status":"cancelled"}"#,
                Cancelled,
                None,
                None,
            ),
        ];
        for (status, location, body, state, percent, finished) in table {
            let look = read_answer(&answer(status, location, body)).unwrap();
            let what = format!("{status} {body}");
            assert_eq!(look.status.state, state, "{what}");
            assert_eq!(look.status.percent, percent, "{what}");
            assert_eq!(look.finished, finished, "{what}");
            assert!(look.status.item.is_none(), "{what}");
            match state {
                Failed => {
                    assert_eq!(look.status.error.unwrap().kind, ErrorKind::JobFailed)
                }
                Cancelled => {
                    assert_eq!(look.status.error.unwrap().kind, ErrorKind::JobCancelled)
                }
                _ => assert!(look.status.error.is_none(), "{what}"),
            }
        }
    }

    #[test]
    fn monitor_answers_that_are_errors() {
        let e = |status, location, body| read_answer(&answer(status, location, body)).unwrap_err();
        assert_eq!(e(404, None, "").kind, ErrorKind::NotFound);
        let gone = r#"{"error":{"code":"operationNotFound","message":"m"}}"#;
        assert_eq!(e(500, None, gone).kind, ErrorKind::NotFound);
        assert_eq!(e(303, None, "").kind, ErrorKind::Protocol);
        assert_eq!(e(200, None, "{not json").kind, ErrorKind::Protocol);
        assert_eq!(e(403, None, "").kind, ErrorKind::Forbidden);
    }

    #[test]
    fn a_monitor_that_sends_the_item_itself() {
        let look = read_answer(&answer(200, None, r#"{"id":"X","name":"n.txt"}"#)).unwrap();
        assert_eq!(look.status.state, JobState::Completed);
        assert_eq!(look.status.item.unwrap().id(), "X");
        assert_eq!(look.finished, None);
        let failed = read_status(
            &serde_json::json!({"status": "failed", "statusDescription": "why",
                "error": {"innerError": {"code": "deep", "request-id": "r"}}}),
            Some(Duration::from_secs(2)),
        )
        .unwrap();
        let e = failed.status.error.unwrap();
        assert_eq!(
            (e.message.as_str(), e.inner_code.as_deref()),
            ("why", Some("deep"))
        );
        assert_eq!(e.request_id.as_deref(), Some("r"));
        assert_eq!(failed.status.retry_after, Some(Duration::from_secs(2)));
    }
}
