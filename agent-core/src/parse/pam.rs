//! PAM configuration: `/etc/pam.d/*` (or `/etc/pam.conf`), parsed as Linux-PAM
//! reads it, and each service's stack expanded the way `libpam` builds it.
//!
//! Syntax (pam.conf(5), pam.d(5); behaviour of `libpam/pam_handlers.c`,
//! `pam_line.c` and `pam_misc.c`, which this module follows where the manual
//! is silent):
//! - a line is `type control module-path module-arguments` (in `pam.conf`, the
//!   service name comes first);
//! - `#` starts a comment anywhere on a line (pam_line.c keeps only what comes
//!   before the first `#`, even inside `[...]`);
//! - a line ending in `\` continues on the next non-blank, non-comment line;
//! - `type` and the simple `control` keywords are case-insensitive; a leading
//!   `-` on the type means "skip silently when the module cannot be loaded";
//! - any token that starts with `[` runs to the first `]` not written `\]`, so
//!   complex controls and arguments may hold spaces (`[success=1 default=ignore]`,
//!   `[query=select … where x='%u']`);
//! - `include` / `substack` controls pull in the lines of the named file that
//!   have the same type; Debian's `@include file` pulls in all its lines.
//!
//! [`PamStacks`] keeps every file as written ([`PamStacks::files`], for checks
//! that look for an argument anywhere) and every service's expanded stack
//! ([`PamStacks::service`]), with includes inlined in order. Includes are bounded by
//! `limits.max_include_depth` (nesting) and `limits.max_included_files` (files
//! inlined into one service), and a cycle becomes a [`Diagnostic`], never a hang.

use crate::finding::Diagnostic;
use crate::root::TextFile;
use std::fmt;

mod stacks;

pub use stacks::PamStacks;

/// Where per-service files live (pam.d(5)); relative include targets are resolved here.
pub const PAM_D: &str = "/etc/pam.d";
/// The single-file configuration, used only when [`PAM_D`] is not a directory
/// (pam.conf(5): "the presence of the /etc/pam.d/ directory will cause
/// Linux-PAM to ignore /etc/pam.conf").
pub const PAM_CONF: &str = "/etc/pam.conf";

/// Most rules one expanded stack may hold. Real stacks hold a few dozen; the
/// bound keeps a hostile image (a file included many times over) from making
/// the audit allocate without limit.
pub const MAX_EXPANDED_RULES: usize = 4096;

/// The management group a rule belongs to (pam.conf(5) "type").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PamType {
    /// `auth`: authenticates the user and sets credentials.
    Auth,
    /// `account`: non-authentication account management (expiry, access).
    Account,
    /// `password`: updating the authentication token.
    Password,
    /// `session`: things done before and after the user is given a service.
    Session,
}

impl PamType {
    /// Parses a type keyword, case-insensitively (pam_handlers.c uses `strcasecmp`).
    pub fn parse(s: &str) -> Option<PamType> {
        [
            PamType::Auth,
            PamType::Account,
            PamType::Password,
            PamType::Session,
        ]
        .into_iter()
        .find(|t| t.as_str().eq_ignore_ascii_case(s))
    }

    /// The keyword as written in configuration files.
    pub fn as_str(self) -> &'static str {
        match self {
            PamType::Auth => "auth",
            PamType::Account => "account",
            PamType::Password => "password",
            PamType::Session => "session",
        }
    }
}

impl fmt::Display for PamType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a rule's result affects the stack (pam.conf(5) "control").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PamControl {
    /// `required`: failure fails the stack, after the rest has run.
    Required,
    /// `requisite`: failure fails the stack at once.
    Requisite,
    /// `sufficient`: success ends the stack (if nothing required failed before).
    Sufficient,
    /// `optional`: matters only when it is the only module of its type.
    Optional,
    /// `include FILE`: the lines of FILE with the same type, inlined.
    Include(String),
    /// `substack FILE`: like include, but `done`/`die` end only the substack.
    Substack(String),
    /// `[value=action ...]`, as `(value, action)` pairs in order. A control
    /// that libpam cannot parse is kept as `[("default", "bad")]`, which is
    /// what libpam does with it (every result counts as failure).
    Complex(Vec<(String, String)>),
}

