//! Tests of the C ABI called the way C calls it: through the `od_*`
//! functions only, with raw pointers, NULLs, bad text and bad numbers.
//!
//! Most of them make no request, so they also run under Miri
//! (`make test-miri`). The few that reach a (refused) loopback socket are
//! `#[cfg_attr(miri, ignore)]`: Miri has no sockets.

use super::{
    args::*, boundary::*, cancel::*, client::*, copy::*, item::*, job::*, last_error::*,
    methods_index::*, network::*, session::*, status::*, upload::*,
};

use std::ffi::{CStr, c_char, c_int, c_void};
use std::ptr;

use od_status::*;

/// Not valid UTF-8 (a lone continuation byte, then an invalid lead byte).
const BAD_UTF8: &CStr = c"\x80abc\xff";
/// Loopback on a port nothing listens on: plain HTTP is allowed there,
/// and a request fails at once with a refused connection.
const LOOPBACK: &CStr = c"http://127.0.0.1:1/v1.0";

/// An out-parameter's value before the call: a call that fails must leave
/// it as it is.
fn sentinel<T>() -> *mut T {
    ptr::dangling_mut()
}

/// A handle lent to other threads (the test joins them before freeing it).
struct Shared<T>(*const T);

// By hand: derived, they would ask `T: Copy`.
impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Shared<T> {}

// SAFETY: the handles shared this way are documented as usable from many
// threads at once; each test joins its threads before the free.
unsafe impl<T> Send for Shared<T> {}

impl<T> Shared<T> {
    /// A method, not `.0`: a closure then captures the whole (Send) value.
    fn get(self) -> *const T {
        self.0
    }
}

/// A client freed on drop, made with `od_client_new`.
struct Client(*mut od_client);

impl Client {
    fn new() -> Client {
        Client::at(LOOPBACK, c"t")
    }

    /// A client of a running emulator (trusting its CA), with `token`.
    fn of(emu: &onedrive_emulator::Emulator, token: &str) -> Client {
        let base = std::ffi::CString::new(emu.base_url()).unwrap();
        let token = std::ffi::CString::new(token).unwrap();
        let c = Client::at(&base, &token);
        let ca = emu.ca_pem().unwrap();
        // SAFETY: a live client and `ca.len()` readable bytes.
        let s = unsafe { od_client_add_ca_pem(c.0, ca.as_ptr(), ca.len()) };
        assert_eq!(s, OD_OK, "{}", last_message());
        c
    }

    fn at(base_url: &CStr, token: &CStr) -> Client {
        let mut c = ptr::null_mut();
        // SAFETY: C strings and a writable out-param.
        let s = unsafe { od_client_new(base_url.as_ptr(), token.as_ptr(), 0, &mut c) };
        assert_eq!(s, OD_OK, "{}", last_message());
        assert!(!c.is_null());
        Client(c)
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        // SAFETY: made by od_client_new, freed once.
        unsafe { od_client_free(self.0) }
    }
}

/// A text field of the last error, read the way C reads it: ask for the
/// length, then fill a buffer of exactly that length.
fn last_field(field: i32) -> String {
    let mut needed = 0usize;
    // SAFETY: NULL buffer with length 0; `needed` is writable.
    let s = unsafe { od_last_error_string(field, ptr::null_mut(), 0, &mut needed) };
    assert_eq!(s, OD_ERR_BUFFER_TOO_SMALL);
    assert!(needed >= 1);
    let mut buf = vec![0x55 as c_char; needed];
    // SAFETY: `buf` holds `needed` writable bytes.
    let s = unsafe { od_last_error_string(field, buf.as_mut_ptr(), needed, ptr::null_mut()) };
    assert_eq!(s, OD_OK);
    // SAFETY: od_last_error_string wrote a NUL-terminated string into buf.
    let text = unsafe { CStr::from_ptr(buf.as_ptr()) };
    assert_eq!(text.to_bytes().len() + 1, needed);
    text.to_str().unwrap().to_owned()
}

fn last_message() -> String {
    last_field(0)
}

/// Expects `status` and a last error that says the same.
#[track_caller]
fn expect(status: od_status, want: od_status) {
    assert_eq!(status, want, "last error: {}", last_message());
    assert_eq!(od_last_error_status(), want);
    if want != OD_OK {
        assert!(!last_message().is_empty());
    }
}

// ---------------------------------------------------------------------------
// od_status_str, od_version

/// Every status, in number order: the numbers are ABI.
const ALL_STATUSES: [od_status; 27] = [
    OD_OK,
    OD_ERR_NULL_ARGUMENT,
    OD_ERR_INVALID_UTF8,
    OD_ERR_INVALID_ARGUMENT,
    OD_ERR_INVALID_NAME,
    OD_ERR_NETWORK,
    OD_ERR_TIMEOUT,
    OD_ERR_CANCELLED,
    OD_ERR_ABORTED_BY_CALLBACK,
    OD_ERR_UNAUTHORIZED,
    OD_ERR_FORBIDDEN,
    OD_ERR_NOT_FOUND,
    OD_ERR_CONFLICT,
    OD_ERR_TOO_LARGE,
    OD_ERR_THROTTLED,
    OD_ERR_QUOTA,
    OD_ERR_NOT_SUPPORTED,
    OD_ERR_BAD_REQUEST,
    OD_ERR_SERVICE,
    OD_ERR_PROTOCOL,
    OD_ERR_JOB_FAILED,
    OD_ERR_JOB_CANCELLED,
    OD_ERR_IO,
    OD_ERR_BUFFER_TOO_SMALL,
    OD_ERR_INVALID_STATE,
    OD_ERR_PANIC,
    OD_ERR_HASH_MISMATCH,
];

fn status_text(n: i32) -> &'static str {
    let p = od_status_str(n);
    assert!(!p.is_null());
    // SAFETY: od_status_str returns a static NUL-terminated string.
    unsafe { CStr::from_ptr(p) }.to_str().unwrap()
}

#[test]
fn status_str_names_every_status() {
    let mut seen = std::collections::HashSet::new();
    for (i, s) in ALL_STATUSES.iter().enumerate() {
        assert_eq!(*s as i32, i as i32);
        let text = status_text(i as i32);
        // "OD_ERR_X: what it means"
        let (name, what) = text.split_once(": ").expect(text);
        assert_eq!(name, format!("{s:?}"));
        assert!(!what.is_empty(), "{text}");
        assert!(seen.insert(text), "{text} twice");
        // Static: the same pointer every time.
        assert_eq!(od_status_str(i as i32), od_status_str(i as i32));
    }
}

#[test]
fn status_str_of_unknown_numbers() {
    for n in [-1, 30, 31, 100, i32::MIN, i32::MAX] {
        assert_eq!(status_text(n), "unknown od_status", "{n}");
    }
}

#[test]
fn version_is_the_crate_version() {
    let p = super::od_version();
    // SAFETY: a static NUL-terminated string.
    let v = unsafe { CStr::from_ptr(p) }.to_str().unwrap();
    assert_eq!(v, env!("CARGO_PKG_VERSION"));
    assert_eq!(v.split('.').count(), 3);
}

// ---------------------------------------------------------------------------
// The last error and its buffers

/// Makes a failure whose message is known: `` `out_cancel` is NULL ``.
fn fail_with_null_argument() {
    // SAFETY: NULL out-param, refused.
    let s = unsafe { od_cancel_new(ptr::null_mut()) };
    assert_eq!(s, OD_ERR_NULL_ARGUMENT);
}

#[test]
fn last_error_string_buffers() {
    fail_with_null_argument();
    let msg = "`out_cancel` is NULL";
    let needed_want = msg.len() + 1;

    // The length alone: NULL buffer, length 0.
    let mut needed = 0usize;
    // SAFETY: NULL with 0; `needed` writable.
    let s = unsafe { od_last_error_string(0, ptr::null_mut(), 0, &mut needed) };
    assert_eq!((s, needed), (OD_ERR_BUFFER_TOO_SMALL, needed_want));

    // Neither buffer nor length out-param.
    // SAFETY: NULL with 0, NULL out-param (allowed).
    let s = unsafe { od_last_error_string(0, ptr::null_mut(), 0, ptr::null_mut()) };
    assert_eq!(s, OD_ERR_BUFFER_TOO_SMALL);

    // NULL buffer with a length: too small, nothing written anywhere.
    needed = 0;
    // SAFETY: a NULL buffer is never written to.
    let s = unsafe { od_last_error_string(0, ptr::null_mut(), 64, &mut needed) };
    assert_eq!((s, needed), (OD_ERR_BUFFER_TOO_SMALL, needed_want));

    // One byte short: the buffer is left untouched (all of it).
    let mut buf = [0x55 as c_char; 64];
    needed = 0;
    // SAFETY: `buf` holds at least `needed_want - 1` bytes.
    let s = unsafe { od_last_error_string(0, buf.as_mut_ptr(), needed_want - 1, &mut needed) };
    assert_eq!((s, needed), (OD_ERR_BUFFER_TOO_SMALL, needed_want));
    assert!(buf.iter().all(|&b| b == 0x55));

    // Exactly the size: text, NUL, and not one byte beyond.
    needed = 0;
    // SAFETY: `buf` holds at least `needed_want` bytes.
    let s = unsafe { od_last_error_string(0, buf.as_mut_ptr(), needed_want, &mut needed) };
    assert_eq!((s, needed), (OD_OK, needed_want));
    // SAFETY: NUL-terminated by the call.
    assert_eq!(unsafe { CStr::from_ptr(buf.as_ptr()) }.to_str(), Ok(msg));
    assert!(buf[needed_want..].iter().all(|&b| b == 0x55));

    // Larger: the same.
    let mut big = [0x55 as c_char; 256];
    // SAFETY: `big` holds 256 writable bytes.
    let s = unsafe { od_last_error_string(0, big.as_mut_ptr(), big.len(), ptr::null_mut()) };
    assert_eq!(s, OD_OK);
    // SAFETY: NUL-terminated by the call.
    assert_eq!(unsafe { CStr::from_ptr(big.as_ptr()) }.to_str(), Ok(msg));

    // Reading does not clear the last error.
    assert_eq!(od_last_error_status(), OD_ERR_NULL_ARGUMENT);
    assert_eq!(last_message(), msg);
}

