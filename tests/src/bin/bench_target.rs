//! The target verification benchmark: `dha_core::tuf::target::download_target`
//! from a local directory, side by side with `openssl dgst -sha256` on the same
//! file in the same run (issue 3, "Benchmarks").
//!
//! ```text
//! cargo run --release -p dha-tests --bin bench-target [-- --sizes 256,1024,4096] [--runs N] [--dir DIR]
//! ```
//!
//! For each size (MiB) it writes a file of pseudo-random bytes into a
//! temporary directory (under `--dir`, default the system temporary
//! directory), hashes it once with openssl (warm-up: the file is then in the
//! page cache for everyone, and openssl's digest is the expected hash), then
//! times, `--runs` times each, and reports the median:
//! - `openssl`: `openssl dgst -sha256 FILE` (a child process, wall time);
//! - `download`: `download_target` from a `LocalDirTransport` on that
//!   directory into a fresh destination directory, with the file's length and
//!   sha256, in a child process that reports its own time and peak resident
//!   memory (`VmHWM`, proc(5));
//! - `ring`, `sha2`: SHA-256 of the file streamed through a 64 KiB buffer
//!   with each library, no writing (which hash implementation is faster here;
//!   DESIGN.md);
//! - `copy+fsync`: the file copied through a 64 KiB buffer into a new file,
//!   fsynced, no hashing (the I/O floor of a download);
//! - `floor 64K`, `floor 1M`: what `download_target` does, without the
//!   library: read, ring SHA-256 and write in one loop through a 64 KiB or
//!   1 MiB buffer, then fsync (the floor of a one-thread download, and
//!   whether the buffer size matters);
//! - `floor 2T`: what the pipelined `download_target` does (target.rs,
//!   "The pipeline"), without the library: this thread reads and hashes
//!   into `CHUNKS` buffers of `CHUNK_BYTES`, a writer thread writes them
//!   and hands them back, then fsync (the floor of a two-stage download).
//!
//! `download_target` runs its stages one after the other when
//! `available_parallelism()` is 1 (e.g. under `taskset -c 0`): compare it
//! with `floor 64K` there.
//!
//! A benchmark, not a test: nothing here asserts on time (DESIGN.md "Testing").
//! Goals (issue 3): download / openssl throughput ratio at least 0.9, peak
//! memory at most 16 MiB and flat as the target grows.

use dha_core::tuf::target::{CHUNK_BYTES, CHUNKS, download_target};
use dha_core::tuf::transport::LocalDirTransport;
use sha2::Digest as _;
use std::collections::BTreeMap;
use std::error::Error;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

type Res<T> = Result<T, Box<dyn Error>>;

/// The name of the target file in the source directory.
const TARGET_NAME: &str = "target.bin";
/// The read buffer of the in-process hash and copy loops (the one-thread
/// `download_target` of before the pipeline used the same).
const BUFFER_BYTES: usize = 64 * 1024;
const MIB: u64 = 1024 * 1024;

fn main() {
    if let Err(e) = real_main() {
        eprintln!("bench-target: {e}");
        std::process::exit(2);
    }
}

