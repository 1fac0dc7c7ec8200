//! The dpkg status database, `/var/lib/dpkg/status`: the installed packages
//! for the software inventory (SBOM-01).
//!
//! The file is a sequence of deb822(5) paragraphs ("stanzas") separated by
//! empty lines (lines of only spaces and tabs count as empty, as deb822(5)
//! allows). A field is `Name: value` starting in column 0; field names are
//! case-insensitive; a line starting with a space or a tab continues the
//! previous field (a continuation of just ` .` is an empty line of a
//! multiline field, deb-control(5) "Description"). Lines starting with `#`
//! in column 0 are comments (deb822(5)).
//!
//! Of each stanza only the fields the inventory needs are kept, all of them
//! simple (single-line) fields per deb-control(5): `Package`, `Status`,
//! `Version`, `Architecture`, `Maintainer`, `Source`, `Homepage`.
//! A package counts as installed when its `Status` (dpkg(1) "want flag
//! status", three words) has flag `ok` and status `installed`; the want
//! (`install`, `hold`, `deinstall`, `purge`) says what the administrator asked
//! for next, not what is on disk, so a held package (`hold ok installed`) is
//! in the inventory too.
//!
//! Malformed stanzas are reported as a [`Diagnostic`] naming file, line and
//! field, and skipped. The number of packages and the length of each kept
//! field are bounded by [`Limits`].

use crate::finding::Diagnostic;
use crate::root::TextFile;

/// Bounds on what [`parse_status_with`] keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Stanzas read; the rest of the file is ignored (with one diagnostic).
    /// Default 200,000 (all of Debian's archive is about 70,000 packages).
    pub max_packages: usize,
    /// Bytes of one kept field's value; a longer value is a diagnostic and
    /// the field is treated as absent. Default 4096.
    pub max_field_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_packages: 200_000,
            max_field_bytes: 4096,
        }
    }
}

/// The `Source` field: the source package name and, when it differs from the
/// binary's, its version in parentheses (deb-control(5) "Source").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcePackage {
    /// The source package name.
    pub name: String,
    /// The source version, when written (`util-linux (2.38.1-5+deb12u3)`).
    pub version: Option<String>,
}

/// One installed package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// `Package`: the binary package name (deb-control(5) "Package").
    pub name: String,
    /// `Version`: `[epoch:]upstream_version[-debian_revision]` as written
    /// (deb-version(7)).
    pub version: String,
    /// `Architecture` (`amd64`, `all`, ...).
    pub architecture: String,
    /// The first word of `Status` (`install` or `hold`).
    pub want: String,
    /// `Maintainer`: the supplier, `Name <email>` (deb-control(5) "Maintainer").
    pub maintainer: Option<String>,
    /// `Source`.
    pub source: Option<SourcePackage>,
    /// `Homepage`.
    pub homepage: Option<String>,
    /// The 1-based line where the stanza starts.
    pub line: u32,
}

impl Package {
    /// The Package URL of this package per the purl specification's `deb`
    /// type: `pkg:deb/debian/<name>@<version>?arch=<arch>[&distro=<distro>]`,
    /// qualifiers in key order, each component percent-encoded (so the `:` of
    /// an epoch is `%3A`). `distro` (e.g. `debian-12`) is added only when given.
    pub fn purl(&self, distro: Option<&str>) -> String {
        let mut s = format!(
            "pkg:deb/debian/{}@{}?arch={}",
            purl_encode(&self.name.to_ascii_lowercase()),
            purl_encode(&self.version),
            purl_encode(&self.architecture.to_ascii_lowercase()),
        );
        if let Some(d) = distro.filter(|d| !d.is_empty()) {
            s.push_str("&distro=");
            s.push_str(&purl_encode(d));
        }
        s
    }
}

/// The parsed status database.
#[derive(Debug, Clone, Default)]
pub struct DpkgStatus {
    /// The file, as a path inside the audited root.
    pub path: String,
    /// The installed packages, in file order.
    pub packages: Vec<Package>,
    /// Well-formed stanzas whose package is not installed (removed with its
    /// configuration files kept, half-installed, ...).
    pub not_installed: usize,
    /// Stanzas skipped because they were malformed (each has a diagnostic).
    pub malformed: usize,
    /// True when the package limit was reached or the file was truncated, so
    /// the inventory is incomplete.
    pub incomplete: bool,
}

