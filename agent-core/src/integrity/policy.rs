//! The integrity policy: which paths are watched, which are excluded, and
//! which attributes each rule watches.
//!
//! [`CompiledPolicy`] is what the scanner uses: absolute paths, attribute
//! sets and compiled globs. It is built from the `[integrity]` section of
//! `dha.toml`, or directly from a list of paths
//! ([`CompiledPolicy::for_paths`], the test-rig mode
//! `dha integrity init --baseline FILE --key KEYFILE PATH…`).
//!
//! Rule semantics:
//! - a rule watches its `path` and, when `recursive` (the default), every
//!   object below it; a non-recursive rule on a directory watches the
//!   directory and its direct entries only;
//! - the rule with the longest `path` that covers an object governs it (so
//!   `/var/log` with a "growing" rule inside a `/var` rule wins for the log
//!   files);
//! - an object matching a global exclusion or an exclusion of its governing
//!   rule is not watched, and a directory excluded is not descended into
//!   (exclude `/var/tmp` to leave out the directory and all below it).
//!   Exclusions are globs over the full path (`globset` syntax: `*` does not
//!   cross `/`, `**` does).

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use crate::Severity;
use crate::integrity::attrs::AttrSet;
use crate::integrity::error::IntegrityError;

/// One rule, ready for the scanner.
#[derive(Debug, Clone)]
pub struct CompiledRule {
    /// The absolute path the rule watches (`/usr/bin`).
    pub path: PathBuf,
    /// Whether objects below `path` at any depth are watched (otherwise only
    /// `path` and, for a directory, its direct entries).
    pub recursive: bool,
    /// The attributes compared.
    pub attrs: AttrSet,
    /// A "growing" rule (log files): the content may only get longer; a
    /// larger size and a new mtime/ctime/hash are not changes, a smaller size
    /// is.
    pub growing: bool,
    /// The severity of a change under this rule.
    pub severity: Severity,
    /// The rule's own exclusions (full-path globs).
    pub exclude: GlobSet,
}

/// A policy ready for the scanner.
#[derive(Debug, Clone)]
pub struct CompiledPolicy {
    /// The rules, in the order they were given.
    pub rules: Vec<CompiledRule>,
    /// Exclusions that apply under every rule (full-path globs).
    pub exclude: GlobSet,
}

/// Builds a glob set, naming `field` in the error.
pub fn compile_globs(patterns: &[String], field: &str) -> Result<GlobSet, IntegrityError> {
    let mut b = GlobSetBuilder::new();
    for (i, p) in patterns.iter().enumerate() {
        // `*` must not cross `/` (the documented semantics above); globset's
        // default lets it.
        let glob = GlobBuilder::new(p)
            .literal_separator(true)
            .build()
            .map_err(|e| IntegrityError::Policy {
                field: format!("{field}[{i}]"),
                reason: format!("bad glob {p:?}: {e}"),
            })?;
        b.add(glob);
    }
    b.build().map_err(|e| IntegrityError::Policy {
        field: field.to_owned(),
        reason: e.to_string(),
    })
}

