//! The live-audit benchmark: a full audit of this machine (`/`, every check of
//! the catalogue, with the live probe), its wall time and peak memory, and
//! Lynis (the catalogue's reference tool) auditing the same machine in the
//! same run when it is installed.
//!
//! ```text
//! cargo run --release -p dha-tests --bin bench-live-audit [-- --runs N] [--no-peer]
//! ```
//!
//! The audit runs in a child process: one warm-up audit, then the timed ones;
//! the child reports every run's wall time and its peak resident memory
//! (`VmHWM`, proc(5)), and the time of each check run alone (with the parsing
//! it needs). Lynis (`lynis audit system --quick --no-log`, Debian's `lynis`)
//! is run as many times; the ratio is dha's median over Lynis's. The two do
//! not check the same things (Lynis runs ~250 tests, dha its catalogue), so
//! the ratio says how an on-device audit compares in cost with the tool
//! service engineers know, not that one is faster at the same work.
//!
//! A benchmark, not a test: nothing here asserts on time (DESIGN.md "Testing").
//! Run it as root, as the audit of a live system needs (shadow, sudoers).

use dha_core::{Auditor, CheckStatus, Config, Root, SystemClock};
use dha_linux::LinuxHost;
use std::error::Error;
use std::fmt::Write as _;
use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

type Res<T> = Result<T, Box<dyn Error>>;

fn main() {
    if let Err(e) = real_main() {
        eprintln!("bench-live-audit: {e}");
        std::process::exit(2);
    }
}

fn real_main() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--child") {
        let runs: usize = args.get(1).ok_or("--child RUNS")?.parse()?;
        return child(runs);
    }
    let mut runs = 5usize;
    let mut peer = true;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--runs" => {
                runs = it
                    .next()
                    .ok_or("--runs needs a number")?
                    .parse::<usize>()?
                    .max(1)
            }
            "--no-peer" => peer = false,
            "-h" | "--help" => {
                println!(
                    "usage: bench-live-audit [--runs N] [--no-peer]\n\
                     Audits this machine (/) with every check, N timed runs after a warm-up, \
                     and prints the median time, the peak memory and each check's time; \
                     then runs Lynis as many times (unless --no-peer) and prints the ratio."
                );
                return Ok(());
            }
            other => return Err(format!("unknown argument {other:?} (see --help)").into()),
        }
    }
    println!(
        "dha live-audit benchmark: {} build, {} CPUs, {} timed runs after one warm-up",
        if cfg!(debug_assertions) {
            "DEBUG (numbers meaningless; use --release)"
        } else {
            "release"
        },
        std::thread::available_parallelism().map_or(1, usize::from),
        runs
    );
    let out = Command::new(std::env::current_exe()?)
        .arg("--child")
        .arg(runs.to_string())
        .output()?;
    if !out.status.success() {
        return Err(format!("child failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let value = |key: &str| -> Res<String> {
        text.lines()
            .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(' ')))
            .map(str::to_owned)
            .ok_or_else(|| format!("the child did not report {key}").into())
    };
    let mut times: Vec<Duration> = value("times_ns")?
        .split(',')
        .map(|t| t.parse::<u64>().map(Duration::from_nanos))
        .collect::<Result<_, _>>()?;
    times.sort();
    let dha_median = median(&times);
    let base_kib: u64 = value("base_kib")?.parse()?;
    let hwm_kib: u64 = value("hwm_kib")?.parse()?;
    println!(
        "dha:   median {:.1} ms (min {:.1}, max {:.1}); peak memory {:.1} MiB (VmHWM; {:.1} MiB above the process before the audit); {} checks ({} ran, the rest not applicable), {} findings, {} warnings",
        ms(dha_median),
        ms(times.first().copied().unwrap_or_default()),
        ms(times.last().copied().unwrap_or_default()),
        hwm_kib as f64 / 1024.0,
        hwm_kib.saturating_sub(base_kib) as f64 / 1024.0,
        value("checks")?,
        value("checks_ran")?,
        value("findings")?,
        value("warnings")?,
    );
    println!("each check alone (median ms, with the parsing it needs):");
    for line in text.lines().filter_map(|l| l.strip_prefix("check ")) {
        let (id, ns) = line.split_once(' ').ok_or("check ID NS")?;
        let d = Duration::from_nanos(ns.parse()?);
        println!("  {id:<8} {:>9.2}", ms(d));
    }
    if peer {
        match lynis(runs)? {
            Some(mut t) => {
                t.sort();
                let m = median(&t);
                println!(
                    "lynis: median {:.1} ms (min {:.1}, max {:.1}) for `lynis audit system --quick --no-log`",
                    ms(m),
                    ms(t.first().copied().unwrap_or_default()),
                    ms(t.last().copied().unwrap_or_default()),
                );
                println!(
                    "ratio dha / lynis (median): {:.3}",
                    dha_median.as_secs_f64() / m.as_secs_f64().max(f64::MIN_POSITIVE)
                );
            }
            None => println!("lynis: not installed (apt-get install lynis); no peer figure"),
        }
    }
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(sorted: &[Duration]) -> Duration {
    let n = sorted.len();
    match n {
        0 => Duration::ZERO,
        _ if n % 2 == 1 => sorted.get(n / 2).copied().unwrap_or_default(),
        _ => {
            let a = sorted.get(n / 2 - 1).copied().unwrap_or_default();
            let b = sorted.get(n / 2).copied().unwrap_or_default();
            (a + b) / 2
        }
    }
}

