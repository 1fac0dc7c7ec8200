//! Comparing a baseline with a scan: the changes a check reports.
//!
//! Both sides are lists of [`FileRecord`] sorted by path bytes (as the
//! baseline stores them and the scanner returns them), so one merge walk
//! finds every change in O(n). For each path:
//! - only in the baseline: [`ChangeKind::Removed`]; only now:
//!   [`ChangeKind::Added`];
//! - in both: every attribute that the baseline recorded and that the
//!   governing rule watches is compared; a different file type is
//!   [`ChangeKind::TypeChanged`] (when the rule watches `type`), anything
//!   else [`ChangeKind::Modified`], each with the attributes that differ,
//!   old and new values rendered for people ([`crate::integrity::render`]).
//!
//! Decisions (documented here because reports and events depend on them):
//! - The rule that governs a path is the one the *current* policy gives
//!   ([`CompiledPolicy::rule_for`]); its severity is the change's severity.
//!   A path that no rule governs any more (the policy was narrowed, or the
//!   path is now excluded) is **not reported**: it is no longer watched, and
//!   reporting it as removed would blame the file for a policy change. The
//!   baseline's policy digest is the place to notice a changed policy.
//! - An attribute that the baseline recorded and the rule watches but the
//!   scan did not record (it could not read the file, say) is reported with
//!   the new value `(not recorded)`: a check must never pass silently on
//!   something it could not see. The scanner reports the reason as a
//!   problem.
//! - A rename shows as the old path removed and the new path added; the two
//!   are not paired (an inode can be reused, and pairing would hide either
//!   change).
//! - A "growing" rule (log files): mtime and ctime are never compared; a
//!   larger size is not a change, and neither is the new hash that comes
//!   with it; a smaller size is reported as `size` (the content was cut);
//!   the same size with another hash is reported as `sha256`/`sha512` (the
//!   content was rewritten in place, not grown). Whether the old content is
//!   still a prefix of the new one cannot be told from one hash.
//! - On a type change only the attributes recorded on both sides are listed
//!   (a directory has no content hash to compare with a file's).

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt as _;
use std::path::{Path, PathBuf};

use serde::{Serialize, Serializer};

use crate::Severity;
use crate::integrity::attrs::{Attr, AttrSet};
use crate::integrity::baseline::Baseline;
use crate::integrity::policy::CompiledPolicy;
use crate::integrity::record::{EntryType, FileRecord};
use crate::integrity::render;

/// What happened to a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChangeKind {
    /// The path is new.
    Added,
    /// The path is gone.
    Removed,
    /// The path now holds another type of object (a file replaced by a
    /// directory or a symlink, say).
    TypeChanged {
        /// The type in the baseline.
        #[serde(rename = "old_type", serialize_with = "ser_entry_type")]
        old: EntryType,
        /// The type now.
        #[serde(rename = "new_type", serialize_with = "ser_entry_type")]
        new: EntryType,
    },
    /// Same type, some watched attribute differs.
    Modified,
}

impl ChangeKind {
    /// The kind's name in reports and events: `added`, `removed`,
    /// `type_changed` or `modified`.
    pub fn name(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::TypeChanged { .. } => "type_changed",
            ChangeKind::Modified => "modified",
        }
    }
}

/// One attribute that differs, with its old and new values as people read
/// them (`perm`: `0644` → `0755`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttrChange {
    /// The attribute.
    #[serde(serialize_with = "ser_attr")]
    pub attr: Attr,
    /// For `xattrs`, `acl`, `caps` and `selinux`: the extended attribute's
    /// name (escaped as [`render::escape_bytes`] does), one change per name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The value in the baseline (`(absent)` for an extended attribute that
    /// was not there).
    pub old: String,
    /// The value now (`(absent)` for an extended attribute removed,
    /// `(not recorded)` when the scan could not record it).
    pub new: String,
}

/// One changed path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The full path, bytes (JSON: text escaped as
    /// [`render::escape_bytes`] does).
    #[serde(serialize_with = "ser_bytes")]
    pub path: Box<[u8]>,
    /// What happened (JSON: `kind`, and `old_type`/`new_type` for a type
    /// change).
    #[serde(flatten)]
    pub kind: ChangeKind,
    /// The governing rule's severity.
    pub severity: Severity,
    /// The attributes that differ (empty for added and removed paths).
    pub attrs: Vec<AttrChange>,
}

