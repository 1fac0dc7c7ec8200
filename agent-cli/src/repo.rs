//! `dha repo`: build, sign and publish a TUF repository (issue 3,
//! "Repository side"), through [`dha_core::tuf::repo`].

use clap::{Args, Subcommand, ValueEnum};
use dha_core::tuf::TufError;
use dha_core::tuf::repo::{DelegationKind, Expiry, InitOptions, KeyType, RepoError, Repository};
use dha_core::{Clock as _, SystemClock};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{self, Write as _};
use std::path::PathBuf;
use std::time::Duration;

const REPO_LONG_ABOUT: &str = "\
Build, sign and publish a TUF 1.0.34 repository of signed updates, which `dha update` and \
the reference client (python-tuf) verify.

The repository directory holds keys/ (private keys, PKCS#8 PEM, mode 0600, with a \
NAME.pub.json beside each), staged/ (the roles being edited), metadata/ and targets/ \
(what is served: copy them to removable media or a web server). Edits change staged/ \
only; `publish` signs the changed roles with their keys in keys/, checks every \
threshold, and writes a new snapshot and timestamp.";

const REPO_AFTER_HELP: &str = "\
Example:
  dha repo init --repo ./repo --consistent-snapshot --threshold root=2
  dha repo add-target --repo ./repo ct-fw-4.2.img --name ct/fw.img --hardware-id ct-7 --release-counter 42
  dha repo publish --repo ./repo
  dha update init --metadata-dir /var/lib/dha/tuf ./repo/metadata/1.root.json

Exit status:
  0  done
  1  a role lacks signatures (its threshold is not met) or a key may not sign it
  2  usage error, or the repository cannot be read or written";

/// `dha repo` and its subcommands.
#[derive(Debug, Args)]
#[command(long_about = REPO_LONG_ABOUT, after_long_help = REPO_AFTER_HELP)]
pub struct RepoArgs {
    /// The repository directory
    #[arg(long, value_name = "DIR", global = true)]
    repo: Option<PathBuf>,

    #[command(subcommand)]
    command: RepoCommand,
}

#[derive(Debug, Subcommand)]
enum RepoCommand {
    /// Create a repository: keys for root, targets, snapshot and timestamp
    /// (ROLE-1, ROLE-2, ... in keys/), a staged root version 1 and an empty
    /// targets role
    Init(InitArgs),
    /// Make a key pair keys/NAME.pem (mode 0600) and keys/NAME.pub.json
    Keygen(KeygenArgs),
    /// Add or replace a target: copy FILE to targets/ and list its length,
    /// SHA-256 and SHA-512 in a targets role
    AddTarget(AddTargetArgs),
    /// Delegate from a targets role to a new role trusted for path patterns,
    /// or to hash bins (--bit-length)
    Delegate(DelegateArgs),
    /// Add a key's signature to a staged role (root, targets, a delegated
    /// role), for thresholds above 1 or keys kept outside keys/
    Sign(SignArgs),
    /// Sign the changed roles, check every threshold, write them with a new
    /// snapshot and timestamp to metadata/
    Publish,
    /// Replace (or add) a key of a top-level role in a new root version,
    /// signed at publish by the old and the new root keys (TUF 1.0.34 §5.3.4)
    RotateKey(RotateKeyArgs),
}

/// Key types on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum KeyTypeArg {
    /// Ed25519 (scheme ed25519)
    Ed25519,
    /// ECDSA P-256 (scheme ecdsa-sha2-nistp256)
    Ecdsa,
    /// RSA 3072 bits (scheme rsassa-pss-sha256); generating one takes a while
    Rsa,
}

impl From<KeyTypeArg> for KeyType {
    fn from(k: KeyTypeArg) -> Self {
        match k {
            KeyTypeArg::Ed25519 => KeyType::Ed25519,
            KeyTypeArg::Ecdsa => KeyType::Ecdsa,
            KeyTypeArg::Rsa => KeyType::Rsa,
        }
    }
}

