//! URL redaction (`url::redact`): the output is the origin only, never the
//! input's path, query or user info.
#![no_main]
use libfuzzer_sys::fuzz_target;
use onedrive_native::fuzzing;

fuzz_target!(|url: &str| {
    let out = fuzzing::redact(url);
    if out == "(not a URL)" {
        return;
    }
    let (scheme, _, port) = fuzzing::origin_of(url).expect("redacted means parsed");
    let origin = out.strip_suffix("/…").expect("ends with /…");
    let hostport = origin
        .strip_prefix(&format!("{scheme}://"))
        .expect("starts with the scheme");
    assert!(hostport.ends_with(&format!(":{port}")), "{out:?}");
    assert!(
        !hostport.contains(['/', '?', '#', '@']),
        "{url:?} -> {out:?}"
    );
    // The output is a function of the origin alone (scheme, host, port):
    // nothing of the path, query, fragment or user info can be in it. (A
    // substring test would be fooled by paths that spell an origin.)
    let (_, host, _) = fuzzing::origin_of(url).unwrap();
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host
    };
    assert_eq!(out, format!("{scheme}://{host}:{port}/…"), "{url:?}");
});
