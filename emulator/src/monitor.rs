//! The monitor origin: job monitors, upload sessions, static files and downloads.
//! Pre-authorized URLs: any Authorization header is refused with 401.

use crate::config::Profile;

use crate::config::{Completion, JobFailMode};
use crate::content::{FileContent, Reservation, Spool};
use crate::jobs::{JobState, JobView, Lookup};
use crate::state::{Ctx, Fail, HResult, SessionTarget, Shared, UploadSession, lock};
use crate::util::{self, GraphError, json_response};
use hyper::Method;
use serde_json::json;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

const FRAGMENT_UNIT: u64 = 320 * 1024;
const MAX_FRAGMENT: u64 = 60 * 1024 * 1024;

/// Pre-authorized URLs refuse a request that carries an Authorization header.
pub(crate) fn refuse_authorization(ctx: &Ctx) -> Result<(), GraphError> {
    match ctx.header("authorization") {
        Some(_) => Err(GraphError::new(
            401,
            "unauthenticated",
            "This URL is pre-authenticated: requests to it must not carry an Authorization header.",
        )),
        None => Ok(()),
    }
}

fn invalid_range(status: u16, message: String) -> GraphError {
    GraphError::new(status, "invalidRange", message)
}

pub(crate) async fn handle(ctx: &mut Ctx) -> HResult {
    refuse_authorization(ctx)?;
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
                    // its spool file goes with the last reference (now, or when a
                    // fragment in progress ends)
                    if ctx.shared.remove_session(&token).is_none() {
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
        ["v1.0", "drives", drive, "items", id] => {
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
        ["download", token] => crate::download::serve(ctx, token),
        ["download"] => crate::download::serve(ctx, ""),
        _ => Err(GraphError::not_found().into()),
    }
}

fn not_allowed() -> Fail {
    GraphError::method_not_allowed().into()
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
                        "{}/v1.0/drives/{}/items/{}?monitor={}",
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
    let s = ctx.shared.session(token).ok_or_else(session_gone)?;
    let expires = *lock(&s.expires);
    Ok(json_response(
        200,
        &status_json(expires, s.received.load(Ordering::SeqCst)),
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
    let session = ctx.shared.session(token).ok_or_else(session_gone)?;
    let range = ctx
        .header("content-range")
        .map(str::to_string)
        .ok_or_else(|| {
            GraphError::bad_request("A Content-Range header (bytes a-b/total) is required.")
        })?;
    let range = check_range(&range)?;
    // Held against the limit from here on; given back unless the spool keeps the bytes.
    let reserved = ctx
        .shared
        .session_bytes
        .reserve(range.len)
        .ok_or_else(|| ctx.shared.session_quota_error())?;
    // The body comes off the network before any lock.
    let body = ctx.read_body(MAX_FRAGMENT).await?;
    if body.len() as u64 != range.len {
        return Err(GraphError::bad_request(format!(
            "The body has {} bytes but Content-Range announces {}.",
            body.len(),
            range.len
        ))
        .into());
    }
    let lifetime = *lock(&ctx.shared.session_lifetime);
    // Checks, spool write and hashing under this session's lock only, off the async
    // workers; the store is not touched.
    let step = {
        let shared = ctx.shared.clone();
        let token = token.to_string();
        tokio::task::spawn_blocking(move || {
            append(&shared, &session, &token, range, &body, reserved, lifetime)
        })
        .await
        .map_err(|e| GraphError::new(500, "generalException", e.to_string()))??
    };
    let (target, file) = match step {
        Step::More { expires, next } => {
            return Ok(json_response(202, &status_json(expires, next)));
        }
        Step::Done { target, file } => (target, file),
    };
    let file = {
        let shared = ctx.shared.clone();
        let mut file = file;
        tokio::task::spawn_blocking(move || shared.stage(&mut file).map(|()| file))
            .await
            .map_err(|e| GraphError::new(500, "generalException", e.to_string()))??
    };
    // The store lock: the metadata change only.
    let mut store = ctx.shared.store();
    let (id, status) = match &target {
        SessionTarget::Existing(id) => {
            store.replace_content(id, file)?;
            (id.clone(), 200)
        }
        SessionTarget::New {
            base,
            parent_segs,
            name,
            conflict,
        } => {
            let parent = store.ensure_folders(base, parent_segs)?;
            store.put_file(&parent, name, file, *conflict)?
        }
    };
    let v = store
        .item_json(&id, &ctx.shared.api_origin)
        .ok_or_else(GraphError::not_found)?;
    Ok(json_response(status, &v))
}

/// A fragment's Content-Range, checked on its own.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Range {
    pub a: u64,
    pub b: u64,
    pub total: u64,
    pub len: u64,
}

pub(crate) fn check_range(range: &str) -> Result<Range, GraphError> {
    let (a, b, total) = parse_content_range(range).ok_or_else(|| {
        invalid_range(
            400,
            format!("The Content-Range header '{range}' is not of the form 'bytes a-b/total'."),
        )
    })?;
    // Checked: `bytes 0-18446744073709551615/...` must not overflow.
    let Some(len) = b.checked_sub(a).and_then(|d| d.checked_add(1)) else {
        return Err(invalid_range(
            416,
            format!("The range {a}-{b} is not satisfiable."),
        ));
    };
    if b >= total || total > crate::state::MAX_FILE_SIZE {
        return Err(invalid_range(
            400,
            format!(
                "The range {a}-{b} lies beyond the end of the file ({total} bytes), or the file is larger than the service allows."
            ),
        ));
    }
    if len > MAX_FRAGMENT {
        return Err(GraphError::new(
            413,
            "BadRequest",
            format!("A fragment must be smaller than {MAX_FRAGMENT} bytes (60 MiB)."),
        ));
    }
    Ok(Range { a, b, total, len })
}

/// What a fragment did to its session.
enum Step {
    /// more to come: the session's new expiry and the next byte expected
    More { expires: SystemTime, next: u64 },
    /// the last fragment: the whole file, hashed, for the store
    Done {
        target: SessionTarget,
        file: FileContent,
    },
}

/// Append a fragment to its session: the range checks against what was received, the
/// spool write and the hash update, all under the session's own lock (blocking: run it
/// off the async workers). Takes no store lock.
fn append(
    shared: &Shared,
    session: &UploadSession,
    token: &str,
    r: Range,
    body: &[u8],
    reserved: Reservation,
    lifetime: Duration,
) -> Result<Step, GraphError> {
    let mut st = lock(&session.state);
    if session.closed.load(Ordering::SeqCst) {
        return Err(session_gone());
    }
    let received = session.received.load(Ordering::SeqCst);
    let expected_total = st.file_size.unwrap_or(r.total);
    if r.total != expected_total {
        return Err(GraphError::bad_request(format!(
            "The total size in Content-Range ({}) differs from the declared file size ({expected_total}).",
            r.total
        )));
    }
    let (a, b) = (r.a, r.b);
    if a < received {
        return Err(invalid_range(
            416,
            format!(
                "The fragment {a}-{b} overlaps bytes already received; the next expected range is {received}-."
            ),
        ));
    }
    if a > received {
        return Err(invalid_range(
            400,
            format!("The fragment {a}-{b} leaves a gap; the next expected range is {received}-."),
        ));
    }
    let last = b + 1 == r.total;
    if !last && r.len % FRAGMENT_UNIT != 0 {
        return Err(GraphError::bad_request(format!(
            "Fragment length {} is not a multiple of 320 KiB (327680 bytes); only the last fragment may be shorter.",
            r.len
        )));
    }
    if st.spool.is_none() {
        st.spool = Some(Spool::create(&shared.spool.path).map_err(crate::store::storage_error)?);
    }
    let spool = st.spool.as_mut().expect("made above");
    if let Err(e) = spool.append(body) {
        // a partial write: the spool no longer matches what was received
        session.closed.store(true, Ordering::SeqCst);
        st.spool = None;
        return Err(crate::store::storage_error(e));
    }
    st.hasher.update(body);
    st.held.absorb(reserved);
    st.file_size = Some(r.total);
    session.received.store(b + 1, Ordering::SeqCst);
    let expires = SystemTime::now() + lifetime;
    *lock(&session.expires) = expires;
    if !last {
        return Ok(Step::More {
            expires,
            next: b + 1,
        });
    }
    let spool = st.spool.take().expect("made above");
    let content = spool.finish().map_err(crate::store::storage_error)?;
    let hashes = std::mem::take(&mut st.hasher).finish();
    // the file is the store's now, no longer a session's
    st.held = Reservation::empty(&shared.session_bytes);
    session.closed.store(true, Ordering::SeqCst);
    drop(st);
    drop(shared.remove_session(token));
    #[cfg(test)]
    if let Some(hook) = lock(&shared.fragment_hook).clone() {
        hook();
    }
    Ok(Step::Done {
        target: session.target.clone(),
        file: FileContent {
            content,
            hashes,
            staged: None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Config, Emulator, Tls};
    use std::io::{Read as _, Write as _};
    use std::sync::{Arc, Mutex};

    /// One request over a fresh plain-HTTP connection: (status, body).
    fn http(
        origin: &str,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (u16, Vec<u8>) {
        let host = origin.trim_start_matches("http://");
        let (host, target) = match target.strip_prefix(origin) {
            Some(rel) => (host, rel.to_string()),
            None => (host, target.to_string()),
        };
        let mut s = std::net::TcpStream::connect(host).unwrap();
        // a hang fails the test instead of blocking it forever; no pass depends on it
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let mut head = format!(
            "{method} {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(body).unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).unwrap();
        let split = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let status = String::from_utf8_lossy(&out[9..12]).parse().unwrap();
        (status, out[split + 4..].to_vec())
    }

    fn plain() -> Emulator {
        Emulator::start(Config {
            tls: Tls::Plain,
            ..Config::default()
        })
        .unwrap()
    }

    fn api(emu: &Emulator, method: &str, rel: &str, body: &[u8]) -> (u16, serde_json::Value) {
        let auth = format!("Bearer {}", emu.token());
        let (status, body) = http(
            &emu.api_origin(),
            method,
            &format!("/v1.0{rel}"),
            &[("Authorization", &auth)],
            body,
        );
        (status, serde_json::from_slice(&body).unwrap_or_default())
    }

    fn session_url(emu: &Emulator, name: &str) -> String {
        let (status, v) = api(
            emu,
            "POST",
            &format!("/me/drive/root:/{name}:/createUploadSession"),
            b"{}",
        );
        assert_eq!(status, 200);
        v["uploadUrl"].as_str().unwrap().to_string()
    }

    /// Send `data` in fragments of `chunk` bytes; the last answer.
    fn send(emu: &Emulator, url: &str, data: &[u8], chunk: usize) -> (u16, serde_json::Value) {
        let total = data.len();
        let mut a = 0;
        loop {
            let b = (a + chunk).min(total) - 1;
            let range = format!("bytes {a}-{b}/{total}");
            let (status, body) = http(
                &emu.monitor_origin(),
                "PUT",
                url,
                &[("Content-Range", &range)],
                &data[a..=b],
            );
            if b + 1 == total {
                return (status, serde_json::from_slice(&body).unwrap());
            }
            assert_eq!(status, 202);
            a = b + 1;
        }
    }

    #[test]
    fn session_hashes_are_those_of_the_whole_file() {
        let emu = plain();
        let unit = FRAGMENT_UNIT as usize;
        let data: Vec<u8> = (0..5 * unit + 4321)
            .map(|i| (i * 31 + i / 977) as u8)
            .collect();
        let want = crate::hash::compute(&data);
        for (i, chunk) in [unit, 2 * unit, 3 * unit, 6 * unit].into_iter().enumerate() {
            let url = session_url(&emu, &format!("h{i}.bin"));
            let (status, item) = send(&emu, &url, &data, chunk);
            assert_eq!(status, 201, "{item}");
            let h = &item["file"]["hashes"];
            assert_eq!(h["quickXorHash"], want.quick_xor.as_str(), "chunk {chunk}");
            assert_eq!(h["sha1Hash"], want.sha1.as_str(), "chunk {chunk}");
            assert_eq!(h["sha256Hash"], want.sha256.as_str(), "chunk {chunk}");
            assert_eq!(item["size"], data.len() as u64);
        }
    }

    /// While a session's last fragment holds its hashes (after hashing, before the
    /// store), other requests (a GET of an item, a small PUT) go through: the hook runs
    /// on the fragment's own thread and only returns once they have been answered, so
    /// they would never be answered if the fragment held the store lock.
    #[test]
    fn other_requests_proceed_during_a_last_fragment() {
        let emu = Arc::new(plain());
        let (status, _) = api(&emu, "PUT", "/me/drive/root:/other.txt:/content", b"x");
        assert_eq!(status, 201);
        let seen: Arc<Mutex<Vec<u16>>> = Arc::default();
        {
            let (emu2, seen2) = (emu.clone(), seen.clone());
            let hook = move || {
                let (get, _) = api(&emu2, "GET", "/me/drive/root:/other.txt", b"");
                let (put, _) = api(&emu2, "PUT", "/me/drive/root:/during.txt:/content", b"yz");
                seen2.lock().unwrap().extend([get, put]);
            };
            *lock(&emu.shared.fragment_hook) = Some(Arc::new(hook));
        }
        let data = vec![5u8; 2 * FRAGMENT_UNIT as usize + 10];
        let url = session_url(&emu, "big.bin");
        let (status, item) = send(&emu, &url, &data, FRAGMENT_UNIT as usize);
        assert_eq!(status, 201, "{item}");
        assert_eq!(*seen.lock().unwrap(), vec![200, 201]);
        *lock(&emu.shared.fragment_hook) = None;
    }

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
