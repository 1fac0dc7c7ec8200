//! `sshd_config(5)` (OpenSSH 9.x): the server configuration with its `Include`s
//! and `Match` blocks, as sshd itself would read it.
//!
//! What this follows, and where it chose:
//! - Lines are split the way `servconf.c` does: the keyword ends at white space
//!   or at one `=` (`Keyword value`, `Keyword=value`, `Keyword = value`); the
//!   arguments are split by `argv_split()`: double or single quotes group words,
//!   a backslash escapes a quote, a backslash or (outside quotes) a space, and a
//!   `#` at the start of a word ends the line. Keywords are case-insensitive and
//!   kept in lower case; a few old spellings are mapped to the current keyword
//!   (`ChallengeResponseAuthentication` is `KbdInteractiveAuthentication`, see
//!   [`canonical_keyword`]).
//! - sshd_config(5): "for each keyword, the first obtained value will be used".
//!   [`SshdConfig::get`] gives the first occurrence in reading order (includes
//!   expanded in place). The keywords that sshd accumulates instead
//!   ([`MULTI_VALUED`]: `Port`, `ListenAddress`, `HostKey`, `HostCertificate`,
//!   `AcceptEnv`, `Subsystem`, `AllowUsers`, `DenyUsers`, `AllowGroups`,
//!   `DenyGroups`, `Include`) are read with [`SshdConfig::get_all`].
//! - `Include` takes glob patterns; a relative pattern is relative to
//!   `/etc/ssh` (sshd_config(5): "Files without absolute paths are assumed to be
//!   in /etc/ssh"); matches are sorted lexically and processed in place. A
//!   pattern that matches nothing is not an error (sshd ignores it too). Nesting
//!   is bounded by `limits.max_include_depth`, the files one directive pulls in by
//!   `limits.max_included_files`, and all files read by [`MAX_FILES_PROCESSED`];
//!   a file that includes itself (directly or not) is a cycle. Each of these is
//!   a [`Diagnostic`] and the include is skipped (sshd would refuse to start).
//! - `Match` starts a block that lasts until the next `Match` or the end of the
//!   file it is in. An `Include` inside a block applies within it: the included
//!   lines belong to the block, and a `Match` inside the included file starts a
//!   block that only applies when the enclosing one does ([`MatchBlock::outer`]);
//!   after the included file ends, the lines that follow belong to the
//!   enclosing block again (`servconf.c` restores `activep` after each file).
//! - `Match all` applies to every connection ([`MatchBlock::always`]). sshd
//!   reads the file twice (`servconf.c`, "The strategy for the Match blocks"):
//!   at start-up without connection details, when only lines outside `Match`
//!   and inside `Match all` are active (first value wins), and again for each
//!   connection, when only the matching blocks are active and any keyword they
//!   set overrides the start-up value. So for a keyword that may appear in a
//!   `Match` block, a `Match all` value wins over a global one wherever it is;
//!   [`SshdConfig::get`] follows that.
//! - A keyword sshd does not allow in a `Match` block (`Ciphers`, `Port`, …),
//!   an unknown keyword, a keyword without argument or an unterminated quote is
//!   a [`Diagnostic`]: upstream sshd refuses to start with such a file. The line
//!   is still recorded (except for the last two, which cannot be split), so a
//!   weak value is judged even where sshd would stop. So is a `Match` line with
//!   a criterion sshd does not know.
//!
//! [`parse_file`] reads one file without following its includes (the fuzz
//! target uses it); [`SshdConfig`] is the whole configuration, loaded through
//! [`AuditContext::get`].

use crate::audit::{AuditContext, Source};
use crate::finding::Diagnostic;
use crate::root::TextFile;

mod algorithms;
mod keywords;

pub use algorithms::{
    AlgorithmKind, DEFAULT_CIPHERS, DEFAULT_KEX, DEFAULT_MACS, effective_algorithms, wildcard_match,
};
use keywords::{MATCH_KEYWORDS, is_deprecated_keyword};
pub use keywords::{allowed_in_match, canonical_keyword, default_of, is_known_keyword};

/// The main configuration file.
pub const SSHD_CONFIG: &str = "/etc/ssh/sshd_config";

/// The directory relative `Include` patterns are resolved against.
pub const SSH_DIR: &str = "/etc/ssh";

/// Upper bound on the files read for one configuration, whatever the include
/// limits, so that a file included many times from many places (which is not a
/// cycle) cannot make the audit read without end.
pub const MAX_FILES_PROCESSED: usize = 1024;

