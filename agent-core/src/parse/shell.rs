//! System-wide shell start-up files (`/etc/profile`, `/etc/profile.d/*.sh`,
//! `/etc/bash.bashrc` or `/etc/bashrc`): the simple commands they run, and
//! from them the `umask` and `TMOUT` settings the session checks read.
//!
//! The files are not executed. A small POSIX-shell lexer (XCU 2.3 "Token
//! Recognition") splits them into simple commands well enough that a
//! setting is found wherever the shell would find it: after `;`, `&&`, `||`,
//! `then`, `else`, `do`, inside `{ … }` or `( … )`, across `\` line
//! continuations and multi-line quotes; and not found where the shell would
//! not run it: in comments, inside here-documents, inside quotes, or as a
//! redirection target. Every command is reported whatever condition guards it
//! (an `if` branch, a function body): a setting that runs on some path is a
//! setting an auditor must see. Words that hold an expansion (`$x`,
//! `$(…)`, `` `…` ``) are marked not literal, because their value is only
//! known at run time.

use crate::audit::{AuditContext, Source};
use crate::finding::Diagnostic;
use crate::root::TextFile;

/// `/etc/profile`: read by login shells (bash, dash, busybox sh, …).
pub const PROFILE: &str = "/etc/profile";
/// `/etc/profile.d`: its `*.sh` files are sourced by `/etc/profile` on
/// every mainstream distribution.
pub const PROFILE_D: &str = "/etc/profile.d";
/// bash's system-wide interactive start-up files: Debian's
/// `/etc/bash.bashrc` (compiled into Debian's bash as `SYS_BASHRC`) and
/// Red Hat's `/etc/bashrc` (sourced from `~/.bashrc`).
pub const BASHRC: &[&str] = &["/etc/bash.bashrc", "/etc/bashrc"];

/// Most here-documents open at once on one line; more is a hostile file.
const MAX_PENDING_HEREDOCS: usize = 64;

/// One word of a command, quotes removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The text with quoting removed (expansions kept as written).
    pub text: String,
    /// False when the word holds a parameter expansion, command substitution
    /// or arithmetic outside single quotes: its value is not known statically.
    pub literal: bool,
}

/// One simple command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// The 1-based line where it starts.
    pub line: u32,
    /// Its words (reserved words such as `if`/`then` at its start removed,
    /// redirections removed).
    pub words: Vec<Word>,
}

/// Splits shell text into simple commands (see the module documentation).
pub fn commands(t: &TextFile, warn: &mut dyn FnMut(Diagnostic)) -> Vec<Command> {
    Lexer::new(t, warn).run()
}

struct Lexer<'t, 'w> {
    t: &'t TextFile,
    /// Byte offset of the next character in `t.text`.
    pos: usize,
    line: u32,
    warn: &'w mut dyn FnMut(Diagnostic),
    out: Vec<Command>,
    words: Vec<Word>,
    cmd_line: u32,
    cur: String,
    cur_literal: bool,
    in_word: bool,
    /// The next word is a redirection target (or here-document delimiter).
    redirect: Option<Redirect>,
    heredocs: Vec<(String, bool)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Redirect {
    Target,
    HereDoc { strip_tabs: bool },
}

impl<'t, 'w> Lexer<'t, 'w> {
    fn new(t: &'t TextFile, warn: &'w mut dyn FnMut(Diagnostic)) -> Self {
        Lexer {
            t,
            pos: 0,
            line: 1,
            warn,
            out: Vec::new(),
            words: Vec::new(),
            cmd_line: 1,
            cur: String::new(),
            cur_literal: true,
            in_word: false,
            redirect: None,
            heredocs: Vec::new(),
        }
    }

    fn peek(&self) -> Option<char> {
        self.t.text.get(self.pos..)?.chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos = self.pos.saturating_add(c.len_utf8());
        if c == '\n' {
            self.line = self.line.saturating_add(1);
        }
        Some(c)
    }

    fn diag(&mut self, line: u32, message: &str) {
        (self.warn)(Diagnostic {
            file: self.t.path.clone(),
            line: Some(line),
            field: None,
            message: message.to_owned(),
        });
    }