impl Change {
    /// The kind's name (`added`, `removed`, `type_changed`, `modified`), the
    /// name of the event issue 5 records.
    pub fn kind_name(&self) -> &'static str {
        self.kind.name()
    }

    /// The path as text, losslessly escaped ([`render::escape_bytes`]).
    pub fn path_text(&self) -> String {
        render::escape_bytes(&self.path)
    }
}

fn ser_bytes<S: Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&render::escape_bytes(b))
}

fn ser_attr<S: Serializer>(a: &Attr, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(a.name())
}

fn ser_entry_type<S: Serializer>(t: &EntryType, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(t.name())
}

/// The changes between `baseline` and `current` (a scan's records), sorted
/// by path.
pub fn diff(policy: &CompiledPolicy, baseline: &Baseline, current: &[FileRecord]) -> Vec<Change> {
    diff_records(policy, &baseline.records, current)
}

/// As [`diff`], with the baseline's records given directly.
///
/// Both lists should be sorted by path bytes (a baseline and a scan are); a
/// list that is not is sorted here first (by reference), so the result is
/// right either way.
pub fn diff_records(
    policy: &CompiledPolicy,
    baseline: &[FileRecord],
    current: &[FileRecord],
) -> Vec<Change> {
    merge(policy, sorted(baseline.iter()), sorted(current.iter()))
}

/// As [`diff`], limited to `paths` and everything below them (watch mode:
/// the paths the kernel reported, re-scanned with `scan_paths`). A path in
/// the baseline under one of `paths` with no current record is removed; a
/// current record outside `paths` is ignored.
pub fn diff_paths(
    policy: &CompiledPolicy,
    baseline: &Baseline,
    current: &[FileRecord],
    paths: &[PathBuf],
) -> Vec<Change> {
    diff_paths_records(policy, &baseline.records, current, paths)
}

/// As [`diff_paths`], with the baseline's records given directly.
pub fn diff_paths_records(
    policy: &CompiledPolicy,
    baseline: &[FileRecord],
    current: &[FileRecord],
    paths: &[PathBuf],
) -> Vec<Change> {
    let roots = roots(paths);
    if roots.is_empty() {
        return Vec::new();
    }
    let old: Vec<&FileRecord> = if baseline.is_sorted_by(|a, b| a.path <= b.path) {
        let mut v = Vec::new();
        for root in &roots {
            subtree(baseline, root, &mut v);
        }
        v
    } else {
        baseline
            .iter()
            .filter(|r| covered(&r.path, &roots))
            .collect()
    };
    let new = current.iter().filter(|r| covered(&r.path, &roots));
    merge(policy, sorted(old.into_iter()), sorted(new))
}

/// `paths` as bytes without a trailing `/`, sorted, with every path that
/// lies under another one dropped.
fn roots(paths: &[PathBuf]) -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = paths
        .iter()
        .map(|p| {
            let b = p.as_os_str().as_bytes();
            let trimmed = b.strip_suffix(b"/").filter(|t| !t.is_empty());
            trimmed.unwrap_or(b).to_vec()
        })
        .collect();
    v.sort();
    v.dedup();
    let mut out: Vec<Vec<u8>> = Vec::with_capacity(v.len());
    for p in v {
        if !covered(&p, &out) {
            out.push(p);
        }
    }
    out
}

/// Whether `path` is one of `roots` or lies below one.
fn covered(path: &[u8], roots: &[Vec<u8>]) -> bool {
    roots.iter().any(|r| under(path, r))
}

fn under(path: &[u8], root: &[u8]) -> bool {
    match path.strip_prefix(root) {
        Some(rest) => rest.is_empty() || rest.starts_with(b"/") || root == b"/",
        None => false,
    }
}

/// Appends the records of `sorted` at `root` and below it: the record of
/// `root` itself by binary search, then its descendants, which lie together
/// between `root/` and `root0` (`'0'` follows `'/'` in byte order).
fn subtree<'a>(sorted: &'a [FileRecord], root: &[u8], out: &mut Vec<&'a FileRecord>) {
    if let Ok(i) = sorted.binary_search_by(|r| (*r.path).cmp(root)) {
        if let Some(r) = sorted.get(i) {
            out.push(r);
        }
    }
    let mut lo_key = root.to_vec();
    if lo_key != b"/" {
        lo_key.push(b'/');
    }
    let mut hi_key = lo_key.clone();
    if let Some(last) = hi_key.last_mut() {
        *last = b'0';
    }
    let lo = sorted.partition_point(|r| *r.path <= *lo_key.as_slice());
    let hi = sorted.partition_point(|r| *r.path < *hi_key.as_slice());
    if let Some(rs) = sorted.get(lo..hi) {
        out.extend(rs);
    }
}