/// Keywords that sshd accumulates over all their lines instead of keeping the
/// first (OpenSSH 9.x `servconf.c`: each appends to a list). `Include` is here
/// because every one of its lines is followed.
pub const MULTI_VALUED: &[&str] = &[
    "port",
    "listenaddress",
    "hostkey",
    "hostcertificate",
    "acceptenv",
    "subsystem",
    "allowusers",
    "denyusers",
    "allowgroups",
    "denygroups",
    "include",
];

/// One directive: a keyword and its arguments, with where it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshdSetting {
    /// The keyword, in lower case (old spellings mapped, see [`canonical_keyword`]).
    pub keyword: String,
    /// The arguments, unquoted.
    pub args: Vec<String>,
    /// The arguments joined by one space.
    pub value: String,
    /// The file it was read from (a device path).
    pub file: String,
    /// 1-based line.
    pub line: u32,
}

impl SshdSetting {
    /// The first argument (`""` when there is none).
    pub fn first_arg(&self) -> &str {
        self.args.first().map_or("", String::as_str)
    }

    /// `file:line`, for messages.
    pub fn location(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }
}

/// One file as written: its directives in order, `Include` and `Match` lines
/// included (they are not followed or interpreted here).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SshdFile {
    /// The device path.
    pub path: String,
    /// The directives in the order written.
    pub directives: Vec<SshdSetting>,
}

/// A `Match` block and the settings that apply when it matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchBlock {
    /// The criteria as written (`["Address", "10.0.0.0/8"]`).
    pub criteria: Vec<String>,
    /// The file of the `Match` line.
    pub file: String,
    /// The line of the `Match` line.
    pub line: u32,
    /// The criteria of the enclosing blocks, outermost first, when this block
    /// is in a file included from inside another `Match` (it then applies only
    /// when those match too), each as `"<criteria> (file:line)"`.
    pub outer: Vec<String>,
    /// The settings of the block, in order (lines of files it includes too).
    pub settings: Vec<SshdSetting>,
    /// True for `Match all` when every enclosing block is `Match all` too:
    /// the block applies to every connection.
    pub always: bool,
}

impl MatchBlock {
    /// The criteria joined by one space (`Address 10.0.0.0/8`).
    pub fn criteria_text(&self) -> String {
        self.criteria.join(" ")
    }

    /// True when the block applies to every connection (see [`MatchBlock::always`]).
    pub fn is_all(&self) -> bool {
        self.always
    }

    /// The first value of `keyword` in this block (case-insensitive).
    pub fn get(&self, keyword: &str) -> Option<&SshdSetting> {
        let k = canonical_keyword(keyword);
        self.settings.iter().find(|s| s.keyword == k)
    }

    /// Every line of `keyword` in this block, in order.
    pub fn get_all<'s>(&'s self, keyword: &str) -> impl Iterator<Item = &'s SshdSetting> + 's {
        let k = canonical_keyword(keyword);
        self.settings.iter().filter(move |s| s.keyword == k)
    }

    /// How the block is named in findings: `Match Address 10.0.0.0/8 (/etc/ssh/sshd_config:40)`.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "Match {} ({}:{})",
            self.criteria_text(),
            self.file,
            self.line
        );
        for o in &self.outer {
            s.push_str(" within Match ");
            s.push_str(o);
        }
        s
    }
}

/// The sshd configuration: `/etc/ssh/sshd_config` with its includes expanded.
#[derive(Debug, Clone, Default)]
pub struct SshdConfig {
    path: String,
    present: bool,
    global: Vec<SshdSetting>,
    blocks: Vec<MatchBlock>,
    files: Vec<String>,
}

impl Source for SshdConfig {
    fn load(ctx: &AuditContext<'_>) -> Self {
        let mut warn = |d| ctx.warn(d);
        let limits = IncludeLimits {
            max_depth: ctx.config.limits.max_include_depth,
            max_per_directive: usize::try_from(ctx.config.limits.max_included_files)
                .unwrap_or(usize::MAX),
            max_files: MAX_FILES_PROCESSED,
        };
        let mut reader = |path: &str| ctx.read_text(path);
        // A directory that cannot be listed matches nothing, as glob(3)
        // without GLOB_ERR does.
        let mut list = |dir: &str| ctx.root.read_dir(dir).ok().flatten();
        SshdConfig::load_with(SSHD_CONFIG, &mut reader, &mut list, limits, &mut warn)
    }
}