fn real_main() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--child") {
        return child(args.get(1..).unwrap_or_default());
    }
    let mut sizes_mib: Vec<u64> = vec![256, 1024];
    let mut runs = 3usize;
    let mut base = std::env::temp_dir();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--sizes" => {
                let v = it
                    .next()
                    .ok_or("--sizes needs a list of MiB, e.g. 256,1024")?;
                sizes_mib = v
                    .split(',')
                    .map(|s| s.trim().parse::<u64>())
                    .collect::<Result<_, _>>()?;
            }
            "--runs" => {
                runs = it
                    .next()
                    .ok_or("--runs needs a number")?
                    .parse::<usize>()?
                    .max(1)
            }
            "--dir" => base = it.next().ok_or("--dir needs a directory")?.into(),
            "-h" | "--help" => {
                println!(
                    "usage: bench-target [--sizes 256,1024,4096] [--runs N] [--dir DIR]\n\
                     Times download_target of a SIZE MiB file from a local directory against \
                     `openssl dgst -sha256` on the same file (median of N runs), and the \
                     download's peak memory."
                );
                return Ok(());
            }
            other => return Err(format!("unknown argument {other:?} (see --help)").into()),
        }
    }

    println!(
        "dha target verification benchmark: {} build, {} CPUs, {}, runs = {runs}, dir = {}",
        if cfg!(debug_assertions) {
            "DEBUG (numbers meaningless; use --release)"
        } else {
            "release"
        },
        std::thread::available_parallelism().map_or(1, usize::from),
        openssl_version(),
        base.display(),
    );
    println!(
        "{:>8} {:>10} {:>10} {:>7} {:>10} {:>10} {:>11} {:>10} {:>10} {:>10} {:>9} {:>9}",
        "MiB",
        "openssl",
        "download",
        "ratio",
        "ring",
        "sha2",
        "copy+fsync",
        "floor 64K",
        "floor 1M",
        "floor 2T",
        "peak MiB",
        "+call MiB"
    );
    for &size_mib in &sizes_mib {
        let row = bench_size(&base, size_mib, runs)?;
        println!(
            "{:>8} {:>10.0} {:>10.0} {:>7.2} {:>10.0} {:>10.0} {:>11.0} {:>10.0} {:>10.0} {:>10.0} {:>9.1} {:>9.1}",
            size_mib,
            row.openssl,
            row.download,
            row.download / row.openssl,
            row.ring,
            row.sha2,
            row.copy,
            row.floor_64k,
            row.floor_1m,
            row.floor_2t,
            kib_to_mib(row.hwm_kib),
            kib_to_mib(row.hwm_kib.saturating_sub(row.base_kib)),
        );
    }
    println!(
        "throughput in MiB/s (median of the runs); ratio = download / openssl (goal >= 0.9); \
         peak = the download child's VmHWM (goal <= 16 MiB, flat), +call = VmHWM minus the \
         RSS just before download_target"
    );
    Ok(())
}

/// Medians of one size, in MiB/s, and the download child's memory.
struct Row {
    openssl: f64,
    download: f64,
    ring: f64,
    sha2: f64,
    copy: f64,
    floor_64k: f64,
    floor_1m: f64,
    floor_2t: f64,
    hwm_kib: u64,
    base_kib: u64,
}

