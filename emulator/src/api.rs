//! The API origin: Graph drive routes under `/v1.0`.

use crate::addr::{
    Action, Addr, base_id, check_if_match, conflict_from, item_response, parse_item, read_json,
    resolve_drive, resolve_existing, split_path, unsupported,
};
use crate::config::Profile;
use crate::rand;
use crate::state::{Ctx, Fail, HResult, MAX_FILE_SIZE, SessionTarget, UploadSession, lock};
use crate::store::{Conflict, Store, validate_name};
use crate::util::{self, GraphError, json_response};
use bytes::Bytes;
use hyper::Method;
use serde_json::{Value, json};
use std::time::SystemTime;

pub(crate) fn check_auth(ctx: &Ctx) -> Result<(), GraphError> {
    let unauth = |msg: &str| {
        GraphError::new(401, "InvalidAuthenticationToken", msg).header(
            "WWW-Authenticate",
            "Bearer realm=\"\", error=\"invalid_token\"",
        )
    };
    let Some(value) = ctx.header("authorization") else {
        return Err(unauth("Access token is empty."));
    };
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim() != ctx.shared.token {
        return Err(unauth("Access token validation failure. Invalid audience."));
    }
    Ok(())
}

pub(crate) async fn handle(ctx: &mut Ctx) -> HResult {
    check_auth(ctx)?;
    let Some(rest) = ctx.path.strip_prefix("/v1.0/") else {
        return Err(unsupported(&ctx.path).into());
    };
    let mut decoded = Vec::new();
    for seg in rest.split('/') {
        decoded.push(util::percent_decode(seg, false).ok_or_else(|| {
            GraphError::bad_request("The request path contains an invalid percent-encoding.")
        })?);
    }
    let joined = decoded.join("/");
    let joined = joined.trim_end_matches('/');

    let drive_id = {
        let store = ctx.shared.store();
        resolve_drive(&store, joined)?
    };
    let (drive_id, rest) = drive_id;
    let Some((addr, action)) = parse_item(&rest)? else {
        if ctx.method != Method::GET {
            return Err(method_not_allowed().into());
        }
        let store = ctx.shared.store();
        let drive = store.drive(&drive_id).ok_or_else(GraphError::not_found)?;
        return Ok(json_response(200, &store.drive_json(drive)));
    };
    match (ctx.method.clone(), action) {
        (Method::GET, Action::None) => get_item(ctx, &drive_id, &addr),
        (Method::GET, Action::Children) => list_children(ctx, &drive_id, &addr),
        (Method::GET | Method::HEAD, Action::Content) => download(ctx, &drive_id, &addr),
        (Method::PUT, Action::Content) => upload(ctx, &drive_id, &addr).await,
        (Method::POST, Action::Children) => post_children(ctx, &drive_id, &addr).await,
        (Method::POST, Action::Copy) => copy(ctx, &drive_id, &addr).await,
        (Method::POST, Action::CreateUploadSession) => create_session(ctx, &drive_id, &addr).await,
        (Method::DELETE, Action::None) => delete(ctx, &drive_id, &addr),
        (Method::PATCH, Action::None) => crate::moves::patch(ctx, &drive_id, &addr).await,
        _ => Err(method_not_allowed().into()),
    }
}

fn method_not_allowed() -> GraphError {
    GraphError::new(
        405,
        "invalidRequest",
        "The HTTP method is not allowed on this resource.",
    )
}

/// `GET` an item. A file's carries `@microsoft.graph.downloadUrl`, as
/// Graph's does: a pre-authenticated URL of its content (the one `…/content`
/// redirects to), issued anew for each answer.
fn get_item(ctx: &Ctx, drive_id: &str, addr: &Addr) -> HResult {
    let (id, mut item) = {
        let store = ctx.shared.store();
        let id = resolve_existing(&store, drive_id, addr)?;
        let item = store
            .item_json(&id, &ctx.shared.api_origin)
            .ok_or_else(GraphError::not_found)?;
        (id, item)
    };
    if item.get("file").is_some() {
        item["@microsoft.graph.downloadUrl"] = json!(crate::download::issue(ctx, id));
    }
    Ok(json_response(200, &item))
}

/// Children per page unless `$top` says otherwise (as Graph), and the most a page holds.
const PAGE_DEFAULT: usize = 200;
const PAGE_MAX: usize = 1000;

