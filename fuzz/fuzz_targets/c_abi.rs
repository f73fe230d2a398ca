//! The C ABI with fuzzed arguments: strings (NULL, invalid UTF-8, embedded
//! NULs), lengths, flags, enum values, NULL vs non-NULL handles and
//! out-params, for the functions that make no request or fail before one
//! (an upload here always stops before its request: its cancel flag is
//! raised, or its progress callback stops it before the one PUT). Every
//! call must return a status, never crash, and never `OD_ERR_PANIC`.
#![no_main]
use std::ffi::{c_char, c_int, c_void};
use std::ptr;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use onedrive_native::UploadSession;
use onedrive_native::ffi::boundary::od_string_free;
use onedrive_native::ffi::cancel::*;
use onedrive_native::ffi::client::*;
use onedrive_native::ffi::job::*;
use onedrive_native::ffi::last_error::*;
use onedrive_native::ffi::session::*;
use onedrive_native::ffi::status::*;
use onedrive_native::ffi::upload::*;

/// A C string argument: NULL, or bytes with a NUL appended (an embedded
/// NUL ends the string early, as C sees it).
#[derive(Arbitrary, Debug)]
enum CStr {
    Null,
    Bytes(Vec<u8>),
    Known(u8),
}

const KNOWN: &[&str] = &[
    "http://127.0.0.1:9/v1.0",
    "https://graph.microsoft.com/v1.0",
    "/me/drive",
    "/drives/b!x",
    "/",
    "/a/b.txt",
    "ID!1",
    "ID:/x y",
    "..",
    "n.txt",
    "a:b",
    "https://x.example/monitor/1?tempauth=s",
    r#"{"version":1,"uploadUrl":"https://x.example/up/1","size":5,"drive":"/me/drive","parent":"/","name":"n.txt","conflict":"rename"}"#,
];

impl CStr {
    fn buf(&self) -> Option<Vec<u8>> {
        match self {
            CStr::Null => None,
            CStr::Bytes(b) => Some(b.iter().copied().chain([0]).collect()),
            CStr::Known(i) => {
                let s = KNOWN[usize::from(*i) % KNOWN.len()];
                Some(s.bytes().chain([0]).collect())
            }
        }
    }
}

fn ptr_of(b: &Option<Vec<u8>>) -> *const c_char {
    b.as_ref().map_or(ptr::null(), |b| b.as_ptr().cast())
}

#[derive(Arbitrary, Debug)]
enum Op {
    ClientNew {
        base: CStr,
        token: CStr,
        flags: u32,
        out_null: bool,
    },
    SetToken {
        client: u8,
        token: CStr,
    },
    SetTimeouts {
        client: u8,
        connect: u32,
        request: u32,
    },
    SetRetry {
        client: u8,
        attempts: u32,
        wait: u64,
    },
    SetUserAgent {
        client: u8,
        ua: CStr,
    },
    SetUploadOptions {
        client: u8,
        simple: u64,
        chunk: u64,
        hashes: u32,
    },
    FreeClient {
        client: u8,
    },
    Cancel {
        op: u8,
    },
    JobFromMonitorUrl {
        url: CStr,
        drive: CStr,
        out_null: bool,
    },
    SessionFromJson {
        json: CStr,
        out_null: bool,
    },
    LastError {
        field: i32,
        len: u16,
        buf_null: bool,
        needed_null: bool,
    },
    StatusStr {
        status: i32,
    },
    Upload {
        client: u8,
        drive: CStr,
        item: CStr,
        name: CStr,
        len: u16,
        data_null: bool,
        conflict: i32,
        stop: bool,
        out_null: bool,
    },
    UploadStream {
        client: u8,
        drive: CStr,
        item: CStr,
        name: CStr,
        size: u64,
        read_null: bool,
        conflict: i32,
        stop: bool,
    },
    UploadFile {
        client: u8,
        drive: CStr,
        item: CStr,
        name: CStr,
        path: CStr,
        conflict: i32,
        stop: bool,
    },
}

/// Stops the call it is given to (any non-zero).
unsafe extern "C" fn stop_progress(_: *mut c_void, _: u64, _: u64) -> c_int {
    1
}

