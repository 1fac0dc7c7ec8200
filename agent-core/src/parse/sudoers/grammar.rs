//! The grammar of one sudoers file: logical lines (comments, continuation,
//! include directives) and a recursive-descent reader for `Defaults`, alias
//! and user-specification lines (see the parent module for the rules and
//! their sources).

use super::{
    Alias, AliasBody, AliasKind, Cmnd, CmndSpec, Command, DefaultsLine, Entry, EntryKind, Include,
    Item, Member, Privilege, Runas, Scope, Setting, SettingOp, SudoersFile, Tags, UserSpec,
};
use crate::finding::Diagnostic;
use crate::root::TextFile;

/// The tags a command may carry (sudoers(5) "Tag_Spec").
const TAGS: &[&str] = &[
    "NOPASSWD",
    "PASSWD",
    "NOEXEC",
    "EXEC",
    "SETENV",
    "NOSETENV",
    "LOG_INPUT",
    "NOLOG_INPUT",
    "LOG_OUTPUT",
    "NOLOG_OUTPUT",
    "MAIL",
    "NOMAIL",
    "FOLLOW",
    "NOFOLLOW",
    "INTERCEPT",
    "NOINTERCEPT",
];

/// The per-command options (sudoers(5) "Option_Spec"): `NAME=value`.
const OPTIONS: &[&str] = &[
    "ROLE",
    "TYPE",
    "APPARMOR_PROFILE",
    "PRIVS",
    "LIMITPRIVS",
    "NOTBEFORE",
    "NOTAFTER",
    "TIMEOUT",
    "CWD",
    "CHROOT",
];

/// Longest logical line (continuation lines joined), in characters. Real
/// policies stay far below it (a `Cmnd_Alias` of a thousand commands is about
/// 64 Ki characters); it bounds the memory a hostile file can make the parser
/// hold for one line (8 bytes a character) to 2 MiB.
pub const MAX_LOGICAL_LINE: usize = 256 * 1024;

/// Most diagnostics reported for one file; a file with more problems than
/// this is reported as such once, instead of flooding the report.
pub const MAX_DIAGNOSTICS: usize = 100;

/// Parses one sudoers file without following its includes. Malformed lines
/// are reported through `warn` (at most [`MAX_DIAGNOSTICS`] of them); never
/// panics.
pub fn parse_file(t: &TextFile, warn: &mut dyn FnMut(Diagnostic)) -> SudoersFile {
    let mut reported = 0usize;
    let mut capped = |d: Diagnostic| {
        reported = reported.saturating_add(1);
        if reported < MAX_DIAGNOSTICS {
            warn(d);
        } else if reported == MAX_DIAGNOSTICS {
            warn(Diagnostic {
                message: format!(
                    "more than {MAX_DIAGNOSTICS} problems in this file; the rest are not reported"
                ),
                field: None,
                ..d
            });
        }
    };
    let warn: &mut dyn FnMut(Diagnostic) = &mut capped;
    let mut out = SudoersFile {
        path: t.path.clone(),
        entries: Vec::new(),
    };
    // The logical line being assembled: characters with their physical line.
    let mut pending: Vec<(char, u32)> = Vec::new();
    let mut start = 0u32;
    // Whether the logical line is a `Defaults` line (its values may be quoted).
    let mut defaults = false;
    // Whether the logical line went over MAX_LOGICAL_LINE (it is then skipped).
    let mut overlong = false;
    for (n, raw) in t.lines() {
        if pending.is_empty() && !overlong {
            start = n;
            defaults = is_defaults(raw);
            if let Some((dir, rest)) = include_directive(raw) {
                match include_path(rest) {
                    Ok(path) => out.entries.push(Entry {
                        file: t.path.clone(),
                        line: n,
                        complete: true,
                        kind: EntryKind::Include(Include { dir, path }),
                    }),
                    Err(msg) => warn(diag(
                        t,
                        n,
                        if dir { "@includedir" } else { "@include" },
                        msg,
                    )),
                }
                continue;
            }
        }
        let (body, comment) = strip_comment(raw, defaults);
        let (body, continued) = if comment {
            (body, false)
        } else {
            continuation(body)
        };
        if !overlong {
            if pending.len().saturating_add(body.len()) > MAX_LOGICAL_LINE {
                warn(diag(
                    t,
                    start,
                    "line",
                    format!("logical line longer than {MAX_LOGICAL_LINE} characters; not parsed"),
                ));
                overlong = true;
                pending = Vec::new();
            } else {
                pending.extend(body.chars().map(|c| (c, n)));
            }
        }
        if continued {
            if !overlong {
                pending.push((' ', n));
            }
            continue;
        }
        if !std::mem::take(&mut overlong) {
            let chars = std::mem::take(&mut pending);
            parse_logical(t, start, &chars, &mut out, warn);
        }
    }
    if !pending.is_empty() && !overlong {
        parse_logical(t, start, &pending, &mut out, warn);
    }
    out
}

fn diag(t: &TextFile, line: u32, field: &str, message: impl Into<String>) -> Diagnostic {
    Diagnostic {
        file: t.path.clone(),
        line: Some(line),
        field: Some(field.to_owned()),
        message: message.into(),
    }
}

fn is_defaults(s: &str) -> bool {
    let s = s.trim_start_matches([' ', '\t']);
    s.strip_prefix("Defaults")
        .is_some_and(|r| r.is_empty() || r.starts_with([' ', '\t', ':', '@', '!', '>']))
}

/// `@include PATH`, `@includedir PATH`, and the old `#include`/`#includedir`,
/// which toke.l matches only at the very start of a line.
fn include_directive(raw: &str) -> Option<(bool, &str)> {
    let blank = |r: &str| r.starts_with([' ', '\t']);
    let at = raw.trim_start_matches([' ', '\t']);
    for (prefix, s) in [("@", at), ("#", raw)] {
        if let Some(r) = s.strip_prefix(prefix) {
            if let Some(r) = r.strip_prefix("includedir").filter(|r| blank(r)) {
                return Some((true, r));
            }
            if let Some(r) = r.strip_prefix("include").filter(|r| blank(r)) {
                return Some((false, r));
            }
        }
    }
    None
}