/// `GET …/children[?$top=n][&$skiptoken=t]`: a page of children in name order (case
/// ignored), with `@odata.nextLink` (this URL on the API origin with an opaque
/// `$skiptoken`: the key of the page's last child) until the last page.
fn list_children(ctx: &Ctx, drive_id: &str, addr: &Addr) -> HResult {
    let top = match ctx.query_param("$top") {
        None => PAGE_DEFAULT,
        Some(t) => match t.trim().parse::<usize>() {
            Ok(n) if n > 0 => n.min(PAGE_MAX),
            _ => {
                return Err(GraphError::bad_request(format!(
                    "Invalid $top value '{t}': a positive integer is expected."
                ))
                .into());
            }
        },
    };
    let after = match ctx.query_param("$skiptoken") {
        None => None,
        Some(t) => Some(util::decode_token(&t).ok_or_else(|| {
            GraphError::bad_request("The $skiptoken is not one this service issued.")
        })?),
    };
    let store = ctx.shared.store();
    let id = resolve_existing(&store, drive_id, addr)?;
    let (ids, next) = store.children_page(&id, after.as_deref(), top);
    let value: Vec<Value> = ids
        .iter()
        .filter_map(|c| store.item_json(c, &ctx.shared.api_origin))
        .collect();
    drop(store);
    let mut body = json!({ "value": value });
    if let Some(last) = next {
        body["@odata.nextLink"] = json!(format!(
            "{}{}?$top={top}&$skiptoken={}",
            ctx.shared.api_origin,
            ctx.path,
            util::encode_token(&last)
        ));
    }
    Ok(json_response(200, &body))
}

/// `GET` / `HEAD …/content`: 302 to a pre-authenticated download URL on the monitor origin.
fn download(ctx: &Ctx, drive_id: &str, addr: &Addr) -> HResult {
    let id = {
        let store = ctx.shared.store();
        let id = resolve_existing(&store, drive_id, addr)?;
        if store.content(&id).is_none() {
            return Err(GraphError::bad_request("A folder has no content to download.").into());
        }
        id
    };
    let url = crate::download::issue(ctx, id);
    Ok(util::with_header(
        util::empty_response(302),
        "location",
        &url,
    ))
}

async fn upload(ctx: &mut Ctx, drive_id: &str, addr: &Addr) -> HResult {
    let conflict = conflict_from(ctx, None, Conflict::Replace)?;
    let limit = ctx.shared.simple_upload_limit;
    let body = ctx.read_body(limit).await.map_err(|f| match f {
        Fail::Graph(e) if e.status == 413 => Fail::Graph(GraphError::new(
            413,
            "BadRequest",
            format!(
                "Maximum request length exceeded. Simple upload accepts up to {limit} bytes; use an upload session for larger files."
            ),
        )),
        other => other,
    })?;
    // hashed (and, with a data directory, written) before the store lock
    let body = ctx.shared.file_content(Bytes::from(body))?;
    let mut store = ctx.shared.store();
    match &addr.path {
        Some(segs) if !segs.is_empty() => {
            for s in segs {
                validate_name(s)?;
            }
            let base = base_id(&store, drive_id, &addr.base)?;
            let (name, parent_segs) = segs.split_last().expect("non-empty");
            let parent = store.ensure_folders(&base, parent_segs)?;
            if let Some(existing) = store.child(&parent, name) {
                let eid = existing.id.clone();
                check_if_match(ctx, &store, &eid)?;
            }
            let (id, status) = store.put_file(&parent, name, body, conflict)?;
            item_response(ctx, &store, &id, status)
        }
        _ => {
            let id = resolve_existing(&store, drive_id, addr)?;
            check_if_match(ctx, &store, &id)?;
            store.replace_content(&id, body)?;
            item_response(ctx, &store, &id, 200)
        }
    }
}

fn wants_async(ctx: &Ctx) -> bool {
    ctx.headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            v.split(',')
                .any(|p| p.trim().eq_ignore_ascii_case("respond-async"))
        })
}

fn monitor_url(ctx: &Ctx, token: &str, tempauth: Option<&str>) -> String {
    match tempauth {
        Some(t) => format!(
            "{}/_api/v2.0/monitor/{token}?tempauth={t}",
            ctx.shared.monitor_origin
        ),
        None => format!("{}/monitor/{token}", ctx.shared.monitor_origin),
    }
}

fn accepted(location: &str) -> HResult {
    Ok(util::with_header(
        util::empty_response(202),
        "location",
        location,
    ))
}

