//! The subcommands: argument values → library calls → output and exit code. One module per
//! command family; the helpers they share (sources, window, rules, inventory) live here.

mod inventory;
mod resolve;
mod rules;
mod scan;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use chrono::Utc;

use tagtrail::inventory::{Inventory, TagKey};
use tagtrail::pipeline::{AwsOptions, Inputs, Plan};
use tagtrail::ruleset::RuleSet;
use tagtrail::source::window::parse_instant;
use tagtrail::source::Window;

use crate::cli::{Command, CommonArgs, InventoryCommand, LiveArgs};

pub fn run(command: Command) -> Result<u8> {
    match command {
        Command::Scan(args) => scan::scan(args),
        Command::Resolve(args) => resolve::resolve(args),
        Command::Rules { command } => rules::run(command),
        Command::Inventory {
            command: InventoryCommand::Fetch(args),
        } => inventory::inventory_fetch(args),
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
    tagtrail::inventory::files::load_dir(dir, &mut inventory)
        .context("reading the tag inventory")?;
    Ok(inventory)
}
