//! `dha install`: write a TUF-verified update into the inactive slot and
//! switch the boot order to it (issue 5), a thin shell over
//! [`dha_core::install::Installer`].
//!
//! ```text
//! dha install TARGET_FILE --metadata-dir DIR --target-name NAME \
//!     [--metadata-url DIR] [--config FILE] [--boot-env FILE]
//! ```
//!
//! The file is never trusted on its own: the target's length, SHA-256 and
//! release counter come from the trusted metadata store (`--metadata-dir`,
//! where `dha update` stored the metadata it verified), re-verified without
//! network ([`Updater::load_from_store`]: signatures against the trusted
//! root, versions, hashes, expiry). With `--metadata-url` (a local
//! directory such as removable media) one TUF update cycle is run against
//! it first. The installer re-hashes the file while it streams it into the
//! slot and reads the slot back.
//!
//! The slots, journal, floor and hooks come from the `[install]` section of
//! `--config`, the boot loader from its `[boot]` section; `--boot-env FILE`
//! overrides it with the file-backed boot control of test rigs
//! (`BOOT_ORDER=`, `BOOT_x_LEFT=`, `BOOTED=` lines). With `--config`, the
//! outcome is recorded as an event (`update.installed`, or
//! `update.rejected` / `install.failed`) in the event log of `[eventlog]`
//! and dispatched by the recovery policy ([`crate::record`]).
//!
//! Exit status: 0 installed and switched; 1 refused or failed (verification,
//! anti-rollback, a hook's veto, an I/O error), with one line on standard
//! error; 2 a usage error or unusable arguments.

use std::io::Write as _;
use std::path::PathBuf;

use clap::Args;
use dha_core::Severity;
use dha_core::boot::BootControl;
use dha_core::events::{Event, EventKind};
use dha_core::install::{InstallError, InstallTarget, Installer, Recovery};
use dha_core::tuf::TufError;
use dha_core::tuf::client::Updater;
use dha_core::tuf::transport::LocalDirTransport;
use dha_core::{Config, SystemClock};
use dha_linux::boot::FileBootControl;

use crate::{record, term};

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

    /// The repository's metadata directory the target came from: one TUF
    /// update cycle is run against it first (without it, the metadata
    /// already in --metadata-dir is re-verified and used, offline)
    #[arg(long, value_name = "DIR")]
    metadata_url: Option<PathBuf>,

    /// The target's name in the repository
    #[arg(long, value_name = "NAME")]
    target_name: String,

    /// A dha.toml whose [install] section names the slots, journal, floor
    /// and hooks, [boot] the boot loader ([update] the hardware id and
    /// limits; [eventlog] and [recovery] where the outcome is recorded)
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// The boot environment file of a test rig (file-backed boot control),
    /// instead of [boot] of --config
    #[arg(long, value_name = "FILE")]
    boot_env: Option<PathBuf>,
}

/// Runs `dha install`; returns the exit status.
pub fn run(args: &InstallArgs) -> u8 {
    let config = match &args.config {
        Some(path) => match Config::load(path) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("dha: install: {}", term::clean(&e.to_string()));
                return EXIT_USAGE;
            }
        },
        None => Config::default(),
    };
    let mut events = Vec::new();
    let status = match install(args, &config, &mut events) {
        Ok(()) => EXIT_OK,
        Err((status, message)) => {
            eprintln!("dha: install: {}", term::clean(&message));
            status
        }
    };
    if args.config.is_some() {
        record::record(&config, events);
    }
    status
}

/// What ends a run: the exit status and one line.
type Failure = (u8, String);

fn install(args: &InstallArgs, config: &Config, events: &mut Vec<Event>) -> Result<(), Failure> {
    let usage = |m: String| (EXIT_USAGE, m);
    let failed = |m: String| (EXIT_FAILED, m);
    let boot: Box<dyn BootControl> = match &args.boot_env {
        Some(file) => Box::new(FileBootControl::new(file)),
        None => dha_linux::boot::from_config(&config.boot).map_err(|e| {
            usage(format!(
                "{e}{}",
                if args.config.is_none() {
                    " (give --config FILE, or --boot-env FILE on a test rig)"
                } else {
                    ""
                }
            ))
        })?,
    };
    let dirs = std::iter::once(("--metadata-dir", &args.metadata_dir))
        .chain(args.metadata_url.iter().map(|d| ("--metadata-url", d)));
    for (option, dir) in dirs {
        if !dir.is_dir() {
            return Err(usage(format!(
                "{option} {}: not an existing directory",
                dir.display()
            )));
        }
    }
    // The target's verified description.
    let clock = SystemClock;
    let made = match &args.metadata_url {
        Some(url) => {
            let metadata = LocalDirTransport::new(url).map_err(|e| usage(e.to_string()))?;
            Updater::new(
                &args.metadata_dir,
                Box::new(metadata),
                Box::new(NoTargets),
                config.update.limits(),
                &clock,
                config.update.hardware_id.clone(),
            )
        }
        None => Updater::offline(
            &args.metadata_dir,
            config.update.limits(),
            &clock,
            config.update.hardware_id.clone(),
        ),
    };
    let mut updater = made.map_err(|e| match e {
        TufError::NoTrustedRoot { .. } | TufError::Io { .. } => usage(e.to_string()),
        other => failed(other.to_string()),
    })?;
    let info = updater.get_target_info(&args.target_name).map_err(|e| {
        events.push(rejected(&args.target_name, &e.to_string()));
        failed(e.to_string())
    })?;
    let target =
        InstallTarget::from_verified(&info).map_err(|e| note(events, &e, &args.target_name))?;

    let (installer, recovery) = Installer::open(&config.install, boot.as_ref())
        .map_err(|e| note(events, &e, &args.target_name))?;
    if recovery != Recovery::Clean {
        log::warn!("an interrupted install was settled: {recovery:?}");
    }
    let report = installer
        .install(&target, &args.target_file, None)
        .map_err(|e| note(events, &e, &args.target_name))?;
    events.push(report.event());
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

/// `update.rejected` (high) for a target the TUF client refused: `target`,
/// `reason` (`verification`) and `error`.
fn rejected(target: &str, error: &str) -> Event {
    Event::new(EventKind::UpdateRejected, Severity::High)
        .with("target", target)
        .with("reason", "verification")
        .with("error", error)
}

/// Records the failure's event (`update.rejected` or `install.failed`)
/// and classifies it.
fn note(events: &mut Vec<Event>, e: &InstallError, target: &str) -> Failure {
    events.push(e.event(target));
    classify(e)
}

/// Exit 2 for what the arguments or configuration make impossible, 1 for
/// the rest.
fn classify(e: &InstallError) -> Failure {
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
