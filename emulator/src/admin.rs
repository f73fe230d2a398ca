//! `/_emulator/...` on the API origin: fault rules, request log, job settings, info, static files.
//! No auth, never subject to faults.

use crate::faults::Armed;
use crate::server::{Ctx, HResult, lock};
use crate::util::{self, GraphError, json_response};
use crate::{FaultRule, JobConfig};
use bytes::Bytes;
use hyper::Method;
use serde_json::json;

pub(crate) async fn handle(ctx: &mut Ctx) -> HResult {
    let path = ctx.path.trim_end_matches('/').to_string();
    let shared = ctx.shared.clone();
    let method = ctx.method.clone();
    match (method, path.as_str()) {
        (Method::POST, "/_emulator/faults") => {
            let body = ctx.read_body(1024 * 1024).await?;
            let rule: FaultRule = serde_json::from_slice(&body)
                .map_err(|e| GraphError::bad_request(format!("invalid fault rule: {e}")))?;
            let v = serde_json::to_value(&rule).unwrap_or_default();
            lock(&shared.faults).push(Armed::new(rule));
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
            let body = ctx.read_body(1024 * 1024).await?;
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
        (Method::PUT, p) if p.starts_with("/_emulator/static/") => {
            let raw = &p["/_emulator/static/".len()..];
            let name = util::percent_decode(raw, false)
                .filter(|n| !n.is_empty() && !n.contains('/'))
                .ok_or_else(|| GraphError::bad_request("invalid static file name"))?;
            let body = ctx.read_body(1 << 30).await?;
            let url = crate::serve_static_on(&shared, &name, Bytes::from(body));
            Ok(json_response(200, &json!({ "url": url })))
        }
        _ => Err(GraphError::new(404, "itemNotFound", "No such admin path.").into()),
    }
}
