//! src/graph must stay a one-way graph of modules: no two modules import
//! each other, directly or in a ring. Reads each module's source (outside
//! its `#[cfg(test)]` part) for `super::x` and `crate::graph::x` paths.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module name → the modules of src/graph its non-test code names.
fn graph(dir: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut modules = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        if name == "mod" || path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap();
        modules.insert(name, code.to_owned());
    }
    let names: BTreeSet<String> = modules.keys().cloned().collect();
    modules
        .iter()
        .map(|(name, code)| {
            let mut deps = BTreeSet::new();
            for prefix in ["super::", "crate::graph::"] {
                for (i, _) in code.match_indices(prefix) {
                    let rest = &code[i + prefix.len()..];
                    let word: String = rest
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if names.contains(&word) && word != *name {
                        deps.insert(word);
                    }
                }
            }
            (name.clone(), deps)
        })
        .collect()
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
    let g = graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src/graph"));
    assert!(g.len() > 10, "read {} modules", g.len());
    if let Some(ring) = find_cycle(&g) {
        panic!("src/graph has an import cycle: {}", ring.join(" -> "));
    }
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