impl PamControl {
    /// The action a complex control takes for a return value (`success`,
    /// `default`, …), falling back to `default`; `None` for simple keywords
    /// and when neither is given.
    pub fn action(&self, value: &str) -> Option<&str> {
        let PamControl::Complex(pairs) = self else {
            return None;
        };
        let find = |v: &str| {
            pairs
                .iter()
                .rev()
                .find(|(k, _)| k == v)
                .map(|(_, a)| a.as_str())
        };
        find(value).or_else(|| find("default"))
    }
}

impl fmt::Display for PamControl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PamControl::Required => f.write_str("required"),
            PamControl::Requisite => f.write_str("requisite"),
            PamControl::Sufficient => f.write_str("sufficient"),
            PamControl::Optional => f.write_str("optional"),
            PamControl::Include(t) => write!(f, "include {t}"),
            PamControl::Substack(t) => write!(f, "substack {t}"),
            PamControl::Complex(pairs) => {
                f.write_str("[")?;
                for (i, (v, a)) in pairs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{v}={a}")?;
                }
                f.write_str("]")
            }
        }
    }
}

/// One rule (one logical line) of a PAM file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PamRule {
    /// The file it is written in (`/etc/pam.d/common-auth`).
    pub file: String,
    /// The 1-based line where the rule starts (continuation lines follow it).
    pub line: u32,
    /// Its management group.
    pub kind: PamType,
    /// Its control.
    pub control: PamControl,
    /// The module path as written: `pam_unix.so` or an absolute path. For
    /// `include`/`substack` rules, the included file name.
    pub module: String,
    /// The module arguments, `[...]` brackets removed and `\]` unescaped.
    pub args: Vec<String>,
    /// True for `-type` lines: libpam skips them silently when the module is missing.
    pub dash: bool,
}

impl PamRule {
    /// The module's base name without `.so`: `pam_unix` for
    /// `/lib/x86_64-linux-gnu/security/pam_unix.so`.
    pub fn module_name(&self) -> &str {
        let base = self.module.rsplit('/').next().unwrap_or(&self.module);
        base.strip_suffix(".so").unwrap_or(base)
    }

    /// The value of an argument: `key=value` gives `Some("value")`, a bare
    /// `key` gives `Some("")`. When the argument is repeated the last one is
    /// returned, as the modules' own option loops keep the last value.
    pub fn arg(&self, key: &str) -> Option<&str> {
        self.args
            .iter()
            .rev()
            .find_map(|a| match a.split_once('=') {
                Some((k, v)) if k == key => Some(v),
                None if a == key => Some(""),
                _ => None,
            })
    }

    /// True when the argument is present, bare or with a value.
    pub fn has_arg(&self, key: &str) -> bool {
        self.arg(key).is_some()
    }

    /// `file:line`, for messages.
    pub fn location(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }
}

/// A Debian `@include FILE` line: every line of FILE, whatever its type, is
/// read in its place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PamInclude {
    /// The 1-based line of the directive.
    pub line: u32,
    /// The file named, as written.
    pub target: String,
    /// How many of the file's rules come before it (its place in [`PamFile::rules`]).
    pub position: usize,
}

/// One PAM file as written: its own rules, includes not expanded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PamFile {
    /// The device path.
    pub path: String,
    /// The rules, in file order (`include`/`substack` rules included as written).
    pub rules: Vec<PamRule>,
    /// The `@include` directives, in file order.
    pub includes: Vec<PamInclude>,
}

/// Parses one file in `pam.d` format (no service field), without following
/// includes. Malformed lines are reported through `warn` and left out.
pub fn parse_file(t: &TextFile, warn: &mut dyn FnMut(Diagnostic)) -> PamFile {
    let items = parse_items(t, false, warn)
        .into_iter()
        .map(|(_, i)| i)
        .collect::<Vec<_>>();
    items_to_file(t.path.clone(), &items)
}