fn bench_size(base: &Path, size_mib: u64, runs: usize) -> Res<Row> {
    let tmp = tempfile::Builder::new()
        .prefix("bench-target-")
        .tempdir_in(base)?;
    let src = tmp.path().join("src");
    fs::create_dir(&src)?;
    let file = src.join(TARGET_NAME);
    let len = size_mib.checked_mul(MIB).ok_or("size too large")?;
    write_pseudo_random(&file, len)?;
    // Warm-up: the file is in the page cache for every contender, and
    // openssl's digest is the expected hash.
    let (sha256, _) = openssl_sha256(&file)?;
    let exe = std::env::current_exe()?;

    let mut openssl = Vec::new();
    let mut download = Vec::new();
    let mut ring_t = Vec::new();
    let mut sha2_t = Vec::new();
    let mut copy = Vec::new();
    let mut floor_64k = Vec::new();
    let mut floor_1m = Vec::new();
    let mut floor_2t = Vec::new();
    let (mut hwm_kib, mut base_kib) = (0u64, 0u64);
    for run in 0..runs {
        let (got, t) = openssl_sha256(&file)?;
        if got != sha256 {
            return Err("openssl gave two digests for one file".into());
        }
        openssl.push(t);

        let dest = tmp.path().join(format!("dest-{run}"));
        fs::create_dir(&dest)?;
        let out = Command::new(&exe)
            .arg("--child")
            .arg(&src)
            .arg(&dest)
            .arg(len.to_string())
            .arg(&sha256)
            .output()?;
        if !out.status.success() {
            return Err(format!(
                "download child failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )
            .into());
        }
        let report = String::from_utf8(out.stdout)?;
        let mut fields = report.split_whitespace();
        let secs: f64 = fields.next().ok_or("child: no time")?.parse()?;
        let hwm: u64 = fields.next().ok_or("child: no VmHWM")?.parse()?;
        let before: u64 = fields.next().ok_or("child: no VmRSS")?.parse()?;
        download.push(Duration::from_secs_f64(secs));
        if hwm > hwm_kib {
            hwm_kib = hwm;
            base_kib = before;
        }
        fs::remove_dir_all(&dest)?;

        ring_t.push(time(|| hash_ring(&file, &sha256))?);
        sha2_t.push(time(|| hash_sha2(&file, &sha256))?);
        let copy_path = tmp.path().join("copy.bin");
        copy.push(time(|| copy_fsync(&file, &copy_path))?);
        fs::remove_file(&copy_path)?;
        floor_64k.push(time(|| {
            hash_copy_fsync(&file, &copy_path, &sha256, BUFFER_BYTES)
        })?);
        fs::remove_file(&copy_path)?;
        floor_1m.push(time(|| {
            hash_copy_fsync(&file, &copy_path, &sha256, 1 << 20)
        })?);
        fs::remove_file(&copy_path)?;
        floor_2t.push(time(|| {
            pipelined_fsync(&file, &copy_path, &sha256, CHUNK_BYTES, CHUNKS)
        })?);
        fs::remove_file(&copy_path)?;
    }
    let mibs = |t: &mut Vec<Duration>| {
        let secs = median(t).as_secs_f64();
        if secs > 0.0 {
            size_mib as f64 / secs
        } else {
            f64::INFINITY
        }
    };
    Ok(Row {
        openssl: mibs(&mut openssl),
        download: mibs(&mut download),
        ring: mibs(&mut ring_t),
        sha2: mibs(&mut sha2_t),
        copy: mibs(&mut copy),
        floor_64k: mibs(&mut floor_64k),
        floor_1m: mibs(&mut floor_1m),
        floor_2t: mibs(&mut floor_2t),
        hwm_kib,
        base_kib,
    })
}

/// The child: one `download_target`, then "SECONDS VMHWM_KIB VMRSS_BEFORE_KIB".
fn child(args: &[String]) -> Res<()> {
    let [src, dest, len, sha256] = args else {
        return Err("--child SRC_DIR DEST_DIR LENGTH SHA256".into());
    };
    let len: u64 = len.parse()?;
    let hashes = BTreeMap::from([("sha256".to_owned(), sha256.clone())]);
    let transport = LocalDirTransport::new(Path::new(src))?;
    let before = proc_status_kib("VmRSS:")?;
    let start = Instant::now();
    let outcome = download_target(
        &transport,
        TARGET_NAME,
        Path::new(dest),
        TARGET_NAME,
        len,
        &hashes,
    )?;
    let secs = start.elapsed().as_secs_f64();
    if !outcome.fetched {
        return Err("the destination already held the target".into());
    }
    println!("{secs} {} {before}", proc_status_kib("VmHWM:")?);
    Ok(())
}

/// Writes `len` bytes of xorshift64 output (incompressible, deterministic).
fn write_pseudo_random(path: &Path, len: u64) -> Res<()> {
    let mut f = std::io::BufWriter::with_capacity(1 << 20, File::create(path)?);
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut left = len;
    while left > 0 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let bytes = state.to_le_bytes();
        let n = usize::try_from(left.min(8))?;
        f.write_all(bytes.get(..n).ok_or("short")?)?;
        left = left.saturating_sub(8);
    }
    f.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    Ok(())
}

/// `openssl dgst -sha256 -r FILE`: the hex digest and the wall time.
fn openssl_sha256(path: &Path) -> Res<(String, Duration)> {
    let start = Instant::now();
    let out = Command::new("openssl")
        .args(["dgst", "-sha256", "-r"])
        .arg(path)
        .output()?;
    let t = start.elapsed();
    if !out.status.success() {
        return Err(format!("openssl: {}", String::from_utf8_lossy(&out.stderr).trim()).into());
    }
    let text = String::from_utf8(out.stdout)?;
    let hex = text
        .split_whitespace()
        .next()
        .ok_or("openssl printed nothing")?;
    Ok((hex.to_ascii_lowercase(), t))
}

fn openssl_version() -> String {
    Command::new("openssl")
        .arg("version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map_or_else(|| "openssl missing".to_owned(), |s| s.trim().to_owned())
}

fn time(f: impl FnOnce() -> Res<()>) -> Res<Duration> {
    let start = Instant::now();
    f()?;
    Ok(start.elapsed())
}

/// Streams `path` through `update` with a 64 KiB buffer.
fn stream(path: &Path, mut update: impl FnMut(&[u8])) -> Res<()> {
    let mut f = File::open(path)?;
    let mut buf = vec![0u8; BUFFER_BYTES];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        update(buf.get(..n).ok_or("short read")?);
    }
}

