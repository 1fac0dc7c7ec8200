//! The TUF refresh benchmark: refreshing a repository of 10,000 targets in
//! 256 succinct hash bins and looking up one target, with dha's
//! `dha_core::tuf::client::Updater` side by side with the reference client
//! (python-tuf's `ngclient.Updater`) on the same repository in the same run
//! (issue 3, "Benchmarks"; goal: dha at least 10× faster).
//!
//! ```text
//! DHA_PYTHON_TUF=/tmp/venv-bench/bin/python \
//!   cargo run --release -p dha-tests --bin bench-tuf-refresh [-- --runs N] [--targets N]
//!   [--python PY] [--store-dir DIR] [--keep]
//! ```
//!
//! The Python given by `--python` or `DHA_PYTHON_TUF` (default `python3`)
//! must have `tuf==6.0.0` and `securesystemslib[crypto]==1.6.0`:
//! `python3 -m venv /tmp/venv-bench && /tmp/venv-bench/bin/pip install
//! 'tuf==6.0.0' 'securesystemslib[crypto]==1.6.0'`.
//!
//! Steps:
//! 1. `tests/data/tuf/bench/make_hashbin_repo.py` generates the repository
//!    into a temporary directory (ed25519 keys, `succinct_roles` with
//!    `bit_length` 8, no consistent snapshots, fixed expiry 2030-01-01).
//! 2. dha: one untimed warm-up, then `--runs` timed runs, each on a fresh,
//!    empty store directory (under `--store-dir`, default the system
//!    temporary directory): `Updater::init` with `client/root.json`,
//!    `Updater::new` over two `LocalDirTransport`s, `refresh`,
//!    `get_target_info` of one name (which loads only the one bin listing
//!    it). The clock is fixed at the repository's reference time
//!    (2026-11-29T00:00:00Z), before every expiry. Each phase is timed too.
//! 3. python-tuf: `tests/data/tuf/bench/python_refresh.py`, the same steps
//!    (fresh metadata directory under the same place, bootstrap root,
//!    refresh, `get_targetinfo`), timed in-process (interpreter start-up and
//!    imports excluded).
//!
//! When `/dev/shm` exists and no `--store-dir` is given, steps 2 and 3 are
//! repeated with the stores there. dha's store writes every accepted role
//! durably (fsync of each file before its rename, and of the directory once
//! per `init`, `refresh` and lookup: `tuf::store`), python-tuf does not (a
//! rename without fsync): on a disk the fsyncs
//! dominate dha's time, on tmpfs they cost next to nothing, so the second
//! comparison is the one of the verification work itself.
//!
//! For each place it prints the median of each client and the ratio
//! python-tuf / dha. A benchmark, not a test: nothing here asserts on time
//! (DESIGN.md "Testing").

use dha_core::FixedClock;
use dha_core::tuf::Limits;
use dha_core::tuf::client::Updater;
use dha_core::tuf::metadata::parse_expires;
use dha_core::tuf::transport::LocalDirTransport;
use serde_json::Value;
use std::error::Error;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

type Res<T> = Result<T, Box<dyn Error>>;

/// The goal of issue 3: dha at least this many times faster.
const GOAL_RATIO: f64 = 10.0;

fn main() {
    if let Err(e) = real_main() {
        eprintln!("bench-tuf-refresh: {e}");
        std::process::exit(2);
    }
}

/// Options from the command line.
struct Options {
    python: String,
    runs: usize,
    targets: usize,
    store_dir: Option<PathBuf>,
    keep: bool,
}