/// Makes `path` absolute and lexically normal (no `.`, `..` or repeated
/// `/`), without touching the file system: a symlink in the path is never
/// resolved (the scanner never follows links).
pub fn normalise(path: &Path, field: &str) -> Result<PathBuf, IntegrityError> {
    if !path.is_absolute() {
        return Err(IntegrityError::Policy {
            field: field.to_owned(),
            reason: format!("{} is not an absolute path", path.display()),
        });
    }
    let mut out = PathBuf::from("/");
    for c in path.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::ParentDir => {
                out.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    Ok(out)
}

impl CompiledPolicy {
    /// One recursive rule per path, each watching `attrs` at severity
    /// `High`, no exclusions: the test-rig mode of the command line.
    /// Relative paths are refused (the caller makes them absolute).
    pub fn for_paths(paths: &[PathBuf], attrs: AttrSet) -> Result<Self, IntegrityError> {
        let rules = paths
            .iter()
            .enumerate()
            .map(|(i, p)| {
                Ok(CompiledRule {
                    path: normalise(p, &format!("paths[{i}]"))?,
                    recursive: true,
                    attrs,
                    growing: false,
                    severity: Severity::High,
                    exclude: GlobSet::empty(),
                })
            })
            .collect::<Result<Vec<_>, IntegrityError>>()?;
        Ok(CompiledPolicy {
            rules,
            exclude: GlobSet::empty(),
        })
    }

    /// The index of the rule that governs `path` (absolute, normal), or
    /// `None` when no rule covers it or it or one of its directories is
    /// excluded (an excluded directory excludes everything below it).
    pub fn rule_for(&self, path: &Path) -> Option<usize> {
        let i = self.rule_for_entry(path)?;
        let rule = self.rules.get(i)?;
        let excluded_above = path.ancestors().skip(1).any(|a| {
            self.exclude.is_match(a) || (a.starts_with(&rule.path) && rule.exclude.is_match(a))
        });
        (!excluded_above).then_some(i)
    }

    /// As [`CompiledPolicy::rule_for`], for a walker that has already
    /// refused to descend into excluded directories: only `path` itself is
    /// matched against the exclusions.
    pub fn rule_for_entry(&self, path: &Path) -> Option<usize> {
        let mut best: Option<(usize, usize)> = None; // (index, depth of rule path)
        for (i, r) in self.rules.iter().enumerate() {
            let covers = if path == r.path {
                true
            } else if let Ok(rest) = path.strip_prefix(&r.path) {
                r.recursive || rest.components().count() == 1
            } else {
                false
            };
            if covers {
                let depth = r.path.components().count();
                if best.is_none_or(|(_, d)| depth > d) {
                    best = Some((i, depth));
                }
            }
        }
        let (i, _) = best?;
        let rule = self.rules.get(i)?;
        if self.exclude.is_match(path) || rule.exclude.is_match(path) {
            return None;
        }
        Some(i)
    }

    /// Whether the walker must descend into the directory `dir`: some rule
    /// covers objects below it, or a rule's path lies below it, and it is not
    /// excluded.
    pub fn descend_into(&self, dir: &Path) -> bool {
        if self.exclude.is_match(dir) {
            return false;
        }
        if let Some(i) = self.rule_for_entry(dir) {
            if let Some(r) = self.rules.get(i) {
                if r.recursive || r.path == dir {
                    return true;
                }
            }
        }
        self.rules
            .iter()
            .any(|r| r.path != dir && r.path.starts_with(dir))
    }
}

// ---------------------------------------------------------------------------
// The `[integrity]` section of dha.toml and its compilation.
// ---------------------------------------------------------------------------

/// The built-in attribute groups, by name, with what each holds.
///
/// The one-letter groups follow AIDE's "DEFAULT GROUPS" (aide.conf(5),
/// AIDE 0.18), translated attribute by attribute to dha's names: `p`→`perm`,
/// `ftype`→`type`, `i`→`inode`, `l`→`link`, `n`→`nlink`, `u`→`uid`,
/// `g`→`gid`, `s`→`size`, `m`→`mtime`, `c`→`ctime`, `acl`→`acl`,
/// `selinux`→`selinux`, `xattrs`→`xattrs`+`caps` (dha reports
/// `security.capability` apart from the other extended attributes; AIDE's
/// `xattrs` includes it), `e2fsattrs`→`fflags`, and SHA-256 where AIDE uses
/// its configured default hash. AIDE's `S` (growing size) is the rule's
/// `growing` flag in dha: naming the group `>` in a rule makes the rule
/// growing, as in AIDE.
pub const BUILTIN_GROUPS: [(&str, &str); 10] = [
    (
        "default",
        "every attribute except sha512 (AttrSet::default_set); the default of a rule",
    ),
    ("all", "every attribute, sha512 included"),
    (
        "perms",
        "type+perm+uid+gid+acl+caps+selinux+fflags: who may do what with the object",
    ),
    ("content", "type+sha256+size+link: what the object holds"),
    (
        "R",
        "AIDE's R (read-only files): perm+type+inode+link+nlink+uid+gid+size+mtime+ctime+acl+selinux+xattrs+caps+sha256",
    ),
    (
        "L",
        "AIDE's L (log files): perm+type+inode+link+nlink+uid+gid+acl+selinux+xattrs+caps",
    ),
    (
        ">",
        "AIDE's > (growing log files): perm+type+link+uid+gid+inode+nlink+size+acl+selinux+xattrs+caps; makes the rule growing",
    ),
    ("H", "AIDE's H (every hash): sha256+sha512"),
    ("X", "AIDE's X (extended): acl+selinux+xattrs+caps+fflags"),
    (
        "E",
        "AIDE's E: no attribute (only that the object exists, and its type)",
    ),
];

/// The attribute set of the built-in group `name` (see [`BUILTIN_GROUPS`]),
/// or `None` when `name` is not a built-in group.
pub fn builtin_group(name: &str) -> Option<AttrSet> {
    use crate::integrity::attrs::Attr::*;
    let set = |attrs: &[crate::integrity::attrs::Attr]| attrs.iter().copied().collect::<AttrSet>();
    let extended = [Acl, Selinux, Xattrs, Caps];
    Some(match name {
        "default" => AttrSet::default_set(),
        "all" => AttrSet::all(),
        "perms" => set(&[Type, Perm, Uid, Gid, Acl, Caps, Selinux, Fflags]),
        "content" => set(&[Type, Sha256, Size, LinkTarget]),
        "R" => set(&[
            Perm, Type, Inode, LinkTarget, Nlink, Uid, Gid, Size, Mtime, Ctime, Sha256,
        ])
        .union(set(&extended)),
        "L" => set(&[Perm, Type, Inode, LinkTarget, Nlink, Uid, Gid]).union(set(&extended)),
        ">" => set(&[Perm, Type, LinkTarget, Uid, Gid, Inode, Nlink, Size]).union(set(&extended)),
        "H" => set(&[Sha256, Sha512]),
        "X" => set(&extended).with(Fflags),
        "E" => AttrSet::EMPTY,
        _ => return None,
    })
}

/// The group that marks a rule "growing" (AIDE's `>`).
const GROWING_GROUP: &str = ">";

/// Most threads a scan may be given (beyond any machine dha runs on; a
/// larger value is a typo).
pub const MAX_THREADS: usize = 1024;

/// The `[integrity]` section of `dha.toml`: where the baseline and its key
/// live, and what is watched.
///
/// Giving `exclude`, `groups` or `rules` replaces the default list or table
/// as a whole (the defaults are listed in `dha.example.toml`); the other
/// keys keep their defaults when left out.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IntegrityPolicy {
    /// The sealed baseline file (absolute). Default
    /// `/var/lib/dha/integrity.baseline`.
    pub baseline: PathBuf,
    /// The key file that seals (a private Ed25519 or HMAC key) or verifies
    /// (an Ed25519 public key) the baseline (absolute; mode 0600). Default
    /// `/etc/dha/integrity.key`.
    pub key: PathBuf,
    /// The known-good store: a content-addressed copy of the protected files,
    /// made with the baseline, from which `dha integrity restore` puts files
    /// back (absolute). Default none (no store, no restore).
    pub store: Option<PathBuf>,
    /// Threads that hash files; 0 (the default) uses every core.
    pub threads: usize,
    /// Exclusions under every rule: globs over the full path (`*` does not
    /// cross `/`, `**` does); an excluded directory is not descended into.
    pub exclude: Vec<String>,
    /// Named attribute groups of your own: each lists attribute names
    /// (`sha256`, `perm`, …) and names of other groups, built-in
    /// ([`BUILTIN_GROUPS`]) or yours. A name may not be that of an attribute
    /// or a built-in group; cycles are refused. Default none.
    pub groups: BTreeMap<String, Vec<String>>,
    /// The rules. Default: the usual system paths of a Linux console
    /// ([`IntegrityPolicy::default_rules`]).
    pub rules: Vec<RuleConfig>,
}

