//! `dha evidence`: the disclosure evidence (MDS2 2019, IEC 62443-4-2) of a
//! device, measured by an audit and rendered as JSON, Markdown or one
//! self-contained HTML page.
//!
//! The audit is the one `dha audit` runs (the same configuration, root and
//! live host facts when the root is `/`); `dha_core::evidence` derives the
//! answers from the catalogue and renders them.
//!
//! Exit status: 0 the evidence was written (whatever its answers: it is a
//! disclosure, not a gate; use `dha audit --fail-on` for that); 2 a usage
//! error, an unreadable root or configuration, no check could run against
//! the root, or the output could not be written.

use crate::term;
use clap::{Args, ValueEnum};
use dha_core::{Auditor, Config, EvidenceReport, Root, SystemClock};
use dha_linux::LinuxHost;
use std::io::{self, Write as _};
use std::path::PathBuf;

/// Exit status: the evidence was written.
const EXIT_OK: u8 = 0;
/// Exit status: usage, root, configuration or output error.
const EXIT_ERROR: u8 = 2;

const AFTER_HELP: &str = "\
Each MDS2 (2019) section an on-device agent can measure, and each IEC 62443-4-2
requirement the checks map to (`dha checks`), gets an answer with the checks and the
findings that support it and the time they were measured:
  yes             at least one mapped check ran and none found anything above info
                  (coverage \"partial\" when some mapped check could not run)
  no              a mapped check reported a finding above info
  not applicable  every mapped check found what it audits absent from the device
  not measurable  no mapped check could run (live-only checks on an image, disabled
                  checks), or no check maps to it

Examples:
  dha evidence --format html --output evidence.html        this machine (run as root)
  dha evidence --root /mnt/ct-image --format json > evidence.json
  dha evidence --root /mnt/ct-image --config dha.toml --format md --output EVIDENCE.md

The HTML page is one file with no script and no external resource: it can be mailed,
archived and printed.

Exit status:
  0  the evidence was written (whatever the answers; `dha audit --fail-on` gates)
  2  usage error; the root or the configuration could not be read; no check could run
     against the root; the output could not be written";

/// `dha evidence` arguments.
#[derive(Debug, Args)]
#[command(after_long_help = AFTER_HELP)]
pub struct EvidenceArgs {
    /// The root to audit: `/` for this machine, or a directory holding an
    /// extracted device image
    #[arg(long, value_name = "DIR", default_value = "/")]
    root: PathBuf,

    /// A dha.toml configuration (without it: the built-in safe defaults)
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Output format
    #[arg(long, value_enum)]
    format: EvidenceFormat,

    /// Write to FILE (replaced atomically) instead of standard output
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// How the evidence is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EvidenceFormat {
    /// JSON with a `schema_version`, for a machine
    Json,
    /// One self-contained HTML page, for a person and for print
    Html,
    /// Markdown (CommonMark with tables)
    Md,
}

fn fail(message: &str) -> u8 {
    let _ = writeln!(io::stderr().lock(), "dha: error: {}", term::clean(message));
    EXIT_ERROR
}

/// Runs `dha evidence`; returns the exit status.
pub fn run(args: &EvidenceArgs, quiet: bool) -> u8 {
    let config = match &args.config {
        Some(path) => match Config::load(path) {
            Ok(c) => c,
            Err(e) => return fail(&format!("configuration: {e}")),
        },
        None => Config::default(),
    };
    let root = match Root::with_limits(&args.root, config.read_limits()) {
        Ok(r) => r,
        Err(e) => return fail(&format!("cannot audit: {e}")),
    };
    let host = LinuxHost;
    if root.is_live() && !host.is_privileged() && !quiet {
        let _ = writeln!(
            io::stderr().lock(),
            "dha: note: not running as root: files that only root may read cannot be \
             audited; the evidence counts them under warnings"
        );
    }
    // The live probe is used only when the root is the live `/`.
    let report = Auditor::new(&config, &SystemClock)
        .with_host(&host)
        .run(&root);
    // The same rule as `dha audit`: evidence of a directory that holds no
    // device (a mistyped image path) would answer "not applicable" everywhere.
    if !report.audited_a_device() {
        return fail(&format!(
            "nothing audited at {}: no check could run there, or it holds neither an account \
             database (/etc/passwd) nor an os-release; is it a device's root directory?",
            root.dir().display()
        ));
    }
    let evidence = EvidenceReport::from_report(&report);
    log::info!(
        "evidence of {}: MDS2 {} yes, {} no; IEC 62443-4-2 {} yes, {} no",
        report.root,
        evidence.summary.mds2.yes,
        evidence.summary.mds2.no,
        evidence.summary.iec62443.yes,
        evidence.summary.iec62443.no
    );
    let text = match args.format {
        EvidenceFormat::Json => evidence.to_json() + "\n",
        EvidenceFormat::Html => evidence.to_html(),
        EvidenceFormat::Md => evidence.to_markdown(),
    };
    let written = match &args.output {
        Some(path) => dha_core::write_atomic(path, text.as_bytes(), Some(0o644))
            .map_err(|e| format!("cannot write {}: {e}", path.display())),
        None => {
            let mut out = io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|()| out.flush())
                .map_err(|e| format!("cannot write the evidence: {e}"))
        }
    };
    match written {
        Ok(()) => EXIT_OK,
        Err(e) => fail(&e),
    }
}
