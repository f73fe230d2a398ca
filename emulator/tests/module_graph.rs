//! emulator/src must stay a one-way graph of modules: no two modules import each other,
//! directly or in a ring, and no source file passes 700 lines. Reads each module's source
//! (outside its `#[cfg(test)]` part) for `crate::x` paths; a folder module (`store/`) counts
//! as one module, and its files are checked among themselves through `super::x`. The crate
//! root (lib.rs, which declares and wires every module) and main.rs stand outside.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

const MAX_LINES: usize = 700;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The non-test code of a file.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    text.split("#[cfg(test)]").next().unwrap().to_owned()
}

/// The names that follow `prefix` in `code` and are among `names` (other than `own`).
fn deps(code: &str, prefix: &str, names: &BTreeSet<String>, own: &str) -> BTreeSet<String> {
    code.match_indices(prefix)
        .map(|(i, _)| {
            code[i + prefix.len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect::<String>()
        })
        .filter(|w| names.contains(w) && w != own)
        .collect()
}

/// Module name → its non-test code (a folder module: all its files).
fn modules(dir: &Path, skip: &[&str]) -> BTreeMap<String, String> {
    let mut modules = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        if skip.contains(&name.as_str()) {
            continue;
        }
        if path.is_dir() {
            let mut all = String::new();
            for f in std::fs::read_dir(&path).unwrap() {
                let f = f.unwrap().path();
                if f.extension().is_some_and(|e| e == "rs") {
                    all.push_str(&code(&f));
                }
            }
            modules.insert(name, all);
        } else if path.extension().is_some_and(|e| e == "rs") {
            modules.insert(name, code(&path));
        }
    }
    modules
}

fn graph(modules: &BTreeMap<String, String>, prefix: &str) -> Graph {
    let names: BTreeSet<String> = modules.keys().cloned().collect();
    modules
        .iter()
        .map(|(name, code)| (name.clone(), deps(code, prefix, &names, name)))
        .collect()
}

/// A cycle, as the list of modules around it, if there is one.
fn find_cycle(g: &Graph) -> Option<Vec<String>> {
    fn visit(
        g: &Graph,
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
fn no_module_cycle() {
    let g = graph(&modules(&src(), &["lib", "main"]), "crate::");
    assert!(g.len() > 10, "{g:?}");
    assert!(
        g["state"].contains("store"),
        "the reader misses uses: {g:?}"
    );
    assert_eq!(find_cycle(&g), None, "{g:#?}");
}

#[test]
fn no_cycle_inside_the_store() {
    let g = graph(&modules(&src().join("store"), &["mod"]), "super::");
    assert_eq!(g.len(), 3, "{g:?}");
    assert_eq!(find_cycle(&g), None, "{g:#?}");
}

#[test]
fn the_cycle_finder_finds_rings() {
    let g: Graph = [("a", &["b"][..]), ("b", &["c"]), ("c", &["a"]), ("d", &[])]
        .iter()
        .map(|(n, d)| (n.to_string(), d.iter().map(|s| s.to_string()).collect()))
        .collect();
    assert_eq!(
        find_cycle(&g),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    let mods: BTreeMap<String, String> = [
        ("x".to_string(), "use crate::y::Z;".to_string()),
        ("y".to_string(), "fn f() { crate::x::g() }".to_string()),
    ]
    .into();
    assert!(find_cycle(&graph(&mods, "crate::")).is_some());
}

#[test]
fn no_source_file_over_700_lines() {
    let mut stack = vec![src()];
    let mut long = Vec::new();
    let mut seen = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                seen += 1;
                let lines = std::fs::read_to_string(&path).unwrap().lines().count();
                if lines > MAX_LINES {
                    long.push((path, lines));
                }
            }
        }
    }
    assert!(seen > 10);
    assert!(long.is_empty(), "over {MAX_LINES} lines: {long:?}");
}
