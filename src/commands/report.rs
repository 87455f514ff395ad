//! `tagtrail report`: the reports as tables.

use std::io::{self, Write};
use std::path::Path;

use anyhow::{Context, Result};
use tagtrail::report::tables::{self, Listed};

use crate::cli::ReportCommand;

pub(super) fn run(command: ReportCommand) -> Result<u8> {
    match command {
        ReportCommand::Ddl {
            dialect,
            location,
            partitioned,
            table,
        } => {
            print!(
                "{}",
                tagtrail::sql::ddl::findings_table(dialect, &location, partitioned, &table)
            );
            Ok(0)
        }
        ReportCommand::Diff { old, new } => diff(&old, &new),
    }
}

fn diff(old: &Path, new: &Path) -> Result<u8> {
    let read = |dir: &Path| {
        tables::read_findings(dir)
            .with_context(|| format!("reading the findings of {}", dir.display()))
    };
    let (added, gone) = tables::diff(&read(old)?, &read(new)?);
    let mut out = io::stdout().lock();
    writeln!(out, "{} new finding(s), {} gone", added.len(), gone.len())?;
    let mut list = |sign: &str, findings: &[Listed]| -> io::Result<()> {
        for f in findings {
            writeln!(
                out,
                "{sign} {:<26} {} {} {} on {} ({})",
                f.kind, f.event_time, f.principal_arn, f.event_name, f.resource_arn, f.event_id
            )?;
        }
        Ok(())
    };
    list("+", &added)?;
    list("-", &gone)?;
    Ok(u8::from(!added.is_empty() || !gone.is_empty()))
}
