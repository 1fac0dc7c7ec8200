//! The fault-injection seam of the durable steps (issue 5, "Power-loss
//! safety by fault injection").
//!
//! Every step that changes what survives a power cut in [`crate::durable`],
//! the event log ([`crate::events::log`]) and the trusted-metadata store
//! ([`crate::tuf::store`]) goes through one of the functions here: creating
//! a file, a write, an fsync or fdatasync, a rename, a directory fsync, a
//! truncation, a removal. In a normal build each one is the plain `std`
//! call, inlined: the seam costs nothing and changes nothing.
//!
//! Under `cfg(test)` a test arms a plan on its own thread (`arm`): the
//! steps are counted from 1 and step `N` either fails with an injected
//! error (`EIO`, `ENOSPC`: `Fault::Errno`) and every other step runs, or
//! "crashes" (`Fault::Crash`): step `N` and every later step are not
//! performed, as after a power cut, and fail with an error the test can
//! recognise (`is_crash`). `Fault::TornCrash` does the same, but a
//! write at step `N` first writes half of its bytes (a torn write);
//! `Fault::PowerCut` also puts back the directory entries changed since
//! their directory's last fsync (the renames a power cut may lose). The
//! test then "restarts" by opening the files again, and checks what it
//! finds. A crash also leaves the temporary file of an interrupted
//! [`crate::durable`] write behind, as a killed process would.
//!
//! The model is the one the durable-write helper relies on: a step that
//! returned has taken effect (the data of a write reached the page cache,
//! and survives a crash once the file is synced). It does not model the
//! loss of writes a later sync would have made durable; the crash order
//! of each user is built so that such a loss looks like a crash at the
//! write step, which the plan exercises.

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;
use tempfile::NamedTempFile;

/// The kinds of durable step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Creating a file (a log, a temporary).
    Create,
    /// A write (`write`, `pwrite`).
    Write,
    /// `fdatasync`.
    SyncData,
    /// `fsync` of a file.
    SyncAll,
    /// A rename over the old file.
    Rename,
    /// `fsync` of a directory.
    SyncDir,
    /// A truncation (`ftruncate`).
    SetLen,
    /// Removing a file.
    Remove,
}

/// Creates `path` with `opts` (a [`Step::Create`]).
#[inline]
pub(crate) fn create(opts: &std::fs::OpenOptions, path: &Path) -> io::Result<File> {
    check(Step::Create)?;
    #[cfg(test)]
    plan::note_entry(path);
    opts.open(path)
}

/// Creates a temporary file in `dir` (a [`Step::Create`]).
#[inline]
pub(crate) fn create_temp(
    builder: &tempfile::Builder<'_, '_>,
    dir: &Path,
) -> io::Result<NamedTempFile> {
    check(Step::Create)?;
    builder.tempfile_in(dir)
}

/// `file.write_all(buf)` (a [`Step::Write`]).
#[inline]
pub(crate) fn write_all(mut file: &File, buf: &[u8]) -> io::Result<()> {
    match check(Step::Write)? {
        Go::Whole => file.write_all(buf),
        Go::Torn => {
            let _ = file.write_all(buf.get(..buf.len() / 2).unwrap_or_default());
            Err(crash_error())
        }
    }
}

/// `file.write_all_at(buf, offset)` (a [`Step::Write`]).
#[inline]
pub(crate) fn write_all_at(file: &File, buf: &[u8], offset: u64) -> io::Result<()> {
    match check(Step::Write)? {
        Go::Whole => file.write_all_at(buf, offset),
        Go::Torn => {
            let _ = file.write_all_at(buf.get(..buf.len() / 2).unwrap_or_default(), offset);
            Err(crash_error())
        }
    }
}

/// `file.sync_data()` (a [`Step::SyncData`]).
#[inline]
pub(crate) fn sync_data(file: &File) -> io::Result<()> {
    check(Step::SyncData)?;
    file.sync_data()
}

/// `file.sync_all()` (a [`Step::SyncAll`]).
#[inline]
pub(crate) fn sync_all(file: &File) -> io::Result<()> {
    check(Step::SyncAll)?;
    file.sync_all()
}

/// `file.set_len(len)` (a [`Step::SetLen`]).
#[inline]
pub(crate) fn set_len(file: &File, len: u64) -> io::Result<()> {
    check(Step::SetLen)?;
    file.set_len(len)
}

/// Renames the temporary file over `path` (a [`Step::Rename`]).
#[inline]
pub(crate) fn persist(tmp: NamedTempFile, path: &Path) -> io::Result<()> {
    if let Err(e) = check(Step::Rename) {
        abandon(tmp);
        return Err(e);
    }
    #[cfg(test)]
    plan::note_entry(path);
    tmp.persist(path).map(drop).map_err(|e| e.error)
}

