//! Tests of the sshd_config parser, on real text.
use super::*;
use crate::root::TextFile;

fn parse(text: &str) -> (SshdFile, Vec<Diagnostic>) {
    let t = TextFile::from_bytes(SSHD_CONFIG, text.as_bytes(), false);
    let mut w = Vec::new();
    let f = parse_file(&t, &mut |d| w.push(d));
    (f, w)
}

#[test]
fn splits_keywords_equals_quotes_and_comments() {
    let (f, w) = parse(
        "# c\n  PermitRootLogin no\nMaxAuthTries=3\nLogLevel = VERBOSE # trailing\nBanner \"/etc/my banner\"\nAllowUsers a\\ b 'c d' e#f\n",
    );
    assert!(w.is_empty(), "{w:?}");
    let kv: Vec<_> = f
        .directives
        .iter()
        .map(|s| (s.keyword.as_str(), s.args.clone(), s.line))
        .collect();
    assert_eq!(
        kv,
        vec![
            ("permitrootlogin", vec!["no".to_owned()], 2),
            ("maxauthtries", vec!["3".to_owned()], 3),
            ("loglevel", vec!["VERBOSE".to_owned()], 4),
            ("banner", vec!["/etc/my banner".to_owned()], 5),
            (
                "allowusers",
                vec!["a b".to_owned(), "c d".to_owned(), "e#f".to_owned()],
                6
            ),
        ]
    );
}

#[test]
fn malformed_lines_are_diagnostics() {
    let (f, w) = parse("PermitRootLogin\nBanner \"x\nPermitRootLogon no\n=x\nUseLogin no\n");
    assert_eq!(w.len(), 5, "{w:?}");
    assert_eq!(f.directives.len(), 2);
    assert_eq!(w.first().and_then(|d| d.line), Some(1));
}

#[test]
fn first_value_wins_and_match_blocks_collect() {
    let t = TextFile::from_bytes(
        SSHD_CONFIG,
        b"PermitRootLogin no\npermitrootlogin yes\nAllowUsers a\nAllowUsers b\nMatch Address 10.0.0.0/8\n  PasswordAuthentication yes\nMatch all\nX11Forwarding yes\n",
        false,
    );
    let mut w = Vec::new();
    let c = SshdConfig::from_text(&t, &mut |d| w.push(d));
    assert!(w.is_empty(), "{w:?}");
    assert!(c.present());
    assert_eq!(c.get("PermitRootLogin").map(|s| s.line), Some(1));
    assert_eq!(c.get_all("allowusers").count(), 2);
    assert!(c.get("PasswordAuthentication").is_none());
    assert_eq!(
        c.get("x11forwarding").map(|s| s.value.as_str()),
        Some("yes")
    );
    let b = c.match_blocks();
    assert_eq!(b.len(), 2);
    assert_eq!(b[0].criteria_text(), "Address 10.0.0.0/8");
    assert_eq!(b[0].get("passwordauthentication").map(|s| s.line), Some(6));
    assert!(b[1].is_all());
}

/// An in-memory root: device path -> text.
fn load(files: &[(&str, &str)], limits: IncludeLimits) -> (SshdConfig, Vec<Diagnostic>) {
    let map: std::collections::BTreeMap<String, String> = files
        .iter()
        .map(|(p, t)| ((*p).to_owned(), (*t).to_owned()))
        .collect();
    let mut read = |p: &str| {
        map.get(p)
            .map(|t| TextFile::from_bytes(p, t.as_bytes(), false))
    };
    let mut list = |dir: &str| -> Option<Vec<String>> {
        let prefix = if dir.ends_with('/') {
            dir.to_owned()
        } else {
            format!("{dir}/")
        };
        let mut names: Vec<String> = map
            .keys()
            .filter_map(|k| k.strip_prefix(&prefix))
            .map(|rest| rest.split('/').next().unwrap_or(rest).to_owned())
            .collect();
        names.dedup();
        (!names.is_empty()).then_some(names)
    };
    let mut w = Vec::new();
    let c = SshdConfig::load_with(SSHD_CONFIG, &mut read, &mut list, limits, &mut |d| {
        w.push(d)
    });
    (c, w)
}

