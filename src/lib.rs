//! tagtrail finds tag-based access violations in AWS CloudTrail.
//!
//! The pipeline, one module a stage, each importing only the stages below it: [`source`] finds
//! and reads inputs (local files, and S3 objects and LookupEvents pages through
//! `source::live`); [`integrity`] checks what was read against CloudTrail's digest files;
//! [`event`] decodes their containers into records and types the fields we
//! use; [`principal`] names who acted; [`inventory`] knows the product tag of every ARN and the
//! ARNs names are completed against; [`ruleset`] holds the TOML extractor rules as data;
//! [`resolve`] names what was touched, from `resources[]`, LookupEvents names, the rules and
//! access-denied messages; [`history`] knows the product tags at each instant (the trail's tag
//! calls, session tags, snapshots) and which records are duplicates; [`policy`] holds the
//! exceptions; [`verdict`] turns a resolution and the tags at its time into findings;
//! [`report`] sorts them and hands them to its sinks (Parquet, CSV, JSON, HTML, OCSF, ASFF).
//! [`pipeline`] runs the stages over all cores for any stream of inputs and counts every record
//! in exactly one bucket of a [`tally::Tally`]; `scan` is the main job: one read, judging
//! deferred until the history is complete, the findings returned sorted (it writes no file);
//! [`authoring`] holds the tools that run the rules over corpora for rule authors; `sql` prints
//! the same rules and verdicts as SQL for Athena and Spark.

pub mod arn;
pub mod authoring;
#[cfg(feature = "aws")]
pub mod aws;
pub mod event;
pub mod history;
pub mod integrity;
pub mod inventory;
pub mod notify;
pub mod pipeline;
pub mod policy;
pub mod principal;
pub mod report;
pub mod resolve;
pub mod ruleset;
pub mod sar;
#[cfg(feature = "reports")]
pub mod scan;
#[cfg(feature = "reports")]
pub mod schedule;
#[cfg(feature = "aws")]
pub mod security_hub;
pub mod source;
#[cfg(feature = "reports")]
pub mod sql;
pub mod tally;
pub mod verdict;
