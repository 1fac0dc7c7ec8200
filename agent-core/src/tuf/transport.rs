//! Where metadata and targets come from: a small blocking [`Transport`]
//! trait (fetch a path, get a stream) and [`LocalDirTransport`] for removable
//! media, the usual way updates reach an air-gapped modality.
//!
//! Verification wraps the stream rather than trusting the transport (the
//! "size limit adapter" of tough): the client reads through [`fetch_limited`],
//! which bounds whatever reader a transport returns by the length the parent
//! metadata gives or by [`crate::tuf::Limits`] (TUF 1.0.34 §5.3.3, §5.4.1,
//! §5.5.1, §5.6.1 "the maximum length … not known … use a fixed upper
//! bound"), so an endless-data attack fails even through a transport that
//! forgets its own bound.
//!
//! HTTPS over rustls (issue 3, "Transports") plugs in as a second
//! implementation of [`Transport`] next to [`LocalDirTransport`]: it joins
//! `path` to its base URL, maps HTTP 404 to [`TufError::NotFound`] and other
//! failures to [`TufError::Io`], and needs no size logic of its own.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

use super::TufError;

/// A source of repository files.
///
/// Implementations are blocking. `path` is relative to the repository base
/// and already URL-safe (delegated role names are percent-encoded by the
/// caller). Callers read through [`fetch_limited`], never through
/// [`Transport::fetch`] directly, so the length bound holds whatever the
/// implementation does.
pub trait Transport {
    /// Opens the file at `path` for reading.
    ///
    /// A missing file is [`TufError::NotFound`]; any other failure is
    /// another variant. Implementations should not return more than
    /// `max_len` bytes (wrapping in [`SizeLimited`] does that); the client
    /// enforces it again in any case.
    fn fetch(&self, path: &str, max_len: u64) -> Result<Box<dyn Read + '_>, TufError>;
}

/// Fetches `path` through `transport` with a reader that fails with
/// [`TufError::TooLarge`] as soon as more than `max_len` bytes arrive.
pub fn fetch_limited<'a>(
    transport: &'a dyn Transport,
    path: &str,
    max_len: u64,
) -> Result<SizeLimited<Box<dyn Read + 'a>>, TufError> {
    let inner = transport.fetch(path, max_len)?;
    Ok(SizeLimited::new(inner, path, max_len))
}

/// The most [`fetch_bytes`] reserves before reading (bytes).
const PREALLOC_LIMIT: u64 = 256 * 1024;

/// Reads a whole file of at most `max_len` bytes through [`fetch_limited`]
/// (for metadata, which is parsed in memory).
pub fn fetch_bytes(
    transport: &dyn Transport,
    path: &str,
    max_len: u64,
) -> Result<Vec<u8>, TufError> {
    let mut reader = fetch_limited(transport, path, max_len)?;
    // Room for the whole file when the bound is a listed length (the usual
    // case), so it is read without regrowing; no more than
    // `PREALLOC_LIMIT` up front, whatever the bound.
    let prealloc = usize::try_from(max_len.min(PREALLOC_LIMIT)).unwrap_or(0);
    let mut out = Vec::with_capacity(prealloc);
    reader
        .read_to_end(&mut out)
        .map_err(|e| io_error_to_tuf(e, path))?;
    Ok(out)
}

/// A reader that fails once more than a fixed number of bytes has come from
/// the inner reader. Reading exactly the bound and then end-of-file succeeds.
#[derive(Debug)]
pub struct SizeLimited<R> {
    inner: R,
    path: String,
    limit: u64,
    remaining: u64,
    exceeded: bool,
}

impl<R: Read> SizeLimited<R> {
    /// Wraps `inner`; `path` names the file in the error.
    pub fn new(inner: R, path: &str, limit: u64) -> Self {
        SizeLimited {
            inner,
            path: path.to_owned(),
            limit,
            remaining: limit,
            exceeded: false,
        }
    }

    fn too_large(&self) -> io::Error {
        io::Error::other(TufError::TooLarge {
            path: self.path.clone(),
            limit: self.limit,
        })
    }
}

impl<R: Read> Read for SizeLimited<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.exceeded {
            return Err(self.too_large());
        }
        if buf.is_empty() {
            return Ok(0);
        }
        // Ask for one byte more than allowed, so that a stream longer than
        // the bound is detected without waiting for the caller's next read.
        let want = usize::try_from(self.remaining.saturating_add(1))
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let window = buf.get_mut(..want).ok_or_else(|| self.too_large())?;
        let n = self.inner.read(window)?;
        let got = u64::try_from(n).unwrap_or(u64::MAX);
        match self.remaining.checked_sub(got) {
            Some(rest) => {
                self.remaining = rest;
                Ok(n)
            }
            None => {
                self.exceeded = true;
                Err(self.too_large())
            }
        }
    }
}

