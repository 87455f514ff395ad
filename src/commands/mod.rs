//! The subcommands: argument values → library calls → output and exit code. One module per
//! command family; the helpers they share (sources, window, rules, inventory) live here.

pub(crate) mod config_file;
mod docs;
mod inventory;
mod report;
mod resolve;
mod rules;
mod scan;
mod sql;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use chrono::Utc;

use tagtrail::inventory::{Inventory, TagKey};
use tagtrail::pipeline::{Inputs, Plan};
use tagtrail::ruleset::{RuleSet, RuleSource};
use tagtrail::source::live::Live;
use tagtrail::source::window::parse_instant;
use tagtrail::source::Window;

use crate::cli::{AwsArgs, Command, CommonArgs, InventoryCommand, LiveArgs};

/// What `tagtrail` with no command says: where to start.
const FIRST_RUN: &str = "tagtrail finds tag-based access violations in AWS CloudTrail.

  tagtrail scan --demo                      the main job on the bundled demo (no AWS account)
  tagtrail scan TRAIL --inventory DIR       your own trail (see `tagtrail scan --help`)
  tagtrail --help                           every command

The book: docs/ in the source (mdbook serve docs), or https://github.com/tagtrail/tagtrail/tree/main/docs";

pub fn run(command: Option<Command>) -> Result<u8> {
    let Some(command) = command else {
        eprintln!("{FIRST_RUN}");
        return Ok(2);
    };
    match command {
        Command::Completions { shell } => docs::completions(shell),
        Command::Docs { out } => docs::docs(&out),
        Command::Scan(args) => scan::scan(*args),
        Command::Resolve(args) => resolve::resolve(args),
        Command::Rules { command } => rules::run(command),
        Command::Inventory {
            command: InventoryCommand::Fetch(args),
        } => inventory::inventory_fetch(args),
        Command::Inventory {
            command: InventoryCommand::Export(args),
        } => inventory::inventory_export(args),
        Command::Report { command } => report::run(command),
        Command::Sql(args) => sql::sql(args),
        Command::BenchFloor { paths, decode } => bench_floor(&paths, decode),
    }
}

fn bench_floor(paths: &[PathBuf], decode: bool) -> Result<u8> {
    use rayon::prelude::*;
    let files = tagtrail::source::discover(paths, &Window::default())?;
    let count = files.len();
    let (bytes, items) = files
        .into_par_iter()
        .map(|f| {
            let input = f
                .load(Vec::new(), tagtrail::source::DEFAULT_MAX_FILE_BYTES)
                .map_err(|p| anyhow::anyhow!("{}: {}", p.source, p.reason))?;
            let items = if decode {
                tagtrail::event::decode::decode(&input.bytes, None).len()
            } else {
                0
            };
            Ok((input.bytes.len(), items))
        })
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .fold((0, 0), |(bytes, items), (b, n)| (bytes + b, items + n));
    println!("files={count} bytes={bytes} records={items}");
    Ok(0)
}

/// The AWS side of one run: one tokio runtime and one `SdkConfig`, shared by the live
/// inventory and the live sources.
pub(crate) struct AwsSession {
    runtime: tokio::runtime::Runtime,
    config: aws_config::SdkConfig,
}

impl AwsSession {
    fn new(aws: &AwsArgs) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("starting the async runtime for AWS calls")?;
        let config = runtime.block_on(tagtrail::aws::load_config(
            aws.profile.as_deref(),
            aws.regions.first().map(String::as_str),
        ));
        Ok(AwsSession { runtime, config })
    }
}

/// The sources of a run: local paths (stdin when there is no source at all), S3, LookupEvents.
/// `session` is made (once) only when a live source needs it.
fn plan(
    paths: Vec<PathBuf>,
    live: LiveArgs,
    max_file_mib: usize,
    session: &mut Option<AwsSession>,
) -> Result<Plan> {
    let has_live = !live.logs.is_empty() || live.lookup_events;
    let local = if !paths.is_empty() {
        Some(Inputs::Paths(paths))
    } else if has_live {
        None
    } else {
        Some(Inputs::Stdin)
    };
    let live = if has_live {
        let aws = match session {
            Some(aws) => aws,
            None => session.insert(AwsSession::new(&live.aws)?),
        };
        let logs_config = match &live.logs_role {
            Some(role) => Some(
                aws.runtime
                    .block_on(tagtrail::aws::assume_role(
                        &aws.config,
                        role,
                        "tagtrail-logs",
                    ))
                    .context("assuming --logs-role")?,
            ),
            None => None,
        };
        Some(Live {
            runtime: aws.runtime.handle().clone(),
            config: aws.config.clone(),
            logs_config,
            s3: live.logs,
            lookup_events: live.lookup_events,
            regions: live.aws.regions,
            accounts: live.accounts,
            concurrency: live.concurrency,
            digests: false,
            selected: None,
        })
    } else {
        None
    };
    Ok(Plan {
        local,
        live,
        max_file_bytes: max_file_mib.saturating_mul(1 << 20),
        integrity: None,
    })
}

include!(concat!(env!("OUT_DIR"), "/builtin_demo.rs"));

/// The bundled demo: `examples/demo` of the working folder, else of the source tree the
/// binary was built from, else the copy built into it, written to a temporary folder that
/// lives as long as the returned guard.
fn demo_dir() -> Result<(PathBuf, Option<tempfile::TempDir>)> {
    let local = PathBuf::from("examples/demo");
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo");
    if let Some(dir) = [local, built]
        .into_iter()
        .find(|p| p.join("trail").is_dir())
    {
        return Ok((dir, None));
    }
    let temp = tempfile::Builder::new()
        .prefix("tagtrail-demo-")
        .tempdir()
        .context("a temporary folder for the demo")?;
    for (relative, bytes) in BUILTIN_DEMO {
        let path = temp.path().join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok((temp.path().to_path_buf(), Some(temp)))
}

/// The rules of a folder or of the built-in pack, with `--add-rules`.
fn load_rules(
    dir: Option<&Path>,
    add: &[PathBuf],
    exclude_low_confidence: bool,
) -> Result<RuleSet> {
    let source = rule_source(dir, add, exclude_low_confidence);
    RuleSet::load(&source).with_context(|| format!("loading {}", source.describe()))
}

fn rule_source(dir: Option<&Path>, add: &[PathBuf], exclude_low_confidence: bool) -> RuleSource {
    RuleSource {
        dir: dir.map(Path::to_path_buf),
        add: add.to_vec(),
        exclude_low_confidence,
    }
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

pub(crate) fn load_inventory(dir: &Path, tag_key: TagKey) -> Result<Inventory> {
    let mut inventory = Inventory::new(tag_key);
    tagtrail::inventory::files::load_dir(dir, &mut inventory)
        .context("reading the tag inventory")?;
    Ok(inventory)
}
