use super::*;

fn rule(path: &str, recursive: bool, exclude: &[&str]) -> CompiledRule {
    CompiledRule {
        path: PathBuf::from(path),
        recursive,
        attrs: AttrSet::default_set(),
        growing: false,
        severity: Severity::High,
        exclude: compile_globs(
            &exclude.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            "x",
        )
        .unwrap(),
    }
}

#[test]
fn the_longest_covering_rule_wins_and_exclusions_apply() {
    let p = CompiledPolicy {
        rules: vec![
            rule("/var", true, &[]),
            rule("/var/log", true, &["/var/log/**/*.gz"]),
            rule("/etc", false, &[]),
        ],
        exclude: compile_globs(&["/var/tmp".to_owned()], "exclude").unwrap(),
    };
    assert_eq!(p.rule_for(Path::new("/var/lib/x")), Some(0));
    assert_eq!(p.rule_for(Path::new("/var/log/syslog")), Some(1));
    assert_eq!(p.rule_for(Path::new("/var/log/old/syslog.1.gz")), None);
    assert_eq!(p.rule_for(Path::new("/var/tmp/a")), None);
    assert_eq!(p.rule_for(Path::new("/var/tmp/a/b")), None);
    assert_eq!(p.rule_for_entry(Path::new("/var/tmp/a")), Some(0));
    assert_eq!(p.rule_for(Path::new("/etc")), Some(2));
    assert_eq!(p.rule_for(Path::new("/etc/passwd")), Some(2));
    assert_eq!(p.rule_for(Path::new("/etc/ssh/sshd_config")), None);
    assert_eq!(p.rule_for(Path::new("/usr/bin/ls")), None);
    assert!(p.descend_into(Path::new("/")));
    assert!(p.descend_into(Path::new("/etc")));
    assert!(!p.descend_into(Path::new("/etc/ssh")));
    assert!(!p.descend_into(Path::new("/usr")));
    assert!(!p.descend_into(Path::new("/var/tmp")));
}

#[test]
fn paths_are_normalised_lexically_and_must_be_absolute() {
    assert_eq!(
        normalise(Path::new("/usr//bin/./../sbin/"), "f").unwrap(),
        PathBuf::from("/usr/sbin")
    );
    assert_eq!(
        normalise(Path::new("/.."), "f").unwrap(),
        PathBuf::from("/")
    );
    let e = normalise(Path::new("etc"), "integrity.rules[0].path").unwrap_err();
    assert!(e.to_string().contains("integrity.rules[0].path"), "{e}");
    let e = compile_globs(&["a[".to_owned()], "integrity.exclude").unwrap_err();
    assert!(e.to_string().contains("integrity.exclude[0]"), "{e}");
}
