//! Test helper for `tests/tests/durable.rs`: rewrites one state file through
//! `dha_core::write_atomic` in a loop until it is killed.
//!
//! Usage: `durable_writer FILE`. Version N of the file is the line
//! `version N` repeated 4,096 times (about 60 KiB, so a write spans many
//! pages and a torn write would be visible), and the program prints N to
//! stdout after each write returns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;

fn main() {
    let path = std::env::args_os()
        .nth(1)
        .expect("usage: durable_writer FILE");
    let path = std::path::PathBuf::from(path);
    let mut out = std::io::stdout().lock();
    for n in 1u64.. {
        let body = format!("version {n}\n").repeat(4096);
        dha_core::write_atomic(&path, body.as_bytes(), Some(0o600)).expect("write");
        writeln!(out, "{n}").expect("stdout");
        out.flush().expect("flush");
    }
}