#[derive(Debug, Args)]
struct InitArgs {
    /// Type of the keys made for the top-level roles
    #[arg(long = "key-type", value_enum, default_value_t = KeyTypeArg::Ed25519)]
    key_type: KeyTypeArg,
    /// Serve metadata as VERSION.ROLE.json and targets as HASH.NAME
    /// (TUF 1.0.34 §5.5, §5.7.2)
    #[arg(long)]
    consistent_snapshot: bool,
    /// A top-level role's threshold, ROLE=N (repeatable; default 1); N keys
    /// are made for it
    #[arg(long, value_name = "ROLE=N")]
    threshold: Vec<String>,
    /// How long a role stays valid after signing, ROLE=DURATION with a unit
    /// s, m, h, d or w (repeatable; defaults root=365d targets=90d
    /// snapshot=7d timestamp=1d; delegated roles use targets')
    #[arg(long, value_name = "ROLE=DURATION")]
    expires: Vec<String>,
}

#[derive(Debug, Args)]
struct KeygenArgs {
    /// The key type
    #[arg(long = "type", value_enum, default_value_t = KeyTypeArg::Ed25519)]
    key_type: KeyTypeArg,
    /// The key's name in keys/ (letters, digits, '_', '.', '-')
    #[arg(long)]
    name: String,
}

#[derive(Debug, Args)]
struct AddTargetArgs {
    /// The file to publish
    file: PathBuf,
    /// The target path clients ask for (default: the file's name)
    #[arg(long, value_name = "TARGET_PATH")]
    name: Option<String>,
    /// The targets role that lists it (default: its hash bin when targets
    /// delegates to hash bins, else targets)
    #[arg(long)]
    role: Option<String>,
    /// Custom metadata, a JSON object (merged with --hardware-id and
    /// --release-counter)
    #[arg(long, value_name = "JSON")]
    custom: Option<String>,
    /// The hardware the target is for (custom.hardware_id); devices with
    /// another id refuse it
    #[arg(long, value_name = "ID")]
    hardware_id: Option<String>,
    /// The anti-rollback release counter (custom.release_counter); devices
    /// never install a lower one
    #[arg(long, value_name = "N")]
    release_counter: Option<u64>,
}

#[derive(Debug, Args)]
struct DelegateArgs {
    /// The delegating targets role
    #[arg(long, default_value = "targets")]
    from: String,
    /// A key of the new role(s): a name in keys/ or a path to its
    /// .pub.json (repeatable)
    #[arg(long, required = true)]
    key: Vec<String>,
    /// Signatures the new role(s) need
    #[arg(long, default_value_t = 1)]
    threshold: u64,
    /// The new role's name (path delegation)
    #[arg(
        long,
        required_unless_present = "bit_length",
        conflicts_with = "bit_length"
    )]
    name: Option<String>,
    /// A path pattern the role is trusted for (repeatable), e.g. 'ct/*'
    #[arg(long, value_name = "PATTERN", requires = "name")]
    path: Vec<String>,
    /// Stop the search after this role (TUF 1.0.34 §5.6.7.2.2)
    #[arg(long, requires = "name")]
    terminating: bool,
    /// Delegate to 2^N hash bins instead (TAP 15), N from 1 to 16
    #[arg(long, value_name = "N")]
    bit_length: Option<u32>,
    /// The hash bins' name prefix
    #[arg(long, default_value = "bin", requires = "bit_length")]
    name_prefix: String,
}

#[derive(Debug, Args)]
struct SignArgs {
    /// The role to sign
    #[arg(long)]
    role: String,
    /// The key: a name in keys/ or a path to its .pem (with .pub.json beside it)
    #[arg(long)]
    key: String,
}

#[derive(Debug, Args)]
struct RotateKeyArgs {
    /// The top-level role whose key changes
    #[arg(long)]
    role: String,
    /// The key to remove: a name, a path or a key id (omit to add a key)
    #[arg(long)]
    old: Option<String>,
    /// The new key: a name in keys/ (see `dha repo keygen`) or a path to its .pub.json
    #[arg(long)]
    new: String,
    /// The role's new threshold (default: unchanged)
    #[arg(long)]
    threshold: Option<u64>,
}