    fn start_word(&mut self) {
        if !self.in_word {
            self.in_word = true;
            self.cur_literal = true;
            if self.words.is_empty() && self.redirect.is_none() {
                self.cmd_line = self.line;
            }
        }
    }

    fn end_word(&mut self) {
        if !self.in_word {
            return;
        }
        self.in_word = false;
        let text = std::mem::take(&mut self.cur);
        match self.redirect.take() {
            Some(Redirect::Target) => {}
            Some(Redirect::HereDoc { strip_tabs }) => {
                if self.heredocs.len() < MAX_PENDING_HEREDOCS {
                    self.heredocs.push((text, strip_tabs));
                }
            }
            None => self.words.push(Word {
                text,
                literal: self.cur_literal,
            }),
        }
    }

    fn end_command(&mut self) {
        self.end_word();
        let mut words = std::mem::take(&mut self.words);
        // Reserved words that may open a command (XCU 2.4); what follows is
        // the command itself.
        let skip = words
            .iter()
            .take_while(|w| {
                w.literal
                    && matches!(
                        w.text.as_str(),
                        "if" | "then"
                            | "else"
                            | "elif"
                            | "do"
                            | "while"
                            | "until"
                            | "!"
                            | "{"
                            | "time"
                    )
            })
            .count();
        words.drain(..skip);
        if !words.is_empty() {
            self.out.push(Command {
                line: self.cmd_line,
                words,
            });
        }
    }

    /// Skips the bodies of pending here-documents, which start on the line
    /// after the one holding their operators.
    fn skip_heredocs(&mut self) {
        let pending = std::mem::take(&mut self.heredocs);
        for (delim, strip_tabs) in pending {
            let start = self.line;
            let mut found = false;
            while self.peek().is_some() {
                let mut l = String::new();
                while let Some(c) = self.bump() {
                    if c == '\n' {
                        break;
                    }
                    l.push(c);
                }
                let l = l.strip_suffix('\r').unwrap_or(&l);
                let l = if strip_tabs {
                    l.trim_start_matches('\t')
                } else {
                    l
                };
                if l == delim {
                    found = true;
                    break;
                }
            }
            if !found {
                self.diag(
                    start,
                    &format!("here-document delimited by {delim:?} is not closed"),
                );
            }
        }
    }