/// One `[[integrity.rules]]` entry.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// The absolute path watched (required). A rule on a symbolic link
    /// records the link itself, never what it points to: on a merged-`/usr`
    /// system the rule on `/bin` records the link `/bin -> usr/bin`, and the
    /// rule on `/usr/bin` watches the programs.
    pub path: PathBuf,
    /// Whether objects below `path` at any depth are watched (otherwise
    /// `path` and its direct entries). Default true.
    #[serde(default = "default_true")]
    pub recursive: bool,
    /// Attribute and group names watched. Default `["default"]`.
    #[serde(default = "default_attributes")]
    pub attributes: Vec<String>,
    /// Exclusions of this rule: full-path globs. Default none.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// The severity of a change under this rule. Default `high`.
    #[serde(default = "default_severity")]
    pub severity: Severity,
    /// A rule for log files: content may only get longer (a larger size,
    /// a new mtime, ctime or hash is not a change; a smaller size is).
    /// Naming the group `>` in `attributes` sets it too. Default false.
    #[serde(default)]
    pub growing: bool,
}

fn default_true() -> bool {
    true
}

fn default_attributes() -> Vec<String> {
    vec!["default".to_owned()]
}

fn default_severity() -> Severity {
    Severity::High
}

impl RuleConfig {
    /// A recursive rule on `path` watching the `default` group at `severity`.
    pub fn new(path: impl Into<PathBuf>, severity: Severity) -> Self {
        RuleConfig {
            path: path.into(),
            recursive: true,
            attributes: default_attributes(),
            exclude: Vec::new(),
            severity,
            growing: false,
        }
    }
}