/// Exit status: done.
const EXIT_OK: u8 = 0;
/// Exit status: a threshold not met, a key that may not sign.
const EXIT_REFUSED: u8 = 1;
/// Exit status: usage, input or file errors.
const EXIT_ERROR: u8 = 2;

/// Why a run failed, and its exit status.
struct Failure {
    status: u8,
    message: String,
}

impl From<RepoError> for Failure {
    fn from(e: RepoError) -> Self {
        let status = match &e {
            RepoError::Unsigned { .. } | RepoError::Tuf(TufError::Threshold { .. }) => EXIT_REFUSED,
            RepoError::Invalid(m) if m.contains("is not a key of") => EXIT_REFUSED,
            _ => EXIT_ERROR,
        };
        Failure {
            status,
            message: e.to_string(),
        }
    }
}

fn usage(message: impl Into<String>) -> Failure {
    Failure {
        status: EXIT_ERROR,
        message: message.into(),
    }
}

/// Runs `dha repo …`; prints what was done to standard output and errors
/// to standard error; returns the exit status.
pub fn run(args: &RepoArgs) -> u8 {
    match execute(args) {
        Ok(lines) => {
            let mut out = io::stdout().lock();
            for line in lines {
                if writeln!(out, "{line}").is_err() {
                    return EXIT_ERROR;
                }
            }
            EXIT_OK
        }
        Err(f) => {
            let _ = writeln!(
                io::stderr().lock(),
                "dha: error: {}",
                crate::term::clean(&f.message)
            );
            f.status
        }
    }
}

fn execute(args: &RepoArgs) -> Result<Vec<String>, Failure> {
    let dir = args
        .repo
        .as_deref()
        .ok_or_else(|| usage("--repo DIR is required"))?;
    let now = SystemClock.now();
    match &args.command {
        RepoCommand::Init(a) => {
            let opts = init_options(a)?;
            let repo = Repository::init(dir, &opts, now)?;
            Ok(vec![format!(
                "created {}: keys in keys/, root version 1 staged; add targets, then `dha repo publish`",
                repo.dir().display()
            )])
        }
        RepoCommand::Keygen(a) => {
            let repo = Repository::open(dir)?;
            let info = repo.keygen(&a.name, a.key_type.into())?;
            Ok(vec![format!(
                "{} {} ({}, {})",
                info.name, info.keyid, info.keytype, info.scheme
            )])
        }
        RepoCommand::AddTarget(a) => {
            let mut repo = Repository::open(dir)?;
            let name = match &a.name {
                Some(n) => n.clone(),
                None => a
                    .file
                    .file_name()
                    .and_then(|n| n.to_str())
                    .map(str::to_owned)
                    .ok_or_else(|| usage("give --name: the file has no usable name"))?,
            };
            let custom = custom_json(a)?;
            let role = repo.add_target(&a.file, &name, a.role.as_deref(), custom, now)?;
            Ok(vec![format!("added {name} to {role}")])
        }
        RepoCommand::Delegate(a) => {
            let mut repo = Repository::open(dir)?;
            let kind = match (&a.name, a.bit_length) {
                (Some(name), None) => DelegationKind::Paths {
                    name: name.clone(),
                    paths: a.path.clone(),
                    terminating: a.terminating,
                },
                (None, Some(bits)) => DelegationKind::HashBins {
                    name_prefix: a.name_prefix.clone(),
                    bit_length: bits,
                },
                _ => return Err(usage("give either --name and --path, or --bit-length")),
            };
            let roles = repo.delegate(&a.from, &kind, &a.key, a.threshold, now)?;
            let shown = match roles.as_slice() {
                [one] => one.clone(),
                [first, .., last] => format!("{} roles {first} to {last}", roles.len()),
                [] => "no role".to_owned(),
            };
            Ok(vec![format!("{} delegates to {shown}", a.from)])
        }
        RepoCommand::Sign(a) => {
            let mut repo = Repository::open(dir)?;
            let info = repo.sign(&a.role, &a.key)?;
            Ok(vec![format!("signed {} with {}", a.role, info.keyid)])
        }
        RepoCommand::Publish => {
            let mut repo = Repository::open(dir)?;
            let report = repo.publish(now)?;
            let written: Vec<String> = report
                .written
                .iter()
                .map(|(role, v)| format!("{role} v{v}"))
                .collect();
            Ok(vec![format!(
                "published to {}: {}",
                repo.metadata_dir().display(),
                written.join(", ")
            )])
        }
        RepoCommand::RotateKey(a) => {
            let mut repo = Repository::open(dir)?;
            repo.rotate_key(&a.role, a.old.as_deref(), &a.new, a.threshold, now)?;
            Ok(vec![format!(
                "{}: key rotated in the staged root; `dha repo publish` signs it with the old and new root keys",
                a.role
            )])
        }
    }
}

