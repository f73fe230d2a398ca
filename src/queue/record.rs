//! What the queue keeps on disk about a transfer, and its encoding: one
//! JSON object per record.
//!
//! Three records: `{"t":"p", …}` the whole persistent state of one transfer
//! (written again at every change that matters), `{"t":"d","id":N}` its
//! removal, `{"t":"n","next":N}` the next id (first in a snapshot, so that
//! ids are never reused after removals).

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::graph::address::{Conflict, Drive, ItemRef};
use crate::graph::error::{Error, ErrorKind, Result};

/// What a transfer does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Spec {
    Upload {
        path: PathBuf,
        drive: Drive,
        /// Shared by the uploads into one folder (a queue may hold many).
        parent: Arc<ItemRef>,
        name: String,
        conflict: Conflict,
        /// The file's size and modification time when it was enqueued.
        size: u64,
        mtime_ns: u64,
    },
    UrlUpload {
        url: String,
        drive: Drive,
        parent: ItemRef,
        name: String,
    },
    Copy {
        drive: Drive,
        source: ItemRef,
        dest_parent: ItemRef,
        dest_drive_id: Option<String>,
        name: Option<String>,
        conflict: Conflict,
    },
}

/// Where the transfer stands for good (not running, waiting: those are of
/// this process only and start again as queued).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Active,
    Paused,
    Completed,
    Failed,
    Cancelled,
}

/// What was last sent that the service may have acted on: what a restart
/// must look at before sending anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Nothing sent yet (or nothing the service kept).
    Fresh,
    /// A simple upload's PUT may have gone.
    Sending,
    /// An upload session (its saved JSON), created before any chunk.
    Session(String),
    /// A copy's / an upload from URL's POST may have gone.
    Posting,
    /// The job's monitor URL.
    Monitor(String),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Record {
    pub id: u64,
    pub spec: Spec,
    pub status: Status,
    pub phase: Phase,
    /// The item JSON, once completed.
    pub item: Option<String>,
    /// The error, once failed.
    pub error: Option<Box<Error>>,
}

/// Every error kind, to read one back by name.
const KINDS: &[ErrorKind] = &[
    ErrorKind::InvalidArgument,
    ErrorKind::InvalidName,
    ErrorKind::Network,
    ErrorKind::Timeout,
    ErrorKind::Cancelled,
    ErrorKind::AbortedByCallback,
    ErrorKind::Unauthorized,
    ErrorKind::Forbidden,
    ErrorKind::NotFound,
    ErrorKind::Conflict,
    ErrorKind::TooLarge,
    ErrorKind::Throttled,
    ErrorKind::QuotaExceeded,
    ErrorKind::NotSupported,
    ErrorKind::BadRequest,
    ErrorKind::Service,
    ErrorKind::Protocol,
    ErrorKind::JobFailed,
    ErrorKind::JobCancelled,
    ErrorKind::Io,
    ErrorKind::HashMismatch,
    ErrorKind::Tls,
    ErrorKind::Proxy,
    ErrorKind::InvalidState,
    ErrorKind::UnknownOutcome,
];

fn kind_name(k: ErrorKind) -> String {
    format!("{k:?}")
}

fn kind_of(name: &str) -> ErrorKind {
    KINDS
        .iter()
        .copied()
        .find(|k| kind_name(*k) == name)
        .unwrap_or(ErrorKind::Protocol)
}

fn status_name(s: Status) -> &'static str {
    match s {
        Status::Active => "active",
        Status::Paused => "paused",
        Status::Completed => "completed",
        Status::Failed => "failed",
        Status::Cancelled => "cancelled",
    }
}

/// A decoded record.
pub(crate) enum Decoded {
    Put(Box<Record>),
    Delete(u64),
    Next(u64),
}

pub(crate) fn encode_next(next: u64) -> Vec<u8> {
    json!({"t": "n", "next": next}).to_string().into_bytes()
}

pub(crate) fn encode_delete(id: u64) -> Vec<u8> {
    json!({"t": "d", "id": id}).to_string().into_bytes()
}

/// A JSON object written field by field straight into bytes: a record is
/// encoded twice per uploaded file (its phase, its completion), and a map of
/// `Value`s cost an allocation per key and value.
struct Obj(Vec<u8>);

impl Obj {
    fn new() -> Self {
        let mut out = Vec::with_capacity(256);
        out.push(b'{');
        Self(out)
    }

    /// `key` is written as it is: the names below need no escaping.
    fn key(&mut self, key: &str) -> &mut Self {
        if self.0.len() > 1 {
            self.0.push(b',');
        }
        self.0.push(b'"');
        self.0.extend_from_slice(key.as_bytes());
        self.0.extend_from_slice(b"\":");
        self
    }

