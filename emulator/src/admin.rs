//! `/_emulator/...` on the API origin: fault rules, request log, job settings, info, static files.
//! Wants `Authorization: Bearer {admin token}` (its own token, not the API's); never subject
//! to faults; what it accepts is bounded.

use crate::config::{FaultRule, JobConfig};
use crate::faults::Armed;
use crate::state::{Ctx, HResult, lock};
use crate::util::{self, GraphError, json_response};
use bytes::Bytes;
use hyper::Method;
use serde_json::json;

/// Largest JSON body (a fault rule, job settings).
const JSON_MAX: u64 = 64 * 1024;
/// Largest static file, and all static files together.
const STATIC_MAX: u64 = 64 * 1024 * 1024;
const STATICS_TOTAL_MAX: usize = 256 * 1024 * 1024;
/// Most fault rules held at once.
const FAULTS_MAX: usize = 10_000;

fn authorized(ctx: &Ctx) -> bool {
    let Some(value) = ctx.header("authorization") else {
        return false;
    };
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    let want = ctx.shared.admin_token.as_bytes();
    let got = token.trim().as_bytes();
    // compared without an early exit on the first differing byte
    scheme.eq_ignore_ascii_case("bearer")
        && got.len() == want.len()
        && got.iter().zip(want).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// `GET` / `HEAD /health` on either origin: 200 without any token, never faulted or delayed.
pub(crate) fn health(ctx: &Ctx) -> HResult {
    if ctx.method != Method::GET && ctx.method != Method::HEAD {
        return Err(GraphError::method_not_allowed().into());
    }
    Ok(json_response(200, &json!({ "status": "ok" })))
}

pub(crate) async fn handle(ctx: &mut Ctx) -> HResult {
    if !authorized(ctx) {
        return Err(GraphError::new(
            401,
            "unauthenticated",
            "The admin path wants 'Authorization: Bearer {admin token}' (printed at start as admin_token=).",
        )
        .header("WWW-Authenticate", "Bearer realm=\"onedrive-emulator-admin\"")
        .into());
    }
    let path = ctx.path.trim_end_matches('/').to_string();
    let shared = ctx.shared.clone();
    let method = ctx.method.clone();
    match (method, path.as_str()) {
        (Method::POST, "/_emulator/faults") => {
            let body = ctx.read_body(JSON_MAX).await?;
            let rule: FaultRule = serde_json::from_slice(&body)
                .map_err(|e| GraphError::bad_request(format!("invalid fault rule: {e}")))?;
            let v = serde_json::to_value(&rule).unwrap_or_default();
            let mut faults = lock(&shared.faults);
            if faults.len() >= FAULTS_MAX {
                return Err(GraphError::bad_request(format!(
                    "At most {FAULTS_MAX} fault rules at once: DELETE /_emulator/faults first."
                ))
                .into());
            }
            faults.push(Armed::new(rule));
            Ok(json_response(201, &v))
        }
        (Method::GET, "/_emulator/faults") => {
            let rules: Vec<FaultRule> = lock(&shared.faults)
                .iter()
                .map(|a| a.rule.clone())
                .collect();
            Ok(json_response(
                200,
                &serde_json::to_value(rules).unwrap_or_default(),
            ))
        }
        (Method::DELETE, "/_emulator/faults") => {
            lock(&shared.faults).clear();
            Ok(util::empty_response(204))
        }
        (Method::GET, "/_emulator/requests") => {
            let log = lock(&shared.log).clone();
            Ok(json_response(
                200,
                &serde_json::to_value(log).unwrap_or_default(),
            ))
        }
        (Method::DELETE, "/_emulator/requests") => {
            lock(&shared.log).clear();
            Ok(util::empty_response(204))
        }
        (Method::GET, "/_emulator/job") => Ok(json_response(
            200,
            &serde_json::to_value(shared.jobs.config()).unwrap_or_default(),
        )),
        (Method::PUT, "/_emulator/job") => {
            let body = ctx.read_body(JSON_MAX).await?;
            let job: JobConfig = serde_json::from_slice(&body)
                .map_err(|e| GraphError::bad_request(format!("invalid job config: {e}")))?;
            shared.jobs.set_config(job);
            Ok(json_response(
                200,
                &serde_json::to_value(shared.jobs.config()).unwrap_or_default(),
            ))
        }
        (Method::GET, "/_emulator/info") => {
            let store = shared.store();
            let drive_ids: Vec<String> = store.drives.iter().map(|d| d.id.clone()).collect();
            Ok(json_response(
                200,
                &json!({
                    "base_url": shared.base_url(),
                    "api_origin": shared.api_origin,
                    "monitor_origin": shared.monitor_origin,
                    "profile": shared.profile.as_str(),
                    "default_drive_id": store.default_drive().id,
                    "drive_ids": drive_ids,
                }),
            ))
        }
        (Method::GET, "/_emulator/stats") => Ok(json_response(
            200,
            &json!({
                "running_jobs": shared.jobs.running(),
                "held_jobs": shared.jobs.held(),
                "held_requests": shared.held_requests.held(),
                "connections_accepted": shared.connections_accepted.load(std::sync::atomic::Ordering::SeqCst),
                "upload_sessions": shared.with_sessions(|m| m.len()),
            }),
        )),
        (Method::POST, "/_emulator/jobs/release") => Ok(json_response(
            200,
            &json!({ "released": shared.jobs.release_held() }),
        )),
        (Method::POST, "/_emulator/requests/release") => Ok(json_response(
            200,
            &json!({ "released": shared.held_requests.release() }),
        )),
        (Method::POST, "/_emulator/reset") => {
            shared.reset();
            Ok(util::empty_response(204))
        }
        (Method::POST, "/_emulator/seed") => {
            #[derive(serde::Deserialize)]
            #[serde(deny_unknown_fields)]
            struct Seed {
                #[serde(default)]
                drive_id: Option<String>,
                path: String,
                count: usize,
                #[serde(default = "default_prefix")]
                prefix: String,
            }
            fn default_prefix() -> String {
                "file".into()
            }
            let body = ctx.read_body(JSON_MAX).await?;
            let seed: Seed = serde_json::from_slice(&body)
                .map_err(|e| GraphError::bad_request(format!("invalid seed request: {e}")))?;
            let shared2 = shared.clone();
            // a million inserts take a while: off the async threads
            let id = tokio::task::spawn_blocking(move || {
                shared2
                    .seed_files(
                        seed.drive_id.as_deref(),
                        &seed.path,
                        &seed.prefix,
                        seed.count,
                    )
                    .map(|id| (id, seed.count))
            })
            .await
            .map_err(|e| GraphError::new(500, "generalException", e.to_string()))??;
            Ok(json_response(201, &json!({ "id": id.0, "count": id.1 })))
        }
        (Method::PUT, p) if p.starts_with("/_emulator/static/") => {
            let raw = &p["/_emulator/static/".len()..];
            let name = util::percent_decode(raw, false)
                .filter(|n| !n.is_empty() && !n.contains('/'))
                .ok_or_else(|| GraphError::bad_request("invalid static file name"))?;
            if name.len() > 255 {
                return Err(GraphError::bad_request("The static file name is too long.").into());
            }
            let body = ctx.read_body(STATIC_MAX).await?;
            {
                let statics = lock(&shared.statics);
                let others: usize = statics
                    .iter()
                    .filter(|(k, _)| **k != name)
                    .map(|(_, v)| v.len())
                    .sum();
                if others + body.len() > STATICS_TOTAL_MAX {
                    return Err(GraphError::new(
                        507,
                        "insufficientStorage",
                        format!(
                            "Static files may hold at most {STATICS_TOTAL_MAX} bytes together."
                        ),
                    )
                    .into());
                }
            }
            let url = shared.serve_static(&name, Bytes::from(body));
            Ok(json_response(200, &json!({ "url": url })))
        }
        _ => Err(GraphError::new(404, "itemNotFound", "No such admin path.").into()),
    }
}
