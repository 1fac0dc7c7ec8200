//! The entries of one logical sudoers line, after sudo's grammar
//! (`plugins/sudoers/gram.y`): `Defaults`, alias definitions and user
//! specifications, read by recursive descent over the [`Cursor`]'s tokens.

use super::tokens::{Cursor, PErr};
use crate::parse::sudoers::{
    Alias, AliasBody, AliasKind, Cmnd, CmndSpec, Command, DefaultsLine, Item, Member, Privilege,
    Runas, Scope, Setting, SettingOp, Tags, UserSpec,
};

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

/// Which list a member belongs to (host lists may hold IPv6 addresses).
#[derive(Clone, Copy, PartialEq, Eq)]
enum ListCtx {
    User,
    Host,
}

impl Cursor<'_> {
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
    pub(super) fn user_spec(&mut self, u: &mut UserSpec) -> Result<(), PErr> {
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
    pub(super) fn aliases(&mut self, kind: AliasKind, out: &mut Vec<Alias>) -> Result<(), PErr> {
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
    pub(super) fn defaults(&mut self, d: &mut DefaultsLine) -> Result<(), PErr> {
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