const LIMITS: IncludeLimits = IncludeLimits {
    max_depth: 8,
    max_per_directive: 256,
    max_files: MAX_FILES_PROCESSED,
};

#[test]
fn absent_main_file_is_not_present() {
    let (c, w) = load(&[], LIMITS);
    assert!(!c.present());
    assert_eq!(c.path(), SSHD_CONFIG);
    assert!(c.get("permitrootlogin").is_none());
    assert!(w.is_empty());
}

#[test]
fn includes_expand_in_place_sorted_and_relative_to_etc_ssh() {
    let (c, w) = load(
        &[
            (
                SSHD_CONFIG,
                "Include sshd_config.d/*.conf\nPermitRootLogin no\nPasswordAuthentication no\n",
            ),
            (
                "/etc/ssh/sshd_config.d/20-b.conf",
                "PasswordAuthentication yes\n",
            ),
            (
                "/etc/ssh/sshd_config.d/10-a.conf",
                "PermitRootLogin yes\nMaxAuthTries 9\n",
            ),
            ("/etc/ssh/sshd_config.d/.hidden.conf", "X11Forwarding yes\n"),
            ("/etc/ssh/sshd_config.d/30-c.disabled", "LogLevel QUIET\n"),
        ],
        LIMITS,
    );
    assert!(w.is_empty(), "{w:?}");
    // Drop-ins come first: their values win (Debian's layout).
    let root = c.get("PermitRootLogin").unwrap();
    assert_eq!(
        (root.value.as_str(), root.file.as_str(), root.line),
        ("yes", "/etc/ssh/sshd_config.d/10-a.conf", 1)
    );
    assert_eq!(
        c.get("passwordauthentication").unwrap().file,
        "/etc/ssh/sshd_config.d/20-b.conf"
    );
    assert!(c.get("x11forwarding").is_none(), "glob(3) skips dot files");
    assert!(c.get("loglevel").is_none());
    assert_eq!(
        c.files(),
        [
            SSHD_CONFIG,
            "/etc/ssh/sshd_config.d/10-a.conf",
            "/etc/ssh/sshd_config.d/20-b.conf"
        ]
    );
}

#[test]
fn a_pattern_matching_nothing_is_fine_and_several_patterns_are_followed() {
    let (c, w) = load(
        &[
            (
                SSHD_CONFIG,
                "Include /etc/ssh/none.d/*.conf /etc/ssh/extra.conf\n",
            ),
            ("/etc/ssh/extra.conf", "LogLevel VERBOSE\n"),
        ],
        LIMITS,
    );
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(c.get("loglevel").unwrap().value, "VERBOSE");
}

#[test]
fn include_cycles_and_depth_are_bounded() {
    let (c, w) = load(
        &[
            (SSHD_CONFIG, "Include a.conf\nLogLevel INFO\n"),
            ("/etc/ssh/a.conf", "Include b.conf\nMaxAuthTries 3\n"),
            (
                "/etc/ssh/b.conf",
                "Include /etc/ssh/a.conf\nInclude sshd_config\n",
            ),
        ],
        LIMITS,
    );
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w.iter().all(|d| d.message.contains("cycle")), "{w:?}");
    assert_eq!(
        w.first().map(|d| (d.file.as_str(), d.line)),
        Some(("/etc/ssh/b.conf", Some(1)))
    );
    assert_eq!(c.get("maxauthtries").unwrap().value, "3");
    assert_eq!(c.get("loglevel").unwrap().value, "INFO");

    // A chain deeper than the limit stops there.
    let mut files = vec![(SSHD_CONFIG.to_owned(), "Include d1.conf\n".to_owned())];
    for i in 1..=5 {
        files.push((
            format!("/etc/ssh/d{i}.conf"),
            format!("Include d{}.conf\nPort {i}\n", i + 1),
        ));
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let (c, w) = load(
        &refs,
        IncludeLimits {
            max_depth: 3,
            ..LIMITS
        },
    );
    assert_eq!(c.get_all("port").count(), 3, "{:?}", c.files());
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w.iter().all(|d| d.message.contains("max_include_depth")));
}

