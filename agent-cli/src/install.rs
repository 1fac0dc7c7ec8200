//! `dha install`: write a TUF-verified update into the inactive slot and
//! switch the boot order to it (issue 5), a thin shell over
//! [`dha_core::install::Installer`].
//!
//! ```text
//! dha install TARGET_FILE --metadata-dir DIR --metadata-url DIR --target-name NAME \
//!     [--config FILE] [--boot-env FILE]
//! ```
//!
//! The file is never trusted on its own: the target's length, SHA-256 and
//! release counter come from the trusted metadata store (`--metadata-dir`,
//! seeded by `dha update init`) after one TUF update cycle against the
//! repository's metadata (`--metadata-url`, a local directory such as
//! removable media). The client has no way yet to look a target up in the
//! trusted store without a refresh, so the metadata location is required.
//! The installer re-hashes the file while it streams it into the slot and
//! reads the slot back.
//!
//! The slots, journal, floor and hooks come from the `[install]` section of
//! `--config`. The boot loader: `--boot-env FILE`, the file-backed boot
//! control of test rigs (`BOOT_ORDER=`, `BOOT_x_LEFT=`, `BOOTED=` lines).
//! U-Boot and GRUB are not selectable here yet.
//!
//! Exit status: 0 installed and switched; 1 refused or failed (verification,
//! anti-rollback, a hook's veto, an I/O error), with one line on standard
//! error; 2 a usage error or unusable arguments.

use std::io::Write as _;
use std::path::PathBuf;

use clap::Args;
use dha_core::install::{InstallError, InstallTarget, Installer, Recovery};
use dha_core::tuf::TufError;
use dha_core::tuf::client::Updater;
use dha_core::tuf::transport::LocalDirTransport;
use dha_core::{Config, SystemClock};
use dha_linux::boot::FileBootControl;

use crate::term;

/// Exit status: installed and switched.
pub const EXIT_OK: u8 = 0;
/// Exit status: refused or failed.
pub const EXIT_FAILED: u8 = 1;
/// Exit status: usage error or unusable arguments.
pub const EXIT_USAGE: u8 = 2;

/// `dha install`.
#[derive(Debug, Args)]
pub struct InstallArgs {
    /// The target's file, as `dha update download` wrote it
    #[arg(value_name = "TARGET_FILE")]
    target_file: PathBuf,

    /// The trusted metadata store of this device (seeded by `dha update init`)
    #[arg(long, value_name = "DIR")]
    metadata_dir: PathBuf,

    /// The repository's metadata directory the target came from (one TUF
    /// update cycle is run against it to find the target's verified length,
    /// hashes and release counter)
    #[arg(long, value_name = "DIR")]
    metadata_url: PathBuf,

    /// The target's name in the repository
    #[arg(long, value_name = "NAME")]
    target_name: String,

    /// A dha.toml whose [install] section names the slots, journal, floor
    /// and hooks (and [update] the hardware id and limits)
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// The boot environment file of a test rig (file-backed boot control)
    #[arg(long, value_name = "FILE")]
    boot_env: Option<PathBuf>,
}

/// Runs `dha install`; returns the exit status.
pub fn run(args: &InstallArgs) -> u8 {
    match install(args) {
        Ok(()) => EXIT_OK,
        Err((status, message)) => {
            eprintln!("dha: install: {}", term::clean(&message));
            status
        }
    }
}

fn install(args: &InstallArgs) -> Result<(), (u8, String)> {
    let usage = |m: String| (EXIT_USAGE, m);
    let failed = |m: String| (EXIT_FAILED, m);
    let config = match &args.config {
        Some(path) => Config::load(path).map_err(|e| usage(e.to_string()))?,
        None => Config::default(),
    };
    let boot_env = args.boot_env.as_ref().ok_or_else(|| {
        usage("needs --boot-env FILE (U-Boot and GRUB are not selectable yet)".to_owned())
    })?;
    for (option, dir) in [
        ("--metadata-dir", &args.metadata_dir),
        ("--metadata-url", &args.metadata_url),
    ] {
        if !dir.is_dir() {
            return Err(usage(format!(
                "{option} {}: not an existing directory",
                dir.display()
            )));
        }
    }
    // The target's verified description.
    let clock = SystemClock;
    let metadata = LocalDirTransport::new(&args.metadata_url).map_err(|e| usage(e.to_string()))?;
    let mut updater = Updater::new(
        &args.metadata_dir,
        Box::new(metadata),
        Box::new(NoTargets),
        config.update.limits(),
        &clock,
        config.update.hardware_id.clone(),
    )
    .map_err(|e| match e {
        TufError::NoTrustedRoot { .. } | TufError::Io { .. } => usage(e.to_string()),
        other => failed(other.to_string()),
    })?;
    let info = updater
        .get_target_info(&args.target_name)
        .map_err(|e| failed(e.to_string()))?;
    let target = InstallTarget::from_verified(&info).map_err(|e| failed(e.to_string()))?;

    let boot = FileBootControl::new(boot_env);
    let (installer, recovery) =
        Installer::open(&config.install, &boot).map_err(|e| classify(&e))?;
    if recovery != Recovery::Clean {
        log::warn!("an interrupted install was settled: {recovery:?}");
    }
    let report = installer
        .install(&target, &args.target_file, None)
        .map_err(|e| classify(&e))?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "installed {} (release {}, {} bytes) into slot {}; next boot: {} (running: {})",
        term::clean(target.name()),
        target.release_counter(),
        report.bytes,
        report.slot,
        report.slot,
        report.booted
    )
    .and_then(|()| out.flush())
    .map_err(|e| usage(format!("cannot write to standard output: {e}")))
}

/// Exit 2 for what the arguments or configuration make impossible, 1 for
/// the rest.
fn classify(e: &InstallError) -> (u8, String) {
    let status = match e {
        InstallError::Config { .. } => EXIT_USAGE,
        _ => EXIT_FAILED,
    };
    (status, e.to_string())
}

/// The install never downloads a target: it is given the file.
struct NoTargets;

impl dha_core::tuf::transport::Transport for NoTargets {
    fn fetch(&self, path: &str, _max_len: u64) -> Result<Box<dyn std::io::Read + '_>, TufError> {
        Err(TufError::NotFound {
            path: path.to_owned(),
        })
    }
}
