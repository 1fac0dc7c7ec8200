use super::*;
use crate::config::Config;

fn policy(doc: &str) -> IntegrityPolicy {
    toml::from_str::<Config>(doc).unwrap().integrity
}

fn compile_err(doc: &str) -> String {
    policy(doc).compile().unwrap_err().to_string()
}

#[test]
fn defaults_compile_and_cover_the_system_paths() {
    let p = IntegrityPolicy::default().compile().unwrap();
    let rule = |path: &str| p.rule_for(Path::new(path)).and_then(|i| p.rules.get(i));
    let passwd = rule("/etc/passwd").unwrap();
    assert_eq!(passwd.severity, Severity::High);
    assert_eq!(passwd.attrs, AttrSet::default_set());
    assert!(!passwd.growing);
    let login = rule("/usr/bin/login").unwrap();
    assert_eq!(login.severity, Severity::Critical);
    assert_eq!(login.path, Path::new("/usr/bin"));
    assert_eq!(rule("/boot/vmlinuz").unwrap().severity, Severity::Critical);
    assert_eq!(
        rule("/root/.ssh/authorized_keys").unwrap().severity,
        Severity::Critical
    );
    let syslog = rule("/var/log/syslog").unwrap();
    assert!(syslog.growing);
    assert_eq!(syslog.severity, Severity::Low);
    assert!(syslog.attrs.contains(crate::integrity::Attr::Size));
    assert!(!syslog.attrs.needs_content());
    // The longest rule wins: resolv.conf is watched for its permissions only.
    let resolv = rule("/etc/resolv.conf").unwrap();
    assert_eq!(resolv.attrs, builtin_group("perms").unwrap());
    assert_eq!(resolv.severity, Severity::Medium);
    // Excluded: volatile files, rotated logs, the journal, dha's own state.
    for path in [
        "/etc/mtab",
        "/etc/adjtime",
        "/etc/.pwd.lock",
        "/var/log/syslog.1",
        "/var/log/apt/history.log.2.gz",
        "/var/log/journal/abc/system.journal",
        "/var/lib/dha/integrity.baseline",
        "/proc/1/status",
    ] {
        assert_eq!(p.rule_for(Path::new(path)), None, "{path}");
    }
    assert!(!p.descend_into(Path::new("/var/log/journal")));
    assert!(p.descend_into(Path::new("/var")));
    assert!(!p.descend_into(Path::new("/home")));
    // Not covered at all.
    assert_eq!(p.rule_for(Path::new("/home/user/notes")), None);
    assert_eq!(p.rule_for(Path::new("/var/cache/apt/pkgcache.bin")), None);
    // `*` does not cross `/`: a rotated-log glob leaves other files alone.
    assert!(p.rule_for(Path::new("/var/log/apt/history.log")).is_some());
}

#[test]
fn groups_resolve_nested_and_refuse_cycles_and_unknown_names() {
    let p = policy(
        "[integrity.groups]\nowner = [\"uid\", \"gid\"]\nmine = [\"owner\", \"perm\", \"H\"]\n\
         [[integrity.rules]]\npath = \"/srv/app\"\nattributes = [\"mine\", \"mtime\"]\n",
    );
    let c = p.compile().unwrap();
    use crate::integrity::Attr::*;
    let want: AttrSet = [Uid, Gid, Perm, Sha256, Sha512, Mtime]
        .into_iter()
        .collect();
    assert_eq!(c.rules.first().unwrap().attrs, want);

    let e = compile_err("[integrity.groups]\na = [\"b\"]\nb = [\"perm\", \"a\"]\n");
    assert!(
        e.contains("integrity.groups.b[1]") && e.contains("a -> b -> a"),
        "{e}"
    );
    let e = compile_err("[integrity.groups]\nselfish = [\"selfish\"]\n");
    assert!(e.contains("selfish -> selfish"), "{e}");

    let e = compile_err("[integrity.groups]\nx = [\"perm\", \"md5\"]\n");
    assert!(
        e.contains("integrity.groups.x[1]: unknown attribute or group \"md5\""),
        "{e}"
    );
    let e = compile_err(
        "[[integrity.rules]]\npath = \"/etc\"\n[[integrity.rules]]\npath = \"/usr\"\n\
         attributes = [\"perm\", \"nosuch\"]\n",
    );
    assert!(
        e.contains("integrity.rules[1].attributes[1]: unknown attribute or group \"nosuch\""),
        "{e}"
    );
    // Built-ins and attribute names cannot be redefined.
    let e = compile_err("[integrity.groups]\nR = [\"perm\"]\n");
    assert!(
        e.contains("integrity.groups.R") && e.contains("built-in"),
        "{e}"
    );
    let e = compile_err("[integrity.groups]\nsha256 = [\"perm\"]\n");
    assert!(e.contains("integrity.groups.sha256"), "{e}");
    // `>` makes a rule growing.
    let c = policy("[[integrity.rules]]\npath = \"/srv/log\"\nattributes = [\">\"]\n")
        .compile()
        .unwrap();
    assert!(c.rules.first().unwrap().growing);
    // An empty attribute list is refused, "E" is the explicit form.
    let e = compile_err("[[integrity.rules]]\npath = \"/srv\"\nattributes = []\n");
    assert!(e.contains("integrity.rules[0].attributes"), "{e}");
    let c = policy("[[integrity.rules]]\npath = \"/srv\"\nattributes = [\"E\"]\n")
        .compile()
        .unwrap();
    assert!(c.rules.first().unwrap().attrs.is_empty());
}

