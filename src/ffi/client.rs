//! `od_client`: making one, its token, timeouts, retries and upload
//! options.

use std::ffi::{c_char, c_int, c_void};
use std::sync::Arc;
use std::time::Duration;

use crate::graph::client::Client;
use crate::graph::hash::HashSet;
use crate::graph::settings::{
    ClientConfig, DEFAULT_BASE_URL, RetryPolicy, TokenProvider, UploadSettings,
};
use crate::graph::token::AccessToken;

use super::args::flags_arg;
use super::boundary::{
    FfiError, FfiResult, ffi_call, ffi_new, free_box, handle_arg, opt_str_arg, str_arg,
};
use super::status::od_status;

// Where other modules found it before `od_cancel` had its own module.
pub use super::cancel::od_cancel;

/// A client of one Graph endpoint with one token. Opaque.
///
/// Thread rules: every function taking a `const od_client *` may be called
/// from many threads at once on the same client. Free it once, when no
/// other thread is using it.
///
/// Methods:
/// - `od_client_new`, `od_client_free`: make and free one.
/// - The token: `od_client_set_token`, `od_client_set_token_with_expiry`,
///   `od_client_set_token_callback`.
/// - Settings: `od_client_set_timeouts`, `od_client_set_retry`,
///   `od_client_set_user_agent`, `od_client_set_upload_options`,
///   `od_client_set_upload_rate`, `od_client_set_download_rate`,
///   `od_client_set_log_callback`.
/// - The network: `od_client_add_ca_pem`, `od_client_add_ca_file`,
///   `od_client_set_proxy`.
/// - The transfer queue: `od_queue_open` (the queue shares the client).
/// - Every operation (below).
pub struct od_client {
    pub(crate) client: Client,
}

/// Asked for a fresh token shortly (5 minutes) before the current one
/// expires, when its expiry is known (`od_client_set_token_with_expiry`),
/// and after the service answered 401. The callback calls
/// `od_client_set_token_with_expiry(client, …)` (or `od_client_set_token`)
/// with the new token and returns 0; any other return value means "no
/// token", and the request goes with the old one (after a 401: the 401
/// stands). Requests that need a fresh token at the same time share one
/// call. It runs on
/// whichever thread made the request, possibly several at once; it must
/// not free the client. Like every callback of this library it must return
/// normally: no longjmp out of it, no C++ exception through it (either
/// skips the library's cleanup: locks stay held, memory leaks, and the
/// behaviour is undefined).
pub type od_token_fn =
    Option<unsafe extern "C" fn(userdata: *mut c_void, client: *const od_client) -> c_int>;

/// Flags for `od_client_new`.
/// Allow plain `http://` to hosts other than loopback (tests, proxies).
/// Without it, plain HTTP is accepted only for the loopback IP addresses
/// 127.0.0.0/8 and ::1 (not the name localhost: a resolver may map it
/// anywhere).
pub const OD_CLIENT_ALLOW_INSECURE_HTTP: u32 = 1;

/// Creates a client.
///
/// - `base_url`: the API root, e.g. `"https://graph.microsoft.com/v1.0"`;
///   NULL means exactly that. Copied.
/// - `token`: the bearer token; NULL means none yet (set it later, or
///   install a token callback). Copied.
/// - `flags`: 0, or `OD_CLIENT_ALLOW_INSECURE_HTTP`.
/// - `out_client`: receives the new client on `OD_OK`; the caller owns it
///   and frees it with `od_client_free`.
///
/// The token goes to the base URL's origin only, never to monitor or
/// upload URLs or any other host.
///
/// # Safety
/// String arguments must be NULL or NUL-terminated; `out_client` must be
/// NULL (refused) or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_client_new(
    base_url: *const c_char,
    token: *const c_char,
    flags: u32,
    out_client: *mut *mut od_client,
) -> od_status {
    let made = || -> FfiResult<_> {
        // SAFETY: the caller passes NUL-terminated strings or NULL.
        let base_url = unsafe { opt_str_arg(base_url, "base_url") }?.unwrap_or(DEFAULT_BASE_URL);
        // SAFETY: as above.
        let token = unsafe { opt_str_arg(token, "token") }?.unwrap_or_default();
        let flags = flags_arg(flags, OD_CLIENT_ALLOW_INSECURE_HTTP, "flags")?;
        let config = ClientConfig {
            allow_insecure_http: flags & OD_CLIENT_ALLOW_INSECURE_HTTP != 0,
            ..ClientConfig::new(base_url, token)
        };
        let client = Client::new(config)?;
        Ok(od_client { client })
    };
    // SAFETY: `out_client` is NULL (refused) or writable, as the caller promises.
    unsafe { ffi_new(out_client, "out_client", made) }
}