#[test]
fn dot_components_are_normalised_so_cycles_are_seen() {
    let (c, w) = load(
        &[
            (
                SSHD_CONFIG,
                "Include ./sshd_config.d/../extra.conf ../ssh/./sshd_config\n",
            ),
            ("/etc/ssh/extra.conf", "LogLevel VERBOSE\n"),
        ],
        LIMITS,
    );
    assert_eq!(c.get("loglevel").unwrap().file, "/etc/ssh/extra.conf");
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].message.contains("cycle"), "{w:?}");
}

#[test]
fn globs_reaching_too_many_paths_are_not_followed() {
    let mut files = vec![(
        SSHD_CONFIG.to_owned(),
        "Include /etc/ssh/d/*/x\n".to_owned(),
    )];
    for i in 0..=MAX_GLOB_CANDIDATES {
        files.push((format!("/etc/ssh/d/{i}/x"), "Port 1\n".to_owned()));
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let (c, w) = load(&refs, LIMITS);
    assert_eq!(c.files().len(), 1);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].message.contains("paths"), "{w:?}");
}

#[test]
fn files_per_directive_and_in_total_are_bounded() {
    let mut files = vec![(SSHD_CONFIG.to_owned(), "Include d/*\n".to_owned())];
    for i in 0..5 {
        files.push((format!("/etc/ssh/d/{i}"), format!("Port {i}\n")));
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let (c, w) = load(
        &refs,
        IncludeLimits {
            max_per_directive: 2,
            ..LIMITS
        },
    );
    assert_eq!(
        c.get_all("port")
            .map(|s| s.value.as_str())
            .collect::<Vec<_>>(),
        ["0", "1"]
    );
    assert_eq!(w.len(), 1, "{w:?}");

    // Not a cycle, but exponential: every file includes the next one twice.
    let mut files = vec![(SSHD_CONFIG.to_owned(), "Include x0 x0\n".to_owned())];
    for i in 0..30 {
        files.push((
            format!("/etc/ssh/x{i}"),
            format!("Include x{0} x{0}\n", i + 1),
        ));
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let (c, w) = load(
        &refs,
        IncludeLimits {
            max_depth: 64,
            max_per_directive: 256,
            max_files: 50,
        },
    );
    assert!(c.files().len() <= 50);
    assert!(!w.is_empty());
}

#[test]
fn match_blocks_end_at_the_end_of_their_file_and_includes_inside_apply_within() {
    let (c, w) = load(
        &[
            (
                SSHD_CONFIG,
                "Include early.conf\nPermitRootLogin no\nMatch User alice\n  Include alice.conf\n  X11Forwarding yes\nMatch all\nLogLevel VERBOSE\n",
            ),
            (
                "/etc/ssh/early.conf",
                "Match Address 10.0.0.0/8\nPasswordAuthentication yes\n",
            ),
            (
                "/etc/ssh/alice.conf",
                "AllowTcpForwarding yes\nMatch Address 192.0.2.1\nPermitTunnel yes\n",
            ),
        ],
        LIMITS,
    );
    assert!(w.is_empty(), "{w:?}");
    // The Match in early.conf ended with that file: PermitRootLogin is global.
    assert_eq!(c.get("permitrootlogin").unwrap().line, 2);
    assert!(c.get("passwordauthentication").is_none());
    let b = c.match_blocks();
    assert_eq!(b.len(), 4);
    assert_eq!(b[0].criteria_text(), "Address 10.0.0.0/8");
    assert_eq!(
        b[0].get("PasswordAuthentication").unwrap().file,
        "/etc/ssh/early.conf"
    );
    // alice.conf's lines belong to the enclosing block, and after the
    // included file ends, the enclosing block resumes.
    assert_eq!(b[1].criteria_text(), "User alice");
    assert_eq!(
        b[1].get("allowtcpforwarding").unwrap().file,
        "/etc/ssh/alice.conf"
    );
    assert_eq!(b[1].get("x11forwarding").unwrap().line, 5);
    assert!(b[1].get("permittunnel").is_none());
    assert_eq!(b[2].criteria_text(), "Address 192.0.2.1");
    assert_eq!(b[2].outer, ["User alice (/etc/ssh/sshd_config:3)"]);
    assert!(b[2].describe().contains("within Match User alice"));
    assert!(b[3].is_all());
    assert_eq!(c.get("loglevel").unwrap().value, "VERBOSE");
}

#[test]
fn match_all_overrides_global_values_of_match_keywords() {
    let t = TextFile::from_bytes(
        SSHD_CONFIG,
        b"PasswordAuthentication no\nCiphers aes256-ctr\nMatch all\nPasswordAuthentication yes\nCiphers 3des-cbc\n",
        false,
    );
    let mut w = Vec::new();
    let c = SshdConfig::from_text(&t, &mut |d| w.push(d));
    // Each connection re-reads Match all and takes its value...
    assert_eq!(c.get("passwordauthentication").unwrap().line, 4);
    // ...but Ciphers is start-up only: first value wins (and sshd
    // refuses Ciphers inside Match, which is reported).
    assert_eq!(c.get("ciphers").unwrap().line, 2);
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].line, Some(5));
}