fn parse_args() -> Res<Option<Options>> {
    let mut opts = Options {
        python: std::env::var("DHA_PYTHON_TUF").unwrap_or_else(|_| "python3".to_owned()),
        runs: 20,
        targets: 10_000,
        store_dir: None,
        keep: false,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--child-once") {
        child_once(args.get(1..).unwrap_or_default())?;
        return Ok(None);
    }
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--python" => opts.python = it.next().ok_or("--python needs a path")?.clone(),
            "--runs" => {
                let n: usize = it.next().ok_or("--runs needs a number")?.parse()?;
                opts.runs = n.max(1);
            }
            "--targets" => {
                let n: usize = it
                    .next()
                    .ok_or("--targets needs a number")?
                    .replace('_', "")
                    .parse()?;
                opts.targets = n.max(1);
            }
            "--store-dir" => {
                opts.store_dir = Some(PathBuf::from(
                    it.next().ok_or("--store-dir needs a directory")?,
                ));
            }
            "--keep" => opts.keep = true,
            "-h" | "--help" => {
                println!(
                    "usage: bench-tuf-refresh [--runs N] [--targets N] [--python PY] \
                     [--store-dir DIR] [--keep]\n\
                     Generates a repository of N targets (10000) in 256 hash bins with \
                     python-tuf (PY, or $DHA_PYTHON_TUF, or python3: needs tuf 6.0.0), then \
                     times a cold refresh + one lookup with dha and with python-tuf and \
                     prints the medians and the ratio. --keep leaves the repository in \
                     place and prints where."
                );
                return Ok(None);
            }
            other => return Err(format!("unknown argument {other:?} (see --help)").into()),
        }
    }
    Ok(Some(opts))
}