    fn str(&mut self, key: &str, value: &str) -> &mut Self {
        self.key(key);
        serde_json::to_writer(&mut self.0, value).expect("a string into a Vec");
        self
    }

    fn opt_str(&mut self, key: &str, value: Option<&str>) -> &mut Self {
        if let Some(v) = value {
            self.str(key, v);
        }
        self
    }

    fn num(&mut self, key: &str, value: u64) -> &mut Self {
        self.key(key);
        self.0.extend_from_slice(value.to_string().as_bytes());
        self
    }

    fn obj(&mut self, key: &str, value: Obj) -> &mut Self {
        self.key(key);
        self.0.extend_from_slice(&value.end());
        self
    }

    fn end(mut self) -> Vec<u8> {
        self.0.push(b'}');
        self.0
    }
}

pub(crate) fn encode(r: &Record) -> Vec<u8> {
    let mut m = Obj::new();
    m.str("t", "p")
        .num("id", r.id)
        .str("s", status_name(r.status));
    match &r.spec {
        Spec::Upload {
            path,
            drive,
            parent,
            name,
            conflict,
            size,
            mtime_ns,
        } => {
            m.str("k", "upload")
                .str("path", &path.to_string_lossy())
                .str("drive", &drive.to_string())
                .str("parent", &parent.to_string())
                .str("name", name)
                .opt_str("conflict", conflict.as_str())
                .num("size", *size)
                .num("mtime", *mtime_ns);
        }
        Spec::UrlUpload {
            url,
            drive,
            parent,
            name,
        } => {
            m.str("k", "url")
                .str("url", url)
                .str("drive", &drive.to_string())
                .str("parent", &parent.to_string())
                .str("name", name);
        }
        Spec::Copy {
            drive,
            source,
            dest_parent,
            dest_drive_id,
            name,
            conflict,
        } => {
            m.str("k", "copy")
                .str("drive", &drive.to_string())
                .str("source", &source.to_string())
                .str("parent", &dest_parent.to_string())
                .opt_str("dest_drive", dest_drive_id.as_deref())
                .opt_str("name", name.as_deref())
                .opt_str("conflict", conflict.as_str());
        }
    }
    match &r.phase {
        Phase::Fresh => {}
        Phase::Sending => {
            m.str("ph", "sending");
        }
        Phase::Posting => {
            m.str("ph", "posting");
        }
        Phase::Session(s) => {
            m.str("ph", "session").str("session", s);
        }
        Phase::Monitor(u) => {
            m.str("ph", "monitor").str("monitor", u);
        }
    }
    m.opt_str("item", r.item.as_deref());
    if let Some(e) = &r.error {
        let mut em = Obj::new();
        em.str("kind", &kind_name(e.kind))
            .str("message", &e.message)
            .opt_str("code", e.code.as_deref())
            .opt_str("inner", e.inner_code.as_deref())
            .opt_str("rid", e.request_id.as_deref());
        if let Some(h) = e.http_status {
            em.num("http", u64::from(h));
        }
        m.obj("error", em);
    }
    m.end()
}

