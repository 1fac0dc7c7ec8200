//! `sudoers(5)`: the sudo security policy, with its `@include` and
//! `@includedir` files.
//!
//! [`parse_file`] parses one file without following its includes (the fuzz
//! target drives it); [`Sudoers`] loads `/etc/sudoers` and every file it
//! includes, in the order sudo reads them, with the owner and mode of each,
//! so that a check can tell which files sudo itself would refuse.
//!
//! The grammar is the one of sudoers(5); where the manual is silent this
//! module follows sudo's own lexer and grammar (`plugins/sudoers/toke.l`,
//! `gram.y`, sudo 1.9):
//! - `#` starts a comment, except `#include`/`#includedir` at the start of a
//!   line and `#` followed by digits (a uid, `#1000`); inside a quoted
//!   `Defaults` value and after a backslash it is an ordinary character;
//! - a line ending in `\` continues on the next one; a comment is never
//!   continued (the lexer's comment rule swallows the backslash);
//! - a run of `!` negates when its length is odd (toke.l `!+`);
//! - `NOPASSWD:` and the other tags, and the run-as list, carry over to the
//!   following commands of the same `Cmnd_Spec_List` until overridden
//!   (sudoers(5) "Tag_Spec"; gram.y `cmndspeclist`), never across the `:`
//!   that starts another host section;
//! - `=`, `:`, `,` and `#` end a command's arguments unless written `\=` …
//!   (sudoers(5) "Other special characters and reserved words").
//!
//! Since sudo 1.9.4 a line with a syntax error is skipped and the rest of the
//! file is still used ("error recovery"). A malformed line therefore becomes a
//! [`Diagnostic`](crate::Diagnostic), and the entry keeps what could be parsed with
//! [`Entry::complete`] false: checks that look for a weakening still see it,
//! checks that look for a hardening setting do not count it.

use crate::root::FileMeta;
use std::cell::OnceCell;
use std::collections::{HashMap, HashSet};
use std::fmt;

mod grammar;
mod load;

pub use grammar::{MAX_DIAGNOSTICS, MAX_LOGICAL_LINE, is_alias_name, parse_file};

/// The main policy file (sudo's `_PATH_SUDOERS`).
pub const SUDOERS_PATH: &str = "/etc/sudoers";

/// Deepest alias nesting followed when expanding (aliases may name aliases).
const MAX_ALIAS_DEPTH: usize = 32;
/// Most items one alias expansion returns; bounds a hostile policy that
/// nests aliases to grow exponentially.
const MAX_EXPANDED: usize = 10_000;

/// What a list member names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// `ALL`.
    All,
    /// An alias (`[A-Z][A-Z0-9_]*`, not `ALL`).
    Alias(String),
    /// A user, host or group name, or a network address.
    Name(String),
    /// `#uid` (the digits as written, possibly with a leading `-`).
    Uid(String),
    /// `%group`.
    Group(String),
    /// `%#gid`.
    Gid(String),
    /// `%:group`: a non-Unix group (group provider plugin, e.g. sssd).
    NonUnixGroup(String),
    /// `%:#gid`.
    NonUnixGid(String),
    /// `+netgroup`.
    Netgroup(String),
}

/// One member of a user, run-as or host list (`alice`, `!%guests`, `ALL`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// True when preceded by `!` (an odd number of them).
    pub negated: bool,
    /// What it names.
    pub item: Item,
}

/// A command as written in a rule or a `Cmnd_Alias`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `ALL`: any command.
    All,
    /// A `Cmnd_Alias`.
    Alias(String),
    /// A fully-qualified path (a directory when it ends in `/`) or a
    /// `^regular expression$`, with its arguments: `None` allows any,
    /// `Some("")` (written `""`) allows none.
    Path {
        /// The path or expression.
        path: String,
        /// The arguments, blanks collapsed, escapes removed.
        args: Option<String>,
    },
    /// `sudoedit` with the files it may edit.
    Sudoedit {
        /// The file arguments.
        args: Option<String>,
    },
    /// `list`: may list another user's privileges (`sudo -l -U`).
    List,
}

/// A command with its negation and digests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cmnd {
    /// True when preceded by `!`: the command is denied.
    pub negated: bool,
    /// `sha256:…` digests the binary must match, as written.
    pub digests: Vec<String>,
    /// The command.
    pub command: Command,
    /// The 1-based line of the command.
    pub line: u32,
}

