//! `tagtrail scan`: the main job, its demo and its exit code.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use chrono::Utc;

use tagtrail::inventory::{self, Inventory, Snapshots, TagKey};
use tagtrail::notify::{Delivered, Notice, Notifier, NotifyConfig, Transport};
use tagtrail::policy::Policy;
use tagtrail::report::sinks::{self, Outputs, Sink};
use tagtrail::report::{Format, Layout};
use tagtrail::scan::{ExitStatus, Passes, ScanOptions, ScanOutcome};
use tagtrail::schedule::root::{s3::S3Root, Root};
use tagtrail::schedule::store::{Location, Store};
use tagtrail::schedule::Schedule;
use tagtrail::security_hub::Gathered;
use tagtrail::source::s3::S3Url;
use tagtrail::tally::Problem;

use crate::cli::{FailOn, ScanArgs};

use super::{demo_dir, load_rules, plan, window, AwsSession};

pub(super) fn scan(args: ScanArgs) -> Result<u8> {
    let mut _demo_copy = None;
    let (paths, inventory_source, policy_file) = if args.demo {
        let (demo, copy) = demo_dir()?;
        _demo_copy = copy;
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
    let out_is_s3 = args.out.as_deref().is_some_and(|o| o.starts_with("s3://"));
    if out_is_s3 && args.state.is_none() {
        bail!(
            "--out s3://… is a report root: it needs --state (a one-off scan writes to a folder)"
        );
    }
    let state_is_s3 = matches!(args.state, Some(Location::S3 { .. }));
    if args.security_hub && out_is_s3 {
        bail!("--security-hub imports from a local report folder: --out s3://… is not one");
    }
    let notify = match &args.config {
        Some(file) => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading the config file {}", file.display()))?;
            NotifyConfig::from_config_file(&text, &file.display().to_string())?
        }
        None => None,
    };
    if args.notify && notify.is_none() {
        bail!("--notify needs a [notify] table in the --config file (see examples/tagtrail.toml)");
    }
    let notifying = notify.is_some() && (args.notify || args.state.is_some());
    let mut session = None;
    if inventory_source == "aws" || out_is_s3 || state_is_s3 || args.security_hub || notifying {
        session = Some(AwsSession::new(&args.live.aws)?);
    }
    let (snapshots, inventory_problems) = if inventory_source == "aws" {
        let aws = session.as_ref().context("the AWS session")?;
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
    if args.require_integrity && args.live.lookup_events {
        bail!(
            "--require-integrity checks trail files against their digest files: LookupEvents \
             has neither (read the trail's S3 objects with --logs)"
        );
    }
    let mut plan = plan(paths, args.live, args.common.max_file_mib, &mut session)?;
    // A scheduled run's evidence continues the state's (`schedule`).
    plan.integrity = Some(Default::default());
    if let Some(live) = plan.live.as_mut() {
        live.digests = true;
    }
    let out_dir = args.out.clone().map_or_else(
        || PathBuf::from("reports").join(Utc::now().format("%Y%m%dT%H%M%SZ").to_string()),
        PathBuf::from,
    );
    let mut formats = args.format;
    if args.security_hub && !formats.contains(&Format::Asff) {
        formats.push(Format::Asff);
    }
    let options = ScanOptions {
        plan,
        window: window(&args.common)?,
        rules: load_rules(
            args.common.rules.as_deref(),
            &args.common.add_rules,
            args.common.exclude_low_confidence,
        )?,
        snapshots,
        passes: match (args.single_pass, args.two_pass_reference) {
            (true, _) => Passes::Single,
            (_, true) => Passes::TwoPassReference,
            _ => Passes::Deferred,
        },
        inventory_problems,
        policy: match policy_file {
            Some(path) => Policy::load(&path).context("reading the policy file")?,
            None => Policy::default(),
        },
        scratch_dir: out_dir.clone(),
        fail_on: match args.fail_on {
            FailOn::Never => None,
            FailOn::Kind(kind) => Some(kind),
        },
        allow_partial: args.allow_partial,
        require_integrity: args.require_integrity,
        spill_rows: args.spill_rows,
        carried: Default::default(),
    };
    if let Some(location) = args.state {
        let out = args.out.context("--state needs --out")?;
        let notifier = match notify {
            Some(config) => Some(notifier(config, session.as_ref())?),
            None => None,
        };
        let schedule = Schedule {
            root: report_root(&out, session.as_ref())?,
            lookback: args.lookback,
            now: args.now.unwrap_or_else(Utc::now),
            notify: notifier,
        };
        let (store, state) = match &location {
            Location::Local(path) => Store::open_local(path)?,
            Location::S3 { bucket, key } => {
                let aws = session.as_ref().context("the AWS session")?;
                let client = s3_client(aws, bucket);
                Store::open_s3(aws.runtime.handle(), client, bucket, key, args.lock_lease)?
            }
        };
        let mut asff = Vec::new();
        let gathered: Vec<Box<dyn Sink + '_>> = match args.security_hub {
            true => vec![Box::new(Gathered(&mut asff))],
            false => Vec::new(),
        };
        let outcome = tagtrail::schedule::run(options, formats, gathered, &schedule, store, state)?;
        let run = &outcome.run;
        tracing::info!(
            target: "tagtrail::done",
            run = run.run,
            listed = run.listed,
            new_files = run.selected,
            retry = run.retry.len(),
            hours_complete = run.digests.hours_complete,
            files_pending = run.digests.files_pending,
            files_missing = run.digests.files_missing.len(),
            reported_before = outcome.scan.summary.reported_before,
            "scheduled run committed"
        );
        let mut out = io::stdout().lock();
        writeln!(
            out,
            "run {}: {} trail files listed in open folders, {} not read before",
            run.run, run.listed, run.selected
        )?;
        for missing in &run.digests.files_missing {
            writeln!(out, "  listed by a digest, never found: {missing}")?;
        }
        if let Some(queued) = &run.notifications {
            writeln!(
                out,
                "notify: {} new finding(s) routed, {} unrouted, {} below the threshold; {} batch(es) queued",
                queued.routed, queued.unrouted, queued.below_threshold, queued.batches
            )?;
        }
        let undelivered = match &outcome.notified {
            Some(delivered) => print_delivered(&mut out, delivered, outcome.outbox)?,
            None => false,
        };
        drop(out);
        let (published, mut outcome) = (outcome.written, outcome.scan);
        require_delivery(&mut outcome, undelivered, args.require_notify);
        if args.security_hub {
            // Scheduled runs report each finding once: earlier runs' findings stay active.
            import_to_security_hub(session.as_ref(), &mut outcome, &asff, None)?;
        }
        return finish(outcome, &published, &schedule.root.name());
    }
    let outputs = Outputs {
        dir: out_dir,
        layout: Layout::Flat,
        formats,
    };
    let mut asff = Vec::new();
    let write = |outcome: &mut ScanOutcome, asff: &mut Vec<serde_json::Value>| {
        let mut sinks: Vec<Box<dyn Sink + '_>> = outputs.sinks()?;
        if args.security_hub {
            sinks.push(Box::new(Gathered(asff)));
        }
        sinks::drain(outcome.take_findings(), &outcome.summary, sinks)
    };
    let (mut outcome, written) = match notify.filter(|_| args.notify) {
        None => {
            let mut outcome = tagtrail::scan::scan(&options)?;
            let written = write(&mut outcome, &mut asff)?;
            (outcome, written)
        }
        Some(config) => {
            let (mut found, mut below) = (Vec::new(), 0);
            let mut outcome = tagtrail::scan::scan_reporting(&options, &mut |row| {
                match config.wants(row) {
                    true => found.push(Notice::new(row)),
                    false => below += 1,
                }
                true
            })?;
            let written = write(&mut outcome, &mut asff)?;
            let notifier = notifier(config, session.as_ref())?;
            let run = outputs.dir.display().to_string();
            let mut routed = notifier.config.route(found, &run);
            let delivered = notifier.deliver(&mut routed.batches);
            let mut out = io::stdout().lock();
            writeln!(
                out,
                "notify: {} finding(s) routed, {} unrouted, {} below the threshold",
                routed.routed,
                routed.unrouted,
                routed.below_threshold + below
            )?;
            let undelivered = print_delivered(&mut out, &delivered, routed.batches.len())?;
            require_delivery(&mut outcome, undelivered, args.require_notify);
            (outcome, written)
        }
    };
    if args.security_hub {
        import_to_security_hub(session.as_ref(), &mut outcome, &asff, Some(&options.window))?;
    }
    finish(outcome, &written, &outputs.dir.display().to_string())
}

