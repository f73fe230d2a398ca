//! src/graph, src/ffi and src/queue must each stay a one-way graph of modules: no two
//! modules import each other, directly or in a ring. Reads each module's
//! source (outside its `#[cfg(test)]` part) for the paths that name a
//! sibling (`super::x`, `crate::graph::x`, `super::{x, y}`). Another crate
//! or folder is one more `assert_one_way` line.

#[path = "common/module_graph.rs"]
mod module_graph;

use module_graph::{Graph, assert_one_way, find_cycle, graph, long_files, modules};
use std::collections::BTreeSet;
use std::path::Path;

/// The modules of `dir` (relative to the crate root) and their imports.
fn graph_of(dir: &str, prefixes: &[&str]) -> Graph {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    graph(&modules(&root, &["mod", "lib", "main"], false), prefixes)
}

#[test]
fn graph_modules_import_one_way() {
    assert_one_way(
        "src/graph",
        &graph_of("src/graph", &["super::", "crate::graph::"]),
        30,
    );
}

#[test]
fn ffi_modules_import_one_way() {
    assert_one_way(
        "src/ffi",
        &graph_of("src/ffi", &["super::", "crate::ffi::"]),
        12,
    );
}

#[test]
fn queue_modules_import_one_way() {
    assert_one_way(
        "src/queue",
        &graph_of("src/queue", &["super::", "crate::queue::"]),
        7,
    );
}

#[test]
fn a_cycle_is_found() {
    let edge = |a: &str, b: &[&str]| {
        (
            a.to_owned(),
            b.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>(),
        )
    };
    let ring: Graph = [edge("a", &["b"]), edge("b", &["c"]), edge("c", &["a"])].into();
    assert_eq!(find_cycle(&ring).unwrap(), ["a", "b", "c", "a"]);
    let line: Graph = [edge("a", &["b", "c"]), edge("b", &["c"]), edge("c", &[])].into();
    assert_eq!(find_cycle(&line), None);
}

#[test]
fn grouped_and_single_paths_are_read() {
    let dir = std::env::temp_dir().join(format!("module-graph-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let files = [
        ("a.rs", "use super::{b, c::X};\n#[cfg(test)]\nuse super::d;"),
        ("b.rs", "use crate::m::c::Y;"),
        ("c.rs", "fn f() { super::a::g() }"),
        ("d.rs", ""),
        ("mod.rs", "use super::a;"),
    ];
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let g = graph(&modules(&dir, &["mod"], false), &["super::", "crate::m::"]);
    std::fs::remove_dir_all(&dir).unwrap();
    let deps = |m: &str| g[m].iter().cloned().collect::<Vec<_>>();
    assert_eq!(g.len(), 4);
    assert_eq!(deps("a"), ["b", "c"]);
    assert_eq!(deps("b"), ["c"]);
    assert_eq!(deps("c"), ["a"]);
    assert!(deps("d").is_empty());
    assert_eq!(find_cycle(&g).unwrap(), ["a", "b", "c", "a"]);
}

/// No source file of the library passes 700 lines, test files aside
/// (`tests.rs`, and what sits in a `tests/` folder).
#[test]
fn no_source_file_over_700_lines() {
    const MAX_LINES: usize = 700;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let is_test = |p: &Path| {
        p.file_name().is_some_and(|n| n == "tests.rs")
            || p.components().any(|c| c.as_os_str() == "tests")
    };
    let mut long = Vec::new();
    let mut seen = 0;
    for dir in ["src", "capi"] {
        let (l, n) = long_files(&root.join(dir), MAX_LINES, is_test);
        long.extend(l);
        seen += n;
    }
    assert!(seen > 50, "{seen} files read");
    assert!(long.is_empty(), "over {MAX_LINES} lines: {long:?}");
}