/// The records in path order: as they come when already sorted (the usual
/// case, no allocation), else sorted by reference.
fn sorted<'a, I>(records: I) -> Box<dyn Iterator<Item = &'a FileRecord> + 'a>
where
    I: Iterator<Item = &'a FileRecord> + Clone + 'a,
{
    if records.clone().is_sorted_by(|a, b| a.path <= b.path) {
        Box::new(records)
    } else {
        let mut v: Vec<&FileRecord> = records.collect();
        v.sort_by(|a, b| a.path.cmp(&b.path));
        Box::new(v.into_iter())
    }
}

fn merge<'a>(
    policy: &CompiledPolicy,
    old: impl Iterator<Item = &'a FileRecord>,
    new: impl Iterator<Item = &'a FileRecord>,
) -> Vec<Change> {
    let mut out = Vec::new();
    let (mut old, mut new) = (old.peekable(), new.peekable());
    loop {
        let order = match (old.peek(), new.peek()) {
            (None, None) => break,
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some(o), Some(n)) => o.path.cmp(&n.path),
        };
        let change = match order {
            std::cmp::Ordering::Less => old
                .next()
                .and_then(|o| one_side(policy, o, ChangeKind::Removed)),
            std::cmp::Ordering::Greater => new
                .next()
                .and_then(|n| one_side(policy, n, ChangeKind::Added)),
            std::cmp::Ordering::Equal => match (old.next(), new.next()) {
                (Some(o), Some(n)) => compare(policy, o, n),
                _ => None,
            },
        };
        out.extend(change);
    }
    out
}

fn governing_rule<'p>(
    policy: &'p CompiledPolicy,
    path: &[u8],
) -> Option<&'p crate::integrity::policy::CompiledRule> {
    let i = policy.rule_for(Path::new(OsStr::from_bytes(path)))?;
    policy.rules.get(i)
}

fn one_side(policy: &CompiledPolicy, r: &FileRecord, kind: ChangeKind) -> Option<Change> {
    let rule = governing_rule(policy, &r.path)?;
    Some(Change {
        path: r.path.clone(),
        kind,
        severity: rule.severity,
        attrs: Vec::new(),
    })
}

fn compare(policy: &CompiledPolicy, old: &FileRecord, new: &FileRecord) -> Option<Change> {
    // Fast path, taken by nearly every file: nothing the baseline recorded
    // differs, so the rule need not even be looked up.
    let mut differ = differing(old, new, old.attrs);
    if differ.is_empty() {
        return None;
    }
    let rule = governing_rule(policy, &old.path)?;
    differ = intersect(differ, rule.attrs);
    if rule.growing {
        differ = differ.without(Attr::Mtime).without(Attr::Ctime);
        if new.size != old.size {
            differ = differ.without(Attr::Sha256).without(Attr::Sha512);
        }
        if new.size > old.size {
            differ = differ.without(Attr::Size);
        }
    }
    let type_changed = old.entry_type != new.entry_type && differ.contains(Attr::Type);
    if type_changed {
        // Only what both sides recorded: a directory has no hash to show.
        differ = intersect(differ, new.attrs);
    }
    if differ.is_empty() {
        return None;
    }
    let mut attrs = Vec::new();
    for attr in differ.iter() {
        attr_changes(attr, old, new, &mut attrs);
    }
    if attrs.is_empty() {
        return None;
    }
    Some(Change {
        path: old.path.clone(),
        kind: if type_changed {
            ChangeKind::TypeChanged {
                old: old.entry_type,
                new: new.entry_type,
            }
        } else {
            ChangeKind::Modified
        },
        severity: rule.severity,
        attrs,
    })
}

fn intersect(a: AttrSet, b: AttrSet) -> AttrSet {
    AttrSet::from_bits_truncate(a.bits() & b.bits())
}

/// The attributes of `set` whose values differ between the two records, or
/// that `new` did not record.
fn differing(old: &FileRecord, new: &FileRecord, set: AttrSet) -> AttrSet {
    set.iter()
        .filter(|a| !new.attrs.contains(*a) || !same(*a, old, new))
        .collect()
}

