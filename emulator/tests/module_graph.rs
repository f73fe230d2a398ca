//! emulator/src must stay a one-way graph of modules: no two modules import each other,
//! directly or in a ring, and no source file passes 700 lines. Reads each module's source
//! (outside its `#[cfg(test)]` part) for `crate::x` paths; a folder module (`store/`) counts
//! as one module, and its files are checked among themselves through `super::x`. The crate
//! root (lib.rs, which declares and wires every module) and main.rs stand outside.

#[path = "../../tests/common/module_graph.rs"]
mod module_graph;

use module_graph::{assert_one_way, graph, long_files, modules};
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 700;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn no_module_cycle() {
    let g = graph(&modules(&src(), &["lib", "main"], true), &["crate::"]);
    assert!(
        g["state"].contains("store"),
        "the reader misses uses: {g:?}"
    );
    assert_one_way("emulator/src", &g, 11);
}

#[test]
fn no_cycle_inside_the_store() {
    let g = graph(
        &modules(&src().join("store"), &["mod"], false),
        &["super::"],
    );
    assert_eq!(g.len(), 3, "{g:?}");
    assert_one_way("emulator/src/store", &g, 3);
}

#[test]
fn no_source_file_over_700_lines() {
    let (long, seen) = long_files(&src(), MAX_LINES, |_| false);
    assert!(seen > 10);
    assert!(long.is_empty(), "over {MAX_LINES} lines: {long:?}");
}
