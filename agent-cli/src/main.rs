//! `dha`: the device-hardening agent's command-line program, for service
//! engineers and test rigs.
//!
//! `dha audit` audits a device (`/`) or an extracted device image and prints
//! the report as a table or as JSON; its exit status says whether a finding
//! reached `--fail-on`. `dha checks` lists the check catalogue.

mod boot;
mod catalogue_view;
mod evidence;
mod hooks;
mod install;
mod integrity;
// Not `mod log`: that name would be ambiguous with the `log` crate here.
#[path = "log.rs"]
mod event_log;
mod logger;
mod monitor;
mod outcome;
mod record;
mod repo;
mod sbom;
mod table;
mod term;
mod update;

use clap::{Args, Parser, Subcommand, ValueEnum};
use dha_core::{Auditor, Config, ConfigError, Report, Root, RootError, SystemClock};
use dha_linux::LinuxHost;
use outcome::{EXIT_ERROR, FailOn, Verdict};
use std::fmt;
use std::io::{self, IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use term::ColorChoice;

const LONG_ABOUT: &str = "\
dha audits the hardening of a medical-imaging device (a CT, MR or X-ray console, a \
workstation, an embedded controller): its accounts, password storage and policy, PAM, \
sudo, SSH and session settings. Each weakness is reported with the file and line it comes \
from, the value seen and the value wanted, a remedy, and the standards it answers \
(IEC 62443-4-2, MDS2, ComplianceAsCode/SSG, Lynis).

It audits the running system (`/`) or a directory that holds an extracted device image, \
without changing anything and without reading outside that directory.";

const EXAMPLES: &str = "\
Examples:
  dha audit                                     audit this machine (needs root to read /etc/shadow)
  dha audit --root /mnt/ct-image --format json  audit an extracted image, for a test rig
  dha audit --config dha.toml --fail-on medium  a stricter gate with site settings
  dha checks                                    list every check and the standards it answers

Exit status of `dha audit`: 0 no finding at or above --fail-on (default high), 1 at least
one, 2 an error (usage, unreadable root or configuration, nothing audited); see `dha audit --help`.";

const AUDIT_LONG_ABOUT: &str = "\
Audit a device, or an extracted device image, against the check catalogue (`dha checks`).

The report goes to standard output: a table for a person (coloured on a terminal), or \
JSON (`--format json`, with a `schema_version`) for a machine. Log lines and errors go to \
standard error. Nothing under the root is modified.

Example:
  dha audit --root /mnt/ct-image --format json --fail-on medium > report.json";

const AUDIT_AFTER_HELP: &str = "\
Exit status:
  0  no finding at or above --fail-on (by default: no high or critical finding)
  1  at least one finding at or above --fail-on
  2  usage error; the root or the configuration could not be read; no check could run
     against the root (every check was not applicable or disabled); or the report could
     not be written

Environment:
  NO_COLOR  when set and not empty, the table is not coloured (unless --color always)
  COLUMNS   the table's width when neither standard output nor standard error is a
            terminal (default 100)";

const CHECKS_LONG_ABOUT: &str = "\
List the check catalogue: each check's stable id, mode (offline: it can audit an \
extracted image; live: it needs the running system), default severity, what it reads, \
and the standards it answers (IEC 62443-4-2, MDS2, ComplianceAsCode/SSG, Lynis).

Example:
  dha checks --format json | jq -r '.checks[].id'";

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "dha",
    version,
    about = "Audit the hardening of a medical-imaging device or of an extracted device image",
    long_about = LONG_ABOUT,
    after_long_help = EXAMPLES,
    propagate_version = true,
    max_term_width = 100
)]
struct Cli {
    /// Log more to standard error: -v warnings about the device's files, -vv
    /// progress, -vvv debugging, -vvvv tracing (by default: errors only)
    #[arg(short, long, action = clap::ArgAction::Count, global = true, display_order = 100)]
    verbose: u8,

