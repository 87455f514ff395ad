//! `tagtrail sql`: the rule pack, completion and verdicts as SQL for Athena or Spark.

use anyhow::{Context, Result};

use tagtrail::policy::Policy;
use tagtrail::sql::{self, Dialect, TrailLayout, TABLES};

use crate::cli::{SqlArgs, SqlDialect};

pub(super) fn sql(args: SqlArgs) -> Result<u8> {
    let dialect = match args.dialect {
        SqlDialect::Athena => Dialect::Athena,
        SqlDialect::Spark => Dialect::Spark,
    };
    let rules = super::load_rules(
        args.common.rules.as_deref(),
        &args.common.add_rules,
        args.common.exclude_low_confidence,
    )?;
    let policy = match &args.policy {
        Some(path) => Policy::load(path).context("reading the policy file")?,
        None => Policy::default(),
    };
    let window = super::window(&args.common)?;
    let (tables, untranslated) = sql::compile_rules(&rules, &policy);
    let mut notes = vec![format!(
        "Tags at each event's time: a role session's tags (role chains followed {} sessions \
         deep), the trail's own tag calls, then the inventory (its dated snapshots and AWS \
         Config's record). A cross-account call logged in both accounts is judged once, on \
         the owner's copy; a record delivered again with corrections replaces the first.",
        sql::CHAIN_HOPS
    )];
    for u in &untranslated {
        tracing::warn!(rule = %u.rule, "not translated to SQL: {}", u.reason);
        notes.push(format!("not translated: rule {}: {}", u.rule, u.reason));
    }
    let tag_key = tagtrail::inventory::TagKey {
        key: args.tag_key.clone(),
        case_insensitive: args.ignore_tag_case,
    };
    let query = sql::query(dialect, &tables, window, &tag_key, &notes);
    let Some(out) = args.out else {
        print!("{query}");
        return Ok(0);
    };
    let write = |name: &str, text: &str| {
        tagtrail::report::write_bytes(&out, name, text.as_bytes())
            .with_context(|| format!("writing {name}"))
    };
    write("query.sql", &query)?;
    for ((table, _), rows) in TABLES.iter().zip(&tables.rows) {
        let mut text = String::new();
        for row in rows {
            text.push_str(&serde_json::to_string(row)?);
            text.push('\n');
        }
        tagtrail::report::write_bytes(&out.join(table), &format!("{table}.jsonl"), text.as_bytes())
            .with_context(|| format!("writing table {table}"))?;
    }
    let mut schemas = sql::spark_schemas();
    schemas["cloudtrail"] = sql::trail_schema().into();
    write("schemas.json", &serde_json::to_string_pretty(&schemas)?)?;
    if dialect == Dialect::Athena {
        let mut ddl = String::new();
        if let Some(location) = &args.trail_location {
            if args.accounts.is_empty() || args.trail_regions.is_empty() {
                anyhow::bail!("--trail-location needs --accounts and --trail-regions (the partitions to project)");
            }
            ddl.push_str(&sql::trail_table_ddl(&TrailLayout {
                location: location.clone(),
                organization: args.organization.clone(),
                accounts: args.accounts.clone(),
                regions: args.trail_regions.clone(),
                start: args.projection_start.clone(),
            }));
        }
        ddl.push_str(&sql::data_tables_ddl(&args.tables_location));
        write("tables.sql", &ddl)?;
    }
    println!(
        "{} rules as {} tables, query and schemas -> {}",
        tables.rule_count,
        TABLES.len(),
        out.display()
    );
    Ok(0)
}
