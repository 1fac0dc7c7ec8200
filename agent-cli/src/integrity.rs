//! `dha integrity`: file integrity monitoring from the command line (issue
//! 4, "Command line and C ABI"; IEC 62443-4-2 CR 3.4), a thin shell over
//! [`dha_core::integrity::ops`].
//!
//! - `keygen [--type ed25519|hmac] KEYFILE` makes a sealing key: the private
//!   key in `KEYFILE` (mode 0600) and, for Ed25519, the public key in
//!   `KEYFILE.pub` (mode 0644; enough to check, not to seal). It never
//!   overwrites a file.
//! - `init [PATH…]` scans (full) and writes a sealed baseline; `check`
//!   compares (full, or `--quick`); `update` checks, then accepts the
//!   selected changes into a new sealed baseline; `verify-baseline` checks a
//!   baseline's seal and format without scanning.
//! - `init --store DIR` also fills a known-good store; `restore PATH…` puts
//!   files back from it as the verified baseline records them
//!   ([`KnownGoodStore::restore`]).
//! - `watch` reports each change as it happens (inotify,
//!   [`dha_linux::watch::watch`]): a line per change, or a JSON object per
//!   line (`"event"`: `ready`, `change`, `rescanned`, `problem`), until
//!   SIGINT or SIGTERM (through `signal-hook`, which sets a flag that the
//!   watcher looks at every 200 ms). It exits 1 if it reported a change,
//!   else 0.
//!
//! # Where the policy comes from
//!
//! - `--config FILE`: its `[integrity]` section (policy, baseline, key,
//!   threads); `--baseline` and `--key` override its locations.
//! - PATHs (test rigs, no configuration): one recursive rule per path (made
//!   absolute from the working directory) watching the default attribute
//!   set ([`AttrSet::default_set`]). The baseline records the digest of
//!   that policy.
//! - Neither (`check`, `update`): the policy is recognised from the verified
//!   baseline. A baseline made under the built-in default policy is checked
//!   with it; otherwise the baseline's top-level records (those whose parent
//!   directory is not recorded) are taken as the PATHs of a test-rig
//!   baseline, and used only if the digest of that policy is the one the
//!   baseline records. If neither matches, the check stops (exit 2) and asks
//!   for `--config` or the PATHs given to `init`.
//! - `init` with neither uses the built-in default policy.
//!
//! # Exit status
//!
//! 0: nothing changed, or the action succeeded. 1: something changed, or a
//! baseline was refused (unsealed, altered, truncated, sealed with another
//! key, not a baseline): a failed verification is a finding, as in `dha
//! update`. 2: a usage error, an unusable key or configuration, an I/O
//! error, a refused restore, or a check without changes that could not
//! examine every path (the report lists them; changes take precedence, so
//! such a check with changes exits 1). `init` records what it could of an
//! unreadable path, warns about it on standard error and exits 0; `update`
//! accepts nothing from a scan with problems. The reason of 1 (refused) and 2 is one line on
//! standard error (`dha: integrity: /var/lib/dha/b: baseline refused: …`).
//!
//! While a scan runs and standard error is a terminal, the progress bar of
//! `dha update` ([`Bar`]) shows the objects examined (out of the baseline's
//! count when there is one) and the MiB hashed.

use std::fmt;
use std::io::{self, IsTerminal as _, Write as _};
use std::os::unix::ffi::OsStrExt as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use clap::{Args, Subcommand, ValueEnum};
use dha_core::integrity::ops::{self, Context, Selection};
use dha_core::integrity::{
    AttrSet, Baseline, Change, CompiledPolicy, IntegrityError, IntegrityPolicy, KnownGoodStore,
    ScanMode, ScanProgress, SealKey, SealKind, VerifyKey, policy_digest_for_paths, read_baseline,
    render,
};
use dha_core::{Config, SystemClock};
use dha_linux::LinuxFsExtras;
use dha_linux::watch::{WatchEvent, WatchOptions};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::Format;
use crate::term;
use crate::update::Bar;

