//! Forwarding events to the hospital's log infrastructure (issue 7).
//!
//! So far only the message layer: [`syslog`] formats one record of the
//! event log as an RFC 5424 message and frames it with octet counting
//! (RFC 6587 §3.4.1, RFC 5425 §4.3). Transport, spool and configuration
//! come later.

pub mod syslog;
