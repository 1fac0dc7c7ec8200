//! The integrity baseline size benchmark (issue 4, "Done when": bytes per
//! file of memory and of baseline size for a tree of 1,000,000 files).
//!
//! ```text
//! cargo run --release -p dha-tests --bin bench-baseline [-- --files N] [--dir DIR] [--kind ed25519|hmac-sha256]
//! ```
//!
//! It builds N (default 1,000,000) synthetic records with realistic paths
//! (`/usr/share/doc/pkgNNNN/fileNNN.txt`, 250 files a package), a SHA-256
//! each and no extended attributes, seals and writes them with
//! `write_baseline` into a temporary directory (under `--dir`, default the
//! system temporary directory), then reads the file back with
//! `read_baseline` in a child process (this program with `--read`), so that
//! the reader's memory is measured from a clean start. It prints:
//! - bytes per file on disk (the file's size / N);
//! - bytes per file in memory: the resident set (`VmRSS`, proc(5)) growth of
//!   building the records, and of the child after reading them, over N;
//! - the reader's peak (`VmHWM` growth over N: the file bytes and the
//!   records are both held while decoding);
//! - the write and read wall times.
//!
//! A benchmark, not a test: nothing here asserts on time (DESIGN.md
//! "Testing"). Goal (issue 4): at most 250 bytes per file on disk and in
//! memory.

use dha_core::integrity::baseline::{Baseline, read_baseline, write_baseline};
use dha_core::integrity::seal::{SealKey, SealKind, VerifyKey};
use dha_core::integrity::{AttrSet, EntryType, FileRecord, FileTime};
use std::error::Error;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// A field of /proc/self/status in KiB (`VmRSS`, `VmHWM`).
fn status_kib(field: &str) -> u64 {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn records(n: u64) -> Vec<FileRecord> {
    (0..n)
        .map(|i| {
            let path = format!("/usr/share/doc/pkg{:04}/file{:03}.txt", i / 250, i % 250);
            let digest = ring::digest::digest(&ring::digest::SHA256, &i.to_le_bytes());
            let mut sha256 = [0u8; 32];
            sha256.copy_from_slice(digest.as_ref());
            FileRecord {
                path: path.into_bytes().into_boxed_slice(),
                attrs: AttrSet::default_set(),
                entry_type: EntryType::Regular,
                mode: 0o644,
                uid: 0,
                gid: 0,
                size: 1024 + (i * 7919) % 65_536,
                mtime: FileTime {
                    secs: 1_700_000_000 + i64::try_from(i % 10_000_000).unwrap_or(0),
                    nanos: u32::try_from((i * 104_729) % 1_000_000_000).unwrap_or(0),
                },
                ctime: FileTime {
                    secs: 1_795_910_400,
                    nanos: u32::try_from((i * 15_485_863) % 1_000_000_000).unwrap_or(0),
                },
                inode: 1_048_576 + i,
                dev: 0xfd01,
                nlink: 1,
                fflags: Some(0x80000), // FS_EXTENT_FL, as on ext4
                sha256: Some(sha256),
                extra: None,
            }
        })
        .collect()
}

fn read_child(path: &Path, key: &Path) -> Result<(), Box<dyn Error>> {
    let key = VerifyKey::load(key)?;
    let rss0 = status_kib("VmRSS");
    let t = Instant::now();
    let b = read_baseline(path, &key)?;
    let secs = t.elapsed().as_secs_f64();
    let rss1 = status_kib("VmRSS");
    let hwm = status_kib("VmHWM");
    // One line for the parent: records, read seconds, RSS growth, peak growth (KiB).
    println!(
        "{} {secs} {} {}",
        b.records.len(),
        rss1.saturating_sub(rss0),
        hwm.saturating_sub(rss0)
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    if let [_, flag, path, key] = args.as_slice() {
        if flag == "--read" {
            return read_child(Path::new(path), Path::new(key));
        }
    }
    let mut files: u64 = 1_000_000;
    let mut dir = std::env::temp_dir();
    let mut kind = SealKind::Ed25519;
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        let v = it.next().ok_or("an option needs a value")?;
        match a.as_str() {
            "--files" => files = v.parse()?,
            "--dir" => dir = v.into(),
            "--kind" => kind = SealKind::from_name(v).ok_or("--kind: ed25519 or hmac-sha256")?,
            _ => return Err(format!("unknown option {a}").into()),
        }
    }
    let work = tempfile::tempdir_in(&dir)?;
    let key = SealKey::generate(kind)?;
    let key_path = work.path().join("seal.key");
    key.write(&key_path)?;

    let rss0 = status_kib("VmRSS");
    let t = Instant::now();
    let baseline = Baseline::from_records(FileTime::default(), [0; 32], records(files))?;
    let build = t.elapsed().as_secs_f64();
    let rss1 = status_kib("VmRSS");

    let path = work.path().join("bench.baseline");
    let t = Instant::now();
    write_baseline(&path, &baseline, &key)?;
    let write = t.elapsed().as_secs_f64();
    let disk = std::fs::metadata(&path)?.len();
    drop(baseline);

    let out = Command::new(std::env::current_exe()?)
        .arg("--read")
        .arg(&path)
        .arg(&key_path)
        .output()?;
    if !out.status.success() {
        return Err(format!("reader failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    let line = String::from_utf8(out.stdout)?;
    let f: Vec<f64> = line
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let [count, read, rss_read, hwm_read] = f.as_slice() else {
        return Err(format!("reader said {line:?}").into());
    };
    let n = files as f64;
    println!("files                     {files} (read back: {count})");
    println!("seal                      {kind}");
    println!("records built             {build:.2} s");
    println!("write (encode+seal+fsync) {write:.2} s");
    println!("read (verify+decode)      {read:.2} s");
    println!(
        "on disk                   {disk} bytes, {:.1} bytes/file",
        disk as f64 / n
    );
    println!(
        "in memory, built          {:.1} bytes/file (VmRSS growth)",
        (rss1.saturating_sub(rss0) as f64) * 1024.0 / n
    );
    println!(
        "in memory, read back      {:.1} bytes/file (VmRSS growth of the reader)",
        rss_read * 1024.0 / n
    );
    println!(
        "reader's peak             {:.1} bytes/file (VmHWM growth: file bytes + records)",
        hwm_read * 1024.0 / n
    );
    println!(
        "FileRecord                {} bytes inline (+ path on the heap)",
        std::mem::size_of::<FileRecord>()
    );
    Ok(())
}
