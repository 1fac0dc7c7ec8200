//! The audit benchmark: how time and memory grow with the number of accounts.
//!
//! ```text
//! cargo run --release -p dha-tests --bin bench-audit [-- --sizes 1000,10000,100000] [--runs N]
//! ```
//!
//! For each size it builds a root from the `hardened` fixture plus that many
//! generated accounts (passwd, shadow, group and gshadow entries; a home
//! directory, mode 0750 and owned by its user, for each of the nine in ten
//! that are interactive users; the tenth is a locked service account with no
//! login shell), then audits it in a child process: one warm-up audit, then
//! the timed ones. The child reports every run's wall time and its peak
//! resident memory (`VmHWM`, proc(5)), so sizes never share a heap.
//!
//! A benchmark, not a test: nothing here asserts on time (DESIGN.md "Testing").
//! Building the roots needs root (home directories are chowned to their users),
//! as the fixture tests do.

use dha_core::{Auditor, CheckStatus, Config, FixedClock, Root};
use std::error::Error;
use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

type Res<T> = Result<T, Box<dyn Error>>;

/// 2026-11-29T00:00:00Z, the fixtures' clock (shadow day 20786).
const NOW: u64 = 1_795_910_400;
/// Shadow day of the generated passwords' last change: 86 days before `NOW`,
/// inside the default 90-day maximum.
const LAST_CHANGE: u32 = 20_700;
/// First generated UID and GID: clear of the fixture's own accounts.
const FIRST_ID: u32 = 10_000;

fn main() {
    if let Err(e) = real_main() {
        eprintln!("bench-audit: {e}");
        std::process::exit(2);
    }
}

fn real_main() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--child") {
        let dir = args.get(1).ok_or("--child DIR RUNS")?;
        let runs: usize = args.get(2).ok_or("--child DIR RUNS")?.parse()?;
        return child(Path::new(dir), runs);
    }
    let mut sizes = vec![1_000usize, 10_000, 100_000];
    let mut runs_override: Option<usize> = None;
    let mut keep = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--sizes" => {
                let v = it.next().ok_or("--sizes needs a list, e.g. 1000,10000")?;
                sizes = v
                    .split(',')
                    .map(|s| s.trim().replace('_', "").parse::<usize>())
                    .collect::<Result<_, _>>()?;
            }
            "--runs" => {
                let n: usize = it.next().ok_or("--runs needs a number")?.parse()?;
                runs_override = Some(n.max(1));
            }
            "--keep" => keep = true,
            "-h" | "--help" => {
                println!(
                    "usage: bench-audit [--sizes 1000,10000,100000] [--runs N] [--keep]\n\
                     Audits generated roots of each size (accounts) and prints the median \
                     time, the time per account and the peak memory. --keep leaves the \
                     generated roots in place (for `dha audit --root DIR`) and prints where."
                );
                return Ok(());
            }
            other => return Err(format!("unknown argument {other:?} (see --help)").into()),
        }
    }

    println!(
        "dha audit benchmark: {} build, {} CPUs, the hardened fixture plus N generated accounts",
        if cfg!(debug_assertions) {
            "DEBUG (numbers meaningless; use --release)"
        } else {
            "release"
        },
        std::thread::available_parallelism().map_or(1, usize::from),
    );
    println!(
        "{:>9} {:>7} {:>9} {:>5} {:>10} {:>9} {:>9} {:>11} {:>9} {:>9} {:>8} {:>8}",
        "accounts",
        "homes",
        "passwd",
        "runs",
        "median ms",
        "min ms",
        "max ms",
        "µs/account",
        "peak MiB",
        "+audit",
        "findings",
        "checks"
    );
    let mut baseline_ms: Option<f64> = None;
    let mut breakdown: Vec<(usize, Vec<(String, Duration)>)> = Vec::new();
    for n in std::iter::once(0).chain(sizes) {
        let runs = runs_override.unwrap_or(match n {
            0..=2_000 => 21,
            2_001..=20_000 => 11,
            _ => 5,
        });
        let fixture = dha_tests::materialise("hardened");
        let homes = generate(fixture.path(), n)?;
        let passwd_kib = fs::metadata(fixture.path().join("etc/passwd"))?.len() / 1024;
        let exe = std::env::current_exe()?;
        let out = Command::new(exe)
            .arg("--child")
            .arg(fixture.path())
            .arg(runs.to_string())
            .output()?;
        if !out.status.success() {
            return Err(format!(
                "child for {n} accounts failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )
            .into());
        }
        let r = ChildResult::parse(&String::from_utf8_lossy(&out.stdout))?;
        let median = r.median_ms();
        let per_account = match (n, baseline_ms) {
            (0, _) | (_, None) => "-".to_owned(),
            (n, Some(b)) => format!("{:.3}", (median - b).max(0.0) * 1000.0 / n as f64),
        };
        if n == 0 {
            baseline_ms = Some(median);
        }
        println!(
            "{:>9} {:>7} {:>6} KiB {:>5} {:>10.2} {:>9.2} {:>9.2} {:>11} {:>9.1} {:>9.1} {:>8} {:>8}",
            if n == 0 {
                "fixture".to_owned()
            } else {
                thousands(n)
            },
            thousands(homes),
            passwd_kib,
            runs,
            median,
            r.min_ms(),
            r.max_ms(),
            per_account,
            r.hwm_kib as f64 / 1024.0,
            r.hwm_kib.saturating_sub(r.base_kib) as f64 / 1024.0,
            r.findings,
            format!("{}/{}", r.checks_ran, r.checks),
        );
        std::io::stdout().flush()?;
        breakdown.push((n, r.per_check));
        if keep {
            println!("          kept: {}", fixture.dir.keep().display());
        }
    }
    println!(
        "median of the timed runs after one warm-up; µs/account = (median - fixture median) / \
         accounts; peak = the child's VmHWM, +audit = VmHWM minus the RSS before the first \
         audit; checks = checks that ran / all (the rest were not applicable)"
    );
    print_breakdown(&breakdown);
    Ok(())
}

