//! The operations of integrity monitoring, as the command line, the C ABI
//! and a console call them: make a baseline, check against it, accept
//! changes into a new one, verify a baseline file.
//!
//! Each operation reads the sealed baseline through
//! [`read_baseline`], which
//! refuses an unsealed, altered, truncated or foreign-sealed file before it
//! decodes a single record, and writes a new one only through
//! [`write_baseline`] (the
//! durable-write helper): a baseline already trusted is never replaced by
//! one that was not completely made and sealed.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::clock::Clock;
use crate::integrity::baseline::{Baseline, read_baseline, write_baseline};
use crate::integrity::checked::CheckRecord;
use crate::integrity::diff::{Change, ChangeKind, diff};
use crate::integrity::error::IntegrityError;
use crate::integrity::fsx::FsExtras;
use crate::integrity::policy::CompiledPolicy;
use crate::integrity::record::{FileRecord, FileTime};
use crate::integrity::report::{BaselineInfo, CheckMode, IntegrityReport, Problem, ReportStats};
use crate::integrity::scan::{ScanMode, ScanOptions, ScanOutcome, ScanProgress, ScanStats, scan};
use crate::integrity::seal::{SealKey, VerifyKey};
use crate::integrity::store::{KnownGoodStore, StoreStats};

/// What every operation needs: the policy, how to read what `std` cannot,
/// the clock, and how to report progress.
pub struct Context<'a> {
    /// The compiled policy.
    pub policy: &'a CompiledPolicy,
    /// The policy's digest, recorded in a new baseline
    /// ([`IntegrityPolicy::policy_digest`](crate::integrity::policy::IntegrityPolicy::policy_digest)
    /// or [`policy_digest_for_paths`](crate::integrity::policy::policy_digest_for_paths)).
    pub policy_digest: [u8; 32],
    /// Extended attributes and inode flags (`agent_linux::LinuxFsExtras` on
    /// Linux).
    pub fsx: &'a dyn FsExtras,
    /// The clock (creation time of a baseline, times of a report).
    pub clock: &'a dyn Clock,
    /// Worker threads; 0 means one per core.
    pub threads: usize,
    /// Called from any worker during a scan, at a bounded rate.
    pub progress: &'a (dyn Fn(ScanProgress) + Sync),
}

impl std::fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("rules", &self.policy.rules.len())
            .field("threads", &self.threads)
            .finish_non_exhaustive()
    }
}

/// The time as a baseline stores it.
pub fn file_time(t: SystemTime) -> FileTime {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => FileTime {
            secs: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            nanos: d.subsec_nanos(),
        },
        Err(e) => {
            let d = e.duration();
            let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            if d.subsec_nanos() == 0 {
                FileTime {
                    secs: -secs,
                    nanos: 0,
                }
            } else {
                FileTime {
                    secs: -secs - 1,
                    nanos: 1_000_000_000 - d.subsec_nanos(),
                }
            }
        }
    }
}

/// What [`init`] made.
#[derive(Debug, Clone)]
pub struct InitOutcome {
    /// Objects recorded in the new baseline.
    pub records: usize,
    /// What the scan did.
    pub stats: ScanStats,
    /// The objects that could not be recorded completely (they are in the
    /// baseline only as far as they could be read), and, with a known-good
    /// store, the files that could not be stored.
    pub problems: Vec<Problem>,
    /// What [`init_with_store`] put in the known-good store (`None`
    /// without a store).
    pub store: Option<StoreStats>,
}

fn problems_of(outcome: &ScanOutcome) -> Vec<Problem> {
    outcome
        .problems
        .iter()
        .map(|p| Problem {
            path: p.path.clone(),
            reason: p.kind.to_string(),
        })
        .collect()
}

fn stats_of(s: &ScanStats) -> ReportStats {
    ReportStats {
        files: s.files,
        directories: s.directories,
        others: s.others,
        bytes_hashed: s.bytes_hashed,
        files_hashed: s.files_hashed,
        files_trusted_quick: s.files_trusted_quick,
    }
}