#[test]
fn a_bad_policy_is_refused_at_load_with_key_and_line() {
    let doc = "[integrity]\nthreads = 2\n\n[[integrity.rules]]\npath = \"/etc\"\n\
               attributes = [\"perm\", \"md5\"]\n";
    let e = Config::from_toml_str(doc).unwrap_err();
    let m = e.to_string();
    assert!(
        matches!(&e, crate::config::ConfigError::Invalid { field, .. }
            if field == "integrity.rules[0].attributes[1]"),
        "{e:?}"
    );
    assert_eq!(
        m,
        "<string>: integrity.rules[0].attributes[1]: unknown attribute or group \"md5\" \
         (line 6, column 23)"
    );
    let doc = "[integrity]\n[[integrity.rules]]\npath = \"/srv\"\nattributes = [\"md5\"]\n";
    let m = Config::from_toml_str(doc).unwrap_err().to_string();
    assert!(
        m.contains("integrity.rules[0].attributes[0]") && m.contains("line 4, column 15"),
        "{m}"
    );
    // A group's member, and a relative path, point at their line too.
    let doc = "[integrity.groups]\nmine = [\"perm\",\n  \"nosuch\"]\n";
    let m = Config::from_toml_str(doc).unwrap_err().to_string();
    assert!(
        m.contains("integrity.groups.mine[1]") && m.contains("line 3, column 3"),
        "{m}"
    );
    let doc = "[[integrity.rules]]\npath = \"etc\"\n";
    let m = Config::from_toml_str(doc).unwrap_err().to_string();
    assert!(
        m.contains("integrity.rules[0].path") && m.contains("line 2, column 8"),
        "{m}"
    );
    // Type errors and unknown keys come from the TOML reader, with the key.
    let m = Config::from_toml_str("[[integrity.rules]]\npath = \"/etc\"\nrecursve = true\n")
        .unwrap_err()
        .to_string();
    assert!(m.contains("recursve") && m.contains("line 3"), "{m}");
    let m = Config::from_toml_str("[[integrity.rules]]\nseverity = \"low\"\n")
        .unwrap_err()
        .to_string();
    assert!(m.contains("path"), "{m}");
    let m = Config::from_toml_str("[integrity]\nthreads = -1\n")
        .unwrap_err()
        .to_string();
    assert!(m.contains("line 2, column 11: integrity.threads"), "{m}");
}

#[test]
fn the_example_file_holds_the_default_policy() {
    let c = Config::from_toml_str(include_str!("../../../../dha.example.toml")).unwrap();
    assert_eq!(c.integrity, IntegrityPolicy::default());
    // The section also writes back to TOML and reads the same.
    let text = toml::to_string(&c).unwrap();
    assert_eq!(Config::from_toml_str(&text).unwrap(), c);
    assert_eq!(
        c.integrity.policy_digest().unwrap(),
        IntegrityPolicy::default().policy_digest().unwrap()
    );
}

#[test]
fn builtin_groups_match_their_documentation() {
    for (name, _) in BUILTIN_GROUPS {
        assert!(builtin_group(name).is_some(), "{name}");
    }
    assert_eq!(builtin_group("nosuch"), None);
    use crate::integrity::Attr::*;
    let r = builtin_group("R").unwrap();
    for a in [
        Perm, Type, Inode, LinkTarget, Nlink, Uid, Gid, Size, Mtime, Ctime, Sha256,
    ] {
        assert!(r.contains(a), "R lacks {a}");
    }
    assert!(!r.contains(Sha512) && !r.contains(Fflags) && !r.contains(Dev));
    let l = builtin_group("L").unwrap();
    assert!(!l.contains(Size) && !l.needs_content() && l.contains(Perm));
    assert_eq!(builtin_group("all"), Some(AttrSet::all()));
}

