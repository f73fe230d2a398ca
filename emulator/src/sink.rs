//! Sink mode (`Config::sink`, `--sink`), for benchmarks: every request body is read and
//! discarded, nothing is hashed or stored, and uploads get just enough of an answer for a
//! client to go on: a minimal driveItem (`id`, `name`, `size`, `file: {}` without hashes).

use crate::rand;
use crate::state::{Ctx, HResult, Origin};
use crate::util::{self, GraphError, json_response};
use hyper::Method;
use serde_json::json;
use std::time::{Duration, SystemTime};

pub(crate) async fn handle(ctx: &mut Ctx, origin: Origin) -> HResult {
    match origin {
        Origin::Api => api(ctx).await,
        Origin::Monitor => monitor(ctx).await,
    }
}

fn item(name: &str, size: u64) -> serde_json::Value {
    json!({ "id": format!("SINK!{}", rand::random_hex(8)), "name": name, "size": size, "file": {} })
}

/// The item's name in a path ending in `/{action}`: the last segment before it, decoded
/// (`…/root:/a/f.bin:/content`, the SDKs' `…/items/root%3A%2Fa%2Ff.bin%3A/content`, or an
/// id).
fn name_before(path: &str, action: &str) -> Option<String> {
    let path = util::percent_decode(path, false)?;
    let cut = path.len().checked_sub(action.len() + 1)?;
    let (rest, tail) = path.split_at_checked(cut)?;
    if !tail[1..].eq_ignore_ascii_case(action) || !tail.starts_with('/') {
        return None;
    }
    Some(rest.trim_end_matches(':').rsplit('/').next()?.to_string())
}

async fn api(ctx: &mut Ctx) -> HResult {
    crate::api::check_auth(ctx)?;
    if ctx.method == Method::PUT {
        if let Some(name) = name_before(&ctx.path, "content") {
            let size = ctx.discard_body().await?;
            return Ok(json_response(201, &item(&name, size)));
        }
    }
    if ctx.method == Method::POST {
        if let Some(name) = name_before(&ctx.path, "createUploadSession") {
            ctx.discard_body().await?;
            let expires = util::rfc3339(SystemTime::now() + Duration::from_secs(3600));
            let token = format!("sink-{}", util::encode_segment(&name));
            return Ok(json_response(
                200,
                &json!({
                    "uploadUrl": format!("{}/upload/{token}", ctx.shared.monitor_origin),
                    "expirationDateTime": expires,
                    "nextExpectedRanges": ["0-"],
                }),
            ));
        }
    }
    Err(GraphError::new(
        404,
        "itemNotFound",
        "Sink mode answers only uploads (PUT …:/content, POST …:/createUploadSession).",
    )
    .into())
}

async fn monitor(ctx: &mut Ctx) -> HResult {
    crate::monitor::refuse_authorization(ctx)?;
    let token = ctx.path.strip_prefix("/upload/sink-").map(str::to_string);
    let (Some(token), Method::PUT) = (token, ctx.method.clone()) else {
        return Err(GraphError::not_found().into());
    };
    let range = ctx
        .header("content-range")
        .ok_or_else(|| {
            GraphError::bad_request("A Content-Range header (bytes a-b/total) is required.")
        })
        .and_then(crate::monitor::check_range)?;
    ctx.discard_body().await?;
    if range.b + 1 == range.total {
        let name = util::percent_decode(&token, false).unwrap_or_default();
        return Ok(json_response(201, &item(&name, range.total)));
    }
    let expires = util::rfc3339(SystemTime::now() + Duration::from_secs(3600));
    Ok(json_response(
        202,
        &json!({
            "expirationDateTime": expires,
            "nextExpectedRanges": [format!("{}-", range.b + 1)],
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::name_before;

    #[test]
    fn names_in_every_addressing_form() {
        let n = |p| name_before(p, "createUploadSession");
        assert_eq!(
            n("/v1.0/me/drive/root:/a/f.bin:/createUploadSession").as_deref(),
            Some("f.bin")
        );
        assert_eq!(
            n("/v1.0/drives/X/items/root%3A%2Fbench%2Flarge.bin%3A/createuploadsession").as_deref(),
            Some("large.bin")
        );
        assert_eq!(
            n("/v1.0/me/drive/items/ID/createUploadSession").as_deref(),
            Some("ID")
        );
        assert_eq!(
            name_before("/v1.0/me/drive/root:/x%20y.txt:/content", "content").as_deref(),
            Some("x y.txt")
        );
        assert_eq!(n("/v1.0/me/drive/root:/f.bin:/content"), None);
        assert_eq!(n("Session"), None);
        assert_eq!(n("/v1.0/me/drive/root:/f.bin:xcreateUploadSession"), None);
    }
}