/// Fsyncs the directory `dir` (a [`Step::SyncDir`]).
#[inline]
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    check(Step::SyncDir)?;
    File::open(dir)?.sync_all()?;
    #[cfg(test)]
    plan::dir_synced(dir);
    Ok(())
}

/// Removes `path` (a [`Step::Remove`]).
#[inline]
pub(crate) fn remove_file(path: &Path) -> io::Result<()> {
    check(Step::Remove)?;
    #[cfg(test)]
    plan::note_entry(path);
    std::fs::remove_file(path)
}

/// Gives up a temporary file after a failed step: it is removed, except
/// after an injected crash, where a killed process would have left it.
#[inline]
pub(crate) fn abandon(tmp: NamedTempFile) {
    #[cfg(test)]
    if plan::crashed() {
        let _ = tmp.keep();
        return;
    }
    drop(tmp);
}

/// What a write does.
enum Go {
    /// All of it.
    Whole,
    /// Half of it, then the crash.
    #[cfg_attr(not(test), allow(dead_code))]
    Torn,
}

#[cfg(not(test))]
#[inline(always)]
fn check(_step: Step) -> io::Result<Go> {
    Ok(Go::Whole)
}

#[cfg(not(test))]
fn crash_error() -> io::Error {
    io::Error::other("unreachable")
}

#[cfg(test)]
use plan::{check, crash_error};

#[cfg(test)]
pub(crate) use plan::{Fault, arm, disarm, is_crash};

/// The plan of the current thread (tests only).
#[cfg(test)]
mod plan {
    use super::{Go, Step};
    use std::cell::RefCell;
    use std::io;
    use std::path::{Path, PathBuf};

