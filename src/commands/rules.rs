//! `tagtrail rules check|test|coverage|diff|new|schema`: the rule author's and CI's commands.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde_json::json;

use tagtrail::inventory::TagKey;
use tagtrail::pipeline::{self, Inputs};
use tagtrail::resolve::{Resolver, Sources};
use tagtrail::ruleset::testing::{self, Status};
use tagtrail::ruleset::{self, Diagnostic, RuleSet};

use tagtrail::source::Window;

use crate::cli::{
    CheckArgs, CoverageArgs, DiffArgs, GenerateArgs, LearnArgs, NewArgs, OutputFormat, RulesArgs,
    RulesCommand,
};

use super::load_rules;

/// Runs one `tagtrail rules` subcommand.
pub fn run(command: RulesCommand) -> Result<u8> {
    match command {
        RulesCommand::Check(args) => rules_check(args),
        RulesCommand::Test(args) => rules_test(args),
        RulesCommand::Coverage(args) => rules_coverage(args),
        RulesCommand::Diff(args) => rules_diff(args),
        RulesCommand::New(args) => rules_new(args),
        RulesCommand::Learn(args) => rules_learn(args),
        RulesCommand::Generate(args) => rules_generate(args),
        RulesCommand::Schema => {
            println!(
                "{}",
                serde_json::to_string_pretty(&ruleset::schema::json_schema())?
            );
            Ok(0)
        }
    }
}

fn print_diagnostics(diagnostics: &[Diagnostic], format: OutputFormat) -> Result<()> {
    let mut out = io::stdout().lock();
    match format {
        OutputFormat::Text => {
            for d in diagnostics {
                writeln!(out, "error: {d}")?;
            }
        }
        OutputFormat::Github => {
            for d in diagnostics {
                writeln!(
                    out,
                    "::error file={},line={},col={}::{}",
                    d.file,
                    d.line,
                    d.column,
                    escape_annotation(&d.message)
                )?;
            }
        }
        OutputFormat::Json => {
            let items: Vec<_> = diagnostics
                .iter()
                .map(|d| json!({"file": d.file, "line": d.line, "column": d.column, "message": d.message}))
                .collect();
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(
                    &json!({"ok": diagnostics.is_empty(), "problems": items})
                )?
            )?;
        }
    }
    Ok(())
}