#[test]
fn lists_set_in_match_all_replace_the_global_lists() {
    let t = TextFile::from_bytes(
        SSHD_CONFIG,
        b"AllowUsers tech\nAllowUsers vendor\nPort 22\nMatch all\nAllowUsers *\n",
        false,
    );
    let c = SshdConfig::from_text(&t, &mut |_| {});
    let users: Vec<&str> = c.get_all("AllowUsers").map(|s| s.value.as_str()).collect();
    assert_eq!(users, ["*"]);
    assert_eq!(c.get_all("port").count(), 1);
    let t = TextFile::from_bytes(SSHD_CONFIG, b"AllowUsers tech\nAllowUsers vendor\n", false);
    let c = SshdConfig::from_text(&t, &mut |_| {});
    assert_eq!(c.get_all("allowusers").count(), 2);
}

#[test]
fn match_all_inside_a_conditional_block_is_conditional() {
    let (c, _) = load(
        &[
            (SSHD_CONFIG, "Match User bob\nInclude inner.conf\n"),
            ("/etc/ssh/inner.conf", "Match all\nPermitRootLogin yes\n"),
        ],
        LIMITS,
    );
    assert!(c.get("permitrootlogin").is_none());
    assert!(!c.match_blocks()[1].always);
}

#[test]
fn aliases_map_to_the_current_keyword() {
    let (f, w) = parse("ChallengeResponseAuthentication no\nPubkeyAcceptedKeyTypes +ssh-rsa\n");
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(f.directives[0].keyword, "kbdinteractiveauthentication");
    assert_eq!(f.directives[1].keyword, "pubkeyacceptedalgorithms");
}

#[test]
fn bad_match_criteria_are_reported() {
    for bad in ["Match all User x", "Match User", "Match Colour blue"] {
        let t = TextFile::from_bytes(
            SSHD_CONFIG,
            format!("{bad}\nX11Forwarding yes\n").as_bytes(),
            false,
        );
        let mut w = Vec::new();
        let c = SshdConfig::from_text(&t, &mut |d| w.push(d));
        assert_eq!(w.len(), 1, "{bad}: {w:?}");
        // The block is still recorded, so its settings are judged.
        assert_eq!(c.match_blocks().len(), 1);
    }
    let t = TextFile::from_bytes(
        SSHD_CONFIG,
        b"Match User a Address 10.0.0.1 LocalPort 22\nMatch invalid-user\n",
        false,
    );
    let mut w = Vec::new();
    let _ = SshdConfig::from_text(&t, &mut |d| w.push(d));
    assert!(w.is_empty(), "{w:?}");
}

#[test]
fn protocol_is_silently_ignored_but_other_old_keywords_are_reported() {
    let (_, w) = parse("Protocol 2\nUsePrivilegeSeparation sandbox\n");
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].line, Some(2));
}

