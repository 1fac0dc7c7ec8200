//! The grammar of one sudoers file: logical lines (comments, continuation,
//! include directives) and a recursive-descent reader for `Defaults`, alias
//! and user-specification lines (see the parent module for the rules and
//! their sources).
//!
//! This module joins physical lines into logical ones and makes each an
//! entry of the file; `tokens` reads the words, paths and strings of a
//! logical line (sudo's `toke.l`), and `entries` the `Defaults`, alias and
//! user-specification productions they form (`gram.y`).

use super::{
    AliasBody, AliasKind, DefaultsLine, Entry, EntryKind, Include, Scope, SudoersFile, UserSpec,
};
use crate::finding::Diagnostic;
use crate::root::TextFile;
use tokens::Cursor;

mod entries;
mod tokens;

#[cfg(test)]
mod tests;

pub use entries::is_alias_name;

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