/// Frees a client. NULL is ignored. Jobs and items made through it stay
/// valid (they own what they need). Must not be called while another
/// thread is still using the client.
///
/// # Safety
/// `client` must be NULL or a client from `od_client_new` not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_client_free(client: *mut od_client) {
    // SAFETY: forwarded from the caller.
    unsafe { free_box(client) }
}

/// Replaces the bearer token for every request from now on (copied).
/// Safe to call from any thread, also from inside the token callback.
///
/// # Safety
/// `client` must be a live client; `token` NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_client_set_token(
    client: *const od_client,
    token: *const c_char,
) -> od_status {
    ffi_call(|| {
        // SAFETY: the caller passes a live client and a C string.
        let (client, token) = unsafe { (handle_arg(client, "client")?, str_arg(token, "token")?) };
        client.client.set_token(token);
        Ok(())
    })
}

/// Replaces the bearer token (copied) and says when it expires:
/// `expires_on` in Unix seconds (what azure-identity's `AccessToken`
/// carries), 0 = unknown. With a token callback set, the token is refreshed
/// 5 minutes before it expires (once for all requests that need it), as
/// well as after a 401. A token callback calls this to hand over a token
/// with its expiry. `expires_on` below 0 is `OD_ERR_INVALID_ARGUMENT`.
/// Any thread, also from inside the token callback.
///
/// # Safety
/// `client` must be NULL or a live client; `token` NULL or NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_client_set_token_with_expiry(
    client: *const od_client,
    token: *const c_char,
    expires_on: i64,
) -> od_status {
    ffi_call(|| {
        // SAFETY: the caller passes NULL or a live client and a C string.
        let (client, token) = unsafe { (handle_arg(client, "client")?, str_arg(token, "token")?) };
        let expires_on = match u64::try_from(expires_on) {
            Ok(0) => None,
            Ok(secs) => Some(std::time::UNIX_EPOCH + Duration::from_secs(secs)),
            Err(_) => {
                return Err(FfiError::new(
                    od_status::OD_ERR_INVALID_ARGUMENT,
                    format!("expires_on {expires_on}: Unix seconds, or 0 for unknown"),
                ));
            }
        };
        client
            .client
            .set_access_token(AccessToken::new(token, expires_on));
        Ok(())
    })
}

struct TokenCallback {
    f: unsafe extern "C" fn(*mut c_void, *const od_client) -> c_int,
    userdata: *mut c_void,
    client: *const od_client,
}

// SAFETY: the caller of `od_client_set_token_callback` promises that the
// callback and its userdata may be used from any thread (documented there),
// and `client` points at the od_client that owns this callback, so it lives
// as long as the callback can be called.
unsafe impl Send for TokenCallback {}
// SAFETY: as above; the callback is only ever called, never mutated.
unsafe impl Sync for TokenCallback {}

impl TokenCallback {
    /// Asks the C callback for a token; it stores it with
    /// `od_client_set_token`, and we read it back from the client.
    fn call(&self) -> Option<AccessToken> {
        // SAFETY: the installer gave this callback and userdata for this
        // client; see the Send/Sync note above for why `client` is live.
        let rc = unsafe { (self.f)(self.userdata, self.client) };
        // SAFETY: as above, the od_client outlives its own callback.
        (rc == 0).then(|| unsafe { &*self.client }.client.access_token())
    }
}

/// Installs (or, with `callback` NULL, removes) the token callback. See
/// `od_token_fn`. `userdata` is passed back untouched.
///
/// Replacing: when this returns, the callback it replaced is not running on
/// any thread and will never be called again, so its old `userdata` may be
/// freed right away (this call waits for calls of the old callback that are
/// running on other threads). Called from inside a token callback it does
/// not wait (it would wait for itself): the old callback may then still be
/// running on other threads, so free its `userdata` only after a later
/// call from outside a callback, or after `od_client_free`. The current
/// `userdata` must stay alive until it is replaced that way or the client
/// is freed.
///
/// # Safety
/// `client` must be a live client; `callback` must be safe to call from
/// any thread that uses the client, with `userdata`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_client_set_token_callback(
    client: *const od_client,
    callback: od_token_fn,
    userdata: *mut c_void,
) -> od_status {
    ffi_call(|| {
        // SAFETY: the caller passes a live client.
        let handle = unsafe { handle_arg(client, "client") }?;
        let provider = callback.map(|f| {
            // Holds a pointer to the od_client, not a clone of the client:
            // a clone would keep the client alive from inside itself.
            let cb = TokenCallback {
                f,
                userdata,
                client,
            };
            Arc::new(move || cb.call()) as TokenProvider
        });
        handle.client.set_token_provider(provider);
        Ok(())
    })
}