/// Turns an I/O error from a reader of `path` back into the [`TufError`] it
/// carries (a [`SizeLimited`] bound) or into [`TufError::Io`].
pub fn io_error_to_tuf(err: io::Error, path: &str) -> TufError {
    if let Some(inner) = err.get_ref().and_then(|e| e.downcast_ref::<TufError>()) {
        return inner.clone();
    }
    TufError::Io {
        path: path.to_owned(),
        message: err.to_string(),
    }
}

/// A repository in a local directory (removable media).
///
/// Paths are confined to the base directory: `..`, absolute paths and empty
/// components are refused, and symbolic links are resolved and must stay
/// inside the base. The media is trusted for nothing else: every byte read
/// is verified by the client.
#[derive(Debug, Clone)]
pub struct LocalDirTransport {
    base: PathBuf,
}

impl LocalDirTransport {
    /// Uses `base` (which must be an existing directory) as the repository
    /// base. Symbolic links in `base` itself are resolved once here.
    pub fn new(base: &Path) -> Result<Self, TufError> {
        let io = |e: io::Error| TufError::Io {
            path: base.display().to_string(),
            message: e.to_string(),
        };
        let base = base.canonicalize().map_err(io)?;
        if !base.is_dir() {
            return Err(TufError::Io {
                path: base.display().to_string(),
                message: "not a directory".to_owned(),
            });
        }
        Ok(LocalDirTransport { base })
    }

    /// The canonical base directory.
    pub fn base(&self) -> &Path {
        &self.base
    }

    /// Resolves `path` to a file inside the base, or says why not.
    fn resolve(&self, path: &str) -> Result<PathBuf, TufError> {
        let unsafe_name = |reason: &str| TufError::UnsafeName {
            name: path.to_owned(),
            reason: reason.to_owned(),
        };
        if path.is_empty() {
            return Err(unsafe_name("empty path"));
        }
        if path.contains('\0') {
            return Err(unsafe_name("NUL byte"));
        }
        if path.starts_with('/') {
            return Err(unsafe_name("absolute path"));
        }
        for part in path.split('/') {
            match part {
                "" => return Err(unsafe_name("empty path component")),
                "." | ".." => return Err(unsafe_name("'.' or '..' component")),
                _ => {}
            }
        }
        let joined = self.base.join(path);
        // Belt and braces: after the checks above every component is normal.
        if !joined
            .strip_prefix(&self.base)
            .map(|rel| rel.components().all(|c| matches!(c, Component::Normal(_))))
            .unwrap_or(false)
        {
            return Err(unsafe_name("escapes the repository directory"));
        }
        // The base is canonical and every component of `path` is a plain
        // name, so `joined` can only lead elsewhere through a symbolic link
        // among those components. One `lstat` per component below the base
        // (usually one: metadata sits at the top) finds whether there is
        // any; only then is the whole path resolved (`canonicalize` costs a
        // `readlink` for every component from `/`).
        let mut here = self.base.clone();
        let mut linked = false;
        for part in path.split('/') {
            here.push(part);
            match here.symlink_metadata() {
                Ok(md) if md.file_type().is_symlink() => {
                    linked = true;
                    break;
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    return Err(TufError::NotFound {
                        path: path.to_owned(),
                    });
                }
                // Not a directory, or another failure: let the full
                // resolution below report it.
                Err(_) => {
                    linked = true;
                    break;
                }
            }
        }
        if !linked {
            return Ok(joined);
        }
        let real = match joined.canonicalize() {
            Ok(p) => p,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(TufError::NotFound {
                    path: path.to_owned(),
                });
            }
            Err(e) => {
                return Err(TufError::Io {
                    path: path.to_owned(),
                    message: e.to_string(),
                });
            }
        };
        if !real.starts_with(&self.base) {
            return Err(unsafe_name(
                "a symbolic link leads out of the repository directory",
            ));
        }
        Ok(real)
    }
}

