//! The subcommands: argument values → library calls → output and exit code.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use chrono::Utc;
use serde_json::json;

use tagtrail::inventory::{self, Inventory, TagKey};
use tagtrail::pipeline::{self, AwsOptions, Inputs, Plan, Problem};
use tagtrail::policy::Policy;
use tagtrail::resolve::{Resolver, Sources};
use tagtrail::ruleset::testing::{self, Status};
use tagtrail::ruleset::{self, Diagnostic, RuleSet};
use tagtrail::scan::{self, ScanOptions};
use tagtrail::source::window::parse_instant;
use tagtrail::source::Window;

use crate::cli::{
    AwsArgs, Command, CommonArgs, CoverageArgs, DiffArgs, FailOn, FetchArgs, InventoryCommand,
    LiveArgs, NewArgs, OutputFormat, ResolveArgs, RulesArgs, RulesCommand, ScanArgs,
};

pub fn run(command: Command) -> Result<u8> {
    match command {
        Command::Scan(args) => scan(args),
        Command::Resolve(args) => resolve(args),
        Command::Rules {
            command: RulesCommand::Check(args),
        } => rules_check(args),
        Command::Rules {
            command: RulesCommand::Test(args),
        } => rules_test(args),
        Command::Rules {
            command: RulesCommand::Coverage(args),
        } => rules_coverage(args),
        Command::Rules {
            command: RulesCommand::Diff(args),
        } => rules_diff(args),
        Command::Rules {
            command: RulesCommand::New(args),
        } => rules_new(args),
        Command::Rules {
            command: RulesCommand::Schema,
        } => {
            println!(
                "{}",
                serde_json::to_string_pretty(&tagtrail::ruleset::schema::json_schema())?
            );
            Ok(0)
        }
        Command::Inventory {
            command: InventoryCommand::Fetch(args),
        } => inventory_fetch(args),
        Command::BenchFloor { paths } => bench_floor(&paths),
    }
}

fn bench_floor(paths: &[PathBuf]) -> Result<u8> {
    use rayon::prelude::*;
    let files = tagtrail::source::discover(paths, &Window::default())?;
    let bytes: usize = files
        .par_iter()
        .map(|f| tagtrail::source::read_file(f).map(|input| input.bytes.len()))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .sum();
    println!("files={} bytes={bytes}", files.len());
    Ok(0)
}

/// A runtime for the few async calls made outside the pipeline (inventory fetches).
fn block_on<F: std::future::Future>(future: F) -> Result<F::Output> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(future))
}

/// Fetches the inventory live: documents in AWS CLI shape, and what could not be fetched.
fn fetch_inventory(
    aws: &AwsArgs,
    only_tag_key: Option<&str>,
) -> Result<(tagtrail::inventory::aws::Fetched, Vec<String>)> {
    block_on(async {
        let config = tagtrail::aws::load_config(
            aws.profile.as_deref(),
            aws.regions.first().map(String::as_str),
        )
        .await;
        let regions = tagtrail::aws::regions(&config, &aws.regions);
        if regions.is_empty() {
            anyhow::bail!("no region: pass --regions or configure one (AWS_REGION, a profile)");
        }
        let fetched = tagtrail::inventory::aws::fetch(&config, &regions, only_tag_key).await;
        Ok((fetched, regions))
    })?
}

fn inventory_fetch(args: FetchArgs) -> Result<u8> {
    let (fetched, regions) = fetch_inventory(&args.aws, args.only_tag_key.as_deref())?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    for (name, document) in &fetched.documents {
        let text = serde_json::to_string_pretty(document)? + "\n";
        tagtrail::report::write_bytes(&args.out, name, text.as_bytes())?;
    }
    let manifest = json!({"tagtrail_inventory_fetch": {
        "fetched_at": Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "regions": regions,
        "resources": fetched.resources,
        "users": fetched.users,
        "roles": fetched.roles,
        "problems": fetched.problems,
    }});
    tagtrail::report::write_bytes(
        &args.out,
        "fetch.json",
        (serde_json::to_string_pretty(&manifest)? + "\n").as_bytes(),
    )?;
    println!(
        "{} resources, {} users, {} roles -> {}",
        fetched.resources,
        fetched.users,
        fetched.roles,
        args.out.display()
    );
    for p in &fetched.problems {
        eprintln!("could not fetch {}: {}", p.source, p.reason);
    }
    Ok(if fetched.problems.is_empty() { 0 } else { 2 })
}