impl Default for IntegrityPolicy {
    fn default() -> Self {
        IntegrityPolicy {
            baseline: PathBuf::from("/var/lib/dha/integrity.baseline"),
            key: PathBuf::from("/etc/dha/integrity.key"),
            store: None,
            threads: 0,
            exclude: [
                // dha's own state: the baseline, the store, the event log.
                // It changes on every run and is sealed on its own.
                "/var/lib/dha",
                // Kernel and runtime pseudo-file systems and scratch space:
                // they change all the time and hold nothing installed. Only a
                // rule covering `/` (or `/var`) reaches them.
                "/proc",
                "/sys",
                "/dev",
                "/run",
                "/tmp",
                "/var/tmp",
            ]
            .map(String::from)
            .to_vec(),
            groups: BTreeMap::new(),
            rules: IntegrityPolicy::default_rules(),
        }
    }
}

impl IntegrityPolicy {
    /// The default rules: the system paths of a Linux console that AIDE's
    /// Debian configuration and the CIS benchmarks ("Ensure filesystem
    /// integrity is regularly checked") protect. Code that runs as root is
    /// `critical`, configuration `high`. A path that does not exist on a
    /// device (`/lib64` on 32-bit systems, `/usr/lib64` on Debian i386) is
    /// reported by the scan, not an error of the policy.
    pub fn default_rules() -> Vec<RuleConfig> {
        use Severity::{Critical, High, Low, Medium};
        let mut rules = vec![
            // Kernel, initramfs and boot loader configuration: tampering here
            // runs before anything else and survives a reinstalled user space.
            RuleConfig::new("/boot", Critical),
            // System configuration: accounts, PAM, sudoers, sshd, services.
            RuleConfig {
                exclude: [
                    // A link to /proc/self/mounts, or on old systems a file
                    // rewritten on every mount: kernel state, not configuration.
                    "/etc/mtab",
                    // Rewritten by hwclock(8) at every shutdown (clock drift).
                    "/etc/adjtime",
                    // The empty lock file of the shadow tools, recreated by
                    // every passwd/useradd (the files it guards stay watched).
                    "/etc/.pwd.lock",
                ]
                .map(String::from)
                .to_vec(),
                // /etc/ld.so.cache stays watched on purpose: it decides
                // which library every program loads, and it changes only when
                // software is installed, which is when the baseline is renewed.
                ..RuleConfig::new("/etc", High)
            },
            // Rewritten by DHCP, NetworkManager or systemd-resolved when the
            // hospital network changes: watch who may write it, not its
            // content (the longest rule wins over the /etc rule).
            RuleConfig {
                attributes: vec!["perms".to_owned()],
                ..RuleConfig::new("/etc/resolv.conf", Medium)
            },
        ];
        // Programs and libraries: code that runs as root.
        for path in [
            "/usr/bin",
            "/usr/sbin",
            "/usr/lib",
            // Fedora/RHEL's 64-bit libraries; on merged-/usr Debian it holds
            // the dynamic loader.
            "/usr/lib64",
            "/usr/libexec",
            "/usr/local/bin",
            "/usr/local/sbin",
            "/usr/local/lib",
            // On a merged-/usr system these four are symbolic links into
            // /usr: the rule then records the link only (never followed),
            // which still catches a link pointed elsewhere.
            "/bin",
            "/sbin",
            "/lib",
            "/lib64",
        ] {
            rules.push(RuleConfig::new(path, Critical));
        }
        rules.extend([
            // Third-party and vendor software: where a modality's
            // application usually lives.
            RuleConfig::new("/opt", High),
            // root's authorised SSH keys: a key added here is a login without
            // a password.
            RuleConfig::new("/root/.ssh", Critical),
            // Crontabs: a classic way to make a foothold persistent.
            RuleConfig::new("/var/spool/cron", High),
            // Logs may only grow; a log that shrinks or changes owner or mode
            // is suspicious, if rarely an attack (low).
            RuleConfig {
                attributes: vec![GROWING_GROUP.to_owned()],
                exclude: [
                    // journald writes its files in place (not append-only)
                    // and seals them itself (Forward Secure Sealing).
                    "/var/log/journal",
                    // Rotated logs: renamed, compressed, then deleted by
                    // logrotate. The live file shrinking at rotation still
                    // shows, at low severity, until the baseline is renewed.
                    "/var/log/**/*.[0-9]",
                    "/var/log/**/*.gz",
                    "/var/log/**/*.xz",
                    "/var/log/**/*.old",
                ]
                .map(String::from)
                .to_vec(),
                growing: true,
                ..RuleConfig::new("/var/log", Low)
            },
        ]);
        rules
    }