fn hash_ring(path: &Path, want: &str) -> Res<()> {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    stream(path, |b| ctx.update(b))?;
    check(&hex(ctx.finish().as_ref()), want, "ring")
}

fn hash_sha2(path: &Path, want: &str) -> Res<()> {
    let mut h = sha2::Sha256::new();
    stream(path, |b| h.update(b))?;
    check(&hex(&h.finalize()), want, "sha2")
}

fn copy_fsync(from: &Path, to: &Path) -> Res<()> {
    let mut out = File::create(to)?;
    let mut err = None;
    stream(from, |b| {
        if let Err(e) = out.write_all(b) {
            err.get_or_insert(e);
        }
    })?;
    if let Some(e) = err {
        return Err(e.into());
    }
    out.sync_all()?;
    Ok(())
}

/// Read, hash (ring) and write in one loop through a `buffer`-byte buffer,
/// then fsync: `download_target`'s work without the library around it.
fn hash_copy_fsync(from: &Path, to: &Path, want: &str, buffer: usize) -> Res<()> {
    let mut input = File::open(from)?;
    let mut out = File::create(to)?;
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    let mut buf = vec![0u8; buffer];
    loop {
        let n = input.read(&mut buf)?;
        if n == 0 {
            break;
        }
        let chunk = buf.get(..n).ok_or("short read")?;
        ctx.update(chunk);
        out.write_all(chunk)?;
    }
    out.sync_all()?;
    check(&hex(ctx.finish().as_ref()), want, "floor")
}

/// `download_target`'s two-stage pipeline without the library: this thread
/// reads and hashes (ring) into `chunks` buffers of `chunk` bytes, a writer
/// thread writes them and hands them back, then fsync.
fn pipelined_fsync(from: &Path, to: &Path, want: &str, chunk: usize, chunks: usize) -> Res<()> {
    let mut input = File::open(from)?;
    let mut out = File::create(to)?;
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    std::thread::scope(|s| -> Res<()> {
        let (full_tx, full_rx) = mpsc::sync_channel::<Vec<u8>>(chunks);
        let (free_tx, free_rx) = mpsc::channel::<Vec<u8>>();
        let out = &mut out;
        let writer = s.spawn(move || -> std::io::Result<()> {
            for buf in full_rx {
                out.write_all(&buf)?;
                let _ = free_tx.send(buf);
            }
            Ok(())
        });
        let mut allocated = 0;
        loop {
            let mut buf = match free_rx.try_recv() {
                Ok(b) => b,
                Err(_) if allocated < chunks => {
                    allocated += 1;
                    Vec::new()
                }
                Err(_) => free_rx.recv()?,
            };
            buf.resize(chunk, 0);
            let n = input.read(&mut buf)?;
            if n == 0 {
                break;
            }
            buf.truncate(n);
            ctx.update(&buf);
            full_tx.send(buf)?;
        }
        drop(full_tx);
        writer.join().map_err(|_| "writer panicked")??;
        Ok(())
    })?;
    out.sync_all()?;
    check(&hex(ctx.finish().as_ref()), want, "floor 2T")
}

fn check(got: &str, want: &str, who: &str) -> Res<()> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{who}: digest {got} differs from openssl's {want}").into())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    let n = v.len();
    let at = |i: usize| v.get(i).copied().unwrap_or_default();
    if n % 2 == 1 {
        at(n / 2)
    } else {
        (at(n / 2 - 1) + at(n / 2)) / 2
    }
}

/// A `Name:   N kB` line of /proc/self/status (proc(5)), in KiB.
fn proc_status_kib(name: &str) -> Res<u64> {
    let status = fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find(|l| l.starts_with(name))
        .ok_or_else(|| format!("no {name} in /proc/self/status"))?;
    let kib = line
        .split_whitespace()
        .nth(1)
        .ok_or_else(|| format!("{name} without a value"))?
        .parse()?;
    Ok(kib)
}

fn kib_to_mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}