fn real_main() -> Res<()> {
    let Some(opts) = parse_args()? else {
        return Ok(());
    };
    let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/tuf/bench");
    let work = tempfile::Builder::new()
        .prefix("dha-bench-tuf-")
        .tempdir()?;
    let repo = work.path().join("repo");

    // 1. The repository, by the reference implementation.
    let t = Instant::now();
    let out = Command::new(&opts.python)
        .arg(scripts.join("make_hashbin_repo.py"))
        .arg(&repo)
        .arg("--targets")
        .arg(opts.targets.to_string())
        .output()
        .map_err(|e| format!("running {}: {e}", opts.python))?;
    if !out.status.success() {
        return Err(format!(
            "make_hashbin_repo.py failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )
        .into());
    }
    let bench: Value = serde_json::from_slice(&fs::read(repo.join("bench.json"))?)?;
    let lookup = field(&bench, "lookup")
        .as_str()
        .ok_or("bench.json: no lookup")?;
    let want_sha256 = field(&bench, "lookup_sha256")
        .as_str()
        .ok_or("bench.json: no lookup_sha256")?;
    let reference = field(&bench, "reference_time")
        .as_str()
        .and_then(parse_expires)
        .ok_or("bench.json: no valid reference_time")?;
    println!(
        "repository: {} targets in {} bins ({}), {} bytes of metadata, by tuf {} \
         (generated in {:.1} s)",
        field(&bench, "targets"),
        field(&bench, "bins"),
        field(&bench, "name_prefix").as_str().unwrap_or("?"),
        field(&bench, "metadata_bytes"),
        field(field(&bench, "generator"), "tuf")
            .as_str()
            .unwrap_or("?"),
        t.elapsed().as_secs_f64()
    );
    println!(
        "lookup: {lookup} (in {}), {} runs each, fresh store per run, clock {}",
        field(&bench, "lookup_bin").as_str().unwrap_or("?"),
        opts.runs,
        field(&bench, "reference_time").as_str().unwrap_or("?")
    );
    println!();

    // 2. and 3., for each place the stores go.
    let clock = FixedClock(reference);
    let root = fs::read(repo.join("client/root.json"))?;
    let mut places: Vec<(String, PathBuf)> = Vec::new();
    match &opts.store_dir {
        Some(d) => places.push((d.display().to_string(), d.clone())),
        None => {
            let tmp = std::env::temp_dir();
            places.push((tmp.display().to_string(), tmp));
            let shm = Path::new("/dev/shm");
            if shm.is_dir() {
                places.push(("/dev/shm (tmpfs)".to_owned(), shm.to_path_buf()));
            }
        }
    }
    for (label, place) in &places {
        println!("stores in {label}:");
        let runs = dha_runs(&opts, &repo, &root, lookup, want_sha256, &clock, place)?;
        let median = |f: fn(&Phases) -> Duration| ms(median_of(runs.iter().map(f).collect()));
        let dha = median(|p| p.total);
        println!(
            "  dha        {dha:8.3} ms median (min {:.3}; phases: init {:.3}, new {:.3}, \
             refresh {:.3}, lookup {:.3} ms)",
            runs.iter()
                .map(|p| ms(p.total))
                .fold(f64::INFINITY, f64::min),
            median(|p| p.init),
            median(|p| p.new),
            median(|p| p.refresh),
            median(|p| p.lookup),
        );
        let (py, py_min) = python_runs(&opts, &scripts, &repo, lookup, place)?;
        println!("  python-tuf {py:8.3} ms median (min {py_min:.3})");
        print_ratio("in-process", py, dha);
        let (dha_cold, py_cold) = cold_runs(&opts, &scripts, &repo, lookup, place, reference)?;
        println!(
            "  cold process, start-up included: dha {dha_cold:8.3} ms, python-tuf {py_cold:8.3} ms (medians)"
        );
        print_ratio("cold process", py_cold, dha_cold);
    }
    if opts.keep {
        let kept = work.keep();
        println!("\nrepository kept in {}", kept.join("repo").display());
    }
    Ok(())
}

fn print_ratio(what: &str, py: f64, dha: f64) {
    let ratio = if dha > 0.0 { py / dha } else { f64::INFINITY };
    let verdict = if ratio >= GOAL_RATIO {
        "meets"
    } else {
        "misses"
    };
    println!(
        "  {what}: ratio python-tuf / dha = {ratio:.1}x ({verdict} the goal of {GOAL_RATIO}x)"
    );
}

/// The child of a cold-process run: one dha refresh and lookup
/// (`--child-once REPO LOOKUP PLACE REFERENCE_SECS`), then exit.
fn child_once(args: &[String]) -> Res<()> {
    let [repo, lookup, place, secs] = args else {
        return Err("--child-once REPO LOOKUP PLACE REFERENCE_SECS".into());
    };
    let repo = Path::new(repo);
    let clock = FixedClock(std::time::UNIX_EPOCH + Duration::from_secs(secs.parse()?));
    let root = fs::read(repo.join("client/root.json"))?;
    let dir = tempfile::Builder::new()
        .prefix("dha-bench-store-")
        .tempdir_in(place)?;
    let store = dir.path().join("store");
    Updater::init(&store, &root)?;
    let mut updater = Updater::new(
        &store,
        Box::new(LocalDirTransport::new(&repo.join("metadata"))?),
        Box::new(LocalDirTransport::new(&repo.join("targets"))?),
        Limits::default(),
        &clock,
        None,
    )?;
    updater.refresh()?;
    updater.get_target_info(lookup)?;
    Ok(())
}

/// The whole-process comparison: each run starts a fresh process (dha: this
/// benchmark as `--child-once`; python-tuf: `python_refresh.py --once`, so
/// the interpreter's start-up and imports count) that refreshes and looks
/// up once, timed from spawn to exit, with the clock at `reference`. The
/// medians, in milliseconds.
fn cold_runs(
    opts: &Options,
    scripts: &Path,
    repo: &Path,
    lookup: &str,
    place: &Path,
    reference: std::time::SystemTime,
) -> Res<(f64, f64)> {
    let exe = std::env::current_exe()?;
    let secs = reference
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| format!("reference time before 1970: {e}"))?
        .as_secs();
    let time_one = |cmd: &mut Command| -> Res<Duration> {
        let t = Instant::now();
        let out = cmd.output()?;
        let d = t.elapsed();
        if !out.status.success() {
            return Err(format!(
                "cold run failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )
            .into());
        }
        Ok(d)
    };
    let (mut dha, mut py) = (Vec::new(), Vec::new());
    for _ in 0..opts.runs {
        dha.push(time_one(
            Command::new(&exe)
                .arg("--child-once")
                .arg(repo)
                .arg(lookup)
                .arg(place)
                .arg(secs.to_string()),
        )?);
        py.push(time_one(
            Command::new(&opts.python)
                .arg(scripts.join("python_refresh.py"))
                .arg(repo)
                .arg("--once")
                .arg("--target")
                .arg(lookup)
                .arg("--store-dir")
                .arg(place),
        )?);
    }
    Ok((ms(median_of(dha)), ms(median_of(py))))
}

/// Runs python_refresh.py with its stores under `place`: the median and
/// the minimum, in milliseconds.
fn python_runs(
    opts: &Options,
    scripts: &Path,
    repo: &Path,
    lookup: &str,
    place: &Path,
) -> Res<(f64, f64)> {
    let out = Command::new(&opts.python)
        .arg(scripts.join("python_refresh.py"))
        .arg(repo)
        .arg("--runs")
        .arg(opts.runs.to_string())
        .arg("--target")
        .arg(lookup)
        .arg("--store-dir")
        .arg(place)
        .output()
        .map_err(|e| format!("running {}: {e}", opts.python))?;
    if !out.status.success() {
        return Err(format!(
            "python_refresh.py failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )
        .into());
    }
    let stdout = String::from_utf8(out.stdout)?;
    let last = stdout
        .lines()
        .last()
        .ok_or("python_refresh.py printed nothing")?;
    let report: Value = serde_json::from_str(last)?;
    let median = field(&report, "median_ms")
        .as_f64()
        .ok_or("python_refresh.py: no median_ms")?;
    let min = field(&report, "min_ms")
        .as_f64()
        .ok_or("python_refresh.py: no min_ms")?;
    Ok((median, min))
}

/// The wall time of one dha run and of its phases.
struct Phases {
    init: Duration,
    new: Duration,
    refresh: Duration,
    lookup: Duration,
    total: Duration,
}

/// One warm-up and `opts.runs` timed cold runs of dha's client, each on a
/// fresh store directory under `place`.
fn dha_runs(
    opts: &Options,
    repo: &Path,
    root: &[u8],
    lookup: &str,
    want_sha256: &str,
    clock: &FixedClock,
    place: &Path,
) -> Res<Vec<Phases>> {
    let mut runs = Vec::with_capacity(opts.runs);
    for i in 0..=opts.runs {
        let dir = tempfile::Builder::new()
            .prefix("dha-bench-store-")
            .tempdir_in(place)?;
        let store = dir.path().join("store");
        let t0 = Instant::now();
        Updater::init(&store, root)?;
        let t1 = Instant::now();
        let mut updater = Updater::new(
            &store,
            Box::new(LocalDirTransport::new(&repo.join("metadata"))?),
            Box::new(LocalDirTransport::new(&repo.join("targets"))?),
            Limits::default(),
            clock,
            None,
        )?;
        let t2 = Instant::now();
        updater.refresh()?;
        let t3 = Instant::now();
        let info = updater.get_target_info(lookup)?;
        let t4 = Instant::now();
        if info.hashes().get("sha256").map(String::as_str) != Some(want_sha256) {
            return Err(format!("dha found {lookup} with another sha256").into());
        }
        if i > 0 {
            runs.push(Phases {
                init: t1.duration_since(t0),
                new: t2.duration_since(t1),
                refresh: t3.duration_since(t2),
                lookup: t4.duration_since(t3),
                total: t4.duration_since(t0),
            });
        }
    }
    Ok(runs)
}

/// A member of a JSON object, or null (no panicking index).
fn field<'a>(v: &'a Value, key: &str) -> &'a Value {
    v.get(key).unwrap_or(&Value::Null)
}

/// The median of some durations (the mean of the middle two for an even count).
fn median_of(mut v: Vec<Duration>) -> Duration {
    v.sort();
    let mid = v.len() / 2;
    match (v.get(mid.wrapping_sub(1)), v.get(mid)) {
        (Some(a), Some(b)) if v.len() % 2 == 0 => a.saturating_add(*b) / 2,
        (_, Some(b)) => *b,
        _ => Duration::ZERO,
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