/// Median ms of each check run alone, one column per size.
fn print_breakdown(breakdown: &[(usize, Vec<(String, Duration)>)]) {
    println!();
    print!("{:<8}", "check");
    for (n, _) in breakdown {
        let label = if *n == 0 {
            "fixture".to_owned()
        } else {
            thousands(*n)
        };
        print!(" {label:>12}");
    }
    println!("   (ms, each check alone with the parsing it needs)");
    let Some((_, first)) = breakdown.first() else {
        return;
    };
    for (id, _) in first {
        print!("{id:<8}");
        for (_, checks) in breakdown {
            let ms = checks
                .iter()
                .find(|(c, _)| c == id)
                .map_or(0.0, |(_, d)| d.as_secs_f64() * 1000.0);
            print!(" {ms:>12.2}");
        }
        println!();
    }
}

/// Appends `n` accounts to the root's account files and makes their homes.
/// Returns the number of home directories made.
fn generate(root: &Path, n: usize) -> Res<usize> {
    let (mut passwd, mut shadow, mut group, mut gshadow) =
        (String::new(), String::new(), String::new(), String::new());
    let home_base = root.join("home");
    fs::create_dir_all(&home_base)?;
    let mut homes = 0usize;
    for i in 0..n {
        let mut id = FIRST_ID
            .checked_add(u32::try_from(i)?)
            .ok_or("too many accounts")?;
        // 65534 is nobody/nogroup and 65535 the 16-bit (uid_t)-1: never
        // handed out by useradd, so not by this generator either.
        if id >= 65_534 {
            id = id.checked_add(2).ok_or("too many accounts")?;
        }
        // One in ten is a service account: no login shell, locked, no home.
        let service = i % 10 == 9;
        let name = if service {
            format!("svc{i:06}")
        } else {
            format!("u{i:06}")
        };
        if service {
            writeln!(
                passwd,
                "{name}:x:{id}:{id}:service {i}:/nonexistent:/usr/sbin/nologin"
            )?;
            writeln!(shadow, "{name}:!*:{LAST_CHANGE}:1:90:7:30::")?;
        } else {
            writeln!(
                passwd,
                "{name}:x:{id}:{id}:Operator {i},,,:/home/{name}:/bin/bash"
            )?;
            writeln!(
                shadow,
                "{name}:{}:{LAST_CHANGE}:1:90:7:30::",
                fake_yescrypt(i)
            )?;
            let home = home_base.join(&name);
            fs::create_dir(&home)?;
            fs::set_permissions(&home, fs::Permissions::from_mode(0o750))?;
            std::os::unix::fs::chown(&home, Some(id), Some(id))?;
            homes += 1;
        }
        writeln!(group, "{name}:x:{id}:")?;
        writeln!(gshadow, "{name}:!::")?;
    }
    for (file, add) in [
        ("etc/passwd", passwd),
        ("etc/shadow", shadow),
        ("etc/group", group),
        ("etc/gshadow", gshadow),
    ] {
        let mut f = fs::OpenOptions::new().append(true).open(root.join(file))?;
        f.write_all(add.as_bytes())?;
    }
    Ok(homes)
}