/// The sources of a run: local paths (stdin when there is no source at all), S3, LookupEvents.
fn plan(paths: Vec<PathBuf>, live: LiveArgs) -> Plan {
    let has_live = !live.logs.is_empty() || live.lookup_events;
    let local = if !paths.is_empty() {
        Some(Inputs::Paths(paths))
    } else if has_live {
        None
    } else {
        Some(Inputs::Stdin)
    };
    Plan {
        local,
        s3: live.logs,
        lookup_events: live.lookup_events,
        aws: AwsOptions {
            profile: live.aws.profile,
            regions: live.aws.regions,
            accounts: live.accounts,
            concurrency: live.concurrency,
        },
    }
}

/// The bundled demo: `examples/demo` of the working folder, else of the source tree.
fn demo_dir() -> Result<PathBuf> {
    let local = PathBuf::from("examples/demo");
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo");
    [local, built]
        .into_iter()
        .find(|p| p.join("trail").is_dir())
        .context("the demo data (examples/demo) is not here: run from the tagtrail source folder")
}

fn load_rules(dir: Option<&Path>, exclude_low_confidence: bool) -> Result<RuleSet> {
    let rules = match dir {
        Some(dir) => {
            RuleSet::load_dir(dir).with_context(|| format!("loading rules from {}", dir.display()))
        }
        None => RuleSet::builtin().context("the built-in rule pack"),
    }?;
    Ok(if exclude_low_confidence {
        rules.without_low_confidence()
    } else {
        rules
    })
}

fn window(common: &CommonArgs) -> Result<Window> {
    let now = Utc::now();
    let parse = |flag: &str, v: &Option<String>| -> Result<_> {
        v.as_deref()
            .map(|t| parse_instant(t, now).map_err(|e| anyhow::anyhow!("--{flag}: {e}")))
            .transpose()
    };
    let window = Window {
        since: parse("since", &common.since)?,
        until: parse("until", &common.until)?,
    };
    if let (Some(s), Some(u)) = (window.since, window.until) {
        if s >= u {
            bail!("--since ({s}) is not before --until ({u})");
        }
    }
    Ok(window)
}

fn load_inventory(dir: &Path, tag_key: TagKey) -> Result<Inventory> {
    let mut inventory = Inventory::new(tag_key);
    inventory::files::load_dir(dir, &mut inventory).context("reading the tag inventory")?;
    Ok(inventory)
}

