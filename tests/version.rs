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
