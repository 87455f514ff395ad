//! Tools for rule authors that run the rule pack over corpora of records, above the whole
//! pipeline: what a rule change gains and loses (`diff`), how much of a trail the pack
//! resolves (`coverage`), the generated pack held against real records (`generate`), a rule file scaffolded from a record (`scaffold`), rules learned from a
//! team's own trail and inventory (`learn`), the rules held against the records themselves
//! (`selfcheck`), and the Service Authorization Reference they share
//! (`sar`).

pub mod coverage;
pub mod diff;
pub mod generate;
pub mod learn;
pub mod scaffold;
pub mod selfcheck;
