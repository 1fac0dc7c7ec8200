//! `dha update`: the device side of signed updates (issue 3, "Command line –
//! Client"), a thin shell over [`dha_core::tuf::client::Updater`].
//!
//! - `dha update init --metadata-dir DIR ROOT_JSON` seeds the trusted
//!   metadata store with the root the device ships (TUF 1.0.34 §5.2).
//! - `dha update refresh --metadata-url URL --metadata-dir DIR` runs one
//!   update cycle (§5.1 to §5.6).
//! - `dha update download … --target-name NAME [--target-name NAME …]`
//!   refreshes, then looks up, checks and downloads each named target in
//!   order with one updater (§5.6.7, §5.7), stopping at the first failure.
//!
//! The options are global to `dha update`, so they may come in any order,
//! before or after the action's name; each action then checks it has what
//! it needs and refuses options it would ignore (a mistyped command line
//! should not look like a success). Only `--target-name`, which repeats,
//! belongs to `download` itself: clap lets a global option given after the
//! action replace the values given before it, which would silently drop
//! targets.
//!
//! Exit status: 0 full success; 1 a verification or download failure, with
//! a one-line reason on standard error (`dha: update: snapshot: version 1 is
//! below the trusted version 2`); 2 a usage error or unusable arguments (a
//! missing directory, an unreadable CA bundle, an uninitialised store).
//!
//! Repository URLs: `file:///path` or a plain path (removable media:
//! [`LocalDirTransport`]), `https://` ([`HttpsTransport`] trusting only
//! `--ca-bundle`), `http://` only with `--allow-insecure-http` (test rigs).
//!
//! `--config FILE` reads the `[update]` section of a `dha.toml` (the device's
//! hardware id, the TUF limits, the CA bundle, timeouts, plain HTTP); the
//! command line's options override it. Expiry is always judged by the
//! system clock (TUF 1.0.34 §5.1): there is no option to move it.
//!
//! While a target downloads and standard error is a terminal, a one-line
//! progress bar is drawn there (hand-rolled, see [`Bar`]), fed by the
//! client's progress reports.