/// Sets the connect timeout and the request timeout (how long a request
/// may stall: no byte either way, or no answer), in milliseconds, both
/// above 0. Applies to requests started afterwards; any thread.
///
/// Besides the stall timeout every request has a total deadline: the
/// connect timeout plus twice the request timeout plus one second per
/// 16 KiB it sends, so a peer that trickles cannot hold a call for ever.
/// Answers are read up to 256 KiB (Graph's answers are a few KiB); a larger
/// one is `OD_ERR_PROTOCOL`. The cleanup of a failed upload session is one
/// DELETE of at most 2 s.
///
/// # Safety
/// `client` must be a live client.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_client_set_timeouts(
    client: *const od_client,
    connect_ms: u32,
    request_ms: u32,
) -> od_status {
    ffi_call(|| {
        // SAFETY: the caller passes a live client.
        let client = unsafe { handle_arg(client, "client") }?;
        client.client.set_timeouts(
            Duration::from_millis(connect_ms.into()),
            Duration::from_millis(request_ms.into()),
        )?;
        Ok(())
    })
}

/// Sets the retry policy: `max_attempts` in all, at least one (one means
/// never retry), and `max_wait_ms`, the most time one request spends waiting between
/// attempts. A Retry-After beyond what is left is not waited for: the call
/// fails with `OD_ERR_THROTTLED` and the Retry-After in the last error.
/// Any thread.
///
/// # Safety
/// `client` must be a live client.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_client_set_retry(
    client: *const od_client,
    max_attempts: u32,
    max_wait_ms: u64,
) -> od_status {
    ffi_call(|| {
        // SAFETY: the caller passes a live client.
        let client = unsafe { handle_arg(client, "client") }?;
        client.client.set_retry_policy(RetryPolicy {
            max_attempts,
            max_wait: Duration::from_millis(max_wait_ms),
            ..client.client.retry_policy()
        })?;
        Ok(())
    })
}

/// Sets the User-Agent header (copied). Any thread.
///
/// # Safety
/// `client` must be a live client; `user_agent` NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_client_set_user_agent(
    client: *const od_client,
    user_agent: *const c_char,
) -> od_status {
    ffi_call(|| {
        // SAFETY: the caller passes a live client and a C string.
        let (client, ua) = unsafe {
            (
                handle_arg(client, "client")?,
                str_arg(user_agent, "user_agent")?,
            )
        };
        client.client.set_user_agent(ua)?;
        Ok(())
    })
}

/// `od_client_set_upload_options` flag: also compute SHA-1 and compare it
/// with the drive's `sha1Hash` (OneDrive Personal reports it).
pub const OD_HASH_SHA1: u32 = 1;

/// `od_client_set_upload_options` flag: also compute SHA-256 and compare it
/// with the drive's `sha256Hash` where reported.
pub const OD_HASH_SHA256: u32 = 2;

/// Sets how files are uploaded (for calls started afterwards; any thread):
///
/// - `simple_limit`: bodies up to this many bytes go in one PUT, larger
///   ones through an upload session (default `OD_DEFAULT_SIMPLE_UPLOAD_LIMIT`,
///   4 MiB; at most `OD_MAX_SIMPLE_UPLOAD_LIMIT`, 250 MB, the most Graph
///   documents for one PUT; more is `OD_ERR_INVALID_ARGUMENT`). Either way
///   the body is streamed from its source, never held whole in memory.
/// - `chunk_size`: bytes per session request: a positive multiple of
///   320 KiB (327680) below 60 MiB (default 10 MiB, 32 × 320 KiB); another
///   value is `OD_ERR_INVALID_ARGUMENT`.
///   Memory used by an upload stays about one chunk.
/// - `hash_flags`: 0, or `OD_HASH_SHA1` | `OD_HASH_SHA256`: digests to
///   check besides quickXorHash, which is always checked when the drive
///   reports it (every drive does).
///
/// # Safety
/// `client` must be NULL or a live client.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn od_client_set_upload_options(
    client: *const od_client,
    simple_limit: u64,
    chunk_size: u64,
    hash_flags: u32,
) -> od_status {
    ffi_call(|| {
        // SAFETY: the caller passes NULL or a live client.
        let client = unsafe { handle_arg(client, "client") }?;
        let hash_flags = flags_arg(hash_flags, OD_HASH_SHA1 | OD_HASH_SHA256, "hash flags")?;
        client.client.set_upload_settings(UploadSettings {
            simple_limit,
            chunk_size,
            hashes: HashSet {
                sha1: hash_flags & OD_HASH_SHA1 != 0,
                sha256: hash_flags & OD_HASH_SHA256 != 0,
            },
        })?;
        Ok(())
    })
}
