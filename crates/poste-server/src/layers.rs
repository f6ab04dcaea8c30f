//! The layers of this crate, checked: no two of its top-level modules import each other, even
//! through others. A newcomer reads them bottom-up (docs/architecture.md): `domain` (pure
//! rules), `text`, `config`, `settings`, `messages`, `hub`, `state`, `ops` (the use cases),
//! then the transports (`http`, `console`, `cli`) and `app`, which assembles them all.

#![cfg(test)]
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// `module → modules it names as crate::…`, test code left out.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut pending = vec![src.clone()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            if path.extension().is_none_or(|ext| ext != "rs") {
                continue;
            }
            let relative = path.strip_prefix(&src).unwrap();
            let top = relative
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_owned();
            if ["lib", "main", "layers"].contains(&top.as_str()) {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            let named = graph.entry(top.clone()).or_default();
            for (at, _) in code.match_indices("crate::") {
                let rest = &code[at + "crate::".len()..];
                let names: Vec<&str> = if let Some(group) = rest.strip_prefix('{') {
                    group
                        .split('}')
                        .next()
                        .unwrap_or_default()
                        .split(',')
                        .map(|item| item.trim().split("::").next().unwrap_or_default())
                        .collect()
                } else {
                    vec![rest.split("::").next().unwrap_or_default()]
                };
                for name in names {
                    let name: String = name
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() && name != top && name != "self" {
                        named.insert(name);
                    }
                }
            }
        }
    }
    graph
}

/// Whether `to` can be reached from `from` by following imports.
fn reaches(graph: &BTreeMap<String, BTreeSet<String>>, from: &str, to: &str) -> bool {
    let mut seen = BTreeSet::new();
    let mut pending = vec![from.to_owned()];
    while let Some(module) = pending.pop() {
        for next in graph.get(&module).into_iter().flatten() {
            if next == to {
                return true;
            }
            if seen.insert(next.clone()) {
                pending.push(next.clone());
            }
        }
    }
    false
}

#[test]
fn no_two_modules_import_each_other_even_through_others() {
    let graph = imports();
    assert!(
        graph.contains_key("ops") && graph.contains_key("app"),
        "{graph:?}"
    );
    let mut circles = Vec::new();
    for (module, named) in &graph {
        for other in named {
            if reaches(&graph, other, module) {
                circles.push(format!("{module} → {other} → … → {module}"));
            }
        }
    }
    assert!(circles.is_empty(), "import circles: {circles:#?}");
}

#[test]
fn the_pure_rules_import_no_other_layer_and_nothing_imports_the_assembly() {
    let graph = imports();
    assert_eq!(
        graph.get("domain").cloned().unwrap_or_default(),
        BTreeSet::new(),
        "domain is pure"
    );
    for (module, named) in &graph {
        if module != "cli" {
            assert!(!named.contains("app"), "{module} imports app");
        }
    }
}