    /// Reads a `$(…)`, `${…}` or `$((…))` after its `$`, counting nesting.
    fn read_expansion(&mut self, open: char, close: char) {
        let start = self.line;
        let mut depth = 0usize;
        while let Some(c) = self.bump() {
            self.cur.push(c);
            match c {
                '\\' => {
                    if let Some(n) = self.bump() {
                        self.cur.push(n);
                    }
                }
                '\'' if open == '(' => {
                    while let Some(n) = self.bump() {
                        self.cur.push(n);
                        if n == '\'' {
                            break;
                        }
                    }
                }
                c if c == open => depth = depth.saturating_add(1),
                c if c == close => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return;
                    }
                }
                _ => {}
            }
        }
        self.diag(start, "unterminated expansion");
    }

    fn read_backquote(&mut self) {
        let start = self.line;
        self.cur.push('`');
        while let Some(c) = self.bump() {
            self.cur.push(c);
            match c {
                '\\' => {
                    if let Some(n) = self.bump() {
                        self.cur.push(n);
                    }
                }
                '`' => return,
                _ => {}
            }
        }
        self.diag(start, "unterminated command substitution");
    }

    fn dollar(&mut self) {
        self.cur_literal = false;
        match self.peek() {
            Some('(') => {
                self.cur.push('$');
                self.read_expansion('(', ')');
            }
            Some('{') => {
                self.cur.push('$');
                self.read_expansion('{', '}');
            }
            _ => self.cur.push('$'),
        }
    }

    fn run(mut self) -> Vec<Command> {
        while let Some(c) = self.bump() {
            match c {
                '\n' => {
                    self.end_command();
                    if !self.heredocs.is_empty() {
                        self.skip_heredocs();
                    }
                }
                ' ' | '\t' | '\r' => self.end_word(),
                '#' if !self.in_word => {
                    while let Some(n) = self.peek() {
                        if n == '\n' {
                            break;
                        }
                        self.bump();
                    }
                }
                '\\' => match self.bump() {
                    Some('\n') => {}
                    Some(n) => {
                        self.start_word();
                        self.cur.push(n);
                    }
                    None => {}
                },
                '\'' => {
                    self.start_word();
                    let start = self.line;
                    let mut closed = false;
                    while let Some(n) = self.bump() {
                        if n == '\'' {
                            closed = true;
                            break;
                        }
                        self.cur.push(n);
                    }
                    if !closed {
                        self.diag(start, "unterminated single quote");
                    }
                }
                '"' => {
                    self.start_word();
                    let start = self.line;
                    let mut closed = false;
                    while let Some(n) = self.bump() {
                        match n {
                            '"' => {
                                closed = true;
                                break;
                            }
                            '\\' => match self.bump() {
                                Some('\n') => {}
                                Some(e @ ('$' | '`' | '"' | '\\')) => self.cur.push(e),
                                Some(e) => {
                                    self.cur.push('\\');
                                    self.cur.push(e);
                                }
                                None => {}
                            },
                            '$' => self.dollar(),
                            '`' => {
                                self.cur_literal = false;
                                self.read_backquote();
                            }
                            other => self.cur.push(other),
                        }
                    }
                    if !closed {
                        self.diag(start, "unterminated double quote");
                    }
                }
                '$' => {
                    self.start_word();
                    self.dollar();
                }
                '`' => {
                    self.start_word();
                    self.cur_literal = false;
                    self.read_backquote();
                }
                ';' | '|' | '(' | ')' => {
                    self.end_command();
                    // `;;`, `||`, `|&` are one operator; the second character
                    // would only end an empty command again.
                }
                '&' => {
                    if self.peek() == Some('>') {
                        // `&>file`, `&>>file`: redirect both outputs.
                        self.end_word();
                        self.bump();
                        if self.peek() == Some('>') {
                            self.bump();
                        }
                        self.redirect = Some(Redirect::Target);
                    } else {
                        self.end_command();
                    }
                }
                '<' | '>' => {
                    // A word of digits glued to the operator is a file
                    // descriptor number (`2>/dev/null`), not an argument.
                    if self.in_word
                        && !self.cur.is_empty()
                        && self.cur.chars().all(|d| d.is_ascii_digit())
                    {
                        self.cur.clear();
                        self.in_word = false;
                    } else {
                        self.end_word();
                    }
                    if c == '<' && self.peek() == Some('<') {
                        self.bump();
                        if self.peek() == Some('<') {
                            // `<<<word`: a here-string, one word.
                            self.bump();
                            self.redirect = Some(Redirect::Target);
                        } else {
                            let strip_tabs = self.peek() == Some('-');
                            if strip_tabs {
                                self.bump();
                            }
                            self.redirect = Some(Redirect::HereDoc { strip_tabs });
                        }
                    } else {
                        // `>`, `>>`, `>|`, `<>`, `>&N`, `<&N`.
                        while matches!(self.peek(), Some('>' | '|' | '&')) {
                            self.bump();
                        }
                        self.redirect = Some(Redirect::Target);
                    }
                }
                other => {
                    self.start_word();
                    self.cur.push(other);
                }
            }
        }
        self.end_command();
        self.out
    }
}

/// A `umask` command that sets the mask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UmaskSetting {
    /// The file.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// The mode argument as written (`022`, `u=rwx,g=rx,o=`).
    pub arg: String,
    /// False when the argument holds an expansion.
    pub literal: bool,
}

impl UmaskSetting {
    /// The mask this command leaves when the mask before it was `before`;
    /// `Err` when the argument is not a mode bash accepts.
    pub fn apply(&self, before: u32) -> Result<u32, String> {
        apply_umask(&self.arg, before)
    }
}