fn split_pair(s: &str) -> Result<(&str, &str), Failure> {
    s.split_once('=')
        .ok_or_else(|| usage(format!("{s:?}: expected ROLE=VALUE")))
}

fn init_options(a: &InitArgs) -> Result<InitOptions, Failure> {
    let mut thresholds = BTreeMap::new();
    for t in &a.threshold {
        let (role, n) = split_pair(t)?;
        let n: u64 = n
            .parse()
            .map_err(|_| usage(format!("--threshold {t:?}: N is not a number")))?;
        thresholds.insert(role.to_owned(), n);
    }
    let mut expiry = Expiry::default();
    for e in &a.expires {
        let (role, d) = split_pair(e)?;
        let d = parse_duration(d).ok_or_else(|| {
            usage(format!(
                "--expires {e:?}: DURATION is a number and a unit s, m, h, d or w (e.g. 90d)"
            ))
        })?;
        expiry.set(role, d)?;
    }
    Ok(InitOptions {
        key_type: a.key_type.into(),
        consistent_snapshot: a.consistent_snapshot,
        thresholds,
        expiry,
    })
}

/// `90d`, `12h`, `30m`, `3600s`, `2w`: a positive whole number and a unit.
fn parse_duration(s: &str) -> Option<Duration> {
    let unit_at = s.len().checked_sub(1)?;
    let (n, unit) = (s.get(..unit_at)?, s.get(unit_at..)?);
    let n: u64 = n.parse().ok().filter(|n| *n > 0)?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return None,
    };
    Some(Duration::from_secs(n.checked_mul(secs)?))
}

fn custom_json(a: &AddTargetArgs) -> Result<Option<Value>, Failure> {
    let mut custom = match &a.custom {
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(m)) => m,
            Ok(_) => return Err(usage("--custom must be a JSON object")),
            Err(e) => return Err(usage(format!("--custom: {e}"))),
        },
        None => serde_json::Map::new(),
    };
    if let Some(h) = &a.hardware_id {
        custom.insert("hardware_id".to_owned(), Value::String(h.clone()));
    }
    if let Some(n) = a.release_counter {
        custom.insert("release_counter".to_owned(), Value::from(n));
    }
    Ok(if custom.is_empty() {
        None
    } else {
        Some(Value::Object(custom))
    })
}

