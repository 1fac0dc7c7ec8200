//! `dha boot`: the boot loader's slot selection (issue 5, "Boot control"),
//! a thin shell over [`dha_core::boot`] and the back ends of
//! [`dha_linux::boot`].
//!
//! - `dha boot status` prints the boot order, each slot's tries left, the
//!   running slot and the slot the boot loader starts next.
//! - `dha boot confirm` runs the health checks of `[boot]` on the running
//!   slot and marks it good when they all pass ([`boot::confirm`]); it
//!   reports a fall back of the boot loader.
//! - `dha boot mark-good [SLOT]` (by default the running slot) re-arms the
//!   slot after a healthy boot; `mark-bad [SLOT]` takes it out of the boot
//!   order (refused when no bootable slot would remain); `switch SLOT`
//!   makes it the next to boot, with `--max-tries` tries.
//!
//! The back end comes from `[boot]` of `--config` unless `--backend` (and
//! its options) is given; the tries from `install.boot_tries` unless
//! `--max-tries`. Every write is read back; a write that did not stick is a
//! failure. With `--config`, the `boot.*` events (`boot.fell_back`,
//! `boot.marked_good`, `boot.marked_bad`) are recorded in the event log and
//! dispatched by the recovery policy ([`crate::record`]).
//!
//! Exit status: 0 done (healthy, for `confirm`); 1 refused (unknown slot,
//! no bootable slot would remain), the write failed or did not read back,
//! or `confirm` found the slot unhealthy; 2 a usage error, no back end, or
//! the environment could not be read.

use std::io::{self, Write as _};
use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use dha_core::Config;
use dha_core::Severity;
use dha_core::boot::{self, BootControl, BootError, BootPolicy, BootStatus, ConfirmReport, SlotId};
use dha_core::events::{Event, EventKind};
use dha_linux::boot::{FileBootControl, GrubEnv, UBootEnv, valid_slot_name};

use crate::{record, term};

/// Exit status: done.
pub const EXIT_OK: u8 = 0;
/// Exit status: refused, the write failed or did not read back, or
/// `confirm` found the running slot unhealthy.
pub const EXIT_FAILED: u8 = 1;
/// Exit status: usage error or unreadable environment (clap uses 2 too).
pub const EXIT_USAGE: u8 = 2;

const BOOT_LONG_ABOUT: &str = "\
Read and change which slot the boot loader starts (A/B updates), with RAUC's variables: \
BOOT_ORDER (the slots in the order tried) and BOOT_<slot>_LEFT (tries left). The boot \
loader starts the first slot of the order with tries left and takes one try; a healthy \
system then marks its slot good, which re-arms its tries. Every write is read back.

After a boot, `dha boot confirm` runs the health checks of [boot] in --config (executables, \
each with a timeout) on the running slot and marks it good when all pass; otherwise the slot \
keeps losing a try at each boot until the boot loader falls back to the other slot.

The back end is [boot] backend of --config, unless --backend is given:
  uboot  the U-Boot environment through fw_printenv / fw_setenv -s (running slot: rauc.slot=
         or dha.slot= on /proc/cmdline)
  grub   a GRUB environment block (--env /boot/grub/grubenv) through grub-editenv
  file   a text file of KEY=VALUE lines (--env FILE), for test rigs; BOOTED=SLOT names the
         running slot";

const BOOT_AFTER_HELP: &str = "\
Examples:
  dha boot confirm --config /etc/dha/dha.toml
  dha boot status --backend uboot
  dha boot mark-good --backend grub --env /boot/grub/grubenv
  dha boot switch B --backend file --env /tmp/rig/bootenv --format json

Exit status:
  0  done (confirm: every health check passed and the slot was marked good)
  1  refused (unknown slot; no bootable slot would remain), the write failed or did not
     read back, or confirm found the running slot unhealthy (not marked good); the reason
     is one line on standard error
  2  usage error, no back end configured, or the boot environment could not be read";

/// `dha boot`: its options (global to its actions) and the action.
#[derive(Debug, Args)]
#[command(long_about = BOOT_LONG_ABOUT, after_long_help = BOOT_AFTER_HELP)]
pub struct BootArgs {
    /// A dha.toml: [boot] names the back end and the health checks,
    /// install.boot_tries the tries, [eventlog] and [recovery] where the
    /// boot.* events go
    #[arg(long, value_name = "FILE", global = true)]
    config: Option<PathBuf>,

