//! The live probe: what `/proc`, `/sys` and the process table say, for the
//! checks' live parts (see `dha_core::HostProbe`).

pub mod boot;
pub mod kernel;
pub mod net;
