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
    // Whatever follows the authority in the input is not in the output.
    if let Some(after) = url.split_once("://").map(|(_, rest)| rest) {
        if let Some(i) = after.find(['/', '?', '#']) {
            let tail = &after[i..];
            if tail.len() > 1 && !origin.contains(tail) {
                assert!(!out.contains(tail), "{url:?} -> {out:?}");
            }
        }
        if let Some((userinfo, _)) = after.split_once('@') {
            if !userinfo.contains(['/', '?', '#'])
                && !userinfo.is_empty()
                && !origin.contains(userinfo)
            {
                assert!(!out.contains(userinfo), "{url:?} -> {out:?}");
            }
        }
    }
});
