//! Signed-update verification: a blocking client of The Update Framework
//! (TUF) specification, version 1.0.34 (<https://theupdateframework.github.io/specification/v1.0.34/>).
//!
//! Sections of the specification are cited in the code as "TUF 1.0.34 §N".
//! The client never trusts a byte it has not verified: metadata is checked
//! (signatures over the canonical JSON of `signed`, thresholds, versions,
//! expiry, hashes, lengths) before it replaces anything in the trusted store,
//! and every download is bounded by [`Limits`] or by the length the parent
//! metadata gives.
//!
//! Work in progress (issue 3): the pieces below are being built in order;
//! each module's documentation says what it covers so far.

pub mod cjson;
pub mod client;
pub mod delegation;
pub mod error;
mod hex;
pub mod https;
pub mod keys;
pub mod limits;
pub mod metadata;
pub mod repo;
pub mod store;
pub mod target;
pub mod transport;

pub use error::TufError;
pub use limits::Limits;