/// GitHub annotations end at a newline; `%`, CR and LF are escaped.
fn escape_annotation(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn check(dir: &Path) -> Result<(RuleSet, Vec<Diagnostic>, usize)> {
    let files =
        ruleset::read_dir(dir).with_context(|| format!("reading rules from {}", dir.display()))?;
    if files.is_empty() {
        bail!("{}: no *.toml rule files", dir.display());
    }
    let (set, diagnostics) = RuleSet::check_files(&files);
    Ok((set, diagnostics, files.len()))
}

fn rules_check(args: CheckArgs) -> Result<u8> {
    if !args.records.is_empty() {
        return check_on_records(args);
    }
    let dir = args.dir.unwrap_or_else(|| PathBuf::from("rules"));
    let (set, diagnostics, files) = check(&dir)?;
    print_diagnostics(&diagnostics, args.format)?;
    if diagnostics.is_empty() && args.format == OutputFormat::Text {
        let events: usize = set.rules().iter().map(|r| r.events.len()).sum();
        println!(
            "ok: {} rules covering {events} API calls in {files} files",
            set.rules().len()
        );
    }
    Ok(u8::from(!diagnostics.is_empty()))
}

/// `rules check --records`: the self-check of `authoring::selfcheck`. Exits 1 when a built ARN
/// disagrees with the record it was built from.
fn check_on_records(args: CheckArgs) -> Result<u8> {
    let rules = load_rules(args.dir.as_deref(), &args.add_rules, false)?;
    let report = tagtrail::authoring::selfcheck::check(&Inputs::Paths(args.records), &rules)?;
    let mut out = io::stdout().lock();
    match args.format {
        OutputFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?,
        OutputFormat::Text => write!(out, "{}", report.to_text(args.most))?,
        OutputFormat::Github => {
            for c in &report.disagreements {
                writeln!(
                    out,
                    "::error file={}::{} {}: rule {} built {}, the record holds {}",
                    c.source
                        .rsplit_once(':')
                        .map_or(c.source.as_str(), |(f, _)| f),
                    c.source,
                    c.call,
                    c.rule.as_deref().unwrap_or("-"),
                    c.arn,
                    c.held.join(", ")
                )?;
            }
        }
    }
    eprintln!("{}", report.tally.one_line());
    if report.tally.rejected > 0 {
        return Ok(2);
    }
    Ok(u8::from(report.total.disagreements() > 0))
}

fn rules_test(args: RulesArgs) -> Result<u8> {
    let (set, diagnostics, _) = check(&args.dir)?;
    if !diagnostics.is_empty() {
        print_diagnostics(&diagnostics, args.format)?;
        if args.format == OutputFormat::Text {
            println!("rule files have problems (see `tagtrail rules check`): no case was run");
        }
        return Ok(1);
    }
    let outcomes = testing::run_all(&set);
    let failed: Vec<_> = outcomes
        .iter()
        .filter(|o| o.status != Status::Pass)
        .collect();
    let mut out = io::stdout().lock();
    match args.format {
        OutputFormat::Json => {
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&json!({
                    "passed": outcomes.len() - failed.len(),
                    "failed": failed.len(),
                    "cases": outcomes,
                }))?
            )?;
        }
        OutputFormat::Text | OutputFormat::Github => {
            for o in &failed {
                let what = describe_failure(o);
                if args.format == OutputFormat::Github {
                    writeln!(
                        out,
                        "::error file={},line={}::{}",
                        o.file,
                        o.line,
                        escape_annotation(&what)
                    )?;
                } else {
                    writeln!(
                        out,
                        "{}:{}: {:?} rule `{}`: {what}",
                        o.file, o.line, o.status, o.rule
                    )?;
                }
            }
            writeln!(
                out,
                "rules test: {} passed, {} failed",
                outcomes.len() - failed.len(),
                failed.len()
            )?;
        }
    }
    Ok(u8::from(!failed.is_empty()))
}

fn describe_failure(o: &testing::CaseOutcome) -> String {
    let mut parts = Vec::new();
    if let Some(name) = &o.name {
        parts.push(format!("case `{name}`"));
    }
    if let Some(e) = &o.error {
        parts.push(format!("error: {e}"));
    }
    if !o.missing.is_empty() {
        parts.push(format!(
            "missing (expected, not found): {}",
            o.missing.join(", ")
        ));
    }
    if !o.noisy.is_empty() {
        parts.push(format!(
            "noisy (found, not expected): {}",
            o.noisy.join(", ")
        ));
    }
    parts.join("; ")
}

fn rules_coverage(args: CoverageArgs) -> Result<u8> {
    let rules = load_rules(
        args.rules.as_deref(),
        &args.add_rules,
        args.exclude_low_confidence,
    )?;
    if args.universe {
        let universe = tagtrail::authoring::coverage::Universe::of(&rules);
        match args.format {
            OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&universe)?),
            _ => print!("{}", universe.to_text(args.most)),
        }
        return Ok(0);
    }
    let resolver = Resolver {
        rules: &rules,
        index: None,
        sources: if args.rules_only {
            Sources::rules_only()
        } else {
            Sources::default()
        },
    };
    let mut samples = Vec::new();
    let tally = pipeline::run(
        &Inputs::Paths(args.paths),
        &Window::default(),
        &resolver,
        |event| {
            samples.push(tagtrail::authoring::coverage::Sample::of(&event));
        },
    )?;
    let coverage = tagtrail::authoring::coverage::Coverage::new(&samples);
    match args.format {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&coverage)?),
        _ => print!("{}", coverage.to_text(args.most)),
    }
    if tally.rejected > 0 {
        eprintln!("{}", tally.one_line());
        return Ok(2);
    }
    Ok(0)
}