use std::fmt;
use std::io::{self, IsTerminal as _, Read, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use dha_core::config::UpdatePolicy;
use dha_core::tuf::TufError;
use dha_core::tuf::client::Updater;
use dha_core::tuf::https::{CaBundle, HttpsTransport};
use dha_core::tuf::transport::{LocalDirTransport, Transport};
use dha_core::{Clock, Config, SystemClock};

use crate::term;

/// Exit status: every step succeeded.
pub const EXIT_OK: u8 = 0;
/// Exit status: a verification or download failure.
pub const EXIT_FAILED: u8 = 1;
/// Exit status: a usage error or unusable arguments (clap uses 2 as well).
pub const EXIT_USAGE: u8 = 2;

const UPDATE_LONG_ABOUT: &str = "\
Verify and download signed updates (The Update Framework, TUF 1.0.34).

The options may come in any order, before or after the action (init, refresh, download).

Repository URLs (--metadata-url, --target-base-url):
  /media/usb/metadata or file:///media/usb/metadata   a local directory (removable media)
  https://updates.example/metadata                    HTTPS, trusting only --ca-bundle
  http://10.0.0.5:8000/metadata                       only with --allow-insecure-http (test rigs)

--config FILE reads the [update] section of a dha.toml (hardware_id, limits, ca_bundle,
timeouts, allow_plain_http; see dha.example.toml); options given here override it.
Expiry is judged by the system clock.";

const UPDATE_AFTER_HELP: &str = "\
Examples:
  dha update init --metadata-dir /var/lib/dha/tuf /usr/share/dha/root.json
  dha update refresh --metadata-dir /var/lib/dha/tuf --metadata-url /media/usb/metadata
  dha update download --metadata-dir /var/lib/dha/tuf --metadata-url /media/usb/metadata \\
      --target-base-url /media/usb/targets --target-dir /var/lib/dha/incoming \\
      --target-name firmware/ct.bin

Exit status:
  0  every step succeeded
  1  a verification or download failure; the reason is one line on standard error
  2  usage error or unusable arguments (a missing directory, an unreadable CA bundle,
     a store that was never initialised)";

/// `dha update`: its options (global to its actions) and the action.
#[derive(Debug, Args)]
#[command(long_about = UPDATE_LONG_ABOUT, after_long_help = UPDATE_AFTER_HELP)]
pub struct UpdateArgs {
    #[command(flatten)]
    options: UpdateOptions,

    #[command(subcommand)]
    action: Action,
}

/// The options of every action; which one needs which is checked by
/// [`Plan::from_args`].
#[derive(Debug, Args)]
struct UpdateOptions {
    /// The trusted metadata store of this device (created by `init`)
    #[arg(long, value_name = "DIR", global = true)]
    metadata_dir: Option<PathBuf>,

    /// Where the repository's metadata is: a directory, file:///DIR or https://…
    #[arg(long, value_name = "URL", global = true)]
    metadata_url: Option<String>,

    /// Where verified targets are written (must exist)
    #[arg(long, value_name = "DIR", global = true)]
    target_dir: Option<PathBuf>,

    /// Where the repository's targets are: a directory, file:///DIR or https://…
    #[arg(long, value_name = "URL", global = true)]
    target_base_url: Option<String>,

    /// The PEM CA certificates trusted for https:// URLs (the only roots
    /// trusted; required for https://)
    #[arg(long, value_name = "FILE", global = true)]
    ca_bundle: Option<PathBuf>,

    /// Accept plain http:// URLs (test rigs only: TUF still verifies every
    /// byte, but what the device fetches is visible on the network)
    #[arg(long, global = true)]
    allow_insecure_http: bool,

    /// This device's hardware id: a target whose custom `hardware_id` names
    /// other hardware is refused (wrong-software protection). Overrides
    /// [update] hardware_id of --config
    #[arg(long, value_name = "ID", global = true)]
    hardware_id: Option<String>,

    /// A dha.toml whose [update] section gives the hardware id, limits, CA
    /// bundle, timeouts and plain-HTTP switch (the options above override it)
    #[arg(long, value_name = "FILE", global = true)]
    config: Option<PathBuf>,
}

/// What `dha update` does.
#[derive(Debug, Subcommand)]
enum Action {
    /// Seed the trusted metadata store with the root this device ships
    /// (needs --metadata-dir)
    Init {
        /// The trusted root.json, obtained out of band (shipped with the device)
        #[arg(value_name = "ROOT_JSON")]
        root_json: PathBuf,
    },
    /// Run one update cycle: root, timestamp, snapshot and targets metadata
    /// (needs --metadata-url and --metadata-dir)
    Refresh,
    /// Refresh, then verify and download targets (needs --metadata-url,
    /// --metadata-dir, --target-dir and --target-base-url)
    Download {
        /// A target to download, as the targets metadata names it; repeat
        /// for several, handled in order (the first failure stops the rest).
        /// Not global like the other options: a name given before
        /// `download` would be silently replaced by those after it
        #[arg(long = "target-name", value_name = "NAME", required = true)]
        target_names: Vec<String>,
    },
}

/// A repository location, from a URL on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Location {
    /// A local directory.
    Dir(PathBuf),
    /// An `https://` or (test rigs) `http://` base URL.
    Web(String),
}

/// What `dha update` has to say when it stops early.
#[derive(Debug)]
enum UpdateError {
    /// The command line cannot be carried out (exit 2).
    Usage(String),
    /// A failure of TUF processing that the arguments make unusable rather
    /// than the repository (an unreachable directory, an uninitialised
    /// store, a bad CA bundle): exit 2.
    Unusable(TufError),
    /// A verification or download failure (exit 1).
    Failed(TufError),
}

impl UpdateError {
    fn exit_status(&self) -> u8 {
        match self {
            UpdateError::Usage(_) | UpdateError::Unusable(_) => EXIT_USAGE,
            UpdateError::Failed(_) => EXIT_FAILED,
        }
    }
}

impl fmt::Display for UpdateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UpdateError::Usage(m) => write!(f, "{m}"),
            UpdateError::Unusable(e) | UpdateError::Failed(e) => write!(f, "{e}"),
        }
    }
}

/// Runs `dha update` and returns the exit status; a failure is reported as
/// one line on standard error.
pub fn run(args: &UpdateArgs) -> u8 {
    match run_action(args) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            if let UpdateError::Failed(_) = &e {
                crate::record::record_configured(
                    args.options.config.as_deref(),
                    vec![rejected(args, &e)],
                );
            }
            // One line, whatever the error carries (names come from the
            // repository's metadata and may hold control characters).
            let line = e.to_string().replace(['\n', '\r'], " ");
            let _ = writeln!(io::stderr().lock(), "dha: update: {}", term::clean(&line));
            e.exit_status()
        }
    }
}