/// Imports the scan's findings, as the ASFF records gathered from them, into Security Hub,
/// prints what it did, and makes the exit code 2 when findings were refused.
fn import_to_security_hub(
    session: Option<&AwsSession>,
    outcome: &mut ScanOutcome,
    findings: &[serde_json::Value],
    archive: Option<&tagtrail::source::Window>,
) -> Result<()> {
    use tagtrail::security_hub::{publish, Hub};
    let aws = session.context("the AWS session")?;
    let region = aws
        .config
        .region()
        .map(|r| r.to_string())
        .context("--security-hub needs a region (AWS_REGION, the profile, or --regions)")?;
    let published = aws.runtime.block_on(async {
        let identity = aws_sdk_sts::Client::new(&aws.config)
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!("sts:GetCallerIdentity: {}", tagtrail::aws::describe(&e))
            })?;
        let hub = Hub {
            region,
            account: identity.account.unwrap_or_default(),
        };
        let client = aws_sdk_securityhub::Client::new(&aws.config);
        anyhow::Ok(publish(&client, &hub, findings, archive).await?)
    })?;
    tracing::info!(
        imported = published.imported,
        archived = published.archived,
        failed = published.failed.len(),
        "security hub import"
    );
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "security hub: {} finding(s) imported, {} archived, {} refused",
        published.imported,
        published.archived,
        published.failed.len()
    )?;
    for (id, why) in &published.failed {
        writeln!(out, "  refused {id}: {why}")?;
    }
    if !published.failed.is_empty() {
        outcome.exit = ExitStatus::Failed;
    }
    Ok(())
}

