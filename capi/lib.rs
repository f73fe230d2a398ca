//! The C library of onedrive-native: the `od_*` functions of its `ffi`
//! module, exported from the shared and the static library. Everything is in
//! the `onedrive-native` crate; this crate only links it, so that the
//! libraries are built without an `rlib` beside them (see Cargo.toml).

extern crate onedrive_native_rust;