    /// Checks the section and compiles it for the scanner: resolves the
    /// attribute groups, normalises the paths (which must be absolute),
    /// compiles the globs, and refuses duplicate rule paths and rules inside
    /// a global exclusion. Errors name the dotted key
    /// (`integrity.rules[2].attributes[1]: unknown attribute or group "md5"`).
    pub fn compile(&self) -> Result<CompiledPolicy, IntegrityError> {
        self.resolve()?.compile()
    }

    /// The SHA-256 digest of the policy as compiled, which a baseline records
    /// so that a check with another policy is recognised. It covers what
    /// decides the records and their reading (the rules with their attribute
    /// sets resolved, the exclusions, severities, growing flags), not the
    /// file locations or the thread count, and not the spelling of the
    /// document (whitespace, comments, order of rules, group names).
    pub fn policy_digest(&self) -> Result<[u8; 32], IntegrityError> {
        let resolved = self.resolve()?;
        resolved.compile()?;
        resolved.digest()
    }

    /// Checks the keys and resolves groups, paths and attribute sets.
    fn resolve(&self) -> Result<Resolved, IntegrityError> {
        let policy_err = |field: &str, reason: String| IntegrityError::Policy {
            field: field.to_owned(),
            reason,
        };
        normalise(&self.baseline, "integrity.baseline")?;
        normalise(&self.key, "integrity.key")?;
        if let Some(store) = &self.store {
            normalise(store, "integrity.store")?;
        }
        if self.threads > MAX_THREADS {
            return Err(policy_err(
                "integrity.threads",
                format!("must be at most {MAX_THREADS} (0 uses every core)"),
            ));
        }
        // Every user group, used or not, must resolve.
        for name in self.groups.keys() {
            let field = format!("integrity.groups.{name}");
            if name.is_empty() {
                return Err(policy_err(&field, "a group needs a name".to_owned()));
            }
            if builtin_group(name).is_some() {
                return Err(policy_err(
                    &field,
                    format!("{name:?} is a built-in group and cannot be redefined"),
                ));
            }
            if crate::integrity::attrs::Attr::from_name(name).is_some() {
                return Err(policy_err(
                    &field,
                    format!("{name:?} is an attribute name and cannot name a group"),
                ));
            }
            self.resolve_name(name, &field, &mut Vec::new())?;
        }
        let mut rules: Vec<ResolvedRule> = Vec::with_capacity(self.rules.len());
        for (i, r) in self.rules.iter().enumerate() {
            let at = format!("integrity.rules[{i}]");
            let path = normalise(&r.path, &format!("{at}.path"))?;
            if let Some(j) = rules.iter().position(|o| o.path == path) {
                return Err(policy_err(
                    &format!("{at}.path"),
                    format!(
                        "{} is also the path of integrity.rules[{j}] (one rule per path)",
                        path.display()
                    ),
                ));
            }
            if r.attributes.is_empty() {
                return Err(policy_err(
                    &format!("{at}.attributes"),
                    "is empty: name at least one attribute or group (\"E\" watches only that objects exist)"
                        .to_owned(),
                ));
            }
            let mut attrs = AttrSet::EMPTY;
            let mut growing = r.growing;
            for (k, name) in r.attributes.iter().enumerate() {
                let (set, grows) =
                    self.resolve_name(name, &format!("{at}.attributes[{k}]"), &mut Vec::new())?;
                attrs = attrs.union(set);
                growing |= grows;
            }
            rules.push(ResolvedRule {
                path,
                recursive: r.recursive,
                attrs,
                growing,
                severity: r.severity,
                exclude: r.exclude.clone(),
                exclude_field: format!("{at}.exclude"),
            });
        }
        Ok(Resolved {
            rules,
            exclude: self.exclude.clone(),
        })
    }