    /// What happens at the chosen step.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(crate) enum Fault {
        /// The step fails with this `errno`; later steps run.
        Errno(i32),
        /// The step and every later one are not performed.
        Crash,
        /// As [`Fault::Crash`], but a write at the step writes half its
        /// bytes first.
        TornCrash,
        /// As [`Fault::Crash`], and the directory entries changed since
        /// their directory was last fsynced (files created, renamed over,
        /// removed) are put back as they were: the renames a power cut
        /// may lose (see `durable::write_atomic_defer_dir_sync`).
        PowerCut,
    }

    /// What an armed run did.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub(crate) struct Outcome {
        /// Every step reached, in order (the failed and the skipped ones
        /// included).
        pub(crate) steps: Vec<Step>,
        /// The step the fault hit, if the run got that far.
        pub(crate) fired: Option<Step>,
    }

    struct Plan {
        at: usize,
        fault: Fault,
        steps: Vec<Step>,
        fired: Option<Step>,
        /// Entries changed since their directory's last fsync, in order,
        /// with the file's content before (`None`: it did not exist).
        unsynced: Vec<(PathBuf, Option<Vec<u8>>)>,
    }

    thread_local! {
        static PLAN: RefCell<Option<Plan>> = const { RefCell::new(None) };
    }

    const CRASH_MESSAGE: &str = "injected crash: the step was not performed";

    /// Arms `fault` at step `at` (counting from 1; 0 never fires: the run
    /// only counts its steps) on this thread.
    pub(crate) fn arm(at: usize, fault: Fault) {
        PLAN.with(|p| {
            *p.borrow_mut() = Some(Plan {
                at,
                fault,
                steps: Vec::new(),
                fired: None,
                unsynced: Vec::new(),
            });
        });
    }

    /// Disarms this thread's plan and says what the run did.
    pub(crate) fn disarm() -> Outcome {
        PLAN.with(|p| {
            p.borrow_mut()
                .take()
                .map(|plan| Outcome {
                    steps: plan.steps,
                    fired: plan.fired,
                })
                .unwrap_or(Outcome {
                    steps: Vec::new(),
                    fired: None,
                })
        })
    }

    /// Whether `e` is the error of an injected crash.
    pub(crate) fn is_crash(e: &io::Error) -> bool {
        e.to_string() == CRASH_MESSAGE
    }

    pub(super) fn crash_error() -> io::Error {
        io::Error::other(CRASH_MESSAGE)
    }

    /// Records that `path`'s directory entry is about to change (created,
    /// renamed over or removed), with its present content.
    pub(super) fn note_entry(path: &Path) {
        PLAN.with(|p| {
            if let Some(plan) = p.borrow_mut().as_mut() {
                let before = std::fs::read(path).ok();
                plan.unsynced.push((path.to_path_buf(), before));
            }
        });
    }

    /// Records that `dir` was fsynced: its entries' changes are durable.
    pub(super) fn dir_synced(dir: &Path) {
        PLAN.with(|p| {
            if let Some(plan) = p.borrow_mut().as_mut() {
                plan.unsynced.retain(|(path, _)| path.parent() != Some(dir));
            }
        });
    }

    /// Whether a crash has fired on this thread.
    pub(super) fn crashed() -> bool {
        PLAN.with(|p| {
            p.borrow()
                .as_ref()
                .is_some_and(|plan| plan.fired.is_some() && !matches!(plan.fault, Fault::Errno(_)))
        })
    }

    pub(super) fn check(step: Step) -> io::Result<Go> {
        PLAN.with(|p| {
            let mut p = p.borrow_mut();
            let Some(plan) = p.as_mut() else {
                return Ok(Go::Whole);
            };
            plan.steps.push(step);
            let n = plan.steps.len();
            match plan.fault {
                Fault::Crash | Fault::TornCrash | Fault::PowerCut if plan.fired.is_some() => {
                    Err(crash_error())
                }
                _ if n != plan.at => Ok(Go::Whole),
                Fault::Errno(errno) => {
                    plan.fired = Some(step);
                    Err(io::Error::from_raw_os_error(errno))
                }
                Fault::TornCrash if step == Step::Write => {
                    plan.fired = Some(step);
                    Ok(Go::Torn)
                }
                Fault::Crash | Fault::TornCrash => {
                    plan.fired = Some(step);
                    Err(crash_error())
                }
                Fault::PowerCut => {
                    plan.fired = Some(step);
                    // Undone newest first, so each entry gets its content
                    // as of its directory's last fsync.
                    for (path, before) in plan.unsynced.drain(..).rev() {
                        let _ = match before {
                            Some(bytes) => std::fs::write(&path, bytes),
                            None => std::fs::remove_file(&path),
                        };
                    }
                    Err(crash_error())
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{Fault, Step, arm, disarm, is_crash};
    use crate::durable::{TEMP_PREFIX, write_atomic, write_atomic_defer_dir_sync};
    use std::fs;
    use std::path::Path;

    fn temporaries(dir: &Path) -> Vec<Vec<u8>> {
        fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| e.file_name().to_string_lossy().starts_with(TEMP_PREFIX))
            .map(|e| fs::read(e.path()).unwrap())
            .collect()
    }

    #[test]
    fn a_durable_write_is_five_steps_and_unarmed_threads_count_nothing() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("state");
        write_atomic(&p, b"zero", None).unwrap();
        assert_eq!(disarm().steps, vec![]);
        arm(0, Fault::Crash);
        write_atomic(&p, b"one", None).unwrap();
        let out = disarm();
        assert_eq!(
            out.steps,
            vec![
                Step::Create,
                Step::Write,
                Step::SyncAll,
                Step::Rename,
                Step::SyncDir
            ]
        );
        assert_eq!(out.fired, None);
    }

    #[test]
    fn an_injected_error_fails_one_step_and_cleans_up() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("state");
        write_atomic(&p, b"old", None).unwrap();
        arm(2, Fault::Errno(libc::ENOSPC));
        let e = write_atomic(&p, b"new", None).unwrap_err();
        assert_eq!(disarm().fired, Some(Step::Write));
        assert_eq!(e.raw_os_error(), Some(libc::ENOSPC));
        assert_eq!(fs::read(&p).unwrap(), b"old");
        assert!(temporaries(d.path()).is_empty());
    }

    #[test]
    fn a_crash_stops_every_later_step_and_leaves_the_temporary() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("state");
        write_atomic(&p, b"old", None).unwrap();
        arm(3, Fault::Crash);
        let e = write_atomic(&p, b"new", None).unwrap_err();
        assert!(is_crash(&e));
        // Later steps are not performed either.
        assert!(is_crash(&write_atomic(&p, b"later", None).unwrap_err()));
        let out = disarm();
        assert_eq!((out.fired, out.steps.len()), (Some(Step::SyncAll), 4));
        assert_eq!(fs::read(&p).unwrap(), b"old");
        assert_eq!(temporaries(d.path()), vec![b"new".to_vec()]);
    }

    #[test]
    fn a_torn_crash_writes_half() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("state");
        arm(2, Fault::TornCrash);
        assert!(is_crash(&write_atomic(&p, b"12345678", None).unwrap_err()));
        disarm();
        assert!(!p.exists());
        assert_eq!(temporaries(d.path()), vec![b"1234".to_vec()]);
    }

    #[test]
    fn a_power_cut_loses_the_renames_not_yet_synced() {
        let d = tempfile::tempdir().unwrap();
        let (p, q) = (d.path().join("p"), d.path().join("q"));
        arm(10, Fault::PowerCut);
        write_atomic(&p, b"p1", None).unwrap(); // steps 1-5, synced
        write_atomic_defer_dir_sync(&p, b"p2", None).unwrap(); // 6-9
        let e = write_atomic_defer_dir_sync(&q, b"q1", None).unwrap_err(); // 10
        assert!(is_crash(&e));
        disarm();
        assert_eq!(fs::read(&p).unwrap(), b"p1");
        assert!(!q.exists());
    }
}