fn scan(args: ScanArgs) -> Result<u8> {
    let (paths, inventory_source, policy_file) = if args.demo {
        let demo = demo_dir()?;
        let policy = demo.join("policy.toml");
        (
            vec![demo.join("trail")],
            demo.join("inventory").display().to_string(),
            args.policy.or(Some(policy)),
        )
    } else {
        let inventory = args.inventory.context("--inventory is required")?;
        (args.paths, inventory, args.policy)
    };
    let tag_key = TagKey {
        key: args.tag_key,
        case_insensitive: args.ignore_tag_case,
    };
    let (inventory, inventory_problems) = if inventory_source == "aws" {
        let (fetched, _) = fetch_inventory(&args.live.aws, None)?;
        let mut inventory = Inventory::new(tag_key);
        for (name, document) in &fetched.documents {
            let bytes = serde_json::to_vec(document)?;
            inventory::files::load_document(&bytes, &format!("aws:{name}"), &mut inventory)?;
        }
        (inventory, fetched.problems)
    } else {
        let inventory = load_inventory(Path::new(&inventory_source), tag_key)?;
        (inventory, Vec::<Problem>::new())
    };
    let options = ScanOptions {
        plan: plan(paths, args.live),
        window: window(&args.common)?,
        rules: load_rules(
            args.common.rules.as_deref(),
            args.common.exclude_low_confidence,
        )?,
        inventory,
        inventory_problems,
        policy: match policy_file {
            Some(path) => Policy::load(&path).context("reading the policy file")?,
            None => Policy::default(),
        },
        out_dir: args.out.unwrap_or_else(|| {
            PathBuf::from("reports").join(Utc::now().format("%Y%m%dT%H%M%SZ").to_string())
        }),
        formats: args.format,
        fail_on: match args.fail_on {
            FailOn::Never => None,
            FailOn::Kind(kind) => Some(kind),
        },
        allow_partial: args.allow_partial,
    };
    let outcome = scan::scan(&options)?;
    let mut out = io::stdout().lock();
    write!(out, "{}", outcome.summary.to_text())?;
    writeln!(out, "\nreports")?;
    for path in &outcome.written {
        writeln!(out, "  {}", path.display())?;
    }
    Ok(outcome.exit_code)
}

fn resolve(args: ResolveArgs) -> Result<u8> {
    let rules = load_rules(
        args.common.rules.as_deref(),
        args.common.exclude_low_confidence,
    )?;
    let inventory = match &args.inventory {
        Some(dir) => Some(load_inventory(
            dir,
            TagKey {
                key: "product".into(),
                case_insensitive: false,
            },
        )?),
        None => None,
    };
    let resolver = Resolver {
        rules: &rules,
        index: inventory.as_ref().map(Inventory::index),
        sources: Sources {
            record_resources: !args.no_record_resources,
            ..Sources::default()
        },
    };
    let mut out = BufWriter::new(io::stdout());
    let mut write_error = None;
    // Lines are serialised on the worker threads; the sink only writes them, in order.
    let to_line = |event: pipeline::ResolvedEvent| {
        let line = json!({
            "eventID": event.event_id,
            "eventTime": event.event_time.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            "eventSource": event.event_source,
            "eventName": event.event_name,
            "principal": event.resolution.principal,
            "resources": event.resolution.resources,
            "unresolved": event.resolution.unresolved.as_ref().map(|u| u.to_string()),
            "source": event.source.to_string(),
        });
        let mut text = line.to_string();
        text.push('\n');
        text
    };
    let tally = pipeline::run_plan(
        &plan(args.paths, args.live),
        &window(&args.common)?,
        &resolver,
        to_line,
        |line| {
            if write_error.is_none() {
                write_error = out.write_all(line.as_bytes()).err();
            }
        },
    )?;
    if let Some(e) = write_error {
        return Err(e.into());
    }
    out.flush()?;
    eprintln!("{}", tally.one_line());
    for problem in &tally.rejections {
        eprintln!("rejected {}: {}", problem.source, problem.reason);
    }
    Ok(if tally.rejected > 0 { 2 } else { 0 })
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

fn rules_check(args: RulesArgs) -> Result<u8> {
    let (set, diagnostics, files) = check(&args.dir)?;
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
    let rules = load_rules(args.rules.as_deref(), args.exclude_low_confidence)?;
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
            samples.push(tagtrail::coverage::Sample::of(&event));
        },
    )?;
    let coverage = tagtrail::coverage::Coverage::new(&samples);
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
        let corpus = PathBuf::from("../shared/corpus");
        if !corpus.is_dir() {
            bail!(
                "no records given and ../shared/corpus is not here: name the records to compare on"
            );
        }
        vec![corpus]
    } else {
        args.paths
    };
    let diff = tagtrail::ruleset::diff::diff(&base, &head, &Inputs::Paths(paths))?;
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
    use tagtrail::source::{decode, Item};
    let (record, from) = match &args.from_record {
        Some(path) => {
            let input = tagtrail::source::read_file(path)?;
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
    let text = tagtrail::ruleset::scaffold::rule_file(
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
