//! The book (`docs/`), the CLI reference and completions generated from the command line, and
//! the README: every internal link resolves, and what is generated matches the binary.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{root, stderr, stdout, tagtrail};

/// mdBook's id of a heading: lower case, spaces as `-`, only letters, digits, `-` and `_`.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The ids of a Markdown file's headings (outside code blocks).
fn anchors(text: &str) -> BTreeSet<String> {
    let mut fenced = false;
    let mut out = BTreeSet::new();
    for line in text.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
        } else if !fenced && line.starts_with('#') {
            out.insert(anchor(line.trim_start_matches('#')));
        }
    }
    out
}

/// `(target, line)` of every `[text](target)` link of a Markdown text, outside code blocks.
fn links(text: &str) -> Vec<(String, usize)> {
    let mut fenced = false;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            out.push((after[..end].to_string(), n + 1));
            rest = &after[end..];
        }
    }
    out
}

/// The text a page of the book holds, `{{#include}}` lines replaced by what they include.
fn page(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .map(|line| {
            match line
                .trim()
                .strip_prefix("{{#include ")
                .and_then(|l| l.strip_suffix("}}"))
            {
                Some(included) => page(&path.parent().unwrap().join(included)),
                None => line.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Checks every relative link of the Markdown files `files`: the file exists and, for a
/// Markdown target, the anchor names one of its headings.
fn broken_links(files: &[PathBuf]) -> Vec<String> {
    let mut broken = Vec::new();
    for file in files {
        for (target, line) in links(&page(file)) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (path, fragment) = target.split_once('#').unwrap_or((&target, ""));
            let resolved = if path.is_empty() {
                file.clone()
            } else {
                file.parent().unwrap().join(path)
            };
            let where_ = format!(
                "{}:{line}: {target}",
                file.strip_prefix(root()).unwrap_or(file).display()
            );
            if !resolved.exists() {
                broken.push(format!("{where_} (no such file)"));
            } else if !fragment.is_empty()
                && resolved.extension().is_some_and(|e| e == "md")
                && !anchors(&page(&resolved)).contains(fragment)
            {
                broken.push(format!("{where_} (no such heading)"));
            }
        }
    }
    broken
}

fn markdown_in(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    out.sort();
    out
}

#[test]
fn every_internal_link_of_the_book_and_the_readme_resolves_and_every_page_is_in_the_summary() {
    let src = root().join("docs/src");
    let mut files = markdown_in(&src);
    files.push(root().join("README.md"));
    files.push(root().join("tests/README.md"));
    let broken = broken_links(&files);
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
    let summary = std::fs::read_to_string(src.join("SUMMARY.md")).unwrap();
    let listed: BTreeSet<String> = links(&summary).into_iter().map(|(t, _)| t).collect();
    for file in markdown_in(&src) {
        let relative = file.strip_prefix(&src).unwrap().display().to_string();
        if relative != "SUMMARY.md" {
            assert!(
                listed.contains(&relative),
                "{relative} is not in SUMMARY.md"
            );
        }
    }
    // The checker checks: a link to a missing heading is reported.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.md"),
        "# A\n\n[b](b.md#nowhere) [c](c.md)\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("b.md"), "# B\n").unwrap();
    assert_eq!(broken_links(&[dir.path().join("a.md")]).len(), 2);
}

/// The committed reference, man pages and completions are what `tagtrail docs` writes now,
/// and a reference page holds what `--help` prints.
#[test]
fn the_committed_cli_reference_man_pages_and_completions_are_current() {
    let dir = tempfile::tempdir().unwrap();
    let run = tagtrail(&root(), &["docs", "--out", dir.path().to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let generated: Vec<PathBuf> = walkdir::WalkDir::new(dir.path())
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| p.is_file())
        .collect();
    assert!(generated.len() > 25, "{}", generated.len());
    let mut stale = Vec::new();
    for file in &generated {
        let relative = file.strip_prefix(dir.path()).unwrap();
        let committed = root().join("docs").join(relative);
        if std::fs::read(&committed).ok() != std::fs::read(file).ok() {
            stale.push(relative.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "stale (run `tagtrail docs --out docs`): {}",
        stale.join(", ")
    );
    let help = stdout(&tagtrail(&root(), &["scan", "--help"]));
    let page = std::fs::read_to_string(root().join("docs/src/reference/scan.md")).unwrap();
    let trimmed: String = help
        .lines()
        .map(|l| format!("{}\n", l.trim_end()))
        .collect();
    assert!(
        page.contains(&trimmed),
        "scan.md differs from `tagtrail scan --help`"
    );
}

/// bash loads the completion script and completes `tagtrail sc` to `scan`.
#[test]
fn bash_completes_a_command_name() {
    let script = root().join("docs/completions/tagtrail.bash");
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {}; COMP_WORDS=(tagtrail sc); COMP_CWORD=1; COMP_LINE='tagtrail sc'; COMP_POINT=11; \
             _tagtrail tagtrail sc tagtrail; echo \"${{COMPREPLY[@]}}\"",
            script.display()
        ))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "scan");
}

/// `tagtrail` alone says where to start, in a few lines, and exits 2 (no command).
#[test]
fn tagtrail_alone_points_at_the_demo_and_the_book() {
    let run = tagtrail(&root(), &[]);
    assert_eq!(run.status.code(), Some(2));
    let said = stderr(&run);
    assert!(
        said.contains("tagtrail scan --demo") && said.contains("docs/"),
        "{said}"
    );
    assert!(said.lines().count() < 10, "{said}");
}
