//! `tagtrail inventory fetch`: the tag inventory, live from AWS, as AWS CLI JSON files.

use anyhow::{Context, Result};
use chrono::Utc;
use serde_json::json;

use crate::cli::{AwsArgs, FetchArgs};

use super::AwsSession;

/// Fetches the inventory live with `session`: documents in AWS CLI shape, what could not be
/// fetched, and the regions asked.
pub(super) fn fetch_inventory(
    session: &AwsSession,
    aws: &AwsArgs,
    only_tag_key: Option<&str>,
) -> Result<(tagtrail::inventory::aws::Fetched, Vec<String>)> {
    let regions = tagtrail::aws::regions(&session.config, &aws.regions);
    if regions.is_empty() {
        anyhow::bail!("no region: pass --regions or configure one (AWS_REGION, a profile)");
    }
    let fetched = session.runtime.block_on(tagtrail::inventory::aws::fetch(
        &session.config,
        &regions,
        only_tag_key,
    ));
    Ok((fetched, regions))
}

pub(super) fn inventory_fetch(args: FetchArgs) -> Result<u8> {
    let session = AwsSession::new(&args.aws)?;
    let (fetched, regions) = fetch_inventory(&session, &args.aws, args.only_tag_key.as_deref())?;
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