impl SshdConfig {
    /// True when `/etc/ssh/sshd_config` exists.
    pub fn present(&self) -> bool {
        self.present
    }

    /// The main file (`/etc/ssh/sshd_config`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The effective global value of `keyword` (case-insensitive): the value
    /// a connection that matches no conditional `Match` block gets. That is
    /// the first occurrence in a `Match all` block when the keyword is allowed
    /// in `Match` blocks (those values override the start-up ones for every
    /// connection), otherwise the first occurrence outside `Match` blocks or
    /// inside `Match all`, in reading order. `None` when not set (OpenSSH's
    /// default applies, see [`default_of`]).
    pub fn get(&self, keyword: &str) -> Option<&SshdSetting> {
        let k = canonical_keyword(keyword);
        if MATCH_KEYWORDS.contains(&k.as_str()) {
            let from_all = self
                .blocks
                .iter()
                .filter(|b| b.always)
                .find_map(|b| b.settings.iter().find(|s| s.keyword == k));
            if from_all.is_some() {
                return from_all;
            }
        }
        self.global.iter().find(|s| s.keyword == k)
    }

    /// Every line of `keyword` that applies to a connection matching no
    /// conditional `Match` block, in reading order: for the keywords in
    /// [`MULTI_VALUED`], which accumulate. As with [`SshdConfig::get`], when a
    /// `Match all` block sets a keyword allowed in `Match`, its lines replace
    /// the global ones (`copy_set_server_options()` replaces a list that a
    /// matching block set); otherwise they are the lines outside `Match` blocks
    /// and inside `Match all`.
    pub fn get_all(&self, keyword: &str) -> std::vec::IntoIter<&SshdSetting> {
        let k = canonical_keyword(keyword);
        let from_all: Vec<&SshdSetting> = if MATCH_KEYWORDS.contains(&k.as_str()) {
            self.blocks
                .iter()
                .filter(|b| b.always)
                .flat_map(|b| b.settings.iter().filter(|s| s.keyword == k))
                .collect()
        } else {
            Vec::new()
        };
        if from_all.is_empty() {
            self.global
                .iter()
                .filter(|s| s.keyword == k)
                .collect::<Vec<_>>()
                .into_iter()
        } else {
            from_all.into_iter()
        }
    }

    /// Every setting active at start-up (outside `Match` blocks or inside
    /// `Match all`), in reading order.
    pub fn settings(&self) -> &[SshdSetting] {
        &self.global
    }

    /// The `Match` blocks in reading order.
    pub fn match_blocks(&self) -> &[MatchBlock] {
        &self.blocks
    }

    /// Every file read (the main file first, then includes in reading order).
    pub fn files(&self) -> &[String] {
        &self.files
    }

    /// Parses text as the whole configuration: its `Include` lines are
    /// recorded but read nothing (for tests and for callers that hold one file).
    pub fn from_text(t: &TextFile, warn: &mut dyn FnMut(Diagnostic)) -> SshdConfig {
        let mut reader = |path: &str| (path == t.path).then(|| t.clone());
        let mut list = |_: &str| -> Option<Vec<String>> { None };
        let limits = IncludeLimits {
            max_depth: u32::MAX,
            max_per_directive: usize::MAX,
            max_files: MAX_FILES_PROCESSED,
        };
        SshdConfig::load_with(&t.path, &mut reader, &mut list, limits, warn)
    }

    /// Loads a configuration through a file reader and a directory lister
    /// (device paths), following includes within `limits`.
    fn load_with(
        main: &str,
        read: &mut dyn FnMut(&str) -> Option<TextFile>,
        list: &mut dyn FnMut(&str) -> Option<Vec<String>>,
        limits: IncludeLimits,
        warn: &mut dyn FnMut(Diagnostic),
    ) -> SshdConfig {
        let mut cfg = SshdConfig {
            path: main.to_owned(),
            ..SshdConfig::default()
        };
        let Some(t) = read(main) else {
            return cfg;
        };
        cfg.present = true;
        let mut loader = Loader {
            read,
            list,
            warn,
            limits,
            stack: Vec::new(),
            processed: 0,
            cfg,
        };
        loader.file(&t, 0, None);
        loader.cfg
    }
}

