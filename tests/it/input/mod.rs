//! Reading inputs: every container, bad and hostile input, LookupEvents (through a loopback server of its wire format).

pub mod bad_input;
pub mod containers;
pub mod lookup;
pub mod loopback;
