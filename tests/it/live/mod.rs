//! Live AWS against moto (S3 trails, LookupEvents, organisations, Security Hub) and scheduled scans.

pub mod aws;
pub mod schedule;
