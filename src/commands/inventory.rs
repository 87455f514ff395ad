//! `tagtrail inventory fetch`: the tag inventory, live from AWS, as AWS CLI JSON files;
//! `tagtrail inventory export`: an inventory folder as tables for SQL engines.

use anyhow::{Context, Result};
use chrono::Utc;
use serde_json::json;

use crate::cli::{AwsArgs, ExportArgs, ExportFormat, FetchArgs, FetchFrom};

use super::AwsSession;

/// The regions asked for, else the configured one; an error when there is none.
fn regions(session: &AwsSession, aws: &AwsArgs) -> Result<Vec<String>> {
    let regions = tagtrail::aws::regions(&session.config, &aws.regions);
    if regions.is_empty() {
        anyhow::bail!("no region: pass --regions or configure one (AWS_REGION, a profile)");
    }
    Ok(regions)
}

/// Fetches the inventory live with `session`: documents in AWS CLI shape, what could not be
/// fetched, and the regions asked.
pub(super) fn fetch_inventory(
    session: &AwsSession,
    aws: &AwsArgs,
    only_tag_key: Option<&str>,
    accounts: &[String],
) -> Result<(tagtrail::inventory::aws::Fetched, Vec<String>)> {
    let regions = regions(session, aws)?;
    let accounts = tagtrail::inventory::aws::Accounts {
        assume_role: aws.assume_role.clone(),
        accounts: accounts.to_vec(),
    };
    let fetched = session
        .runtime
        .block_on(tagtrail::inventory::aws::fetch_accounts(
            &session.config,
            &regions,
            only_tag_key,
            &accounts,
        ));
    Ok((fetched, regions))
}

pub(super) fn inventory_fetch(args: FetchArgs) -> Result<u8> {
    let session = AwsSession::new(&args.aws)?;
    let started = Utc::now();
    let (fetched, regions) = match args.from {
        FetchFrom::Tagging => fetch_inventory(
            &session,
            &args.aws,
            args.only_tag_key.as_deref(),
            &args.accounts,
        )?,
        FetchFrom::Config => {
            let regions = regions(&session, &args.aws)?;
            let fetched = session
                .runtime
                .block_on(tagtrail::inventory::aws::fetch_config(
                    &session.config,
                    &regions,
                ));
            (fetched, regions)
        }
    };
    let out = if args.dated {
        args.out
            .join(started.format("%Y-%m-%dT%H%M%SZ").to_string())
    } else {
        args.out
    };
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    for (name, document) in &fetched.documents {
        let text = serde_json::to_string_pretty(document)? + "\n";
        tagtrail::report::write_bytes(&out, name, text.as_bytes())?;
    }
    let manifest = json!({"tagtrail_inventory_fetch": {
        "fetched_at": started.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "from": match args.from { FetchFrom::Tagging => "tagging", FetchFrom::Config => "config" },
        "regions": regions,
        "resources": fetched.resources,
        "users": fetched.users,
        "roles": fetched.roles,
        "kms_aliases": fetched.aliases,
        "config_items": fetched.config_items,
        "problems": fetched.problems,
    }});
    let manifest_name = match args.from {
        FetchFrom::Tagging => "fetch.json",
        FetchFrom::Config => "fetch-config.json",
    };
    tagtrail::report::write_bytes(
        &out,
        manifest_name,
        (serde_json::to_string_pretty(&manifest)? + "\n").as_bytes(),
    )?;
    match args.from {
        FetchFrom::Tagging => println!(
            "{} resources, {} users, {} roles, {} KMS aliases -> {}",
            fetched.resources,
            fetched.users,
            fetched.roles,
            fetched.aliases,
            out.display()
        ),
        FetchFrom::Config => println!(
            "{} resources, {} configuration items from AWS Config -> {}",
            fetched.resources,
            fetched.config_items,
            out.display()
        ),
    }
    for p in &fetched.problems {
        eprintln!("could not fetch {}: {}", p.source, p.reason);
    }
    Ok(if fetched.problems.is_empty() { 0 } else { 2 })
}

pub(super) fn inventory_export(args: ExportArgs) -> Result<u8> {
    let tag_key = tagtrail::inventory::TagKey {
        key: args.tag_key,
        case_insensitive: args.ignore_tag_case,
    };
    let snapshots = tagtrail::inventory::files::load_snapshots(&args.inventory, &tag_key)
        .context("reading the tag inventory")?;
    let format = match args.format {
        ExportFormat::Parquet => tagtrail::report::inventory_tables::TableFormat::Parquet,
        ExportFormat::Csv => tagtrail::report::inventory_tables::TableFormat::Csv,
    };
    let written =
        tagtrail::report::inventory_tables::write_inventory(&snapshots, &args.out, format)?;
    for path in written {
        println!("{}", path.display());
    }
    Ok(0)
}
