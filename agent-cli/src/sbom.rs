//! `dha sbom`: the device's software bill of materials, a CycloneDX 1.5
//! JSON document (issue 6 "Evidence"; [`dha_core::sbom`]).
//!
//! Exit status: 0 the SBOM was written; 2 a usage error, an unreadable root
//! or configuration, a package database or install journal that cannot be
//! read (or is cut by a read limit), or an output that cannot be written.

use crate::term;
use clap::Args;
use dha_core::{Config, Root, SystemClock};
use dha_linux::LinuxHost;
use std::io::{self, Write as _};
use std::path::PathBuf;

/// Exit status: the SBOM was written.
const EXIT_OK: u8 = 0;
/// Exit status: no SBOM.
const EXIT_ERROR: u8 = 2;

/// The long help of `dha sbom`.
pub const LONG_ABOUT: &str = "\
Print the software bill of materials of a device, or of an extracted device image, as a \
CycloneDX 1.5 JSON document: the installed packages of the dpkg status database \
(/var/lib/dpkg/status: name, version, architecture, supplier, Package URL) and the images \
dha installed into a good A/B slot (the install journal of [install]: target, release \
counter, SHA-256), with the operating system (os-release) and the device (its host name).

The document is deterministic for a given device and time: components are sorted, and \
the serial number is derived from the content. Problems with single package entries are \
logged as warnings (-v); a database or journal that exists but cannot be read ends the \
run with status 2 rather than printing an SBOM that leaves software out.";

/// Examples and exit status of `dha sbom`.
pub const AFTER_HELP: &str = "\
Examples:
  dha sbom > device.cdx.json                       this machine
  dha sbom --root /mnt/ct-image --output image.cdx.json
  dha sbom --config /etc/dha/dha.toml              with the site's [install] journal path

Exit status:
  0  the SBOM was written
  2  usage error; the root or the configuration could not be read; the package database
     or the install journal exists but cannot be read, is malformed or is larger than a
     read limit; the output could not be written";

/// `dha sbom` arguments.
#[derive(Debug, Args)]
pub struct SbomArgs {
    /// The root: `/` for this machine, or a directory holding an extracted
    /// device image (read as if it were `/`)
    #[arg(long, value_name = "DIR", default_value = "/")]
    root: PathBuf,
    /// A dha.toml ([install] journal and [limits] apply); without it the defaults
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Write the SBOM to this file (replaced atomically) instead of standard output
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// Runs `dha sbom`; returns the exit status.
pub fn run(args: &SbomArgs) -> u8 {
    match sbom(args) {
        Ok(()) => EXIT_OK,
        Err(message) => {
            let _ = writeln!(io::stderr().lock(), "dha: error: {}", term::clean(&message));
            EXIT_ERROR
        }
    }
}

fn sbom(args: &SbomArgs) -> Result<(), String> {
    let config = match &args.config {
        Some(path) => Config::load(path).map_err(|e| format!("configuration: {e}"))?,
        None => Config::default(),
    };
    let root = Root::with_limits(&args.root, config.read_limits())
        .map_err(|e| format!("cannot read the root: {e}"))?;
    let host = LinuxHost;
    let sbom = dha_core::sbom::build(&root, &config, &SystemClock, Some(&host))
        .map_err(|e| format!("no SBOM: {e}"))?;
    for w in &sbom.warnings {
        log::warn!("{w}");
    }
    log::info!(
        "SBOM of {}: {} packages, {} installed targets",
        root.dir().display(),
        sbom.packages,
        sbom.targets
    );
    let text = sbom.to_json();
    match &args.output {
        Some(path) => dha_core::write_atomic(path, text.as_bytes(), Some(0o644))
            .map_err(|e| format!("cannot write {}: {e}", path.display())),
        None => {
            let mut out = io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|()| out.flush())
                .map_err(|e| format!("cannot write the SBOM: {e}"))
        }
    }
}