    /// The attribute set named `name` (an attribute, a built-in group or a
    /// user group) and whether it marks a rule growing. `field` is where the
    /// name was written; `stack` the user groups being resolved (a cycle
    /// check).
    fn resolve_name(
        &self,
        name: &str,
        field: &str,
        stack: &mut Vec<String>,
    ) -> Result<(AttrSet, bool), IntegrityError> {
        if let Some(attr) = crate::integrity::attrs::Attr::from_name(name) {
            return Ok((AttrSet::EMPTY.with(attr), false));
        }
        if let Some(set) = builtin_group(name) {
            return Ok((set, name == GROWING_GROUP));
        }
        let Some(members) = self.groups.get(name) else {
            return Err(IntegrityError::Policy {
                field: field.to_owned(),
                reason: format!("unknown attribute or group {name:?}"),
            });
        };
        if let Some(start) = stack.iter().position(|g| g == name) {
            let cycle = stack
                .get(start..)
                .unwrap_or_default()
                .iter()
                .map(String::as_str)
                .chain([name])
                .collect::<Vec<_>>()
                .join(" -> ");
            return Err(IntegrityError::Policy {
                field: field.to_owned(),
                reason: format!("groups refer to each other in a cycle: {cycle}"),
            });
        }
        stack.push(name.to_owned());
        let mut attrs = AttrSet::EMPTY;
        let mut growing = false;
        for (k, member) in members.iter().enumerate() {
            let (set, grows) =
                self.resolve_name(member, &format!("integrity.groups.{name}[{k}]"), stack)?;
            attrs = attrs.union(set);
            growing |= grows;
        }
        stack.pop();
        Ok((attrs, growing))
    }
}

/// The SHA-256 digest of the policy [`CompiledPolicy::for_paths`] builds
/// from the same arguments (the test-rig mode of the command line), computed
/// as [`IntegrityPolicy::policy_digest`] does.
pub fn policy_digest_for_paths(
    paths: &[PathBuf],
    attrs: AttrSet,
) -> Result<[u8; 32], IntegrityError> {
    let rules = paths
        .iter()
        .enumerate()
        .map(|(i, p)| {
            Ok(ResolvedRule {
                path: normalise(p, &format!("paths[{i}]"))?,
                recursive: true,
                attrs,
                growing: false,
                severity: Severity::High,
                exclude: Vec::new(),
                exclude_field: String::new(),
            })
        })
        .collect::<Result<Vec<_>, IntegrityError>>()?;
    Resolved {
        rules,
        exclude: Vec::new(),
    }
    .digest()
}

