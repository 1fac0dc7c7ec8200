//! The integrity monitoring benchmark (issue 4, "Done when"): dha's full and
//! quick checks side by side, in one run, with Debian's AIDE and with the
//! floors of this machine.
//!
//! ```text
//! apt-get install aide time            # AIDE 0.18 and GNU time
//! cargo build --release -p agent-cli -p dha-tests --bins
//! ./target/release/bench-integrity [--files 20000] [--mib 1024] [--runs 3] [--dir DIR]
//!                                  [--dha PATH] [--million]
//! ```
//!
//! 1. Generates a tree under `--dir` (default the system temporary
//!    directory): `--files` files, mostly 1–16 KiB, and enough files of
//!    1–10 MiB to reach `--mib` MiB in total, 100 files per directory,
//!    pseudo-random content from a fixed seed (the same tree every run).
//! 2. Warms the page cache (every file read once), then measures, each
//!    `--runs` times, with GNU time (`/usr/bin/time`: user + system CPU,
//!    peak resident memory of the largest process; the wall time is measured
//!    here, spawn to exit, because GNU time's has a 10 ms resolution), and
//!    reports the median of each:
//!    - `floor hash`: `find TREE -type f -print0 | xargs -0 -P2 -n 2000
//!      openssl dgst -sha256` (the hashing floor on two cores);
//!    - `floor stat`: `find TREE -printf '%s %T@ %C@ %i\n'` (the stat walk
//!      floor of a quick check);
//!    - `aide check`: `aide --check` with a configuration watching the tree
//!      with sha256 and the same attributes as dha's default set (after an
//!      untimed `aide --init`);
//!    - `dha init`: `dha integrity init --baseline B --key K TREE`;
//!    - `dha check`: `dha integrity check --baseline B --key K --format json`;
//!    - `dha quick`: the same with `--quick`.
//! 3. Prints the ratios the issue sets goals for: dha check / floor hash
//!    (≤ 1.1), dha check / aide check (≤ 0.1), dha quick / floor stat
//!    (≤ 1.3), dha peak memory (≤ 40 MiB).
//! 4. With `--million`: a tree of 1,000,000 empty files (10,000 directories)
//!    and `dha integrity init` on it: bytes per file of the baseline on disk
//!    and of the peak memory.
//!
//! A benchmark, not a test: nothing here asserts on time (DESIGN.md
//! "Testing"). The trees are removed at the end unless `--keep` is given.

use std::error::Error;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

type Res<T> = Result<T, Box<dyn Error>>;

const KIB: u64 = 1024;
const MIB: u64 = 1024 * 1024;
/// One MiB as a buffer length.
const MIB_USIZE: usize = 1024 * 1024;

/// What GNU time measured for one command.
#[derive(Debug, Clone, Copy, Default)]
struct Measure {
    wall_s: f64,
    cpu_s: f64,
    peak_kib: u64,
}

struct Args {
    files: u64,
    mib: u64,
    runs: usize,
    dir: PathBuf,
    dha: PathBuf,
    million: bool,
    keep: bool,
}

fn main() {
    if let Err(e) = real_main() {
        eprintln!("bench-integrity: {e}");
        std::process::exit(2);
    }
}

fn parse_args() -> Res<Args> {
    let exe = std::env::current_exe()?;
    let mut a = Args {
        files: 20_000,
        mib: 1024,
        runs: 3,
        dir: std::env::temp_dir(),
        dha: exe.with_file_name("dha"),
        million: false,
        keep: false,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut it = argv.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--files" => a.files = value()?.parse()?,
            "--mib" => a.mib = value()?.parse()?,
            "--runs" => a.runs = value()?.parse()?,
            "--dir" => a.dir = PathBuf::from(value()?),
            "--dha" => a.dha = PathBuf::from(value()?),
            "--million" => a.million = true,
            "--keep" => a.keep = true,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    if a.runs == 0 || a.files == 0 {
        return Err("--runs and --files must be at least 1".into());
    }
    Ok(a)
}

/// xorshift64*: a fixed, fast pseudo-random sequence (content and sizes).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next().to_le_bytes();
            let n = chunk.len();
            chunk.copy_from_slice(v.get(..n).unwrap_or_default());
        }
    }
}

/// The sizes of the tree's files: small ones of 1–16 KiB, then big ones of
/// 1–10 MiB until the total reaches `mib` MiB (the last big one trimmed).
fn plan_sizes(files: u64, mib: u64, rng: &mut Rng) -> Vec<u64> {
    let target = mib * MIB;
    let mut sizes: Vec<u64> = Vec::new();
    let mut total = 0u64;
    let mut small_total = 0u64;
    // First guess the number of big files so that the small ones fill the
    // rest of the count.
    let small_mean = 8 * KIB + KIB / 2;
    let big_mean = 11 * MIB / 2;
    let big_guess = target.saturating_sub(files * small_mean) / big_mean;
    let small_count = files.saturating_sub(big_guess);
    for _ in 0..small_count {
        let s = KIB + rng.below(15 * KIB + 1);
        small_total += s;
        sizes.push(s);
    }
    total += small_total;
    while total < target && (sizes.len() as u64) < files * 2 {
        let s = (MIB + rng.below(9 * MIB + 1)).min(target - total);
        total += s;
        sizes.push(s);
    }
    sizes
}