#[derive(Debug, Clone, Copy)]
struct IncludeLimits {
    max_depth: u32,
    max_per_directive: usize,
    max_files: usize,
}

struct Loader<'l> {
    read: &'l mut dyn FnMut(&str) -> Option<TextFile>,
    list: &'l mut dyn FnMut(&str) -> Option<Vec<String>>,
    warn: &'l mut dyn FnMut(Diagnostic),
    limits: IncludeLimits,
    /// Files being processed (for cycle detection), outermost first.
    stack: Vec<String>,
    processed: usize,
    cfg: SshdConfig,
}

impl Loader<'_> {
    /// Processes one file. `block` is the index of the `Match` block the file
    /// was included from (`None`: global). Returns nothing: settings go to
    /// `cfg`.
    fn file(&mut self, t: &TextFile, depth: u32, block: Option<usize>) {
        self.processed = self.processed.saturating_add(1);
        self.cfg.files.push(t.path.clone());
        self.stack.push(t.path.clone());
        let parsed = parse_file(t, self.warn);
        // The block that lines belong to; a Match in this file changes it
        // until the end of this file only.
        let mut current = block;
        for d in parsed.directives {
            match d.keyword.as_str() {
                "match" => {
                    if let Err(msg) = check_criteria(&d.args) {
                        (self.warn)(diag(&d.file, d.line, "Match", &msg));
                    }
                    let enclosing = block.and_then(|i| self.cfg.blocks.get(i));
                    let is_all = d.args.len() == 1
                        && d.args
                            .first()
                            .is_some_and(|c| c.eq_ignore_ascii_case("all"));
                    // servconf.c: an Include inside an inactive block is read
                    // with SSHCFG_NEVERMATCH, so its Match lines never match.
                    let always = is_all && enclosing.is_none_or(|b| b.always);
                    let outer = current_outer(&self.cfg.blocks, block);
                    self.cfg.blocks.push(MatchBlock {
                        criteria: d.args.clone(),
                        file: d.file.clone(),
                        line: d.line,
                        outer,
                        settings: Vec::new(),
                        always,
                    });
                    current = Some(self.cfg.blocks.len().saturating_sub(1));
                }
                "include" => {
                    self.record(current, d.clone());
                    self.include(&d, depth, current);
                }
                _ => {
                    if current.is_some() && !allowed_in_match(&d.keyword) {
                        (self.warn)(diag(
                            &d.file,
                            d.line,
                            &d.keyword,
                            "not allowed inside a Match block (sshd_config(5) lists the keywords that are); sshd refuses to start",
                        ));
                    }
                    self.record(current, d);
                }
            }
        }
        self.stack.pop();
    }

    fn record(&mut self, block: Option<usize>, s: SshdSetting) {
        match block {
            None => self.cfg.global.push(s),
            Some(i) => {
                let Some(b) = self.cfg.blocks.get_mut(i) else {
                    return;
                };
                let all = b.always;
                b.settings.push(s.clone());
                // sshd reads the file once without connection details at
                // start-up; a `Match all` block is active then, so its lines
                // give global values too (first obtained wins, as ever).
                if all {
                    self.cfg.global.push(s);
                }
            }
        }
    }

    fn include(&mut self, d: &SshdSetting, depth: u32, block: Option<usize>) {
        for pattern in &d.args {
            // servconf.c: "if (*arg2 != '/' && *arg2 != '~')" prefix SSHDIR;
            // sshd does not expand `~` (glob(3) without GLOB_TILDE), so such
            // a pattern names a path relative to sshd's working directory `/`.
            let absolute = if pattern.starts_with('/') {
                pattern.clone()
            } else if pattern.starts_with('~') {
                format!("/{pattern}")
            } else {
                format!("{SSH_DIR}/{pattern}")
            };
            let mut matches = match glob_paths(&absolute, self.list) {
                Ok(m) => m,
                Err(msg) => {
                    (self.warn)(diag(&d.file, d.line, "Include", &msg));
                    continue;
                }
            };
            // glob(3) without GLOB_NOSORT: lexical order.
            matches.sort();
            if matches.len() > self.limits.max_per_directive {
                (self.warn)(diag(
                    &d.file,
                    d.line,
                    "Include",
                    &format!(
                        "pattern {pattern:?} matches {} files, more than limits.max_included_files ({}); only the first {} were read",
                        matches.len(),
                        self.limits.max_per_directive,
                        self.limits.max_per_directive
                    ),
                ));
                matches.truncate(self.limits.max_per_directive);
            }
            for path in matches {
                if self.stack.contains(&path) {
                    (self.warn)(diag(
                        &d.file,
                        d.line,
                        "Include",
                        &format!(
                            "includes {path}, which is already being read (an include cycle: {} -> {path}); skipped (sshd refuses to start)",
                            self.stack.join(" -> ")
                        ),
                    ));
                    continue;
                }
                if depth >= self.limits.max_depth {
                    (self.warn)(diag(
                        &d.file,
                        d.line,
                        "Include",
                        &format!(
                            "{path} is nested deeper than limits.max_include_depth ({}); skipped",
                            self.limits.max_depth
                        ),
                    ));
                    continue;
                }
                if self.processed >= self.limits.max_files {
                    (self.warn)(diag(
                        &d.file,
                        d.line,
                        "Include",
                        &format!(
                            "{path} not read: {} files already read for this configuration",
                            self.limits.max_files
                        ),
                    ));
                    return;
                }
                if let Some(t) = (self.read)(&path) {
                    self.file(&t, depth.saturating_add(1), block);
                }
            }
        }
    }
}