/// Never reached in practice (uploads stop before the request); ends the
/// stream if it is.
unsafe extern "C" fn read_nothing(_: *mut c_void, _: *mut u8, _: usize) -> i64 {
    -1
}

struct Clients {
    /// Each live client with the simple-upload limit it was last given.
    live: Vec<(*mut od_client, u64)>,
}

impl Clients {
    fn pick(&self, i: u8) -> (*const od_client, u64) {
        if i == u8::MAX || self.live.is_empty() {
            return (ptr::null(), 4 * 1024 * 1024);
        }
        let (c, limit) = self.live[usize::from(i) % self.live.len()];
        (c, limit)
    }
}

fn ok_or_error(st: od_status) {
    assert_ne!(st, od_status::OD_ERR_PANIC, "a panic reached the boundary");
}

/// What an upload that stopped before its request may return.
fn stopped_early(st: od_status) {
    use od_status::*;
    assert!(
        matches!(
            st,
            OD_ERR_NULL_ARGUMENT
                | OD_ERR_INVALID_UTF8
                | OD_ERR_INVALID_ARGUMENT
                | OD_ERR_INVALID_NAME
                | OD_ERR_CANCELLED
                | OD_ERR_ABORTED_BY_CALLBACK
                | OD_ERR_IO
        ),
        "{st:?}"
    );
}