    /// Log nothing to standard error (an error that ends the run is still printed)
    #[arg(
        short,
        long,
        global = true,
        conflicts_with = "verbose",
        display_order = 101
    )]
    quiet: bool,

    /// When to colour the table
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto, global = true)]
    color: ColorChoice,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Audit a device or an extracted device image and report its weaknesses
    #[command(long_about = AUDIT_LONG_ABOUT, after_long_help = AUDIT_AFTER_HELP)]
    Audit(AuditArgs),
    /// List the checks, what each reads and the standards it answers
    #[command(long_about = CHECKS_LONG_ABOUT)]
    Checks(ChecksArgs),
    /// Verify and download signed updates (TUF): init, refresh, download
    Update(update::UpdateArgs),
    /// Build, sign and publish a TUF repository of signed updates (keys, targets,
    /// delegations, thresholds, key rotation)
    Repo(repo::RepoArgs),
    /// File integrity monitoring: sealed baselines, checks, accepted updates
    /// (keygen, init, check, update, verify-baseline, restore, watch)
    Integrity(integrity::IntegrityArgs),
    /// Boot control of A/B slots: status, mark-good, mark-bad, switch
    /// (U-Boot, GRUB or a file)
    Boot(boot::BootArgs),
    /// The tamper-evident event log: keygen, init, show, verify
    Log(event_log::LogArgs),
    /// Install a TUF-verified update into the inactive A/B slot and switch
    /// the boot order to it
    Install(install::InstallArgs),
    /// Recovery hooks: dispatch a synthetic event through the [recovery]
    /// policy and print what each action did (test)
    Hooks(hooks::HooksArgs),
    /// Watch the live device: report listening sockets and unexpected
    /// processes that appear, and storage filling up, as events
    Monitor(monitor::MonitorArgs),
    /// Print the device's software bill of materials (CycloneDX 1.5 JSON):
    /// dpkg packages and the images dha installed
    #[command(long_about = sbom::LONG_ABOUT, after_long_help = sbom::AFTER_HELP)]
    Sbom(sbom::SbomArgs),
    /// Disclosure evidence for the MDS2 form and IEC 62443-4-2 (answers, the
    /// checks and findings behind them) as JSON, Markdown or one HTML page
    Evidence(evidence::EvidenceArgs),
}

#[derive(Debug, Args)]
struct AuditArgs {
    /// The root to audit: `/` for this machine, or a directory holding an
    /// extracted device image (read as if it were `/`; symlinks never lead out of it)
    #[arg(long, value_name = "DIR", default_value = "/")]
    root: PathBuf,

    /// A dha.toml configuration (policy values, per-check settings, read
    /// limits); without it the built-in safe defaults apply. An unknown key or
    /// a bad value is an error that names the key and its line
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,

    /// The lowest severity that makes the run exit 1. The default, high, fails
    /// on weaknesses that directly weaken authentication or authorisation
    /// (high) or give access without a credential (critical); medium, low and
    /// info findings are reported without failing the run
    #[arg(long, value_enum, value_name = "SEVERITY", default_value_t = FailOn::High)]
    fail_on: FailOn,
}

#[derive(Debug, Args)]
struct ChecksArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// How a report or the catalogue is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// A table for a person; coloured only on a terminal
    Table,
    /// Pretty-printed JSON with a `schema_version`, for a machine
    Json,
}

/// What ends a run with exit status 2.
#[derive(Debug)]
enum CliError {
    /// The configuration file could not be read or is invalid.
    Config(ConfigError),
    /// The root could not be opened.
    Root(RootError),
    /// Every check was not applicable or disabled.
    NothingAudited(String),
    /// Standard output could not be written.
    Output(io::Error),
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Config(e) => write!(f, "configuration: {e}"),
            CliError::Root(e) => write!(f, "cannot audit: {e}"),
            CliError::NothingAudited(root) => write!(
                f,
                "nothing audited at {root}: no check could run there, or it holds neither an \
                 account database (/etc/passwd) nor an os-release (the report says why); is \
                 it a device's root directory?"
            ),
            CliError::Output(e) => write!(f, "cannot write the report: {e}"),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    logger::init(logger::level_for(cli.verbose, cli.quiet));
    // A panic is a bug in dha; it must still end as a clear error with the
    // documented status, not as a backtrace and status 101 that a test rig
    // would not recognise.
    std::panic::set_hook(Box::new(|info| {
        let _ = writeln!(
            io::stderr().lock(),
            "dha: internal error (a bug in dha, please report it): {}",
            term::clean(&info.to_string())
        );
    }));
    match std::panic::catch_unwind(|| run(&cli)) {
        Ok(Ok(status)) => ExitCode::from(status),
        Ok(Err(CliError::Output(e))) if e.kind() == io::ErrorKind::BrokenPipe => {
            // The reader went away (`dha checks | head`): nothing to tell it.
            ExitCode::from(EXIT_ERROR)
        }
        Ok(Err(e)) => {
            let _ = writeln!(
                io::stderr().lock(),
                "dha: error: {}",
                term::clean(&e.to_string())
            );
            ExitCode::from(EXIT_ERROR)
        }
        Err(_) => ExitCode::from(EXIT_ERROR),
    }
}

