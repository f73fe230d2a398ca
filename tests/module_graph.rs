//! src/graph, src/ffi and src/queue must each stay a one-way graph of modules: no two
//! modules import each other, directly or in a ring. Reads each module's
//! source (outside its `#[cfg(test)]` part) for the paths that name a
//! sibling (`super::x`, `crate::graph::x`, `super::{x, y}`). Another crate
//! or folder is one more `assert_one_way` line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module name → the modules of `dir` its non-test code names through
/// one of `prefixes` (`super::x`, `crate::graph::x`, or a group:
/// `super::{x, y::z}`).
fn graph(dir: &Path, prefixes: &[&str]) -> BTreeMap<String, BTreeSet<String>> {
    let mut modules = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        if ["mod", "lib", "main"].contains(&name.as_str())
            || path.extension().is_none_or(|e| e != "rs")
        {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap();
        modules.insert(name, code.to_owned());
    }
    let names: BTreeSet<String> = modules.keys().cloned().collect();
    let word = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    modules
        .iter()
        .map(|(name, code)| {
            let mut deps = BTreeSet::new();
            for prefix in prefixes {
                for (i, _) in code.match_indices(prefix) {
                    let rest = &code[i + prefix.len()..];
                    let named: Vec<String> = match rest.strip_prefix('{') {
                        // The first segment of each path in the group.
                        Some(group) => group
                            .split('}')
                            .next()
                            .unwrap()
                            .split(',')
                            .map(word)
                            .collect(),
                        None => vec![word(rest)],
                    };
                    for w in named {
                        if names.contains(&w) && w != *name {
                            deps.insert(w);
                        }
                    }
                }
            }
            (name.clone(), deps)
        })
        .collect()
}

/// Fails on an import cycle among the modules of `dir` (relative to the
/// crate root), as `prefixes` name them; `at_least` guards against reading
/// the wrong folder.
fn assert_one_way(dir: &str, prefixes: &[&str], at_least: usize) {
    let g = graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join(dir), prefixes);
    assert!(g.len() >= at_least, "read {} modules in {dir}", g.len());
    if let Some(ring) = find_cycle(&g) {
        panic!("{dir} has an import cycle: {}", ring.join(" -> "));
    }
}

/// A cycle, as the list of modules around it, if there is one.
fn find_cycle(g: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        g: &BTreeMap<String, BTreeSet<String>>,
        node: &str,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut ring = path[at..].to_vec();
            ring.push(node.to_owned());
            return Some(ring);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for dep in &g[node] {
            if let Some(ring) = visit(g, dep, path, done) {
                return Some(ring);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    g.keys()
        .find_map(|n| visit(g, n, &mut Vec::new(), &mut done))
}

#[test]
fn graph_modules_import_one_way() {
    assert_one_way("src/graph", &["super::", "crate::graph::"], 30);
}

#[test]
fn ffi_modules_import_one_way() {
    assert_one_way("src/ffi", &["super::", "crate::ffi::"], 12);
}

#[test]
fn queue_modules_import_one_way() {
    assert_one_way("src/queue", &["super::", "crate::queue::"], 7);
}

#[test]
fn a_cycle_is_found() {
    let edge = |a: &str, b: &[&str]| {
        (
            a.to_owned(),
            b.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>(),
        )
    };
    let ring: BTreeMap<_, _> = [edge("a", &["b"]), edge("b", &["c"]), edge("c", &["a"])].into();
    assert_eq!(find_cycle(&ring).unwrap(), ["a", "b", "c", "a"]);
    let line: BTreeMap<_, _> = [edge("a", &["b", "c"]), edge("b", &["c"]), edge("c", &[])].into();
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
    let g = graph(&dir, &["super::", "crate::m::"]);
    std::fs::remove_dir_all(&dir).unwrap();
    let deps = |m: &str| g[m].iter().cloned().collect::<Vec<_>>();
    assert_eq!(g.len(), 4);
    assert_eq!(deps("a"), ["b", "c"]);
    assert_eq!(deps("b"), ["c"]);
    assert_eq!(deps("c"), ["a"]);
    assert!(deps("d").is_empty());
    assert_eq!(find_cycle(&g).unwrap(), ["a", "b", "c", "a"]);
}