/// The rule files of `dir` as they are at git revision `rev`.
fn rules_at_revision(rev: &str, dir: &Path) -> Result<Vec<(String, String)>> {
    let git = |args: &[&str]| -> Result<String> {
        let out = std::process::Command::new("git")
            .args(args)
            .output()
            .context("running git (needed for --base REV)")?;
        if !out.status.success() {
            bail!(
                "git {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8(out.stdout)?)
    };
    let top = PathBuf::from(git(&["rev-parse", "--show-toplevel"])?.trim());
    let absolute = std::fs::canonicalize(dir).with_context(|| format!("{}", dir.display()))?;
    let relative = absolute
        .strip_prefix(std::fs::canonicalize(&top)?)
        .with_context(|| {
            format!(
                "{} is not inside the git repository {}",
                dir.display(),
                top.display()
            )
        })?
        .to_string_lossy()
        .into_owned();
    let listing = git(&["ls-tree", "--name-only", rev, &format!("{relative}/")])?;
    let mut files = Vec::new();
    for path in listing.lines().filter(|p| p.ends_with(".toml")) {
        let text = git(&["show", &format!("{rev}:{path}")])?;
        files.push((format!("{rev}:{path}"), text));
    }
    if files.is_empty() {
        bail!("no rule files in {relative}/ at {rev}");
    }
    Ok(files)
}

fn rules_diff(args: DiffArgs) -> Result<u8> {
    let base = if Path::new(&args.base).is_dir() {
        RuleSet::load_dir(Path::new(&args.base)).context("the base rule set")?
    } else {
        RuleSet::from_files(&rules_at_revision(&args.base, &args.rules)?)
            .context("the base rule set")?
    };
    let head = RuleSet::load_dir(&args.rules).context("the working rule set")?;
    let paths = if args.paths.is_empty() {
        let corpus = PathBuf::from("tests/corpus");
        if !corpus.is_dir() {
            bail!("no records given and tests/corpus is not here: name the records to compare on");
        }
        vec![corpus]
    } else {
        args.paths
    };
    let diff = tagtrail::authoring::diff::diff(&base, &head, &Inputs::Paths(paths))?;
    let mut out = io::stdout().lock();
    match args.format {
        OutputFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&diff)?)?,
        OutputFormat::Text | OutputFormat::Github => {
            for c in &diff.rules {
                let what = format!(
                    "gained {}, lost {}, changed {}",
                    c.gained, c.lost, c.changed
                );
                if args.format == OutputFormat::Github && (c.lost > 0 || c.changed > 0) {
                    let detail = escape_annotation(&c.examples.join("\n"));
                    let level = if args.accept { "warning" } else { "error" };
                    writeln!(
                        out,
                        "::{level} file={},line={}::rule `{}` {what}%0A{detail}",
                        c.file, c.line, c.rule
                    )?;
                } else {
                    writeln!(out, "{}:{}: rule `{}`: {what}", c.file, c.line, c.rule)?;
                    for e in &c.examples {
                        writeln!(out, "    {e}")?;
                    }
                }
            }
            let (gained, lost, changed) = diff.rules.iter().fold((0, 0, 0), |(g, l, c), r| {
                (g + r.gained, l + r.lost, c + r.changed)
            });
            writeln!(
                out,
                "rules diff over {} records: {gained} gained, {lost} lost, {changed} changed",
                diff.records
            )?;
        }
    }
    Ok(u8::from(diff.loses() && !args.accept))
}

