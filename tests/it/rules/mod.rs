//! The rule pack: its checks and cases, the generator, the self-check, resolution measured on the real corpus and on AWS examples, rules learned from a trail.

pub mod corpus;
pub mod examples;
pub mod generator;
pub mod learn;
pub mod pack;
pub mod selfcheck;