/// The tags of a command; `None` when neither the tag nor its opposite applies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tags {
    /// `NOPASSWD` (true) or `PASSWD` (false).
    pub nopasswd: Option<bool>,
    /// `NOEXEC` (true) or `EXEC` (false).
    pub noexec: Option<bool>,
    /// `SETENV` (true) or `NOSETENV` (false).
    pub setenv: Option<bool>,
    /// `LOG_INPUT` (true) or `NOLOG_INPUT` (false).
    pub log_input: Option<bool>,
    /// `LOG_OUTPUT` (true) or `NOLOG_OUTPUT` (false).
    pub log_output: Option<bool>,
    /// `MAIL` (true) or `NOMAIL` (false).
    pub mail: Option<bool>,
    /// `FOLLOW` (true) or `NOFOLLOW` (false).
    pub follow: Option<bool>,
    /// `INTERCEPT` (true) or `NOINTERCEPT` (false).
    pub intercept: Option<bool>,
}

impl Tags {
    fn set(&mut self, tag: &str) {
        let (slot, on) = match tag {
            "NOPASSWD" => (&mut self.nopasswd, true),
            "PASSWD" => (&mut self.nopasswd, false),
            "NOEXEC" => (&mut self.noexec, true),
            "EXEC" => (&mut self.noexec, false),
            "SETENV" => (&mut self.setenv, true),
            "NOSETENV" => (&mut self.setenv, false),
            "LOG_INPUT" => (&mut self.log_input, true),
            "NOLOG_INPUT" => (&mut self.log_input, false),
            "LOG_OUTPUT" => (&mut self.log_output, true),
            "NOLOG_OUTPUT" => (&mut self.log_output, false),
            "MAIL" => (&mut self.mail, true),
            "NOMAIL" => (&mut self.mail, false),
            "FOLLOW" => (&mut self.follow, true),
            "NOFOLLOW" => (&mut self.follow, false),
            "INTERCEPT" => (&mut self.intercept, true),
            "NOINTERCEPT" => (&mut self.intercept, false),
            _ => return,
        };
        *slot = Some(on);
    }

    /// Fills every unset tag from `prev` (gram.y `cmndspeclist`).
    fn inherit(&mut self, prev: &Tags) {
        for (mine, theirs) in [
            (&mut self.nopasswd, prev.nopasswd),
            (&mut self.noexec, prev.noexec),
            (&mut self.setenv, prev.setenv),
            (&mut self.log_input, prev.log_input),
            (&mut self.log_output, prev.log_output),
            (&mut self.mail, prev.mail),
            (&mut self.follow, prev.follow),
            (&mut self.intercept, prev.intercept),
        ] {
            if mine.is_none() {
                *mine = theirs;
            }
        }
    }
}

/// A run-as specification `(users : groups)`. Both lists empty (`()`) means
/// "only as the invoking user".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Runas {
    /// Users the command may run as.
    pub users: Vec<Member>,
    /// Groups the command may run as.
    pub groups: Vec<Member>,
}

/// One command of a user specification, with what applies to it after
/// carry-over from the previous commands of the same list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmndSpec {
    /// The run-as list; `None` means the default (`runas_default`, root).
    pub runas: Option<Runas>,
    /// Per-command options (`TIMEOUT=…`, `CWD=…`), as `(NAME, value)`.
    pub options: Vec<(String, String)>,
    /// The effective tags.
    pub tags: Tags,
    /// The line where the effective `NOPASSWD`/`PASSWD` tag is written (it may
    /// be on an earlier command of the list).
    pub nopasswd_line: Option<u32>,
    /// The command.
    pub cmnd: Cmnd,
}

/// `Host_List = Cmnd_Spec_List`: one host section of a user specification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Privilege {
    /// The 1-based line of the host list.
    pub line: u32,
    /// The hosts.
    pub hosts: Vec<Member>,
    /// The commands.
    pub cmnds: Vec<CmndSpec>,
}

/// `User_List Host_List = Cmnd_Spec_List [: Host_List = Cmnd_Spec_List] …`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserSpec {
    /// Who.
    pub users: Vec<Member>,
    /// The host sections.
    pub privileges: Vec<Privilege>,
}

/// How a `Defaults` setting is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingOp {
    /// `name`: a flag turned on.
    Enable,
    /// `!name`: a flag turned off (or a string/list cleared).
    Disable,
    /// `name=value`.
    Set,
    /// `name+=value` (lists).
    Add,
    /// `name-=value` (lists).
    Remove,
}

/// One setting of a `Defaults` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// The 1-based line where it is written.
    pub line: u32,
    /// The name (`use_pty`).
    pub name: String,
    /// How it is set.
    pub op: SettingOp,
    /// The value of `=`, `+=`, `-=`, quotes and escapes removed.
    pub value: Option<String>,
}