fn options(ctx: &Context<'_>, mode: ScanMode) -> ScanOptions {
    ScanOptions {
        mode,
        threads: ctx.threads,
    }
}

/// Scans everything the policy governs (full mode) and writes the sealed
/// baseline to `baseline_path`.
pub fn init(
    ctx: &Context<'_>,
    baseline_path: &Path,
    key: &SealKey,
) -> Result<InitOutcome, IntegrityError> {
    init_with_store(ctx, baseline_path, key, None)
}

/// [`init`], and with a known-good store, the content of every regular file
/// scanned is copied into it ([`KnownGoodStore::put_all`]) after the scan
/// and before the baseline is written: a baseline is never written before
/// the store holds every object it could hold. A file that changed between
/// the scan and the copy, or could not be read, is not stored; it is listed
/// in [`InitOutcome::problems`] and counted in [`InitOutcome::store`] (the
/// baseline still records the scanned file; the next check reports the
/// change).
pub fn init_with_store(
    ctx: &Context<'_>,
    baseline_path: &Path,
    key: &SealKey,
    store: Option<&KnownGoodStore>,
) -> Result<InitOutcome, IntegrityError> {
    let outcome = scan(
        ctx.policy,
        ctx.fsx,
        None,
        &options(ctx, ScanMode::Full),
        ctx.progress,
    )?;
    let mut problems = problems_of(&outcome);
    let stats = outcome.stats;
    let store_stats = match store {
        Some(s) => {
            let st = s.put_all(&outcome.records)?;
            problems.extend(st.not_stored.iter().map(|n| Problem {
                path: n.path.clone(),
                reason: format!("not put in the known-good store: {}", n.reason),
            }));
            Some(st)
        }
        None => None,
    };
    let baseline = Baseline::from_records(
        file_time(ctx.clock.now()),
        ctx.policy_digest,
        outcome.records,
    )?;
    write_baseline(baseline_path, &baseline, key)?;
    Ok(InitOutcome {
        records: baseline.records.len(),
        stats,
        problems,
        store: store_stats,
    })
}

/// A check's report together with what a caller needs to accept its changes.
#[derive(Debug, Clone)]
pub struct CheckOutcome {
    /// The report (changes, problems, counts, stats).
    pub report: IntegrityReport,
    /// The verified baseline that was compared with.
    pub baseline: Baseline,
    /// The records of this scan (sorted by path).
    pub current: Vec<FileRecord>,
}

/// Verifies the baseline at `baseline_path` with `key`, scans (full, or
/// quick trusting unchanged files from the baseline) and compares.
pub fn check(
    ctx: &Context<'_>,
    baseline_path: &Path,
    key: &VerifyKey,
    mode: ScanMode,
) -> Result<CheckOutcome, IntegrityError> {
    let baseline = read_baseline(baseline_path, key)?;
    check_verified(
        ctx,
        baseline_path,
        baseline,
        &key.key_id().to_string(),
        mode,
    )
}

/// As [`check`], for a baseline the caller has already read with
/// [`read_baseline`] (which verified its seal with the key whose id is
/// `key_id`): a caller that had to read the baseline first (to recognise
/// its policy) does not read and verify it twice.
pub fn check_verified(
    ctx: &Context<'_>,
    baseline_path: &Path,
    baseline: Baseline,
    key_id: &str,
    mode: ScanMode,
) -> Result<CheckOutcome, IntegrityError> {
    let started = ctx.clock.now();
    if baseline.policy_digest != ctx.policy_digest {
        log::warn!(
            "{}: the baseline was made under another policy; only what both policies watch is compared",
            baseline_path.display()
        );
    }
    let outcome = scan(
        ctx.policy,
        ctx.fsx,
        Some(&baseline),
        &options(ctx, mode),
        ctx.progress,
    )?;
    let changes = diff(ctx.policy, &baseline, &outcome.records);
    let report = IntegrityReport::new(
        BaselineInfo::new(baseline_path, baseline.created, Some(key_id.to_owned())),
        match mode {
            ScanMode::Full => CheckMode::Full,
            ScanMode::Quick => CheckMode::Quick,
        },
        started,
        ctx.clock.now(),
        Some(stats_of(&outcome.stats)),
        changes,
        problems_of(&outcome),
    );
    // The record an audit reads (INT-01 "was checked"); best effort: a
    // read-only baseline directory does not fail the check.
    let record = CheckRecord::new(
        ctx.clock.now(),
        report.mode.name(),
        report.changes.len(),
        key_id,
    );
    if let Err(e) = record.write_beside(baseline_path) {
        log::warn!(
            "{}: cannot record this check: {e}",
            crate::integrity::checked::record_path(baseline_path).display()
        );
    }
    Ok(CheckOutcome {
        report,
        baseline,
        current: outcome.records,
    })
}

