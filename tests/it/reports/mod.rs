//! Reports others read: OCSF and ASFF (validated with their Python models and botocore), report.html (headless Chromium), DDL for Athena and DuckDB.

pub mod exchange;
pub mod html;
pub mod tables;
