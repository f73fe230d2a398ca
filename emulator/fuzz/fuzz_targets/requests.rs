//! The emulator's request handling never panics: a few requests (method, path with its
//! percent-decoding, headers such as Content-Range, body) run in order against a fresh
//! in-memory emulator through `onedrive_emulator::fuzz_requests`.
#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Method {
    Get,
    Put,
    Post,
    Delete,
    Other(String),
}

/// Path prefixes that reach each router; the fuzzer appends to them.
const PREFIXES: &[&str] = &[
    "/v1.0/me/drive/",
    "/v1.0/me/drive/root:/",
    "/v1.0/me/drive/items/",
    "/v1.0/drives/",
    "/v1.0/users/",
    "/_emulator/",
    "/upload/{session}",
    "/monitor/",
    "/item/",
    "/static/",
    "/download/",
    "",
];

const SUFFIXES: &[&str] = &[
    "",
    ":/content",
    ":/createUploadSession",
    "/children",
    "/copy",
    ":",
    "/content",
];

const HEADERS: &[&str] = &[
    "content-range",
    "authorization",
    "if-match",
    "prefer",
    "content-type",
    "client-request-id",
];

#[derive(Arbitrary, Debug)]
enum Body {
    Bytes(Vec<u8>),
    Json(String),
    Session { name: Option<String>, size: Option<u64>, conflict: Option<String> },
    Folder { name: String },
    Copy { name: Option<String>, path: Option<String>, id: Option<String> },
    Fault { path: Option<String>, status: u16, next: u32 },
}

#[derive(Arbitrary, Debug)]
struct Req {
    monitor: bool,
    method: Method,
    prefix: u8,
    path: String,
    suffix: u8,
    query: Option<String>,
    /// Bearer {token} on the API origin, {admin} on the admin path
    auth: bool,
    headers: Vec<(u8, String)>,
    body: Body,
}

fn body(b: Body) -> Vec<u8> {
    let text = match b {
        Body::Bytes(v) => return v,
        Body::Json(s) => return s.into_bytes(),
        Body::Session { name, size, conflict } => format!(
            r#"{{"item":{{"name":{},"fileSize":{},"@microsoft.graph.conflictBehavior":{}}}}}"#,
            json(name),
            size.map_or("null".into(), |s| s.to_string()),
            json(conflict)
        ),
        Body::Folder { name } => format!(r#"{{"name":{},"folder":{{}}}}"#, json(Some(name))),
        Body::Copy { name, path, id } => format!(
            r#"{{"name":{},"parentReference":{{"path":{},"id":{}}}}}"#,
            json(name),
            json(path),
            json(id)
        ),
        Body::Fault { path, status, next } => format!(
            r#"{{"path_contains":{},"times":{{"next":{next}}},"action":{{"status":{{"status":{status}}}}}}}"#,
            json(path)
        ),
    };
    text.into_bytes()
}

fn json(s: Option<String>) -> String {
    match s {
        Some(s) => format!("{s:?}"), // a Rust debug string is close enough to a JSON string
        None => "null".into(),
    }
}

fuzz_target!(|reqs: Vec<Req>| {
    let requests: Vec<_> = reqs
        .into_iter()
        .take(8)
        .map(|r| {
            let method = match r.method {
                Method::Get => "GET".to_string(),
                Method::Put => "PUT".to_string(),
                Method::Post => "POST".to_string(),
                Method::Delete => "DELETE".to_string(),
                Method::Other(m) => m,
            };
            let prefix = PREFIXES[r.prefix as usize % PREFIXES.len()];
            let suffix = SUFFIXES[r.suffix as usize % SUFFIXES.len()];
            let mut target = format!("{prefix}{}{suffix}", r.path);
            if let Some(q) = r.query {
                target.push('?');
                target.push_str(&q);
            }
            let mut headers: Vec<(String, String)> = r
                .headers
                .into_iter()
                .take(8)
                .map(|(k, v)| (HEADERS[k as usize % HEADERS.len()].to_string(), v))
                .collect();
            if r.auth {
                let token = if prefix.starts_with("/_emulator") { "{admin}" } else { "{token}" };
                headers.push(("authorization".into(), format!("Bearer {token}")));
            }
            (r.monitor, method, target, headers, body(r.body))
        })
        .collect();
    onedrive_emulator::fuzz_requests(&requests);
});