/// An S3 client in the bucket's own region.
fn s3_client(aws: &AwsSession, bucket: &str) -> aws_sdk_s3::Client {
    aws.runtime
        .block_on(tagtrail::source::s3::bucket_client(&aws.config, bucket))
}

/// Where a scheduled scan's reports go.
fn report_root(out: &str, session: Option<&AwsSession>) -> Result<Root> {
    if !out.starts_with("s3://") {
        return Ok(Root::Local(PathBuf::from(out)));
    }
    let url: S3Url = out.parse().with_context(|| format!("--out {out}"))?;
    let aws = session.context("the AWS session")?;
    let mut prefix = url.prefix.clone();
    if !prefix.is_empty() && !prefix.ends_with('/') {
        prefix.push('/');
    }
    Ok(Root::S3(S3Root {
        runtime: aws.runtime.handle().clone(),
        client: s3_client(aws, &url.bucket),
        bucket: url.bucket,
        prefix,
    }))
}

/// The notifier of a `[notify]` table, sending through the run's AWS session.
fn notifier(config: NotifyConfig, session: Option<&AwsSession>) -> Result<Notifier> {
    let aws = session.context("the AWS session")?;
    Ok(Notifier {
        config,
        transport: Transport {
            runtime: aws.runtime.handle().clone(),
            config: aws.config.clone(),
        },
    })
}

/// What delivery did, for people; whether anything was not delivered.
fn print_delivered(out: &mut impl Write, delivered: &Delivered, left: usize) -> Result<bool> {
    writeln!(
        out,
        "notify: {} batch(es) delivered ({} finding(s)), {} left in the outbox",
        delivered.batches, delivered.findings, left
    )?;
    for why in &delivered.failed {
        writeln!(out, "  not delivered: {why}")?;
    }
    Ok(!delivered.failed.is_empty())
}

/// `--require-notify`: a notification not delivered fails the run.
fn require_delivery(outcome: &mut ScanOutcome, undelivered: bool, required: bool) {
    if undelivered && required {
        tracing::error!("--require-notify: notifications were not all delivered");
        outcome.exit = ExitStatus::Failed;
    }
}

/// Prints the summary and the report files, and logs the final line.
fn finish(outcome: ScanOutcome, written: &[PathBuf], reports: &str) -> Result<u8> {
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
        reports,
        exit_code = outcome.exit.code(),
        "scan finished"
    );
    let mut out = io::stdout().lock();
    write!(out, "{}", outcome.summary.to_text())?;
    writeln!(out, "\nreports")?;
    for path in written {
        writeln!(out, "  {}", path.display())?;
    }
    Ok(outcome.exit.code())
}