/// The path of an include directive: quoted (`"…"`, backslash escapes) or a
/// word in which `\ ` stands for a blank; a comment may follow.
fn include_path(rest: &str) -> Result<String, String> {
    let rest = rest.trim_start_matches([' ', '\t']);
    let mut chars = rest.chars().peekable();
    let mut path = String::new();
    if chars.peek() == Some(&'"') {
        chars.next();
        let mut closed = false;
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    if let Some(n) = chars.next() {
                        path.push(n);
                    }
                }
                '"' => {
                    closed = true;
                    break;
                }
                c => path.push(c),
            }
        }
        if !closed {
            return Err("unterminated quoted path".to_owned());
        }
    } else {
        while let Some(&c) = chars.peek() {
            if c == ' ' || c == '\t' {
                break;
            }
            chars.next();
            if c == '\\' {
                if let Some(&n) = chars.peek() {
                    if n == ' ' || n == '\t' {
                        chars.next();
                        path.push(n);
                        continue;
                    }
                }
            }
            path.push(c);
        }
    }
    let tail: String = chars.collect();
    let tail = tail.trim_start_matches([' ', '\t']);
    if !(tail.is_empty() || tail.starts_with('#')) {
        return Err(format!(
            "unexpected {tail:?} after the path; sudo ignores the directive"
        ));
    }
    if path.is_empty() {
        return Err("no path given".to_owned());
    }
    Ok(path)
}

/// Cuts a physical line at its comment. Returns the text before it and
/// whether there was a comment. `#` followed by a digit, or by `-` and a
/// digit, is a uid/gid, not a comment (toke.l); a backslash escapes the next
/// character; quotes are honoured on `Defaults` lines, where values may be
/// quoted.
fn strip_comment(raw: &str, quotes: bool) -> (&str, bool) {
    let mut in_quote = false;
    let mut it = raw.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        match c {
            '\\' => {
                it.next();
            }
            '"' if quotes => in_quote = !in_quote,
            '#' if !in_quote => {
                let rest = raw.get(i.saturating_add(1)..).unwrap_or("");
                let mut r = rest.chars();
                let id = match r.next() {
                    Some(d) if d.is_ascii_digit() => true,
                    Some('-') => r.next().is_some_and(|d| d.is_ascii_digit()),
                    _ => false,
                };
                if !id {
                    return (raw.get(..i).unwrap_or(""), true);
                }
            }
            _ => {}
        }
    }
    (raw, false)
}

/// Removes a continuation backslash (an unescaped `\` at the end, blanks may
/// follow it: toke.l `\\[[:blank:]]*\r?\n`).
fn continuation(body: &str) -> (&str, bool) {
    let trimmed = body.trim_end_matches([' ', '\t']);
    let Some(before) = trimmed.strip_suffix('\\') else {
        return (body, false);
    };
    let escaped = before.chars().rev().take_while(|c| *c == '\\').count();
    if escaped % 2 == 1 {
        (body, false)
    } else {
        (before, true)
    }
}

fn parse_logical(
    t: &TextFile,
    start: u32,
    chars: &[(char, u32)],
    out: &mut SudoersFile,
    warn: &mut dyn FnMut(Diagnostic),
) {
    let mut p = Cursor {
        s: chars,
        i: 0,
        start,
    };
    p.skip_blank();
    if p.at_end() {
        return;
    }
    let save = p.i;
    let keyword = p.ident();
    let alias_kind = match keyword.as_str() {
        "User_Alias" => Some(AliasKind::User),
        "Runas_Alias" => Some(AliasKind::Runas),
        "Host_Alias" => Some(AliasKind::Host),
        "Cmnd_Alias" | "Cmd_Alias" => Some(AliasKind::Cmnd),
        _ => None,
    };
    let (mut kind, field, result) = if keyword == "Defaults"
        && p.peek()
            .is_none_or(|c| c.is_whitespace() || ":@!>".contains(c))
    {
        let mut d = DefaultsLine {
            scope: Scope::Global,
            settings: Vec::new(),
        };
        let r = p.defaults(&mut d);
        (EntryKind::Defaults(d), "Defaults", r)
    } else if let Some(k) = alias_kind.filter(|_| p.peek().is_some_and(char::is_whitespace)) {
        let mut v = Vec::new();
        let r = p.aliases(k, &mut v);
        (EntryKind::Aliases(v), keyword.as_str(), r)
    } else {
        p.i = save;
        let mut u = UserSpec::default();
        let r = p.user_spec(&mut u);
        (EntryKind::UserSpec(u), "user specification", r)
    };
    let complete = match result {
        Ok(()) => true,
        Err(e) => {
            warn(diag(
                t,
                e.line,
                field,
                format!("{}; sudo ignores this line", e.msg),
            ));
            false
        }
    };
    let keep = match &kind {
        EntryKind::Defaults(d) => !d.settings.is_empty(),
        EntryKind::Aliases(v) => !v.is_empty(),
        EntryKind::UserSpec(u) => !u.privileges.is_empty(),
        EntryKind::Include(_) => true,
    };
    if keep {
        // A first push reserves room for four; a policy of many one-line rules
        // would otherwise hold several times the memory it needs.
        shrink(&mut kind);
        out.entries.push(Entry {
            file: t.path.clone(),
            line: start,
            complete,
            kind,
        });
    }
}

fn shrink(kind: &mut EntryKind) {
    match kind {
        EntryKind::Defaults(d) => {
            d.settings.shrink_to_fit();
            match &mut d.scope {
                Scope::Host(m) | Scope::User(m) | Scope::Runas(m) => m.shrink_to_fit(),
                Scope::Command(c) => c.shrink_to_fit(),
                Scope::Global => {}
            }
        }
        EntryKind::Aliases(v) => {
            v.shrink_to_fit();
            for a in v {
                match &mut a.body {
                    AliasBody::Members(m) => m.shrink_to_fit(),
                    AliasBody::Commands(c) => c.shrink_to_fit(),
                }
            }
        }
        EntryKind::UserSpec(u) => {
            u.users.shrink_to_fit();
            u.privileges.shrink_to_fit();
            for p in &mut u.privileges {
                p.hosts.shrink_to_fit();
                p.cmnds.shrink_to_fit();
            }
        }
        EntryKind::Include(_) => {}
    }
}

/// A syntax error: where and what.
struct PErr {
    line: u32,
    msg: String,
}