fn rules_new(args: NewArgs) -> Result<u8> {
    use tagtrail::event::{decode, Item};
    let (record, from) = match &args.from_record {
        Some(path) => {
            let input =
                tagtrail::source::read_file(path, tagtrail::source::DEFAULT_MAX_FILE_BYTES)?;
            let found = decode(&input.bytes, None)
                .into_iter()
                .find_map(|item| match item {
                    Item::Record(r) => serde_json::from_str::<serde_json::Value>(&r.json)
                        .ok()
                        .filter(|v| {
                            v["eventSource"] == args.event_source.as_str()
                                && v["eventName"] == args.event_name.as_str()
                        }),
                    _ => None,
                });
            let record = found.with_context(|| {
                format!(
                    "{} holds no {}:{} record",
                    path.display(),
                    args.event_source,
                    args.event_name
                )
            })?;
            (Some(record), path.display().to_string())
        }
        None => (None, "CHANGEME: the source of a real record".to_string()),
    };
    if let Ok(existing) = RuleSet::load_dir(&args.rules) {
        if let Some(rule) = existing.rule_for(&args.event_source, &args.event_name) {
            if rule.generated {
                eprintln!(
                    "note: the new rule takes {}:{} from generated rule `{}` ({}:{})",
                    args.event_source, args.event_name, rule.id, rule.file, rule.line
                );
            } else if !rule.is_fallback() {
                bail!(
                    "{}:{} is covered by rule `{}` ({}:{}) already",
                    args.event_source,
                    args.event_name,
                    rule.id,
                    rule.file,
                    rule.line
                );
            }
        }
    }
    let text = tagtrail::authoring::scaffold::rule_file(
        &args.event_source,
        &args.event_name,
        record.as_ref(),
        &from,
    );
    let prefix = args.event_source.split('.').next().unwrap_or("rule");
    let path = args.rules.join(format!(
        "{prefix}-{}.toml",
        args.event_name.to_ascii_lowercase()
    ));
    if path.exists() {
        bail!("{} exists already", path.display());
    }
    std::fs::create_dir_all(&args.rules)?;
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    println!(
        "{}: a rule to complete; then run `tagtrail rules test {}`",
        path.display(),
        args.rules.display()
    );
    Ok(0)
}

fn rules_learn(args: LearnArgs) -> Result<u8> {
    if args.out.exists() {
        bail!(
            "{} exists: learned rules go to a new file",
            args.out.display()
        );
    }
    let source = super::rule_source(args.rules.as_deref(), &args.add_rules, false);
    let context = || format!("loading {}", source.describe());
    let mut files = source.files().with_context(context)?;
    let rules = RuleSet::from_files(&files).with_context(context)?;
    let inventory = super::load_inventory(
        &args.inventory,
        TagKey {
            key: "product".into(),
            case_insensitive: false,
        },
    )?;
    let learned = tagtrail::authoring::learn::learn(
        &Inputs::Paths(args.paths),
        &rules,
        &inventory,
        args.min_records as usize,
    )?;
    print!("{}", tagtrail::authoring::learn::to_text(&learned));
    let text = tagtrail::authoring::learn::to_toml(&learned);
    if !text.contains("[[rule]]") {
        println!(
            "\nnothing learned: no call left to learn holds a value naming an inventory resource \
             in {} record(s) or more; {} not written",
            args.min_records,
            args.out.display()
        );
        return Ok(1);
    }
    // What is written must load beside the rules it completes.
    files.push((args.out.display().to_string(), text.clone()));
    RuleSet::from_files(&files)
        .map_err(|e| anyhow::anyhow!("the learned rules do not load: {e}"))?;
    std::fs::write(&args.out, &text).with_context(|| format!("writing {}", args.out.display()))?;
    println!(
        "\n{} rule(s) -> {}; review them, then scan with `--add-rules {}` beside the pack, or \
         commit the file to your rule folder (`tagtrail rules test` runs its cases)",
        text.matches("\n[[rule]]").count(),
        args.out.display(),
        args.out.display()
    );
    Ok(0)
}

fn rules_generate(args: GenerateArgs) -> Result<u8> {
    use tagtrail::authoring::generate::{generate, Candidates, Evidence};
    let text = std::fs::read_to_string(&args.candidates)
        .with_context(|| format!("reading {}", args.candidates.display()))?;
    let candidates: Candidates = serde_json::from_str(&text).with_context(|| {
        format!(
            "{}: not the generator's candidates",
            args.candidates.display()
        )
    })?;
    let evidence = Evidence::load(&args.records, &args.examples)?;
    let generated = generate(candidates, &evidence);
    let text = generated.file.to_toml();
    RuleSet::from_files(&[(args.out.display().to_string(), text.clone())])
        .map_err(|e| anyhow::anyhow!("the generated rules do not load: {e}"))?;
    std::fs::write(&args.out, text).with_context(|| format!("writing {}", args.out.display()))?;
    for (what, n) in &generated.counts {
        eprintln!("{n:6}  {what}");
    }
    let calls: usize = generated.file.rule.iter().map(|r| r.events.len()).sum();
    eprintln!(
        "{} rules, {calls} calls -> {}",
        generated.file.rule.len(),
        args.out.display()
    );
    Ok(0)
}