fuzz_target!(|ops: Vec<Op>| {
    let mut clients = Clients { live: Vec::new() };
    let mut cancel: *mut od_cancel = ptr::null_mut();
    // SAFETY: `cancel` is a valid writable out-param.
    assert_eq!(unsafe { od_cancel_new(&mut cancel) }, od_status::OD_OK);
    let raised: *mut od_cancel = {
        let mut c = ptr::null_mut();
        // SAFETY: as above; the new flag is raised and stays so.
        unsafe {
            assert_eq!(od_cancel_new(&mut c), od_status::OD_OK);
            od_cancel_trigger(c);
        }
        c
    };
    for op in ops.iter().take(64) {
        match op {
            Op::ClientNew {
                base,
                token,
                flags,
                out_null,
            } => {
                if clients.live.len() >= 4 {
                    continue;
                }
                let (b, t) = (base.buf(), token.buf());
                let mut out: *mut od_client = ptr::null_mut();
                let out_p = if *out_null {
                    ptr::null_mut()
                } else {
                    &mut out as *mut _
                };
                // SAFETY: the strings are NULL or NUL-terminated buffers
                // alive for the call; `out_p` is NULL or writable.
                let st = unsafe { od_client_new(ptr_of(&b), ptr_of(&t), *flags, out_p) };
                ok_or_error(st);
                if st == od_status::OD_OK {
                    assert!(!out.is_null());
                    clients.live.push((out, 4 * 1024 * 1024));
                }
            }
            Op::SetToken { client, token } => {
                let t = token.buf();
                // SAFETY: the client is NULL or live; the string as above.
                ok_or_error(unsafe { od_client_set_token(clients.pick(*client).0, ptr_of(&t)) });
            }
            Op::SetTimeouts {
                client,
                connect,
                request,
            } => {
                // SAFETY: the client is NULL or live.
                ok_or_error(unsafe {
                    od_client_set_timeouts(clients.pick(*client).0, *connect, *request)
                });
            }
            Op::SetRetry {
                client,
                attempts,
                wait,
            } => {
                // SAFETY: the client is NULL or live.
                ok_or_error(unsafe {
                    od_client_set_retry(clients.pick(*client).0, *attempts, *wait)
                });
            }
            Op::SetUserAgent { client, ua } => {
                let u = ua.buf();
                // SAFETY: the client is NULL or live; the string as above.
                ok_or_error(unsafe {
                    od_client_set_user_agent(clients.pick(*client).0, ptr_of(&u))
                });
            }
            Op::SetUploadOptions {
                client,
                simple,
                chunk,
                hashes,
            } => {
                let (c, _) = clients.pick(*client);
                // SAFETY: the client is NULL or live.
                let st = unsafe { od_client_set_upload_options(c, *simple, *chunk, *hashes) };
                ok_or_error(st);
                if st == od_status::OD_OK {
                    if let Some(e) = clients.live.iter_mut().find(|e| e.0.cast_const() == c) {
                        e.1 = *simple;
                    }
                }
            }
            Op::FreeClient { client } => {
                if !clients.live.is_empty() {
                    let i = usize::from(*client) % clients.live.len();
                    let (c, _) = clients.live.swap_remove(i);
                    // SAFETY: a live client, freed once and forgotten.
                    unsafe { od_client_free(c) };
                }
            }
            Op::Cancel { op } => {
                let c = if op & 8 != 0 {
                    ptr::null()
                } else {
                    cancel.cast_const()
                };
                // SAFETY: NULL or a live flag.
                unsafe {
                    match op % 3 {
                        0 => od_cancel_trigger(c),
                        1 => od_cancel_reset(c),
                        _ => {
                            let _ = od_cancel_is_triggered(c);
                        }
                    }
                }
            }
            Op::JobFromMonitorUrl {
                url,
                drive,
                out_null,
            } => {
                let (u, d) = (url.buf(), drive.buf());
                let mut job: *mut od_job = ptr::null_mut();
                let out_p = if *out_null {
                    ptr::null_mut()
                } else {
                    &mut job as *mut _
                };
                // SAFETY: strings as above; `out_p` NULL or writable.
                let st = unsafe { od_job_from_monitor_url(ptr_of(&u), ptr_of(&d), out_p) };
                ok_or_error(st);
                if st == od_status::OD_OK {
                    // SAFETY: `job` is the live job just made, freed once.
                    unsafe {
                        let m = od_job_monitor_url(job);
                        assert!(!m.is_null());
                        let _ = od_job_last_state(job);
                        let mut item = ptr::null_mut();
                        assert_eq!(od_job_item(job, &mut item), od_status::OD_ERR_INVALID_STATE);
                        od_job_free(job);
                    }
                }
            }
            Op::SessionFromJson { json, out_null } => {
                let j = json.buf();
                let mut s: *mut od_session = ptr::null_mut();
                let out_p = if *out_null {
                    ptr::null_mut()
                } else {
                    &mut s as *mut _
                };
                // SAFETY: string as above; `out_p` NULL or writable.
                let st = unsafe { od_session_from_json(ptr_of(&j), out_p) };
                ok_or_error(st);
                // The C function accepts exactly what the core does.
                if let (Some(b), false) = (&j, *out_null) {
                    let text = &b[..b.iter().position(|&c| c == 0).unwrap()];
                    if let Ok(text) = std::str::from_utf8(text) {
                        let core = UploadSession::from_json(text);
                        assert_eq!(core.is_ok(), st == od_status::OD_OK, "{st:?} {core:?}");
                    } else {
                        assert_eq!(st, od_status::OD_ERR_INVALID_UTF8);
                    }
                }
                if st == od_status::OD_OK {
                    // SAFETY: `s` is the live session just made, freed once;
                    // the JSON string is freed with od_string_free.
                    unsafe {
                        let _ = od_session_size(s);
                        let mut out: *mut c_char = ptr::null_mut();
                        assert_eq!(od_session_to_json(s, &mut out), od_status::OD_OK);
                        od_string_free(out);
                        od_session_free(s);
                    }
                }
            }
            Op::LastError {
                field,
                len,
                buf_null,
                needed_null,
            } => {
                let mut buf = vec![0u8; usize::from(*len)];
                let (p, n) = if *buf_null {
                    (ptr::null_mut(), 0)
                } else {
                    (buf.as_mut_ptr().cast(), buf.len())
                };
                let mut needed = 0usize;
                let np = if *needed_null {
                    ptr::null_mut()
                } else {
                    &mut needed as *mut usize
                };
                // SAFETY: `p` points to `n` writable bytes (or NULL with 0);
                // `np` is NULL or writable.
                let st = unsafe { od_last_error_string(*field, p, n, np) };
                ok_or_error(st);
                if st == od_status::OD_OK {
                    assert!(buf[..n].contains(&0));
                }
                let _ = (
                    od_last_error_status(),
                    od_last_error_http_status(),
                    od_last_error_retry_after_ms(),
                );
                if field % 7 == 0 {
                    od_last_error_clear();
                }
            }
            Op::StatusStr { status } => {
                let s = od_status_str(*status);
                assert!(!s.is_null());
            }
            Op::Upload {
                client,
                drive,
                item,
                name,
                len,
                data_null,
                conflict,
                stop,
                out_null,
            } => {
                let (c, limit) = clients.pick(*client);
                let (d, i, n) = (drive.buf(), item.buf(), name.buf());
                let data = vec![7u8; usize::from(*len)];
                let data_p = if *data_null {
                    ptr::null()
                } else {
                    data.as_ptr()
                };
                // The progress callback stops a simple upload before its
                // PUT; anything else is stopped by the raised flag.
                let by_callback = *stop && u64::from(*len) <= limit;
                let flag = if by_callback {
                    ptr::null()
                } else {
                    raised.cast_const()
                };
                let mut out = ptr::null_mut();
                let out_p = if *out_null {
                    ptr::null_mut()
                } else {
                    &mut out as *mut _
                };
                // SAFETY: strings as above; `data_p` is NULL or `len`
                // readable bytes; the callback ignores its userdata.
                let st = unsafe {
                    od_upload(
                        c,
                        ptr_of(&d),
                        ptr_of(&i),
                        ptr_of(&n),
                        data_p,
                        data.len(),
                        *conflict,
                        Some(stop_progress),
                        ptr::null_mut(),
                        flag,
                        out_p,
                    )
                };
                stopped_early(st);
            }
            Op::UploadStream {
                client,
                drive,
                item,
                name,
                size,
                read_null,
                conflict,
                stop,
            } => {
                let (c, limit) = clients.pick(*client);
                let (d, i, n) = (drive.buf(), item.buf(), name.buf());
                let by_callback = *stop && *size <= limit;
                let flag = if by_callback {
                    ptr::null()
                } else {
                    raised.cast_const()
                };
                let read = if *read_null {
                    None
                } else {
                    Some(read_nothing as _)
                };
                let mut out = ptr::null_mut();
                // SAFETY: strings as above; callbacks ignore their userdata.
                let st = unsafe {
                    od_upload_stream(
                        c,
                        ptr_of(&d),
                        ptr_of(&i),
                        ptr_of(&n),
                        *size,
                        read,
                        ptr::null_mut(),
                        *conflict,
                        Some(stop_progress),
                        ptr::null_mut(),
                        flag,
                        &mut out,
                    )
                };
                stopped_early(st);
            }
            Op::UploadFile {
                client,
                drive,
                item,
                name,
                path,
                conflict,
                stop,
            } => {
                let (c, limit) = clients.pick(*client);
                let (d, i, n) = (drive.buf(), item.buf(), name.buf());
                // Only paths that cannot block when opened: this target's
                // own small file, a missing one, a directory, or a fuzzed
                // name below a directory that does not exist.
                let file = std::env::temp_dir().join("od-fuzz-c-abi.bin");
                if !file.exists() {
                    std::fs::write(&file, b"0123456789").unwrap();
                }
                let p: Option<Vec<u8>> = match path {
                    CStr::Null => None,
                    CStr::Known(k) => Some(match k % 3 {
                        0 => file.to_str().unwrap().bytes().chain([0]).collect(),
                        1 => b"/nonexistent-od-fuzz/x\0".to_vec(),
                        _ => b"/\0".to_vec(),
                    }),
                    CStr::Bytes(b) => Some(
                        b"/nonexistent-od-fuzz/"
                            .iter()
                            .chain(b.iter().filter(|&&c| c != b'.' && c != b'/'))
                            .copied()
                            .chain([0])
                            .collect(),
                    ),
                };
                let by_callback = *stop && limit >= 10;
                let flag = if by_callback {
                    ptr::null()
                } else {
                    raised.cast_const()
                };
                let mut out = ptr::null_mut();
                // SAFETY: strings as above; the callback ignores userdata.
                let st = unsafe {
                    od_upload_file(
                        c,
                        ptr_of(&d),
                        ptr_of(&i),
                        ptr_of(&n),
                        ptr_of(&p),
                        *conflict,
                        Some(stop_progress),
                        ptr::null_mut(),
                        flag,
                        &mut out,
                    )
                };
                stopped_early(st);
            }
        }
    }
    for (c, _) in clients.live.drain(..) {
        // SAFETY: each live client is freed once.
        unsafe { od_client_free(c) };
    }
    // SAFETY: both flags are live and freed once.
    unsafe {
        od_cancel_free(cancel);
        od_cancel_free(raised);
    }
});