/// A parsed line: a rule, or a Debian `@include`.
#[derive(Debug, Clone)]
enum Item {
    Rule(PamRule),
    AtInclude {
        file: String,
        line: u32,
        target: String,
    },
}

fn items_to_file(path: String, items: &[Item]) -> PamFile {
    let mut f = PamFile {
        path,
        rules: Vec::new(),
        includes: Vec::new(),
    };
    for i in items {
        match i {
            Item::Rule(r) => f.rules.push(r.clone()),
            Item::AtInclude { line, target, .. } => f.includes.push(PamInclude {
                line: *line,
                target: target.clone(),
                position: f.rules.len(),
            }),
        }
    }
    f
}

/// The return values a complex control may name (`_pam_token_returns` in
/// pam_handlers.c, in libpam's order; `default` last).
const RETURN_VALUES: &[&str] = &[
    "success",
    "open_err",
    "symbol_err",
    "service_err",
    "system_err",
    "buf_err",
    "perm_denied",
    "auth_err",
    "cred_insufficient",
    "authinfo_unavail",
    "user_unknown",
    "maxtries",
    "new_authtok_reqd",
    "acct_expired",
    "session_err",
    "cred_unavail",
    "cred_expired",
    "cred_err",
    "no_module_data",
    "conv_err",
    "authtok_err",
    "authtok_recover_err",
    "authtok_lock_busy",
    "authtok_disable_aging",
    "try_again",
    "ignore",
    "abort",
    "authtok_expired",
    "module_unknown",
    "bad_item",
    "conv_again",
    "incomplete",
    "default",
];

/// The actions of a complex control besides a positive jump count.
const ACTIONS: &[&str] = &["ignore", "ok", "done", "bad", "die", "reset"];

/// Joins continuation lines and strips comments (pam_line.c
/// `_pam_line_assemble`): text from the first `#` is dropped; a line whose
/// remaining text ends in `\` continues, the backslash becoming a space, on
/// the next line that is neither blank nor a comment. Yields `(first line
/// number, logical line)`.
fn logical_lines(t: &TextFile) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    let mut pending: Option<(u32, String)> = None;
    for (n, raw) in t.lines() {
        let s = raw.trim_start_matches([' ', '\t']);
        if s.is_empty() || s.starts_with('#') {
            // "Nothing in this line": a continuation carries on past it.
            continue;
        }
        let (text, commented) = match s.find('#') {
            Some(i) => (s.get(..i).unwrap_or(""), true),
            None => (s, false),
        };
        let trimmed = text.trim_end_matches([' ', '\t']);
        let (start, mut acc) = pending.take().unwrap_or((n, String::new()));
        if !commented {
            if let Some(body) = trimmed.strip_suffix('\\') {
                acc.push_str(body);
                acc.push(' ');
                pending = Some((start, acc));
                continue;
            }
        }
        acc.push_str(text);
        out.push((start, acc));
    }
    if let Some(p) = pending {
        out.push(p);
    }
    out
}

/// One token as `_pam_StrTok` cuts it: delimiters are space, tab and newline;
/// a token starting with `[` runs to the first `]` (with `\]` standing for a
/// literal `]`), brackets removed. Returns the token, whether it was
/// bracketed and unterminated, and the rest of the line.
fn next_token(s: &str) -> Option<(String, bool, &str)> {
    let s = s.trim_start_matches([' ', '\t', '\n']);
    if s.is_empty() {
        return None;
    }
    if let Some(inner) = s.strip_prefix('[') {
        let mut tok = String::new();
        let mut chars = inner.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' if chars.peek().is_some_and(|(_, n)| *n == ']') => {
                    tok.push(']');
                    chars.next();
                }
                ']' => return Some((tok, false, inner.get(i + 1..).unwrap_or(""))),
                c => tok.push(c),
            }
        }
        return Some((tok, true, ""));
    }
    let end = s.find([' ', '\t', '\n']).unwrap_or(s.len());
    Some((
        s.get(..end).unwrap_or(s).to_owned(),
        false,
        s.get(end..).unwrap_or(""),
    ))
}