/// The `outer` list of a block opened inside `enclosing`.
fn current_outer(blocks: &[MatchBlock], enclosing: Option<usize>) -> Vec<String> {
    let Some(b) = enclosing.and_then(|i| blocks.get(i)) else {
        return Vec::new();
    };
    let mut outer = b.outer.clone();
    outer.push(format!("{} ({}:{})", b.criteria_text(), b.file, b.line));
    outer
}

/// Most paths a glob pattern may reach at any step of its expansion, so that
/// `Include /*/*/*/*` in a hostile image cannot make the audit list the whole tree.
pub const MAX_GLOB_CANDIDATES: usize = 4096;

/// Expands an absolute glob pattern against the root, one path component at
/// a time (glob(3): a wildcard does not match a leading `.` nor a `/`).
fn glob_paths(
    pattern: &str,
    list: &mut dyn FnMut(&str) -> Option<Vec<String>>,
) -> Result<Vec<String>, String> {
    let opts = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: true,
    };
    let mut current: Vec<String> = vec![String::new()];
    let comps: Vec<&str> = pattern.split('/').filter(|c| !c.is_empty()).collect();
    if comps.is_empty() {
        return Err(format!("pattern {pattern:?} names no file"));
    }
    let too_many = || {
        format!("pattern {pattern:?} reaches more than {MAX_GLOB_CANDIDATES} paths; not followed")
    };
    for comp in comps {
        let mut next = Vec::new();
        if comp == "." {
            continue;
        } else if comp == ".." {
            // Normalised here so that cycle detection sees one spelling per
            // file; the root never lets `..` climb above it anyway.
            for dir in &current {
                let parent = dir.rsplit_once('/').map_or("", |(p, _)| p);
                next.push(parent.to_owned());
            }
        } else if comp.contains(['*', '?', '[']) {
            let pat = glob::Pattern::new(comp)
                .map_err(|e| format!("pattern {pattern:?} is not a valid glob: {e}"))?;
            for dir in &current {
                let dir_path = if dir.is_empty() { "/" } else { dir.as_str() };
                for name in list(dir_path).unwrap_or_default() {
                    if pat.matches_with(&name, opts) {
                        if next.len() >= MAX_GLOB_CANDIDATES {
                            return Err(too_many());
                        }
                        next.push(format!("{dir}/{name}"));
                    }
                }
            }
        } else {
            for dir in &current {
                next.push(format!("{dir}/{comp}"));
            }
        }
        current = next;
        if current.is_empty() {
            break;
        }
    }
    current.retain(|p| !p.is_empty());
    Ok(current)
}