#[test]
fn last_error_fields_absent_and_unknown() {
    fail_with_null_argument();
    // A local failure: no code, inner code, request id, HTTP status or
    // Retry-After; the absent fields read as "" (needing 1 byte).
    for field in [1, 2, 3] {
        assert_eq!(last_field(field), "", "field {field}");
    }
    assert_eq!(od_last_error_http_status(), 0);
    assert_eq!(od_last_error_retry_after_ms(), -1);

    // An unknown field: refused, `needed` and the buffer left alone.
    for field in [4, 5, -1, i32::MIN, i32::MAX] {
        let mut needed = 12345usize;
        let mut buf = [0x55 as c_char; 8];
        // SAFETY: `buf` holds 8 writable bytes.
        let s = unsafe { od_last_error_string(field, buf.as_mut_ptr(), buf.len(), &mut needed) };
        assert_eq!(s, OD_ERR_INVALID_ARGUMENT, "field {field}");
        assert_eq!(needed, 12345);
        assert!(buf.iter().all(|&b| b == 0x55));
    }
    // Still the earlier failure: asking is not a fallible call.
    assert_eq!(od_last_error_status(), OD_ERR_NULL_ARGUMENT);
}

#[test]
fn last_error_cleared_by_success_and_by_clear() {
    fail_with_null_argument();
    od_last_error_clear();
    assert_eq!(od_last_error_status(), OD_OK);
    assert_eq!(last_message(), "");

    fail_with_null_argument();
    let mut c = ptr::null_mut();
    // SAFETY: a writable out-param.
    assert_eq!(unsafe { od_cancel_new(&mut c) }, OD_OK);
    assert_eq!(od_last_error_status(), OD_OK);
    assert_eq!(last_message(), "");
    // SAFETY: made above, freed once.
    unsafe { od_cancel_free(c) };
}

#[test]
fn last_error_is_per_thread() {
    fail_with_null_argument();
    std::thread::spawn(|| {
        assert_eq!(od_last_error_status(), OD_OK);
        // SAFETY: a bad out-param is refused before use.
        let s = unsafe { od_job_from_monitor_url(c"x".as_ptr(), ptr::null(), ptr::null_mut()) };
        assert_eq!(s, OD_ERR_NULL_ARGUMENT);
        assert_eq!(last_message(), "`out_job` is NULL");
    })
    .join()
    .unwrap();
    assert_eq!(last_message(), "`out_cancel` is NULL");
}

// ---------------------------------------------------------------------------
// Handles: made, shared, freed; `_free(NULL)`

#[test]
fn free_null_is_a_no_op() {
    // SAFETY: NULL is documented as ignored by every `_free`.
    unsafe {
        od_client_free(ptr::null_mut());
        od_cancel_free(ptr::null_mut());
        od_item_free(ptr::null_mut());
        od_job_free(ptr::null_mut());
        od_session_free(ptr::null_mut());
        od_string_free(ptr::null_mut());
    }
}

#[test]
fn cancel_flag_lifetime() {
    let mut c: *mut od_cancel = ptr::null_mut();
    // SAFETY: a writable out-param.
    expect(unsafe { od_cancel_new(&mut c) }, OD_OK);
    assert!(!c.is_null());
    // SAFETY: `c` is live until od_cancel_free below.
    unsafe {
        assert!(!od_cancel_is_triggered(c));
        od_cancel_trigger(c);
        od_cancel_trigger(c);
        assert!(od_cancel_is_triggered(c));
        od_cancel_reset(c);
        assert!(!od_cancel_is_triggered(c));
    }
    // Raised from another thread, seen here.
    let shared = Shared(c.cast_const());
    std::thread::spawn(move || {
        // SAFETY: the flag outlives the thread (joined before the free).
        unsafe { od_cancel_trigger(shared.get()) }
    })
    .join()
    .unwrap();
    // SAFETY: live; freed once.
    unsafe {
        assert!(od_cancel_is_triggered(c));
        od_cancel_free(c);
    }
    // NULL everywhere is ignored / false.
    // SAFETY: NULL is allowed.
    unsafe {
        od_cancel_trigger(ptr::null());
        od_cancel_reset(ptr::null());
        assert!(!od_cancel_is_triggered(ptr::null()));
    }
}

