//! The main job from the command line: options and config files, tags at the event's time, what reports must never hold.

pub mod cli;
pub mod config;
pub mod history;
pub mod integrity;
pub mod secrets;