fn same(attr: Attr, a: &FileRecord, b: &FileRecord) -> bool {
    match attr {
        Attr::Sha256 => a.sha256 == b.sha256,
        Attr::Sha512 => a.sha512() == b.sha512(),
        Attr::Type => a.entry_type == b.entry_type,
        Attr::Perm => a.mode & 0o7777 == b.mode & 0o7777,
        Attr::Uid => a.uid == b.uid,
        Attr::Gid => a.gid == b.gid,
        Attr::Size => a.size == b.size,
        Attr::Mtime => a.mtime == b.mtime,
        Attr::Ctime => a.ctime == b.ctime,
        Attr::Inode => a.inode == b.inode,
        Attr::Nlink => a.nlink == b.nlink,
        Attr::LinkTarget => a.link_target() == b.link_target(),
        Attr::Fflags => a.fflags == b.fflags,
        Attr::Dev => a.dev == b.dev,
        Attr::Xattrs | Attr::Acl | Attr::Caps | Attr::Selinux => {
            xattrs_of(attr, a) == xattrs_of(attr, b)
        }
    }
}

/// The extended attributes of `r` that `attr` watches, by name.
fn xattrs_of(attr: Attr, r: &FileRecord) -> BTreeMap<&[u8], &[u8]> {
    r.xattrs()
        .iter()
        .filter(|x| Attr::of_xattr(&x.name) == attr)
        .map(|x| (&*x.name, &*x.value))
        .collect()
}

const NONE: &str = "(none)";
const ABSENT: &str = "(absent)";
const NOT_RECORDED: &str = "(not recorded)";

/// The value of a scalar attribute of `r`, for people.
fn value(attr: Attr, r: &FileRecord) -> String {
    match attr {
        Attr::Sha256 => r
            .sha256
            .map_or_else(|| NONE.to_owned(), |h| render::hex(&h)),
        Attr::Sha512 => r
            .sha512()
            .map_or_else(|| NONE.to_owned(), |h| render::hex(h)),
        Attr::Type => r.entry_type.name().to_owned(),
        Attr::Perm => render::perm(r.mode),
        Attr::Uid => r.uid.to_string(),
        Attr::Gid => r.gid.to_string(),
        Attr::Size => r.size.to_string(),
        Attr::Mtime => render::file_time(r.mtime),
        Attr::Ctime => render::file_time(r.ctime),
        Attr::Inode => r.inode.to_string(),
        Attr::Nlink => r.nlink.to_string(),
        Attr::Dev => r.dev.to_string(),
        Attr::LinkTarget => r
            .link_target()
            .map_or_else(|| NONE.to_owned(), render::escape_bytes),
        Attr::Fflags => r.fflags.map_or_else(|| NONE.to_owned(), render::fflags),
        Attr::Xattrs | Attr::Acl | Attr::Caps | Attr::Selinux => String::new(),
    }
}

fn attr_changes(attr: Attr, old: &FileRecord, new: &FileRecord, out: &mut Vec<AttrChange>) {
    let recorded = new.attrs.contains(attr);
    match attr {
        Attr::Xattrs | Attr::Acl | Attr::Caps | Attr::Selinux => {
            let (o, n) = (xattrs_of(attr, old), xattrs_of(attr, new));
            if !recorded {
                // One line per name the baseline had (or one for the set).
                let names: Vec<&[u8]> = o.keys().copied().collect();
                if names.is_empty() {
                    out.push(AttrChange {
                        attr,
                        name: None,
                        old: NONE.to_owned(),
                        new: NOT_RECORDED.to_owned(),
                    });
                }
                for name in names {
                    out.push(AttrChange {
                        attr,
                        name: Some(render::escape_bytes(name)),
                        old: o
                            .get(name)
                            .map_or_else(String::new, |v| render::xattr_value(name, v)),
                        new: NOT_RECORDED.to_owned(),
                    });
                }
                return;
            }
            let mut names: Vec<&[u8]> = o.keys().chain(n.keys()).copied().collect();
            names.sort_unstable();
            names.dedup();
            for name in names {
                let (ov, nv) = (o.get(name), n.get(name));
                if ov == nv {
                    continue;
                }
                let show = |v: Option<&&[u8]>| {
                    v.map_or_else(|| ABSENT.to_owned(), |v| render::xattr_value(name, v))
                };
                out.push(AttrChange {
                    attr,
                    name: Some(render::escape_bytes(name)),
                    old: show(ov),
                    new: show(nv),
                });
            }
        }
        _ => out.push(AttrChange {
            attr,
            name: None,
            old: value(attr, old),
            new: if recorded {
                value(attr, new)
            } else {
                NOT_RECORDED.to_owned()
            },
        }),
    }
}

#[cfg(test)]
mod tests;