/// Which list a member belongs to (host lists may hold IPv6 addresses).
#[derive(Clone, Copy, PartialEq, Eq)]
enum ListCtx {
    User,
    Host,
}

/// A recursive-descent reader over one logical line.
struct Cursor<'s> {
    s: &'s [(char, u32)],
    i: usize,
    start: u32,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<char> {
        self.s.get(self.i).map(|c| c.0)
    }

    fn peek_at(&self, k: usize) -> Option<char> {
        self.i
            .checked_add(k)
            .and_then(|j| self.s.get(j))
            .map(|c| c.0)
    }

    fn line(&self) -> u32 {
        self.s
            .get(self.i)
            .or_else(|| self.s.last())
            .map_or(self.start, |c| c.1)
    }

    fn advance(&mut self, n: usize) {
        self.i = self.i.saturating_add(n).min(self.s.len());
    }

    fn at_end(&self) -> bool {
        self.i >= self.s.len()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.advance(1);
            true
        } else {
            false
        }
    }

    /// Skips blanks; true when there were any.
    fn skip_blank(&mut self) -> bool {
        let from = self.i;
        while self.peek().is_some_and(char::is_whitespace) {
            self.advance(1);
        }
        self.i > from
    }

    fn err<T>(&self, msg: impl Into<String>) -> Result<T, PErr> {
        Err(PErr {
            line: self.line(),
            msg: msg.into(),
        })
    }

    fn unexpected<T>(&self, wanted: &str) -> Result<T, PErr> {
        match self.peek() {
            Some(c) => self.err(format!("expected {wanted}, found {c:?}")),
            None => self.err(format!("expected {wanted} before the end of the line")),
        }
    }

    /// `[A-Za-z0-9_]*`.
    fn ident(&mut self) -> String {
        let mut w = String::new();
        while let Some(c) = self
            .peek()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        {
            w.push(c);
            self.advance(1);
        }
        w
    }

    /// Leading `!`s (blanks allowed around them); true when their number is odd.
    fn bangs(&mut self) -> bool {
        let mut neg = false;
        loop {
            self.skip_blank();
            if !self.eat('!') {
                return neg;
            }
            neg = !neg;
        }
    }

    /// A sudoers WORD: anything but blanks and `#>!=:,()"`, a backslash
    /// escaping the next character (toke.l `WORD`).
    fn word(&mut self) -> String {
        let mut w = String::new();
        while let Some(c) = self.peek() {
            if c == '\\' {
                match self.peek_at(1) {
                    Some(n) if n != '\t' => {
                        w.push(n);
                        self.advance(2);
                        continue;
                    }
                    _ => break,
                }
            }
            if c.is_whitespace() || "#>!=:,()\"".contains(c) {
                break;
            }
            w.push(c);
            self.advance(1);
        }
        w
    }

    /// A double-quoted string (the cursor is on the opening quote).
    fn quoted(&mut self) -> Result<String, PErr> {
        self.advance(1);
        let mut s = String::new();
        loop {
            match self.peek() {
                None => return self.err("unterminated quoted string"),
                Some('"') => {
                    self.advance(1);
                    return Ok(s);
                }
                Some('\\') => {
                    if let Some(n) = self.peek_at(1) {
                        s.push(n);
                    }
                    self.advance(2);
                }
                Some(c) => {
                    s.push(c);
                    self.advance(1);
                }
            }
        }
    }

    /// `-?[0-9]+` after a `#`.
    fn id(&mut self) -> String {
        let mut w = String::new();
        if self.peek() == Some('-') && self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
            w.push('-');
            self.advance(1);
        }
        while let Some(c) = self.peek().filter(char::is_ascii_digit) {
            w.push(c);
            self.advance(1);
        }
        w
    }

    /// An IPv6 address or network in a host list (`fe80::1`, `2001:db8::/32`):
    /// toke.l recognises these before words, so their colons do not separate
    /// alias definitions.
    fn ipv6(&mut self) -> Option<String> {
        let mut j = self.i;
        let mut s = String::new();
        while let Some(&(c, _)) = self.s.get(j) {
            if c.is_ascii_hexdigit() || c == ':' || c == '.' || c == '/' {
                s.push(c);
                j = j.saturating_add(1);
            } else {
                break;
            }
        }
        let colons = s.chars().filter(|c| *c == ':').count();
        if colons >= 2 && !s.ends_with(':') || s.contains("::") && s.len() > 2 {
            self.i = j;
            Some(s)
        } else {
            None
        }
    }

    /// One member of a user, run-as or host list.
    fn member(&mut self, ctx: ListCtx) -> Result<Member, PErr> {
        let negated = self.bangs();
        let item = match self.peek() {
            Some('"') => {
                let s = self.quoted()?;
                if s.is_empty() {
                    return self.err("empty string");
                }
                classify(&s)
            }
            Some('#') => {
                self.advance(1);
                let id = self.id();
                if id.is_empty() {
                    return self.err("`#` must be followed by a numeric id");
                }
                Item::Uid(id)
            }
            Some('%') => {
                self.advance(1);
                let non_unix = self.eat(':');
                if self.peek() == Some('#') {
                    self.advance(1);
                    let id = self.id();
                    if id.is_empty() {
                        return self.err("`%#` must be followed by a numeric id");
                    }
                    if non_unix {
                        Item::NonUnixGid(id)
                    } else {
                        Item::Gid(id)
                    }
                } else {
                    let name = if self.peek() == Some('"') {
                        self.quoted()?
                    } else {
                        self.word()
                    };
                    if name.is_empty() {
                        return self.err("empty group");
                    }
                    if non_unix {
                        Item::NonUnixGroup(name)
                    } else {
                        Item::Group(name)
                    }
                }
            }
            Some('+') => {
                self.advance(1);
                let name = self.word();
                if name.is_empty() {
                    return self.err("empty netgroup");
                }
                Item::Netgroup(name)
            }
            _ => {
                if ctx == ListCtx::Host {
                    if let Some(a) = self.ipv6() {
                        return Ok(Member {
                            negated,
                            item: Item::Name(a),
                        });
                    }
                }
                let w = self.word();
                if w.is_empty() {
                    return self.unexpected("a name");
                }
                classify(&w)
            }
        };
        Ok(Member { negated, item })
    }

    /// `member [, member]…`.
    fn list(&mut self, ctx: ListCtx) -> Result<Vec<Member>, PErr> {
        let mut v = Vec::new();
        loop {
            v.push(self.member(ctx)?);
            let save = self.i;
            self.skip_blank();
            if !self.eat(',') {
                self.i = save;
                return Ok(v);
            }
        }
    }

    /// A fully-qualified path (toke.l `PATH`): ends at an unescaped blank or
    /// one of `,:=#`; `\,` `\:` `\=` `\#` `\ ` stand for the character, other
    /// escapes (fnmatch's `\*`) are kept.
    fn path(&mut self) -> String {
        let mut w = String::new();
        while let Some(c) = self.peek() {
            if c == '\\' {
                match self.peek_at(1) {
                    Some(n) if ",:=# \t\\".contains(n) => w.push(n),
                    Some(n) => {
                        w.push('\\');
                        w.push(n);
                    }
                    None => break,
                }
                self.advance(2);
                continue;
            }
            if c.is_whitespace() || ",:=#".contains(c) {
                break;
            }
            w.push(c);
            self.advance(1);
        }
        w
    }

    /// `^…$` (sudo ≥ 1.9.10): up to the first unescaped `$`.
    fn regex(&mut self) -> Result<String, PErr> {
        let mut w = String::new();
        while let Some(c) = self.peek() {
            w.push(c);
            self.advance(1);
            if c == '\\' {
                if let Some(n) = self.peek() {
                    w.push(n);
                    self.advance(1);
                }
            } else if c == '$' {
                return Ok(w);
            }
        }
        self.err("unterminated regular expression")
    }

    /// Command arguments: up to an unescaped `,`, `:`, `=` or `#` (toke.l
    /// GOTCMND), blanks collapsed. `""` means "no arguments".
    fn args(&mut self) -> Option<String> {
        let mut words: Vec<String> = Vec::new();
        let mut cur = String::new();
        while let Some(c) = self.peek() {
            if c == '\\' {
                match self.peek_at(1) {
                    Some(n) if ":\\,= \t#".contains(n) => cur.push(n),
                    Some(n) => {
                        cur.push('\\');
                        cur.push(n);
                    }
                    None => break,
                }
                self.advance(2);
                continue;
            }
            if ",:=#".contains(c) {
                break;
            }
            if c.is_whitespace() {
                if !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
            } else {
                cur.push(c);
            }
            self.advance(1);
        }
        if !cur.is_empty() {
            words.push(cur);
        }
        match words.as_slice() {
            [] => None,
            [only] if only == "\"\"" => Some(String::new()),
            _ => Some(words.join(" ")),
        }
    }

    /// `sha224:…` … `sha512:…` before a command.
    fn digest(&mut self) -> Option<String> {
        let save = self.i;
        self.skip_blank();
        let algo = self.ident();
        if matches!(algo.as_str(), "sha224" | "sha256" | "sha384" | "sha512") {
            self.skip_blank();
            if self.eat(':') {
                self.skip_blank();
                let mut d = String::new();
                while let Some(c) = self
                    .peek()
                    .filter(|c| c.is_ascii_alphanumeric() || "+/=".contains(*c))
                {
                    d.push(c);
                    self.advance(1);
                }
                if !d.is_empty() {
                    return Some(format!("{algo}:{d}"));
                }
            }
        }
        self.i = save;
        None
    }

    /// `[digest[, digest]…] [!]command [args]` (gram.y `digcmnd`).
    fn cmnd(&mut self, with_args: bool) -> Result<Cmnd, PErr> {
        let mut digests = Vec::new();
        while let Some(d) = self.digest() {
            digests.push(d);
            let save = self.i;
            self.skip_blank();
            if self.eat(',') {
                let before = self.i;
                if self.digest().is_some() {
                    self.i = before;
                    continue;
                }
            }
            self.i = save;
            break;
        }
        let negated = self.bangs();
        let line = self.line();
        let command = match self.peek() {
            Some('/') => {
                let path = self.path();
                let args = if path.ends_with('/') || !with_args {
                    None
                } else {
                    self.args()
                };
                Command::Path { path, args }
            }
            Some('^') => {
                let path = self.regex()?;
                let args = if with_args { self.args() } else { None };
                Command::Path { path, args }
            }
            _ => {
                let w = self.word();
                match w.as_str() {
                    "" => return self.unexpected("a command"),
                    "ALL" => Command::All,
                    "sudoedit" => Command::Sudoedit {
                        args: if with_args { self.args() } else { None },
                    },
                    "list" => Command::List,
                    w if is_alias_name(w) => Command::Alias(w.to_owned()),
                    w => {
                        return self.err(format!(
                            "{w:?} is not a fully-qualified path name, ALL, sudoedit, list or a Cmnd_Alias"
                        ));
                    }
                }
            }
        };
        if !digests.is_empty() && !matches!(command, Command::Path { .. }) {
            return self.err("a digest requires a path name");
        }
        Ok(Cmnd {
            negated,
            digests,
            command,
            line,
        })
    }

    /// `( [users] [: groups] )`.
    fn runas(&mut self) -> Result<Runas, PErr> {
        self.advance(1);
        self.skip_blank();
        let mut r = Runas::default();
        if !matches!(self.peek(), Some(':' | ')')) {
            r.users = self.list(ListCtx::User)?;
        }
        self.skip_blank();
        if self.eat(':') {
            self.skip_blank();
            if self.peek() != Some(')') {
                r.groups = self.list(ListCtx::User)?;
            }
        }
        self.skip_blank();
        if !self.eat(')') {
            return self.unexpected("`)` closing the run-as list");
        }
        Ok(r)
    }

    /// Options (`TIMEOUT=…`) and tags (`NOPASSWD:`) before a command.
    fn options_and_tags(&mut self, spec: &mut CmndSpec) -> Result<(), PErr> {
        loop {
            self.skip_blank();
            let save = self.i;
            let line = self.line();
            let id = self.ident();
            if TAGS.contains(&id.as_str()) {
                self.skip_blank();
                if self.eat(':') {
                    spec.tags.set(&id);
                    if id.ends_with("PASSWD") {
                        spec.nopasswd_line = Some(line);
                    }
                    continue;
                }
            } else if OPTIONS.contains(&id.as_str()) {
                self.skip_blank();
                if self.eat('=') {
                    self.skip_blank();
                    let v = match self.peek() {
                        Some('"') => self.quoted()?,
                        Some('/') => self.path(),
                        _ => self.word(),
                    };
                    if v.is_empty() {
                        return self.err(format!("{id}= needs a value"));
                    }
                    spec.options.retain(|(k, _)| *k != id);
                    spec.options.push((id, v));
                    continue;
                }
            }
            self.i = save;
            return Ok(());
        }
    }

    /// `Cmnd_Spec [, Cmnd_Spec]…`, with tags, options and run-as carried
    /// over from each command to the next (gram.y `cmndspeclist`).
    fn cmnd_specs(&mut self, out: &mut Vec<CmndSpec>) -> Result<(), PErr> {
        loop {
            self.skip_blank();
            let runas = if self.peek() == Some('(') {
                Some(self.runas()?)
            } else {
                None
            };
            let mut spec = CmndSpec {
                runas,
                options: Vec::new(),
                tags: Tags::default(),
                nopasswd_line: None,
                cmnd: Cmnd {
                    negated: false,
                    digests: Vec::new(),
                    command: Command::All,
                    line: self.line(),
                },
            };
            self.options_and_tags(&mut spec)?;
            spec.cmnd = self.cmnd(true)?;
            if let Some(prev) = out.last() {
                spec.tags.inherit(&prev.tags);
                if spec.nopasswd_line.is_none() {
                    spec.nopasswd_line = prev.nopasswd_line;
                }
                if spec.runas.is_none() {
                    spec.runas.clone_from(&prev.runas);
                }
                for (k, v) in &prev.options {
                    if !spec.options.iter().any(|(mine, _)| mine == k) {
                        spec.options.push((k.clone(), v.clone()));
                    }
                }
            }
            out.push(spec);
            self.skip_blank();
            if !self.eat(',') {
                return Ok(());
            }
        }
    }

    /// `User_List Host_List = Cmnd_Spec_List [: Host_List = Cmnd_Spec_List]…`.
    fn user_spec(&mut self, u: &mut UserSpec) -> Result<(), PErr> {
        u.users = self.list(ListCtx::User)?;
        loop {
            if !self.skip_blank() && u.privileges.is_empty() {
                return self.unexpected("a blank between the user list and the host list");
            }
            let line = self.line();
            let hosts = self.list(ListCtx::Host)?;
            self.skip_blank();
            if !self.eat('=') {
                return self.unexpected("`=` after the host list");
            }
            let mut cmnds = Vec::new();
            let r = self.cmnd_specs(&mut cmnds);
            u.privileges.push(Privilege { line, hosts, cmnds });
            r?;
            self.skip_blank();
            if self.at_end() {
                return Ok(());
            }
            if !self.eat(':') {
                return self.unexpected("`,`, `:` or the end of the line (escape `=`, `:` and `,` in arguments with `\\`)");
            }
        }
    }

    /// `NAME = members [: NAME = members]…`.
    fn aliases(&mut self, kind: AliasKind, out: &mut Vec<Alias>) -> Result<(), PErr> {
        loop {
            self.skip_blank();
            let line = self.line();
            let name = self.word();
            if !is_alias_name(&name) {
                return self.err(format!(
                    "{name:?} is not an alias name (upper-case letters, digits and `_`, starting with a letter, not ALL)"
                ));
            }
            self.skip_blank();
            if !self.eat('=') {
                return self.unexpected("`=` after the alias name");
            }
            let body = if kind == AliasKind::Cmnd {
                let mut v = Vec::new();
                loop {
                    v.push(self.cmnd(true)?);
                    self.skip_blank();
                    if !self.eat(',') {
                        break;
                    }
                }
                AliasBody::Commands(v)
            } else {
                let ctx = if kind == AliasKind::Host {
                    ListCtx::Host
                } else {
                    ListCtx::User
                };
                self.skip_blank();
                AliasBody::Members(self.list(ctx)?)
            };
            out.push(Alias {
                kind,
                name,
                line,
                body,
            });
            self.skip_blank();
            if self.at_end() {
                return Ok(());
            }
            if !self.eat(':') {
                return self.unexpected("`,`, `:` or the end of the line");
            }
        }
    }

    /// After `Defaults`: the binding, then `setting [, setting]…`.
    fn defaults(&mut self, d: &mut DefaultsLine) -> Result<(), PErr> {
        let binding = self.peek().filter(|c| ":@!>".contains(*c));
        if let Some(b) = binding {
            self.advance(1);
            self.skip_blank();
            d.scope = match b {
                ':' => Scope::User(self.list(ListCtx::User)?),
                '@' => Scope::Host(self.list(ListCtx::Host)?),
                '>' => Scope::Runas(self.list(ListCtx::User)?),
                _ => {
                    // toke.l: "no command args allowed for Defaults!/path".
                    let mut v = Vec::new();
                    loop {
                        v.push(self.cmnd(false)?);
                        let save = self.i;
                        self.skip_blank();
                        if !self.eat(',') {
                            self.i = save;
                            break;
                        }
                    }
                    Scope::Command(v)
                }
            };
        }
        if !self.skip_blank() && !self.at_end() {
            return self.unexpected("a blank after the Defaults binding");
        }
        if self.at_end() {
            return self.err("Defaults without any setting");
        }
        loop {
            let negated = self.bangs();
            let line = self.line();
            let name = self.ident();
            if name.is_empty() {
                return self.unexpected("a Defaults setting name");
            }
            self.skip_blank();
            let op = if self.eat('=') {
                SettingOp::Set
            } else if self.peek() == Some('+') && self.peek_at(1) == Some('=') {
                self.advance(2);
                SettingOp::Add
            } else if self.peek() == Some('-') && self.peek_at(1) == Some('=') {
                self.advance(2);
                SettingOp::Remove
            } else if negated {
                SettingOp::Disable
            } else {
                SettingOp::Enable
            };
            let value = if matches!(op, SettingOp::Set | SettingOp::Add | SettingOp::Remove) {
                if negated {
                    return self.err(format!("`!{name}` cannot take a value"));
                }
                self.skip_blank();
                let v = if self.peek() == Some('"') {
                    let v = self.quoted()?;
                    if v.is_empty() {
                        return self.err("empty string");
                    }
                    v
                } else {
                    self.value()
                };
                if v.is_empty() {
                    return self.err(format!("no value given for {name}"));
                }
                Some(v)
            } else {
                None
            };
            d.settings.push(Setting {
                line,
                name,
                op,
                value,
            });
            self.skip_blank();
            if self.at_end() {
                return Ok(());
            }
            if !self.eat(',') {
                return self.unexpected("`,` between Defaults settings");
            }
        }
    }

    /// An unquoted `Defaults` value (toke.l `ENVAR`): up to an unescaped
    /// blank or `,`.
    fn value(&mut self) -> String {
        let mut w = String::new();
        while let Some(c) = self.peek() {
            if c == '\\' {
                if let Some(n) = self.peek_at(1) {
                    w.push(n);
                }
                self.advance(2);
                continue;
            }
            if c.is_whitespace() || c == ',' {
                break;
            }
            w.push(c);
            self.advance(1);
        }
        w
    }
}