pub(crate) fn decode(payload: &[u8]) -> Result<Decoded> {
    let bad = |why: &str| {
        Error::new(
            ErrorKind::Io,
            format!("a queue record is not readable: {why}"),
        )
    };
    let v: Value = serde_json::from_slice(payload).map_err(|e| bad(&e.to_string()))?;
    let s = |k: &str| v.get(k).and_then(Value::as_str);
    let n = |k: &str| v.get(k).and_then(Value::as_u64);
    match s("t") {
        Some("n") => return Ok(Decoded::Next(n("next").ok_or_else(|| bad("next"))?)),
        Some("d") => return Ok(Decoded::Delete(n("id").ok_or_else(|| bad("id"))?)),
        Some("p") => {}
        _ => return Err(bad("unknown type")),
    }
    let need = |k: &str| s(k).ok_or_else(|| bad(k));
    let id = n("id").ok_or_else(|| bad("id"))?;
    let drive = Drive::parse(need("drive")?)?;
    let parent = ItemRef::parse(need("parent")?)?;
    let conflict = Conflict::parse(s("conflict")).ok_or_else(|| bad("conflict"))?;
    let spec = match need("k")? {
        "upload" => Spec::Upload {
            path: PathBuf::from(need("path")?),
            drive,
            parent: Arc::new(parent),
            name: need("name")?.to_owned(),
            conflict,
            size: n("size").ok_or_else(|| bad("size"))?,
            mtime_ns: n("mtime").ok_or_else(|| bad("mtime"))?,
        },
        "url" => Spec::UrlUpload {
            url: need("url")?.to_owned(),
            drive,
            parent,
            name: need("name")?.to_owned(),
        },
        "copy" => Spec::Copy {
            drive,
            source: ItemRef::parse(need("source")?)?,
            dest_parent: parent,
            dest_drive_id: s("dest_drive").map(str::to_owned),
            name: s("name").map(str::to_owned),
            conflict,
        },
        _ => return Err(bad("kind")),
    };
    let status = match need("s")? {
        "active" => Status::Active,
        "paused" => Status::Paused,
        "completed" => Status::Completed,
        "failed" => Status::Failed,
        "cancelled" => Status::Cancelled,
        _ => return Err(bad("status")),
    };
    let phase = match s("ph") {
        None => Phase::Fresh,
        Some("sending") => Phase::Sending,
        Some("posting") => Phase::Posting,
        Some("session") => Phase::Session(need("session")?.to_owned()),
        Some("monitor") => Phase::Monitor(need("monitor")?.to_owned()),
        Some(_) => return Err(bad("phase")),
    };
    let error = v.get("error").map(|e| {
        let t = |k: &str| e.get(k).and_then(Value::as_str).map(str::to_owned);
        let mut err = Error::new(
            kind_of(&t("kind").unwrap_or_default()),
            t("message").unwrap_or_default(),
        );
        err.http_status = e
            .get("http")
            .and_then(Value::as_u64)
            .and_then(|h| u16::try_from(h).ok());
        err.code = t("code");
        err.inner_code = t("inner");
        err.request_id = t("rid");
        Box::new(err)
    });
    Ok(Decoded::Put(Box::new(Record {
        id,
        spec,
        status,
        phase,
        item: s("item").map(str::to_owned),
        error,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() {
        let mut e = Error::from_response(
            409,
            br#"{"error":{"code":"nameAlreadyExists","message":"m","innerError":{"code":"i","request-id":"r"}}}"#,
            None,
            None,
        );
        e.retry_after = None;
        let specs = [
            Spec::Upload {
                path: PathBuf::from("/tmp/a b/ü.bin"),
                drive: Drive::Me,
                parent: Arc::new(ItemRef::parse("/x/y").unwrap()),
                name: "ü.bin".into(),
                conflict: Conflict::Fail,
                size: 1 << 40,
                mtime_ns: 1_700_000_000_123_456_789,
            },
            Spec::UrlUpload {
                url: "https://example.com/f?a=1".into(),
                drive: Drive::Id("b!x".into()),
                parent: ItemRef::parse("ID:/sub").unwrap(),
                // Everything JSON must escape.
                name: "n \"q\" \\ \n\t\u{1}\u{7f}".into(),
            },
            Spec::Copy {
                drive: Drive::Site("s".into()),
                source: ItemRef::parse("SRC").unwrap(),
                dest_parent: ItemRef::parse("/").unwrap(),
                dest_drive_id: Some("d2".into()),
                name: None,
                conflict: Conflict::ServiceDefault,
            },
        ];
        let phases = [
            Phase::Fresh,
            Phase::Sending,
            Phase::Posting,
            Phase::Session("{\"uploadUrl\":\"x\"}".into()),
            Phase::Monitor("https://m/1".into()),
        ];
        for (i, spec) in specs.iter().enumerate() {
            for (j, phase) in phases.iter().enumerate() {
                let r = Record {
                    id: (i * 10 + j) as u64,
                    spec: spec.clone(),
                    status: [
                        Status::Active,
                        Status::Paused,
                        Status::Completed,
                        Status::Failed,
                        Status::Cancelled,
                    ][j],
                    phase: phase.clone(),
                    item: (j == 2).then(|| "{\"id\":\"1\"}".to_owned()),
                    error: (j == 3).then(|| Box::new(e.clone())),
                };
                match decode(&encode(&r)).unwrap() {
                    Decoded::Put(back) => assert_eq!(*back, r),
                    _ => panic!("not a put"),
                }
            }
        }
        assert!(matches!(decode(&encode_next(7)).unwrap(), Decoded::Next(7)));
        assert!(matches!(
            decode(&encode_delete(9)).unwrap(),
            Decoded::Delete(9)
        ));
        for bad in [
            &b""[..],
            b"{}",
            b"[1]",
            b"{\"t\":\"p\",\"id\":1}",
            b"{\"t\":\"x\"}",
        ] {
            assert!(decode(bad).is_err());
        }
        for k in KINDS {
            assert_eq!(kind_of(&kind_name(*k)), *k);
        }
    }
}
