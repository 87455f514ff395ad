//! tagtrail finds tag-based access violations in AWS CloudTrail.
//!
//! The pipeline, one module a stage: [`source`] finds and reads inputs (trail files, JSON
//! Lines, LookupEvents output) and decodes them into records; [`event`] types the fields we
//! use; [`principal`] names who acted; [`resolve`] names what was touched, from `resources[]`,
//! LookupEvents names and the TOML extractor rules of [`ruleset`]; [`inventory`] knows the
//! product tag of every ARN; [`verdict`] turns a resolution and tags into findings; [`report`]
//! writes them as Parquet, CSV and a summary. [`pipeline`] wires the stages together over all
//! cores and counts every record in exactly one bucket; [`scan`] is the main job.

pub mod arn;
pub mod aws;
pub mod coverage;
pub mod event;
pub mod inventory;
pub mod pipeline;
pub mod policy;
pub mod principal;
pub mod report;
pub mod resolve;
pub mod ruleset;
pub mod scan;
pub mod source;
pub mod verdict;
