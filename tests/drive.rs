//! Listing, moving and downloading, against the in-process emulator over
//! real HTTPS (and, for what the emulator cannot show, a scripted server).

mod common;
#[allow(dead_code)]
#[path = "common/scripted.rs"]
mod scripted;

use std::time::Duration;

use common::*;
use onedrive_emulator::Profile;
use onedrive_native::{Client, ClientConfig, Conflict, ErrorKind, Item, RetryPolicy};
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
/// after the first page and at the end, written to stdout (run with
/// `cargo test --release --test drive -- --ignored --nocapture rss`).
#[test]
#[ignore]
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