/// Percent-encodes a purl component: everything but the RFC 3986 unreserved
/// characters (`A-Z a-z 0-9 . - _ ~`) becomes `%XX` (upper-case hex) of its
/// UTF-8 bytes, as the purl specification ("Character encoding") requires.
/// Written here rather than taken from a crate because the `packageurl` crate
/// is not in the dependency tree and this is the whole of what is needed.
pub fn purl_encode(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            for nibble in [b >> 4, b & 0x0f] {
                if let Some(&h) = HEX.get(usize::from(nibble)) {
                    out.push(char::from(h));
                }
            }
        }
    }
    out
}

/// True for a valid binary package name (deb-control(5) "Package": at least
/// two characters of lower-case letters, digits, `+`, `-` and `.`, starting
/// with an alphanumeric).
pub fn valid_name(s: &str) -> bool {
    s.len() >= 2
        && s.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && s.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.')
        })
}

/// True for a valid version (deb-version(7)): an optional all-digit epoch
/// before the first `:`, then an upstream version starting with a digit, of
/// alphanumerics and `. + ~ - :`, with an optional `-revision` of
/// alphanumerics and `. + ~`.
pub fn valid_version(s: &str) -> bool {
    let rest = match s.split_once(':') {
        Some((epoch, rest)) => {
            if epoch.is_empty() || !epoch.bytes().all(|b| b.is_ascii_digit()) {
                return false;
            }
            rest
        }
        None => s,
    };
    let (upstream, revision) = match rest.rsplit_once('-') {
        Some((u, r)) => (u, Some(r)),
        None => (rest, None),
    };
    let upstream_ok = upstream.bytes().next().is_some_and(|b| b.is_ascii_digit())
        && upstream
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'~' | b'-' | b':'));
    let revision_ok = revision.is_none_or(|r| {
        !r.is_empty()
            && r.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'~'))
    });
    upstream_ok && revision_ok
}

/// Parses a `Source` value: `name` or `name (version)`.
pub fn parse_source(s: &str) -> Option<SourcePackage> {
    let s = s.trim();
    let (name, version) = match s.split_once('(') {
        Some((n, v)) => {
            let v = v.strip_suffix(')')?.trim();
            if !valid_version(v) {
                return None;
            }
            (n.trim(), Some(v.to_owned()))
        }
        None => (s, None),
    };
    valid_name(name).then(|| SourcePackage {
        name: name.to_owned(),
        version,
    })
}

/// The kept fields of one stanza while it is read.
#[derive(Default)]
struct Stanza {
    start: u32,
    package: Option<String>,
    status: Option<String>,
    version: Option<String>,
    architecture: Option<String>,
    maintainer: Option<String>,
    source: Option<(String, u32)>,
    homepage: Option<String>,
    fields: usize,
    /// A diagnostic was already emitted for a required field.
    broken: bool,
}

impl Stanza {
    fn slot(&mut self, name: &str) -> Option<(&'static str, &mut Option<String>)> {
        Some(match name.to_ascii_lowercase().as_str() {
            "package" => ("Package", &mut self.package),
            "status" => ("Status", &mut self.status),
            "version" => ("Version", &mut self.version),
            "architecture" => ("Architecture", &mut self.architecture),
            "maintainer" => ("Maintainer", &mut self.maintainer),
            "homepage" => ("Homepage", &mut self.homepage),
            _ => return None,
        })
    }
}

/// Parses the status database with the default [`Limits`].
pub fn parse_status(t: &TextFile, warn: &mut dyn FnMut(Diagnostic)) -> DpkgStatus {
    parse_status_with(t, Limits::default(), warn)
}