#[test]
fn client_lifetime_and_setters() {
    let c = Client::new();
    // SAFETY: `c.0` is live for the whole block.
    unsafe {
        expect(od_client_set_token(c.0, c"new-token".as_ptr()), OD_OK);
        expect(od_client_set_token(c.0, c"".as_ptr()), OD_OK);
        expect(od_client_set_user_agent(c.0, c"app/1.0".as_ptr()), OD_OK);
        expect(
            od_client_set_user_agent(c.0, c"a\nb".as_ptr()),
            OD_ERR_INVALID_ARGUMENT,
        );
        expect(od_client_set_timeouts(c.0, 1, 1), OD_OK);
        expect(
            od_client_set_timeouts(c.0, 0, 1000),
            OD_ERR_INVALID_ARGUMENT,
        );
        expect(
            od_client_set_timeouts(c.0, 1000, 0),
            OD_ERR_INVALID_ARGUMENT,
        );
        expect(od_client_set_timeouts(c.0, u32::MAX, u32::MAX), OD_OK);
        expect(od_client_set_retry(c.0, 1, 0), OD_OK);
        expect(od_client_set_retry(c.0, 0, 1000), OD_ERR_INVALID_ARGUMENT);
        expect(od_client_set_retry(c.0, u32::MAX, u64::MAX), OD_OK);
        expect(od_client_set_upload_options(c.0, 0, 327_680, 0), OD_OK);
        expect(
            od_client_set_upload_options(c.0, 4 << 20, 10 << 20, OD_HASH_SHA1 | OD_HASH_SHA256),
            OD_OK,
        );
        for chunk in [0, 1, 327_679, 327_681, 60 << 20, u64::MAX] {
            expect(
                od_client_set_upload_options(c.0, 4 << 20, chunk, 0),
                OD_ERR_INVALID_ARGUMENT,
            );
        }
        for flags in [4, 8, 1 << 31, u32::MAX] {
            expect(
                od_client_set_upload_options(c.0, 4 << 20, 10 << 20, flags),
                OD_ERR_INVALID_ARGUMENT,
            );
        }
    }
    // Used from several threads at once, then freed once.
    let shared = Shared(c.0.cast_const());
    let threads: Vec<_> = (0..3)
        .map(|i| {
            std::thread::spawn(move || {
                let c = shared.get();
                let token = std::ffi::CString::new(format!("token-{i}")).unwrap();
                // SAFETY: the client outlives the threads (joined below).
                unsafe {
                    assert_eq!(od_client_set_token(c, token.as_ptr()), OD_OK);
                    assert_eq!(od_client_set_timeouts(c, 100, 200), OD_OK);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    drop(c);
}

#[test]
fn client_new_arguments() {
    let new = |base: *const c_char, token: *const c_char, flags: u32| {
        let mut c = sentinel::<od_client>();
        // SAFETY: strings are NULL or C strings; `c` is writable.
        let s = unsafe { od_client_new(base, token, flags, &mut c) };
        if s == OD_OK {
            assert!(!c.is_null() && c != sentinel());
            // SAFETY: made just now, freed once.
            unsafe { od_client_free(c) };
        } else {
            assert_eq!(c, sentinel(), "out-param written on failure");
        }
        s
    };
    let base = LOOPBACK.as_ptr();
    // NULL base URL is Graph, NULL token is none.
    expect(new(ptr::null(), ptr::null(), 0), OD_OK);
    expect(new(base, ptr::null(), OD_CLIENT_ALLOW_INSECURE_HTTP), OD_OK);
    expect(new(BAD_UTF8.as_ptr(), ptr::null(), 0), OD_ERR_INVALID_UTF8);
    expect(new(base, BAD_UTF8.as_ptr(), 0), OD_ERR_INVALID_UTF8);
    for flags in [2, 3, 1 << 31, u32::MAX] {
        expect(new(base, ptr::null(), flags), OD_ERR_INVALID_ARGUMENT);
    }
    for url in [
        c"",
        c"not a url",
        c"ftp://example.com/v1.0",
        c"https:///v1.0",
        c"https://example.com/v1.0?x=1",
        c"https://example.com/v1.0#f",
    ] {
        expect(new(url.as_ptr(), ptr::null(), 0), OD_ERR_INVALID_ARGUMENT);
    }
    // Plain HTTP off loopback only with the flag.
    let remote = c"http://example.com/v1.0".as_ptr();
    expect(new(remote, ptr::null(), 0), OD_ERR_INVALID_ARGUMENT);
    expect(
        new(remote, ptr::null(), OD_CLIENT_ALLOW_INSECURE_HTTP),
        OD_OK,
    );
    // NULL out-param.
    // SAFETY: refused before use.
    let s = unsafe { od_client_new(base, ptr::null(), 0, ptr::null_mut()) };
    expect(s, OD_ERR_NULL_ARGUMENT);
    assert_eq!(last_message(), "`out_client` is NULL");
}

#[test]
fn job_from_monitor_url_lifetime() {
    let url = "https://monitor.example.com/jobs/1?k=v";
    let mut job = ptr::null_mut();
    let c_url = std::ffi::CString::new(format!("  {url} ")).unwrap();
    // SAFETY: C strings; writable out-param.
    let s = unsafe { od_job_from_monitor_url(c_url.as_ptr(), c"/drives/d1".as_ptr(), &mut job) };
    expect(s, OD_OK);
    assert!(!job.is_null());
    drop(c_url); // copied: the job does not borrow the caller's string
    // SAFETY: `job` is live until od_job_free below.
    unsafe {
        let p = od_job_monitor_url(job);
        assert_eq!(CStr::from_ptr(p).to_str(), Ok(url));
        // Borrowed from the job: the same pointer each time.
        assert_eq!(od_job_monitor_url(job), p);
        assert_eq!(od_job_last_state(job), od_job_state::OD_JOB_UNKNOWN);
        // Never seen completed: no item, out-param untouched.
        let mut item = sentinel::<od_item>();
        expect(od_job_item(job, &mut item), OD_ERR_INVALID_STATE);
        assert_eq!(item, sentinel());
        expect(od_job_item(job, ptr::null_mut()), OD_ERR_NULL_ARGUMENT);
    }
    // Read from several threads at once.
    let shared = Shared(job.cast_const());
    let threads: Vec<_> = (0..3)
        .map(|_| {
            std::thread::spawn(move || {
                let job = shared.get();
                // SAFETY: the job outlives the threads (joined below).
                unsafe {
                    let text = CStr::from_ptr(od_job_monitor_url(job)).to_str().unwrap();
                    assert_eq!(text, url);
                    assert_eq!(od_job_last_state(job), od_job_state::OD_JOB_UNKNOWN);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    // SAFETY: freed once, no thread uses it any more.
    unsafe { od_job_free(job) };

    // SAFETY: NULL is allowed.
    unsafe {
        assert!(od_job_monitor_url(ptr::null()).is_null());
        assert_eq!(od_job_last_state(ptr::null()), od_job_state::OD_JOB_UNKNOWN);
        let mut item = sentinel::<od_item>();
        expect(od_job_item(ptr::null(), &mut item), OD_ERR_NULL_ARGUMENT);
        assert_eq!(item, sentinel());
    }
}

#[test]
fn job_from_monitor_url_arguments() {
    let from = |url: &CStr, drive: *const c_char| {
        let mut job = sentinel::<od_job>();
        // SAFETY: C strings or NULL; writable out-param.
        let s = unsafe { od_job_from_monitor_url(url.as_ptr(), drive, &mut job) };
        if s == OD_OK {
            // SAFETY: made just now, freed once.
            unsafe { od_job_free(job) };
        } else {
            assert_eq!(job, sentinel());
        }
        s
    };
    let ok = c"https://m.example.com/j";
    expect(from(ok, ptr::null()), OD_OK);
    expect(from(BAD_UTF8, ptr::null()), OD_ERR_INVALID_UTF8);
    expect(from(ok, BAD_UTF8.as_ptr()), OD_ERR_INVALID_UTF8);
    expect(from(ok, c"/nowhere".as_ptr()), OD_ERR_INVALID_ARGUMENT);
    for bad in [c"", c"relative/path", c"ftp://m.example.com/j"] {
        expect(from(bad, ptr::null()), OD_ERR_INVALID_ARGUMENT);
    }
    let mut job = sentinel::<od_job>();
    // SAFETY: NULL is refused.
    let s = unsafe { od_job_from_monitor_url(ptr::null(), ptr::null(), &mut job) };
    expect(s, OD_ERR_NULL_ARGUMENT);
    assert_eq!(job, sentinel());
}

/// A saved session as `od_session_to_json` writes it.
const SESSION_JSON: &CStr = c"{\"version\":1,\"uploadUrl\":\"https://up.example.com/s?x=1\",\"size\":1000,\"drive\":\"/me/drive\",\"parent\":\"/docs\",\"name\":\"a.bin\",\"item\":null,\"conflict\":\"rename\",\"expirationDateTime\":null}";

#[test]
fn session_json_round_trip_and_string_free() {
    let mut s1 = ptr::null_mut();
    // SAFETY: a C string; writable out-param.
    expect(
        unsafe { od_session_from_json(SESSION_JSON.as_ptr(), &mut s1) },
        OD_OK,
    );
    // SAFETY: `s1` is live until freed below.
    unsafe {
        assert_eq!(od_session_size(s1), 1000);
        let mut json: *mut c_char = ptr::null_mut();
        expect(od_session_to_json(s1, &mut json), OD_OK);
        assert!(!json.is_null());
        let text = CStr::from_ptr(json).to_str().unwrap().to_owned();
        assert!(text.contains("https://up.example.com/s?x=1"), "{text}");
        // The text goes back to an equal session.
        let mut s2 = ptr::null_mut();
        expect(od_session_from_json(json, &mut s2), OD_OK);
        od_string_free(json);
        assert_eq!(od_session_size(s2), 1000);
        let mut json2: *mut c_char = ptr::null_mut();
        expect(od_session_to_json(s2, &mut json2), OD_OK);
        assert_eq!(CStr::from_ptr(json2).to_str(), Ok(text.as_str()));
        od_string_free(json2);
        od_session_free(s2);
        od_session_free(s1);

        let mut json = sentinel::<c_char>();
        expect(
            od_session_to_json(ptr::null(), &mut json),
            OD_ERR_NULL_ARGUMENT,
        );
        assert_eq!(json, sentinel());
        assert_eq!(od_session_size(ptr::null()), 0);
    }
}

#[test]
fn session_from_json_arguments() {
    let from = |text: *const c_char| {
        let mut s = sentinel::<od_session>();
        // SAFETY: NULL or a C string; writable out-param.
        let st = unsafe { od_session_from_json(text, &mut s) };
        assert_ne!(st, OD_OK);
        assert_eq!(s, sentinel());
        st
    };
    expect(from(ptr::null()), OD_ERR_NULL_ARGUMENT);
    expect(from(BAD_UTF8.as_ptr()), OD_ERR_INVALID_UTF8);
    for bad in [
        c"",
        c"{",
        c"[]",
        c"{\"version\":2}",
        c"{\"version\":1,\"uploadUrl\":\"nope\",\"size\":1,\"drive\":\"/me/drive\",\"item\":\"/a\"}",
        c"{\"version\":1,\"uploadUrl\":\"https://u.example.com/\",\"size\":1,\"drive\":\"/x\",\"item\":\"/a\"}",
        c"{\"version\":1,\"uploadUrl\":\"https://u.example.com/\",\"size\":1,\"drive\":\"/me/drive\",\"item\":\"/a\",\"conflict\":\"maybe\"}",
    ] {
        expect(from(bad.as_ptr()), OD_ERR_INVALID_ARGUMENT);
    }
    // SAFETY: refused before use.
    let s = unsafe { od_session_from_json(SESSION_JSON.as_ptr(), ptr::null_mut()) };
    expect(s, OD_ERR_NULL_ARGUMENT);
}

// ---------------------------------------------------------------------------
// Argument conversions of the operations, all stopped before any request

/// One call with the argument under test in place.
type StringCall = dyn Fn(&od_client, *const c_char) -> od_status;

/// A C string argument's three cases: NULL, not UTF-8, and a good value
/// (with the rest of the call arranged to fail at a later, local check,
/// so that no request is ever made).
struct StringArg {
    what: &'static str,
    call: Box<StringCall>,
    null: od_status,
    good: &'static CStr,
    good_gives: od_status,
}

fn string_args() -> Vec<StringArg> {
    // The later check that stops each call: an od_conflict out of range,
    // or unknown flags.
    const BAD_CONFLICT: i32 = 99;
    let mut v: Vec<StringArg> = Vec::new();
    macro_rules! arg {
        ($what:expr, $null:expr, $good:expr, $good_gives:expr, |$c:ident, $p:ident| $body:expr) => {
            v.push(StringArg {
                what: $what,
                call: Box::new(move |$c: &od_client, $p: *const c_char| {
                    // SAFETY: live client, NULL or C strings, writable
                    // out-params, `data` NULL with length 0.
                    unsafe { $body }
                }),
                null: $null,
                good: $good,
                good_gives: $good_gives,
            })
        };
    }
    let item = c"/docs/a.txt".as_ptr();
    let name = c"a.txt".as_ptr();
    let (inv, null) = (OD_ERR_INVALID_ARGUMENT, OD_ERR_NULL_ARGUMENT);
    let me = c"/me/drive";
    // Each upload call with (drive, item, name) and an invalid conflict, so
    // that a good string argument ends at OD_ERR_INVALID_ARGUMENT.
    /// # Safety
    /// Strings NULL or NUL-terminated.
    unsafe fn upload(c: &od_client, [d, i, n]: [*const c_char; 3]) -> od_status {
        let none = ptr::null_mut();
        // SAFETY: forwarded from the caller; `data` NULL with length 0.
        unsafe {
            od_upload(
                c,
                d,
                i,
                n,
                ptr::null(),
                0,
                BAD_CONFLICT,
                None,
                none,
                ptr::null(),
                &mut none.cast(),
            )
        }
    }
    /// # Safety
    /// Strings NULL or NUL-terminated.
    unsafe fn upload_file(c: &od_client, [d, i, n, path]: [*const c_char; 4]) -> od_status {
        let none = ptr::null_mut();
        // SAFETY: forwarded from the caller.
        unsafe {
            od_upload_file(
                c,
                d,
                i,
                n,
                path,
                BAD_CONFLICT,
                None,
                none,
                ptr::null(),
                &mut none.cast(),
            )
        }
    }
    /// # Safety
    /// Strings NULL or NUL-terminated.
    unsafe fn stream(c: &od_client, [d, i, n]: [*const c_char; 3]) -> od_status {
        let none = ptr::null_mut();
        let read: od_read_fn = Some(read_cb);
        // SAFETY: forwarded from the caller; the read callback is never
        // reached (the conflict is refused first).
        unsafe {
            od_upload_stream(
                c,
                d,
                i,
                n,
                0,
                read,
                none,
                BAD_CONFLICT,
                None,
                none,
                ptr::null(),
                &mut none.cast(),
            )
        }
    }
    /// # Safety
    /// Strings NULL or NUL-terminated.
    unsafe fn session(c: &od_client, [d, i, n]: [*const c_char; 3]) -> od_status {
        // SAFETY: forwarded from the caller.
        unsafe { od_session_create(c, d, i, n, 10, BAD_CONFLICT, &mut ptr::null_mut()) }
    }
    let nul: *const c_char = ptr::null();
    arg!("od_upload drive", inv, me, inv, |c, p| upload(
        c,
        [p, item, name]
    ));
    arg!("od_upload item", null, c"/docs", inv, |c, p| upload(
        c,
        [nul, p, name]
    ));
    arg!("od_upload name", inv, c"b.txt", inv, |c, p| upload(
        c,
        [nul, item, p]
    ));
    let path = c"/nonexistent".as_ptr();
    arg!("od_upload_file drive", inv, me, inv, |c, p| upload_file(
        c,
        [p, item, name, path]
    ));
    arg!("od_upload_file item", null, c"/docs", inv, |c, p| {
        upload_file(c, [nul, p, name, path])
    });
    arg!("od_upload_file name", inv, c"b.txt", inv, |c, p| {
        upload_file(c, [nul, item, p, path])
    });
    arg!("od_upload_file path", null, c"/nonexistent", inv, |c, p| {
        upload_file(c, [nul, item, name, p])
    });
    arg!("od_upload_stream drive", inv, me, inv, |c, p| stream(
        c,
        [p, item, name]
    ));
    arg!("od_upload_stream item", null, c"/docs", inv, |c, p| stream(
        c,
        [nul, p, name]
    ));
    arg!("od_upload_stream name", inv, c"b.txt", inv, |c, p| stream(
        c,
        [nul, item, p]
    ));
    arg!("od_session_create drive", inv, me, inv, |c, p| session(
        c,
        [p, item, name]
    ));
    arg!("od_session_create item", null, c"/docs", inv, |c, p| {
        session(c, [nul, p, name])
    });
    arg!(
        "od_session_create name",
        inv,
        c"b.txt",
        inv,
        |c, p| session(c, [nul, item, p])
    );
    /// # Safety
    /// As for `od_copy`.
    unsafe fn copy(c: &od_client, args: [*const c_char; 5], flags: u32) -> od_status {
        // SAFETY: forwarded from the caller.
        unsafe {
            od_copy(
                c,
                args[0],
                args[1],
                args[2],
                args[3],
                args[4],
                0,
                flags,
                &mut ptr::null_mut(),
            )
        }
    }
    let src = c"/a.txt".as_ptr();
    let dst = c"/docs".as_ptr();
    // Unknown flags stop od_copy after its strings.
    arg!("od_copy drive", inv, me, inv, |c, p| copy(
        c,
        [p, src, dst, ptr::null(), ptr::null()],
        2
    ));
    arg!("od_copy source", null, c"ID1", inv, |c, p| copy(
        c,
        [ptr::null(), p, dst, ptr::null(), ptr::null()],
        2
    ));
    arg!("od_copy dest_parent", null, c"ID2:/sub", inv, |c, p| copy(
        c,
        [ptr::null(), src, p, ptr::null(), ptr::null()],
        2
    ));
    arg!("od_copy dest_drive_id", inv, c"b!xyz", inv, |c, p| copy(
        c,
        [ptr::null(), src, dst, p, ptr::null()],
        2
    ));
    arg!("od_copy new_name", inv, c"b.txt", inv, |c, p| copy(
        c,
        [ptr::null(), src, dst, ptr::null(), p],
        2
    ));
    // The client setters: a good value succeeds.
    arg!("od_client_set_token token", null, c"tok", OD_OK, |c, p| {
        od_client_set_token(c, p)
    });
    arg!(
        "od_client_set_user_agent user_agent",
        null,
        c"ua/1",
        OD_OK,
        |c, p| od_client_set_user_agent(c, p)
    );
    v
}

unsafe extern "C" fn read_cb(_userdata: *mut c_void, _buf: *mut u8, _len: usize) -> i64 {
    panic!("the read callback was called by a call that should have stopped before")
}

#[test]
fn string_arguments_null_bad_utf8_good() {
    let c = Client::new();
    // SAFETY: live until `c` drops.
    let client = unsafe { &*c.0 };
    for a in string_args() {
        let what = a.what;
        assert_eq!((a.call)(client, ptr::null()), a.null, "{what}: NULL");
        assert_eq!(od_last_error_status(), a.null, "{what}");
        if a.null == OD_ERR_NULL_ARGUMENT {
            assert!(
                last_message().contains("is NULL"),
                "{what}: {}",
                last_message()
            );
        }
        assert_eq!(
            (a.call)(client, BAD_UTF8.as_ptr()),
            OD_ERR_INVALID_UTF8,
            "{what}: not UTF-8"
        );
        assert!(
            last_message().contains("UTF-8"),
            "{what}: {}",
            last_message()
        );
        assert_eq!(
            (a.call)(client, a.good.as_ptr()),
            a.good_gives,
            "{what}: {:?}: {}",
            a.good,
            last_message()
        );
    }
}

#[test]
fn enum_and_flag_arguments_out_of_range() {
    let c = Client::new();
    let item = c"/docs/a.txt".as_ptr();
    for conflict in [4, 5, -1, i32::MIN, i32::MAX] {
        let mut oi = sentinel::<od_item>();
        let mut oj = sentinel::<od_job>();
        let mut os = sentinel::<od_session>();
        // SAFETY: live client, C strings, writable out-params.
        unsafe {
            let s = od_upload(
                c.0,
                ptr::null(),
                item,
                ptr::null(),
                ptr::null(),
                0,
                conflict,
                None,
                ptr::null_mut(),
                ptr::null(),
                &mut oi,
            );
            expect(s, OD_ERR_INVALID_ARGUMENT);
            assert!(last_message().contains("od_conflict"), "{}", last_message());
            let s = od_upload_stream(
                c.0,
                ptr::null(),
                item,
                ptr::null(),
                1,
                Some(read_cb),
                ptr::null_mut(),
                conflict,
                None,
                ptr::null_mut(),
                ptr::null(),
                &mut oi,
            );
            expect(s, OD_ERR_INVALID_ARGUMENT);
            let s = od_session_create(c.0, ptr::null(), item, ptr::null(), 1, conflict, &mut os);
            expect(s, OD_ERR_INVALID_ARGUMENT);
            let s = od_copy(
                c.0,
                ptr::null(),
                item,
                c"/dest".as_ptr(),
                ptr::null(),
                ptr::null(),
                conflict,
                0,
                &mut oj,
            );
            expect(s, OD_ERR_INVALID_ARGUMENT);
        }
        assert_eq!((oi, oj, os), (sentinel(), sentinel(), sentinel()));
    }
    for flags in [2, 3, 1 << 31, u32::MAX] {
        let mut oj = sentinel::<od_job>();
        // SAFETY: as above.
        let s = unsafe {
            od_copy(
                c.0,
                ptr::null(),
                item,
                c"/dest".as_ptr(),
                ptr::null(),
                ptr::null(),
                0,
                flags,
                &mut oj,
            )
        };
        expect(s, OD_ERR_INVALID_ARGUMENT);
        assert!(last_message().contains("flags"), "{}", last_message());
        assert_eq!(oj, sentinel());
    }
}

#[test]
fn item_and_name_arguments_refused_locally() {
    let c = Client::new();
    let up = |item: &CStr, name: Option<&CStr>| {
        let mut oi = sentinel::<od_item>();
        // SAFETY: live client, C strings, `data` NULL with 0.
        let s = unsafe {
            od_upload(
                c.0,
                ptr::null(),
                item.as_ptr(),
                name.map_or(ptr::null(), CStr::as_ptr),
                ptr::null(),
                0,
                0,
                None,
                ptr::null_mut(),
                ptr::null(),
                &mut oi,
            )
        };
        assert_eq!(oi, sentinel());
        s
    };
    // The root is no file; names the service forbids.
    expect(up(c"/", None), OD_ERR_INVALID_NAME);
    for name in [
        c"", c"a/b", c"a\\b", c"a*b", c"a<b", c"a>b", c"a?b", c"a:b", c"a|b", c"a\"b",
    ] {
        expect(up(c"/docs", Some(name)), OD_ERR_INVALID_NAME);
    }
    // Malformed item references.
    for item in [c"", c"ID:rel"] {
        expect(up(item, Some(c"a.txt")), OD_ERR_INVALID_ARGUMENT);
    }
    // A session needs at least one byte.
    let mut os = sentinel::<od_session>();
    // SAFETY: live client, C strings, writable out-param.
    let s = unsafe {
        od_session_create(
            c.0,
            ptr::null(),
            c"/docs".as_ptr(),
            c"a".as_ptr(),
            0,
            0,
            &mut os,
        )
    };
    expect(s, OD_ERR_INVALID_ARGUMENT);
    assert_eq!(os, sentinel());
}

#[test]
fn bytes_arguments() {
    let c = Client::new();
    let mut prog = Progress::stopping();
    let data = [1u8, 2, 3];
    let up = |p: *const u8, len: usize, prog: &mut Progress| {
        let mut oi = sentinel::<od_item>();
        // SAFETY: live client; `p` is NULL or holds `len` bytes, or `len`
        // is beyond isize::MAX (refused before any read); `prog` outlives
        // the call.
        let s = unsafe {
            od_upload(
                c.0,
                ptr::null(),
                c"/a.bin".as_ptr(),
                ptr::null(),
                p,
                len,
                0,
                Some(progress_cb),
                (prog as *mut Progress).cast(),
                ptr::null(),
                &mut oi,
            )
        };
        assert_eq!(oi, sentinel());
        s
    };
    // NULL with 0 is an empty body: the call goes as far as the first
    // progress report, (0, 0), where the callback stops it.
    expect(up(ptr::null(), 0, &mut prog), OD_ERR_ABORTED_BY_CALLBACK);
    assert_eq!(prog.seen, [(0, 0)]);
    // A pointer with 0: the same.
    expect(up(data.as_ptr(), 0, &mut prog), OD_ERR_ABORTED_BY_CALLBACK);
    assert_eq!(prog.seen, [(0, 0); 2]);
    // A pointer with its length.
    expect(up(data.as_ptr(), 3, &mut prog), OD_ERR_ABORTED_BY_CALLBACK);
    assert_eq!(prog.seen[2], (0, 3));
    // NULL with a length: refused before anything else.
    expect(up(ptr::null(), 3, &mut prog), OD_ERR_NULL_ARGUMENT);
    assert!(last_message().contains("`data`"), "{}", last_message());
    // A length no buffer can have: refused without reading.
    for len in [isize::MAX as usize + 1, usize::MAX] {
        expect(up(data.as_ptr(), len, &mut prog), OD_ERR_INVALID_ARGUMENT);
    }
    assert_eq!(prog.seen.len(), 3, "callback called after a refusal");
}

#[test]
fn handle_arguments_null() {
    let mut oi = sentinel::<od_item>();
    let mut oj = sentinel::<od_job>();
    let mut os = sentinel::<od_session>();
    let mut state = od_job_state::OD_JOB_RUNNING;
    let mut job = ptr::null_mut();
    // SAFETY: a C string; writable out-param.
    let s = unsafe {
        od_job_from_monitor_url(c"https://m.example.com/j".as_ptr(), ptr::null(), &mut job)
    };
    assert_eq!(s, OD_OK);
    let mut session = ptr::null_mut();
    // SAFETY: a C string; writable out-param.
    assert_eq!(
        unsafe { od_session_from_json(SESSION_JSON.as_ptr(), &mut session) },
        OD_OK
    );
    let nc: *const od_client = ptr::null();
    let p = c"/a".as_ptr();
    // SAFETY: NULL handles are refused before any use; other pointers are
    // C strings, live handles or writable out-params.
    let cases: Vec<(&str, od_status)> = unsafe {
        vec![
            ("set_token", od_client_set_token(nc, p)),
            (
                "set_token_callback",
                od_client_set_token_callback(nc, None, ptr::null_mut()),
            ),
            ("set_timeouts", od_client_set_timeouts(nc, 1, 1)),
            ("set_retry", od_client_set_retry(nc, 1, 1)),
            ("set_user_agent", od_client_set_user_agent(nc, p)),
            (
                "set_upload_options",
                od_client_set_upload_options(nc, 1, 327_680, 0),
            ),
            (
                "upload",
                od_upload(
                    nc,
                    ptr::null(),
                    p,
                    ptr::null(),
                    ptr::null(),
                    0,
                    0,
                    None,
                    ptr::null_mut(),
                    ptr::null(),
                    &mut oi,
                ),
            ),
            (
                "upload_file",
                od_upload_file(
                    nc,
                    ptr::null(),
                    p,
                    ptr::null(),
                    p,
                    0,
                    None,
                    ptr::null_mut(),
                    ptr::null(),
                    &mut oi,
                ),
            ),
            (
                "upload_stream",
                od_upload_stream(
                    nc,
                    ptr::null(),
                    p,
                    ptr::null(),
                    1,
                    Some(read_cb),
                    ptr::null_mut(),
                    0,
                    None,
                    ptr::null_mut(),
                    ptr::null(),
                    &mut oi,
                ),
            ),
            (
                "url_upload",
                od_url_upload(nc, ptr::null(), p, p, p, &mut oj),
            ),
            (
                "copy",
                od_copy(
                    nc,
                    ptr::null(),
                    p,
                    p,
                    ptr::null(),
                    ptr::null(),
                    0,
                    0,
                    &mut oj,
                ),
            ),
            ("item_get", od_item_get(nc, ptr::null(), p, &mut oi)),
            (
                "poll_job client",
                od_poll_job(nc, job, &mut state, ptr::null_mut()),
            ),
            (
                "wait_job client",
                od_wait_job(nc, job, 1, None, ptr::null_mut(), ptr::null(), &mut oi),
            ),
            (
                "session_create",
                od_session_create(nc, ptr::null(), p, ptr::null(), 1, 0, &mut os),
            ),
            (
                "session_upload_file client",
                od_session_upload_file(nc, session, p, None, ptr::null_mut(), ptr::null(), &mut oi),
            ),
            (
                "session_upload_stream client",
                od_session_upload_stream(
                    nc,
                    session,
                    Some(read_cb),
                    ptr::null_mut(),
                    None,
                    ptr::null_mut(),
                    ptr::null(),
                    &mut oi,
                ),
            ),
            ("session_cancel client", od_session_cancel(nc, session)),
        ]
    };
    let c = Client::new();
    // SAFETY: as above, with a live client and NULL jobs / sessions.
    let more: Vec<(&str, od_status)> = unsafe {
        vec![
            (
                "poll_job job",
                od_poll_job(c.0, ptr::null(), &mut state, ptr::null_mut()),
            ),
            (
                "poll_job out_state",
                od_poll_job(c.0, job, ptr::null_mut(), ptr::null_mut()),
            ),
            (
                "wait_job job",
                od_wait_job(
                    c.0,
                    ptr::null(),
                    1,
                    None,
                    ptr::null_mut(),
                    ptr::null(),
                    &mut oi,
                ),
            ),
            (
                "session_upload_file session",
                od_session_upload_file(
                    c.0,
                    ptr::null(),
                    p,
                    None,
                    ptr::null_mut(),
                    ptr::null(),
                    &mut oi,
                ),
            ),
            (
                "session_upload_stream session",
                od_session_upload_stream(
                    c.0,
                    ptr::null(),
                    Some(read_cb),
                    ptr::null_mut(),
                    None,
                    ptr::null_mut(),
                    ptr::null(),
                    &mut oi,
                ),
            ),
            (
                "session_upload_stream read",
                od_session_upload_stream(
                    c.0,
                    session,
                    None,
                    ptr::null_mut(),
                    None,
                    ptr::null_mut(),
                    ptr::null(),
                    &mut oi,
                ),
            ),
            (
                "upload_stream read",
                od_upload_stream(
                    c.0,
                    ptr::null(),
                    p,
                    ptr::null(),
                    1,
                    None,
                    ptr::null_mut(),
                    0,
                    None,
                    ptr::null_mut(),
                    ptr::null(),
                    &mut oi,
                ),
            ),
            (
                "session_cancel session",
                od_session_cancel(c.0, ptr::null()),
            ),
            (
                "upload out_item",
                od_upload(
                    c.0,
                    ptr::null(),
                    p,
                    ptr::null(),
                    ptr::null(),
                    0,
                    0,
                    None,
                    ptr::null_mut(),
                    ptr::null(),
                    ptr::null_mut(),
                ),
            ),
            (
                "url_upload out_job",
                od_url_upload(c.0, ptr::null(), p, p, p, ptr::null_mut()),
            ),
            (
                "copy out_job",
                od_copy(
                    c.0,
                    ptr::null(),
                    p,
                    p,
                    ptr::null(),
                    ptr::null(),
                    0,
                    0,
                    ptr::null_mut(),
                ),
            ),
            (
                "item_get out_item",
                od_item_get(c.0, ptr::null(), p, ptr::null_mut()),
            ),
            (
                "session_create out_session",
                od_session_create(c.0, ptr::null(), p, ptr::null(), 1, 0, ptr::null_mut()),
            ),
        ]
    };
    for (what, s) in cases.into_iter().chain(more) {
        assert_eq!(s, OD_ERR_NULL_ARGUMENT, "{what}");
    }
    assert_eq!((oi, oj, os), (sentinel(), sentinel(), sentinel()));
    assert_eq!(state, od_job_state::OD_JOB_RUNNING);
    // SAFETY: made above, freed once.
    unsafe {
        od_job_free(job);
        od_session_free(session);
    }
}

#[test]
fn item_accessors_of_null() {
    // SAFETY: NULL is allowed for every accessor.
    unsafe {
        assert!(od_item_id(ptr::null()).is_null());
        assert!(od_item_name(ptr::null()).is_null());
        assert!(od_item_etag(ptr::null()).is_null());
        assert!(od_item_ctag(ptr::null()).is_null());
        assert!(od_item_drive_id(ptr::null()).is_null());
        assert!(od_item_parent_id(ptr::null()).is_null());
        assert!(od_item_quick_xor_hash(ptr::null()).is_null());
        assert!(od_item_json(ptr::null()).is_null());
        assert_eq!(od_item_size(ptr::null()), -1);
        assert!(!od_item_is_folder(ptr::null()));
    }
}

// ---------------------------------------------------------------------------
// Callbacks reachable without a request

/// What a progress callback saw, and what it answers.
struct Progress {
    seen: Vec<(u64, u64)>,
    answer: c_int,
}

impl Progress {
    fn stopping() -> Progress {
        Progress {
            seen: Vec::new(),
            answer: 1,
        }
    }

    fn going_on() -> Progress {
        Progress {
            seen: Vec::new(),
            answer: 0,
        }
    }
}

unsafe extern "C" fn progress_cb(userdata: *mut c_void, done: u64, total: u64) -> c_int {
    // SAFETY: every test passes a `Progress` that outlives the call.
    let p = unsafe { &mut *userdata.cast::<Progress>() };
    p.seen.push((done, total));
    p.answer
}

/// What a misbehaving read callback returns, given the length asked for.
type ReadAnswer = fn(len: usize) -> i64;

/// A way to misbehave: (what, data, announced size, answer, message says).
type Misbehaviour = (
    &'static str,
    &'static [u8],
    u64,
    Option<ReadAnswer>,
    &'static str,
);

/// A read callback over a buffer, with ways to misbehave.
struct Reader {
    data: Vec<u8>,
    pos: usize,
    calls: usize,
    /// Return this instead of reading (a failure, or a lie).
    answer: Option<ReadAnswer>,
}

impl Reader {
    fn over(data: &[u8]) -> Reader {
        Reader {
            data: data.to_vec(),
            pos: 0,
            calls: 0,
            answer: None,
        }
    }
}

unsafe extern "C" fn reader_cb(userdata: *mut c_void, buf: *mut u8, len: usize) -> i64 {
    // SAFETY: every test passes a `Reader` that outlives the call.
    let r = unsafe { &mut *userdata.cast::<Reader>() };
    r.calls += 1;
    if let Some(answer) = r.answer {
        return answer(len);
    }
    let n = len.min(r.data.len() - r.pos).min(2); // short reads on purpose
    // SAFETY: the library passes `len` writable bytes at `buf`.
    unsafe { ptr::copy_nonoverlapping(r.data[r.pos..].as_ptr(), buf, n) };
    r.pos += n;
    n as i64
}

/// `od_upload_stream` of `size` bytes from `reader` to `/docs/s.bin`, with
/// the progress callback `prog`.
fn stream(c: &Client, size: u64, reader: &mut Reader, prog: &mut Progress) -> od_status {
    let mut oi = sentinel::<od_item>();
    // SAFETY: live client, C strings; `reader` and `prog` outlive the call.
    let s = unsafe {
        od_upload_stream(
            c.0,
            ptr::null(),
            c"/docs".as_ptr(),
            c"s.bin".as_ptr(),
            size,
            Some(reader_cb),
            (reader as *mut Reader).cast(),
            0,
            Some(progress_cb),
            (prog as *mut Progress).cast(),
            ptr::null(),
            &mut oi,
        )
    };
    assert_eq!(oi, sentinel());
    s
}

#[test]
fn read_callback_is_read_while_sending() {
    let c = Client::new();
    let mut r = Reader::over(b"hello");
    let mut prog = Progress::stopping();
    expect(stream(&c, 5, &mut r, &mut prog), OD_ERR_ABORTED_BY_CALLBACK);
    // A simple upload streams its body: nothing is read before the request
    // (which the progress callback stopped).
    assert_eq!((r.pos, r.calls), (0, 0));
    assert_eq!(prog.seen, [(0, 5)]);
}

/// A read callback cannot be read again: a stream upload answered 503
/// ends with `OD_ERR_IO` saying so instead of being sent again from
/// wherever the callback has got to.
#[test]
#[cfg_attr(miri, ignore = "needs a socket")]
fn a_stream_is_not_sent_again() {
    use onedrive_emulator::{FaultAction, FaultRule, Times};
    let emu = onedrive_emulator::Emulator::start(onedrive_emulator::Config::default()).unwrap();
    let c = Client::of(&emu, &emu.token());
    let lines = LogLines::default();
    emu.add_fault(FaultRule {
        origin: None,
        method: Some("PUT".into()),
        path_contains: Some("r.bin".into()),
        times: Times::Next(1),
        action: FaultAction::Status {
            status: 503,
            retry_after: Some(0),
        },
    });
    let mut r = Reader::over(b"hello, world");
    let mut oi = sentinel::<od_item>();
    // SAFETY: live client, C strings; `r` and `lines` outlive the client
    // (dropped after `c` below); a writable out-param.
    unsafe {
        log_to(&c, OD_LOG_INFO, &lines);
        let s = od_upload_stream(
            c.0,
            ptr::null(),
            c"/".as_ptr(),
            c"r.bin".as_ptr(),
            12,
            Some(reader_cb),
            (&mut r as *mut Reader).cast(),
            0,
            None,
            ptr::null_mut(),
            ptr::null(),
            &mut oi,
        );
        expect(s, OD_ERR_IO);
        assert!(
            last_message().contains("its source cannot go back"),
            "{}",
            last_message()
        );
    }
    assert_eq!(oi, sentinel());
    drop(c);
    let lines = lines.into_inner().unwrap();
    // One PUT answered (the 503); the second attempt never left.
    let answered = |l: &str| l.starts_with("PUT ") && l.contains(" -> ") && !l.contains("failed");
    assert_eq!(
        lines.iter().filter(|(_, l)| answered(l)).count(),
        1,
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|(_, l)| l.contains(" -> 503")),
        "{lines:?}"
    );
}

/// A read callback that fails, lies or ends at the wrong place, while a
/// simple upload streams it to a running emulator.
#[test]
#[cfg_attr(miri, ignore = "needs a socket")]
fn read_callback_misbehaving() {
    let emu = onedrive_emulator::Emulator::start(onedrive_emulator::Config::default()).unwrap();
    let c = Client::of(&emu, &emu.token());
    let cases: [Misbehaviour; 5] = [
        ("fails", b"hello", 5, Some(|_| -1), "failed (-1)"),
        ("fails big", b"hello", 5, Some(|_| i64::MIN), "failed"),
        (
            "claims more than asked",
            b"hello",
            5,
            Some(|len| len as i64 + 1),
            "claimed",
        ),
        ("ends early", b"hel", 5, None, "ended at byte 3 of 5"),
        (
            "goes on",
            b"hello!",
            5,
            None,
            "longer than its announced size",
        ),
    ];
    for (what, data, size, answer, says) in cases {
        let mut r = Reader::over(data);
        r.answer = answer;
        let mut prog = Progress::going_on();
        expect(stream(&c, size, &mut r, &mut prog), OD_ERR_IO);
        assert!(last_message().contains(says), "{what}: {}", last_message());
        assert!(r.calls >= 1, "{what}");
    }
}

#[test]
fn cancel_flag_raised_before_the_call() {
    let c = Client::new();
    let mut cancel = ptr::null_mut();
    // SAFETY: writable out-param.
    assert_eq!(unsafe { od_cancel_new(&mut cancel) }, OD_OK);
    let mut prog = Progress::stopping();
    let up = |prog: &mut Progress| {
        let mut oi = sentinel::<od_item>();
        // SAFETY: live client and flag; `prog` outlives the call.
        let s = unsafe {
            od_upload(
                c.0,
                ptr::null(),
                c"/a.bin".as_ptr(),
                ptr::null(),
                b"x".as_ptr(),
                1,
                0,
                Some(progress_cb),
                (prog as *mut Progress).cast(),
                cancel,
                &mut oi,
            )
        };
        assert_eq!(oi, sentinel());
        s
    };
    // SAFETY: live flag.
    unsafe { od_cancel_trigger(cancel) };
    expect(up(&mut prog), OD_ERR_CANCELLED);
    assert!(prog.seen.is_empty());
    // Lowered, the same flag lets the call go on to the callback.
    // SAFETY: live flag.
    unsafe { od_cancel_reset(cancel) };
    expect(up(&mut prog), OD_ERR_ABORTED_BY_CALLBACK);
    assert_eq!(prog.seen, [(0, 1)]);
    // SAFETY: freed once.
    unsafe { od_cancel_free(cancel) };
}

unsafe extern "C" fn token_cb(userdata: *mut c_void, client: *const od_client) -> c_int {
    // SAFETY: the test passes a counter that outlives the client.
    unsafe { *userdata.cast::<u32>() += 1 };
    // SAFETY: the library passes the client that owns the callback.
    unsafe { od_client_set_token(client, c"fresh".as_ptr()) as c_int }
}

#[test]
fn token_callback_installed_and_removed() {
    let c = Client::new();
    let mut calls = 0u32;
    // SAFETY: live client; `calls` outlives the client.
    unsafe {
        let ud = (&mut calls as *mut u32).cast();
        expect(od_client_set_token_callback(c.0, Some(token_cb), ud), OD_OK);
        expect(od_client_set_token_callback(c.0, Some(token_cb), ud), OD_OK);
        expect(
            od_client_set_token_callback(c.0, None, ptr::null_mut()),
            OD_OK,
        );
        expect(od_client_set_token_callback(c.0, Some(token_cb), ud), OD_OK);
    }
    // Freed with the callback still installed.
    drop(c);
    // Only a 401 calls it (see the socket test below and tests/).
    assert_eq!(calls, 0);
}

// ---------------------------------------------------------------------------
// Over a loopback socket (refused): not under Miri

#[test]
#[cfg_attr(miri, ignore = "needs a socket")]
fn refused_connection_reaches_c_as_network_error() {
    let c = Client::new();
    let mut prog = Progress {
        seen: Vec::new(),
        answer: 0,
    };
    let mut oi = sentinel::<od_item>();
    // SAFETY: live client, C strings; `prog` outlives the call.
    let s = unsafe {
        assert_eq!(od_client_set_retry(c.0, 1, 0), OD_OK);
        od_upload(
            c.0,
            ptr::null(),
            c"/a.bin".as_ptr(),
            ptr::null(),
            b"abc".as_ptr(),
            3,
            0,
            Some(progress_cb),
            (&mut prog as *mut Progress).cast(),
            ptr::null(),
            &mut oi,
        )
    };
    expect(s, OD_ERR_NETWORK);
    assert_eq!(oi, sentinel());
    assert_eq!(prog.seen.first(), Some(&(0, 3)));
    assert_eq!(od_last_error_http_status(), 0);

    let mut oi = sentinel::<od_item>();
    // SAFETY: as above.
    let s = unsafe { od_item_get(c.0, ptr::null(), c"/a.bin".as_ptr(), &mut oi) };
    expect(s, OD_ERR_NETWORK);
    assert_eq!(oi, sentinel());
    // The code is the service's only: no answer, no code (the transport's
    // own note that nothing was sent stays inside).
    assert_eq!(last_field(od_error_field::OD_ERROR_CODE as i32), "");
    assert_eq!(last_field(od_error_field::OD_ERROR_INNER_CODE as i32), "");
}

/// A request past its total deadline (a server that answers one byte at a
/// time, each within the stall timeout) is `OD_ERR_TIMEOUT` with no code.
#[test]
#[cfg_attr(miri, ignore = "needs a socket")]
fn past_deadline_reaches_c_without_a_code() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut buf = [0u8; 4096];
        let _ = conn.read(&mut buf);
        let mut out = conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n");
        // One byte per 50 ms (the stall timeout is 400 ms), until the
        // client hangs up: the request's deadline (~1.3 s) ends it.
        while out.is_ok() {
            std::thread::sleep(std::time::Duration::from_millis(50));
            out = conn.write_all(b" ");
        }
    });
    let base = std::ffi::CString::new(format!("http://127.0.0.1:{port}/v1.0")).unwrap();
    let c = Client::at(&base, c"t");
    let mut oi = sentinel::<od_item>();
    // SAFETY: live client, C strings, writable out-param.
    let s = unsafe {
        assert_eq!(od_client_set_retry(c.0, 3, 60_000), OD_OK);
        assert_eq!(od_client_set_timeouts(c.0, 500, 400), OD_OK);
        od_item_get(c.0, ptr::null(), c"/a.bin".as_ptr(), &mut oi)
    };
    expect(s, OD_ERR_TIMEOUT);
    assert_eq!(oi, sentinel());
    assert!(
        last_message().contains("did not end in time"),
        "{}",
        last_message()
    );
    assert_eq!(last_field(od_error_field::OD_ERROR_CODE as i32), "");
    assert_eq!(last_field(od_error_field::OD_ERROR_INNER_CODE as i32), "");
    drop(c);
    server.join().unwrap();
}

#[test]
#[cfg_attr(miri, ignore = "opens a file")]
fn upload_file_of_a_missing_file_is_io() {
    let c = Client::new();
    let mut oi = sentinel::<od_item>();
    // SAFETY: live client, C strings.
    let s = unsafe {
        od_upload_file(
            c.0,
            ptr::null(),
            c"/docs".as_ptr(),
            c"x.bin".as_ptr(),
            c"/nonexistent/onedrive-native-test".as_ptr(),
            0,
            None,
            ptr::null_mut(),
            ptr::null(),
            &mut oi,
        )
    };
    expect(s, OD_ERR_IO);
    assert_eq!(oi, sentinel());
}

// ---------------------------------------------------------------------------
// The header's per-handle "Methods:" index

/// The names in the doc comment of `typedef struct od_x od_x;` after its
/// "Methods:" line.
fn methods_index(header: &str, handle: &str) -> Vec<String> {
    let typedef = format!("typedef struct {handle} {handle};");
    let lines: Vec<&str> = header.lines().collect();
    let at = lines.iter().position(|l| *l == typedef).unwrap();
    let doc: Vec<&str> = lines[..at]
        .iter()
        .rev()
        .take_while(|l| l.starts_with("//"))
        .copied()
        .collect();
    let text: String = doc.into_iter().rev().collect::<Vec<_>>().join("\n");
    let (_, index) = text
        .split_once("Methods:")
        .unwrap_or_else(|| panic!("{handle} has no Methods: index"));
    names_in(index).into_iter().map(str::to_owned).collect()
}

/// Each handle type's doc comment names, after "Methods:", every function
/// that takes or hands out that handle, and only functions that exist
/// (build.rs completes the hand-written part: `methods_index::complete`).
#[test]
#[cfg_attr(miri, ignore = "reads the header")]
fn every_handle_has_a_complete_methods_index() {
    let header =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/onedrive.h"))
            .unwrap();
    let functions = header_functions(&header);
    assert!(functions.len() > 50, "read {} functions", functions.len());
    assert!(
        functions
            .iter()
            .any(|(n, p)| n == "od_job_item" && p.contains("od_item **"))
    );
    let handles: Vec<&str> = header
        .lines()
        .filter_map(|l| l.strip_prefix("typedef struct "))
        .filter_map(|l| l.split(' ').next())
        .collect();
    assert!(handles.len() >= 5, "{handles:?}");
    for handle in handles {
        let index = methods_index(&header, handle);
        for name in &index {
            assert!(
                functions.iter().any(|(n, _)| n == name),
                "{handle}'s Methods: names {name}, which the header does not declare"
            );
        }
        let pointer = format!("{handle} *");
        for (name, params) in &functions {
            if params.contains(&pointer) {
                assert!(
                    index.contains(name),
                    "{name} takes or hands out a {handle}: name it in {handle}'s Methods: index"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The setters, folder and delete calls with bad inputs and good ones that
// make no request (so Miri sees every one of them)

unsafe extern "C" fn log_nothing(_: *mut c_void, _: c_int, _: *const c_char) {}

#[test]
fn setters_folder_and_delete_with_bad_and_good_inputs() {
    let c = Client::new();
    let cp = c.0.cast_const();
    let nul: *const od_client = ptr::null();
    // SAFETY (every block below): NULL or a live client, NULL or C strings,
    // writable out-params; no call makes a request (each stops at a local
    // check, or changes a setting only).
    unsafe {
        // od_client_set_token_with_expiry
        expect(
            od_client_set_token_with_expiry(nul, c"t".as_ptr(), 0),
            OD_ERR_NULL_ARGUMENT,
        );
        expect(
            od_client_set_token_with_expiry(cp, ptr::null(), 0),
            OD_ERR_NULL_ARGUMENT,
        );
        expect(
            od_client_set_token_with_expiry(cp, BAD_UTF8.as_ptr(), 0),
            OD_ERR_INVALID_UTF8,
        );
        expect(
            od_client_set_token_with_expiry(cp, c"t".as_ptr(), -1),
            OD_ERR_INVALID_ARGUMENT,
        );
        expect(od_client_set_token_with_expiry(cp, c"t".as_ptr(), 0), OD_OK);
        expect(
            od_client_set_token_with_expiry(cp, c"t".as_ptr(), i64::MAX),
            OD_OK,
        );

        // od_client_set_proxy
        expect(od_client_set_proxy(nul, ptr::null()), OD_ERR_NULL_ARGUMENT);
        expect(
            od_client_set_proxy(cp, BAD_UTF8.as_ptr()),
            OD_ERR_INVALID_UTF8,
        );
        expect(
            od_client_set_proxy(cp, c"ftp://127.0.0.1:1".as_ptr()),
            OD_ERR_INVALID_ARGUMENT,
        );
        expect(
            od_client_set_proxy(cp, c"not a url".as_ptr()),
            OD_ERR_INVALID_ARGUMENT,
        );
        expect(
            od_client_set_proxy(cp, c"http://127.0.0.1:3128".as_ptr()),
            OD_OK,
        );
        expect(od_client_set_proxy(cp, ptr::null()), OD_OK);

        // od_client_set_upload_rate
        expect(od_client_set_upload_rate(nul, 1), OD_ERR_NULL_ARGUMENT);
        expect(od_client_set_upload_rate(cp, 16 * 1024), OD_OK);
        expect(od_client_set_upload_rate(cp, u64::MAX), OD_OK);
        expect(od_client_set_upload_rate(cp, 0), OD_OK);

        // od_client_set_log_callback
        let cb: od_log_fn = Some(log_nothing);
        expect(
            od_client_set_log_callback(nul, OD_LOG_ERROR, cb, ptr::null_mut()),
            OD_ERR_NULL_ARGUMENT,
        );
        for bad in [0, 5, -1, i32::MAX] {
            expect(
                od_client_set_log_callback(cp, bad, cb, ptr::null_mut()),
                OD_ERR_INVALID_ARGUMENT,
            );
        }
        expect(
            od_client_set_log_callback(cp, OD_LOG_ERROR, cb, ptr::null_mut()),
            OD_OK,
        );
        // no callback: any level, removed
        expect(
            od_client_set_log_callback(cp, 99, None, ptr::null_mut()),
            OD_OK,
        );

        // od_client_add_ca_file (reading a file is left to the C tests:
        // Miri's isolation has no file system)
        expect(
            od_client_add_ca_file(nul, c"/x.pem".as_ptr()),
            OD_ERR_NULL_ARGUMENT,
        );
        expect(od_client_add_ca_file(cp, ptr::null()), OD_ERR_NULL_ARGUMENT);
        expect(
            od_client_add_ca_file(cp, BAD_UTF8.as_ptr()),
            OD_ERR_INVALID_UTF8,
        );

        // od_folder_create: each argument refused before any request
        let mut out: *mut od_item = sentinel();
        let me = c"/me/drive".as_ptr();
        let folder = |client, drive, parent, name, conflict, flags, out: *mut *mut od_item| {
            od_folder_create(
                client,
                drive,
                parent,
                name,
                conflict,
                flags,
                ptr::null(),
                out,
            )
        };
        expect(
            folder(nul, me, c"/".as_ptr(), c"F".as_ptr(), 0, 0, &mut out),
            OD_ERR_NULL_ARGUMENT,
        );
        expect(
            folder(
                cp,
                BAD_UTF8.as_ptr(),
                c"/".as_ptr(),
                c"F".as_ptr(),
                0,
                0,
                &mut out,
            ),
            OD_ERR_INVALID_UTF8,
        );
        expect(
            folder(
                cp,
                c"/nowhere".as_ptr(),
                c"/".as_ptr(),
                c"F".as_ptr(),
                0,
                0,
                &mut out,
            ),
            OD_ERR_INVALID_ARGUMENT,
        );
        expect(
            folder(cp, me, ptr::null(), c"F".as_ptr(), 0, 0, &mut out),
            OD_ERR_NULL_ARGUMENT,
        );
        expect(
            folder(cp, me, c"/".as_ptr(), ptr::null(), 0, 0, &mut out),
            OD_ERR_NULL_ARGUMENT,
        );
        expect(
            folder(cp, me, c"/".as_ptr(), c"a:b".as_ptr(), 0, 0, &mut out),
            OD_ERR_INVALID_NAME,
        );
        expect(
            folder(cp, me, c"/".as_ptr(), c"F".as_ptr(), 99, 0, &mut out),
            OD_ERR_INVALID_ARGUMENT,
        );
        expect(
            folder(cp, me, c"/".as_ptr(), c"F".as_ptr(), 0, 1 << 30, &mut out),
            OD_ERR_INVALID_ARGUMENT,
        );
        expect(
            folder(cp, me, c"/".as_ptr(), c"F".as_ptr(), 0, 0, ptr::null_mut()),
            OD_ERR_NULL_ARGUMENT,
        );
        assert_eq!(out, sentinel(), "a failed call leaves the out-param");

        // od_item_delete
        let del = |client, drive, item, tag| od_item_delete(client, drive, item, tag, ptr::null());
        expect(
            del(nul, me, c"/a".as_ptr(), ptr::null()),
            OD_ERR_NULL_ARGUMENT,
        );
        expect(
            del(cp, BAD_UTF8.as_ptr(), c"/a".as_ptr(), ptr::null()),
            OD_ERR_INVALID_UTF8,
        );
        expect(del(cp, me, ptr::null(), ptr::null()), OD_ERR_NULL_ARGUMENT);
        expect(
            del(cp, me, BAD_UTF8.as_ptr(), ptr::null()),
            OD_ERR_INVALID_UTF8,
        );
        expect(
            del(cp, me, c"/".as_ptr(), ptr::null()),
            OD_ERR_INVALID_ARGUMENT,
        );
        expect(
            del(cp, me, c"/a".as_ptr(), BAD_UTF8.as_ptr()),
            OD_ERR_INVALID_UTF8,
        );
        expect(
            del(cp, me, c"/a".as_ptr(), c"".as_ptr()),
            OD_ERR_INVALID_ARGUMENT,
        );
    }
}

/// od_client_add_ca_file reads its file: a missing one is `OD_ERR_IO`, a
/// file that holds no certificate is refused, a good bundle is taken.
#[test]
#[cfg_attr(miri, ignore)]
fn add_ca_file_reads_the_file() {
    let c = Client::new();
    let dir = std::env::temp_dir().join(format!("od-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let junk = dir.join("junk.pem");
    std::fs::write(&junk, b"not a certificate").unwrap();
    let missing = std::ffi::CString::new(dir.join("missing.pem").to_str().unwrap()).unwrap();
    let junk = std::ffi::CString::new(junk.to_str().unwrap()).unwrap();
    // SAFETY: a live client and C strings.
    unsafe {
        expect(od_client_add_ca_file(c.0, missing.as_ptr()), OD_ERR_IO);
        assert_ne!(od_client_add_ca_file(c.0, junk.as_ptr()), OD_OK);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------------------
// What a job and a refusal leave behind, against a running emulator

/// `od_wait_job` remembers how the job ended (`od_job_last_state`,
/// `od_job_item`), and a throttled call leaves its Retry-After in the last
/// error (`od_last_error_retry_after_ms`).
#[test]
#[cfg_attr(miri, ignore = "needs a socket")]
fn a_waited_job_remembers_its_end_and_a_throttled_call_its_retry_after() {
    use onedrive_emulator::{FaultAction, FaultRule, Times};
    let emu = onedrive_emulator::Emulator::start(onedrive_emulator::Config::default()).unwrap();
    let c = Client::of(&emu, &emu.token());
    let null = ptr::null();
    // SAFETY: a live client; C strings; 5 readable bytes; writable
    // out-params; each handle freed once, after its last use.
    unsafe {
        let mut up = ptr::null_mut();
        let s = od_upload(
            c.0,
            null,
            c"/".as_ptr(),
            c"src.bin".as_ptr(),
            b"hello".as_ptr(),
            5,
            0,
            None,
            ptr::null_mut(),
            ptr::null(),
            &mut up,
        );
        expect(s, OD_OK);
        // A file: its size; no child count (-1).
        assert_eq!(od_item_size(up), 5);
        assert_eq!(od_item_child_count(up), -1);
        od_item_free(up);
        let mut job = ptr::null_mut();
        let s = od_copy(
            c.0,
            null,
            c"/src.bin".as_ptr(),
            c"/".as_ptr(),
            null,
            c"copy.bin".as_ptr(),
            0,
            0,
            &mut job,
        );
        expect(s, OD_OK);
        assert_eq!(od_job_last_state(job), od_job_state::OD_JOB_UNKNOWN);
        let mut made = ptr::null_mut();
        let s = od_wait_job(
            c.0,
            job,
            60_000,
            None,
            ptr::null_mut(),
            ptr::null(),
            &mut made,
        );
        expect(s, OD_OK);
        assert_eq!(od_job_last_state(job), od_job_state::OD_JOB_COMPLETED);
        let mut seen = ptr::null_mut();
        expect(od_job_item(job, &mut seen), OD_OK);
        assert_eq!(
            CStr::from_ptr(od_item_id(seen)),
            CStr::from_ptr(od_item_id(made))
        );
        assert_eq!(CStr::from_ptr(od_item_name(seen)), c"copy.bin");
        od_item_free(seen);
        od_item_free(made);
        od_job_free(job);

        // Throttled, with a Retry-After longer than the client waits.
        emu.add_fault(FaultRule {
            origin: None,
            method: Some("GET".into()),
            path_contains: Some("src.bin".into()),
            times: Times::Next(1),
            action: FaultAction::Status {
                status: 429,
                retry_after: Some(7),
            },
        });
        expect(od_client_set_retry(c.0, 1, 0), OD_OK);
        let mut got = sentinel::<od_item>();
        expect(
            od_item_get(c.0, null, c"/src.bin".as_ptr(), &mut got),
            OD_ERR_THROTTLED,
        );
        assert_eq!(got, sentinel());
        assert_eq!(od_last_error_retry_after_ms(), 7000);
        assert_eq!(od_last_error_http_status(), 429);
    }
}

/// What a token callback's userdata holds here: the token to give, and how
/// many times it was asked.
struct TokenSource {
    token: std::ffi::CString,
    calls: u32,
}

unsafe extern "C" fn token_from_source(userdata: *mut c_void, client: *const od_client) -> c_int {
    // SAFETY: the test passes a TokenSource that outlives the client.
    let source = unsafe { &mut *userdata.cast::<TokenSource>() };
    source.calls += 1;
    // SAFETY: the library passes the client that owns the callback.
    unsafe { od_client_set_token(client, source.token.as_ptr()) as c_int }
}

unsafe extern "C" fn log_into(userdata: *mut c_void, level: c_int, line: *const c_char) {
    // SAFETY: the test passes a Mutex<Vec<…>> that outlives the client;
    // `line` is a NUL-terminated string for the call's duration.
    let lines = unsafe { &*userdata.cast::<LogLines>() };
    let line = unsafe { CStr::from_ptr(line) }
        .to_string_lossy()
        .into_owned();
    lines.lock().unwrap().push((level, line));
}

/// The log lines a client sent to [`log_into`].
type LogLines = std::sync::Mutex<Vec<(c_int, String)>>;

/// Sends `c`'s log lines up to `level` into `lines`, which must outlive the
/// client.
fn log_to(c: &Client, level: i32, lines: &LogLines) {
    // SAFETY: a live client; `lines` outlives it (the caller's promise).
    let s = unsafe {
        od_client_set_log_callback(
            c.0,
            level,
            Some(log_into),
            (lines as *const LogLines).cast_mut().cast(),
        )
    };
    expect(s, OD_OK);
}

unsafe extern "C" fn refuse_token(userdata: *mut c_void, _client: *const od_client) -> c_int {
    // SAFETY: the test passes a TokenSource that outlives the client.
    let source = unsafe { &mut *userdata.cast::<TokenSource>() };
    source.calls += 1;
    1
}

/// A 401 asks the token callback. One that refuses (non-zero) ends the
/// call with the 401, the request not sent again with the refused token;
/// one that sets a token has the request sent again with it. The log
/// callback sees the requests, never a token.
#[test]
#[cfg_attr(miri, ignore = "needs a socket")]
fn a_refused_token_is_replaced_by_the_callbacks() {
    let emu = onedrive_emulator::Emulator::start(onedrive_emulator::Config::default()).unwrap();
    let lines = LogLines::default();
    let c = Client::of(&emu, "stale");
    let mut source = TokenSource {
        token: std::ffi::CString::new(emu.token()).unwrap(),
        calls: 0,
    };
    log_to(&c, OD_LOG_DEBUG, &lines);
    let answered_401 = |lines: &LogLines| {
        let lines = lines.lock().unwrap();
        lines.iter().filter(|(_, l)| l.contains(" -> 401")).count()
    };
    // SAFETY: a live client; `source` outlives it (dropped after `c`
    // below); C strings; writable out-param; the item freed once.
    unsafe {
        let ud = (&mut source as *mut TokenSource).cast();
        expect(
            od_client_set_token_callback(c.0, Some(refuse_token), ud),
            OD_OK,
        );
        let mut root = ptr::null_mut();
        expect(
            od_item_get(c.0, ptr::null(), c"/".as_ptr(), &mut root),
            OD_ERR_UNAUTHORIZED,
        );
        assert!(root.is_null());
        assert_eq!(od_last_error_http_status(), 401);
        assert_eq!((source.calls, answered_401(&lines)), (1, 1));
        expect(
            od_client_set_token_callback(c.0, Some(token_from_source), ud),
            OD_OK,
        );
        expect(
            od_item_get(c.0, ptr::null(), c"/".as_ptr(), &mut root),
            OD_OK,
        );
        assert!(od_item_is_folder(root));
        // A folder: its child count (src.bin is not in this emulator).
        assert_eq!(od_item_child_count(root), 0);
        od_item_free(root);
    }
    drop(c);
    assert_eq!((source.calls, answered_401(&lines)), (2, 2));
    let lines = lines.into_inner().unwrap();
    for (level, line) in &lines {
        assert!((1..=4).contains(level), "{level} {line}");
        assert!(
            !line.contains("stale") && !line.contains(&emu.token()),
            "{line}"
        );
    }
}

/// Every `od_conflict` number reads as its conflict behaviour; others are
/// refused.
#[test]
fn conflict_numbers() {
    use crate::Conflict;
    let read = |n: i32| conflict_arg(n).ok();
    assert_eq!(
        read(od_conflict::OD_CONFLICT_DEFAULT as i32),
        Some(Conflict::ServiceDefault)
    );
    assert_eq!(
        read(od_conflict::OD_CONFLICT_FAIL as i32),
        Some(Conflict::Fail)
    );
    assert_eq!(
        read(od_conflict::OD_CONFLICT_REPLACE as i32),
        Some(Conflict::Replace)
    );
    assert_eq!(
        read(od_conflict::OD_CONFLICT_RENAME as i32),
        Some(Conflict::Rename)
    );
    for bad in [-1, 4, i32::MAX, i32::MIN] {
        let e = conflict_arg(bad).err().unwrap();
        assert_eq!(e.status, OD_ERR_INVALID_ARGUMENT, "{bad}");
    }
}

/// A session the service lost is replaced during the upload, and the
/// handle keeps the new one: what `od_session_to_json` saves afterwards
/// names the new upload URL.
#[test]
#[cfg_attr(miri, ignore = "needs a socket")]
fn a_session_replaced_during_an_upload_is_what_the_handle_saves() {
    use onedrive_emulator::{FaultAction, FaultRule, Times};
    let emu = onedrive_emulator::Emulator::start(onedrive_emulator::Config::default()).unwrap();
    let c = Client::of(&emu, &emu.token());
    let dir = std::env::temp_dir().join(format!("od-ffi-session-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("s.bin");
    std::fs::write(&file, b"hello").unwrap();
    let path = std::ffi::CString::new(file.to_str().unwrap()).unwrap();
    let saved = |session: *const od_session| {
        let mut json = ptr::null_mut();
        // SAFETY: a live session; a writable out-param; the string freed once.
        unsafe {
            expect(od_session_to_json(session, &mut json), OD_OK);
            let text = CStr::from_ptr(json).to_str().unwrap().to_owned();
            od_string_free(json);
            text
        }
    };
    // SAFETY: a live client; C strings; writable out-params; each handle
    // freed once, after its last use.
    unsafe {
        let mut session = ptr::null_mut();
        let s = od_session_create(
            c.0,
            ptr::null(),
            c"/".as_ptr(),
            c"s.bin".as_ptr(),
            5,
            0,
            &mut session,
        );
        expect(s, OD_OK);
        let before = saved(session);
        // The service loses it: its URL answers 404 (the PUT, then the
        // status request).
        emu.add_fault(FaultRule {
            origin: Some("monitor".into()),
            method: None,
            path_contains: Some("/upload/".into()),
            times: Times::Next(2),
            action: FaultAction::Status {
                status: 404,
                retry_after: None,
            },
        });
        let mut up = ptr::null_mut();
        let s = od_session_upload_file(
            c.0,
            session,
            path.as_ptr(),
            None,
            ptr::null_mut(),
            ptr::null(),
            &mut up,
        );
        expect(s, OD_OK);
        assert_eq!(od_item_size(up), 5);
        od_item_free(up);
        let after = saved(session);
        assert_ne!(before, after, "the handle still holds the lost session");
        od_session_free(session);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
