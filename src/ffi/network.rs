//! How a client reaches the service: trusted CAs, proxy, upload rate cap,
//! and its log.

use std::ffi::{CString, c_char, c_void};
use std::sync::Arc;

use crate::graph::log::{LogLevel, LogSink};

use super::boundary::{FfiError, bytes_arg, ffi_call, handle_arg, opt_str_arg, str_arg};
use super::client::od_client;
use super::status::od_status;

/// Trusts the CA certificates in a PEM bundle (`pem`, `len` bytes; one or
/// more `-----BEGIN CERTIFICATE-----` sections, other sections skipped) on
/// this client, in addition to the system's trust store, for connections
/// opened afterwards. Copied; call it again to add more.
///
/// What "the system's trust store" is: on Linux and other Unix systems the
/// CA bundle OpenSSL would use (`SSL_CERT_FILE` / `SSL_CERT_DIR` honoured;
/// read once per process), or, when there is none (a minimal container),
/// the Mozilla roots bundled in this library; on macOS, iOS and Windows the
/// platform's own verifier (the keychain or the certificate store, so a CA
/// that a company or an MDM profile installed is trusted); on Android the
/// bundled Mozilla roots (the platform verifier there needs a JVM context
/// and a Kotlin component shipped with the app, which this library does not
/// ask for). Certificate verification cannot be turned off.
///
/// `OD_ERR_INVALID_ARGUMENT` when `pem` holds no certificate or a malformed
/// one; `OD_ERR_NULL_ARGUMENT` for a NULL `client`, or a NULL `pem` with a
/// non-zero `len`. Any thread; requests under way finish with the trust
/// they began with.
///
/// # Safety
/// `client` must be NULL or a live client; `pem` NULL or `len` readable
/// bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_client_add_ca_pem(
    client: *const od_client,
    pem: *const u8,
    len: usize,
) -> od_status {
    ffi_call(|| {
        // SAFETY: the caller passes NULL or a live client, and `len` bytes.
        let (client, pem) = unsafe { (handle_arg(client, "client")?, bytes_arg(pem, len, "pem")?) };
        client.client.add_ca_pem(pem)?;
        Ok(())
    })
}

/// As `od_client_add_ca_pem`, with the PEM bundle read from the file at
/// `path` (UTF-8, NUL-terminated). `OD_ERR_IO` when it cannot be read.
///
/// # Safety
/// `client` must be NULL or a live client; `path` NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_client_add_ca_file(
    client: *const od_client,
    path: *const c_char,
) -> od_status {
    ffi_call(|| {
        // SAFETY: the caller passes NULL or a live client and a C string.
        let (client, path) = unsafe { (handle_arg(client, "client")?, str_arg(path, "path")?) };
        let pem = std::fs::read(path)
            .map_err(|e| FfiError::new(od_status::OD_ERR_IO, format!("cannot read {path}: {e}")))?;
        client.client.add_ca_pem(&pem)?;
        Ok(())
    })
}

/// Sends every request of this client through a proxy, for connections
/// opened afterwards. `proxy` (copied):
///
/// - `http://[user:password@]host:port`: an HTTP proxy; every target, https
///   or http, goes through a CONNECT tunnel, with Basic authentication when
///   the URL carries credentials (percent-encode `@ : /` in them);
/// - `https://…`: the same, with TLS to the proxy too;
/// - `socks5://[user:password@]host:port` (names resolved here),
///   `socks5h://…` (names resolved by the proxy), `socks4://`, `socks4a://`.
///
/// NULL removes it. Without a proxy of the caller's, one from the
/// environment (`ALL_PROXY`, `HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`) is
/// used, but never for loopback targets (a token meant for a local service
/// must not reach a proxy); a proxy set here carries every target, loopback
/// included. The monitor and upload hosts go through it too.
///
/// A proxy that refuses the tunnel or the credentials (HTTP 407) makes the
/// call fail with `OD_ERR_PROXY`. `OD_ERR_INVALID_ARGUMENT` for another
/// scheme or a malformed URL (the message never repeats the URL: it may
/// hold a password). Any thread; requests under way finish as they began.
///
/// # Safety
/// `client` must be NULL or a live client; `proxy` NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_client_set_proxy(
    client: *const od_client,
    proxy: *const c_char,
) -> od_status {
    ffi_call(|| {
        // SAFETY: the caller passes NULL or a live client and NULL or a C string.
        let (client, proxy) =
            unsafe { (handle_arg(client, "client")?, opt_str_arg(proxy, "proxy")?) };
        client.client.set_proxy(proxy)?;
        Ok(())
    })
}

