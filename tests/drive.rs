//! Listing, moving and downloading, against the in-process emulator over
//! real HTTPS (and, for what the emulator cannot show, a scripted server).

mod common;
#[allow(dead_code)]
#[path = "common/scripted.rs"]
mod scripted;

use std::time::Duration;

use common::*;
use onedrive_emulator::{FaultAction, Profile, Times};
use onedrive_native::{
    Client, ClientConfig, Conflict, Drive, ErrorKind, Item, MoveOptions, RetryPolicy,
};
use scripted::{Answer, Scripted};

/// Names with the characters URLs and paths trip over.
const ODD_NAMES: &[&str] = &[
    "a b.txt",
    "#1.txt",
    "100%.txt",
    "été 日本.txt",
    "x%20y#z.txt",
];

fn list_all(c: &Client, folder: &str, page: Option<u32>) -> onedrive_native::Result<Vec<Item>> {
    let mut l = c.list_children(&me(), &item(folder), page)?;
    let mut out = Vec::new();
    while let Some(i) = l.next(&mut ctl())? {
        out.push(i);
    }
    Ok(out)
}

fn names(items: &[Item]) -> Vec<String> {
    let mut n: Vec<String> = items
        .iter()
        .map(|i| i.name().unwrap_or_default().to_owned())
        .collect();
    n.sort();
    n
}

#[test]
fn listing_gives_every_child_with_its_fields() {
    let emu = emulator(Profile::Personal);
    let c = client(&emu);
    for n in ODD_NAMES {
        put(&c, "/Odd #% é", n, n.as_bytes());
    }
    c.create_folder(
        &me(),
        &item("/Odd #% é"),
        "sub dir",
        Conflict::Fail,
        false,
        &mut ctl(),
    )
    .unwrap();
    let all = list_all(&c, "/Odd #% é", None).unwrap();
    let mut want: Vec<String> = ODD_NAMES.iter().map(|s| s.to_string()).collect();
    want.push("sub dir".into());
    want.sort();
    assert_eq!(names(&all), want);
    for i in &all {
        assert!(i.last_modified().is_some_and(|t| t.len() >= 20), "{i:?}");
        if i.name() == Some("sub dir") {
            assert!(i.is_folder());
            assert_eq!(i.child_count(), Some(0));
        } else {
            assert!(!i.is_folder());
            assert_eq!(i.size(), Some(i.name().unwrap().len() as u64));
            assert!(i.quick_xor_hash().is_some());
        }
    }
    // in pages of 2: three requests, the nextLinks on the API origin
    emu.clear_requests();
    assert_eq!(names(&list_all(&c, "/Odd #% é", Some(2)).unwrap()), want);
    let pages: Vec<_> = emu
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/children"))
        .collect();
    assert_eq!(pages.len(), 3, "{pages:?}");
    assert!(pages.iter().all(|r| r.origin == "api" && r.authorization));
    // by id and ID:/rel too
    let folder = c.item(&me(), &item("/Odd #% é"), &mut ctl()).unwrap();
    assert_eq!(names(&list_all(&c, folder.id(), None).unwrap()), want);
    let parent = folder.parent_id().unwrap();
    assert_eq!(
        names(&list_all(&c, &format!("{parent}:/Odd #% é"), None).unwrap()),
        want
    );
    // an empty folder, a missing one, a file
    assert!(list_all(&c, "/Odd #% é/sub dir", None).unwrap().is_empty());
    assert_eq!(
        list_all(&c, "/nowhere", None).unwrap_err().kind,
        ErrorKind::NotFound
    );
    assert!(c.list_children(&me(), &item("/"), Some(0)).is_err());
}

