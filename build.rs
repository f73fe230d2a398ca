//! Writes include/onedrive.h from the C ABI in src/ffi (cbindgen). The
//! header is committed; `make test` fails when it differs from a fresh one.
//! The shared library's SONAME is set by capi/build.rs (the package that
//! builds the C libraries).

use std::path::PathBuf;

// The size rules and defaults the core uses, written into the header below.
#[allow(dead_code)]
mod limits {
    include!("src/graph/limits.rs");
}

// The handles' "Methods:" indexes, completed in the header (shared with
// the test that checks them).
#[path = "src/ffi/methods_index.rs"]
mod methods_index;

fn dir_of_manifest() -> PathBuf {
    PathBuf::from(env("CARGO_MANIFEST_DIR"))
}

/// `od_status` is defined once, as the enum in src/ffi/status.rs: each
/// variant's number, name and doc comment. From it this writes
/// `$OUT_DIR/status_table.rs` (every variant in order, and the static text
/// `od_status_str` returns: "NAME: its doc comment"), which status.rs
/// includes; the enum itself goes into the header through cbindgen.
fn write_status_table(dir: &std::path::Path) {
    let source = std::fs::read_to_string(dir.join("src/ffi/status.rs")).expect("src/ffi/status.rs");
    let body = source
        .split_once("pub enum od_status {")
        .and_then(|(_, rest)| rest.split_once("\n}"))
        .expect("src/ffi/status.rs defines `pub enum od_status { ... }`")
        .0;
    let (mut doc, mut rows) = (Vec::new(), Vec::new());
    for line in body.lines().map(str::trim) {
        if let Some(text) = line.strip_prefix("///") {
            doc.push(text.trim().to_owned());
        } else if let Some((name, number)) = line.trim_end_matches(',').split_once(" = ") {
            let mut text = doc.join(" ");
            text = text.trim_end_matches('.').to_owned();
            // "A request …" becomes "a request …"; an acronym ("TLS …",
            // "HTTP 401") keeps its case.
            let acronym = text.chars().nth(1).is_some_and(|c| c.is_ascii_uppercase())
                || text.chars().next().is_some_and(|c| !c.is_alphabetic());
            if let (Some(first), false) = (text.get(..1), acronym) {
                text = first.to_lowercase() + &text[1..];
            }
            assert!(!text.is_empty(), "od_status::{name} needs a doc comment");
            rows.push((
                name.to_owned(),
                number.to_owned(),
                format!("{name}: {text}"),
            ));
            doc.clear();
        }
    }
    for (i, (name, number, _)) in rows.iter().enumerate() {
        assert_eq!(
            number,
            &i.to_string(),
            "od_status::{name}: numbers run 0, 1, 2, ..."
        );
    }
    let all: Vec<String> = rows
        .iter()
        .map(|(n, _, _)| format!("od_status::{n}"))
        .collect();
    let arms: Vec<String> = rows
        .iter()
        .map(|(n, _, t)| format!("            od_status::{n} => c{t:?},"))
        .collect();
    let table = format!(
        "impl od_status {{\n    pub(crate) const ALL: [od_status; {}] = [{}];\n\n    \
         fn text(self) -> &'static CStr {{\n        match self {{\n{}\n        }}\n    }}\n}}\n",
        rows.len(),
        all.join(", "),
        arms.join("\n")
    );
    let out = PathBuf::from(env("OUT_DIR")).join("status_table.rs");
    std::fs::write(out, table).expect("write status_table.rs");
}

