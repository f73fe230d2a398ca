//! Names the shared library's ABI (its SONAME) on Linux: the major version,
//! or 0.minor before 1.0 (where a minor release may break it).

fn main() {
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    if var("CARGO_CFG_TARGET_OS") == "linux" {
        let (major, minor) = (
            var("CARGO_PKG_VERSION_MAJOR"),
            var("CARGO_PKG_VERSION_MINOR"),
        );
        let abi = if major == "0" {
            format!("0.{minor}")
        } else {
            major
        };
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libonedrive_native.so.{abi}");
    }
}