/// The mask `umask ARG` leaves when the mask was `before` (bash `umask`
/// builtin, POSIX `umask` utility): an octal number, or a symbolic mode
/// (`u=rwx,g=rx,o=`, `g-w`, `o+r`) that names the permissions *allowed*.
pub fn apply_umask(arg: &str, before: u32) -> Result<u32, String> {
    if arg.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        if !arg.chars().all(|c| ('0'..='7').contains(&c)) {
            return Err(format!("{arg:?} is not an octal number"));
        }
        let v = u32::from_str_radix(arg, 8).map_err(|_| format!("{arg:?} is out of range"))?;
        if v > 0o777 {
            return Err(format!("{arg:?}: octal number out of range"));
        }
        return Ok(v);
    }
    let mut allowed = !before & 0o777;
    for clause in arg.split(',') {
        let mut chars = clause.chars().peekable();
        let mut who = 0u32;
        while let Some(&c) = chars.peek() {
            let bits = match c {
                'u' => 0o700,
                'g' => 0o070,
                'o' => 0o007,
                'a' => 0o777,
                _ => break,
            };
            who |= bits;
            chars.next();
        }
        if who == 0 {
            who = 0o777;
        }
        let mut saw_op = false;
        while let Some(op) = chars.next() {
            if !matches!(op, '=' | '+' | '-') {
                return Err(format!("{arg:?}: invalid symbolic mode operator {op:?}"));
            }
            saw_op = true;
            let mut perm = 0u32;
            while let Some(&p) = chars.peek() {
                let bits = match p {
                    'r' => 0o444,
                    'w' => 0o222,
                    'x' => 0o111,
                    _ => break,
                };
                perm |= bits;
                chars.next();
            }
            match op {
                '=' => allowed = (allowed & !who) | (perm & who),
                '+' => allowed |= perm & who,
                _ => allowed &= !(perm & who),
            }
        }
        if !saw_op {
            return Err(format!("{arg:?}: invalid symbolic mode"));
        }
    }
    Ok(!allowed & 0o777)
}

/// What a command does to `TMOUT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TmoutAction {
    /// `TMOUT=value` (alone, or in `readonly`/`export`/`declare`/`typeset`).
    Assign {
        /// The value, quotes removed.
        value: String,
        /// False when it holds an expansion.
        literal: bool,
    },
    /// Made read-only (`readonly`, `declare -r`, `typeset -r`).
    Readonly,
    /// Exported (`export`, `declare -x`, `typeset -x`).
    Export,
    /// `unset TMOUT`.
    Unset,
}

/// One action on `TMOUT` with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TmoutLine {
    /// The file.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// The action.
    pub action: TmoutAction,
}

/// The settings found in one start-up file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShellScan {
    /// The file.
    pub path: String,
    /// The `umask` commands that set a mask.
    pub umasks: Vec<UmaskSetting>,
    /// The actions on `TMOUT`, in order.
    pub tmout: Vec<TmoutLine>,
}

fn is_name(s: &str) -> bool {
    let mut c = s.chars();
    c.next()
        .is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
}

/// `NAME=value` when `w` is an assignment word.
fn assignment(w: &Word) -> Option<(&str, &str)> {
    let (name, value) = w.text.split_once('=')?;
    is_name(name).then_some((name, value))
}

/// Scans one start-up file for `umask` and `TMOUT`.
pub fn scan(t: &TextFile, warn: &mut dyn FnMut(Diagnostic)) -> ShellScan {
    let mut s = ShellScan {
        path: t.path.clone(),
        ..ShellScan::default()
    };
    for cmd in commands(t, warn) {
        scan_command(t, &cmd, &mut s);
    }
    s
}