/// The `update.rejected` event of a refused update (severity high: a
/// refusal can be an attack): `action`, `reason`, and the `targets` asked for.
fn rejected(args: &UpdateArgs, e: &UpdateError) -> dha_core::events::Event {
    let (action, targets) = match &args.action {
        Action::Init { .. } => ("init", &[][..]),
        Action::Refresh => ("refresh", &[][..]),
        Action::Download { target_names } => ("download", target_names.as_slice()),
    };
    dha_core::events::Event::new(
        dha_core::events::EventKind::UpdateRejected,
        dha_core::Severity::High,
    )
    .with("action", action)
    .with("reason", e.to_string())
    .with("targets", targets.to_vec())
}

fn usage(message: impl Into<String>) -> UpdateError {
    UpdateError::Usage(message.into())
}

/// Refuses the options an action would ignore.
fn refuse_unused(action: &str, unused: &[(&str, bool)]) -> Result<(), UpdateError> {
    match unused.iter().find(|(_, given)| *given) {
        Some((name, _)) => Err(usage(format!("{action} does not take {name}"))),
        None => Ok(()),
    }
}

fn required<'a, T>(value: Option<&'a T>, action: &str, name: &str) -> Result<&'a T, UpdateError>
where
    T: ?Sized,
{
    value.ok_or_else(|| usage(format!("{action} needs {name}")))
}

/// The `[update]` section of `--config`, or the defaults.
fn policy(options: &UpdateOptions) -> Result<UpdatePolicy, UpdateError> {
    match &options.config {
        Some(path) => Config::load(path)
            .map(|c| c.update)
            .map_err(|e| usage(format!("configuration: {e}"))),
        None => Ok(UpdatePolicy::default()),
    }
}

fn run_action(args: &UpdateArgs) -> Result<(), UpdateError> {
    let o = &args.options;
    let policy = policy(o)?;
    match &args.action {
        Action::Init { root_json } => {
            refuse_unused(
                "init",
                &[
                    ("--metadata-url", o.metadata_url.is_some()),
                    ("--target-dir", o.target_dir.is_some()),
                    ("--target-base-url", o.target_base_url.is_some()),
                    ("--ca-bundle", o.ca_bundle.is_some()),
                    ("--allow-insecure-http", o.allow_insecure_http),
                    ("--hardware-id", o.hardware_id.is_some()),
                ],
            )?;
            let dir = required(o.metadata_dir.as_ref(), "init", "--metadata-dir DIR")?;
            init(dir, root_json, policy.max_root_bytes)
        }
        Action::Refresh => {
            refuse_unused(
                "refresh",
                &[
                    ("--target-dir", o.target_dir.is_some()),
                    ("--target-base-url", o.target_base_url.is_some()),
                    ("--hardware-id", o.hardware_id.is_some()),
                ],
            )?;
            let mut session = Session::open(o, &policy, "refresh", None, &SystemClock)?;
            session.refresh()
        }
        Action::Download { target_names } => {
            let target_dir = required(o.target_dir.as_ref(), "download", "--target-dir DIR")?;
            let base = required(
                o.target_base_url.as_deref(),
                "download",
                "--target-base-url URL",
            )?;
            if !target_dir.is_dir() {
                return Err(usage(format!(
                    "--target-dir {}: not an existing directory",
                    target_dir.display()
                )));
            }
            let mut session = Session::open(o, &policy, "download", Some(base), &SystemClock)?;
            session.refresh()?;
            for name in target_names {
                session.download(name, target_dir)?;
            }
            Ok(())
        }
    }
}

/// TUF 1.0.34 §5.2: seeds the store with a root of at most `max_root_bytes`.
/// A root file that cannot be read is a usage error; one that does not
/// verify is a failure.
fn init(dir: &Path, root_json: &Path, max_root_bytes: u64) -> Result<(), UpdateError> {
    let bytes = read_root(root_json, max_root_bytes)?;
    Updater::init(dir, &bytes).map_err(|e| match e {
        TufError::Io { .. } => UpdateError::Unusable(e),
        other => UpdateError::Failed(other),
    })?;
    log::info!("{}: trusts {}", dir.display(), root_json.display());
    Ok(())
}