/// A string shaped like a yescrypt hash (`$y$j9T$` + 22-character salt +
/// `$` + 43-character hash), different for every account. Not a real hash of
/// anything: the audit judges the format and parameters, not the secret.
fn fake_yescrypt(i: usize) -> String {
    const ALPHABET: &[u8] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    // xorshift64*, seeded by the index: deterministic and cheap.
    let mut x = (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut pick = |len: usize| -> String {
        (0..len)
            .map(|_| {
                x ^= x >> 12;
                x ^= x << 25;
                x ^= x >> 27;
                let v = x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 58;
                char::from(
                    ALPHABET
                        .get(usize::try_from(v).unwrap_or(0))
                        .copied()
                        .unwrap_or(b'.'),
                )
            })
            .collect()
    };
    let salt = pick(22);
    let hash = pick(43);
    format!("$y$j9T${salt}${hash}")
}

/// The child: audits `dir` once to warm up, then `runs` times, and prints the
/// results as `key value` lines.
fn child(dir: &Path, runs: usize) -> Res<()> {
    let base_kib = dha_tests::vm_hwm_kib()?;
    let config = Config::default();
    let root = Root::with_limits(dir, config.read_limits())?;
    let clock = FixedClock::from_unix_secs(NOW);
    let auditor = Auditor::new(&config, &clock);
    let warm = auditor.run(&root);
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let report = auditor.run(&root);
        times.push(t.elapsed());
        // Keep the report alive until the clock stops, as a caller would.
        drop(report);
    }
    let hwm_kib = dha_tests::vm_hwm_kib()?;
    // Each check alone (with the parsing it needs, since every run_checks call
    // starts a fresh context): shows which check the time goes to.
    let mut per_check = String::new();
    for &(id, run) in dha_core::checks::REGISTRY {
        let mut t: Vec<Duration> = (0..runs.clamp(1, 5))
            .map(|_| {
                let start = Instant::now();
                drop(auditor.run_checks(&root, &[(id, run)]));
                start.elapsed()
            })
            .collect();
        t.sort();
        let median = t.get(t.len() / 2).copied().unwrap_or_default();
        writeln!(per_check, "check {id} {}", median.as_nanos())?;
    }
    let mut out = String::new();
    out.push_str(&per_check);
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

/// What a child reported.
struct ChildResult {
    base_kib: u64,
    hwm_kib: u64,
    findings: usize,
    checks: usize,
    checks_ran: usize,
    times: Vec<Duration>,
    per_check: Vec<(String, Duration)>,
}

impl ChildResult {
    fn parse(text: &str) -> Res<ChildResult> {
        let mut r = ChildResult {
            base_kib: 0,
            hwm_kib: 0,
            findings: 0,
            checks: 0,
            checks_ran: 0,
            times: Vec::new(),
            per_check: Vec::new(),
        };
        for line in text.lines() {
            let Some((k, v)) = line.split_once(' ') else {
                continue;
            };
            match k {
                "base_kib" => r.base_kib = v.parse()?,
                "hwm_kib" => r.hwm_kib = v.parse()?,
                "findings" => r.findings = v.parse()?,
                "checks" => r.checks = v.parse()?,
                "checks_ran" => r.checks_ran = v.parse()?,
                "check" => {
                    let (id, ns) = v.split_once(' ').ok_or("check ID NS")?;
                    r.per_check
                        .push((id.to_owned(), Duration::from_nanos(ns.parse()?)));
                }
                "times_ns" => {
                    r.times = v
                        .split(',')
                        .map(|t| t.parse::<u64>().map(Duration::from_nanos))
                        .collect::<Result<_, _>>()?;
                }
                _ => {}
            }
        }
        if r.times.is_empty() {
            return Err("the child reported no times".into());
        }
        r.times.sort();
        Ok(r)
    }

    fn median_ms(&self) -> f64 {
        let n = self.times.len();
        let mid = |i: usize| self.times.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0);
        if n % 2 == 1 {
            mid(n / 2)
        } else {
            (mid(n / 2 - 1) + mid(n / 2)) / 2.0
        }
    }

    fn min_ms(&self) -> f64 {
        self.times.first().map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    }

    fn max_ms(&self) -> f64 {
        self.times.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    }
}

/// `100000` → `100,000`.
fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}