fn all_tokens(mut s: &str, unterminated: &mut bool) -> Vec<String> {
    let mut out = Vec::new();
    while let Some((tok, open, rest)) = next_token(s) {
        *unterminated |= open;
        out.push(tok);
        s = rest;
    }
    out
}

/// Parses a complex control's body (`_pam_parse_control`): `value=action`
/// pairs, blanks allowed around `=`. `Err` names what libpam would have
/// expected.
fn parse_complex(body: &str) -> Result<Vec<(String, String)>, String> {
    let mut pairs = Vec::new();
    let mut rest = body.trim_start();
    while !rest.is_empty() {
        let end = rest
            .find(|c: char| c == '=' || c.is_ascii_whitespace())
            .unwrap_or(rest.len());
        let value = rest.get(..end).unwrap_or("");
        if !RETURN_VALUES.contains(&value) {
            return Err(format!("unknown return value {value:?}"));
        }
        rest = rest.get(end..).unwrap_or("").trim_start();
        let Some(after) = rest.strip_prefix('=') else {
            return Err(format!("expecting '=' after {value:?}"));
        };
        rest = after.trim_start();
        let end = rest
            .find(|c: char| c.is_ascii_whitespace())
            .unwrap_or(rest.len());
        let action = rest.get(..end).unwrap_or("");
        if action.is_empty() {
            return Err(format!("expecting an action for {value:?}"));
        }
        let jump_ok = action.bytes().all(|b| b.is_ascii_digit())
            && action.parse::<u32>().is_ok_and(|n| n > 0);
        if !ACTIONS.contains(&action) && !jump_ok {
            return Err(format!(
                "unknown action {action:?} for {value:?} (expected ignore, ok, done, bad, die, reset or a jump count above 0)"
            ));
        }
        pairs.push((value.to_owned(), action.to_owned()));
        rest = rest.get(end..).unwrap_or("").trim_start();
    }
    Ok(pairs)
}

fn diag(t: &TextFile, line: u32, field: &str, message: String) -> Diagnostic {
    Diagnostic {
        file: t.path.clone(),
        line: Some(line),
        field: Some(field.to_owned()),
        message,
    }
}