fn generate_tree(root: &Path, files: u64, mib: u64) -> Res<(u64, u64)> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let sizes = plan_sizes(files, mib, &mut rng);
    let mut buf = vec![0u8; MIB_USIZE];
    let mut bytes = 0u64;
    for (i, size) in sizes.iter().enumerate() {
        let dir = root.join(format!("d{:04}", i / 100));
        if i % 100 == 0 {
            fs::create_dir_all(&dir)?;
        }
        let mut f = File::create(dir.join(format!("f{i:06}.bin")))?;
        let mut left = *size;
        while left > 0 {
            let n = usize::try_from(left.min(MIB))?;
            let chunk = buf.get_mut(..n).ok_or("buffer")?;
            rng.fill(chunk);
            f.write_all(chunk)?;
            left -= n as u64;
        }
        bytes += size;
    }
    Ok((sizes.len() as u64, bytes))
}

fn warm(root: &Path) -> Res<()> {
    let mut buf = vec![0u8; MIB_USIZE];
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d)? {
            let e = e?;
            let p = e.path();
            if e.file_type()?.is_dir() {
                stack.push(p);
            } else {
                let mut f = File::open(&p)?;
                while f.read(&mut buf)? > 0 {}
            }
        }
    }
    Ok(())
}

/// Runs `sh -c script` under GNU time and returns what it measured. The
/// command's exit status must be one of `ok_codes`.
fn timed(script: &str, ok_codes: &[i32]) -> Res<Measure> {
    let started = std::time::Instant::now();
    let out = Command::new("/usr/bin/time")
        .args(["-f", "DHA-BENCH %e %U %S %M", "sh", "-c", script])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("/usr/bin/time (apt-get install time): {e}"))?;
    // GNU time's wall clock has a resolution of 10 ms: too coarse for a
    // quick check, so the wall time is this process's own measurement
    // (spawn to exit, the same small overhead for every command).
    let wall_s = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code().unwrap_or(-1);
    if !ok_codes.contains(&code) {
        return Err(format!("`{script}` exited with {code}: {stderr}").into());
    }
    let line = stderr
        .lines()
        .rev()
        .find(|l| l.starts_with("DHA-BENCH "))
        .ok_or_else(|| format!("no measurement from /usr/bin/time for `{script}`: {stderr}"))?;
    let v: Vec<&str> = line.split_whitespace().skip(1).collect();
    let num = |i: usize| -> Res<f64> { Ok(v.get(i).ok_or("short time output")?.parse::<f64>()?) };
    let _gnu_wall = num(0)?;
    Ok(Measure {
        wall_s,
        cpu_s: num(1)? + num(2)?,
        peak_kib: v.get(3).ok_or("short time output")?.parse()?,
    })
}

fn median(mut ms: Vec<Measure>) -> Measure {
    ms.sort_by(|a, b| a.wall_s.total_cmp(&b.wall_s));
    ms.get(ms.len() / 2).copied().unwrap_or_default()
}

fn repeat(runs: usize, script: &str, ok_codes: &[i32]) -> Res<Measure> {
    let mut v = Vec::new();
    for _ in 0..runs {
        v.push(timed(script, ok_codes)?);
    }
    Ok(median(v))
}

fn q(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', r"'\''"))
}

/// An AIDE configuration watching `tree` with sha256 and the attributes of
/// dha's default set (aide.conf(5): p perms, i inode, n link count, u uid,
/// g gid, s size, m mtime, c ctime, l link name, ftype, xattrs, acl,
/// selinux, e2fsattrs, caps).
fn aide_conf(dir: &Path, tree: &Path) -> String {
    format!(
        "database_in=file:{db}\ndatabase_out=file:{db}.new\ndatabase_new=file:{db}.new\n\
         gzip_dbout=no\nreport_url=stdout\nDHA = p+i+n+u+g+s+m+c+l+ftype+sha256+xattrs+acl+selinux+e2fsattrs+caps\n\
         {tree} DHA\n",
        db = dir.join("aide.db").display(),
        tree = tree.display()
    )
}

fn row(name: &str, m: Measure) {
    println!(
        "  {name:<12} {:>9.3} s wall {:>9.3} s CPU {:>9.1} MiB peak",
        m.wall_s,
        m.cpu_s,
        m.peak_kib as f64 / 1024.0
    );
}

