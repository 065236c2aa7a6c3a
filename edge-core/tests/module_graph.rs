//! edge-core's module graph has no cycle, and `types` is its bottom.
//!
//! Reads the sources: every `crate::…` path (and `super::…` between the request
//! rooms) is an edge from the room of the file to the room it names. Rooms are the
//! top-level modules and the children of `request` and `image` (`request::plan`,
//! `image::pipeline`, …); a room's own submodules (`decode::jpeg`) belong to it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src");

/// The image rooms that live at the top of `src/` (declared with `#[path]` in image.rs).
const IMAGE_DIRS_AT_TOP: [&str; 3] = ["decode", "encode", "resize"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Module path of a source file (`image::decode::jpeg`), "" for lib.rs.
fn module_of(relative: &str) -> String {
    let trimmed = relative
        .trim_end_matches(".rs")
        .trim_end_matches("/mod")
        .replace('/', "::");
    let trimmed = if trimmed == "lib" {
        String::new()
    } else {
        trimmed
    };
    let first = trimmed.split("::").next().unwrap_or("");
    if IMAGE_DIRS_AT_TOP.contains(&first) {
        format!("image::{trimmed}")
    } else {
        trimmed
    }
}

/// The room a module belongs to; None for the index modules (lib, request, image).
fn room_of(module: &str) -> Option<String> {
    let parts: Vec<&str> = module.split("::").collect();
    match parts.as_slice() {
        [""] | ["request"] | ["image"] => None,
        ["request" | "image", room, ..] => Some(format!("{}::{room}", parts[0])),
        [top, ..] => Some(top.to_string()),
        [] => None,
    }
}

/// Names the crate root re-exports (`pub use a::b::{c, d};`) → the module they come from.
fn root_reexports(lib: &str) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    let text = lib.replace('\n', " ");
    for stmt in text.split(';') {
        // Attributes and comments may precede the statement on the joined text.
        let Some(at) = stmt.find("pub use ") else {
            continue;
        };
        let rest = &stmt[at + "pub use ".len()..];
        let rest = rest.trim();
        let (path, names) = match rest.split_once("::{") {
            Some((path, names)) => (path.to_string(), names.trim_end_matches('}').to_string()),
            None => match rest.rsplit_once("::") {
                Some((path, name)) => (path.to_string(), name.to_string()),
                None => continue,
            },
        };
        for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            // `pub use image::{decode}` re-exports a module, `pub use error::Error` an item.
            let is_module = name.chars().next().is_some_and(|c| c.is_lowercase());
            let target = if is_module {
                format!("{path}::{name}")
            } else {
                path.clone()
            };
            map.insert(name.to_string(), target);
        }
    }
    map
}

/// The room a `crate::a::b::…` path lands in.
fn resolve(path: &[&str], reexports: &BTreeMap<String, String>) -> Option<String> {
    let first = *path.first()?;
    let module = match first {
        "request" | "image" => format!("{first}::{}", path.get(1)?),
        _ => match reexports.get(first) {
            Some(target) => target.clone(),
            None => first.to_string(),
        },
    };
    room_of(&module)
}

/// Every path following `prefix` on a line; `prefix{a, b::c}` gives `a` and `b::c`.
fn paths_after<'a>(line: &'a str, prefix: &str) -> Vec<Vec<&'a str>> {
    let ident = |c: char| c.is_alphanumeric() || c == '_' || c == ':';
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find(prefix) {
        let after = &rest[i + prefix.len()..];
        if let Some(list) = after.strip_prefix('{') {
            let end = list.find('}').unwrap_or(list.len());
            for item in list[..end].split(',') {
                let item = item.trim();
                let len = item.find(|c: char| !ident(c)).unwrap_or(item.len());
                let path: Vec<&str> = item[..len].split("::").filter(|s| !s.is_empty()).collect();
                if !path.is_empty() && path[0] != "self" {
                    out.push(path);
                }
            }
            rest = &list[end..];
            continue;
        }
        let end = after.find(|c: char| !ident(c)).unwrap_or(after.len());
        let path: Vec<&str> = after[..end].split("::").filter(|s| !s.is_empty()).collect();
        if !path.is_empty() {
            out.push(path);
        }
        rest = &after[end..];
    }
    out
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let lib = std::fs::read_to_string(format!("{SRC}/lib.rs")).unwrap();
    let reexports = root_reexports(&lib);
    let mut files = Vec::new();
    rust_files(Path::new(SRC), &mut files);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let relative = file
            .strip_prefix(SRC)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let module = module_of(&relative);
        let Some(room) = room_of(&module) else {
            continue;
        };
        let text = std::fs::read_to_string(&file).unwrap();
        // Unit tests may reach anywhere; the graph is about the code.
        let code = text
            .split("#[cfg(test)]\nmod tests")
            .next()
            .unwrap_or(&text);
        let targets = edges.entry(room.clone()).or_default();
        for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for path in paths_after(line, "crate::") {
                if let Some(to) = resolve(&path, &reexports) {
                    targets.insert(to);
                }
            }
            // `super::x` from a request room names a sibling room.
            if room.starts_with("request::") && module.matches("::").count() == 1 {
                for path in paths_after(line, "super::") {
                    targets.insert(format!("request::{}", path[0]));
                }
            }
        }
        targets.remove(&room);
    }
    edges
}

fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(node.to_string(), 1);
        stack.push(node.to_string());
        for next in edges.get(node).into_iter().flatten() {
            match state.get(next.as_str()).copied().unwrap_or(0) {
                1 => {
                    let from = stack.iter().position(|n| n == next).unwrap();
                    let mut cycle = stack[from..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(c) = visit(next, edges, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(node.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in edges.keys() {
        if state.get(node.as_str()).copied().unwrap_or(0) == 0 {
            if let Some(c) = visit(node, edges, &mut state, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

#[test]
fn module_graph_is_acyclic_with_types_at_the_bottom() {
    let edges = graph();
    if std::env::var_os("MODULE_GRAPH").is_some() {
        for (room, targets) in &edges {
            eprintln!("{room} -> {targets:?}");
        }
    }
    for room in [
        "types",
        "error",
        "config",
        "request::params",
        "request::plan",
        "request::key",
        "image::pipeline",
        "image::decode",
        "image::sniff",
    ] {
        assert!(edges.contains_key(room), "room {room} not found: {edges:?}");
    }
    assert!(
        edges["types"].is_empty(),
        "types must import nothing from the crate: {:?}",
        edges["types"]
    );
    // The request half never reaches into the image half.
    for (room, targets) in edges.iter().filter(|(r, _)| r.starts_with("request::")) {
        let image: Vec<_> = targets
            .iter()
            .filter(|t| t.starts_with("image::"))
            .collect();
        assert!(image.is_empty(), "{room} imports {image:?}");
    }
    if let Some(cycle) = find_cycle(&edges) {
        panic!("import cycle: {}", cycle.join(" -> "));
    }
}

#[test]
fn the_checker_sees_a_cycle() {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    edges.entry("a".into()).or_default().insert("b".into());
    edges.entry("b".into()).or_default().insert("c".into());
    edges.entry("c".into()).or_default().insert("a".into());
    assert_eq!(find_cycle(&edges).unwrap(), ["a", "b", "c", "a"]);
    edges.get_mut("c").unwrap().clear();
    assert_eq!(find_cycle(&edges), None);
}