/// Parses the status database (see the module documentation for the rules).
pub fn parse_status_with(
    t: &TextFile,
    limits: Limits,
    warn: &mut dyn FnMut(Diagnostic),
) -> DpkgStatus {
    let mut out = DpkgStatus {
        path: t.path.clone(),
        incomplete: t.truncated,
        ..DpkgStatus::default()
    };
    let mut diag = |line: u32, field: Option<&str>, message: String| {
        warn(Diagnostic {
            file: t.path.clone(),
            line: Some(line),
            field: field.map(str::to_owned),
            message,
        });
    };
    let mut cur: Option<Stanza> = None;
    // The field the previous line belonged to, for continuation lines.
    let mut last_field: Option<String> = None;
    let mut stanzas = 0usize;
    for (n, line) in t.lines() {
        if line.trim_matches([' ', '\t']).is_empty() {
            if let Some(s) = cur.take() {
                finish(s, &mut out, &mut diag);
            }
            last_field = None;
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            match (&last_field, cur.as_mut()) {
                (Some(f), Some(s)) => {
                    if s.slot(f).is_some() || f.eq_ignore_ascii_case("source") {
                        diag(
                            n,
                            Some(f),
                            "continuation line in a single-line field".into(),
                        );
                        s.broken = true;
                    }
                }
                _ => diag(n, None, "continuation line without a field".into()),
            }
            continue;
        }
        let stanza = match cur.as_mut() {
            Some(s) => s,
            None => {
                if stanzas >= limits.max_packages {
                    diag(
                        n,
                        None,
                        format!(
                            "more than {} stanzas; the rest is ignored",
                            limits.max_packages
                        ),
                    );
                    out.incomplete = true;
                    break;
                }
                stanzas = stanzas.saturating_add(1);
                cur.insert(Stanza {
                    start: n,
                    ..Stanza::default()
                })
            }
        };
        let Some((name, value)) = line.split_once(':') else {
            diag(
                n,
                None,
                "line is neither `Field: value` nor a continuation".into(),
            );
            stanza.broken = true;
            last_field = None;
            continue;
        };
        let value = value.trim_matches([' ', '\t']);
        if name.is_empty() || name.contains([' ', '\t']) {
            diag(n, None, format!("invalid field name {name:?}"));
            stanza.broken = true;
            last_field = None;
            continue;
        }
        stanza.fields = stanza.fields.saturating_add(1);
        last_field = Some(name.to_owned());
        let too_long = value.len() > limits.max_field_bytes;
        if name.eq_ignore_ascii_case("source") {
            if too_long {
                diag(
                    n,
                    Some("Source"),
                    format!("longer than {} bytes", limits.max_field_bytes),
                );
            } else if stanza.source.is_some() {
                diag(n, Some("Source"), "field repeated in the stanza".into());
                stanza.broken = true;
            } else {
                stanza.source = Some((value.to_owned(), n));
            }
            continue;
        }
        let Some((canonical, slot)) = stanza.slot(name) else {
            continue;
        };
        if too_long {
            diag(
                n,
                Some(canonical),
                format!("longer than {} bytes", limits.max_field_bytes),
            );
            if matches!(canonical, "Package" | "Status" | "Version" | "Architecture") {
                stanza.broken = true;
            }
        } else if slot.is_some() {
            diag(n, Some(canonical), "field repeated in the stanza".into());
            stanza.broken = true;
        } else {
            *slot = Some(value.to_owned());
        }
    }
    if let Some(s) = cur.take() {
        finish(s, &mut out, &mut diag);
    }
    out
}

/// Validates a finished stanza and adds it to `out` when it is an installed package.
fn finish(s: Stanza, out: &mut DpkgStatus, diag: &mut dyn FnMut(u32, Option<&str>, String)) {
    let line = s.start;
    if s.broken {
        out.malformed = out.malformed.saturating_add(1);
        return;
    }
    let mut missing = |field: &str| {
        diag(
            line,
            Some(field),
            "required field missing from the stanza".into(),
        );
    };
    let (Some(name), Some(status)) = (s.package, s.status) else {
        missing(if s.fields > 0 {
            "Package or Status"
        } else {
            "Package"
        });
        out.malformed = out.malformed.saturating_add(1);
        return;
    };
    let words: Vec<&str> = status.split_ascii_whitespace().collect();
    let [want, flag, state] = words.as_slice() else {
        diag(
            line,
            Some("Status"),
            format!("{name}: expected three words (want flag status), found {status:?}"),
        );
        out.malformed = out.malformed.saturating_add(1);
        return;
    };
    if *flag != "ok" || *state != "installed" {
        out.not_installed = out.not_installed.saturating_add(1);
        return;
    }
    let (Some(version), Some(architecture)) = (s.version, s.architecture) else {
        missing("Version or Architecture");
        out.malformed = out.malformed.saturating_add(1);
        return;
    };
    let bad = if !valid_name(&name) {
        Some(("Package", format!("invalid package name {name:?}")))
    } else if !valid_version(&version) {
        Some(("Version", format!("{name}: invalid version {version:?}")))
    } else if architecture.is_empty()
        || !architecture
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        Some((
            "Architecture",
            format!("{name}: invalid architecture {architecture:?}"),
        ))
    } else {
        None
    };
    if let Some((field, message)) = bad {
        diag(line, Some(field), message);
        out.malformed = out.malformed.saturating_add(1);
        return;
    }
    let source = s.source.and_then(|(v, n)| {
        let parsed = parse_source(&v);
        if parsed.is_none() {
            diag(n, Some("Source"), format!("{name}: invalid source {v:?}"));
        }
        parsed
    });
    out.packages.push(Package {
        name,
        version,
        architecture,
        want: (*want).to_owned(),
        maintainer: s.maintainer.filter(|m| !m.is_empty()),
        source,
        homepage: s.homepage.filter(|h| !h.is_empty()),
        line,
    });
}

#[cfg(test)]
mod tests;
