//! A page of children as a listing reads it (`read_page`): the page's
//! nextLink is followed only on the API origin and only the first time;
//! never a panic. Each input is read twice: as a page's body, and as the
//! nextLink of a well-formed page (so the fuzzer's URLs get past the JSON).
#![no_main]
use libfuzzer_sys::fuzz_target;
use onedrive_native::fuzzing::{self, NextPage};

/// API base URLs a client may have: Graph, the emulator on loopback, IPv6.
const BASES: [&str; 3] = [
    "https://graph.microsoft.com/v1.0",
    "http://127.0.0.1:8080/v1.0",
    "https://[::1]:8443/drive",
];

fuzz_target!(|data: &[u8]| {
    check(data);
    let link = String::from_utf8_lossy(data);
    let page = serde_json::json!({
        "value": [{"id": "a"}, {"id": "b", "name": "x"}],
        "@odata.nextLink": link,
    });
    check(page.to_string().as_bytes());
});

fn check(body: &[u8]) {
    let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let link = json
        .as_ref()
        .and_then(|v| v.get("@odata.nextLink"))
        .and_then(|l| l.as_str());
    let len = json
        .as_ref()
        .and_then(|v| v.get("value"))
        .and_then(|v| v.as_array())
        .map(Vec::len);
    for base in BASES {
        let Ok((ids, next)) = fuzzing::listing_page(base, &[], body) else {
            continue;
        };
        assert_eq!(Some(ids.len()), len);
        match &next {
            NextPage::End => assert!(link.is_none(), "{link:?} not followed"),
            NextPage::Follow(l) => {
                assert_eq!(Some(l.as_str()), link);
                let on = fuzzing::origin_of(l);
                assert!(
                    on.is_some() && on == fuzzing::origin_of(base),
                    "{l:?} off {base}"
                );
            }
            NextPage::Refused(_) => {
                let l = link.expect("refused without a link");
                assert_ne!(
                    fuzzing::origin_of(l),
                    fuzzing::origin_of(base),
                    "{l:?} on {base}"
                );
            }
        }
        // The same page with its own link seen before: a loop, refused.
        let l = link.unwrap_or("");
        let again = fuzzing::listing_page(base, &[l], body).expect("read once, not twice");
        match (&next, &again.1) {
            (NextPage::Follow(_), NextPage::Refused(m)) => assert!(m.contains("twice"), "{m}"),
            (NextPage::Follow(_), other) => panic!("a loop through {l:?}: {other:?}"),
            (first, second) => assert_eq!(first, second),
        }
        assert_eq!(ids, again.0);
    }
}