impl Transport for LocalDirTransport {
    fn fetch(&self, path: &str, max_len: u64) -> Result<Box<dyn Read + '_>, TufError> {
        let real = self.resolve(path)?;
        let io = |e: io::Error| {
            if e.kind() == io::ErrorKind::NotFound {
                TufError::NotFound {
                    path: path.to_owned(),
                }
            } else {
                TufError::Io {
                    path: path.to_owned(),
                    message: e.to_string(),
                }
            }
        };
        let file = File::open(&real).map_err(io)?;
        let meta = file.metadata().map_err(io)?;
        if !meta.is_file() {
            return Err(TufError::Io {
                path: path.to_owned(),
                message: "not a regular file".to_owned(),
            });
        }
        // Refuse early what is certainly too long; the reader enforces the
        // bound anyway, since a file on the media may grow while read.
        if meta.len() > max_len {
            return Err(TufError::TooLarge {
                path: path.to_owned(),
                limit: max_len,
            });
        }
        Ok(Box::new(SizeLimited::new(file, path, max_len)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn repo() -> (tempfile::TempDir, LocalDirTransport) {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir(d.path().join("repo")).unwrap();
        fs::write(d.path().join("repo/root.json"), b"0123456789").unwrap();
        fs::write(d.path().join("secret"), b"outside").unwrap();
        let t = LocalDirTransport::new(&d.path().join("repo")).unwrap();
        (d, t)
    }

    #[test]
    fn reads_a_file_within_its_bound() {
        let (_d, t) = repo();
        assert_eq!(fetch_bytes(&t, "root.json", 10).unwrap(), b"0123456789");
        assert_eq!(fetch_bytes(&t, "root.json", 1000).unwrap(), b"0123456789");
    }

    #[test]
    fn a_file_over_the_bound_fails_naming_path_and_limit() {
        let (_d, t) = repo();
        let err = fetch_bytes(&t, "root.json", 9).unwrap_err();
        assert_eq!(
            err,
            TufError::TooLarge {
                path: "root.json".into(),
                limit: 9
            }
        );
        assert!(err.to_string().contains("root.json") && err.to_string().contains('9'));
    }

    /// A transport that ignores `max_len` and streams forever: the client's
    /// wrapper still stops it (TUF "endless data" attack).
    struct Endless;
    impl Transport for Endless {
        fn fetch(&self, _path: &str, _max_len: u64) -> Result<Box<dyn Read + '_>, TufError> {
            Ok(Box::new(io::repeat(b'x')))
        }
    }

    #[test]
    fn a_transport_that_ignores_the_bound_is_still_bounded() {
        let err = fetch_bytes(&Endless, "timestamp.json", 16_384).unwrap_err();
        assert_eq!(
            err,
            TufError::TooLarge {
                path: "timestamp.json".into(),
                limit: 16_384
            }
        );
        // Exactly the bound then more: the extra byte is detected in the
        // same read, and every later read fails too.
        let mut r = fetch_limited(&Endless, "x", 4).unwrap();
        let mut buf = [0u8; 4];
        assert_eq!(r.read(&mut buf).unwrap(), 4);
        assert!(r.read(&mut buf).is_err());
        assert!(r.read(&mut buf).is_err());
    }

    #[test]
    fn a_missing_file_is_not_found() {
        let (_d, t) = repo();
        assert_eq!(
            fetch_bytes(&t, "2.root.json", 100).unwrap_err(),
            TufError::NotFound {
                path: "2.root.json".into()
            }
        );
        assert!(matches!(
            fetch_bytes(&t, "no/such/dir.json", 100).unwrap_err(),
            TufError::NotFound { .. }
        ));
    }

    #[test]
    fn escaping_paths_are_refused() {
        let (_d, t) = repo();
        for p in [
            "../secret",
            "/etc/passwd",
            "a/../../secret",
            "./root.json",
            "a//b",
            "",
            "root.json\0",
        ] {
            assert!(
                matches!(fetch_bytes(&t, p, 100), Err(TufError::UnsafeName { .. })),
                "{p:?}"
            );
        }
    }

    #[test]
    fn symlinks_inside_the_base_work_and_out_of_it_are_refused() {
        let (d, t) = repo();
        let r = d.path().join("repo");
        std::os::unix::fs::symlink("root.json", r.join("alias.json")).unwrap();
        std::os::unix::fs::symlink("../secret", r.join("leak.json")).unwrap();
        std::os::unix::fs::symlink(d.path(), r.join("up")).unwrap();
        assert_eq!(fetch_bytes(&t, "alias.json", 100).unwrap(), b"0123456789");
        assert!(matches!(
            fetch_bytes(&t, "leak.json", 100),
            Err(TufError::UnsafeName { .. })
        ));
        assert!(matches!(
            fetch_bytes(&t, "up/secret", 100),
            Err(TufError::UnsafeName { .. })
        ));
    }

    /// The fast path (no symbolic link below the base) and the slow one (a
    /// link somewhere in the path) give the same answers.
    #[test]
    fn a_linked_directory_inside_the_base_works_and_a_file_path_is_not_a_directory() {
        let (d, t) = repo();
        let r = d.path().join("repo");
        fs::create_dir(r.join("real")).unwrap();
        fs::write(r.join("real/1.bin.json"), b"bin").unwrap();
        std::os::unix::fs::symlink("real", r.join("linked")).unwrap();
        assert_eq!(fetch_bytes(&t, "real/1.bin.json", 100).unwrap(), b"bin");
        assert_eq!(fetch_bytes(&t, "linked/1.bin.json", 100).unwrap(), b"bin");
        assert!(matches!(
            fetch_bytes(&t, "linked/none.json", 100),
            Err(TufError::NotFound { .. })
        ));
        assert!(fetch_bytes(&t, "root.json/x", 100).is_err());
    }

    #[test]
    fn a_directory_is_not_a_file() {
        let (d, t) = repo();
        fs::create_dir(d.path().join("repo/targets")).unwrap();
        assert!(matches!(
            fetch_bytes(&t, "targets", 100),
            Err(TufError::Io { .. })
        ));
    }
}