fn real_main() -> Res<()> {
    let a = parse_args()?;
    if !a.dha.is_file() {
        return Err(format!(
            "{} not found: cargo build --release -p agent-cli (or --dha PATH)",
            a.dha.display()
        )
        .into());
    }
    let work = tempfile::Builder::new()
        .prefix("dha-bench-integrity-")
        .tempdir_in(&a.dir)?;
    let tree = work.path().join("tree");
    fs::create_dir(&tree)?;
    let (files, bytes) = generate_tree(&tree, a.files, a.mib)?;
    warm(&tree)?;
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    println!(
        "dha integrity benchmark: {files} files, {:.0} MiB in {} (warm page cache), {cpus} CPUs, runs = {}",
        bytes as f64 / MIB as f64,
        tree.display(),
        a.runs
    );

    let floor_hash = repeat(
        a.runs,
        &format!(
            "find {} -type f -print0 | xargs -0 -P2 -n 2000 openssl dgst -sha256",
            q(&tree)
        ),
        &[0],
    )?;
    let floor_stat = repeat(
        a.runs,
        &format!("find {} -printf '%s %T@ %C@ %i\\n'", q(&tree)),
        &[0],
    )?;

    let conf = work.path().join("aide.conf");
    fs::write(&conf, aide_conf(work.path(), &tree))?;
    timed(&format!("aide --init -c {}", q(&conf)), &[0])?;
    fs::rename(work.path().join("aide.db.new"), work.path().join("aide.db"))?;
    let aide = repeat(a.runs, &format!("aide --check -c {}", q(&conf)), &[0])?;

    let key = work.path().join("seal.key");
    let baseline = work.path().join("tree.baseline");
    let dha = q(&a.dha);
    timed(&format!("{dha} integrity keygen {}", q(&key)), &[0])?;
    let init = repeat(
        a.runs,
        &format!(
            "{dha} integrity init --baseline {} --key {} {}",
            q(&baseline),
            q(&key),
            q(&tree)
        ),
        &[0],
    )?;
    let check_cmd = format!(
        "{dha} integrity check --baseline {} --key {} --format json",
        q(&baseline),
        q(&key)
    );
    let check = repeat(a.runs, &check_cmd, &[0])?;
    let quick = repeat(a.runs, &format!("{check_cmd} --quick"), &[0])?;
    let baseline_bytes = fs::metadata(&baseline)?.len();

    println!("median of {} runs:", a.runs);
    row("floor hash", floor_hash);
    row("floor stat", floor_stat);
    row("aide check", aide);
    row("dha init", init);
    row("dha check", check);
    row("dha quick", quick);
    println!(
        "ratios (wall): dha check / floor hash = {:.2} (goal <= 1.1); dha check / aide check = {:.3} (goal <= 0.1); \
         dha quick / floor stat = {:.2} (goal <= 1.3)",
        check.wall_s / floor_hash.wall_s,
        check.wall_s / aide.wall_s,
        quick.wall_s / floor_stat.wall_s
    );
    println!(
        "dha peak memory: check {:.1} MiB, quick {:.1} MiB (goal <= 40 MiB); baseline {} bytes = {:.0} bytes/file",
        check.peak_kib as f64 / 1024.0,
        quick.peak_kib as f64 / 1024.0,
        baseline_bytes,
        baseline_bytes as f64 / files as f64
    );

    if a.million {
        million(work.path(), &a.dha, &key)?;
    }
    if a.keep {
        println!("kept {}", work.keep().display());
    }
    Ok(())
}

/// 1,000,000 empty files in 10,000 directories: bytes per file of the
/// baseline and of the peak memory of `dha integrity init`, and of a check.
fn million(work: &Path, dha: &Path, key: &Path) -> Res<()> {
    let tree = work.join("million");
    for d in 0..10_000u32 {
        let dir = tree.join(format!("usr/share/doc/package-{d:05}"));
        fs::create_dir_all(&dir)?;
        for f in 0..100u32 {
            File::create(dir.join(format!("changelog-{f:03}.txt")))?;
        }
    }
    let baseline = work.join("million.baseline");
    let dha = q(dha);
    let init = timed(
        &format!(
            "{dha} integrity init --baseline {} --key {} {}",
            q(&baseline),
            q(key),
            q(&tree)
        ),
        &[0],
    )?;
    let check = timed(
        &format!(
            "{dha} integrity check --baseline {} --key {} --format json --quick",
            q(&baseline),
            q(key)
        ),
        &[0],
    )?;
    let n = 1_000_000f64;
    let size = fs::metadata(&baseline)?.len();
    println!("1,000,000 files:");
    row("dha init", init);
    row("dha quick", check);
    println!(
        "  baseline {size} bytes = {:.0} bytes/file on disk; peak memory {:.0} bytes/file (init), {:.0} bytes/file (quick check)",
        size as f64 / n,
        init.peak_kib as f64 * 1024.0 / n,
        check.peak_kib as f64 * 1024.0 / n
    );
    Ok(())
}