async fn post_children(ctx: &mut Ctx, drive_id: &str, addr: &Addr) -> HResult {
    let body = read_json(ctx, true).await?.unwrap_or_default();
    let parent = {
        let store = ctx.shared.store();
        let id = resolve_existing(&store, drive_id, addr)?;
        if !store.get(&id).is_some_and(|it| it.is_folder()) {
            return Err(GraphError::bad_request("The parent item is not a folder.").into());
        }
        id
    };
    let name = body.get("name").and_then(Value::as_str).map(str::to_string);
    if let Some(src) = body.get("@microsoft.graph.sourceUrl") {
        if ctx.shared.profile == Profile::Business {
            return Err(GraphError::new(
                400,
                "notSupported",
                "Upload from URL is not supported on OneDrive for Business and SharePoint.",
            )
            .into());
        }
        if !wants_async(ctx) {
            return Err(GraphError::bad_request(
                "Upload from URL requires the header 'Prefer: respond-async'.",
            )
            .into());
        }
        let url = src
            .as_str()
            .ok_or_else(|| GraphError::bad_request("@microsoft.graph.sourceUrl must be a string."))?
            .to_string();
        match url.parse::<hyper::Uri>() {
            Ok(u) if matches!(u.scheme_str(), Some("http" | "https")) && u.host().is_some() => {}
            _ => {
                return Err(GraphError::bad_request(format!(
                    "@microsoft.graph.sourceUrl is not a valid http(s) URL: '{url}'."
                ))
                .into());
            }
        }
        let name = name.ok_or_else(|| GraphError::bad_request("The item needs a name."))?;
        let conflict = conflict_from(ctx, Some(&body), Conflict::Fail)?;
        ctx.shared.store().plan_name(&parent, &name, conflict)?;
        let (token, tempauth) = ctx.shared.jobs.create("DownloadUrl", false, ctx.hold_job);
        let location = monitor_url(ctx, &token, tempauth.as_deref());
        crate::tasks::spawn_url_upload(ctx.shared.clone(), token, url, parent, name, conflict);
        return accepted(&location);
    }
    if body.get("folder").is_some() {
        let name = name.ok_or_else(|| GraphError::bad_request("The folder needs a name."))?;
        let conflict = conflict_from(ctx, Some(&body), Conflict::Fail)?;
        let mut store = ctx.shared.store();
        let id = store.create_folder(&parent, &name, conflict)?;
        return item_response(ctx, &store, &id, 201);
    }
    Err(GraphError::bad_request(
        "To create an item here, give a 'folder' facet, or '@microsoft.graph.sourceUrl' to upload from a URL.",
    )
    .into())
}

/// The folder a copy's parentReference names (drive id, folder id).
fn copy_target(
    store: &Store,
    source_drive: &str,
    pr: &Value,
) -> Result<(String, String), GraphError> {
    let get = |k: &str| -> Result<Option<String>, GraphError> {
        match pr.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(GraphError::bad_request(format!(
                "parentReference.{k} must be a string."
            ))),
        }
    };
    let (drive_id, id, path) = (get("driveId")?, get("id")?, get("path")?);
    let mut drive_id = drive_id.unwrap_or_default();
    let path_rel = match &path {
        Some(p) => {
            let (prefix, rel) = match p.find("root:") {
                Some(i) => (&p[..i], &p[i + 5..]),
                None => ("", p.as_str()),
            };
            // "/drives/{id}/root:" names the drive when driveId is absent
            if drive_id.is_empty() {
                let parts: Vec<&str> = prefix.split('/').filter(|s| !s.is_empty()).collect();
                if parts.len() >= 2 && parts[0].eq_ignore_ascii_case("drives") {
                    drive_id = parts[1].to_string();
                }
            }
            Some(split_path(rel))
        }
        None => None,
    };
    if drive_id.is_empty() {
        drive_id = source_drive.to_string();
    }
    let drive = store.drive(&drive_id).ok_or_else(|| {
        GraphError::bad_request(format!("Invalid parentReference.driveId '{drive_id}'."))
    })?;
    let by_id = match &id {
        Some(id) => Some(store.item_in_drive(&drive.id, id)?.id.clone()),
        None => None,
    };
    let by_path = match &path_rel {
        // taken literally; failing that, percent-decoded (some clients encode it)
        Some(segs) => Some(store.resolve(&drive.root_id, segs).or_else(|e| {
            let decoded: Option<Vec<String>> = segs
                .iter()
                .map(|s| util::percent_decode(s, false))
                .collect();
            match decoded {
                Some(d) if d != *segs => store.resolve(&drive.root_id, &d),
                _ => Err(e),
            }
        })?),
        None => None,
    };
    let target = match (by_id, by_path) {
        (Some(a), Some(b)) if a != b => {
            return Err(GraphError::bad_request(
                "parentReference.id and parentReference.path name different items.",
            ));
        }
        (Some(a), _) => a,
        (None, Some(b)) => b,
        (None, None) => drive.root_id.clone(),
    };
    if !store.get(&target).is_some_and(|it| it.is_folder()) {
        return Err(GraphError::bad_request(
            "The copy destination is not a folder.",
        ));
    }
    Ok((drive.id.clone(), target))
}