/// Pages of a scripted service: `count` children, `per` a page, each
/// nextLink made by `link(origin, next_page)`.
fn pages(
    count: u64,
    per: u64,
    link: impl Fn(&str, u64) -> String + Send + Sync + 'static,
) -> Scripted {
    Scripted::start_at(move |req, own| {
        let page: u64 = req
            .path
            .split("page=")
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        let first = page * per;
        let last = (first + per).min(count);
        let values: Vec<String> = (first..last)
            .map(|i| format!(r#"{{"id":"ID{i}","name":"child {i}.txt","size":{i},"file":{{}},"lastModifiedDateTime":"2026-01-02T03:04:05Z"}}"#))
            .collect();
        let next = if last < count {
            format!(r#","@odata.nextLink":"{}""#, link(own, page + 1))
        } else {
            String::new()
        };
        Answer::json(200, &format!(r#"{{"value":[{}]{next}}}"#, values.join(",")))
    })
}

fn scripted_client(s: &Scripted) -> Client {
    Client::new(ClientConfig {
        retry: RetryPolicy {
            base_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(20),
            ..RetryPolicy::default()
        },
        ..ClientConfig::new(s.url("/v1.0"), "drive-test-token")
    })
    .unwrap()
}

#[test]
fn next_links_are_followed_on_the_api_origin_only() {
    let s = pages(7, 3, |own, p| format!("{own}/v1.0/children?page={p}"));
    let c = scripted_client(&s);
    let all = list_all(&c, "/", Some(3)).unwrap();
    assert_eq!(all.len(), 7);
    let reqs = s.requests();
    assert_eq!(reqs.len(), 3);
    assert!(reqs[0].path.ends_with("/root/children?$top=3"), "{reqs:?}");
    assert!(
        reqs.iter()
            .all(|r| r.header("authorization") == Some("Bearer drive-test-token"))
    );

    // A nextLink to another host: refused, and that host hears nothing.
    let other = Scripted::start(|_| Answer::json(200, r#"{"value":[]}"#));
    let elsewhere = other.url("/v1.0/children");
    let s = pages(7, 3, move |_, p| format!("{elsewhere}?page={p}"));
    let c = scripted_client(&s);
    let mut l = c.list_children(&me(), &item("/"), None).unwrap();
    for _ in 0..3 {
        l.next(&mut ctl()).unwrap().unwrap();
    }
    let e = l.next(&mut ctl()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Protocol, "{e}");
    assert!(!e.message.contains("children?page"), "{e}");
    assert!(l.next(&mut ctl()).unwrap().is_none(), "over after an error");
    assert!(other.requests().is_empty(), "{:?}", other.requests());
}

#[test]
fn a_next_link_loop_stops_with_a_protocol_error() {
    // Page 1 names page 1 again.
    let s = pages(100, 2, |own, _| format!("{own}/v1.0/children?page=1"));
    let c = scripted_client(&s);
    let e = list_all(&c, "/", None).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Protocol, "{e}");
    assert!(e.message.contains("loop"), "{e}");
    assert_eq!(s.requests().len(), 2, "page 0, page 1, then stop");
    // Page 0 names the first page (the URL the listing began with).
    let s = pages(100, 2, |own, _| {
        format!("{own}/v1.0/me/drive/root/children")
    });
    let e = list_all(&scripted_client(&s), "/", None).unwrap_err();
    assert!(e.message.contains("loop"), "{e}");
    assert_eq!(s.requests().len(), 1, "page 0, then stop");
}

#[test]
fn a_page_too_large_is_refused() {
    let s = Scripted::start(|_| Answer::Huge(200, 3 << 20));
    let e = list_all(&scripted_client(&s), "/", None).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Protocol, "{e}");
    assert!(e.message.contains("larger than"), "{e}");
}

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// 100,000 children in pages of 200 from a scripted service: the peak RSS
/// after the first page and at the end, written to stdout (`make
/// test-memory`, in `make test`, runs it in a process of its own).
#[test]
#[ignore = "reads the process's peak RSS: make test-memory runs it alone"]
fn listing_100000_children_keeps_rss_flat() {
    let s = pages(100_000, 200, |own, p| {
        format!("{own}/v1.0/children?page={p}")
    });
    let c = scripted_client(&s);
    let mut l = c.list_children(&me(), &item("/"), Some(200)).unwrap();
    let mut n = 0u64;
    let mut after_first_page = 0;
    while let Some(i) = l.next(&mut ctl()).unwrap() {
        assert_eq!(i.id(), format!("ID{n}"));
        n += 1;
        if n == 200 {
            after_first_page = vm_hwm_kib();
        }
    }
    let end = vm_hwm_kib();
    assert_eq!(n, 100_000);
    println!(
        "listing 100000 children: VmHWM {after_first_page} KiB after the first page, {end} KiB at the end (+{} KiB)",
        end - after_first_page
    );
    assert!(
        end - after_first_page < 16 * 1024,
        "RSS grew with the folder"
    );
}

fn rename_to(name: &str) -> MoveOptions {
    MoveOptions {
        name: Some(name.into()),
        ..Default::default()
    }
}

fn move_into(dest: &str) -> MoveOptions {
    MoveOptions {
        dest_parent: Some(item(dest)),
        ..Default::default()
    }
}

fn moved(c: &Client, it: &str, opts: MoveOptions) -> onedrive_native::Result<Item> {
    c.move_item(&me(), &item(it), &opts, &mut ctl())
}

#[test]
fn move_and_rename_by_every_address() {
    let emu = emulator(Profile::Personal);
    let c = client(&emu);
    let drive = emu.default_drive_id();
    let f = put(&c, "/From #1", "a 100%.txt", b"abc");
    let dest = c
        .create_folder(&me(), &item("/"), "To é", Conflict::Fail, true, &mut ctl())
        .unwrap();
    // rename in place
    let r = moved(&c, "/From #1/a 100%.txt", rename_to("b #2 日本.txt")).unwrap();
    assert_eq!((r.id(), r.name()), (f.id(), Some("b #2 日本.txt")));
    assert_eq!(
        emu.content(&drive, "/From #1/b #2 日本.txt").unwrap(),
        b"abc"
    );
    // move by path into a folder by path
    let m = moved(&c, "/From #1/b #2 日本.txt", move_into("/To é")).unwrap();
    assert_eq!(m.parent_id(), Some(dest.id()));
    assert!(emu.content(&drive, "/To é/b #2 日本.txt").is_some());
    // by id into a folder by ID:/rel, renamed on the way
    let root = dest.parent_id().unwrap().to_owned();
    let m = moved(
        &c,
        f.id(),
        MoveOptions {
            dest_parent: Some(item(&format!("{root}:/From #1"))),
            name: Some("c.txt".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(m.name(), Some("c.txt"));
    assert!(emu.content(&drive, "/From #1/c.txt").is_some());
    // into the root by id
    let m = moved(&c, "/From #1/c.txt", move_into(&root)).unwrap();
    assert_eq!(m.parent_id(), Some(root.as_str()));
}

#[test]
fn move_conflicts_if_match_and_refusals() {
    let emu = emulator(Profile::Business);
    let c = client(&emu);
    let drive = emu.default_drive_id();
    let a = put(&c, "/M", "a.txt", b"a");
    put(&c, "/M", "b.txt", b"b");
    let rename_to_b = |conflict| MoveOptions {
        name: Some("b.txt".into()),
        conflict,
        ..Default::default()
    };
    let e = moved(&c, "/M/a.txt", rename_to_b(Conflict::Fail)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Conflict, "{e}");
    assert_eq!(emu.content(&drive, "/M/a.txt").unwrap(), b"a");
    let r = moved(&c, "/M/a.txt", rename_to_b(Conflict::Rename)).unwrap();
    assert_ne!(r.name(), Some("b.txt"));
    assert_eq!(emu.content(&drive, "/M/b.txt").unwrap(), b"b");
    let r = moved(&c, a.id(), rename_to_b(Conflict::Replace)).unwrap();
    assert_eq!(r.name(), Some("b.txt"));
    assert_eq!(emu.content(&drive, "/M/b.txt").unwrap(), b"a");

    // If-Match: a stale eTag is refused, the current one moves it
    let stale = MoveOptions {
        name: Some("c.txt".into()),
        if_match: a.etag().map(str::to_owned),
        ..Default::default()
    };
    assert_eq!(
        moved(&c, a.id(), stale).unwrap_err().kind,
        ErrorKind::Conflict
    );
    let fresh = MoveOptions {
        name: Some("c.txt".into()),
        if_match: r.etag().map(str::to_owned),
        ..Default::default()
    };
    moved(&c, a.id(), fresh).unwrap();

    // a folder into itself or its subtree: the service refuses
    c.create_folder(
        &me(),
        &item("/M"),
        "deep",
        Conflict::Fail,
        false,
        &mut ctl(),
    )
    .unwrap();
    for into in ["/M", "/M/deep"] {
        let e = moved(&c, "/M", move_into(into)).unwrap_err();
        assert!(
            matches!(e.kind, ErrorKind::BadRequest | ErrorKind::Conflict),
            "{into}: {e}"
        );
    }

    // refused before any request: another drive, nothing to do, the root
    emu.clear_requests();
    let other = MoveOptions {
        dest_parent: Some(item("/")),
        dest_drive_id: Some("another-drive".into()),
        ..Default::default()
    };
    assert_eq!(
        moved(&c, "/M/c.txt", other.clone()).unwrap_err().kind,
        ErrorKind::NotSupported
    );
    assert_eq!(
        moved(&c, "/M/c.txt", MoveOptions::default())
            .unwrap_err()
            .kind,
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        moved(&c, "/", rename_to_b(Conflict::Fail))
            .unwrap_err()
            .kind,
        ErrorKind::InvalidArgument
    );
    assert!(emu.requests().is_empty(), "{:?}", emu.requests());
    // the same drive named by id is fine
    let same = MoveOptions {
        dest_parent: Some(item("/")),
        dest_drive_id: Some(drive.clone()),
        ..Default::default()
    };
    c.move_item(
        &Drive::Id(drive.clone()),
        &item("/M/c.txt"),
        &same,
        &mut ctl(),
    )
    .unwrap();
    assert!(emu.content(&drive, "/c.txt").is_some());
}

#[test]
fn a_move_whose_answer_is_lost_is_not_sent_again() {
    let emu = emulator(Profile::Personal);
    let c = client(&emu);
    let drive = emu.default_drive_id();
    put(&c, "/L", "f.txt", b"f");
    emu.add_fault(fault(
        Some("api"),
        Some("PATCH"),
        None,
        Times::Next(1),
        FaultAction::DropResponseAfter(0),
    ));
    emu.clear_requests();
    let e = moved(&c, "/L/f.txt", rename_to("g.txt")).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Network, "{e}");
    assert!(e.message.contains("may or may not"), "{e}");
    let patches = emu
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH")
        .count();
    assert_eq!(patches, 1);
    // the service did it: the caller reads the item to know
    assert!(emu.content(&drive, "/L/g.txt").is_some());
}

// ---- downloads ----

fn payload(n: usize) -> Vec<u8> {
    let mut x = 0x2545_f491_u32;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// A fresh folder of its own for a test's local files.
fn local_dir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("od-drive-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn partial(path: &std::path::Path) -> std::path::PathBuf {
    let name = path.file_name().unwrap().to_str().unwrap();
    path.with_file_name(format!(".{name}{}", onedrive_native::PARTIAL_SUFFIX))
}

/// Downloads `it` to `path`, giving the progress reports seen.
fn download(
    c: &Client,
    it: &str,
    path: &std::path::Path,
) -> (onedrive_native::Result<Item>, Vec<(u64, u64)>) {
    let mut seen = Vec::new();
    let mut cb = |d: u64, t: u64| {
        seen.push((d, t));
        true
    };
    let r = c.download_file(
        &me(),
        &item(it),
        path,
        &mut onedrive_native::Control::new(None, Some(&mut cb)),
    );
    (r, seen)
}

/// Progress that never goes back, moves at most 64 KiB a report and ends
/// at the size.
fn check_progress(seen: &[(u64, u64)], size: u64) {
    assert_eq!(seen.last(), Some(&(size, size)), "{seen:?}");
    for w in seen.windows(2) {
        assert!(w[0].0 <= w[1].0, "progress went back: {w:?}");
        assert!(
            w[1].0 - w[0].0 <= 64 * 1024,
            "more than 64 KiB unreported: {w:?}"
        );
    }
}

#[test]
fn downloads_every_size_by_every_address_to_a_file_and_a_writer() {
    for profile in [Profile::Personal, Profile::Business] {
        let emu = emulator(profile);
        let c = client(&emu);
        let dir = local_dir(&format!("sizes-{profile:?}"));
        for (n, name) in [0, 1, 65_535, 65_536, 65_537, 300_001]
            .into_iter()
            .zip(ODD_NAMES.iter().cycle())
        {
            let body = payload(n);
            let name = format!("{n} {name}");
            let up = put(&c, "/D #%", &name, &body);
            let local = dir.join(&name);
            let (got, seen) = download(&c, &format!("/D #%/{name}"), &local);
            let got = got.unwrap_or_else(|e| panic!("{n}: {e}"));
            assert_eq!(got.id(), up.id());
            assert_eq!(std::fs::read(&local).unwrap(), body, "{n}");
            assert!(!partial(&local).exists());
            check_progress(&seen, n as u64);
            // by id, into a writer
            let mut out = Vec::new();
            c.download_to_writer(&me(), &item(up.id()), &mut out, &mut ctl())
                .unwrap();
            assert_eq!(out, body, "{n}");
            // by ID:/rel, replacing the file there
            let rel = format!("{}:/{name}", up.parent_id().unwrap());
            download(&c, &rel, &local).0.unwrap();
            assert_eq!(std::fs::read(&local).unwrap(), body, "{n}");
        }
        let e = download(&c, "/D #%", &dir.join("folder")).0.unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidArgument, "{e}");
        let e = download(&c, "/D #%/none", &dir.join("none")).0.unwrap_err();
        assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
        assert!(!dir.join("none").exists() && !partial(&dir.join("none")).exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn the_token_never_goes_to_the_download_origin_nor_its_url_to_the_log() {
    let emu = emulator(Profile::Personal);
    let c = client(&emu);
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let sink = lines.clone();
    c.set_log(
        onedrive_native::LogLevel::Debug,
        Some(std::sync::Arc::new(move |_, line: &str| {
            sink.lock().unwrap().push(line.to_owned())
        })),
    );
    put(&c, "/", "t.bin", &payload(1000));
    emu.clear_requests();
    let mut out = Vec::new();
    c.download_to_writer(&me(), &item("/t.bin"), &mut out, &mut ctl())
        .unwrap();
    // Two requests: the item (its size, hashes and download URL), then that
    // URL, without the token.
    let reqs = emu.requests();
    assert_eq!(reqs.len(), 2, "{reqs:?}");
    assert!(reqs[0].authorization && reqs[0].origin == "api", "{reqs:?}");
    assert!(reqs[1].path.contains("/download/"), "{reqs:?}");
    assert!(!reqs[1].authorization, "{reqs:?}");
    // A download URL that no longer works (expired): the content request,
    // with the token, and its redirect, without.
    emu.add_fault(fault(
        Some("monitor"),
        Some("GET"),
        Some("/download/"),
        Times::Next(1),
        answer_with(401),
    ));
    emu.clear_requests();
    let mut again = Vec::new();
    c.download_to_writer(&me(), &item("/t.bin"), &mut again, &mut ctl())
        .unwrap();
    assert_eq!(again, out);
    let reqs = emu.requests();
    let paths: Vec<&str> = reqs.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(reqs.len(), 4, "{paths:?}");
    assert!(reqs[2].path.ends_with("/content"), "{paths:?}");
    assert!(reqs[2].authorization && reqs[2].origin == "api");
    assert!(reqs[3].path.contains("/download/") && !reqs[3].authorization);
    let lines = lines.lock().unwrap();
    assert!(
        lines
            .iter()
            .any(|l| l.contains(&emu.monitor_origin().replace("https://", "")))
    );
    for l in lines.iter() {
        assert!(!l.contains("/download/"), "{l}");
    }
}

/// The next GET of a download URL is cut after `at` bytes of its body.
fn cut_next_download(emu: &onedrive_emulator::Emulator, at: u64) {
    emu.add_fault(fault(
        Some("monitor"),
        Some("GET"),
        Some("/download/"),
        Times::Next(1),
        FaultAction::DropBodyAfter(at),
    ));
}

#[test]
fn a_cut_download_resumes_where_it_stopped() {
    let emu = emulator(Profile::Personal);
    let c = client(&emu);
    let dir = local_dir("cuts");
    let size = 200_000u64;
    let body = payload(size as usize);
    put(&c, "/", "cut é #.bin", &body);
    for cut in [1, 65_536, size - 1] {
        cut_next_download(&emu, cut);
        emu.clear_requests();
        let local = dir.join(format!("cut {cut}"));
        let (got, seen) = download(&c, "/cut é #.bin", &local);
        got.unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
        assert_eq!(std::fs::read(&local).unwrap(), body, "cut at {cut}");
        // two GETs of the download URL, progress never back to 0
        let gets = emu
            .requests()
            .iter()
            .filter(|r| r.path.contains("/download/"))
            .count();
        assert_eq!(gets, 2, "cut at {cut}");
        check_progress(&seen, size);
        // and into a writer
        cut_next_download(&emu, cut);
        let mut out = Vec::new();
        c.download_to_writer(&me(), &item("/cut é #.bin"), &mut out, &mut ctl())
            .unwrap();
        assert_eq!(out, body, "cut at {cut}, writer");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_interrupted_file_download_resumes_later_or_starts_over_when_changed() {
    let emu = emulator(Profile::Business);
    let c = client(&emu);
    c.set_retry_policy(RetryPolicy {
        max_attempts: 1,
        ..c.retry_policy()
    })
    .unwrap();
    let dir = local_dir("resume");
    let local = dir.join("r 100%.bin");
    let size = 300_000u64;
    let v1 = payload(size as usize);
    put(&c, "/", "r 100%.bin", &v1);
    cut_next_download(&emu, 100_000);
    let e = download(&c, "/r 100%.bin", &local).0.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Network, "{e}");
    assert!(!local.exists(), "no partial file under the target's name");
    assert_eq!(std::fs::metadata(partial(&local)).unwrap().len(), 100_000);
    // the next call fetches only the rest
    let (got, seen) = download(&c, "/r 100%.bin", &local);
    got.unwrap();
    assert_eq!(seen.first(), Some(&(100_000, size)), "resumed");
    assert_eq!(std::fs::read(&local).unwrap(), v1);
    assert!(!partial(&local).exists());

    // cut again, then the file changes on the service: fetched whole
    cut_next_download(&emu, 150_000);
    download(&c, "/r 100%.bin", &local).0.unwrap_err();
    assert_eq!(std::fs::read(&local).unwrap(), v1, "the old file stays");
    let v2 = payload(size as usize + 7)
        .into_iter()
        .rev()
        .collect::<Vec<u8>>();
    put(&c, "/", "r 100%.bin", &v2);
    let (got, seen) = download(&c, "/r 100%.bin", &local);
    got.unwrap();
    assert_eq!(seen.first(), Some(&(0, size + 7)), "started over");
    assert_eq!(std::fs::read(&local).unwrap(), v2);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A scripted service holding one file `body` (eTag "e1", its metadata's
/// hash `qxh`), answering content GETs with `content(n, request)` (n from 0).
fn file_service(
    body: Vec<u8>,
    qxh: String,
    content: impl Fn(usize, &scripted::Seen, &[u8]) -> Answer + Send + Sync + 'static,
) -> Scripted {
    let n = std::sync::atomic::AtomicUsize::new(0);
    Scripted::start(move |req| {
        if req.path.ends_with("/content") {
            let i = n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            return content(i, req, &body);
        }
        Answer::json(
            200,
            &format!(
                r#"{{"id":"F1","name":"f.bin","size":{},"eTag":"\"e1\"","file":{{"hashes":{{"quickXorHash":"{qxh}"}}}}}}"#,
                body.len()
            ),
        )
    })
}

#[test]
fn a_service_that_ignores_range_is_started_over_never_appended_to() {
    let body = payload(100_000);
    let qxh = onedrive_native::quick_xor_hash(&body);
    let s = file_service(body.clone(), qxh.clone(), |_, _, b| {
        Answer::Full(200, vec![], b.to_vec())
    });
    let c = scripted_client(&s);
    let dir = local_dir("ignores-range");
    let local = dir.join("f.bin");
    // a partial file of this version, as an interrupted call leaves it;
    // bytes of its own, so that a 200 appended to it would show: a 200 to a
    // ranged request is the whole file, what was kept is dropped
    std::fs::write(partial(&local), [0xEE; 1000]).unwrap();
    let tag = partial(&local).with_file_name(".f.bin.odpart.etag");
    std::fs::write(&tag, "\"e1\"").unwrap();
    download(&c, "/f.bin", &local).0.unwrap();
    assert_eq!(std::fs::read(&local).unwrap(), body);
    let content = s
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/content"))
        .unwrap();
    assert_eq!(content.header("range"), Some("bytes=1000-"));
    assert_eq!(content.header("if-range"), Some("\"e1\""));
    assert!(!tag.exists());

    // within one call, into a writer: cut at 5000, then a 200 whole
    let s = file_service(body.clone(), qxh, |i, _, b| match i {
        0 => Answer::Cut(200, vec![], b[..5000].to_vec(), b.len() as u64),
        _ => Answer::Full(200, vec![], b.to_vec()),
    });
    let c = scripted_client(&s);
    let mut out = Vec::new();
    c.download_to_writer(&me(), &item("/f.bin"), &mut out, &mut ctl())
        .unwrap();
    assert_eq!(out, body);
    let ranges: Vec<_> = s
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/content"))
        .map(|r| r.header("range").map(str::to_owned))
        .collect();
    assert_eq!(ranges, vec![None, Some("bytes=5000-".to_owned())]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_hash_mismatch_fails_and_leaves_nothing() {
    let body = payload(70_000);
    let wrong = onedrive_native::quick_xor_hash(b"something else");
    let s = file_service(body.clone(), wrong, |_, _, b| {
        Answer::Full(200, vec![], b.to_vec())
    });
    let c = scripted_client(&s);
    let dir = local_dir("mismatch");
    let local = dir.join("f.bin");
    let e = download(&c, "/f.bin", &local).0.unwrap_err();
    assert_eq!(e.kind, ErrorKind::HashMismatch, "{e}");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "nothing left");
    let mut out = Vec::new();
    let e = c
        .download_to_writer(&me(), &item("/f.bin"), &mut out, &mut ctl())
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::HashMismatch, "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_redirect_is_followed_without_the_token_and_never_shown() {
    let body = payload(10_000);
    let other = std::sync::Arc::new(Scripted::start({
        let body = body.clone();
        move |req| {
            if req.path.contains("refuse") {
                Answer::json(403, r#"{"error":{"code":"accessDenied","message":"no"}}"#)
            } else {
                Answer::Full(200, vec![], body.clone())
            }
        }
    }));
    let target = other.url("/dl/SECRET-CAPABILITY?tempauth=SECRET");
    let refuse = other.url("/dl/refuse/SECRET-CAPABILITY");
    let qxh = onedrive_native::quick_xor_hash(&body);
    let s = file_service(body.clone(), qxh, move |i, _, _| {
        let to = if i == 0 { &target } else { &refuse };
        Answer::Full(302, vec![("Location".into(), to.clone())], Vec::new())
    });
    let c = scripted_client(&s);
    let mut out = Vec::new();
    c.download_to_writer(&me(), &item("/f.bin"), &mut out, &mut ctl())
        .unwrap();
    assert_eq!(out, body);
    let e = c
        .download_to_writer(&me(), &item("/f.bin"), &mut Vec::new(), &mut ctl())
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Forbidden, "{e}");
    assert!(!format!("{e:?}").contains("SECRET"), "{e:?}");
    let seen = other.requests();
    assert_eq!(seen.len(), 2);
    assert!(
        seen.iter().all(|r| r.header("authorization").is_none()),
        "{seen:?}"
    );
}

#[test]
fn a_download_is_cancelled_promptly_and_keeps_its_partial_file() {
    let emu = emulator(Profile::Personal);
    let c = client(&emu);
    let size = 1 << 20;
    put(&c, "/", "slow.bin", &payload(size));
    c.set_download_rate(128 * 1024);
    let dir = local_dir("cancel");
    let local = dir.join("slow.bin");
    let token = onedrive_native::CancelToken::new();
    let started = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let canceller = {
        let (token, started) = (token.clone(), started.clone());
        std::thread::spawn(move || {
            assert!(eventually(Duration::from_secs(60), || started
                .load(std::sync::atomic::Ordering::SeqCst)));
            token.cancel();
            std::time::Instant::now()
        })
    };
    // The first report of bytes received holds the download until the other
    // thread has raised the flag, so the cancel lands mid-way however fast
    // the rest would come (60 s only as a hang guard).
    let mut cb = |d: u64, _| {
        if d > 0 && !started.swap(true, std::sync::atomic::Ordering::SeqCst) {
            assert!(eventually(Duration::from_secs(60), || token.is_cancelled()));
        }
        true
    };
    let e = c
        .download_file(
            &me(),
            &item("/slow.bin"),
            &local,
            &mut onedrive_native::Control::new(Some(&token), Some(&mut cb)),
        )
        .unwrap_err();
    let took = canceller.join().unwrap().elapsed();
    assert_eq!(e.kind, ErrorKind::Cancelled, "{e}");
    println!("cancelled after {} ms", took.as_millis());
    assert!(took < Duration::from_secs(30), "hang guard: {took:?}");
    assert!(!local.exists());
    let kept = std::fs::metadata(partial(&local)).unwrap().len();
    assert!(kept > 0 && kept < size as u64, "{kept}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A 1 GiB download from a scripted service into a file: the peak RSS
/// before and after, written to stdout (`make test-memory`, in `make
/// test`, runs it in a process of its own).
#[test]
#[ignore = "reads the process's peak RSS: make test-memory runs it alone"]
fn a_gib_download_keeps_rss_bounded() {
    const GIB: u64 = 1 << 30;
    let mut h = onedrive_native::QuickXor::new();
    let zeros = vec![b'0'; 64 * 1024];
    for _ in 0..GIB / zeros.len() as u64 {
        h.update(&zeros);
    }
    let qxh = h.finish();
    // the download URL on a host of its own, the API answering the rest
    let dl = Scripted::start(|_| Answer::Huge(200, GIB));
    let to = dl.url("/dl/f");
    let api = Scripted::start(move |req| {
        if req.path.ends_with("/content") {
            return Answer::Full(302, vec![("Location".into(), to.clone())], Vec::new());
        }
        Answer::json(
            200,
            &format!(
                r#"{{"id":"F1","name":"f.bin","size":{GIB},"eTag":"\"e1\"","file":{{"hashes":{{"quickXorHash":"{qxh}"}}}}}}"#
            ),
        )
    });
    let c = scripted_client(&api);
    let dir = local_dir("gib");
    let before = vm_hwm_kib();
    let t = std::time::Instant::now();
    download(&c, "/f.bin", &dir.join("f.bin")).0.unwrap();
    let after = vm_hwm_kib();
    println!(
        "1 GiB download: VmHWM {before} KiB before, {after} KiB after (+{} KiB), {:.1} s",
        after - before,
        t.elapsed().as_secs_f64()
    );
    assert_eq!(std::fs::metadata(dir.join("f.bin")).unwrap().len(), GIB);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(after - before < 16 * 1024);
}

/// A download's deadline grows with its length (at 16 KiB/s, the slowest
/// its deadline allows): a file longer than the stall timeouts' own
/// deadline covers at that rate still downloads.
#[test]
fn a_download_gets_time_for_its_length() {
    let emu = emulator(Profile::Business);
    let c = client(&emu);
    // Stall timeouts of 10 s: on their own, a deadline of about 30 s, which
    // 2 MiB at 16 KiB/s (128 s) would overrun four times.
    c.set_timeouts(Duration::from_secs(10), Duration::from_secs(10))
        .unwrap();
    let body = payload(2 * 1024 * 1024);
    put(&c, "/", "long.bin", &body);
    let mut out = Vec::new();
    c.download_to_writer(&me(), &item("/long.bin"), &mut out, &mut ctl())
        .unwrap();
    assert!(out == body, "{} bytes of {}", out.len(), body.len());
}
