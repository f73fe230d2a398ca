//! Writes include/onedrive.h from the C ABI in src/ffi (cbindgen). The
//! header is committed; `make test` fails when it differs from a fresh one.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=src/ffi");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let config =
        cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml is valid");
    // Only src/ffi is read: nothing of the core leaks into the header.
    let bindings = match cbindgen::Builder::new()
        .with_src(dir.join("src/ffi/mod.rs"))
        .with_config(config)
        .generate()
    {
        Ok(b) => b,
        Err(e) => panic!("cbindgen could not read src/ffi: {e}"),
    };
    let mut fresh = Vec::new();
    bindings.write(&mut fresh);
    let path = dir.join("include/onedrive.h");
    // Only touch the file when it changes, so builds stay incremental; a
    // read-only source tree (a registry copy) keeps its shipped header.
    if std::fs::read(&path).ok().as_deref() != Some(fresh.as_slice()) {
        if let Err(e) = std::fs::write(&path, &fresh) {
            println!("cargo:warning=could not write {}: {e}", path.display());
        }
    }
}