async fn copy(ctx: &mut Ctx, drive_id: &str, addr: &Addr) -> HResult {
    let body = read_json(ctx, false).await?.unwrap_or_else(|| json!({}));
    let conflict = conflict_from(ctx, Some(&body), Conflict::Fail)?;
    let (snap, parent, name) = {
        let store = ctx.shared.store();
        let source = resolve_existing(&store, drive_id, addr)?;
        let src = store.get(&source).ok_or_else(GraphError::not_found)?;
        if src.parent_id.is_none() {
            return Err(GraphError::bad_request("The root folder cannot be copied.").into());
        }
        let pr = body.get("parentReference");
        let new_name = match body.get("name") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(GraphError::bad_request("name must be a string.").into()),
        };
        if pr.is_none() && new_name.is_none() {
            return Err(GraphError::bad_request(
                "A copy needs a parentReference, a new name, or both.",
            )
            .into());
        }
        let parent = match pr {
            Some(pr) if pr.is_object() => copy_target(&store, drive_id, pr)?.1,
            Some(_) => {
                return Err(GraphError::bad_request("parentReference must be an object.").into());
            }
            None => src.parent_id.clone().expect("not root"),
        };
        let name = new_name.unwrap_or_else(|| src.name.clone());
        store.plan_name(&parent, &name, conflict)?;
        let snap = store.snapshot(&source).ok_or_else(GraphError::not_found)?;
        (snap, parent, name)
    };
    let business = ctx.shared.profile == Profile::Business;
    let (token, tempauth) = ctx.shared.jobs.create("ItemCopy", business, ctx.hold_job);
    let location = monitor_url(ctx, &token, tempauth.as_deref());
    crate::tasks::spawn_copy(ctx.shared.clone(), token, snap, parent, name, conflict);
    accepted(&location)
}

async fn create_session(ctx: &mut Ctx, drive_id: &str, addr: &Addr) -> HResult {
    let body = read_json(ctx, false).await?.unwrap_or_else(|| json!({}));
    let item = body.get("item").cloned().unwrap_or_else(|| json!({}));
    let conflict = conflict_from(ctx, Some(&item), Conflict::Replace)?;
    let file_size = match item.get("fileSize") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_u64().ok_or_else(|| {
            GraphError::bad_request("item.fileSize must be a non-negative integer.")
        })?),
    };
    if file_size.is_some_and(|s| s > MAX_FILE_SIZE) {
        return Err(GraphError::bad_request(format!(
            "Declared file size too large. The largest allowed file size is {MAX_FILE_SIZE} bytes"
        ))
        .inner("maxFileSizeExceeded")
        .into());
    }
    if file_size.is_some_and(|s| s > ctx.shared.session_bytes_limit) {
        return Err(ctx.shared.session_quota_error().into());
    }
    let target = {
        let store = ctx.shared.store();
        match &addr.path {
            Some(segs) if !segs.is_empty() => {
                for s in segs {
                    validate_name(s)?;
                }
                let base = base_id(&store, drive_id, &addr.base)?;
                let (name, parent_segs) = segs.split_last().expect("non-empty");
                if let Ok(parent) = store.resolve(&base, parent_segs) {
                    if let Some(existing) = store.child(&parent, name) {
                        if existing.is_folder() {
                            return Err(GraphError::name_exists(name).into());
                        }
                        let eid = existing.id.clone();
                        check_if_match(ctx, &store, &eid)?;
                        if conflict == Conflict::Fail {
                            return Err(GraphError::name_exists(name).into());
                        }
                    }
                }
                SessionTarget::New {
                    base,
                    parent_segs: parent_segs.to_vec(),
                    name: name.clone(),
                    conflict,
                }
            }
            _ => {
                let id = resolve_existing(&store, drive_id, addr)?;
                if store.get(&id).is_some_and(|it| it.is_folder()) {
                    return Err(GraphError::bad_request(
                        "An upload session needs a file name: use {parent}:/{name}:/createUploadSession.",
                    )
                    .into());
                }
                check_if_match(ctx, &store, &id)?;
                SessionTarget::Existing(id)
            }
        }
    };
    let token = rand::random_token(32);
    let lifetime = *lock(&ctx.shared.session_lifetime);
    let expires = SystemTime::now() + lifetime;
    let session = UploadSession::new(target, file_size, expires, &ctx.shared.session_bytes);
    ctx.shared
        .with_sessions(|m| m.insert(token.clone(), std::sync::Arc::new(session)));
    let url = format!("{}/upload/{token}", ctx.shared.monitor_origin);
    Ok(json_response(
        200,
        &json!({
            "uploadUrl": url,
            "expirationDateTime": util::rfc3339(expires),
            "nextExpectedRanges": ["0-"],
        }),
    ))
}

fn delete(ctx: &Ctx, drive_id: &str, addr: &Addr) -> HResult {
    let mut store = ctx.shared.store();
    let id = resolve_existing(&store, drive_id, addr)?;
    check_if_match(ctx, &store, &id)?;
    store.delete(&id)?;
    Ok(util::empty_response(204))
}