/// Reads the shipped root, bounded like a downloaded one.
fn read_root(path: &Path, limit: u64) -> Result<Vec<u8>, UpdateError> {
    let unreadable = |e: io::Error| usage(format!("{}: {e}", path.display()));
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > limit {
        return Err(UpdateError::Failed(TufError::MetadataTooLarge {
            role: "root".to_owned(),
            limit,
        }));
    }
    Ok(bytes)
}

/// Parses a repository URL (see the module documentation).
fn parse_location(url: &str, option: &str) -> Result<Location, UpdateError> {
    if let Some(rest) = url.strip_prefix("file://") {
        if !rest.starts_with('/') {
            return Err(usage(format!(
                "{option} {url}: a file URL must be file:///absolute/path (no host)"
            )));
        }
        if rest.contains(['%', '?', '#']) {
            return Err(usage(format!(
                "{option} {url}: escapes, queries and fragments are not supported in file \
                 URLs; give the directory as a plain path"
            )));
        }
        return Ok(Location::Dir(PathBuf::from(rest)));
    }
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("https://") || lower.starts_with("http://") {
        return Ok(Location::Web(url.to_owned()));
    }
    if let Some((scheme, _)) = url.split_once("://") {
        return Err(usage(format!(
            "{option} {url}: unsupported scheme {scheme:?} (use a directory, file://, https:// \
             or, for test rigs, http://)"
        )));
    }
    if url.is_empty() {
        return Err(usage(format!("{option}: empty URL")));
    }
    Ok(Location::Dir(PathBuf::from(url)))
}

/// A transport for `url`, with the settings of `policy` overridden by the
/// command line's; a location that cannot be used is exit 2.
fn transport(
    url: &str,
    option: &str,
    options: &UpdateOptions,
    policy: &UpdatePolicy,
) -> Result<Box<dyn Transport>, UpdateError> {
    match parse_location(url, option)? {
        Location::Dir(dir) => {
            if !dir.is_dir() {
                return Err(usage(format!(
                    "{option} {}: not an existing directory",
                    dir.display()
                )));
            }
            let t = LocalDirTransport::new(&dir).map_err(UpdateError::Unusable)?;
            Ok(Box::new(t))
        }
        Location::Web(url) => {
            let insecure = url.to_ascii_lowercase().starts_with("http://");
            let allow_insecure = options.allow_insecure_http || policy.allow_plain_http;
            // --ca-bundle overrides [update] ca_bundle.
            let bundle = options
                .ca_bundle
                .clone()
                .or_else(|| policy.ca_bundle.clone());
            let config = match (bundle, insecure) {
                (_, true) if !allow_insecure => {
                    return Err(usage(format!(
                        "{option} {url}: plain http:// needs --allow-insecure-http or \
                         [update] allow_plain_http in --config (test rigs only)"
                    )));
                }
                (_, true) => {
                    let mut config = policy.https_config(&url, None);
                    config.ca_bundle = None;
                    config.allow_insecure_http = true;
                    config
                }
                (Some(bundle), false) => policy.https_config(&url, Some(CaBundle::PemFile(bundle))),
                (None, false) => {
                    return Err(usage(format!(
                        "{option} {url}: https:// needs --ca-bundle FILE or [update] ca_bundle \
                         in --config (no other roots are trusted)"
                    )));
                }
            };
            let t = HttpsTransport::new(&config).map_err(UpdateError::Unusable)?;
            Ok(Box::new(t))
        }
    }
}

/// A transport for `refresh`, which never fetches targets.
struct NoTargets;

impl Transport for NoTargets {
    fn fetch(&self, path: &str, _max_len: u64) -> Result<Box<dyn Read + '_>, TufError> {
        Err(TufError::NotFound {
            path: path.to_owned(),
        })
    }
}

/// One updater for the whole command, so several targets share one cycle.
struct Session<'c> {
    clock: &'c dyn Clock,
    updater: Updater<'c>,
    /// Whether to draw a progress bar while a target downloads.
    show_progress: bool,
}