#[test]
fn bad_paths_duplicates_and_globs_are_refused_with_their_key() {
    let e = compile_err("[[integrity.rules]]\npath = \"etc\"\n");
    assert!(
        e.contains("integrity.rules[0].path") && e.contains("not an absolute path"),
        "{e}"
    );
    let e = compile_err(
        "[[integrity.rules]]\npath = \"/etc\"\n[[integrity.rules]]\npath = \"/usr\"\n\
         [[integrity.rules]]\npath = \"/etc/\"\n",
    );
    assert!(
        e.contains("integrity.rules[2].path") && e.contains("integrity.rules[0]"),
        "{e}"
    );
    let e = compile_err("[[integrity.rules]]\npath = \"/etc\"\nexclude = [\"/etc/{a\"]\n");
    assert!(e.contains("integrity.rules[0].exclude[0]"), "{e}");
    let e = compile_err("[integrity]\nbaseline = \"db\"\n");
    assert!(e.contains("integrity.baseline"), "{e}");
    let e = compile_err("[integrity]\nstore = \"store\"\n");
    assert!(e.contains("integrity.store"), "{e}");
    let e = compile_err("[integrity]\nthreads = 5000\n");
    assert!(e.contains("integrity.threads"), "{e}");
    // A rule inside a global exclusion would watch nothing.
    let e = compile_err("[[integrity.rules]]\npath = \"/var/lib/dha/x\"\n");
    assert!(
        e.contains("integrity.rules[0].path") && e.contains("/var/lib/dha"),
        "{e}"
    );
    // Paths are normalised.
    let c = policy("[[integrity.rules]]\npath = \"/usr//local/./bin/\"\n")
        .compile()
        .unwrap();
    assert_eq!(c.rules.first().unwrap().path, Path::new("/usr/local/bin"));
}

#[test]
fn the_digest_follows_the_policy_not_its_spelling() {
    let a = "[integrity]\nthreads = 2\n[integrity.groups]\nmine = [\"perm\", \"sha256\"]\n\
             [[integrity.rules]]\npath = \"/etc\"\nattributes = [\"mine\"]\n\
             [[integrity.rules]]\npath = \"/usr/bin\"\nseverity = \"critical\"\n";
    // Same policy: other whitespace and comments, rule order, group name,
    // thread count, and an attribute spelled out instead of grouped.
    let b = "# a comment\n[integrity]\nthreads   =   4\n\n[integrity.groups]\n\
             other = [ \"sha256\" ]\n\n[[integrity.rules]]\n  path = \"/usr/bin/\"\n\
             severity = 'critical'\n[[integrity.rules]]\npath = \"/etc\"\n\
             attributes = [\"perm\", \"other\"]  # same set\n";
    let da = policy(a).policy_digest().unwrap();
    assert_eq!(da, policy(b).policy_digest().unwrap());
    // Any change of what is watched changes it.
    for changed in [
        a.replace("\"critical\"", "\"high\""),
        a.replace("\"/etc\"", "\"/etc/ssh\""),
        a.replace("[\"perm\", \"sha256\"]", "[\"perm\", \"sha512\"]"),
        a.replace("path = \"/etc\"", "path = \"/etc\"\nrecursive = false"),
        a.replace("path = \"/etc\"", "path = \"/etc\"\ngrowing = true"),
        a.replace("path = \"/etc\"", "path = \"/etc\"\nexclude = [\"/etc/x\"]"),
        a.replace("threads = 2", "threads = 2\nexclude = [\"/etc/x\"]"),
    ] {
        assert_ne!(policy(&changed).policy_digest().unwrap(), da, "{changed}");
    }
    assert_ne!(IntegrityPolicy::default().policy_digest().unwrap(), da);
    // The command line's path mode has a digest of its own, stable.
    let paths = [PathBuf::from("/srv/a"), PathBuf::from("/srv/b")];
    let d = policy_digest_for_paths(&paths, AttrSet::default_set()).unwrap();
    assert_eq!(
        d,
        policy_digest_for_paths(&paths, AttrSet::default_set()).unwrap()
    );
    assert_ne!(d, policy_digest_for_paths(&paths, AttrSet::all()).unwrap());
    assert!(policy_digest_for_paths(&[PathBuf::from("rel")], AttrSet::all()).is_err());
}
