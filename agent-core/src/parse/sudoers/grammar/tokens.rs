//! The tokens of one logical sudoers line, after sudo's lexer
//! (`plugins/sudoers/toke.l`): words, paths, quoted strings, ids, command
//! arguments, digests and `Defaults` values, read by a [`Cursor`] over the
//! line's characters.

/// A syntax error: where and what.
pub(super) struct PErr {
    pub(super) line: u32,
    pub(super) msg: String,
}

/// A recursive-descent reader over one logical line.
pub(super) struct Cursor<'s> {
    pub(super) s: &'s [(char, u32)],
    pub(super) i: usize,
    pub(super) start: u32,
}

impl Cursor<'_> {
    pub(super) fn peek(&self) -> Option<char> {
        self.s.get(self.i).map(|c| c.0)
    }

    pub(super) fn peek_at(&self, k: usize) -> Option<char> {
        self.i
            .checked_add(k)
            .and_then(|j| self.s.get(j))
            .map(|c| c.0)
    }

    pub(super) fn line(&self) -> u32 {
        self.s
            .get(self.i)
            .or_else(|| self.s.last())
            .map_or(self.start, |c| c.1)
    }

    pub(super) fn advance(&mut self, n: usize) {
        self.i = self.i.saturating_add(n).min(self.s.len());
    }

    pub(super) fn at_end(&self) -> bool {
        self.i >= self.s.len()
    }

    pub(super) fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.advance(1);
            true
        } else {
            false
        }
    }

    /// Skips blanks; true when there were any.
    pub(super) fn skip_blank(&mut self) -> bool {
        let from = self.i;
        while self.peek().is_some_and(char::is_whitespace) {
            self.advance(1);
        }
        self.i > from
    }

    pub(super) fn err<T>(&self, msg: impl Into<String>) -> Result<T, PErr> {
        Err(PErr {
            line: self.line(),
            msg: msg.into(),
        })
    }

    pub(super) fn unexpected<T>(&self, wanted: &str) -> Result<T, PErr> {
        match self.peek() {
            Some(c) => self.err(format!("expected {wanted}, found {c:?}")),
            None => self.err(format!("expected {wanted} before the end of the line")),
        }
    }

    /// `[A-Za-z0-9_]*`.
    pub(super) fn ident(&mut self) -> String {
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
    pub(super) fn bangs(&mut self) -> bool {
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
    pub(super) fn word(&mut self) -> String {
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
    pub(super) fn quoted(&mut self) -> Result<String, PErr> {
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
    pub(super) fn id(&mut self) -> String {
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
    pub(super) fn ipv6(&mut self) -> Option<String> {
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

    /// A fully-qualified path (toke.l `PATH`): ends at an unescaped blank or
    /// one of `,:=#`; `\,` `\:` `\=` `\#` `\ ` stand for the character, other
    /// escapes (fnmatch's `\*`) are kept.
    pub(super) fn path(&mut self) -> String {
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
    pub(super) fn regex(&mut self) -> Result<String, PErr> {
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
    pub(super) fn args(&mut self) -> Option<String> {
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
    pub(super) fn digest(&mut self) -> Option<String> {
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

    /// An unquoted `Defaults` value (toke.l `ENVAR`): up to an unescaped
    /// blank or `,`.
    pub(super) fn value(&mut self) -> String {
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
