//! `dha log`: the tamper-evident event log from the command line (issue 5,
//! "Tamper-evident event log"), a thin shell over [`dha_core::events`].
//!
//! - `keygen KEYFILE` makes an initial key `K_0` (64 hex digits, mode 0600;
//!   never overwrites). The integrator keeps it away from the device.
//! - `init --key KEYFILE [--config FILE]` creates the log and its evolving
//!   key file at `[eventlog] path` and `key` from the initial key (never
//!   overwrites either); the other commands then record their events there.
//! - `show [--log FILE] [--config FILE] [--format table|json]` prints the
//!   records as they are, without checking them (that is `verify`).
//! - `verify [--log FILE] [--config FILE] --key KEYFILE [--head SEQ:SHA256]`
//!   checks every record from the initial key, and that the log reaches
//!   `--head` (the last record's head, kept elsewhere).
//!
//! The log is `--log`, else `[eventlog] path` of `--config`, else
//! `/var/lib/dha/events.log`.
//!
//! Exit status: 0 the log read (show) or verified (verify); 1 it is
//! tampered with, torn or malformed (the first bad record is named); 2 a
//! usage error or a file that cannot be read.

use crate::Format;
use crate::term;
use clap::{Args, Subcommand};
use dha_core::Config;
use dha_core::clock::rfc3339;
use dha_core::events::record::{ReadError, Reader};
use dha_core::events::{EventLog, Head, InitialKey, Record, verify};
use serde_json::{Value, json};
use std::fs::File;
use std::io::{self, BufReader, Write as _};
use std::path::{Path, PathBuf};

/// Exit status: the log read or verified.
const EXIT_OK: u8 = 0;
/// Exit status: tampered, torn or malformed.
const EXIT_TAMPERED: u8 = 1;
/// Exit status: usage or I/O error.
const EXIT_ERROR: u8 = 2;
/// The version of the JSON printed.
const SCHEMA_VERSION: u32 = 1;

/// `dha log` arguments.
#[derive(Debug, Args)]
pub struct LogArgs {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Make an initial event-log key (64 hex digits, mode 0600)
    Keygen(KeygenArgs),
    /// Create the event log and its key file at [eventlog] path and key,
    /// from an initial key (never overwrites)
    Init(InitArgs),
    /// Print the records of an event log (without verifying them)
    Show(ShowArgs),
    /// Verify an event log from its initial key: exit 0 intact, 1 tampered
    Verify(VerifyArgs),
}

#[derive(Debug, Args)]
struct KeygenArgs {
    /// The key file to write (refused if it exists)
    #[arg(value_name = "KEYFILE")]
    keyfile: PathBuf,
}