/// Whom a `Defaults` line applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// `Defaults`: everyone.
    Global,
    /// `Defaults@hosts`.
    Host(Vec<Member>),
    /// `Defaults:users`.
    User(Vec<Member>),
    /// `Defaults>runas-users`.
    Runas(Vec<Member>),
    /// `Defaults!commands`.
    Command(Vec<Cmnd>),
}

/// A `Defaults` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultsLine {
    /// Whom it applies to.
    pub scope: Scope,
    /// Its settings, in order.
    pub settings: Vec<Setting>,
}

/// The four alias types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AliasKind {
    /// `User_Alias`.
    User,
    /// `Runas_Alias`.
    Runas,
    /// `Host_Alias`.
    Host,
    /// `Cmnd_Alias` (or `Cmd_Alias`).
    Cmnd,
}

/// What an alias stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AliasBody {
    /// Users, run-as users or hosts.
    Members(Vec<Member>),
    /// Commands.
    Commands(Vec<Cmnd>),
}

/// One alias definition (a line may define several, separated by `:`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    /// Its type.
    pub kind: AliasKind,
    /// Its name.
    pub name: String,
    /// The 1-based line of the name.
    pub line: u32,
    /// What it stands for.
    pub body: AliasBody,
}

/// An `@include`/`@includedir` (or `#include`/`#includedir`) directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Include {
    /// True for `includedir`.
    pub dir: bool,
    /// The path as written (quotes and escapes removed, `%h` not expanded).
    pub path: String,
}

/// What a logical line holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// A `Defaults` line.
    Defaults(DefaultsLine),
    /// An alias line (one or more definitions).
    Aliases(Vec<Alias>),
    /// A user specification.
    UserSpec(UserSpec),
    /// An include directive.
    Include(Include),
}

/// One logical line of a sudoers file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The file it is written in.
    pub file: String,
    /// The 1-based line where it starts.
    pub line: u32,
    /// False when the line has a syntax error: sudo skips such a line, and
    /// what is kept here is only what could be parsed before the error.
    pub complete: bool,
    /// What it holds.
    pub kind: EntryKind,
}

/// One sudoers file, parsed without following its includes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SudoersFile {
    /// The device path.
    pub path: String,
    /// Its entries in file order.
    pub entries: Vec<Entry>,
}

/// Where an included file or directory was named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The including file.
    pub file: String,
    /// The 1-based line of the directive.
    pub line: u32,
}

/// A sudoers file that was read, with its metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SudoersSource {
    /// The device path.
    pub path: String,
    /// Owner, group and mode (following symlinks, as sudo's `stat` does);
    /// `None` when they could not be read.
    pub meta: Option<FileMeta>,
    /// The directive that pulled it in; `None` for `/etc/sudoers`.
    pub included_from: Option<Origin>,
    /// Why sudo refuses to use this file (`sudo_secure_file`: not owned by
    /// root, world-writable, group-writable by a group other than root), or
    /// why it skips its directory; `None` when sudo reads it.
    pub refused: Option<String>,
}

/// A directory named by `@includedir`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncludeDir {
    /// The device path.
    pub path: String,
    /// Owner, group and mode.
    pub meta: FileMeta,
    /// The directive that named it.
    pub included_from: Origin,
    /// Why sudo skips the whole directory (`sudo_secure_dir`), if it does.
    pub refused: Option<String>,
}

/// The sudo policy of a root: `/etc/sudoers` and everything it includes.
#[derive(Debug, Clone, Default)]
pub struct Sudoers {
    /// `/etc/sudoers`, when it exists and could be read.
    pub main: Option<String>,
    /// Every file read, `/etc/sudoers` first, in the order sudo reads them.
    pub sources: Vec<SudoersSource>,
    /// Every `@includedir` directory that exists.
    pub include_dirs: Vec<IncludeDir>,
    /// Every entry, includes expanded in place (the order sudo applies them).
    pub entries: Vec<Entry>,
    aliases: HashMap<(AliasKind, String), Alias>,
    /// Index into `sources` by path, so that per-entry lookups stay O(1).
    by_path: HashMap<String, usize>,
    /// The `Cmnd_Alias`es whose expansion allows `ALL`, and those whose
    /// expansion denies it (`!ALL`), computed once ([`Sudoers::grants_all`]).
    all_aliases: OnceCell<(HashSet<String>, HashSet<String>)>,
}

impl Sudoers {
    /// True when `/etc/sudoers` was read.
    pub fn present(&self) -> bool {
        self.main.is_some()
    }