#[test]
fn wildcards_match_like_openssh() {
    assert!(wildcard_match("hmac-sha1*", "hmac-sha1-etm@openssh.com"));
    assert!(wildcard_match("*-cbc", "aes128-cbc"));
    assert!(wildcard_match("a?c", "abc"));
    assert!(wildcard_match("*", ""));
    assert!(!wildcard_match("a?c", "ac"));
    assert!(!wildcard_match("*sha1", "hmac-sha1-96"));
    assert!(wildcard_match(
        "*a*a*a*a*a*b",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaab"
    ));
    assert!(!wildcard_match(
        "*a*a*a*a*a*b",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    ));
}

#[test]
fn algorithm_lists_follow_kex_assemble_names() {
    use AlgorithmKind::*;
    let d = effective_algorithms(Ciphers, None);
    assert_eq!(d.len(), 6);
    assert_eq!(
        effective_algorithms(Ciphers, Some("aes256-ctr,aes256-ctr")),
        ["aes256-ctr"]
    );
    let plus = effective_algorithms(Ciphers, Some("+3des-cbc"));
    assert_eq!(plus.len(), 7);
    assert_eq!(plus.last().map(String::as_str), Some("3des-cbc"));
    let caret = effective_algorithms(Ciphers, Some("^aes128-cbc"));
    assert_eq!(caret.first().map(String::as_str), Some("aes128-cbc"));
    let minus = effective_algorithms(Macs, Some("-*sha1*,umac-64*"));
    assert_eq!(
        minus,
        [
            "umac-128-etm@openssh.com",
            "hmac-sha2-256-etm@openssh.com",
            "hmac-sha2-512-etm@openssh.com",
            "umac-128@openssh.com",
            "hmac-sha2-256",
            "hmac-sha2-512"
        ]
    );
    let wild = effective_algorithms(Kex, Some("diffie-hellman-group1*"));
    assert_eq!(
        wild,
        [
            "diffie-hellman-group1-sha1",
            "diffie-hellman-group14-sha1",
            "diffie-hellman-group14-sha256",
            "diffie-hellman-group16-sha512",
            "diffie-hellman-group18-sha512"
        ]
    );
    assert_eq!(effective_algorithms(Kex, Some("made-up")), ["made-up"]);
}

#[test]
fn defaults_are_known_for_the_judged_keywords() {
    assert_eq!(default_of("PermitRootLogin"), Some("prohibit-password"));
    assert_eq!(default_of("MaxAuthTries"), Some("6"));
    assert_eq!(default_of("ChallengeResponseAuthentication"), Some("yes"));
    assert_eq!(default_of("Banner"), None);
}

#[test]
fn random_lines_never_panic() {
    // A fixed linear congruential generator: deterministic, no dependency.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        usize::try_from(x >> 33).unwrap_or(0)
    };
    let words = [
        "Match",
        "all",
        "User",
        "Include",
        "*",
        "?",
        "[",
        "]",
        "\"",
        "'",
        "\\",
        "=",
        "#",
        " ",
        "\t",
        "\n",
        "PermitRootLogin",
        "Ciphers",
        "+",
        "-",
        "^",
        ",",
        "aes*",
        "..",
        "/",
        "\u{e9}",
        "\r",
    ];
    for _ in 0..2000 {
        let mut text = String::new();
        for _ in 0..(next() % 40) {
            text.push_str(words[next() % words.len()]);
        }
        let t = TextFile::from_bytes(SSHD_CONFIG, text.as_bytes(), false);
        let c = SshdConfig::from_text(&t, &mut |_| {});
        for s in c.settings() {
            let _ = effective_algorithms(AlgorithmKind::Macs, Some(&s.value));
            let _ = wildcard_match(&s.value, &text);
        }
    }
}

#[test]
fn hostile_input_does_not_panic() {
    let mut junk = Vec::new();
    for b in 0u8..=255 {
        junk.extend_from_slice(&[b, b'"', b'\\', b'=', b' ', b'\'', b'#', b'\t', b'\n']);
    }
    junk.extend_from_slice("Match\nMatch all all\nInclude\nInclude [\n\u{feff}Port 1\n".as_bytes());
    let t = TextFile::from_bytes(SSHD_CONFIG, &junk, false);
    let mut n = 0;
    let _ = parse_file(&t, &mut |_| n += 1);
    let _ = SshdConfig::from_text(&t, &mut |_| n += 1);
    assert!(n > 0);
}
