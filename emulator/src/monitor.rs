//! The monitor origin: job monitors, upload sessions, static files and downloads.
//! Pre-authorized URLs: any Authorization header is refused with 401.

use crate::Profile;
use crate::api::SessionTarget;
use crate::jobs::{JobState, JobView, Lookup};
use crate::server::{Ctx, Fail, HResult, lock};
use crate::util::{self, GraphError, json_response};
use crate::{Completion, JobFailMode};
use bytes::Bytes;
use hyper::Method;
use serde_json::json;
use std::time::SystemTime;

const FRAGMENT_UNIT: u64 = 320 * 1024;
const MAX_FRAGMENT: u64 = 60 * 1024 * 1024;

pub(crate) async fn handle(ctx: &mut Ctx) -> HResult {
    if ctx.header("authorization").is_some() {
        return Err(GraphError::new(
            401,
            "unauthenticated",
            "This URL is pre-authenticated: requests to it must not carry an Authorization header.",
        )
        .into());
    }
    let path = ctx.path.clone();
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segs.as_slice() {
        ["monitor", token] | ["_api", "v2.0", "monitor", token] => {
            if ctx.method != Method::GET {
                return Err(not_allowed());
            }
            monitor(ctx, token)
        }
        ["upload", token] => {
            let token = token.to_string();
            match ctx.method {
                Method::PUT => upload_fragment(ctx, &token).await,
                Method::GET => session_status(ctx, &token),
                Method::DELETE => {
                    if ctx.shared.sessions().remove(&token).is_none() {
                        return Err(session_gone().into());
                    }
                    Ok(util::empty_response(204))
                }
                _ => Err(not_allowed()),
            }
        }
        // A pre-authorized item URL, as a 303 from a monitor may name. Its capability is
        // the monitor token (and tempauth) of the job that made the item, in the query:
        // item ids alone (sequential on Personal) grant nothing.
        ["item", drive, id] => {
            if ctx.method != Method::GET {
                return Err(not_allowed());
            }
            let drive = util::percent_decode(drive, false).unwrap_or_default();
            let id = util::percent_decode(id, false).unwrap_or_default();
            let granted = ctx.query_param("monitor").is_some_and(|token| {
                matches!(
                    ctx.shared.jobs.lookup(&token, ctx.query_param("tempauth").as_deref()),
                    Lookup::Found(JobView {
                        state: JobState::Completed { drive_id, item_id },
                        ..
                    }) if drive_id.eq_ignore_ascii_case(&drive) && item_id == id
                )
            });
            if !granted {
                return Err(GraphError::new(
                    401,
                    "unauthenticated",
                    "This pre-authenticated URL is missing its token, or the token does not grant this item.",
                )
                .into());
            }
            let v = ctx.shared.store().item_json(&id, &ctx.shared.api_origin);
            v.map(|v| json_response(200, &v))
                .ok_or_else(|| GraphError::not_found().into())
        }
        ["static", name] => {
            if ctx.method != Method::GET {
                return Err(not_allowed());
            }
            let name = util::percent_decode(name, false).unwrap_or_default();
            let body = lock(&ctx.shared.statics).get(&name).cloned();
            match body {
                Some(b) => Ok(util::bytes_response(200, util::mime_for(&name), b)),
                None => Err(GraphError::not_found().into()),
            }
        }
        ["download", token] => {
            if ctx.method != Method::GET {
                return Err(not_allowed());
            }
            let id = lock(&ctx.shared.downloads)
                .get(*token)
                .map(|(id, _)| id.clone());
            let store = ctx.shared.store();
            let item = id.and_then(|id| store.get(&id).cloned());
            match (
                item.as_ref(),
                item.as_ref().and_then(|it| store.content(&it.id)),
            ) {
                (Some(it), Some(c)) => Ok(util::bytes_response(200, util::mime_for(&it.name), c)),
                _ => Err(GraphError::not_found().into()),
            }
        }
        _ => Err(GraphError::not_found().into()),
    }
}

fn not_allowed() -> Fail {
    GraphError::new(
        405,
        "invalidRequest",
        "The HTTP method is not allowed on this URL.",
    )
    .into()
}

fn session_gone() -> GraphError {
    GraphError::new(
        404,
        "itemNotFound",
        "The upload session was not found: it expired, completed or was cancelled.",
    )
}