/// Which changes [`accept`] takes into the new baseline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Every change.
    All,
    /// The changes at these paths or below them (absolute device paths).
    Paths(Vec<Vec<u8>>),
}

impl Selection {
    fn selects(&self, path: &[u8]) -> bool {
        match self {
            Selection::All => true,
            Selection::Paths(ps) => ps.iter().any(|p| {
                let p = p.strip_suffix(b"/").unwrap_or(p);
                path == p
                    || (path.starts_with(p) && path.get(p.len()) == Some(&b'/'))
                    || p.is_empty()
            }),
        }
    }
}

/// What [`accept`] did: the record of who accepted which changes, for the
/// event log (issue 5) and the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acceptance {
    /// Who or what accepted (an operator's name, `update fw-2.4.1`).
    pub accepted_by: String,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// The changes taken into the new baseline.
    pub accepted: Vec<Change>,
    /// The changes left out (still reported by the next check).
    pub left: usize,
}

/// Takes the selected changes of a check into a new baseline, sealed with
/// `key`, written over `baseline_path` durably: records of accepted paths
/// come from the scan, all others stay as they were (so an unselected change
/// is still reported by the next check). Returns what was accepted.
///
/// The check must have been made against the baseline at `baseline_path`
/// (its verified content is in `checked.baseline`).
pub fn accept(
    ctx: &Context<'_>,
    baseline_path: &Path,
    key: &SealKey,
    checked: &CheckOutcome,
    selection: &Selection,
    accepted_by: &str,
) -> Result<Acceptance, IntegrityError> {
    let (taken, left): (Vec<&Change>, Vec<&Change>) = checked
        .report
        .changes
        .iter()
        .partition(|c| selection.selects(&c.path));
    // A set, not a scan of `taken` per record: accepting many changes into
    // a large baseline must stay linear.
    let taken_paths: std::collections::HashSet<&[u8]> =
        taken.iter().map(|c| c.path.as_ref()).collect();
    let mut records: Vec<FileRecord> = checked
        .baseline
        .records
        .iter()
        .filter(|r| !taken_paths.contains(r.path.as_ref()))
        .cloned()
        .collect();
    for c in &taken {
        if c.kind != ChangeKind::Removed {
            if let Ok(i) = checked
                .current
                .binary_search_by(|r| r.path.as_ref().cmp(&c.path))
            {
                if let Some(r) = checked.current.get(i) {
                    records.push(r.clone());
                }
            }
        }
    }
    let now = ctx.clock.now();
    let baseline = Baseline::from_records(file_time(now), ctx.policy_digest, records)?;
    write_baseline(baseline_path, &baseline, key)?;
    let acceptance = Acceptance {
        accepted_by: accepted_by.to_owned(),
        at: crate::clock::rfc3339(now),
        accepted: taken.into_iter().cloned().collect(),
        left: left.len(),
    };
    log::info!(
        "{}: {} change(s) accepted by {:?}, {} left",
        baseline_path.display(),
        acceptance.accepted.len(),
        acceptance.accepted_by,
        acceptance.left
    );
    Ok(acceptance)
}

/// What [`verify_baseline`] found in a good baseline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaselineSummary {
    /// When it was made.
    pub created: FileTime,
    /// The digest of the policy it was made under.
    pub policy_digest: [u8; 32],
    /// Objects recorded.
    pub records: usize,
    /// The id of the key that sealed it.
    pub key_id: String,
}

