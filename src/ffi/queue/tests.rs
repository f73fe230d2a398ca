//! Every `od_queue_*` / `od_transfer_*` function called the way C calls
//! it, bad inputs included, against a running emulator.

use super::*;
use crate::ffi::cancel::{od_cancel_free, od_cancel_new, od_cancel_trigger};
use crate::ffi::client::{od_client_free, od_client_new};
use crate::ffi::item::{od_item_free, od_item_name};
use crate::ffi::last_error::od_last_error_status;
use crate::ffi::network::od_client_add_ca_pem;
use od_status::*;
use std::ffi::{CStr, CString};
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};

fn c(s: &str) -> CString {
    CString::new(s).unwrap()
}

fn text(p: *const c_char) -> Option<String> {
    // SAFETY: NULL or a string borrowed from a live object.
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned())
}

struct Fixture {
    emu: onedrive_emulator::Emulator,
    client: *mut od_client,
    dir: PathBuf,
}

impl Fixture {
    fn new(tag: &str) -> Fixture {
        let emu = onedrive_emulator::Emulator::start(onedrive_emulator::Config::default()).unwrap();
        let (base, token) = (c(&emu.base_url()), c(&emu.token()));
        let mut client = ptr::null_mut();
        // SAFETY: valid strings, writable out-param.
        assert_eq!(
            unsafe { od_client_new(base.as_ptr(), token.as_ptr(), 0, &mut client) },
            OD_OK
        );
        let ca = emu.ca_pem().unwrap();
        // SAFETY: a live client, `ca.len()` readable bytes.
        assert_eq!(
            unsafe { od_client_add_ca_pem(client, ca.as_ptr(), ca.len()) },
            OD_OK
        );
        let dir = std::env::temp_dir().join(format!("odq-ffi-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Fixture { emu, client, dir }
    }

    fn open(&self, flags: u32) -> *mut od_queue {
        let dir = c(self.dir.join("q").to_str().unwrap());
        let mut q = ptr::null_mut();
        // SAFETY: a live client, a valid string, a writable out-param.
        let s = unsafe { od_queue_open(self.client, dir.as_ptr(), 2, flags, &mut q) };
        assert_eq!(s, OD_OK);
        q
    }

    fn file(&self, name: &str, data: &[u8]) -> CString {
        let p = self.dir.join(name);
        std::fs::write(&p, data).unwrap();
        c(p.to_str().unwrap())
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        // SAFETY: made by od_client_new, freed once.
        unsafe { od_client_free(self.client) };
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn get(q: *const od_queue, id: u64) -> *mut od_transfer {
    let mut t = ptr::null_mut();
    // SAFETY: a live queue, a writable out-param.
    assert_eq!(unsafe { od_queue_get(q, id, &mut t) }, OD_OK);
    t
}

fn state(q: *const od_queue, id: u64) -> od_transfer_state {
    let t = get(q, id);
    // SAFETY: a live transfer, freed once.
    unsafe {
        let s = od_transfer_get_state(t);
        od_transfer_free(t);
        s
    }
}

#[test]
#[cfg_attr(miri, ignore = "needs a socket")]
fn open_enqueue_and_read_back() {
    let f = Fixture::new("basic");
    let dir = c(f.dir.join("q").to_str().unwrap());
    let mut q = ptr::null_mut();
    // SAFETY: NULLs and valid pointers only.
    unsafe {
        assert_eq!(
            od_queue_open(ptr::null(), dir.as_ptr(), 2, 0, &mut q),
            OD_ERR_NULL_ARGUMENT
        );
        assert_eq!(
            od_queue_open(f.client, ptr::null(), 2, 0, &mut q),
            OD_ERR_NULL_ARGUMENT
        );
        assert_eq!(
            od_queue_open(f.client, dir.as_ptr(), 2, 0, ptr::null_mut()),
            OD_ERR_NULL_ARGUMENT
        );
        assert_eq!(
            od_queue_open(f.client, dir.as_ptr(), 2, 0x80, &mut q),
            OD_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            od_queue_open(f.client, dir.as_ptr(), 0, 0, &mut q),
            OD_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            od_queue_open(f.client, c"\x80".as_ptr(), 1, 0, &mut q),
            OD_ERR_INVALID_UTF8
        );
    }
    unsafe_client(&f)
        .upload(
            &crate::Drive::Me,
            &crate::UploadTarget::new("/", Some("src.txt")).unwrap(),
            b"copy me",
            crate::Conflict::Fail,
            &mut crate::Control::none(),
        )
        .unwrap();
    let q = f.open(OD_QUEUE_START_OFFLINE);
    let mut q2 = ptr::null_mut();
    // SAFETY: as above.
    unsafe {
        assert_eq!(
            od_queue_open(f.client, dir.as_ptr(), 2, 0, &mut q2),
            OD_ERR_INVALID_STATE
        );
    }
    let path = f.file("a.txt", b"hello queue");
    let root = c("/");
    let (mut id, mut id2, mut id3) = (0u64, 0u64, 0u64);
    // SAFETY: a live queue; NULLs, bad values and valid strings.
    unsafe {
        let s = od_queue_enqueue_upload(
            q,
            path.as_ptr(),
            ptr::null(),
            root.as_ptr(),
            c"a.txt".as_ptr(),
            1,
            &mut id,
        );
        assert_eq!(s, OD_OK);
        assert_eq!(id, 1);
        for (p, parent, name, conflict, want) in [
            (
                ptr::null(),
                root.as_ptr(),
                c"b".as_ptr(),
                1,
                OD_ERR_NULL_ARGUMENT,
            ),
            (
                path.as_ptr(),
                ptr::null(),
                c"b".as_ptr(),
                1,
                OD_ERR_NULL_ARGUMENT,
            ),
            (
                path.as_ptr(),
                root.as_ptr(),
                ptr::null(),
                1,
                OD_ERR_NULL_ARGUMENT,
            ),
            (
                path.as_ptr(),
                root.as_ptr(),
                c"b".as_ptr(),
                9,
                OD_ERR_INVALID_ARGUMENT,
            ),
            (
                path.as_ptr(),
                root.as_ptr(),
                c"a:b".as_ptr(),
                1,
                OD_ERR_INVALID_NAME,
            ),
            (
                c"/no/such/file".as_ptr(),
                root.as_ptr(),
                c"b".as_ptr(),
                1,
                OD_ERR_IO,
            ),
            (
                path.as_ptr(),
                root.as_ptr(),
                c"\x80".as_ptr(),
                1,
                OD_ERR_INVALID_UTF8,
            ),
        ] {
            let mut out = 77u64;
            assert_eq!(
                od_queue_enqueue_upload(q, p, ptr::null(), parent, name, conflict, &mut out),
                want
            );
            assert_eq!(out, 77, "untouched on failure");
        }
        assert_eq!(
            od_queue_enqueue_upload(
                ptr::null(),
                path.as_ptr(),
                ptr::null(),
                root.as_ptr(),
                c"b".as_ptr(),
                1,
                &mut id2
            ),
            OD_ERR_NULL_ARGUMENT
        );
        assert_eq!(
            od_queue_enqueue_upload(
                q,
                path.as_ptr(),
                ptr::null(),
                root.as_ptr(),
                c"b".as_ptr(),
                1,
                ptr::null_mut()
            ),
            OD_ERR_NULL_ARGUMENT
        );
        let url = c(&f.emu.serve_static("s.bin", b"from a URL".to_vec()));
        assert_eq!(
            od_queue_enqueue_url_upload(
                q,
                url.as_ptr(),
                ptr::null(),
                root.as_ptr(),
                c"u.bin".as_ptr(),
                &mut id2
            ),
            OD_OK
        );
        assert_eq!(
            od_queue_enqueue_url_upload(
                q,
                ptr::null(),
                ptr::null(),
                root.as_ptr(),
                c"u.bin".as_ptr(),
                &mut id2
            ),
            OD_ERR_NULL_ARGUMENT
        );
        assert_eq!(
            od_queue_enqueue_url_upload(
                q,
                c"nope".as_ptr(),
                ptr::null(),
                root.as_ptr(),
                c"u.bin".as_ptr(),
                &mut id3
            ),
            OD_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            od_queue_enqueue_copy(
                q,
                ptr::null(),
                c"/src.txt".as_ptr(),
                root.as_ptr(),
                ptr::null(),
                c"c.txt".as_ptr(),
                1,
                &mut id3
            ),
            OD_OK
        );
        assert_eq!(
            od_queue_enqueue_copy(
                q,
                ptr::null(),
                ptr::null(),
                root.as_ptr(),
                ptr::null(),
                ptr::null(),
                1,
                &mut id3
            ),
            OD_ERR_NULL_ARGUMENT
        );
        assert_eq!(
            od_queue_enqueue_copy(
                q,
                c"/nodrive".as_ptr(),
                c"/a.txt".as_ptr(),
                root.as_ptr(),
                ptr::null(),
                ptr::null(),
                1,
                &mut id3
            ),
            OD_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            od_queue_enqueue_copy(
                q,
                ptr::null(),
                c"/a.txt".as_ptr(),
                root.as_ptr(),
                ptr::null(),
                ptr::null(),
                -1,
                &mut id3
            ),
            OD_ERR_INVALID_ARGUMENT
        );
    }
    assert_eq!((id2, id3), (2, 3));
    // Offline: everything waits.
    let t = get(q, id);
    // SAFETY: a live transfer, then NULL for every accessor.
    unsafe {
        assert_eq!(od_transfer_id(t), 1);
        assert_eq!(
            od_transfer_get_kind(t),
            od_transfer_kind::OD_TRANSFER_UPLOAD
        );
        assert_eq!(
            od_transfer_get_state(t),
            od_transfer_state::OD_TRANSFER_WAITING
        );
        assert_eq!(od_transfer_wait_reason(t), od_wait_reason::OD_WAIT_OFFLINE);
        assert_eq!(od_transfer_retry_at_ms(t), -1);
        assert_eq!((od_transfer_done(t), od_transfer_total(t)), (0, 11));
        assert_eq!(text(od_transfer_name(t)).as_deref(), Some("a.txt"));
        assert!(od_transfer_item_json(t).is_null());
        let mut it = ptr::null_mut();
        assert_eq!(od_transfer_item(t, &mut it), OD_ERR_INVALID_STATE);
        assert!(it.is_null());
        assert_eq!(od_transfer_item(ptr::null(), &mut it), OD_ERR_NULL_ARGUMENT);
        assert_eq!(od_transfer_item(t, ptr::null_mut()), OD_ERR_NULL_ARGUMENT);
        assert_eq!(od_transfer_error_status(t), OD_OK);
        assert_eq!(od_transfer_error_http_status(t), 0);
        assert!(od_transfer_error_code(t).is_null());
        assert!(od_transfer_error_inner_code(t).is_null());
        assert!(od_transfer_error_message(t).is_null());
        assert!(od_transfer_error_request_id(t).is_null());
        od_transfer_free(t);
        let n: *const od_transfer = ptr::null();
        assert_eq!(od_transfer_id(n), 0);
        assert_eq!(
            od_transfer_get_kind(n),
            od_transfer_kind::OD_TRANSFER_UPLOAD
        );
        assert_eq!(
            od_transfer_get_state(n),
            od_transfer_state::OD_TRANSFER_FAILED
        );
        assert_eq!(od_transfer_wait_reason(n), od_wait_reason::OD_WAIT_NONE);
        assert_eq!(od_transfer_retry_at_ms(n), -1);
        assert_eq!((od_transfer_done(n), od_transfer_total(n)), (0, 0));
        assert!(od_transfer_name(n).is_null());
        assert!(od_transfer_item_json(n).is_null());
        assert_eq!(od_transfer_error_status(n), OD_OK);
        assert_eq!(od_transfer_error_http_status(n), 0);
        assert!(od_transfer_error_message(n).is_null());
        od_transfer_free(ptr::null_mut());
        let mut out = ptr::null_mut();
        assert_eq!(od_queue_get(q, 99, &mut out), OD_ERR_NOT_FOUND);
        assert_eq!(od_queue_get(ptr::null(), 1, &mut out), OD_ERR_NULL_ARGUMENT);
        assert_eq!(od_queue_get(q, 1, ptr::null_mut()), OD_ERR_NULL_ARGUMENT);
        // Not idle while waiting for the network.
        assert_eq!(od_queue_wait_idle(q, 0, ptr::null()), OD_ERR_TIMEOUT);
        let mut cancel = ptr::null_mut();
        assert_eq!(od_cancel_new(&mut cancel), OD_OK);
        od_cancel_trigger(cancel);
        assert_eq!(od_queue_wait_idle(q, -1, cancel), OD_ERR_CANCELLED);
        od_cancel_free(cancel);
        assert_eq!(
            od_queue_wait_idle(ptr::null(), 0, ptr::null()),
            OD_ERR_NULL_ARGUMENT
        );
        assert_eq!(od_queue_set_online(ptr::null(), 1), OD_ERR_NULL_ARGUMENT);
        assert_eq!(od_queue_set_max_running(q, 0), OD_ERR_INVALID_ARGUMENT);
        assert_eq!(od_queue_set_max_running(q, 3), OD_OK);
        assert_eq!(od_queue_set_online(q, 1), OD_OK);
        assert_eq!(od_queue_wait_idle(q, 60_000, ptr::null()), OD_OK);
    }
    for i in [id, id2, id3] {
        assert_eq!(state(q, i), od_transfer_state::OD_TRANSFER_COMPLETED, "{i}");
    }
    let t = get(q, id3);
    // SAFETY: live objects; NULLs and bad masks.
    unsafe {
        assert_eq!(od_transfer_get_kind(t), od_transfer_kind::OD_TRANSFER_COPY);
        assert!(
            text(od_transfer_item_json(t))
                .unwrap()
                .contains("\"c.txt\"")
        );
        let mut it = ptr::null_mut();
        assert_eq!(od_transfer_item(t, &mut it), OD_OK);
        od_transfer_free(t); // the item is the caller's own
        assert_eq!(text(od_item_name(it)).as_deref(), Some("c.txt"));
        od_item_free(it);
        let mut list = ptr::null_mut();
        assert_eq!(od_queue_list(q, 1 << 4, &mut list), OD_OK);
        assert_eq!(od_transfer_list_count(list), 3);
        assert_eq!(od_transfer_id(od_transfer_list_get(list, 1)), 2);
        assert!(od_transfer_list_get(list, 3).is_null());
        od_transfer_list_free(list);
        assert_eq!(od_queue_list(q, 1, &mut list), OD_OK);
        assert_eq!(od_transfer_list_count(list), 0);
        od_transfer_list_free(list);
        assert_eq!(od_queue_list(q, 0x100, &mut list), OD_ERR_INVALID_ARGUMENT);
        assert_eq!(
            od_queue_list(ptr::null(), 1, &mut list),
            OD_ERR_NULL_ARGUMENT
        );
        assert_eq!(od_transfer_list_count(ptr::null()), 0);
        assert!(od_transfer_list_get(ptr::null(), 0).is_null());
        od_transfer_list_free(ptr::null_mut());
        let mut t = [9u64; 6];
        let [a, b, cc, d, e, g] = &mut t;
        assert_eq!(od_queue_totals(q, a, b, cc, d, e, g), OD_OK);
        assert_eq!(t, [3, 3, 0, 0, 11, 11]);
        let n = ptr::null_mut();
        assert_eq!(od_queue_totals(q, n, n, n, n, n, n), OD_OK);
        assert_eq!(
            od_queue_totals(ptr::null(), n, n, n, n, n, n),
            OD_ERR_NULL_ARGUMENT
        );
        // Events, polled: each transfer's states in order, then none.
        let (mut id_, mut kind, mut st, mut done, mut total) = (0u64, 9i32, 9i32, 0u64, 0u64);
        let (mut seen, mut progress) = (Vec::new(), 0);
        while od_queue_next_event(q, 0, &mut id_, &mut kind, &mut st, &mut done, &mut total)
            == OD_OK
        {
            if id_ == 1 && kind == 0 {
                seen.push(st);
            }
            if kind == od_queue_event_kind::OD_QUEUE_EVENT_PROGRESS as i32 {
                // A progress event has no state (-1), and its bytes.
                assert_eq!(st, -1);
                assert!(done <= total && total > 0, "{done} of {total}");
                progress += 1;
            }
        }
        assert!(progress > 0);
        assert_eq!(od_last_error_status(), OD_ERR_TIMEOUT);
        assert_eq!(
            seen,
            vec![3, 0, 1, 4],
            "waiting, queued, running, completed"
        );
        let n = ptr::null_mut();
        assert_eq!(
            od_queue_next_event(ptr::null(), 0, n, n.cast(), n.cast(), n, n),
            OD_ERR_NULL_ARGUMENT
        );
        // Removing.
        assert_eq!(od_queue_remove(q, id), OD_OK);
        assert_eq!(od_queue_remove(q, id), OD_ERR_NOT_FOUND);
        let mut n = 0u64;
        assert_eq!(od_queue_remove_finished(q, &mut n), OD_OK);
        assert_eq!(n, 2);
        assert_eq!(od_queue_remove_finished(q, ptr::null_mut()), OD_OK);
        assert_eq!(
            od_queue_remove_finished(ptr::null(), ptr::null_mut()),
            OD_ERR_NULL_ARGUMENT
        );
        // Closed: read-only, and the directory free again.
        assert_eq!(od_queue_close(q), OD_OK);
        assert_eq!(od_queue_close(q), OD_OK);
        assert_eq!(od_queue_close(ptr::null()), OD_ERR_NULL_ARGUMENT);
        assert_eq!(
            od_queue_enqueue_upload(
                q,
                path.as_ptr(),
                ptr::null(),
                root.as_ptr(),
                c"z".as_ptr(),
                1,
                &mut id
            ),
            OD_ERR_INVALID_STATE
        );
        let n = ptr::null_mut();
        assert_eq!(od_queue_totals(q, &mut id, n, n, n, n, n), OD_OK);
        assert_eq!(id, 0, "all removed");
        od_queue_free(q);
        od_queue_free(ptr::null_mut());
    }
    let q = f.open(0);
    // SAFETY: a live queue, freed once.
    unsafe { od_queue_free(q) };
}

/// What the callback test's callback sees and does.
struct Seen {
    q: *const od_queue,
    events: AtomicUsize,
    close_refused: AtomicUsize,
    states: Mutex<Vec<(u64, i32)>>,
}

unsafe extern "C" fn on_event(
    userdata: *mut c_void,
    id: u64,
    kind: i32,
    state: i32,
    _done: u64,
    _total: u64,
) {
    // SAFETY: the test's `Seen`, alive until the callback is removed.
    let seen = unsafe { &*(userdata as *const Seen) };
    seen.events.fetch_add(1, Ordering::SeqCst);
    if kind == od_queue_event_kind::OD_QUEUE_EVENT_STATE as i32 {
        seen.states.lock().unwrap().push((id, state));
        // SAFETY: the live queue; calls allowed inside the callback.
        unsafe {
            if od_queue_close(seen.q) == OD_ERR_INVALID_STATE {
                seen.close_refused.fetch_add(1, Ordering::SeqCst);
            }
            let mut t = ptr::null_mut();
            assert_eq!(od_queue_get(seen.q, id, &mut t), OD_OK);
            od_transfer_free(t);
        }
    }
}

#[test]
#[cfg_attr(miri, ignore = "needs a socket")]
fn callback_control_and_errors() {
    let f = Fixture::new("cb");
    // A file that is there already: the upload fails with its error.
    unsafe_client(&f)
        .upload(
            &crate::Drive::Me,
            &crate::UploadTarget::new("/", Some("taken.txt")).unwrap(),
            b"theirs",
            crate::Conflict::Fail,
            &mut crate::Control::none(),
        )
        .unwrap();
    let q = f.open(OD_QUEUE_NO_POLLING | OD_QUEUE_START_OFFLINE);
    let seen = Seen {
        q,
        events: AtomicUsize::new(0),
        close_refused: AtomicUsize::new(0),
        states: Mutex::new(Vec::new()),
    };
    let path = f.file("t.txt", b"mine");
    let big = f.file("big.bin", &vec![5u8; 6 << 20]);
    let root = c("/");
    let (mut id, mut big_id) = (0u64, 0u64);
    // SAFETY: a live queue and valid arguments; `seen` outlives the
    // callback (removed below).
    unsafe {
        assert_eq!(
            od_queue_set_event_callback(ptr::null(), Some(on_event), ptr::null_mut()),
            OD_ERR_NULL_ARGUMENT
        );
        assert_eq!(
            od_queue_set_event_callback(q, Some(on_event), &seen as *const Seen as *mut c_void),
            OD_OK
        );
        assert_eq!(
            od_queue_enqueue_upload(
                q,
                path.as_ptr(),
                ptr::null(),
                root.as_ptr(),
                c"taken.txt".as_ptr(),
                1,
                &mut id
            ),
            OD_OK
        );
        assert_eq!(
            od_queue_enqueue_upload(
                q,
                big.as_ptr(),
                ptr::null(),
                root.as_ptr(),
                c"big.bin".as_ptr(),
                1,
                &mut big_id
            ),
            OD_OK
        );
        // Paused before it runs, then all resumed and cancelled.
        assert_eq!(od_queue_pause(q, big_id), OD_OK);
        assert_eq!(od_queue_pause(q, 99), OD_ERR_NOT_FOUND);
        assert_eq!(od_queue_pause(ptr::null(), 1), OD_ERR_NULL_ARGUMENT);
        assert_eq!(state(q, big_id), od_transfer_state::OD_TRANSFER_PAUSED);
        assert_eq!(od_queue_resume(q, big_id), OD_OK);
        assert_eq!(od_queue_resume(q, 99), OD_ERR_NOT_FOUND);
        assert_eq!(od_queue_pause_all(q), OD_OK);
        assert_eq!(state(q, id), od_transfer_state::OD_TRANSFER_PAUSED);
        assert_eq!(od_queue_resume_all(q), OD_OK);
        assert_eq!(od_queue_cancel(q, big_id), OD_OK);
        assert_eq!(state(q, big_id), od_transfer_state::OD_TRANSFER_CANCELLED);
        assert_eq!(od_queue_resume(q, big_id), OD_ERR_INVALID_STATE);
        assert_eq!(od_queue_cancel(q, 99), OD_ERR_NOT_FOUND);
        assert_eq!(od_queue_set_online(q, 1), OD_OK);
        assert_eq!(od_queue_wait_idle(q, 60_000, ptr::null()), OD_OK);
        let t = get(q, id);
        assert_eq!(
            od_transfer_get_state(t),
            od_transfer_state::OD_TRANSFER_FAILED
        );
        assert_eq!(od_transfer_error_status(t), OD_ERR_CONFLICT);
        assert_eq!(od_transfer_error_http_status(t), 409);
        assert!(text(od_transfer_error_code(t)).is_some());
        assert!(text(od_transfer_error_message(t)).is_some());
        assert!(text(od_transfer_error_request_id(t)).is_some());
        let _ = od_transfer_error_inner_code(t);
        od_transfer_free(t);
        assert_eq!(od_queue_cancel(q, id), OD_ERR_INVALID_STATE);
        assert_eq!(od_queue_cancel_all(q), OD_OK);
        assert_eq!(od_queue_pause_all(ptr::null()), OD_ERR_NULL_ARGUMENT);
        assert_eq!(od_queue_resume_all(ptr::null()), OD_ERR_NULL_ARGUMENT);
        assert_eq!(od_queue_cancel_all(ptr::null()), OD_ERR_NULL_ARGUMENT);
        assert_eq!(od_queue_remove(ptr::null(), 1), OD_ERR_NULL_ARGUMENT);
        assert_eq!(
            od_queue_set_max_running(ptr::null(), 1),
            OD_ERR_NULL_ARGUMENT
        );
        // Polling is off.
        let n = ptr::null_mut();
        assert_eq!(
            od_queue_next_event(q, 0, n, n.cast(), n.cast(), n, n),
            OD_ERR_TIMEOUT
        );
        // Events reach the callback on the queue's event thread, after the
        // state they tell of: wait for the failure's event (a hang guard
        // only) before removing the callback.
        let told = std::time::Instant::now();
        while !seen.states.lock().unwrap().contains(&(id, 5)) {
            assert!(
                told.elapsed() < std::time::Duration::from_secs(60),
                "no failed event"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        // Removing the callback waits for a call in progress: after
        // it, `seen` may go.
        assert_eq!(od_queue_set_event_callback(q, None, ptr::null_mut()), OD_OK);
    }
    assert!(seen.events.load(Ordering::SeqCst) >= 4);
    assert_eq!(
        seen.close_refused.load(Ordering::SeqCst),
        seen.states.lock().unwrap().len(),
        "every close from inside the callback is refused"
    );
    let states = seen.states.lock().unwrap().clone();
    let of = |id: u64| {
        states
            .iter()
            .filter(|s| s.0 == id)
            .map(|s| s.1)
            .collect::<Vec<_>>()
    };
    assert_eq!(of(id).last(), Some(&5), "ends failed");
    assert_eq!(of(big_id).last(), Some(&6), "ends cancelled");
    assert_eq!(f.emu.upload_session_count(), 0);
    // SAFETY: a live queue, freed once.
    unsafe { od_queue_free(q) };
}

/// The core client behind the fixture's C client.
fn unsafe_client(f: &Fixture) -> crate::Client {
    // SAFETY: the fixture's live client.
    unsafe { &*f.client }.client.clone()
}