impl<'c> Session<'c> {
    fn open(
        options: &UpdateOptions,
        policy: &UpdatePolicy,
        action: &str,
        target_base: Option<&str>,
        clock: &'c dyn Clock,
    ) -> Result<Self, UpdateError> {
        let dir = required(options.metadata_dir.as_ref(), action, "--metadata-dir DIR")?;
        let url = required(
            options.metadata_url.as_deref(),
            action,
            "--metadata-url URL",
        )?;
        if !dir.is_dir() {
            return Err(usage(format!(
                "--metadata-dir {}: not an existing directory (run `dha update init` first)",
                dir.display()
            )));
        }
        let metadata = transport(url, "--metadata-url", options, policy)?;
        let targets: Box<dyn Transport> = match target_base {
            None => Box::new(NoTargets),
            Some(base) => transport(base, "--target-base-url", options, policy)?,
        };
        // Drawn only on a terminal, and not under -q.
        let show_progress = io::stderr().is_terminal() && log::max_level() > log::LevelFilter::Off;
        let updater = Updater::new(
            dir,
            metadata,
            targets,
            policy.limits(),
            clock,
            // --hardware-id overrides [update] hardware_id.
            options
                .hardware_id
                .clone()
                .or_else(|| policy.hardware_id.clone()),
        )
        .map_err(|e| match e {
            TufError::NoTrustedRoot { .. } | TufError::Io { .. } => UpdateError::Unusable(e),
            other => UpdateError::Failed(other),
        })?;
        Ok(Session {
            clock,
            updater,
            show_progress,
        })
    }

    fn refresh(&mut self) -> Result<(), UpdateError> {
        let started = Instant::now();
        self.updater.refresh().map_err(UpdateError::Failed)?;
        log::info!(
            "refreshed at {} in {} ms",
            dha_core::clock::rfc3339(self.clock.now()),
            started.elapsed().as_millis()
        );
        Ok(())
    }

    /// §5.6.7 and §5.7 for one target; prints the verified file's path.
    fn download(&mut self, name: &str, target_dir: &Path) -> Result<(), UpdateError> {
        let info = self
            .updater
            .get_target_info(name)
            .map_err(UpdateError::Failed)?;
        let path = if self.show_progress {
            let mut bar = Bar::new(term::clean(name).into_owned(), info.length());
            self.updater
                .download_target_with_progress(&info, target_dir, &mut |done, _| bar.set(done))
        } else {
            self.updater.download_target(&info, target_dir)
        }
        .map_err(UpdateError::Failed)?;
        log::info!("{name}: {} bytes verified", info.length());
        let mut out = io::stdout().lock();
        writeln!(out, "{}", term::clean(&path.display().to_string()))
            .and_then(|()| out.flush())
            .map_err(|e| usage(format!("cannot write to standard output: {e}")))
    }
}

/// Nothing is drawn for downloads shorter than this.
const BAR_DELAY: Duration = Duration::from_millis(300);
/// The least time between two redraws.
const BAR_INTERVAL: Duration = Duration::from_millis(100);

/// A one-line progress bar on standard error, erased when dropped, moved
/// by the client's progress reports
/// (`Updater::download_target_with_progress`: about once per MiB received,
/// and once when the verified file is in place). The total is the length
/// the target's verified metadata lists (TUF 1.0.34 §5.7.3). Hand-rolled
/// rather than `indicatif`: one line, redrawn at most ten times a second,
/// is all a service engineer needs, and it keeps the dependency tree of a
/// security tool small (STYLE.md, sudo-rs: "few dependencies").
///
/// `dha integrity` draws the same bar for its scans ([`Bar::counting`]:
/// objects instead of bytes, the label updated with the MiB hashed).
pub(crate) struct Bar {
    label: String,
    total: u64,
    done: u64,
    /// `None`: bytes, shown in MiB; `Some(unit)`: a count of `unit`.
    count_unit: Option<&'static str>,
    started: Instant,
    last_draw: Option<Instant>,
}

impl Bar {
    pub(crate) fn new(label: String, total: u64) -> Self {
        Bar {
            label,
            total,
            done: 0,
            count_unit: None,
            started: Instant::now(),
            last_draw: None,
        }
    }

    /// A bar that counts `unit` (`objects`) out of `total`; a `total` of 0
    /// means unknown: the count is shown without a bar.
    pub(crate) fn counting(label: String, total: u64, unit: &'static str) -> Self {
        let mut bar = Bar::new(label, total);
        bar.count_unit = Some(unit);
        bar
    }

    /// Replaces the label (drawn at the next redraw).
    pub(crate) fn set_label(&mut self, label: String) {
        self.label = label;
    }

