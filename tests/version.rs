//! One source of truth for the version: Cargo.toml. The header's macros
//! and od_version() must say the same.

use std::ffi::CStr;

#[test]
fn header_macros_and_od_version_agree_with_cargo_toml() {
    let header =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/onedrive.h"))
            .unwrap();
    let define = |name: &str| {
        header
            .lines()
            .find_map(|l| l.strip_prefix(&format!("#define {name} ")))
            .unwrap_or_else(|| panic!("{name} is not in the header"))
            .trim()
            .trim_matches('"')
            .to_owned()
    };
    assert_eq!(define("OD_VERSION_STRING"), env!("CARGO_PKG_VERSION"));
    assert_eq!(define("OD_VERSION_MAJOR"), env!("CARGO_PKG_VERSION_MAJOR"));
    assert_eq!(define("OD_VERSION_MINOR"), env!("CARGO_PKG_VERSION_MINOR"));
    assert_eq!(define("OD_VERSION_PATCH"), env!("CARGO_PKG_VERSION_PATCH"));
    // SAFETY: od_version returns a static NUL-terminated string.
    let v = unsafe { CStr::from_ptr(onedrive_native::ffi::od_version()) };
    assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
}

/// What the header promises a C caller about callbacks, limits and saved
/// state (the rules are in the doc comment of the thing they govern).
#[test]
fn header_states_the_callback_rules_limits_and_trust_model() {
    let header =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/onedrive.h"))
            .unwrap();
    // the doc comment right above a declaration
    let doc_of = |decl: &str| {
        let at = header
            .find(decl)
            .unwrap_or_else(|| panic!("{decl} is not in the header"));
        let mut lines: Vec<&str> = header[..at]
            .lines()
            .rev()
            .skip(1)
            .take_while(|l| l.starts_with("//"))
            .map(|l| l.trim_start_matches('/').trim())
            .collect();
        lines.reverse();
        lines.join(" ")
    };
    for callback in ["od_progress_fn", "od_read_fn", "od_token_fn"] {
        let doc = doc_of(&format!("(*{callback})"));
        assert!(doc.contains("must return normally"), "{callback}: {doc}");
        assert!(doc.contains("longjmp"), "{callback}: {doc}");
    }
    let setter = doc_of("od_status od_client_set_token_callback(");
    assert!(setter.contains("may be freed right away"), "{setter}");
    assert!(doc_of("od_status od_session_from_json(").contains("integrity"));
    assert!(doc_of("od_status od_job_from_monitor_url(").contains("Trust model"));
    assert!(doc_of("od_status od_wait_job(").contains("cut to 60 s"));
    assert!(header.contains("#define OD_MAX_SIMPLE_UPLOAD_LIMIT 250000000ULL"));
    let timeouts = doc_of("od_status od_client_set_timeouts(");
    assert!(timeouts.contains("total deadline") && timeouts.contains("256 KiB"));
}

/// The C libraries come from capi/ (a package of its own, see its
/// Cargo.toml), whose build script names the SONAME after its own version:
/// it must be this crate's.
#[test]
fn the_c_library_package_has_the_crate_version() {
    let manifest =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/capi/Cargo.toml")).unwrap();
    let version = manifest
        .lines()
        .find_map(|l| l.strip_prefix("version = "))
        .expect("capi/Cargo.toml states its version")
        .trim_matches('"');
    assert_eq!(version, env!("CARGO_PKG_VERSION"));
}