fn scan_command(t: &TextFile, cmd: &Command, s: &mut ShellScan) {
    let push = |s: &mut ShellScan, action: TmoutAction| {
        s.tmout.push(TmoutLine {
            file: t.path.clone(),
            line: cmd.line,
            action,
        });
    };
    // XCU 2.9.1: leading assignment words; with no command name after them
    // they set shell variables, otherwise only the command's environment.
    let n_assign = cmd
        .words
        .iter()
        .take_while(|w| assignment(w).is_some())
        .count();
    let Some(name) = cmd.words.get(n_assign) else {
        for w in &cmd.words {
            if let Some(("TMOUT", v)) = assignment(w) {
                push(
                    s,
                    TmoutAction::Assign {
                        value: v.to_owned(),
                        literal: w.literal,
                    },
                );
            }
        }
        return;
    };
    let args = cmd.words.get(n_assign.saturating_add(1)..).unwrap_or(&[]);
    if !name.literal {
        return;
    }
    match name.text.as_str() {
        "umask" => {
            let mut it = args.iter().skip_while(|a| {
                a.literal && a.text.starts_with('-') && a.text.len() > 1 && a.text != "--"
            });
            let mut first = it.next();
            if first.is_some_and(|a| a.text == "--") {
                first = it.next();
            }
            if let Some(a) = first {
                s.umasks.push(UmaskSetting {
                    file: t.path.clone(),
                    line: cmd.line,
                    arg: a.text.clone(),
                    literal: a.literal,
                });
            }
        }
        "readonly" | "export" | "declare" | "typeset" => {
            let mut ro = name.text == "readonly";
            let mut ex = name.text == "export";
            let mut names_are_functions = false;
            for a in args {
                if a.literal
                    && (a.text.starts_with('-') || a.text.starts_with('+'))
                    && !a.text.contains('=')
                {
                    let on = a.text.starts_with('-');
                    for f in a.text.chars().skip(1) {
                        match f {
                            'r' if on => ro = true,
                            'x' => ex = on,
                            'f' | 'F' => names_are_functions = true,
                            _ => {}
                        }
                    }
                    continue;
                }
                if names_are_functions {
                    continue;
                }
                let (var, value) = match assignment(a) {
                    Some((n, v)) => (n, Some(v)),
                    None => (a.text.as_str(), None),
                };
                if var != "TMOUT" {
                    continue;
                }
                if let Some(v) = value {
                    push(
                        s,
                        TmoutAction::Assign {
                            value: v.to_owned(),
                            literal: a.literal,
                        },
                    );
                }
                if ro {
                    push(s, TmoutAction::Readonly);
                }
                if ex {
                    push(s, TmoutAction::Export);
                }
            }
        }
        "unset" => {
            let functions = args.iter().any(|a| a.text == "-f");
            if !functions && args.iter().any(|a| a.text == "TMOUT") {
                push(s, TmoutAction::Unset);
            }
        }
        _ => {}
    }
}

/// The system-wide shell start-up files of a root, scanned.
#[derive(Debug, Clone, Default)]
pub struct ShellProfiles {
    /// One scan per file read, in the order a bash login shell meets them
    /// (`/etc/profile`, `/etc/profile.d/*.sh` by name, then the bashrc files).
    pub files: Vec<ShellScan>,
}

impl ShellProfiles {
    /// True when any start-up file exists.
    pub fn present(&self) -> bool {
        !self.files.is_empty()
    }

    /// True when the file was read.
    pub fn has(&self, path: &str) -> bool {
        self.files.iter().any(|f| f.path == path)
    }

    /// Every `umask` command, in file order.
    pub fn umasks(&self) -> impl Iterator<Item = &UmaskSetting> {
        self.files.iter().flat_map(|f| f.umasks.iter())
    }

    /// Every action on `TMOUT`, in file order.
    pub fn tmout(&self) -> impl Iterator<Item = &TmoutLine> {
        self.files.iter().flat_map(|f| f.tmout.iter())
    }
}