fn monitor(ctx: &Ctx, token: &str) -> HResult {
    let tempauth = ctx.query_param("tempauth");
    let business = ctx.shared.profile == Profile::Business;
    let view = match ctx.shared.jobs.lookup(token, tempauth.as_deref()) {
        Lookup::Found(v) => v,
        Lookup::BadTempauth => {
            return Err(GraphError::new(
                401,
                "unauthenticated",
                "The tempauth token of this monitor URL is missing or invalid.",
            )
            .into());
        }
        Lookup::NotFound if business => {
            return Err(GraphError::new(
                500,
                "operationNotFound",
                "The requested operation could not be found. It may have expired.",
            )
            .into());
        }
        Lookup::NotFound => {
            return Err(GraphError::new(
                404,
                "itemNotFound",
                "The requested operation could not be found.",
            )
            .into());
        }
    };
    match view.state {
        JobState::Running => Ok(json_response(
            202,
            &json!({
                "operation": view.operation,
                "percentageComplete": view.percent,
                "status": "inProgress",
            }),
        )),
        JobState::Completed { drive_id, item_id } => {
            let api_item = format!(
                "{}/drives/{}/items/{}",
                ctx.shared.base_url(),
                drive_id,
                util::encode_segment(&item_id)
            );
            match ctx.shared.jobs.config().completion {
                Completion::Profile => {}
                Completion::SeeOtherBare => {
                    return Ok(util::with_header(
                        util::empty_response(303),
                        "location",
                        &api_item,
                    ));
                }
                Completion::SeeOtherPreauthorized => {
                    let mut url = format!(
                        "{}/item/{}/{}?monitor={}",
                        ctx.shared.monitor_origin,
                        util::encode_segment(&drive_id),
                        util::encode_segment(&item_id),
                        util::encode_segment(token)
                    );
                    if let Some(t) = &tempauth {
                        url.push_str(&format!("&tempauth={}", util::encode_segment(t)));
                    }
                    return Ok(util::with_header(
                        util::empty_response(303),
                        "location",
                        &url,
                    ));
                }
                Completion::ResourceLocation => {
                    return Ok(json_response(
                        200,
                        &json!({
                            "operation": view.operation,
                            "percentageComplete": 100,
                            "resourceLocation": api_item,
                            "status": "completed",
                        }),
                    ));
                }
            }
            let body = json!({
                "operation": view.operation,
                "percentageComplete": 100.0,
                "resourceId": item_id,
                "status": "completed",
            });
            if business {
                Ok(json_response(202, &body))
            } else {
                let location = format!(
                    "{}/drives/{}/items/{}",
                    ctx.shared.base_url(),
                    drive_id,
                    util::encode_segment(&item_id)
                );
                Ok(util::with_header(
                    json_response(303, &body),
                    "location",
                    &location,
                ))
            }
        }
        JobState::Failed {
            mode,
            code,
            message,
            percent,
        } => match mode {
            JobFailMode::Status => Ok(json_response(
                200,
                &json!({
                    "operation": view.operation,
                    "percentageComplete": percent,
                    "status": "failed",
                    "statusDescription": message,
                    "error": { "code": code, "message": message },
                }),
            )),
            JobFailMode::Http500 => Err(GraphError::new(500, &code, message).into()),
        },
    }
}

fn status_json(expires: SystemTime, received: u64) -> serde_json::Value {
    json!({
        "expirationDateTime": util::rfc3339(expires),
        "nextExpectedRanges": [format!("{received}-")],
    })
}

fn session_status(ctx: &Ctx, token: &str) -> HResult {
    let sessions = ctx.shared.sessions();
    let s = sessions.get(token).ok_or_else(session_gone)?;
    Ok(json_response(
        200,
        &status_json(s.expires, s.data.len() as u64),
    ))
}

fn parse_content_range(v: &str) -> Option<(u64, u64, u64)> {
    let v = v.trim();
    let rest = v.strip_prefix("bytes")?.trim_start();
    let rest = rest.strip_prefix('=').unwrap_or(rest).trim();
    let (range, total) = rest.split_once('/')?;
    let (a, b) = range.split_once('-')?;
    let (a, b, total) = (
        a.trim().parse().ok()?,
        b.trim().parse().ok()?,
        total.trim().parse().ok()?,
    );
    (a <= b).then_some((a, b, total))
}