/// `[A-Z][A-Z0-9_]*`, but not `ALL` (toke.l alias rule; ALL is reserved).
pub fn is_alias_name(w: &str) -> bool {
    let mut c = w.chars();
    c.next().is_some_and(|f| f.is_ascii_uppercase())
        && c.all(|x| x.is_ascii_uppercase() || x.is_ascii_digit() || x == '_')
        && w != "ALL"
}

fn classify(w: &str) -> Item {
    if w == "ALL" {
        Item::All
    } else if is_alias_name(w) {
        Item::Alias(w.to_owned())
    } else if let Some(g) = w.strip_prefix("%:") {
        Item::NonUnixGroup(g.to_owned())
    } else if let Some(g) = w.strip_prefix('%') {
        Item::Group(g.to_owned())
    } else if let Some(g) = w.strip_prefix('+') {
        Item::Netgroup(g.to_owned())
    } else {
        Item::Name(w.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> (SudoersFile, Vec<Diagnostic>) {
        let t = TextFile::from_bytes("/etc/sudoers", s.as_bytes(), false);
        let mut w = Vec::new();
        let f = parse_file(&t, &mut |d| w.push(d));
        (f, w)
    }

    fn spec(e: &Entry) -> &UserSpec {
        match &e.kind {
            EntryKind::UserSpec(u) => u,
            other => panic!("not a user spec: {other:?}"),
        }
    }

    fn defaults(e: &Entry) -> &DefaultsLine {
        match &e.kind {
            EntryKind::Defaults(d) => d,
            other => panic!("not Defaults: {other:?}"),
        }
    }

    fn name(n: &str) -> Member {
        Member {
            negated: false,
            item: Item::Name(n.to_owned()),
        }
    }

    #[test]
    fn debian_default_file() {
        let (f, w) = parse(
            "#\n# This file MUST be edited with the 'visudo' command as root.\n#\n\
             Defaults\tenv_reset\n\
             Defaults\tmail_badpass\n\
             Defaults\tsecure_path=\"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"\n\
             Defaults\tuse_pty\n\
             # User privilege specification\n\
             root\tALL=(ALL:ALL) ALL\n\
             %sudo\tALL=(ALL:ALL) ALL\n\
             @includedir /etc/sudoers.d\n",
        );
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(f.entries.len(), 7);
        let d = defaults(&f.entries[2]);
        assert_eq!(d.scope, Scope::Global);
        assert_eq!(d.settings[0].name, "secure_path");
        assert_eq!(d.settings[0].op, SettingOp::Set);
        assert_eq!(
            d.settings[0].value.as_deref(),
            Some("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        );
        let u = spec(&f.entries[5]);
        assert_eq!(u.users[0].item, Item::Group("sudo".to_owned()));
        assert_eq!(u.privileges[0].hosts[0].item, Item::All);
        let c = &u.privileges[0].cmnds[0];
        assert_eq!(
            c.runas,
            Some(Runas {
                users: vec![Member {
                    negated: false,
                    item: Item::All
                }],
                groups: vec![Member {
                    negated: false,
                    item: Item::All
                }],
            })
        );
        assert_eq!(c.cmnd.command, Command::All);
        assert_eq!(c.tags.nopasswd, None);
        assert_eq!(
            f.entries[6].kind,
            EntryKind::Include(Include {
                dir: true,
                path: "/etc/sudoers.d".to_owned()
            })
        );
        assert_eq!(f.entries[6].line, 11);
    }

    #[test]
    fn comments_uids_and_old_include_forms() {
        let (f, w) = parse(
            "#include /etc/sudoers.local\n\
             #includedir /etc/sudoers.d\n\
             #includes are not directives\n\
             \x20#include with a leading blank is a comment\n\
             #1000 ALL = /bin/ls # trailing comment\n\
             %#27, %:#28, %:Domain\\ Admins ALL = /bin/cat\n\
             alice ALL = /bin/echo \\# not a comment\n",
        );
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(f.entries.len(), 5);
        assert_eq!(
            f.entries[0].kind,
            EntryKind::Include(Include {
                dir: false,
                path: "/etc/sudoers.local".to_owned()
            })
        );
        assert!(matches!(&f.entries[1].kind, EntryKind::Include(i) if i.dir));
        let u = spec(&f.entries[2]);
        assert_eq!(u.users[0].item, Item::Uid("1000".to_owned()));
        assert_eq!(
            u.privileges[0].cmnds[0].cmnd.command,
            Command::Path {
                path: "/bin/ls".to_owned(),
                args: None
            }
        );
        let u = spec(&f.entries[3]);
        assert_eq!(
            u.users.iter().map(|m| m.item.clone()).collect::<Vec<_>>(),
            vec![
                Item::Gid("27".to_owned()),
                Item::NonUnixGid("28".to_owned()),
                Item::NonUnixGroup("Domain Admins".to_owned()),
            ]
        );
        let u = spec(&f.entries[4]);
        assert_eq!(
            u.privileges[0].cmnds[0].cmnd.command,
            Command::Path {
                path: "/bin/echo".to_owned(),
                args: Some("# not a comment".to_owned())
            }
        );
    }

    #[test]
    fn include_paths_quoted_escaped_and_bad() {
        let (f, w) = parse(
            "@include \"/etc/sudo rules\" # why\n\
             @include /etc/sudo\\ more\n\
             @include sudoers.local\n\
             @include\n\
             @include /a /b\n",
        );
        let paths: Vec<_> = f
            .entries
            .iter()
            .map(|e| match &e.kind {
                EntryKind::Include(i) => i.path.clone(),
                _ => String::new(),
            })
            .collect();
        assert_eq!(
            paths,
            ["/etc/sudo rules", "/etc/sudo more", "sudoers.local"]
        );
        // `@include` alone is not a directive (no blank): a bad user spec.
        assert_eq!(w.len(), 2, "{w:?}");
        assert_eq!(w[1].line, Some(5));
        assert_eq!(w[1].field.as_deref(), Some("@include"));
    }

    #[test]
    fn defaults_bindings_negation_and_lists() {
        let (f, w) = parse(
            "Defaults@ct-console-07 !lecture\n\
             Defaults:operator1, %tech !authenticate, passwd_tries=2\n\
             Defaults!/usr/bin/less, PAGERS noexec\n\
             Defaults>root, !ALL !set_logname\n\
             Defaults !!use_pty\n\
             Defaults env_keep += \"LANG LC_* #x\", env_keep -= HOME\n\
             Defaults: alice logfile=/var/log/a\\ b.log\n",
        );
        assert!(w.is_empty(), "{w:?}");
        let d: Vec<_> = f.entries.iter().map(defaults).collect();
        assert_eq!(d[0].scope, Scope::Host(vec![name("ct-console-07")]));
        assert_eq!(d[0].settings[0].op, SettingOp::Disable);
        assert_eq!(
            d[1].scope,
            Scope::User(vec![
                name("operator1"),
                Member {
                    negated: false,
                    item: Item::Group("tech".to_owned())
                }
            ])
        );
        assert_eq!(d[1].settings.len(), 2);
        assert_eq!(d[1].settings[0].name, "authenticate");
        assert_eq!(d[1].settings[0].op, SettingOp::Disable);
        assert_eq!(d[1].settings[1].value.as_deref(), Some("2"));
        let Scope::Command(c) = &d[2].scope else {
            panic!("{:?}", d[2].scope)
        };
        assert_eq!(c[0].command.to_string(), "/usr/bin/less");
        assert_eq!(c[1].command, Command::Alias("PAGERS".to_owned()));
        assert_eq!(d[2].settings[0].op, SettingOp::Enable);
        assert!(matches!(&d[3].scope, Scope::Runas(m) if m.len() == 2 && m[1].negated));
        // An even run of `!` cancels out (toke.l `!+`).
        assert_eq!(d[4].settings[0].op, SettingOp::Enable);
        assert_eq!(d[5].settings[0].op, SettingOp::Add);
        assert_eq!(d[5].settings[0].value.as_deref(), Some("LANG LC_* #x"));
        assert_eq!(d[5].settings[1].op, SettingOp::Remove);
        assert_eq!(d[6].settings[0].value.as_deref(), Some("/var/log/a b.log"));
    }

    #[test]
    fn tags_and_runas_carry_over_within_one_list_only() {
        let (f, w) = parse(
            "tech ALL = (root) NOPASSWD: /usr/bin/systemctl restart scanner, \\\n\
             \x20   /usr/bin/journalctl, PASSWD: /usr/bin/vi, (operator1) /bin/ls, \\\n\
             \x20   NOEXEC:NOPASSWD : /usr/bin/less \\\n\
             \x20   : scanner-host = /sbin/reboot\n",
        );
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(f.entries.len(), 1);
        assert_eq!(f.entries[0].line, 1);
        let u = spec(&f.entries[0]);
        let c = &u.privileges[0].cmnds;
        assert_eq!(c.len(), 5);
        assert_eq!(c[0].tags.nopasswd, Some(true));
        assert_eq!(c[0].nopasswd_line, Some(1));
        assert_eq!(
            c[0].cmnd.command,
            Command::Path {
                path: "/usr/bin/systemctl".to_owned(),
                args: Some("restart scanner".to_owned())
            }
        );
        // Inherited from the first command, with the line of its tag.
        assert_eq!(c[1].tags.nopasswd, Some(true));
        assert_eq!(c[1].nopasswd_line, Some(1));
        assert_eq!(c[1].cmnd.line, 2);
        assert_eq!(c[1].runas, c[0].runas);
        assert_eq!(c[2].tags.nopasswd, Some(false));
        assert_eq!(c[2].nopasswd_line, Some(2));
        assert_eq!(c[3].tags.nopasswd, Some(false));
        assert_eq!(c[3].runas.as_ref().unwrap().users, vec![name("operator1")]);
        assert_eq!(c[4].tags.nopasswd, Some(true));
        assert_eq!(c[4].tags.noexec, Some(true));
        assert_eq!(c[4].nopasswd_line, Some(3));
        assert_eq!(c[4].runas, c[3].runas);
        // The host section after `:` starts afresh.
        let p = &u.privileges[1];
        assert_eq!(p.line, 4);
        assert_eq!(p.hosts, vec![name("scanner-host")]);
        assert_eq!(p.cmnds[0].tags.nopasswd, None);
        assert_eq!(p.cmnds[0].runas, None);
    }

    #[test]
    fn negation_options_digests_and_special_commands() {
        let (f, w) = parse(
            "alice, !bob, +admins, \"CORP\\\\carol\" ALL, !10.0.0.0/8, fe80::1 = \
             TIMEOUT=5m CWD=/tmp sha256:0123abcd /usr/bin/x, !/bin/sh, sudoedit /etc/hosts, \
             list, ^/usr/bin/(ls|cat)$, /usr/bin/, /bin/kill \"\", /usr/bin/env a\\=b\\,c\n",
        );
        assert!(w.is_empty(), "{w:?}");
        let u = spec(&f.entries[0]);
        assert!(u.users[1].negated);
        assert_eq!(u.users[2].item, Item::Netgroup("admins".to_owned()));
        assert_eq!(u.users[3].item, Item::Name("CORP\\carol".to_owned()));
        let hosts: Vec<String> = u.privileges[0]
            .hosts
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(hosts, ["ALL", "!10.0.0.0/8", "fe80::1"]);
        let c = &u.privileges[0].cmnds;
        assert_eq!(c[0].options.len(), 2);
        assert_eq!(c[0].cmnd.digests, ["sha256:0123abcd"]);
        assert!(c[1].cmnd.negated);
        assert_eq!(c[1].options, c[0].options);
        assert_eq!(
            c[2].cmnd.command,
            Command::Sudoedit {
                args: Some("/etc/hosts".to_owned())
            }
        );
        assert_eq!(c[3].cmnd.command, Command::List);
        assert_eq!(c[4].cmnd.command.to_string(), "^/usr/bin/(ls|cat)$");
        assert_eq!(c[5].cmnd.command.to_string(), "/usr/bin/");
        assert_eq!(
            c[6].cmnd.command,
            Command::Path {
                path: "/bin/kill".to_owned(),
                args: Some(String::new())
            }
        );
        assert_eq!(c[7].cmnd.command.to_string(), "/usr/bin/env a=b,c");
    }

    #[test]
    fn aliases_several_per_line() {
        let (f, w) = parse(
            "User_Alias ENGINEERS = tech, %service : AUDITORS = auditor\n\
             Host_Alias CONSOLES = ct-*, 192.168.1.0/24 : V6 = 2001:db8::/32\n\
             Cmnd_Alias SCANNER = /usr/bin/systemctl restart scanner, \\\n\
             \x20  /usr/bin/systemctl status scanner : SHELLS = /bin/sh, /bin/bash\n\
             Cmd_Alias LOGS = /usr/bin/journalctl\n\
             Runas_Alias OP = operator1\n",
        );
        assert!(w.is_empty(), "{w:?}");
        let all: Vec<&Alias> = f
            .entries
            .iter()
            .flat_map(|e| match &e.kind {
                EntryKind::Aliases(v) => v.iter(),
                _ => panic!(),
            })
            .collect();
        let names: Vec<_> = all.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "ENGINEERS",
                "AUDITORS",
                "CONSOLES",
                "V6",
                "SCANNER",
                "SHELLS",
                "LOGS",
                "OP"
            ]
        );
        assert!(matches!(&all[3].body, AliasBody::Members(m) if m[0] == name("2001:db8::/32")));
        assert!(matches!(&all[4].body, AliasBody::Commands(c) if c.len() == 2 && c[1].line == 4));
        assert_eq!(all[5].line, 4);
        assert_eq!(all[6].kind, AliasKind::Cmnd);
        assert_eq!(all[7].kind, AliasKind::Runas);
    }

    #[test]
    fn malformed_lines_are_diagnostics_with_their_line() {
        let (f, w) = parse(
            "Defaults use_pty logfile=/var/log/sudo.log\n\
             Defaults !logfile=/x\n\
             alice ALL = bin/ls\n\
             bob ALL = NOPASSWD: /bin/ls, (root /bin/cat\n\
             carol ALL\n\
             user_alias X = a\n\
             User_Alias lower = a\n\
             Defaults\n\
             Defaults env_keep=\"unterminated\n\
             dave ALL = /bin/echo a=b\n",
        );
        let lines: Vec<_> = w.iter().map(|d| d.line.unwrap()).collect();
        assert_eq!(lines, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], "{w:#?}");
        assert!(
            w.iter()
                .all(|d| d.message.contains("sudo ignores this line"))
        );
        // What was parsed before the error is kept, marked incomplete.
        assert!(f.entries.iter().all(|e| !e.complete));
        let d = defaults(&f.entries[0]);
        assert_eq!(d.settings.len(), 1);
        let bob = f.entries.iter().find(|e| e.line == 4).map(spec).unwrap();
        assert_eq!(bob.privileges[0].cmnds[0].tags.nopasswd, Some(true));
    }

    #[test]
    fn continuation_and_comment_rules() {
        let (f, w) = parse(
            "# a comment is never continued \\\n\
             Defaults \\\n   use_pty  \\  \n\t, logfile=/var/log/sudo.log\n\
             alice ALL = /bin/ls \\\\\n\
             bob ALL = /bin/ls\\",
        );
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(f.entries.len(), 3);
        let d = defaults(&f.entries[0]);
        assert_eq!(f.entries[0].line, 2);
        assert_eq!(d.settings[0].line, 3);
        assert_eq!(d.settings[1].line, 4);
        // An escaped backslash at the end does not continue the line.
        let a = spec(&f.entries[1]);
        assert_eq!(a.privileges[0].cmnds[0].cmnd.to_string(), "/bin/ls \\");
        assert_eq!(f.entries[2].line, 6);
    }

    #[test]
    fn diagnostics_are_capped_per_file() {
        let (f, w) = parse(&"bad line\n".repeat(1000));
        assert!(f.entries.is_empty());
        assert_eq!(w.len(), MAX_DIAGNOSTICS);
        assert!(w[MAX_DIAGNOSTICS - 1].message.contains("more than"));
        assert_eq!(w[MAX_DIAGNOSTICS - 1].line, Some(100));
    }

    #[test]
    fn overlong_logical_lines_are_skipped_with_a_warning() {
        let long = "/bin/x, ".repeat(MAX_LOGICAL_LINE / 8 / 4 + 1);
        let text = format!(
            "Cmnd_Alias BIG = {long}\\\n{long}\\\n{long}\\\n{long}\\\n{long}\nDefaults use_pty\n"
        );
        let (f, w) = parse(&text);
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].line, Some(1));
        assert_eq!(f.entries.len(), 1);
        assert_eq!(f.entries[0].line, 6);
    }

    #[test]
    fn never_panics_on_odd_input() {
        // A deterministic generator over the characters that matter to the
        // grammar: every prefix and mix must parse without a panic.
        let alphabet: Vec<char> = "ab AL_Z#%:!=,()\"\\\n\t/^$+-@0189sha256 NOPASSWD:Defaults"
            .chars()
            .collect();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..3000 {
            let mut s = String::new();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = usize::try_from(x % 80).unwrap();
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let i = usize::try_from(x % alphabet.len() as u64).unwrap();
                s.push(alphabet[i]);
            }
            let _ = parse(&s);
            let _ = parse(&format!("Defaults {s}"));
            let _ = parse(&format!("u ALL = {s}"));
            let _ = parse(&format!("Cmnd_Alias A = {s}"));
        }
        let _ = parse("\u{fffd}\0\r\n\\");
    }
}