    /// Where the boot loader keeps its variables (instead of [boot] backend)
    #[arg(long, value_enum, global = true)]
    backend: Option<Backend>,

    /// The environment file (file and grub back ends)
    #[arg(long, value_name = "FILE", global = true)]
    env: Option<PathBuf>,

    /// The fw_printenv program (uboot back end)
    #[arg(
        long,
        value_name = "PATH",
        global = true,
        default_value = "fw_printenv"
    )]
    fw_printenv: PathBuf,

    /// The fw_setenv program (uboot back end)
    #[arg(long, value_name = "PATH", global = true, default_value = "fw_setenv")]
    fw_setenv: PathBuf,

    /// The grub-editenv program (grub back end)
    #[arg(
        long,
        value_name = "PATH",
        global = true,
        default_value = "grub-editenv"
    )]
    grub_editenv: PathBuf,

    /// Tries a slot gets when switched to or marked good (default:
    /// install.boot_tries of --config, 3)
    #[arg(long, value_name = "N", global = true,
          value_parser = clap::value_parser!(u32).range(1..=255))]
    max_tries: Option<u32>,

    /// Output format
    #[arg(long, value_enum, global = true, default_value_t = Format::Table)]
    format: Format,

    #[command(subcommand)]
    action: Action,
}

/// Where the boot loader keeps its variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Backend {
    /// A text file of KEY=VALUE lines (test rigs)
    File,
    /// The U-Boot environment (fw_printenv / fw_setenv)
    Uboot,
    /// A GRUB environment block (grub-editenv)
    Grub,
}

/// How the result is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// A table for a person
    Table,
    /// JSON with a `schema_version`, for a machine
    Json,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Print the boot order, the tries left, the running and the next slot
    Status,
    /// Run the health checks of [boot] on the running slot, then mark it
    /// good when all pass (exit 1 when one fails)
    Confirm,
    /// Re-arm a slot's tries after a healthy boot (default: the running slot)
    MarkGood {
        /// The slot (A, B, …)
        slot: Option<String>,
    },
    /// Take a slot out of the boot order with no tries (default: the running
    /// slot); refused when no bootable slot would remain
    MarkBad {
        /// The slot (A, B, …)
        slot: Option<String>,
    },
    /// Make a slot the next to boot, with --max-tries tries
    Switch {
        /// The slot (A, B, …)
        slot: String,
    },
}

/// What ends a run early.
enum Failure {
    Usage(String),
    Boot(BootError),
    Output(io::Error),
}

impl Failure {
    fn exit_status(&self) -> u8 {
        match self {
            Failure::Boot(BootError::Read { .. }) | Failure::Usage(_) | Failure::Output(_) => {
                EXIT_USAGE
            }
            Failure::Boot(_) => EXIT_FAILED,
        }
    }

    fn message(&self) -> String {
        match self {
            Failure::Usage(m) => m.clone(),
            Failure::Boot(e) => e.to_string(),
            Failure::Output(e) => format!("cannot write the output: {e}"),
        }
    }
}

