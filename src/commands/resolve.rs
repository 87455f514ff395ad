//! `tagtrail resolve`: one JSON line per record, who touched what.

use std::io::{self, BufWriter, Write};

use anyhow::Result;
use serde_json::json;

use tagtrail::event::Event;
use tagtrail::inventory::{Inventory, TagKey};
use tagtrail::pipeline;
use tagtrail::resolve::{Resolver, Sources};

use crate::cli::ResolveArgs;

use super::{load_inventory, load_rules, plan, window};

pub(super) fn resolve(args: ResolveArgs) -> Result<u8> {
    let rules = load_rules(
        args.common.rules.as_deref(),
        &args.common.add_rules,
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
    let to_line = |event: tagtrail::resolve::ResolvedEvent, _: &Event, _: &str| {
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
        &plan(args.paths, args.live, args.common.max_file_mib, &mut None)?,
        &window(&args.common)?,
        &resolver,
        &pipeline::keep_all,
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