    /// `done` bytes of the target received so far (or `done` units counted).
    pub(crate) fn set(&mut self, done: u64) {
        self.done = done;
        let now = Instant::now();
        if now.duration_since(self.started) < BAR_DELAY {
            return;
        }
        if self
            .last_draw
            .is_some_and(|t| now.duration_since(t) < BAR_INTERVAL)
        {
            return;
        }
        self.last_draw = Some(now);
        let width =
            terminal_size::terminal_size_of(io::stderr()).map_or(80, |(w, _)| usize::from(w.0));
        let line = render_bar_of(&self.label, self.done, self.total, width, self.count_unit);
        let _ = write!(io::stderr().lock(), "\r{line}");
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        if self.last_draw.is_some() {
            // Erase the line so the next message starts clean.
            let _ = write!(io::stderr().lock(), "\r\x1b[2K");
        }
    }
}

/// `label [#####-----]  42%  12.3/29.0 MiB`, at most `width - 1` columns.
#[cfg(test)]
fn render_bar(label: &str, done: u64, total: u64, width: usize) -> String {
    render_bar_of(label, done, total, width, None)
}

/// As `render_bar`, or for a count of `unit`: `label [###--]  42%
/// 420/1000 objects`, or `label  420 objects` when the total is unknown (0).
fn render_bar_of(
    label: &str,
    done: u64,
    total: u64,
    width: usize,
    count_unit: Option<&str>,
) -> String {
    // In u128 so that no length can overflow; an empty target is complete.
    let percent = u128::from(done.min(total))
        .saturating_mul(100)
        .checked_div(u128::from(total))
        .unwrap_or(100);
    let mib = |b: u64| format!("{}.{}", b / (1 << 20), (b % (1 << 20)) * 10 / (1 << 20));
    let figures = match count_unit {
        None => format!("{percent:>3}%  {}/{} MiB", mib(done), mib(total)),
        Some(unit) if total == 0 => {
            let line = format!("{label}  {done} {unit}");
            return line.chars().take(width.saturating_sub(1)).collect();
        }
        Some(unit) => format!("{percent:>3}%  {done}/{total} {unit}"),
    };
    let budget = width.saturating_sub(1);
    let slots = budget
        .saturating_sub(figures.len())
        .saturating_sub(4)
        .min(40);
    let label_room = budget
        .saturating_sub(figures.len())
        .saturating_sub(slots)
        .saturating_sub(5);
    let label: String = label.chars().take(label_room).collect();
    let filled = usize::try_from(percent)
        .unwrap_or(100)
        .saturating_mul(slots)
        / 100;
    let bar = format!(
        "{}{}",
        "#".repeat(filled),
        "-".repeat(slots.saturating_sub(filled))
    );
    let line = format!("{label} [{bar}] {figures}");
    line.chars().take(budget).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        assert_eq!(
            parse_location("file:///media/usb/m", "--x").unwrap(),
            Location::Dir(PathBuf::from("/media/usb/m"))
        );
        assert_eq!(
            parse_location("relative/dir", "--x").unwrap(),
            Location::Dir(PathBuf::from("relative/dir"))
        );
        assert_eq!(
            parse_location("https://u.example/m", "--x").unwrap(),
            Location::Web("https://u.example/m".to_owned())
        );
        assert!(parse_location("file://host/m", "--x").is_err());
        assert!(parse_location("file:///a%20b", "--x").is_err());
        assert!(parse_location("ftp://u.example/m", "--x").is_err());
        assert!(parse_location("", "--x").is_err());
    }

    #[test]
    fn bar_fits_and_counts() {
        let line = render_bar("firmware/ct.bin", 5 << 20, 10 << 20, 80);
        assert!(line.chars().count() < 80, "{line}");
        assert!(line.contains(" 50%  5.0/10.0 MiB"), "{line}");
        assert!(line.contains("#####"), "{line}");
        let narrow = render_bar("a-very-long-target-name.bin", 1, 3, 20);
        assert!(narrow.chars().count() <= 19, "{narrow}");
        assert!(render_bar("x", 0, 0, 80).contains("100%"));
        assert!(render_bar("x", u64::MAX, 1, 80).contains("100%"));
        let counted = render_bar_of("scan", 5, 10, 80, Some("objects"));
        assert!(counted.contains(" 50%  5/10 objects"), "{counted}");
        assert_eq!(
            render_bar_of("scan", 7, 0, 80, Some("objects")),
            "scan  7 objects"
        );
    }
}
