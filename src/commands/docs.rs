//! `tagtrail completions SHELL` and the hidden `tagtrail docs --out DIR`: what the command line
//! says of itself, generated from its clap definition so that it cannot drift from `--help`:
//! the CLI reference of the book (a Markdown page per command), man pages and completions.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;

/// Help is wrapped at this width, as `--help` wraps it where no terminal says otherwise.
const WIDTH: usize = 100;

/// The command line, built as `--help` shows it.
fn command() -> clap::Command {
    let mut cmd = Cli::command().term_width(WIDTH);
    cmd.build();
    cmd
}

pub fn completions(shell: Shell) -> Result<u8> {
    let mut cmd = command();
    clap_complete::generate(shell, &mut cmd, "tagtrail", &mut std::io::stdout().lock());
    Ok(0)
}

/// The shells completions are written for, with their file names.
const SHELLS: [(Shell, &str); 4] = [
    (Shell::Bash, "tagtrail.bash"),
    (Shell::Zsh, "_tagtrail"),
    (Shell::Fish, "tagtrail.fish"),
    (Shell::PowerShell, "_tagtrail.ps1"),
];

pub fn docs(out: &Path) -> Result<u8> {
    let cmd = command();
    let reference = out.join("src/reference");
    std::fs::create_dir_all(&reference)?;
    let mut index = String::from(
        "# Command-line reference\n\nGenerated from tagtrail's own `--help` (`tagtrail docs`); a \
         test fails when a page differs from what the binary prints.\n\n",
    );
    for (path, sub) in commands(&cmd, Vec::new()) {
        let name = if path.is_empty() {
            "tagtrail".to_string()
        } else {
            path.join("-")
        };
        let title = std::iter::once("tagtrail")
            .chain(path.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ");
        let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
        index.push_str(&format!("- [`{title}`]({name}.md): {about}\n"));
        let page = format!("# `{title}`\n\n```text\n{}```\n", help_text(&sub.clone()));
        write(&reference.join(format!("{name}.md")), page.as_bytes())?;
    }
    write(&reference.join("index.md"), index.as_bytes())?;
    let man = out.join("man");
    std::fs::create_dir_all(&man)?;
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut page)?;
    write(&man.join("tagtrail.1"), &page)?;
    for sub in visible(&cmd) {
        let mut page = Vec::new();
        let name: &'static str = Box::leak(format!("tagtrail-{}", sub.get_name()).into_boxed_str());
        let named = sub.clone().name(name);
        clap_mangen::Man::new(named).render(&mut page)?;
        write(&man.join(format!("tagtrail-{}.1", sub.get_name())), &page)?;
    }
    let completions = out.join("completions");
    std::fs::create_dir_all(&completions)?;
    for (shell, file) in SHELLS {
        let mut text = Vec::new();
        clap_complete::generate(shell, &mut cmd.clone(), "tagtrail", &mut text);
        write(&completions.join(file), &text)?;
    }
    let rules = tagtrail::ruleset::RuleSet::builtin()?;
    let universe = tagtrail::authoring::coverage::Universe::of(&rules);
    let reach = format!(
        "# Where the rule pack reaches\n\n\
         Generated from the rule pack built into tagtrail and the Service Authorization \
         Reference (`tagtrail docs`; `tagtrail rules coverage --universe` prints the same for \
         any rule folder). Of the {} actions the SAR says act on a resource type, **{} have a \
         rule ({:.1}%)**. A call without a rule is still resolved from `resources[]`, an \
         access-denied message and the full ARNs its record holds of its own service, but \
         where a service's share is low, expect `unresolved-resource` findings for its calls \
         and consider `tagtrail rules learn` on your trail.\n\n{}",
        universe.actions,
        universe.with_rule,
        100.0 * universe.share,
        universe.to_markdown()
    );
    write(&out.join("src/reach.md"), reach.as_bytes())?;
    println!(
        "CLI reference, the pack's reach, man pages and completions -> {}",
        out.display()
    );
    Ok(0)
}

/// `--help` of a command as the binary prints it (without terminal styles).
fn help_text(cmd: &clap::Command) -> String {
    let mut cmd = cmd.clone();
    let text = cmd.render_long_help().to_string();
    text.lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// Every visible command, depth first, with its path of subcommand names.
fn commands(cmd: &clap::Command, path: Vec<String>) -> Vec<(Vec<String>, clap::Command)> {
    let mut out = vec![(path.clone(), cmd.clone())];
    for sub in visible(cmd) {
        let mut below = path.clone();
        below.push(sub.get_name().to_string());
        out.extend(commands(sub, below));
    }
    out
}

/// The subcommands a user sees: not hidden, not clap's own `help`.
fn visible(cmd: &clap::Command) -> impl Iterator<Item = &clap::Command> {
    cmd.get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::File::create(path)
        .and_then(|mut f| f.write_all(bytes))
        .with_context(|| format!("writing {}", path.display()))
}