fn run(cli: &Cli) -> Result<u8, CliError> {
    let stdout_is_terminal = io::stdout().is_terminal();
    let colour = cli.color.resolve(
        stdout_is_terminal,
        std::env::var("NO_COLOR").ok().as_deref(),
        std::env::var("TERM").ok().as_deref(),
    );
    let layout = table::Layout {
        palette: term::Palette::new(colour),
        width: term::layout_width(
            term::terminal_columns(),
            std::env::var("COLUMNS").ok().as_deref(),
        ),
    };
    match &cli.command {
        Command::Audit(args) => audit(cli, args, layout),
        Command::Update(args) => Ok(update::run(args)),
        Command::Repo(args) => Ok(repo::run(args)),
        Command::Integrity(args) => Ok(integrity::run(args)),
        Command::Boot(args) => Ok(boot::run(args)),
        Command::Log(args) => Ok(event_log::run(args)),
        Command::Install(args) => Ok(install::run(args)),
        Command::Hooks(args) => Ok(hooks::run(args)),
        Command::Monitor(args) => Ok(monitor::run(args)),
        Command::Sbom(args) => Ok(sbom::run(args)),
        Command::Evidence(args) => Ok(evidence::run(args, cli.quiet)),
        Command::Checks(args) => {
            let text = match args.format {
                Format::Table => catalogue_view::render(dha_core::CATALOGUE, layout),
                Format::Json => catalogue_view::to_json(dha_core::CATALOGUE) + "\n",
            };
            write_stdout(&text)?;
            Ok(outcome::EXIT_PASS)
        }
    }
}

fn audit(cli: &Cli, args: &AuditArgs, layout: table::Layout) -> Result<u8, CliError> {
    let config = match &args.config {
        Some(path) => Config::load(path).map_err(CliError::Config)?,
        None => Config::default(),
    };
    let root = Root::with_limits(&args.root, config.read_limits()).map_err(CliError::Root)?;
    let host = LinuxHost;
    if root.is_live() && !host.is_privileged() && !cli.quiet {
        let _ = writeln!(
            io::stderr().lock(),
            "dha: note: not running as root: files that only root may read (/etc/shadow, \
             /etc/gshadow, /etc/sudoers, ...) cannot be audited; the report lists them under warnings"
        );
    }
    log::info!("auditing {}", root.dir().display());
    let clock = SystemClock;
    // The live probe is used only when the root is the live `/`.
    let auditor = Auditor::new(&config, &clock).with_host(&host);
    let started = std::time::Instant::now();
    let report: Report = auditor.run(&root);
    log::info!(
        "{} checks, {} findings, {} warnings in {} ms",
        report.checks.len(),
        report.findings.len(),
        report.warnings.len(),
        started.elapsed().as_millis()
    );
    let text = match args.format {
        Format::Table => table::render(&report, args.fail_on, layout),
        Format::Json => report.to_json() + "\n",
    };
    write_stdout(&text)?;
    let verdict = Verdict::of(&report, args.fail_on.threshold());
    if verdict == Verdict::NothingAudited {
        return Err(CliError::NothingAudited(root.dir().display().to_string()));
    }
    Ok(verdict.exit_status())
}

fn write_stdout(text: &str) -> Result<(), CliError> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(CliError::Output)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn audit_defaults_are_the_documented_ones() {
        let cli = Cli::try_parse_from(["dha", "audit"]).unwrap();
        let Command::Audit(a) = cli.command else {
            panic!("not audit")
        };
        assert_eq!(a.root, PathBuf::from("/"));
        assert!(a.config.is_none());
        assert_eq!(a.format, Format::Table);
        assert_eq!(a.fail_on, FailOn::High);
        assert_eq!(cli.color, ColorChoice::Auto);
    }

    #[test]
    fn global_flags_work_after_the_subcommand() {
        let cli = Cli::try_parse_from([
            "dha",
            "audit",
            "-vv",
            "--color",
            "never",
            "--fail-on",
            "none",
        ])
        .unwrap();
        assert_eq!(cli.verbose, 2);
        assert_eq!(cli.color, ColorChoice::Never);
        assert!(Cli::try_parse_from(["dha", "checks", "-q", "-v"]).is_err());
        assert!(Cli::try_parse_from(["dha", "audit", "--fail-on", "severe"]).is_err());
    }

    #[test]
    fn audit_help_documents_exit_status_and_every_flag() {
        let mut cmd = Cli::command();
        // Global flags reach subcommands when the whole command is built.
        cmd.build();
        let audit = cmd.find_subcommand_mut("audit").unwrap();
        let help = audit.render_long_help().to_string();
        for needle in [
            "Exit status:",
            "--root",
            "--config",
            "--format",
            "--fail-on",
            "--color",
            "--verbose",
            "--quiet",
            "NO_COLOR",
            "Example:",
        ] {
            assert!(help.contains(needle), "{needle} missing from\n{help}");
        }
    }
}