/// A rule with its path normalised and its attributes resolved, globs not
/// yet compiled.
struct ResolvedRule {
    path: PathBuf,
    recursive: bool,
    attrs: AttrSet,
    growing: bool,
    severity: Severity,
    exclude: Vec<String>,
    exclude_field: String,
}

struct Resolved {
    rules: Vec<ResolvedRule>,
    exclude: Vec<String>,
}

/// Version tag of the digest's input: bump it when the canonical form
/// changes.
const DIGEST_FORMAT: &str = "dha-integrity-policy/1";

impl Resolved {
    fn compile(&self) -> Result<CompiledPolicy, IntegrityError> {
        let exclude = compile_globs(&self.exclude, "integrity.exclude")?;
        let mut rules = Vec::with_capacity(self.rules.len());
        for (i, r) in self.rules.iter().enumerate() {
            // A rule inside a global exclusion would silently watch nothing.
            if let Some(a) = r.path.ancestors().find(|a| exclude.is_match(a)) {
                return Err(IntegrityError::Policy {
                    field: format!("integrity.rules[{i}].path"),
                    reason: format!(
                        "{} lies in {}, which integrity.exclude excludes",
                        r.path.display(),
                        a.display()
                    ),
                });
            }
            rules.push(CompiledRule {
                path: r.path.clone(),
                recursive: r.recursive,
                attrs: r.attrs,
                growing: r.growing,
                severity: r.severity,
                exclude: compile_globs(&r.exclude, &r.exclude_field)?,
            });
        }
        Ok(CompiledPolicy { rules, exclude })
    }

    /// SHA-256 over a canonical JSON form: rules sorted by path bytes
    /// (order does not matter: the longest covering path governs and paths
    /// are unique), attribute sets as sorted names, glob lists sorted and
    /// deduplicated.
    fn digest(&self) -> Result<[u8; 32], IntegrityError> {
        #[derive(serde::Serialize)]
        struct Canonical<'a> {
            format: &'static str,
            exclude: Vec<&'a str>,
            rules: Vec<CanonicalRule<'a>>,
        }
        #[derive(serde::Serialize)]
        struct CanonicalRule<'a> {
            // Bytes, so a path that is not UTF-8 has one form too.
            path: &'a [u8],
            recursive: bool,
            attributes: Vec<&'static str>,
            growing: bool,
            severity: &'static str,
            exclude: Vec<&'a str>,
        }
        fn sorted(globs: &[String]) -> Vec<&str> {
            let mut v: Vec<&str> = globs.iter().map(String::as_str).collect();
            v.sort_unstable();
            v.dedup();
            v
        }
        let mut rules: Vec<CanonicalRule<'_>> = self
            .rules
            .iter()
            .map(|r| CanonicalRule {
                path: r.path.as_os_str().as_encoded_bytes(),
                recursive: r.recursive,
                attributes: {
                    let mut names: Vec<&'static str> = r.attrs.iter().map(|a| a.name()).collect();
                    names.sort_unstable();
                    names
                },
                growing: r.growing,
                severity: r.severity.as_str(),
                exclude: sorted(&r.exclude),
            })
            .collect();
        rules.sort_by(|a, b| a.path.cmp(b.path));
        let canonical = Canonical {
            format: DIGEST_FORMAT,
            exclude: sorted(&self.exclude),
            rules,
        };
        let bytes = serde_json::to_vec(&canonical).map_err(|e| IntegrityError::Policy {
            field: "integrity".to_owned(),
            reason: format!("cannot serialise the policy for its digest: {e}"),
        })?;
        let d = ring::digest::digest(&ring::digest::SHA256, &bytes);
        let mut out = [0u8; 32];
        out.copy_from_slice(d.as_ref());
        Ok(out)
    }
}

#[cfg(test)]
mod config_tests;

#[cfg(test)]
mod tests;
