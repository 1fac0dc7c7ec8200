//! Unit tests of the sudoers grammar: whole files through [`parse_file`],
//! with the entries and diagnostics they give.

use super::*;
use crate::parse::sudoers::{Alias, Command, Item, Member, Runas, SettingOp};

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