/// Runs `dha boot` and returns the exit status.
pub fn run(args: &BootArgs) -> u8 {
    match run_inner(args) {
        Ok(status) => status,
        Err(Failure::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => EXIT_USAGE,
        Err(f) => {
            let line = f.message().replace(['\n', '\r'], " ");
            let _ = writeln!(io::stderr().lock(), "dha: boot: {}", term::clean(&line));
            f.exit_status()
        }
    }
}

fn run_inner(args: &BootArgs) -> Result<u8, Failure> {
    let config = match &args.config {
        Some(path) => Config::load(path).map_err(|e| Failure::Usage(e.to_string()))?,
        None => Config::default(),
    };
    let bc = backend(args, &config)?;
    let policy = match args.max_tries {
        Some(max_tries) => BootPolicy { max_tries },
        None => config.boot_policy(),
    };
    let bc = bc.as_ref();
    let mut events = Vec::new();
    let mut confirmed = None;
    let (action, slot) = match &args.action {
        Action::Status => ("status", None),
        Action::Confirm => {
            let report = boot::confirm(bc, policy, &config.boot, &mut []).map_err(Failure::Boot)?;
            events = report.events();
            let slot = report.slot.clone();
            confirmed = Some(report);
            ("confirm", Some(slot))
        }
        Action::MarkGood { slot } => {
            let s = slot_or_booted(bc, slot.as_deref())?;
            let st = boot::mark_good(bc, policy, &s).map_err(Failure::Boot)?;
            let tries = st.tries_left.get(&s).copied().unwrap_or(0);
            events.push(
                Event::new(EventKind::BootMarkedGood, Severity::Info)
                    .with("slot", s.0.as_str())
                    .with("tries_left", tries)
                    .with("by", "dha boot mark-good"),
            );
            ("mark-good", Some(s))
        }
        Action::MarkBad { slot } => {
            let s = slot_or_booted(bc, slot.as_deref())?;
            boot::mark_bad(bc, &s).map_err(Failure::Boot)?;
            events.push(
                Event::new(EventKind::BootMarkedBad, Severity::High)
                    .with("slot", s.0.as_str())
                    .with("by", "dha boot mark-bad"),
            );
            ("mark-bad", Some(s))
        }
        Action::Switch { slot } => {
            let s = slot_id(slot)?;
            boot::switch(bc, policy, &s).map_err(Failure::Boot)?;
            ("switch", Some(s))
        }
    };
    if args.config.is_some() {
        record::record(&config, events);
    }
    let st = boot::status(bc).map_err(Failure::Boot)?;
    let text = match args.format {
        Format::Table => {
            let mut t = confirmed.as_ref().map(confirm_table).unwrap_or_default();
            t.push_str(&table(&st, action, slot.as_ref(), confirmed.is_none()));
            t
        }
        Format::Json => json(&st, action, slot.as_ref(), confirmed.as_ref()),
    };
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(Failure::Output)?;
    Ok(match confirmed {
        Some(r) if !r.healthy() => {
            if let Some(f) = r.failure() {
                let why = f.result.clone().err().unwrap_or_default();
                let line = format!(
                    "slot {} unhealthy: health check {}: {why}; not marked good",
                    r.slot, f.name
                );
                let _ = writeln!(
                    io::stderr().lock(),
                    "dha: boot: {}",
                    term::clean(&line.replace(['\n', '\r'], " "))
                );
            }
            EXIT_FAILED
        }
        _ => EXIT_OK,
    })
}

/// The boot control of `--backend` and its options, or else of `[boot]`.
fn backend(args: &BootArgs, config: &Config) -> Result<Box<dyn BootControl>, Failure> {
    let Some(kind) = args.backend else {
        if args.env.is_some() {
            return Err(Failure::Usage("--env needs --backend file|grub".to_owned()));
        }
        return dha_linux::boot::from_config(&config.boot).map_err(|e| match e {
            BootError::Refused(why) => Failure::Usage(format!(
                "{why}{}",
                if args.config.is_none() {
                    " (or give --backend; no --config was given)"
                } else {
                    ""
                }
            )),
            other => Failure::Boot(other),
        });
    };
    let env = || {
        args.env.clone().ok_or_else(|| {
            Failure::Usage(format!("--backend {kind:?} needs --env FILE").to_lowercase())
        })
    };
    Ok(match kind {
        Backend::File => Box::new(FileBootControl::new(env()?)),
        Backend::Grub => Box::new(GrubEnv::new(env()?).with_tool(&args.grub_editenv)),
        Backend::Uboot => {
            if args.env.is_some() {
                return Err(Failure::Usage(
                    "--env is for the file and grub back ends (uboot uses fw_printenv's configuration)"
                        .to_owned(),
                ));
            }
            Box::new(UBootEnv::new(&args.fw_printenv, &args.fw_setenv))
        }
    })
}

fn slot_id(name: &str) -> Result<SlotId, Failure> {
    if valid_slot_name(name) {
        Ok(SlotId(name.to_owned()))
    } else {
        Err(Failure::Usage(format!(
            "slot name {name:?} is not 1 to 32 letters, digits, '_' or '-'"
        )))
    }
}

fn slot_or_booted(bc: &dyn BootControl, slot: Option<&str>) -> Result<SlotId, Failure> {
    match slot {
        Some(s) => slot_id(s),
        None => bc.booted().ok_or_else(|| {
            Failure::Usage(
                "the running slot is not known (no rauc.slot= or dha.slot= on the kernel \
                 command line, no BOOTED= line): name the slot"
                    .to_owned(),
            )
        }),
    }
}

/// The lines `confirm` prints before the status table.
fn confirm_table(r: &ConfirmReport) -> String {
    let mut out = String::new();
    for from in &r.fell_back_from {
        out.push_str(&format!(
            "fell back: slot {} ran out of tries; running {}\n",
            term::clean(&from.0),
            term::clean(&r.slot.0)
        ));
    }
    for c in &r.checks {
        match &c.result {
            Ok(()) => out.push_str(&format!("ok    {}\n", term::clean(&c.name))),
            Err(why) => out.push_str(&format!(
                "FAIL  {}: {}\n",
                term::clean(&c.name),
                term::clean(why)
            )),
        }
    }
    if r.checks.is_empty() {
        out.push_str("no health checks configured ([boot] health_checks)\n");
    }
    let s = term::clean(&r.slot.0);
    if r.marked_good {
        out.push_str(&format!("confirm {s}: healthy, marked good (read back)\n"));
    } else {
        out.push_str(&format!(
            "confirm {s}: unhealthy, not marked good (the boot loader falls back when its tries \
             run out)\n"
        ));
        match &r.marked_bad {
            Some(Ok(())) => out.push_str(&format!("marked {s} bad (boot.mark_bad_on_failure)\n")),
            Some(Err(why)) => out.push_str(&format!("not marked bad: {}\n", term::clean(why))),
            None => {}
        }
    }
    out
}

fn table(st: &BootStatus, action: &str, slot: Option<&SlotId>, done_line: bool) -> String {
    let mut out = String::new();
    if let (Some(s), true) = (slot, done_line) {
        out.push_str(&format!("{action} {s}: done (read back)\n"));
    }
    out.push_str(&format!(
        "{:<10} {:>5} {:>10}  {}\n",
        "SLOT", "ORDER", "TRIES LEFT", "STATE"
    ));
    for s in &st.slots {
        let mut state = Vec::new();
        if s.booted {
            state.push("booted");
        }
        if st.next.as_ref() == Some(&s.slot) {
            state.push("next");
        }
        if s.position.is_none() {
            state.push("bad (not in the order)");
        } else if s.tries_left == 0 {
            state.push("exhausted");
        }
        let pos = s.position.map_or_else(|| "-".to_owned(), |p| p.to_string());
        out.push_str(&format!(
            "{:<10} {:>5} {:>10}  {}\n",
            term::clean(&s.slot.0),
            pos,
            s.tries_left,
            state.join(", ")
        ));
    }
    let booted = st
        .booted
        .as_ref()
        .map_or("unknown".to_owned(), |b| b.0.clone());
    out.push_str(&format!("booted: {}\n", term::clean(&booted)));
    out
}

fn json(
    st: &BootStatus,
    action: &str,
    slot: Option<&SlotId>,
    confirmed: Option<&ConfirmReport>,
) -> String {
    let confirm = confirmed.map(|r| {
        serde_json::json!({
            "healthy": r.healthy(),
            "checks": r.checks.iter().map(|c| serde_json::json!({
                "name": c.name,
                "ok": c.result.is_ok(),
                "error": c.result.as_ref().err(),
            })).collect::<Vec<_>>(),
            "fell_back_from": r.fell_back_from.iter().map(|s| s.0.clone()).collect::<Vec<_>>(),
            "marked_good": r.marked_good,
            "marked_bad": r.marked_bad.as_ref().map(|m| serde_json::json!({
                "ok": m.is_ok(),
                "error": m.as_ref().err(),
            })),
        })
    });
    let mut v = st.to_json_value();
    if let Some(doc) = v.as_object_mut() {
        doc.insert("action".to_owned(), action.into());
        doc.insert("confirm".to_owned(), confirm.into());
        doc.insert("slot".to_owned(), slot.map(|s| s.0.clone()).into());
    }
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}
