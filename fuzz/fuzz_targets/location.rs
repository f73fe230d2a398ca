//! `Location` resolution (`resolve_location`): an absolute URL stays as it
//! is; a `/path` keeps the request's origin; nothing else resolves.
#![no_main]
use libfuzzer_sys::fuzz_target;
use onedrive_native::fuzzing;

fuzz_target!(|input: (&str, &str)| {
    let (request, location) = input;
    let Ok(url) = fuzzing::resolve_location(request, location) else {
        return;
    };
    if location.starts_with("http://") || location.starts_with("https://") {
        assert_eq!(url, location);
        return;
    }
    assert!(location.starts_with('/'));
    assert!(url.ends_with(location));
    // A relative Location never moves the request to another origin.
    // ("//host/x" is a network-path reference: it names another host.)
    if let (Some(req), Some(got)) = (fuzzing::origin_of(request), fuzzing::origin_of(&url)) {
        if !location.starts_with("//") {
            assert_eq!(req, got, "{request:?} + {location:?} -> {url:?}");
        }
    }
});
