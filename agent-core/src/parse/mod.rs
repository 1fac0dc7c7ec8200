//! Parsers of the files the checks read. Each is bounded, never panics, and
//! reports malformed input as a [`crate::Diagnostic`] naming file, line and field.

pub mod accounts;
pub mod logindefs;
pub mod pam;
pub mod session;
pub mod sshd;
pub mod sudoers;