/// Parses one file: its directives in order, without following `Include`.
/// Malformed lines are reported through `warn` and skipped.
pub fn parse_file(t: &TextFile, warn: &mut dyn FnMut(Diagnostic)) -> SshdFile {
    let mut directives = Vec::new();
    for (n, raw) in t.lines() {
        // servconf.c strips trailing white space (and form feeds) first.
        let line = raw.trim_end_matches([' ', '\t', '\r', '\n', '\x0c']);
        let line = line.trim_start_matches([' ', '\t', '\r', '\n']);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (keyword, rest) = split_keyword(line);
        if keyword.is_empty() {
            warn(diag(&t.path, n, "", "line starts with '=': no keyword"));
            continue;
        }
        let args = match split_args(rest) {
            Ok(a) => a,
            Err(msg) => {
                warn(diag(&t.path, n, keyword, msg));
                continue;
            }
        };
        if args.is_empty() {
            warn(diag(
                &t.path,
                n,
                keyword,
                "no argument after keyword; sshd refuses to start",
            ));
            continue;
        }
        let lower = keyword.to_ascii_lowercase();
        let canonical = canonical_keyword(&lower);
        if !is_known_keyword(&canonical) {
            warn(diag(
                &t.path,
                n,
                keyword,
                "unknown keyword (not in OpenSSH 9.x sshd_config(5)); upstream sshd refuses to start with it",
            ));
        } else if is_deprecated_keyword(&canonical) {
            warn(diag(
                &t.path,
                n,
                keyword,
                "deprecated or unsupported keyword; OpenSSH 9.x ignores it",
            ));
        }
        let value = args.join(" ");
        directives.push(SshdSetting {
            keyword: canonical,
            args,
            value,
            file: t.path.clone(),
            line: n,
        });
    }
    SshdFile {
        path: t.path.clone(),
        directives,
    }
}

/// Splits the keyword from the rest of the line (`servconf.c` `strdelim()`):
/// the keyword ends at white space or `=`; then white space, at most one `=`,
/// and white space again are skipped.
fn split_keyword(line: &str) -> (&str, &str) {
    let end = line.find([' ', '\t', '=']).unwrap_or(line.len());
    let keyword = line.get(..end).unwrap_or("");
    let mut rest = line.get(end..).unwrap_or("");
    rest = rest.trim_start_matches([' ', '\t']);
    if let Some(r) = rest.strip_prefix('=') {
        rest = r.trim_start_matches([' ', '\t']);
    }
    (keyword, rest)
}

/// Splits arguments as OpenSSH's `argv_split(s, .., terminate_on_comment=1)`.
fn split_args(s: &str) -> Result<Vec<String>, &'static str> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        // Skip white space between words.
        while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
            chars.next();
        }
        let Some(&first) = chars.peek() else {
            break;
        };
        if first == '#' {
            break;
        }
        let mut arg = String::new();
        let mut quote: Option<char> = None;
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.peek() {
                    Some(&e)
                        if e == '\'' || e == '"' || e == '\\' || (quote.is_none() && e == ' ') =>
                    {
                        arg.push(e);
                        chars.next();
                    }
                    // An unrecognised escape keeps its backslash.
                    _ => arg.push(c),
                }
            } else if quote.is_none() && (c == ' ' || c == '\t') {
                break;
            } else if quote.is_none() && (c == '"' || c == '\'') {
                quote = Some(c);
            } else if quote == Some(c) {
                quote = None;
            } else {
                arg.push(c);
            }
        }
        if quote.is_some() {
            return Err("unterminated quote; sshd refuses to start");
        }
        out.push(arg);
    }
    Ok(out)
}

/// Checks a `Match` line's criteria as `match_cfg_line()` does: `all` alone,
/// or pairs of a known criterion and its argument.
fn check_criteria(args: &[String]) -> Result<(), String> {
    if args.len() == 1 && args.first().is_some_and(|a| a.eq_ignore_ascii_case("all")) {
        return Ok(());
    }
    let mut it = args.iter();
    while let Some(attr) = it.next() {
        let a = attr.to_ascii_lowercase();
        match a.as_str() {
            "all" => {
                return Err(
                    "'all' cannot be combined with other Match criteria; sshd refuses to start"
                        .to_owned(),
                );
            }
            // OpenSSH 9.9 added `Match invalid-user`, which takes no argument.
            "invalid-user" => {}
            "user" | "group" | "host" | "address" | "localaddress" | "localport" | "rdomain" => {
                if it.next().is_none() {
                    return Err(format!(
                        "criterion {attr} has no argument; sshd refuses to start"
                    ));
                }
            }
            _ => {
                return Err(format!(
                    "unsupported Match criterion {attr:?}; upstream sshd refuses to start"
                ));
            }
        }
    }
    Ok(())
}

fn diag(file: &str, line: u32, field: &str, message: &str) -> Diagnostic {
    Diagnostic {
        file: file.to_owned(),
        line: Some(line),
        field: (!field.is_empty()).then(|| field.to_owned()),
        message: message.to_owned(),
    }
}

#[cfg(test)]
mod tests;
