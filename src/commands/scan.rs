//! `tagtrail scan`: the main job, its demo and its exit code.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::Utc;

use tagtrail::inventory::{self, Inventory, Snapshots, TagKey};
use tagtrail::policy::Policy;
use tagtrail::scan::ScanOptions;
use tagtrail::tally::Problem;

use crate::cli::{FailOn, ScanArgs};

use super::{demo_dir, load_rules, plan, window, AwsSession};

pub(super) fn scan(args: ScanArgs) -> Result<u8> {
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
    let mut session = None;
    let (snapshots, inventory_problems) = if inventory_source == "aws" {
        let aws = session.insert(AwsSession::new(&args.live.aws)?);
        let (fetched, _) =
            super::inventory::fetch_inventory(aws, &args.live.aws, None, &args.live.accounts)?;
        let mut inventory = Inventory::new(tag_key);
        for (name, document) in &fetched.documents {
            let bytes = serde_json::to_vec(document)?;
            inventory::files::load_document(&bytes, &format!("aws:{name}"), &mut inventory)?;
        }
        (Snapshots::current(inventory), fetched.problems)
    } else {
        let snapshots = inventory::files::load_snapshots(Path::new(&inventory_source), &tag_key)
            .context("reading the tag inventory")?;
        (snapshots, Vec::<Problem>::new())
    };
    let options = ScanOptions {
        plan: plan(paths, args.live, args.common.max_file_mib, &mut session)?,
        window: window(&args.common)?,
        rules: load_rules(
            args.common.rules.as_deref(),
            args.common.exclude_low_confidence,
        )?,
        snapshots,
        single_pass: args.single_pass,
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
        spill_rows: args.spill_rows,
    };
    let outcome = tagtrail::scan::scan(&options)?;
    let (tally, findings) = (&outcome.tally, &outcome.summary.findings);
    // One line for schedulers and log collectors, whatever the log level.
    tracing::info!(
        target: "tagtrail::done",
        inputs = tally.inputs,
        read = tally.read,
        resolved = tally.resolved,
        unresolved = tally.unresolved,
        skipped = tally.skipped,
        rejected = tally.rejected,
        findings = findings.values().sum::<u64>(),
        duplicates = outcome.summary.tag_history.duplicates,
        reports = %options.out_dir.display(),
        exit_code = outcome.exit_code,
        "scan finished"
    );
    let mut out = io::stdout().lock();
    write!(out, "{}", outcome.summary.to_text())?;
    writeln!(out, "\nreports")?;
    for path in &outcome.written {
        writeln!(out, "  {}", path.display())?;
    }
    Ok(outcome.exit_code)
}
