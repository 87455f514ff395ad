//! Imports run one way, down the data flow, and no two modules import each other.
//!
//! The layers, lowest first: a module may import its own submodules and any module of a lower
//! layer, nothing else. `inventory` sits below `ruleset` and `resolve` because both complete
//! names against the ARNs it knows; the tools that run rules over corpora (`authoring`) sit
//! above the whole pipeline. Run `cargo test --test it architecture` after moving code.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::root;

const LAYERS: &[&[&str]] = &[
    &["arn", "aws", "tally"],
    &["sar"],
    &["source"],
    &["event", "integrity"],
    &["principal"],
    &["inventory"],
    &["ruleset"],
    &["resolve"],
    &["history"],
    &["policy"],
    &["verdict"],
    &["report"],
    &["pipeline"],
    &["scan"],
    &["notify", "security_hub"],
    &["schedule"],
    &["authoring", "sql"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// `src/report/sorter.rs` → `report::sorter`; `src/report/mod.rs` → `report`.
fn module_path(file: &Path, src: &Path) -> String {
    let relative = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts.join("::")
}

/// Every `crate::a::b…` and `super::…` path a file names (in `use` lines or inline), resolved
/// to the longest module path that exists.
fn imports(text: &str, module: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    // `super` is the parent of the module (a `mod.rs` file is the module itself).
    let parent = module.rsplit_once("::").map_or("", |(p, _)| p);
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        for (prefix, base) in [("crate::", String::new()), ("super::", parent.to_string())] {
            let mut rest = code;
            while let Some(at) = rest.find(prefix) {
                let before = &rest[..at];
                rest = &rest[at + prefix.len()..];
                if before.ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':') {
                    continue;
                }
                let path: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                let mut segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
                if !base.is_empty() {
                    let mut full: Vec<&str> = base.split("::").collect();
                    full.append(&mut segments);
                    segments = full;
                }
                while !segments.is_empty() {
                    let candidate = segments.join("::");
                    if modules.contains(&candidate) {
                        out.insert(candidate);
                        break;
                    }
                    segments.pop();
                }
            }
        }
    }
    out
}

#[test]
fn imports_run_down_the_data_flow_and_no_two_modules_import_each_other() {
    let src = root().join("src");
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(&src) {
        let entry = entry.unwrap();
        let path = entry.path();
        if !entry.file_type().is_file() {
            continue;
        }
        let top = path
            .strip_prefix(&src)
            .unwrap()
            .iter()
            .next()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        // The binary (main.rs, cli.rs, commands/) sits above the library.
        if path.extension().is_some_and(|e| e == "rs")
            && !["main.rs", "cli.rs", "commands", "lib.rs"].contains(&top.as_str())
        {
            files.push(path.to_path_buf());
        }
    }
    let modules: BTreeSet<String> = files.iter().map(|f| module_path(f, &src)).collect();
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    for line in lib.lines().filter(|l| l.starts_with("pub mod ")) {
        let name = line.trim_start_matches("pub mod ").trim_end_matches(';');
        assert!(
            layer_of(name).is_some(),
            "lib.rs declares `{name}`, which no layer lists"
        );
    }

    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut wrong = Vec::new();
    for file in &files {
        let module = module_path(file, &src);
        let text = std::fs::read_to_string(file).unwrap();
        let top = module.split("::").next().unwrap().to_string();
        let own = layer_of(&top).unwrap_or_else(|| panic!("`{top}` is in no layer"));
        for target in imports(&text, &module, &modules) {
            let target_top = target.split("::").next().unwrap();
            if target_top != top {
                let theirs = layer_of(target_top).unwrap();
                if theirs >= own {
                    wrong.push(format!(
                        "{module} imports {target} (layer {theirs} >= {own})"
                    ));
                }
            }
            if target != module {
                graph.entry(module.clone()).or_default().insert(target);
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that run up the flow:\n{}",
        wrong.join("\n")
    );

    let related =
        |a: &str, b: &str| a.starts_with(&format!("{b}::")) || b.starts_with(&format!("{a}::"));
    let mut mutual = Vec::new();
    for (a, targets) in &graph {
        for b in targets {
            if a < b && !related(a, b) && graph.get(b).is_some_and(|t| t.contains(a)) {
                mutual.push(format!("{a} <-> {b}"));
            }
        }
    }
    assert!(
        mutual.is_empty(),
        "modules that import each other:\n{}",
        mutual.join("\n")
    );
}

/// The checker itself: an upward import and a cycle are caught.
#[test]
fn the_import_checker_sees_crate_and_super_paths() {
    let modules: BTreeSet<String> = ["report", "report::rows", "verdict", "pipeline"]
        .map(String::from)
        .into();
    let text = "use crate::pipeline::Plan;\nuse super::rows::FindingRow;\n// use crate::verdict;\nlet x = crate::verdict::judge;";
    let found = imports(text, "report::sorter", &modules);
    assert_eq!(
        found,
        ["pipeline", "report::rows", "verdict"]
            .map(String::from)
            .into()
    );
}