#[derive(Debug, Args)]
struct InitArgs {
    /// The initial key file (`dha log keygen`); keep a copy away from the
    /// device: it is the only key that verifies the whole log
    #[arg(long, value_name = "INITIAL_KEY_FILE")]
    key: PathBuf,
    /// The dha.toml whose [eventlog] says where the log and its key file go
    /// (without it: /var/lib/dha/events.log and /var/lib/dha/events.key)
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ShowArgs {
    /// The event log (default: [eventlog] path of --config, else
    /// /var/lib/dha/events.log)
    #[arg(long, value_name = "FILE")]
    log: Option<PathBuf>,
    /// A dha.toml whose [eventlog] path is the default log
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

#[derive(Debug, Args)]
struct VerifyArgs {
    /// The event log (default: [eventlog] path of --config, else
    /// /var/lib/dha/events.log)
    #[arg(long, value_name = "FILE")]
    log: Option<PathBuf>,
    /// A dha.toml whose [eventlog] path is the default log
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The initial key file (`dha log keygen`)
    #[arg(long, value_name = "KEYFILE")]
    key: PathBuf,
    /// The last record's head kept elsewhere, `SEQ:SHA256` (detects a cut log)
    #[arg(long, value_name = "HEAD", value_parser = parse_head)]
    head: Option<Head>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

fn parse_head(s: &str) -> Result<Head, String> {
    s.parse()
}

/// Runs `dha log` and returns the exit status; a failure is one line on
/// standard error.
pub fn run(args: &LogArgs) -> u8 {
    let result = match &args.action {
        Action::Keygen(a) => keygen(a),
        Action::Init(a) => init(a),
        Action::Show(a) => show(a),
        Action::Verify(a) => verify_log(a),
    };
    match result {
        Ok(status) => status,
        Err(message) => {
            say(&message);
            EXIT_ERROR
        }
    }
}

fn say(message: &str) {
    let line = message.replace(['\n', '\r'], " ");
    let _ = writeln!(io::stderr().lock(), "dha: log: {}", term::clean(&line));
}

fn shown(p: &Path) -> String {
    term::clean(&p.display().to_string()).into_owned()
}

fn write_stdout(text: &str) -> Result<(), String> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write to standard output: {e}"))
}

fn keygen(args: &KeygenArgs) -> Result<u8, String> {
    let key = InitialKey::generate().map_err(|e| e.to_string())?;
    key.write(&args.keyfile).map_err(|e| e.to_string())?;
    write_stdout(&format!(
        "{}: new initial event-log key (mode 0600); keep a copy away from the device\n",
        shown(&args.keyfile)
    ))?;
    Ok(EXIT_OK)
}

/// The configuration of `--config`, or the defaults.
fn config_of(path: Option<&PathBuf>) -> Result<Config, String> {
    match path {
        Some(p) => Config::load(p).map_err(|e| format!("configuration: {e}")),
        None => Ok(Config::default()),
    }
}

/// `--log`, else `[eventlog] path` of `--config`, else the default.
fn log_path(log: Option<&PathBuf>, config: Option<&PathBuf>) -> Result<PathBuf, String> {
    match log {
        Some(l) => Ok(l.clone()),
        None => Ok(config_of(config)?.eventlog.path),
    }
}

fn init(args: &InitArgs) -> Result<u8, String> {
    let config = config_of(args.config.as_ref())?;
    let key = InitialKey::read(&args.key).map_err(|e| e.to_string())?;
    let p = &config.eventlog;
    EventLog::create(&p.path, &p.key, &key, dha_linux::system_stamps())
        .map_err(|e| e.to_string())?;
    write_stdout(&format!(
        "{}: new event log (key file {}, mode 0600); verify it with `dha log verify --log {} \
         --key {}`\n",
        shown(&p.path),
        shown(&p.key),
        shown(&p.path),
        shown(&args.key)
    ))?;
    Ok(EXIT_OK)
}

fn record_json(r: &Record) -> Value {
    json!({
        "seq": r.seq,
        "boot_id": r.boot_id.to_string(),
        "time": r.wall_time().map(rfc3339),
        "monotonic_ns": r.mono_nanos,
        "severity": r.severity.as_str(),
        "kind": r.kind,
        "payload": r.payload,
    })
}

fn show(args: &ShowArgs) -> Result<u8, String> {
    let log = log_path(args.log.as_ref(), args.config.as_ref())?;
    let file = File::open(&log).map_err(|e| format!("{}: {e}", shown(&log)))?;
    let mut records = Vec::new();
    let mut problem = None;
    match Reader::new(BufReader::new(file)) {
        Ok(mut reader) => loop {
            match reader.next_record() {
                Ok(Some(r)) => records.push(r.record),
                Ok(None) => break,
                Err(ReadError::Io(e)) => return Err(format!("{}: {e}", shown(&log))),
                Err(e) => {
                    problem = Some(e.to_string());
                    break;
                }
            }
        },
        Err(ReadError::Io(e)) => return Err(format!("{}: {e}", shown(&log))),
        Err(e) => problem = Some(e.to_string()),
    }
    match args.format {
        Format::Json => {
            let doc = json!({
                "schema_version": SCHEMA_VERSION,
                "log": log.display().to_string(),
                "verified": false,
                "records": records.iter().map(record_json).collect::<Vec<_>>(),
                "problem": problem,
            });
            let text = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?;
            write_stdout(&(text + "\n"))?;
        }
        Format::Table => {
            let mut text = String::new();
            for r in &records {
                let time = r.wall_time().map_or_else(|| "-".to_owned(), rfc3339);
                let payload = serde_json::to_string(&r.payload).unwrap_or_default();
                text.push_str(&format!(
                    "{:>6}  {time}  {:<8}  {:<20}  {}\n",
                    r.seq,
                    r.severity.as_str(),
                    term::clean(&r.kind),
                    term::clean(&payload)
                ));
            }
            write_stdout(&text)?;
        }
    }
    match problem {
        Some(p) => {
            say(&format!("{}: {p}", shown(&log)));
            Ok(EXIT_TAMPERED)
        }
        None => Ok(EXIT_OK),
    }
}

fn verify_log(args: &VerifyArgs) -> Result<u8, String> {
    let log = log_path(args.log.as_ref(), args.config.as_ref())?;
    let key = InitialKey::read(&args.key).map_err(|e| e.to_string())?;
    let report = verify(&log, &key, args.head.as_ref()).map_err(|e| e.to_string())?;
    let head = report.head.map(|h| h.to_string());
    match args.format {
        Format::Json => {
            let doc = json!({
                "schema_version": SCHEMA_VERSION,
                "log": log.display().to_string(),
                "verified": report.is_ok(),
                "records": report.records,
                "head": head,
                "problem": report.problem.as_ref().map(|p| json!({
                    "index": p.index(),
                    "message": p.to_string(),
                })),
            });
            let text = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?;
            write_stdout(&(text + "\n"))?;
        }
        Format::Table => {
            let line = match &report.problem {
                None => format!(
                    "{}: intact, {} records verified; head {}\n",
                    shown(&log),
                    report.records,
                    head.as_deref().unwrap_or("none (empty log)")
                ),
                Some(p) => format!(
                    "{}: TAMPERED: {p} ({} records verified before it)\n",
                    shown(&log),
                    report.records
                ),
            };
            write_stdout(&line)?;
        }
    }
    Ok(if report.is_ok() {
        EXIT_OK
    } else {
        EXIT_TAMPERED
    })
}