/// Parses every logical line of a file; with `with_service`, the first field
/// is the service name (pam.conf format).
fn parse_items(
    t: &TextFile,
    with_service: bool,
    warn: &mut dyn FnMut(Diagnostic),
) -> Vec<(Option<String>, Item)> {
    let mut out = Vec::new();
    for (n, text) in logical_lines(t) {
        let mut unterminated = false;
        let toks = all_tokens(&text, &mut unterminated);
        if unterminated {
            warn(diag(
                t,
                n,
                "syntax",
                "a '[' is never closed by ']'; the rest of the line was read as one token"
                    .to_owned(),
            ));
        }
        let mut it = toks.into_iter();
        let service = if with_service {
            let Some(s) = it.next() else { continue };
            Some(s)
        } else {
            None
        };
        let Some(kind_tok) = it.next() else {
            // Only pam.conf can get here with a token already taken (the
            // service); a pam.d line always has a first token.
            warn(diag(
                t,
                n,
                "type",
                "a service name alone, without a module type".to_owned(),
            ));
            continue;
        };
        if !with_service && kind_tok == "@include" {
            match it.next() {
                Some(target) => out.push((
                    None,
                    Item::AtInclude {
                        file: t.path.clone(),
                        line: n,
                        target,
                    },
                )),
                None => warn(diag(
                    t,
                    n,
                    "include",
                    "@include without a file name".to_owned(),
                )),
            }
            continue;
        }
        let (dash, type_word) = match kind_tok.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, kind_tok.as_str()),
        };
        let Some(kind) = PamType::parse(type_word) else {
            // libpam installs such a line as an auth rule that always fails.
            warn(diag(
                t,
                n,
                "type",
                format!(
                    "unknown module type {type_word:?} (expected auth, account, password or session); libpam makes this line an auth rule that always fails"
                ),
            ));
            continue;
        };
        let Some(control_tok) = it.next() else {
            warn(diag(t, n, "control", "no control field".to_owned()));
            continue;
        };
        let lower = control_tok.to_ascii_lowercase();
        let simple = match lower.as_str() {
            "required" => Some(PamControl::Required),
            "requisite" => Some(PamControl::Requisite),
            "sufficient" => Some(PamControl::Sufficient),
            "optional" => Some(PamControl::Optional),
            _ => None,
        };
        let is_include = lower == "include" || lower == "substack";
        let Some(module) = it.next() else {
            let field = if is_include { "include" } else { "module" };
            warn(diag(
                t,
                n,
                field,
                if is_include {
                    format!("{lower} without a file name")
                } else {
                    "no module path".to_owned()
                },
            ));
            continue;
        };
        let control = if let Some(c) = simple {
            c
        } else if lower == "include" {
            PamControl::Include(module.clone())
        } else if lower == "substack" {
            PamControl::Substack(module.clone())
        } else {
            match parse_complex(&control_tok) {
                Ok(pairs) if !pairs.is_empty() => PamControl::Complex(pairs),
                Ok(_) => {
                    warn(diag(
                        t,
                        n,
                        "control",
                        "empty control; libpam treats every result of this module as a failure"
                            .to_owned(),
                    ));
                    PamControl::Complex(vec![("default".to_owned(), "bad".to_owned())])
                }
                Err(why) => {
                    warn(diag(
                        t,
                        n,
                        "control",
                        format!(
                            "cannot parse control {control_tok:?}: {why}; libpam treats every result of this module as a failure"
                        ),
                    ));
                    PamControl::Complex(vec![("default".to_owned(), "bad".to_owned())])
                }
            }
        };
        out.push((
            service,
            Item::Rule(PamRule {
                file: t.path.clone(),
                line: n,
                kind,
                control,
                module,
                args: it.collect(),
                dash,
            }),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(path: &str, s: &str) -> TextFile {
        TextFile::from_bytes(path, s.as_bytes(), false)
    }

    fn parse(s: &str) -> (PamFile, Vec<Diagnostic>) {
        let mut w = Vec::new();
        let f = parse_file(&text("/etc/pam.d/x", s), &mut |d| w.push(d));
        (f, w)
    }

    #[test]
    fn parses_a_debian_common_auth() {
        let (f, w) = parse(
            "# here are the per-package modules (the \"Primary\" block)\n\
             auth\trequired\t\t\tpam_faillock.so preauth\n\
             auth\t[success=1 default=ignore]\tpam_unix.so nullok\n\
             auth\t[default=die]\t\t\tpam_faillock.so authfail\n\
             auth\trequisite\t\t\tpam_deny.so\n\
             -auth\toptional\t\t\t/lib/x86_64-linux-gnu/security/pam_cap.so\n",
        );
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(f.rules.len(), 5);
        let r = &f.rules[1];
        assert_eq!(r.line, 3);
        assert_eq!(r.kind, PamType::Auth);
        assert_eq!(
            r.control,
            PamControl::Complex(vec![
                ("success".into(), "1".into()),
                ("default".into(), "ignore".into())
            ])
        );
        assert_eq!(r.control.action("success"), Some("1"));
        assert_eq!(r.control.action("auth_err"), Some("ignore"));
        assert_eq!(r.module_name(), "pam_unix");
        assert!(r.has_arg("nullok"));
        assert_eq!(r.arg("nullok"), Some(""));
        assert!(!r.has_arg("null"));
        let cap = &f.rules[4];
        assert!(cap.dash);
        assert_eq!(cap.module_name(), "pam_cap");
        assert_eq!(f.rules[0].arg("preauth"), Some(""));
    }

    #[test]
    fn keywords_are_case_insensitive_and_args_take_values() {
        let (f, w) =
            parse("PASSWORD  Required pam_pwhistory.so remember=5 use_authtok remember=7\n");
        assert!(w.is_empty());
        let r = &f.rules[0];
        assert_eq!(
            (r.kind, &r.control),
            (PamType::Password, &PamControl::Required)
        );
        assert_eq!(r.arg("remember"), Some("7"));
        assert_eq!(r.arg("use_authtok"), Some(""));
    }

    #[test]
    fn brackets_hold_spaces_and_escaped_brackets() {
        let (f, w) = parse(
            "auth required pam_mysql.so user=u [query=select x from t where a='%u' and b=\\]] last\n",
        );
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(
            f.rules[0].args,
            vec![
                "user=u",
                "query=select x from t where a='%u' and b=]",
                "last"
            ]
        );
        assert_eq!(
            f.rules[0].arg("query"),
            Some("select x from t where a='%u' and b=]")
        );
        let (f, w) = parse("auth required pam_x.so [unterminated arg\n");
        assert_eq!(f.rules[0].args, vec!["unterminated arg"]);
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn complex_controls_accept_spaces_and_refuse_nonsense() {
        let (f, w) = parse(
            "auth [ success = done new_authtok_reqd=done default=die ] pam_unix.so\n\
             auth [success=0] pam_x.so\n\
             auth [succes=ok] pam_y.so\n\
             auth requird pam_z.so\n\
             auth [success=okay] pam_w.so\n",
        );
        assert_eq!(
            f.rules[0].control,
            PamControl::Complex(vec![
                ("success".into(), "done".into()),
                ("new_authtok_reqd".into(), "done".into()),
                ("default".into(), "die".into())
            ])
        );
        let bad = PamControl::Complex(vec![("default".into(), "bad".into())]);
        for r in &f.rules[1..] {
            assert_eq!(r.control, bad, "{r:?}");
        }
        assert_eq!(w.len(), 4);
        assert!(w.iter().all(|d| d.field.as_deref() == Some("control")));
        assert_eq!(w[0].line, Some(2));
    }

    #[test]
    fn comments_and_continuations_follow_libpam() {
        let (f, w) = parse(
            "auth required \\\n\
             \n\
             # a comment line inside a continuation\n\
             \tpam_env.so \\\n\
             readenv=1 # trailing comment \\\n\
             auth required pam_x.so [a#b]\n\
             session optional pam_y.so \\",
        );
        // '#' starts a comment even inside brackets (pam_line.c), which
        // leaves the '[' of line 6 open.
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(
            (w[0].line, w[0].field.as_deref()),
            (Some(6), Some("syntax"))
        );
        assert_eq!(f.rules.len(), 3);
        assert_eq!(f.rules[0].line, 1);
        assert_eq!(f.rules[0].module, "pam_env.so");
        assert_eq!(f.rules[0].args, vec!["readenv=1"]);
        assert_eq!(f.rules[1].args, vec!["a"]);
        assert_eq!(f.rules[2].line, 7);
    }

    #[test]
    fn malformed_lines_name_their_field() {
        let (f, w) = parse(
            "autth required pam_unix.so\n\
             auth\n\
             auth required\n\
             account include\n\
             @include\n\
             - required pam_x.so\n",
        );
        assert!(f.rules.is_empty());
        let fields: Vec<_> = w
            .iter()
            .map(|d| (d.line.unwrap(), d.field.clone().unwrap()))
            .collect();
        assert_eq!(
            fields,
            vec![
                (1, "type".to_owned()),
                (2, "control".to_owned()),
                (3, "module".to_owned()),
                (4, "include".to_owned()),
                (5, "include".to_owned()),
                (6, "type".to_owned()),
            ]
        );
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let inputs: &[&[u8]] = &[
            b"[",
            b"]",
            b"\\",
            b"auth [",
            b"auth [\\",
            b"auth [success=\\]",
            b"-",
            b"@include [",
            b"auth required pam.so [\xff\xfe]",
            b"\x00\x00",
            b"auth [=] x",
            b"auth [default=99999999999999] x",
        ];
        for i in inputs {
            let t = TextFile::from_bytes("/etc/pam.d/f", i, false);
            let _ = parse_file(&t, &mut |_| {});
        }
    }
}