/// The repository directory of a parsed command line (tests).
#[cfg(test)]
fn repo_dir(args: &RepoArgs) -> Option<&std::path::Path> {
    args.repo.as_deref()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};
    use std::path::Path;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(subcommand)]
        command: Top,
    }

    #[derive(Debug, clap::Subcommand)]
    enum Top {
        Repo(RepoArgs),
    }

    fn parse(args: &[&str]) -> RepoArgs {
        let mut all = vec!["dha", "repo"];
        all.extend_from_slice(args);
        let Top::Repo(a) = Cli::try_parse_from(all).unwrap().command;
        a
    }

    fn run_ok(args: &[&str]) {
        let a = parse(args);
        if let Err(f) = execute(&a) {
            panic!("{args:?}: exit {}: {}", f.status, f.message);
        }
    }

    #[test]
    fn command_line_is_consistent() {
        Cli::command().debug_assert();
        let mut cmd = Cli::command();
        cmd.build();
        let repo = cmd.find_subcommand_mut("repo").unwrap();
        let help = repo.render_long_help().to_string();
        for needle in ["Exit status:", "--repo", "init", "rotate-key", "Example:"] {
            assert!(help.contains(needle), "{needle} missing from\n{help}");
        }
    }

    #[test]
    fn repo_may_come_after_the_subcommand() {
        let a = parse(&["publish", "--repo", "/x"]);
        assert_eq!(repo_dir(&a), Some(Path::new("/x")));
        let a = parse(&["--repo", "/y", "keygen", "--type", "ecdsa", "--name", "k"]);
        assert_eq!(repo_dir(&a), Some(Path::new("/y")));
        let e = Cli::try_parse_from(["dha", "repo", "keygen", "--type", "dsa", "--name", "k"])
            .unwrap_err();
        assert_eq!(e.exit_code(), 2);
    }

    #[test]
    fn whole_flow_through_the_command_line() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path().join("repo");
        let r = repo.to_str().unwrap();
        let file = tmp.path().join("fw.img");
        std::fs::write(&file, b"firmware").unwrap();
        let f = file.to_str().unwrap();
        run_ok(&[
            "init",
            "--repo",
            r,
            "--consistent-snapshot",
            "--threshold",
            "root=2",
            "--expires",
            "timestamp=2h",
        ]);
        run_ok(&["keygen", "--repo", r, "--type", "ecdsa", "--name", "vendor"]);
        run_ok(&[
            "delegate", "--repo", r, "--key", "vendor", "--name", "vendor", "--path", "ct/*",
        ]);
        run_ok(&[
            "add-target",
            "--repo",
            r,
            f,
            "--name",
            "ct/fw.img",
            "--role",
            "vendor",
            "--hardware-id",
            "ct-7",
            "--release-counter",
            "3",
        ]);
        run_ok(&["add-target", "--repo", r, f]);
        run_ok(&[
            "sign",
            "--repo",
            r,
            "--role",
            "targets",
            "--key",
            "targets-1",
        ]);
        run_ok(&["publish", "--repo", r]);
        run_ok(&["keygen", "--repo", r, "--name", "ts-2"]);
        run_ok(&[
            "rotate-key",
            "--repo",
            r,
            "--role",
            "timestamp",
            "--old",
            "timestamp-1",
            "--new",
            "ts-2",
        ]);
        run_ok(&["publish", "--repo", r]);
        assert!(repo.join("metadata/2.root.json").is_file());
        assert!(repo.join("metadata/1.vendor.json").is_file());
        let ts: Value =
            serde_json::from_slice(&std::fs::read(repo.join("metadata/timestamp.json")).unwrap())
                .unwrap();
        assert_eq!(ts["signed"]["version"], 2);

        // Refusals and their exit status.
        let e = execute(&parse(&[
            "sign",
            "--repo",
            r,
            "--role",
            "targets",
            "--key",
            "snapshot-1",
        ]))
        .err()
        .unwrap();
        assert_eq!(e.status, EXIT_REFUSED, "{}", e.message);
        let e = execute(&parse(&["publish"])).err().unwrap();
        assert_eq!(e.status, EXIT_ERROR);
        let e = execute(&parse(&["init", "--repo", r])).err().unwrap();
        assert_eq!(e.status, EXIT_ERROR);
        let e = execute(&parse(&["add-target", "--repo", r, f, "--custom", "[1]"]))
            .err()
            .unwrap();
        assert_eq!(e.status, EXIT_ERROR);
    }

    #[test]
    fn durations() {
        assert_eq!(
            parse_duration("90d"),
            Some(Duration::from_secs(90 * 86_400))
        );
        assert_eq!(parse_duration("2w"), Some(Duration::from_secs(1_209_600)));
        assert_eq!(parse_duration("0d"), None);
        assert_eq!(parse_duration("d"), None);
        assert_eq!(parse_duration("5y"), None);
        assert_eq!(parse_duration(""), None);
    }
}