/// Caps what this client's uploads send, all of them together, at
/// `bytes_per_second` (0: no cap, the default), for simple uploads and
/// upload sessions alike. A capped upload's total deadline grows to match
/// (see `od_client_set_timeouts`); a cancel still ends it within 1 s.
/// Any thread; uploads under way follow a new cap from their next piece.
///
/// # Safety
/// `client` must be NULL or a live client.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_client_set_upload_rate(
    client: *const od_client,
    bytes_per_second: u64,
) -> od_status {
    ffi_call(|| {
        // SAFETY: the caller passes NULL or a live client.
        let client = unsafe { handle_arg(client, "client") }?;
        client.client.set_upload_rate(bytes_per_second);
        Ok(())
    })
}

/// Log levels (`od_client_set_log_callback`, `od_log_fn`): a call failed.
pub const OD_LOG_ERROR: i32 = 1;
/// A request failed and will be retried, or a recovery began.
pub const OD_LOG_WARN: i32 = 2;
/// One line per request (method, host, path without query, status,
/// duration, attempt, request-id), each upload-session decision.
pub const OD_LOG_INFO: i32 = 3;
/// Every look at an asynchronous job and the wait before the next.
pub const OD_LOG_DEBUG: i32 = 4;

/// Receives one log line: `level` is one of `OD_LOG_*`, `message` a
/// NUL-terminated UTF-8 line without a newline, valid only during the
/// call (copy it to keep it). Lines never hold the token, a query string
/// (`tempauth` included) or an upload URL's path: monitor and upload URLs
/// appear as their origin only. Called on whichever thread made the
/// request, possibly several at once, while that request waits; keep it
/// short. It must not free the client, and like every callback of this
/// library it must return normally (no longjmp, no C++ exception through
/// it).
pub type od_log_fn =
    Option<unsafe extern "C" fn(userdata: *mut c_void, level: i32, message: *const c_char)>;

struct LogCallback {
    f: unsafe extern "C" fn(*mut c_void, i32, *const c_char),
    userdata: *mut c_void,
}

// SAFETY: the caller of `od_client_set_log_callback` promises that the
// callback and its userdata may be used from any thread (documented there).
unsafe impl Send for LogCallback {}
// SAFETY: as above; the callback is only ever called, never mutated.
unsafe impl Sync for LogCallback {}

impl LogCallback {
    fn call(&self, level: LogLevel, line: &str) {
        let line = CString::new(line.replace('\0', "?")).unwrap_or_default();
        // SAFETY: the installer gave this callback and userdata for this
        // client and keeps them alive until replaced (see the setter's
        // doc); `line` lives across the call.
        unsafe { (self.f)(self.userdata, level as i32, line.as_ptr()) }
    }
}

/// Installs (or, with `callback` NULL, removes) the log callback, which
/// gets lines of `max_level` and the levels above it (`OD_LOG_ERROR` …
/// `OD_LOG_DEBUG`; another value is `OD_ERR_INVALID_ARGUMENT`, ignored
/// when removing). `userdata` is passed back untouched. The library never
/// routes the HTTP library's own trace output here.
///
/// Replacing follows the token callback's rule: when this returns, the
/// callback it replaced is not running on any thread and will never be
/// called again, so its old `userdata` may be freed right away; called from
/// inside any callback of this library it does not wait, and the old one
/// may then still be running on other threads until they return. The
/// current `userdata` must stay alive until it is replaced or the client is
/// freed.
///
/// # Safety
/// `client` must be NULL or a live client; `callback` must be safe to call
/// from any thread that uses the client, with `userdata`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_client_set_log_callback(
    client: *const od_client,
    max_level: i32,
    callback: od_log_fn,
    userdata: *mut c_void,
) -> od_status {
    ffi_call(|| {
        // SAFETY: the caller passes NULL or a live client.
        let client = unsafe { handle_arg(client, "client") }?;
        let Some(f) = callback else {
            client.client.set_log(LogLevel::Error, None);
            return Ok(());
        };
        let level = u8::try_from(max_level)
            .ok()
            .and_then(LogLevel::from_u8)
            .ok_or_else(|| {
                FfiError::new(
                    od_status::OD_ERR_INVALID_ARGUMENT,
                    format!("log level {max_level}: OD_LOG_ERROR (1) to OD_LOG_DEBUG (4)"),
                )
            })?;
        let cb = LogCallback { f, userdata };
        let sink: LogSink = Arc::new(move |level, line: &str| cb.call(level, line));
        client.client.set_log(level, Some(sink));
        Ok(())
    })
}