/// Exit status: nothing changed, or the action succeeded.
pub const EXIT_OK: u8 = 0;
/// Exit status: something changed, or a baseline was refused.
pub const EXIT_CHANGED: u8 = 1;
/// Exit status: usage, key, configuration or I/O error; an incomplete check.
pub const EXIT_ERROR: u8 = 2;

/// The version of the JSON that `update` and `verify-baseline` print (the
/// check report carries its own).
const SCHEMA_VERSION: u32 = 1;

const LONG_ABOUT: &str = "\
File integrity monitoring: make a sealed baseline of the protected files, then check the \
device against it (content hashes, type, permissions, owner, size, times, inode, links, \
symlink targets, extended attributes, ACLs, file capabilities, SELinux labels, chattr flags).

The policy comes from the [integrity] section of --config FILE (see dha.example.toml), or, \
for a test rig, from PATHs given to init (each watched recursively with every attribute). \
check and update without --config or PATHs recognise the policy from the baseline.";

const AFTER_HELP: &str = "\
Examples:
  dha integrity keygen /etc/dha/integrity.key        (also writes integrity.key.pub)
  dha integrity init --baseline /tmp/b --key /tmp/k /opt/app /etc/app
  dha integrity check --baseline /tmp/b --key /tmp/k.pub --quick --format json
  dha integrity update --baseline /tmp/b --key /tmp/k --path /etc/app/app.conf \\
      --accepted-by 'update fw-2.4.1'
  dha integrity check --config /etc/dha/dha.toml

Exit status:
  0  nothing changed, or the action succeeded
  1  something changed, or the baseline was refused (unsealed, altered, truncated, sealed
     with another key): the reason is one line on standard error
  2  usage error, unusable key or configuration, I/O error, or a check that found no change
     but could not examine every path (the report lists them)";