impl Source for ShellProfiles {
    fn load(ctx: &AuditContext<'_>) -> Self {
        let mut warn = |d| ctx.warn(d);
        let mut paths = vec![PROFILE.to_owned()];
        match ctx.dir_files(PROFILE_D) {
            Ok(v) => paths.extend(v.into_iter().filter(|p| p.ends_with(".sh"))),
            Err(e) => warn(Diagnostic {
                file: PROFILE_D.to_owned(),
                line: None,
                field: None,
                message: e.to_string(),
            }),
        }
        paths.extend(BASHRC.iter().map(|p| (*p).to_owned()));
        let mut files = Vec::new();
        for p in paths {
            if let Some(t) = ctx.read_text(&p) {
                files.push(scan(&t, &mut warn));
            }
        }
        ShellProfiles { files }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_text(s: &str) -> (ShellScan, Vec<Diagnostic>) {
        let t = TextFile::from_bytes("/etc/profile", s.as_bytes(), false);
        let mut w = Vec::new();
        let r = scan(&t, &mut |d| w.push(d));
        (r, w)
    }

    fn umask_lines(s: &ShellScan) -> Vec<(u32, &str)> {
        s.umasks.iter().map(|u| (u.line, u.arg.as_str())).collect()
    }

    #[test]
    fn finds_umask_where_the_shell_runs_it() {
        let text = r#"# umask 000 in a comment
if [ "`id -gn`" = "`id -un`" ] && [ $UID -gt 199 ]; then
    umask 002
else
    umask 022 # default
fi
[ -n "$PS1" ] && umask 0077; echo "umask 000"
echo 'umask 000
still quoted'
cat <<EOF
umask 000
EOF
cat <<-'END'
	umask 000
	END
f() { umask u=rwx,g=rx,o=; }
umask -S 027 2>/dev/null
umask
umask -S
umask $DEFAULT_UMASK
x=umask
"#;
        let (s, w) = scan_text(text);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(
            umask_lines(&s),
            vec![
                (3, "002"),
                (5, "022"),
                (7, "0077"),
                (16, "u=rwx,g=rx,o="),
                (17, "027"),
                (20, "$DEFAULT_UMASK"),
            ]
        );
        assert!(!s.umasks[5].literal);
    }

    #[test]
    fn continuation_and_unterminated_input_do_not_panic() {
        let (s, _) = scan_text("umask \\\n  027\n");
        assert_eq!(umask_lines(&s), vec![(1, "027")]);
        for bad in ["'", "\"", "$(", "${", "`", "cat <<EOF\n", "a\\", "<<", ">"] {
            let (_, w) = scan_text(bad);
            let _ = w;
        }
        let (_, w) = scan_text("echo 'open\n");
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].line, Some(1));
    }

    #[test]
    fn umask_values() {
        assert_eq!(apply_umask("027", 0o022), Ok(0o027));
        assert_eq!(apply_umask("0077", 0), Ok(0o077));
        assert!(apply_umask("0800", 0).is_err());
        assert!(apply_umask("01777", 0).is_err());
        assert_eq!(apply_umask("u=rwx,g=rx,o=", 0o022), Ok(0o027));
        assert_eq!(apply_umask("a=rx", 0), Ok(0o222));
        assert_eq!(apply_umask("o-rwx", 0o022), Ok(0o027));
        assert_eq!(apply_umask("g+w", 0o027), Ok(0o007));
        assert_eq!(apply_umask("=", 0), Ok(0o777));
        assert!(apply_umask("u", 0).is_err());
        assert!(apply_umask("z=r", 0).is_err());
        assert!(apply_umask("u=rwq", 0).is_err());
    }

    #[test]
    fn tmout_assignments_readonly_and_export() {
        let (s, w) = scan_text(
            "TMOUT=600\nreadonly TMOUT\nexport TMOUT\ndeclare -xr TMOUT=\"300\"\ntypeset +x TMOUT\nTMOUT=9 bash -c true\n[ -z \"$TMOUT\" ] && TMOUT=${X:-900}\nunset TMOUT\nunset -f TMOUT\nlocal_var=1\ndeclare -f TMOUT\n",
        );
        assert!(w.is_empty(), "{w:?}");
        let got: Vec<(u32, TmoutAction)> =
            s.tmout.iter().map(|l| (l.line, l.action.clone())).collect();
        let assign = |v: &str, literal| TmoutAction::Assign {
            value: v.to_owned(),
            literal,
        };
        assert_eq!(
            got,
            vec![
                (1, assign("600", true)),
                (2, TmoutAction::Readonly),
                (3, TmoutAction::Export),
                (4, assign("300", true)),
                (4, TmoutAction::Readonly),
                (4, TmoutAction::Export),
                (7, assign("${X:-900}", false)),
                (8, TmoutAction::Unset),
            ]
        );
    }
}