async fn upload_fragment(ctx: &mut Ctx, token: &str) -> HResult {
    if !ctx.shared.sessions().contains_key(token) {
        return Err(session_gone().into());
    }
    let range = ctx
        .header("content-range")
        .map(str::to_string)
        .ok_or_else(|| {
            GraphError::bad_request("A Content-Range header (bytes a-b/total) is required.")
        })?;
    let (a, b, total) = parse_content_range(&range).ok_or_else(|| {
        GraphError::new(
            400,
            "invalidRange",
            format!("The Content-Range header '{range}' is not of the form 'bytes a-b/total'."),
        )
    })?;
    // Checked: `bytes 0-18446744073709551615/...` must not overflow.
    let Some(len) = b.checked_sub(a).and_then(|d| d.checked_add(1)) else {
        return Err(GraphError::new(
            416,
            "invalidRange",
            format!("The range {a}-{b} is not satisfiable."),
        )
        .into());
    };
    if b >= total || total > crate::api::MAX_FILE_SIZE {
        return Err(GraphError::new(
            400,
            "invalidRange",
            format!(
                "The range {a}-{b} lies beyond the end of the file ({total} bytes), or the file is larger than the service allows."
            ),
        )
        .into());
    }
    if len > MAX_FRAGMENT {
        return Err(GraphError::new(
            413,
            "BadRequest",
            format!("A fragment must be smaller than {MAX_FRAGMENT} bytes (60 MiB)."),
        )
        .into());
    }
    let buffered = |sessions: &std::collections::HashMap<String, crate::server::UploadSession>| {
        sessions.values().map(|s| s.data.len() as u64).sum::<u64>()
    };
    if buffered(&ctx.shared.sessions()).saturating_add(len) > ctx.shared.session_bytes_limit {
        return Err(ctx.shared.session_quota_error().into());
    }
    let body = ctx.read_body(MAX_FRAGMENT).await?;
    if body.len() as u64 != len {
        return Err(GraphError::bad_request(format!(
            "The body has {} bytes but Content-Range announces {len}.",
            body.len()
        ))
        .into());
    }
    let lifetime = *lock(&ctx.shared.session_lifetime);
    let done = {
        let mut sessions = ctx.shared.sessions();
        let s = sessions.get_mut(token).ok_or_else(session_gone)?;
        let received = s.data.len() as u64;
        let expected_total = s.file_size.unwrap_or(total);
        if total != expected_total {
            return Err(GraphError::bad_request(format!(
                "The total size in Content-Range ({total}) differs from the declared file size ({expected_total})."
            ))
            .into());
        }
        if a < received {
            return Err(GraphError::new(
                416,
                "invalidRange",
                format!(
                    "The fragment {a}-{b} overlaps bytes already received; the next expected range is {received}-."
                ),
            )
            .into());
        }
        if a > received {
            return Err(GraphError::new(
                400,
                "invalidRange",
                format!(
                    "The fragment {a}-{b} leaves a gap; the next expected range is {received}-."
                ),
            )
            .into());
        }
        let last = b + 1 == total;
        if !last && len % FRAGMENT_UNIT != 0 {
            return Err(GraphError::bad_request(format!(
                "Fragment length {len} is not a multiple of 320 KiB (327680 bytes); only the last fragment may be shorter."
            ))
            .into());
        }
        if buffered(&sessions).saturating_add(len) > ctx.shared.session_bytes_limit {
            return Err(ctx.shared.session_quota_error().into());
        }
        let s = sessions.get_mut(token).ok_or_else(session_gone)?;
        s.file_size = Some(total);
        if s.data.capacity() == 0 && total <= ctx.shared.session_bytes_limit {
            // one allocation of the final size: no doubling, no copies
            s.data.reserve_exact(usize::try_from(total).unwrap_or(0));
        }
        s.data.extend_from_slice(&body);
        s.expires = SystemTime::now() + lifetime;
        if last {
            sessions.remove(token)
        } else {
            return Ok(json_response(202, &status_json(s.expires, b + 1)));
        }
    };
    let Some(session) = done else {
        return Err(session_gone().into());
    };
    let content = Bytes::from(session.data);
    let mut store = ctx.shared.store();
    let (id, status) = match &session.target {
        SessionTarget::Existing(id) => {
            store.replace_content(id, content)?;
            (id.clone(), 200)
        }
        SessionTarget::New {
            base,
            parent_segs,
            name,
            conflict,
        } => {
            let parent = store.ensure_folders(base, parent_segs)?;
            store.put_file(&parent, name, content, *conflict)?
        }
    };
    let v = store
        .item_json(&id, &ctx.shared.api_origin)
        .ok_or_else(GraphError::not_found)?;
    Ok(json_response(status, &v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range() {
        assert_eq!(parse_content_range("bytes 0-9/100"), Some((0, 9, 100)));
        assert_eq!(parse_content_range("bytes=10-19/20"), Some((10, 19, 20)));
        assert_eq!(parse_content_range("bytes 9-0/100"), None);
        assert_eq!(parse_content_range("bytes */100"), None);
        assert_eq!(
            parse_content_range("bytes 0-18446744073709551615/18446744073709551615"),
            Some((0, u64::MAX, u64::MAX))
        );
        assert_eq!(parse_content_range("bytes 0-18446744073709551616/1"), None);
    }
}