/// Verifies a baseline file's seal and format without scanning anything.
pub fn verify_baseline(path: &Path, key: &VerifyKey) -> Result<BaselineSummary, IntegrityError> {
    let b = read_baseline(path, key)?;
    Ok(BaselineSummary {
        created: b.created,
        policy_digest: b.policy_digest,
        records: b.records.len(),
        key_id: key.key_id().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FixedClock;
    use crate::integrity::attrs::AttrSet;
    use crate::integrity::fsx::NoExtras;
    use crate::integrity::policy::policy_digest_for_paths;
    use crate::integrity::seal::SealKind;
    use std::fs;

    fn ctx_parts(dir: &Path) -> (CompiledPolicy, [u8; 32]) {
        let paths = vec![dir.to_path_buf()];
        let attrs = AttrSet::default_set();
        (
            CompiledPolicy::for_paths(&paths, attrs).unwrap(),
            policy_digest_for_paths(&paths, attrs).unwrap(),
        )
    }

    #[test]
    fn init_check_accept_and_verify_round_trip() {
        let work = tempfile::tempdir().unwrap();
        let tree = work.path().join("tree");
        fs::create_dir(&tree).unwrap();
        fs::write(tree.join("a"), b"alpha").unwrap();
        fs::write(tree.join("b"), b"beta").unwrap();
        let (policy, digest) = ctx_parts(&tree);
        let clock = FixedClock::from_unix_secs(1_795_953_600);
        let progress = |_: ScanProgress| {};
        let ctx = Context {
            policy: &policy,
            policy_digest: digest,
            fsx: &NoExtras,
            clock: &clock,
            threads: 2,
            progress: &progress,
        };
        let key = SealKey::generate(SealKind::Ed25519).unwrap();
        let bl = work.path().join("tree.baseline");
        let init_outcome = init(&ctx, &bl, &key).unwrap();
        assert_eq!(init_outcome.records, 3, "the directory and two files");
        let clean = check(&ctx, &bl, &key.public(), ScanMode::Full).unwrap();
        assert!(!clean.report.has_changes(), "{}", clean.report.to_table());

        fs::write(tree.join("a"), b"ALPHA").unwrap();
        fs::remove_file(tree.join("b")).unwrap();
        let changed = check(&ctx, &bl, &key.public(), ScanMode::Quick).unwrap();
        let kinds: Vec<_> = changed
            .report
            .changes
            .iter()
            .map(|c| (c.path_text(), c.kind_name()))
            .collect();
        let a = format!("{}/a", tree.display());
        let b = format!("{}/b", tree.display());
        assert!(kinds.contains(&(a.clone(), "modified")), "{kinds:?}");
        assert!(kinds.contains(&(b.clone(), "removed")), "{kinds:?}");

        // Accept only the change of `a`: `b` is still reported afterwards.
        let acc = accept(
            &ctx,
            &bl,
            &key,
            &changed,
            &Selection::Paths(vec![a.clone().into_bytes()]),
            "service engineer 42",
        )
        .unwrap();
        assert_eq!(acc.accepted.len(), 1);
        // Left: `b` and the directory (its mtime and ctime moved with the
        // removal).
        assert_eq!(acc.left, 2);
        let after = check(&ctx, &bl, &key.public(), ScanMode::Full).unwrap();
        let left: Vec<_> = after.report.changes.iter().map(|c| c.path_text()).collect();
        assert_eq!(left, vec![tree.display().to_string(), b]);

        let summary = verify_baseline(&bl, &key.public()).unwrap();
        assert_eq!(summary.records, 3);
        assert_eq!(summary.key_id, key.key_id().to_string());
        let other = SealKey::generate(SealKind::Ed25519).unwrap();
        assert!(verify_baseline(&bl, &other.public()).is_err());
    }

    #[test]
    fn file_times_before_the_epoch_keep_nanoseconds_positive() {
        let t = UNIX_EPOCH - std::time::Duration::from_millis(1500);
        assert_eq!(
            file_time(t),
            FileTime {
                secs: -2,
                nanos: 500_000_000
            }
        );
        assert_eq!(file_time(UNIX_EPOCH).secs, 0);
    }
}
