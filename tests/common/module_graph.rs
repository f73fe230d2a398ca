//! The module-graph reader both crates' `module_graph` tests use (the
//! emulator's through `#[path]`): which sibling modules each module's
//! non-test code names, and whether those names form a ring.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

pub type Graph = BTreeMap<String, BTreeSet<String>>;

/// The non-test code of a file: what comes before its first `#[cfg(test)]`.
pub fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    text.split("#[cfg(test)]").next().unwrap().to_owned()
}

/// Module name → non-test code, for each `x.rs` in `dir` and, with
/// `folders`, each folder `x/` taken as one module (all its files); the
/// names in `skip` are left out.
pub fn modules(dir: &Path, skip: &[&str], folders: bool) -> BTreeMap<String, String> {
    let mut modules = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        if skip.contains(&name.as_str()) {
            continue;
        }
        let text = if path.is_dir() && folders {
            let mut all = String::new();
            for f in std::fs::read_dir(&path).unwrap() {
                let f = f.unwrap().path();
                if f.extension().is_some_and(|e| e == "rs") {
                    all.push_str(&code(&f));
                }
            }
            all
        } else if path.extension().is_some_and(|e| e == "rs") {
            code(&path)
        } else {
            continue;
        };
        modules
            .entry(name)
            .or_insert_with(String::new)
            .push_str(&text);
    }
    modules
}

/// Module → the other modules its code names through one of `prefixes`
/// (`super::x`, `crate::x`, or a group: `super::{x, y::z}`).
pub fn graph(modules: &BTreeMap<String, String>, prefixes: &[&str]) -> Graph {
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
                    deps.extend(named.into_iter().filter(|w| names.contains(w) && w != name));
                }
            }
            (name.clone(), deps)
        })
        .collect()
}

/// A cycle, as the list of modules around it, if there is one.
pub fn find_cycle(g: &Graph) -> Option<Vec<String>> {
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

/// Fails on a cycle in `g` (the modules of `what`); `at_least` guards
/// against having read the wrong folder.
pub fn assert_one_way(what: &str, g: &Graph, at_least: usize) {
    assert!(
        g.len() >= at_least,
        "read {} modules in {what}: {g:?}",
        g.len()
    );
    if let Some(ring) = find_cycle(g) {
        panic!("{what} has an import cycle: {}", ring.join(" -> "));
    }
}

/// The `.rs` files under `dir` (all depths) longer than `max` lines, but
/// those `is_test` picks, and how many files were read.
pub fn long_files(
    dir: &Path,
    max: usize,
    is_test: fn(&Path) -> bool,
) -> (Vec<(std::path::PathBuf, usize)>, usize) {
    let mut stack = vec![dir.to_path_buf()];
    let (mut long, mut seen) = (Vec::new(), 0);
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") && !is_test(&path) {
                seen += 1;
                let lines = std::fs::read_to_string(&path).unwrap().lines().count();
                if lines > max {
                    long.push((path, lines));
                }
            }
        }
    }
    (long, seen)
}