/// Runs Lynis `runs` times; `None` when it is not installed.
fn lynis(runs: usize) -> Res<Option<Vec<Duration>>> {
    let probe = Command::new("lynis")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        return Ok(None);
    }
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let status = Command::new("lynis")
            .args(["audit", "system", "--quick", "--no-log", "--no-colors"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        times.push(t.elapsed());
        if !status.success() {
            return Err(format!("lynis exited with {status}").into());
        }
    }
    Ok(Some(times))
}

/// The child: audits `/` once to warm up, then `runs` times, then each
/// check alone, and prints the results as `key value` lines.
fn child(runs: usize) -> Res<()> {
    let base_kib = dha_tests::vm_hwm_kib()?;
    let config = Config::default();
    let root = Root::with_limits("/", config.read_limits())?;
    let host = LinuxHost;
    let auditor = Auditor::new(&config, &SystemClock).with_host(&host);
    let warm = auditor.run(&root);
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let report = auditor.run(&root);
        times.push(t.elapsed());
        drop(report);
    }
    let hwm_kib = dha_tests::vm_hwm_kib()?;
    let mut out = String::new();
    for &(id, run) in dha_core::checks::REGISTRY {
        let mut t: Vec<Duration> = (0..runs.clamp(1, 3))
            .map(|_| {
                let start = Instant::now();
                drop(auditor.run_checks(&root, &[(id, run)]));
                start.elapsed()
            })
            .collect();
        t.sort();
        writeln!(out, "check {id} {}", median(&t).as_nanos())?;
    }
    writeln!(out, "base_kib {base_kib}")?;
    writeln!(out, "hwm_kib {hwm_kib}")?;
    writeln!(out, "findings {}", warm.findings.len())?;
    writeln!(out, "warnings {}", warm.warnings.len())?;
    writeln!(out, "checks {}", warm.checks.len())?;
    let ran = warm
        .checks
        .iter()
        .filter(|c| matches!(c.status, CheckStatus::Pass | CheckStatus::Fail))
        .count();
    writeln!(out, "checks_ran {ran}")?;
    let ns: Vec<String> = times.iter().map(|d| d.as_nanos().to_string()).collect();
    writeln!(out, "times_ns {}", ns.join(","))?;
    std::io::stdout().write_all(out.as_bytes())?;
    Ok(())
}