    /// The source record of a file (the first read, if it was read twice).
    pub fn source(&self, path: &str) -> Option<&SudoersSource> {
        self.by_path.get(path).and_then(|&i| self.sources.get(i))
    }

    /// True when sudo reads `path` (it is not refused for its owner or mode).
    pub fn is_used(&self, path: &str) -> bool {
        self.source(path).is_some_and(|s| s.refused.is_none())
    }

    /// Every `Defaults` line with its entry.
    pub fn defaults(&self) -> impl Iterator<Item = (&Entry, &DefaultsLine)> {
        self.entries.iter().filter_map(|e| match &e.kind {
            EntryKind::Defaults(d) => Some((e, d)),
            _ => None,
        })
    }

    /// Every user specification with its entry.
    pub fn user_specs(&self) -> impl Iterator<Item = (&Entry, &UserSpec)> {
        self.entries.iter().filter_map(|e| match &e.kind {
            EntryKind::UserSpec(u) => Some((e, u)),
            _ => None,
        })
    }

    /// The value sudo uses for a setting in the global scope (`Defaults` with
    /// no binding): the last such setting, counting only complete lines of
    /// files sudo reads. Returns the entry (for its file) and the setting.
    pub fn effective_global<'s>(&'s self, name: &'s str) -> Option<(&'s Entry, &'s Setting)> {
        self.global_settings(name).last()
    }

    /// Every global-scope setting of `name` that sudo applies, in order:
    /// complete lines of files sudo reads. A check that needs to skip some
    /// forms (a flag written with a value, which sudo rejects) filters these.
    pub fn global_settings<'s>(
        &'s self,
        name: &'s str,
    ) -> impl Iterator<Item = (&'s Entry, &'s Setting)> + 's {
        self.defaults()
            .filter(|(e, d)| e.complete && d.scope == Scope::Global && self.is_used(&e.file))
            .flat_map(|(e, d)| d.settings.iter().map(move |s| (e, s)))
            .filter(move |(_, s)| s.name == name)
    }

    /// The definition of an alias (the first one: sudo rejects a redefinition).
    pub fn alias(&self, kind: AliasKind, name: &str) -> Option<&Alias> {
        self.aliases.get(&(kind, name.to_owned()))
    }

    /// The commands, `Cmnd_Alias`es expanded, as `(negated, command)`; the
    /// negation of an alias reference applies to everything in it. Undefined
    /// aliases are kept as [`Command::Alias`]; cycles and nesting deeper
    /// than 32 stop the expansion there.
    pub fn expand_commands<'c>(
        &self,
        cmnds: impl IntoIterator<Item = &'c Cmnd>,
    ) -> Vec<(bool, Command)> {
        let mut out = Vec::new();
        let mut path = Vec::new();
        for c in cmnds {
            self.expand_cmnd(c, false, &mut path, &mut out);
        }
        out
    }

    fn expand_cmnd(
        &self,
        c: &Cmnd,
        negated: bool,
        path: &mut Vec<String>,
        out: &mut Vec<(bool, Command)>,
    ) {
        if out.len() >= MAX_EXPANDED {
            return;
        }
        let neg = negated ^ c.negated;
        if let Command::Alias(name) = &c.command {
            if path.len() < MAX_ALIAS_DEPTH && !path.contains(name) {
                if let Some(Alias {
                    body: AliasBody::Commands(inner),
                    ..
                }) = self.alias(AliasKind::Cmnd, name)
                {
                    path.push(name.clone());
                    for i in inner {
                        self.expand_cmnd(i, neg, path, out);
                    }
                    path.pop();
                    return;
                }
            }
        }
        out.push((neg, c.command.clone()));
    }

    /// True when the commands, `Cmnd_Alias`es followed, allow `ALL` (any
    /// command): `ALL`, or an alias whose expansion holds `ALL` under an even
    /// number of `!`. Costs O(number of commands) per call: the aliases are
    /// classified once for the whole policy.
    pub fn grants_all<'c>(&self, cmnds: impl IntoIterator<Item = &'c Cmnd>) -> bool {
        let (allows, denies) = self.all_aliases.get_or_init(|| self.classify_all_aliases());
        cmnds.into_iter().any(|c| match &c.command {
            Command::All => !c.negated,
            Command::Alias(n) if c.negated => denies.contains(n),
            Command::Alias(n) => allows.contains(n),
            _ => false,
        })
    }

    fn classify_all_aliases(&self) -> (HashSet<String>, HashSet<String>) {
        let mut memo: HashMap<String, Option<(bool, bool)>> = HashMap::new();
        for (kind, name) in self.aliases.keys() {
            if *kind == AliasKind::Cmnd {
                self.all_of(name, 0, &mut memo);
            }
        }
        let mut allows = HashSet::new();
        let mut denies = HashSet::new();
        for (name, v) in memo {
            if let Some((a, d)) = v {
                if a {
                    allows.insert(name.clone());
                }
                if d {
                    denies.insert(name);
                }
            }
        }
        (allows, denies)
    }

    /// Whether alias `name` holds `ALL` allowed / denied. An alias being
    /// expanded (a cycle) and nesting deeper than [`MAX_ALIAS_DEPTH`] count
    /// as neither, like [`Sudoers::expand_commands`].
    fn all_of(
        &self,
        name: &str,
        depth: usize,
        memo: &mut HashMap<String, Option<(bool, bool)>>,
    ) -> (bool, bool) {
        match memo.get(name) {
            Some(Some(v)) => return *v,
            Some(None) => return (false, false),
            None => {}
        }
        if depth >= MAX_ALIAS_DEPTH {
            return (false, false);
        }
        memo.insert(name.to_owned(), None);
        let (mut allows, mut denies) = (false, false);
        if let Some(Alias {
            body: AliasBody::Commands(items),
            ..
        }) = self.alias(AliasKind::Cmnd, name)
        {
            for c in items {
                let (a, d) = match &c.command {
                    Command::All => (true, false),
                    Command::Alias(inner) => self.all_of(inner, depth.saturating_add(1), memo),
                    _ => (false, false),
                };
                let (a, d) = if c.negated { (d, a) } else { (a, d) };
                allows |= a;
                denies |= d;
            }
        }
        memo.insert(name.to_owned(), Some((allows, denies)));
        (allows, denies)
    }

    /// The members, aliases of `kind` expanded, as `(negated, item)`;
    /// undefined aliases are kept as [`Item::Alias`].
    pub fn expand_members<'m>(
        &self,
        kind: AliasKind,
        members: impl IntoIterator<Item = &'m Member>,
    ) -> Vec<(bool, Item)> {
        let mut out = Vec::new();
        let mut path = Vec::new();
        for m in members {
            self.expand_member(kind, m, false, &mut path, &mut out);
        }
        out
    }

    fn expand_member(
        &self,
        kind: AliasKind,
        m: &Member,
        negated: bool,
        path: &mut Vec<String>,
        out: &mut Vec<(bool, Item)>,
    ) {
        if out.len() >= MAX_EXPANDED {
            return;
        }
        let neg = negated ^ m.negated;
        if let Item::Alias(name) = &m.item {
            if path.len() < MAX_ALIAS_DEPTH && !path.contains(name) {
                if let Some(Alias {
                    body: AliasBody::Members(inner),
                    ..
                }) = self.alias(kind, name)
                {
                    path.push(name.clone());
                    for i in inner {
                        self.expand_member(kind, i, neg, path, out);
                    }
                    path.pop();
                    return;
                }
            }
        }
        out.push((neg, m.item.clone()));
    }
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Item::All => f.write_str("ALL"),
            Item::Alias(n) | Item::Name(n) => f.write_str(n),
            Item::Uid(n) => write!(f, "#{n}"),
            Item::Group(n) => write!(f, "%{n}"),
            Item::Gid(n) => write!(f, "%#{n}"),
            Item::NonUnixGroup(n) => write!(f, "%:{n}"),
            Item::NonUnixGid(n) => write!(f, "%:#{n}"),
            Item::Netgroup(n) => write!(f, "+{n}"),
        }
    }
}

impl fmt::Display for Member {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.negated {
            f.write_str("!")?;
        }
        self.item.fmt(f)
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, args) = match self {
            Command::All => return f.write_str("ALL"),
            Command::List => return f.write_str("list"),
            Command::Alias(n) => return f.write_str(n),
            Command::Path { path, args } => (path.as_str(), args),
            Command::Sudoedit { args } => ("sudoedit", args),
        };
        f.write_str(name)?;
        match args.as_deref() {
            None => Ok(()),
            Some("") => f.write_str(" \"\""),
            Some(a) => write!(f, " {a}"),
        }
    }
}

impl fmt::Display for Cmnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.negated {
            f.write_str("!")?;
        }
        self.command.fmt(f)
    }
}

impl fmt::Display for Runas {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(")?;
        f.write_str(&join_list(&self.users))?;
        if !self.groups.is_empty() {
            write!(f, ":{}", join_list(&self.groups))?;
        }
        f.write_str(")")
    }
}

/// The members of a list as written, comma-separated.
pub fn join_list<T: fmt::Display>(v: &[T]) -> String {
    v.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