/// cbindgen writes each `#[repr(i32)]` enum of src/ffi as two C types of
/// one name before C23 (`enum od_status { OD_OK = 0, … };` and
/// `typedef int32_t od_status;`), and as the enum alone in C++ and C23.
/// Swift's importer sees both (a struct `od_status` and an `Int32`
/// alias): which one its users get is not up to us. This rewrites each into
/// one C type per name in every language: `typedef int32_t od_status;` and
/// the values as an anonymous enum. The names and numbers are the same, and
/// `od_status` is the type C callers had before (int32_t).
fn one_type_per_enum(header: &str) -> String {
    const FIXED: &str = "#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L";
    const FIXED_END: &str = "#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L";
    let lines: Vec<&str> = header.lines().collect();
    let mut out = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        let Some(name) = lines[i]
            .strip_prefix("enum ")
            .filter(|n| !n.contains(['{', ' ']))
        else {
            out.push(lines[i].to_owned());
            i += 1;
            continue;
        };
        let ty = lines.get(i + 2).and_then(|l| l.trim().strip_prefix(": "));
        let (Some(ty), Some(&FIXED), Some(&FIXED_END), Some(&" {")) =
            (ty, lines.get(i + 1), lines.get(i + 3), lines.get(i + 4))
        else {
            panic!("enum {name}: cbindgen's layout changed, adjust one_type_per_enum in build.rs");
        };
        let close = (i + 5..lines.len())
            .find(|&j| lines[j] == "};")
            .unwrap_or_else(|| panic!("enum {name} does not end"));
        let typedefs = [
            "#ifndef __cplusplus".to_owned(),
            "#if __STDC_VERSION__ >= 202311L".to_owned(),
            format!("typedef enum {name} {name};"),
            "#else".to_owned(),
            format!("typedef {ty} {name};"),
            "#endif // __STDC_VERSION__ >= 202311L".to_owned(),
            "#endif // __cplusplus".to_owned(),
        ];
        assert!(
            lines.get(close + 1..close + 1 + typedefs.len())
                == Some(&typedefs.each_ref().map(String::as_str)[..]),
            "enum {name}: cbindgen's typedefs changed, adjust one_type_per_enum in build.rs"
        );
        out.push(format!("typedef {ty} {name};"));
        out.push(format!("// The values of `{name}`."));
        out.push("enum {".to_owned());
        out.extend(lines[i + 5..=close].iter().map(|l| (*l).to_owned()));
        i = close + 1 + typedefs.len();
    }
    let mut text = out.join("\n");
    text.push('\n');
    text
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("cargo sets {name}"))
}

fn main() {
    println!("cargo:rerun-if-changed=src/ffi");
    println!("cargo:rerun-if-changed=src/ffi/status.rs");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=src/graph/limits.rs");
    write_status_table(&dir_of_manifest());
    let dir = PathBuf::from(env("CARGO_MANIFEST_DIR"));
    let mut config =
        cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml is valid");

    // One source of truth for the version: Cargo.toml. The header carries
    // it as macros; od_version() returns the same string.
    let (major, minor, patch) = (
        env("CARGO_PKG_VERSION_MAJOR"),
        env("CARGO_PKG_VERSION_MINOR"),
        env("CARGO_PKG_VERSION_PATCH"),
    );
    config.after_includes = Some(format!(
        "\n#define OD_VERSION_MAJOR {major}\n#define OD_VERSION_MINOR {minor}\n\
         #define OD_VERSION_PATCH {patch}\n#define OD_VERSION_STRING \"{}\"\n",
        env("CARGO_PKG_VERSION")
    ));
    // Sizes in bytes, from src/graph/limits.rs (the values the core uses).
    let after = config.after_includes.get_or_insert_with(String::new);
    for (name, value, doc) in [
        (
            "OD_CHUNK_UNIT",
            limits::CHUNK_UNIT,
            "Upload-session chunks are multiples of this (320 KiB).",
        ),
        (
            "OD_DEFAULT_CHUNK_SIZE",
            limits::DEFAULT_CHUNK_SIZE,
            "The chunk size a client starts with (10 MiB).",
        ),
        (
            "OD_MAX_CHUNK_SIZE",
            limits::MAX_CHUNK_SIZE,
            "The largest chunk the service takes (below 60 MiB).",
        ),
        (
            "OD_DEFAULT_SIMPLE_UPLOAD_LIMIT",
            limits::DEFAULT_SIMPLE_UPLOAD_LIMIT,
            "Bodies up to this go in one PUT by default (4 MiB).",
        ),
        (
            "OD_MAX_SIMPLE_UPLOAD_LIMIT",
            limits::MAX_SIMPLE_UPLOAD_LIMIT,
            "The largest simple-upload limit a client takes (250 MB, Graph's documented maximum).",
        ),
    ] {
        after.push_str(&format!("\n/* {doc} */\n#define {name} {value}ULL\n"));
    }

    // Only src/ffi is read: nothing of the core leaks into the header.
    let bindings = match cbindgen::Builder::new()
        .with_src(dir.join("src/ffi/mod.rs"))
        .with_config(config)
        .generate()
    {
        Ok(b) => b,
        Err(e) => panic!("cbindgen could not read src/ffi: {e}"),
    };
    let mut written = Vec::new();
    bindings.write(&mut written);
    let fresh = methods_index::complete(&one_type_per_enum(
        &String::from_utf8(written).expect("cbindgen writes UTF-8"),
    ))
    .into_bytes();
    let path = dir.join("include/onedrive.h");
    // Only touch the file when it changes, so builds stay incremental; a
    // read-only source tree (a registry copy) keeps its shipped header.
    if std::fs::read(&path).ok().as_deref() != Some(fresh.as_slice())
        && let Err(e) = std::fs::write(&path, &fresh)
    {
        println!("cargo:warning=could not write {}: {e}", path.display());
    }
}
