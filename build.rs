//! Embeds the rule pack in `rules/` and the demo in `examples/demo/` into the binary, so
//! `tagtrail` (and `tagtrail scan --demo`) work from any folder, installed from a release.

use std::{env, fs, path::Path};

fn main() {
    // Read when the script runs, not when it is compiled: a script compiled for another
    // checkout (a shared target dir) would otherwise read that checkout's rules, or none.
    let manifest = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&manifest).join("rules");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    assert!(!files.is_empty(), "no rule files in {}", dir.display());
    files.sort();
    let mut out = String::from("/// The rule files of `rules/`, embedded at build time: (file name, text).\npub const BUILTIN_RULES: &[(&str, &str)] = &[\n");
    for path in files {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path.file_name().unwrap().to_string_lossy();
        out.push_str(&format!(
            "    (\"rules/{name}\", include_str!({:?})),\n",
            path.display().to_string()
        ));
    }
    out.push_str("];\n");
    fs::write(
        Path::new(&env::var("OUT_DIR").unwrap()).join("builtin_rules.rs"),
        out,
    )
    .unwrap();
    embed_demo(Path::new(&manifest));
}

/// `BUILTIN_DEMO`: every file of `examples/demo/` but its generator, as (relative path, bytes).
fn embed_demo(manifest: &Path) {
    let demo = manifest.join("examples/demo");
    println!("cargo:rerun-if-changed={}", demo.display());
    let mut files = Vec::new();
    let mut folders = vec![demo.clone()];
    while let Some(folder) = folders.pop() {
        println!("cargo:rerun-if-changed={}", folder.display());
        for entry in fs::read_dir(&folder).unwrap_or_else(|e| panic!("{}: {e}", folder.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_none_or(|e| e != "py") {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut out = String::from(
        "/// The demo's files (`examples/demo/`), embedded at build time: (path in it, bytes).\n\
         pub const BUILTIN_DEMO: &[(&str, &[u8])] = &[\n",
    );
    for path in files {
        println!("cargo:rerun-if-changed={}", path.display());
        let relative = path
            .strip_prefix(&demo)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        out.push_str(&format!(
            "    ({relative:?}, include_bytes!({:?})),\n",
            path.display().to_string()
        ));
    }
    out.push_str("];\n");
    fs::write(
        Path::new(&env::var("OUT_DIR").unwrap()).join("builtin_demo.rs"),
        out,
    )
    .unwrap();
}