/// `dha integrity`: the action and its options.
#[derive(Debug, Args)]
#[command(long_about = LONG_ABOUT, after_long_help = AFTER_HELP)]
pub struct IntegrityArgs {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Make a sealing key: KEYFILE (private, mode 0600) and, for Ed25519,
    /// KEYFILE.pub (public); never overwrites a file
    Keygen(KeygenArgs),
    /// Scan everything the policy watches and write a sealed baseline
    Init(InitArgs),
    /// Compare the files with the baseline and report every change
    Check(CheckArgs),
    /// Check, then accept the selected changes (all without --path) into a
    /// new sealed baseline
    Update(UpdateArgs),
    /// Check a baseline's seal and format without scanning
    VerifyBaseline(VerifyArgs),
    /// Put files back from the known-good store, as the baseline records
    /// them (content, mode, owner, extended attributes, mtime)
    Restore(RestoreArgs),
    /// Watch the files (inotify) and report each change as it happens, until
    /// interrupted (SIGINT, SIGTERM)
    Watch(WatchArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum KeyType {
    /// An Ed25519 key pair: seal with the private key, check with KEYFILE.pub
    Ed25519,
    /// An HMAC-SHA-256 device key: the same secret seals and checks
    Hmac,
}

#[derive(Debug, Args)]
struct KeygenArgs {
    /// The kind of key
    #[arg(long = "type", value_enum, default_value_t = KeyType::Ed25519)]
    kind: KeyType,
    /// The new private key file (must not exist)
    #[arg(value_name = "KEYFILE")]
    keyfile: PathBuf,
}

/// Where the policy, the baseline and the key are.
#[derive(Debug, Args)]
struct Locations {
    /// A dha.toml whose [integrity] section gives the policy, the baseline
    /// and the key (without it and without PATHs: see `dha integrity --help`)
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The sealed baseline (overrides [integrity] baseline)
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// The key file (overrides [integrity] key): the private or HMAC key to
    /// seal; to check, the public key is enough
    #[arg(long, value_name = "KEYFILE")]
    key: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct InitArgs {
    #[command(flatten)]
    at: Locations,
    /// Also copy every protected file into this known-good store (for
    /// `restore`; overrides [integrity] store)
    #[arg(long, value_name = "DIR")]
    store: Option<PathBuf>,
    /// Watch these paths recursively with every attribute (test rigs; needs
    /// --baseline and --key, excludes --config)
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
}

#[derive(Debug, Args)]
struct CheckArgs {
    #[command(flatten)]
    at: Locations,
    /// Trust files whose size, mtime, ctime, inode and device are unchanged
    /// (rehash only the others)
    #[arg(long)]
    quick: bool,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// The PATHs given to init (test rigs; by default recognised from the
    /// baseline)
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
}

#[derive(Debug, Args)]
struct UpdateArgs {
    #[command(flatten)]
    at: Locations,
    /// Accept only the changes at or below this path (repeat for several;
    /// by default every change). A path with no change is an error
    #[arg(long = "path", value_name = "P")]
    paths: Vec<PathBuf>,
    /// Who or what accepts the changes (an operator, `update fw-2.4.1`),
    /// recorded with the acceptance
    #[arg(long, value_name = "WHO")]
    accepted_by: String,
    /// Check in quick mode before accepting
    #[arg(long)]
    quick: bool,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

#[derive(Debug, Args)]
struct VerifyArgs {
    /// The sealed baseline
    #[arg(long, value_name = "FILE")]
    baseline: PathBuf,
    /// The key that checks it (public, private or HMAC key file)
    #[arg(long, value_name = "KEYFILE")]
    key: PathBuf,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

#[derive(Debug, Args)]
struct RestoreArgs {
    #[command(flatten)]
    at: Locations,
    /// The known-good store made by `init --store` (overrides [integrity]
    /// store)
    #[arg(long, value_name = "DIR")]
    store: Option<PathBuf>,
    /// The files to put back (made absolute from the working directory);
    /// handled in order, the first failure stops the rest
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<PathBuf>,
}

#[derive(Debug, Args)]
struct WatchArgs {
    #[command(flatten)]
    at: Locations,
    /// How long events are collected, from the first one, before the
    /// touched paths are re-checked (milliseconds)
    #[arg(long, value_name = "MS", default_value_t = 200)]
    debounce_ms: u64,
    /// Output format: a line per change (table), or a JSON object per line
    /// (`event`: ready, change, rescanned or problem)
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// The PATHs given to init (test rigs; by default recognised from the
    /// baseline)
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
}

/// Why a run stops early.
#[derive(Debug)]
enum Failure {
    /// Usage, key, configuration or I/O error (exit 2).
    Error(String),
    /// The baseline was refused (exit 1).
    Refused(String),
}

impl Failure {
    fn exit_status(&self) -> u8 {
        match self {
            Failure::Error(_) => EXIT_ERROR,
            Failure::Refused(_) => EXIT_CHANGED,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Error(m) | Failure::Refused(m) => f.write_str(m),
        }
    }
}

impl From<IntegrityError> for Failure {
    fn from(e: IntegrityError) -> Self {
        match e {
            IntegrityError::BaselineSeal { .. } | IntegrityError::BaselineFormat { .. } => {
                Failure::Refused(e.to_string())
            }
            other => Failure::Error(other.to_string()),
        }
    }
}

fn error(message: impl Into<String>) -> Failure {
    Failure::Error(message.into())
}

/// Runs `dha integrity` and returns the exit status; a failure is one line
/// on standard error.
pub fn run(args: &IntegrityArgs) -> u8 {
    let result = match &args.action {
        Action::Keygen(a) => keygen(a),
        Action::Init(a) => init(a),
        Action::Check(a) => check(a),
        Action::Update(a) => update(a),
        Action::VerifyBaseline(a) => verify(a),
        Action::Restore(a) => restore(a),
        Action::Watch(a) => watch(a),
    };
    match result {
        Ok(status) => status,
        Err(e) => {
            say(&e.to_string());
            e.exit_status()
        }
    }
}

/// One line on standard error, safe for a terminal.
fn say(message: &str) {
    let line = message.replace(['\n', '\r'], " ");
    let _ = writeln!(
        io::stderr().lock(),
        "dha: integrity: {}",
        term::clean(&line)
    );
}

fn write_stdout(text: &str) -> Result<(), Failure> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| error(format!("cannot write to standard output: {e}")))
}

fn shown(path: &Path) -> String {
    render::escape_bytes(path.as_os_str().as_bytes())
}

fn keygen(args: &KeygenArgs) -> Result<u8, Failure> {
    let (kind, public) = match args.kind {
        KeyType::Ed25519 => {
            let mut name = args.keyfile.clone().into_os_string();
            name.push(".pub");
            (SealKind::Ed25519, Some(PathBuf::from(name)))
        }
        KeyType::Hmac => (SealKind::HmacSha256, None),
    };
    // Both names are checked before anything is written, so a refusal
    // leaves no half key pair behind (the writes refuse to overwrite too).
    for p in std::iter::once(&args.keyfile).chain(public.as_ref()) {
        if p.symlink_metadata().is_ok() {
            return Err(error(format!(
                "{}: already exists; refusing to overwrite a key file",
                shown(p)
            )));
        }
    }
    let key = SealKey::generate(kind)?;
    key.write(&args.keyfile)?;
    let mut line = format!(
        "{}: new {} sealing key (mode 0600), key id {}",
        shown(&args.keyfile),
        kind.name(),
        key.key_id()
    );
    if let Some(p) = &public {
        key.public().write(p)?;
        line.push_str(&format!("; public key in {}", shown(p)));
    }
    write_stdout(&(line + "\n"))?;
    Ok(EXIT_OK)
}

/// The policy and the files of one run.
struct Setup {
    policy: CompiledPolicy,
    digest: [u8; 32],
    threads: usize,
    baseline: PathBuf,
    key: PathBuf,
    /// The known-good store of the configuration.
    store: Option<PathBuf>,
    /// The baseline, when it was already read and verified (to recognise
    /// its policy): not read twice.
    verified: Option<Baseline>,
}

/// The `[integrity]` section of `--config`, if given.
fn configured(at: &Locations) -> Result<Option<IntegrityPolicy>, Failure> {
    match &at.config {
        Some(path) => Config::load(path)
            .map(|c| Some(c.integrity))
            .map_err(|e| error(format!("configuration: {e}"))),
        None => Ok(None),
    }
}

/// The baseline and key files: the options, else the policy's.
fn files_of(at: &Locations, policy: &IntegrityPolicy) -> (PathBuf, PathBuf) {
    (
        at.baseline
            .clone()
            .unwrap_or_else(|| policy.baseline.clone()),
        at.key.clone().unwrap_or_else(|| policy.key.clone()),
    )
}

fn from_policy(at: &Locations, p: &IntegrityPolicy) -> Result<Setup, Failure> {
    let (baseline, key) = files_of(at, p);
    Ok(Setup {
        policy: p.compile()?,
        digest: p.policy_digest()?,
        threads: p.threads,
        baseline,
        key,
        store: p.store.clone(),
        verified: None,
    })
}

/// The test-rig policy over `paths` (made absolute from the working
/// directory); needs `--baseline` and `--key`.
fn from_paths(at: &Locations, paths: &[PathBuf], action: &str) -> Result<Setup, Failure> {
    if at.config.is_some() {
        return Err(error(format!(
            "{action}: PATHs and --config exclude each other"
        )));
    }
    let (Some(baseline), Some(key)) = (&at.baseline, &at.key) else {
        return Err(error(format!(
            "{action} with PATHs needs --baseline FILE and --key KEYFILE"
        )));
    };
    let paths = paths
        .iter()
        .map(|p| std::path::absolute(p).map_err(|e| error(format!("{}: {e}", shown(p)))))
        .collect::<Result<Vec<_>, _>>()?;
    let attrs = AttrSet::default_set();
    Ok(Setup {
        policy: CompiledPolicy::for_paths(&paths, attrs)?,
        digest: policy_digest_for_paths(&paths, attrs)?,
        threads: 0,
        baseline: baseline.clone(),
        key: key.clone(),
        store: None,
        verified: None,
    })
}

/// The paths of the records whose parent directory is not recorded: the
/// PATHs of a test-rig baseline.
fn top_level_paths(baseline: &Baseline) -> Vec<PathBuf> {
    baseline
        .records
        .iter()
        .map(|r| Path::new(std::ffi::OsStr::from_bytes(&r.path)))
        .filter(|p| {
            p.parent()
                .is_none_or(|d| baseline.get(d.as_os_str().as_bytes()).is_none())
        })
        .map(Path::to_path_buf)
        .collect()
}

/// The setup of a run against an existing baseline (`check`, `update`),
/// whose key is loaded by `load_key` once the key file is known.
fn existing<K>(
    at: &Locations,
    paths: &[PathBuf],
    action: &str,
    load_key: impl Fn(&Path) -> Result<K, IntegrityError>,
    verify_key: impl Fn(&K) -> VerifyKey,
) -> Result<(Setup, K), Failure> {
    if !paths.is_empty() {
        let setup = from_paths(at, paths, action)?;
        let key = load_key(&setup.key)?;
        return Ok((setup, key));
    }
    if let Some(p) = configured(at)? {
        let setup = from_policy(at, &p)?;
        let key = load_key(&setup.key)?;
        return Ok((setup, key));
    }
    // Neither: recognise the policy from the verified baseline.
    let default = IntegrityPolicy::default();
    let (baseline_path, key_path) = files_of(at, &default);
    let key = load_key(&key_path)?;
    let baseline = read_baseline(&baseline_path, &verify_key(&key))?;
    if baseline.policy_digest == default.policy_digest()? {
        let mut setup = from_policy(at, &default)?;
        setup.verified = Some(baseline);
        return Ok((setup, key));
    }
    let rig = top_level_paths(&baseline);
    let attrs = AttrSet::default_set();
    if !rig.is_empty() && policy_digest_for_paths(&rig, attrs)? == baseline.policy_digest {
        log::info!(
            "{}: test-rig baseline of {} path(s)",
            shown(&baseline_path),
            rig.len()
        );
        let setup = Setup {
            policy: CompiledPolicy::for_paths(&rig, attrs)?,
            digest: baseline.policy_digest,
            threads: 0,
            baseline: baseline_path,
            key: key_path,
            store: None,
            verified: Some(baseline),
        };
        return Ok((setup, key));
    }
    Err(error(format!(
        "{}: made under a policy that is neither the built-in one nor recognisable from its \
         records; give --config FILE or the PATHs given to `dha integrity init`",
        shown(&baseline_path)
    )))
}

/// Whether to draw the progress bar: on a terminal, and not under -q.
fn show_progress() -> bool {
    io::stderr().is_terminal() && log::max_level() > log::LevelFilter::Off
}

/// Runs `f` with a context over `setup`; the progress bar, if any, is
/// erased before this returns.
fn with_context<T>(setup: &Setup, f: impl FnOnce(&Context<'_>) -> T) -> T {
    let show = show_progress();
    let bar: Mutex<Option<Bar>> = Mutex::new(None);
    let progress = |p: ScanProgress| {
        if !show {
            return;
        }
        if let Ok(mut guard) = bar.lock() {
            let b = guard.get_or_insert_with(|| {
                Bar::counting(
                    String::new(),
                    p.files_total_estimate.unwrap_or(0),
                    "objects",
                )
            });
            b.set_label(format!("scan, {} MiB hashed", mib(p.bytes_hashed)));
            b.set(p.files_done);
        }
    };
    let clock = SystemClock;
    let ctx = Context {
        policy: &setup.policy,
        policy_digest: setup.digest,
        fsx: &LinuxFsExtras,
        clock: &clock,
        threads: setup.threads,
        progress: &progress,
    };
    let out = f(&ctx);
    drop(bar);
    out
}

/// Bytes as MiB with one decimal.
fn mib(bytes: u64) -> String {
    format!(
        "{}.{}",
        bytes / (1 << 20),
        (bytes % (1 << 20)).saturating_mul(10) / (1 << 20)
    )
}

fn init(args: &InitArgs) -> Result<u8, Failure> {
    let setup = if args.paths.is_empty() {
        let p = configured(&args.at)?.unwrap_or_default();
        from_policy(&args.at, &p)?
    } else {
        from_paths(&args.at, &args.paths, "init")?
    };
    let key = SealKey::load(&setup.key)?;
    let store = match args.store.as_ref().or(setup.store.as_ref()) {
        Some(dir) => Some(KnownGoodStore::open(dir)?),
        None => None,
    };
    let started = Instant::now();
    let outcome = with_context(&setup, |ctx| {
        ops::init_with_store(ctx, &setup.baseline, &key, store.as_ref())
    })?;
    let secs = started.elapsed().as_secs_f64();
    if log::max_level() > log::LevelFilter::Off {
        for p in &outcome.problems {
            say(&format!(
                "warning: {}: {} (recorded only as far as it could be read)",
                render::escape_bytes(&p.path),
                p.reason
            ));
        }
    }
    let s = &outcome.stats;
    let stored = match (&store, &outcome.store) {
        (Some(d), Some(st)) => format!(
            "; store {}: {} new objects ({} MiB), {} already present",
            shown(d.dir()),
            st.stored,
            mib(st.bytes_stored),
            st.already_present
        ),
        _ => String::new(),
    };
    write_stdout(&format!(
        "{}: {} records ({} files, {} directories, {} others), {} files hashed ({} MiB) in \
         {secs:.2} s, {} problems{stored}\n",
        shown(&setup.baseline),
        outcome.records,
        s.files,
        s.directories,
        s.others,
        s.files_hashed,
        mib(s.bytes_hashed),
        outcome.problems.len()
    ))?;
    Ok(EXIT_OK)
}

fn scan_mode(quick: bool) -> ScanMode {
    if quick {
        ScanMode::Quick
    } else {
        ScanMode::Full
    }
}

fn check(args: &CheckArgs) -> Result<u8, Failure> {
    let (mut setup, key) = existing(&args.at, &args.paths, "check", VerifyKey::load, |k| {
        k.clone()
    })?;
    let verified = setup.verified.take();
    let outcome = with_context(&setup, |ctx| match verified {
        Some(b) => ops::check_verified(
            ctx,
            &setup.baseline,
            b,
            &key.key_id().to_string(),
            scan_mode(args.quick),
        ),
        None => ops::check(ctx, &setup.baseline, &key, scan_mode(args.quick)),
    })?;
    let report = &outcome.report;
    crate::record::record_configured(
        args.at.config.as_deref(),
        dha_core::recovery::events_for_integrity(report),
    );
    write_stdout(&match args.format {
        Format::Table => report.to_table(),
        Format::Json => report.to_json() + "\n",
    })?;
    if report.has_changes() {
        return Ok(EXIT_CHANGED);
    }
    if let Some(first) = report.problems.first() {
        say(&format!(
            "{} path(s) could not be examined, first {}: {}",
            report.problems.len(),
            render::escape_bytes(&first.path),
            first.reason
        ));
        return Ok(EXIT_ERROR);
    }
    Ok(EXIT_OK)
}

/// `path` is `at` or lies below it.
fn is_at_or_below(path: &[u8], at: &[u8]) -> bool {
    let at = at.strip_suffix(b"/").unwrap_or(at);
    path == at || (path.starts_with(at) && path.get(at.len()) == Some(&b'/'))
}

fn update(args: &UpdateArgs) -> Result<u8, Failure> {
    let (mut setup, key) = existing(&args.at, &[], "update", SealKey::load, SealKey::public)?;
    let verified = setup.verified.take();
    let selected = args
        .paths
        .iter()
        .map(|p| {
            std::path::absolute(p)
                .map(|a| a.into_os_string().into_encoded_bytes())
                .map_err(|e| error(format!("--path {}: {e}", shown(p))))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let acceptance = with_context(&setup, |ctx| {
        let checked = match verified {
            Some(b) => ops::check_verified(
                ctx,
                &setup.baseline,
                b,
                &key.key_id().to_string(),
                scan_mode(args.quick),
            )?,
            None => ops::check(ctx, &setup.baseline, &key.public(), scan_mode(args.quick))?,
        };
        // Accepting from an incomplete scan could record what was not read.
        if let Some(first) = checked.report.problems.first() {
            return Err(error(format!(
                "nothing accepted: {} path(s) could not be examined, first {}: {}",
                checked.report.problems.len(),
                render::escape_bytes(&first.path),
                first.reason
            )));
        }
        // A mistyped --path must not look like a success.
        for (p, bytes) in args.paths.iter().zip(&selected) {
            if !checked
                .report
                .changes
                .iter()
                .any(|c| is_at_or_below(&c.path, bytes))
            {
                return Err(error(format!(
                    "nothing accepted: --path {}: no change at or below it",
                    shown(p)
                )));
            }
        }
        let selection = if selected.is_empty() {
            Selection::All
        } else {
            Selection::Paths(selected.clone())
        };
        ops::accept(
            ctx,
            &setup.baseline,
            &key,
            &checked,
            &selection,
            &args.accepted_by,
        )
        .map_err(Failure::from)
    })?;
    crate::record::record_configured(
        args.at.config.as_deref(),
        vec![dha_core::recovery::event_for_acceptance(&acceptance)],
    );
    let text = match args.format {
        Format::Json => {
            let value = serde_json::json!({
                "schema_version": SCHEMA_VERSION,
                "baseline": shown(&setup.baseline),
                "accepted_by": acceptance.accepted_by,
                "at": acceptance.at,
                "accepted": acceptance.accepted,
                "left": acceptance.left,
            });
            serde_json::to_string_pretty(&value)
                .map_err(|e| error(format!("cannot encode the JSON: {e}")))?
                + "\n"
        }
        Format::Table => {
            let mut t = format!(
                "{}: {} change(s) accepted by {} at {}, {} left\n",
                shown(&setup.baseline),
                acceptance.accepted.len(),
                render::clean_text(&acceptance.accepted_by),
                acceptance.at,
                acceptance.left
            );
            for c in &acceptance.accepted {
                t.push_str(&format!("  {:<12} {}\n", c.kind_name(), c.path_text()));
            }
            t
        }
    };
    write_stdout(&text)?;
    Ok(EXIT_OK)
}

fn verify(args: &VerifyArgs) -> Result<u8, Failure> {
    let key = VerifyKey::load(&args.key)?;
    let s = ops::verify_baseline(&args.baseline, &key)?;
    let created = render::file_time(s.created);
    let digest = render::hex(&s.policy_digest);
    let text = match args.format {
        Format::Json => {
            let value = serde_json::json!({
                "schema_version": SCHEMA_VERSION,
                "baseline": shown(&args.baseline),
                "records": s.records,
                "created": created,
                "key_kind": key.kind().name(),
                "key_id": s.key_id,
                "policy_digest": digest,
            });
            serde_json::to_string_pretty(&value)
                .map_err(|e| error(format!("cannot encode the JSON: {e}")))?
                + "\n"
        }
        Format::Table => format!(
            "{}: sealed baseline, {} records, created {created}, {} key {}, policy {digest}\n",
            shown(&args.baseline),
            s.records,
            key.kind().name(),
            s.key_id
        ),
    };
    write_stdout(&text)?;
    Ok(EXIT_OK)
}

fn restore(args: &RestoreArgs) -> Result<u8, Failure> {
    let policy = configured(&args.at)?.unwrap_or_default();
    let (baseline_path, key_path) = files_of(&args.at, &policy);
    let Some(dir) = args.store.as_ref().or(policy.store.as_ref()) else {
        return Err(error(
            "restore needs a known-good store: --store DIR or [integrity] store",
        ));
    };
    let key = VerifyKey::load(&key_path)?;
    let baseline = read_baseline(&baseline_path, &key)?;
    if !dir.is_dir() {
        return Err(error(format!(
            "--store {}: not an existing directory (made by `dha integrity init --store`)",
            shown(dir)
        )));
    }
    let store = KnownGoodStore::open(dir)?;
    for p in &args.paths {
        let path = std::path::absolute(p).map_err(|e| error(format!("{}: {e}", shown(p))))?;
        let done = store.restore(&baseline, path.as_os_str().as_bytes(), &LinuxFsExtras)?;
        let replaced = match done.replaced {
            Some(t) => format!("replaced a {t}"),
            None => "was missing".to_owned(),
        };
        write_stdout(&format!(
            "{}: restored {} bytes, sha256 {} ({replaced})\n",
            shown(&done.path),
            done.bytes,
            render::hex(&done.sha256)
        ))?;
    }
    Ok(EXIT_OK)
}

/// One change as a table line: `modified  /etc/app.conf  perm 0644 -> 0600`.
fn change_line(c: &Change) -> String {
    let mut line = format!("{:<12} {}", c.kind_name(), c.path_text());
    for a in &c.attrs {
        let name = match &a.name {
            Some(n) => format!("{} {n}", a.attr.name()),
            None => a.attr.name().to_owned(),
        };
        line.push_str(&format!("  {name}: {} -> {}", a.old, a.new));
    }
    term::clean(&line).into_owned()
}

/// One change as a JSON object with `"event": "change"`.
fn change_json(c: &Change) -> serde_json::Value {
    let mut value = serde_json::to_value(c).unwrap_or(serde_json::Value::Null);
    if let Some(map) = value.as_object_mut() {
        map.insert("event".to_owned(), "change".into());
    }
    value
}

fn watch(args: &WatchArgs) -> Result<u8, Failure> {
    let (setup, key) = existing(&args.at, &args.paths, "watch", VerifyKey::load, |k| {
        k.clone()
    })?;
    let baseline = read_baseline(&setup.baseline, &key)?;
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .map_err(|e| error(format!("cannot handle signal {signal}: {e}")))?;
    }
    let options = WatchOptions {
        debounce: Duration::from_millis(args.debounce_ms),
        threads: setup.threads,
    };
    let mut changed = false;
    let mut output: Result<(), Failure> = Ok(());
    let mut on_event = |event: WatchEvent| {
        let mut lines: Vec<String> = Vec::new();
        let json = args.format == Format::Json;
        match event {
            WatchEvent::Ready { directories } => {
                if json {
                    let v = serde_json::json!({"event": "ready", "directories": directories});
                    lines.push(v.to_string());
                } else {
                    say(&format!(
                        "watching {directories} directories; stop with Ctrl-C"
                    ));
                }
            }
            WatchEvent::Changes(changes) => {
                changed |= !changes.is_empty();
                for c in &changes {
                    lines.push(if json {
                        change_json(c).to_string()
                    } else {
                        change_line(c)
                    });
                }
            }
            WatchEvent::Rescanned { reason, changes } => {
                changed |= !changes.is_empty();
                if json {
                    let v = serde_json::json!({
                        "event": "rescanned", "reason": reason, "changes": changes.len()
                    });
                    lines.push(v.to_string());
                } else {
                    say(&format!(
                        "full rescan ({reason}): {} change(s) against the baseline",
                        changes.len()
                    ));
                }
                for c in &changes {
                    lines.push(if json {
                        change_json(c).to_string()
                    } else {
                        change_line(c)
                    });
                }
            }
            WatchEvent::Problem(message) => {
                if json {
                    let v = serde_json::json!({"event": "problem", "message": message});
                    lines.push(v.to_string());
                } else {
                    say(&format!("warning: {message}"));
                }
            }
        }
        if output.is_ok() && !lines.is_empty() {
            output = write_stdout(&(lines.join("\n") + "\n"));
            if output.is_err() {
                // Nobody reads any more: stop watching.
                stop.store(true, Ordering::Relaxed);
            }
        }
    };
    dha_linux::watch::watch(
        &setup.policy,
        &LinuxFsExtras,
        &baseline,
        &options,
        &stop,
        &mut on_event,
    )?;
    output?;
    Ok(if changed { EXIT_CHANGED } else { EXIT_OK })
}

#[cfg(test)]
mod tests;
