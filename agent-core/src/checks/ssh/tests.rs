//! Tests of SSH-01 and ACC-15 on real roots.

use super::mfa::sshd_single_factor;
use super::*;
use crate::report::{CheckStatus, Report};
use crate::testing::{TestRoot, finding_at, located, observed, reason};

fn ssh01(files: &[(&str, &str)]) -> Report {
    TestRoot::new(files).audit("SSH-01", ssh01_sshd)
}

fn acc15(files: &[(&str, &str)]) -> Report {
    TestRoot::new(files).audit("ACC-15", acc15_mfa)
}

/// `(location, severity)` of every finding, sorted.
fn locs(r: &Report) -> Vec<(String, Severity)> {
    let mut v = located(r);
    v.sort();
    v
}

const STRONG: &str = "PermitRootLogin no
MaxAuthTries 3
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowUsers tech
DisableForwarding yes
PermitTunnel no
LogLevel VERBOSE
Ciphers chacha20-poly1305@openssh.com,aes256-gcm@openssh.com
MACs hmac-sha2-512-etm@openssh.com
KexAlgorithms sntrup761x25519-sha512@openssh.com,curve25519-sha256
";

#[test]
fn not_applicable_without_sshd_config() {
    let r = ssh01(&[("/etc/passwd", "root:x:0:0::/root:/bin/sh\n")]);
    assert_eq!(r.checks[0].status, CheckStatus::NotApplicable);
    assert!(reason(&r).contains("/etc/ssh/sshd_config"));
}

#[test]
fn a_strong_configuration_passes() {
    let r = ssh01(&[(SSHD_CONFIG, STRONG)]);
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
    assert!(r.warnings.is_empty(), "{:#?}", r.warnings);
}

#[test]
fn an_empty_file_is_judged_by_openssh_defaults() {
    let r = ssh01(&[(SSHD_CONFIG, "# nothing set\n")]);
    let titles: Vec<&str> = r.findings.iter().map(|f| f.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "sshd: root may log in over SSH",
            "sshd: too many authentication attempts per connection",
            "sshd: passwords are accepted over SSH",
            "sshd: TCP forwarding is allowed",
            "sshd: ssh-agent forwarding is allowed",
            "sshd: every account may log in over SSH",
            "sshd: MACs offers algorithms outside the strong list",
            "sshd: KexAlgorithms offers algorithms outside the strong list",
        ]
    );
    for f in &r.findings {
        assert_eq!(f.location(), SSHD_CONFIG);
        assert!(observed(f).contains("not set"), "{f:?}");
    }
    let root = &r.findings[0];
    assert_eq!(root.severity, Severity::Medium);
    assert!(observed(root).contains("OpenSSH default prohibit-password"));
    assert_eq!(root.references.ssg, ["sshd_disable_root_login"]);
    assert!(observed(&r.findings[7]).contains("diffie-hellman-group14-sha256"));
}

#[test]
fn first_value_wins_across_includes_and_findings_point_at_it() {
    let r = ssh01(&[
        (
            SSHD_CONFIG,
            &format!("Include /etc/ssh/sshd_config.d/*.conf\n{STRONG}"),
        ),
        (
            "/etc/ssh/sshd_config.d/50-vendor.conf",
            "\n\npermitrootlogin YES\nCiphers +aes128-cbc\n",
        ),
    ]);
    assert_eq!(
        locs(&r),
        [
            (
                "/etc/ssh/sshd_config.d/50-vendor.conf:3".to_owned(),
                Severity::High
            ),
            (
                "/etc/ssh/sshd_config.d/50-vendor.conf:4".to_owned(),
                Severity::Medium
            ),
        ]
    );
    assert!(observed(&r.findings[1]).ends_with("offers aes128-cbc"));
}

#[test]
fn match_blocks_that_weaken_are_findings_at_their_line() {
    let r = ssh01(&[(
        SSHD_CONFIG,
        &format!(
            "{STRONG}Match Address 10.0.0.0/8\n  PasswordAuthentication yes\n  PermitRootLogin no\nMatch User svc\n  DisableForwarding no\n"
        ),
    )]);
    let l = locs(&r);
    assert_eq!(
        l,
        [
            ("/etc/ssh/sshd_config:13".to_owned(), Severity::Medium),
            // DisableForwarding no exposes the defaults (TCP and agent forwarding yes).
            ("/etc/ssh/sshd_config:16".to_owned(), Severity::Low),
            ("/etc/ssh/sshd_config:16".to_owned(), Severity::Medium),
        ]
    );
    let f = r
        .findings
        .iter()
        .find(|f| f.location().ends_with(":13"))
        .unwrap();
    assert!(f.title.contains("Match Address 10.0.0.0/8"), "{}", f.title);
    assert!(observed(f).contains("(/etc/ssh/sshd_config:12)"));
    let lifted = r
        .findings
        .iter()
        .find(|f| f.location().ends_with(":16"))
        .unwrap();
    assert!(
        observed(lifted)
            .starts_with("DisableForwarding no in Match User svc (/etc/ssh/sshd_config:15) lifts"),
        "{lifted:?}"
    );
    assert!(r.warnings.is_empty(), "{:#?}", r.warnings);
}

#[test]
fn match_all_weakens_every_connection() {
    let r = ssh01(&[(
        SSHD_CONFIG,
        &format!("{STRONG}Match all\nX11Forwarding yes\nDisableForwarding no\n"),
    )]);
    let l: Vec<String> = locs(&r).into_iter().map(|(l, _)| l).collect();
    // X11 at its line; TCP and agent forwarding by default once DisableForwarding is lifted.
    assert_eq!(
        l,
        [
            "/etc/ssh/sshd_config",
            "/etc/ssh/sshd_config",
            "/etc/ssh/sshd_config:13"
        ]
    );
}

#[test]
fn keyboard_interactive_through_pam_is_password_authentication() {
    let base = STRONG.replace("KbdInteractiveAuthentication no\n", "UsePAM yes\n");
    let r = ssh01(&[(SSHD_CONFIG, &base)]);
    assert_eq!(locs(&r), [(SSHD_CONFIG.to_owned(), Severity::Medium)]);
    assert!(r.findings[0].title.contains("keyboard-interactive"));
    let r = ssh01(&[(
        SSHD_CONFIG,
        &format!("{base}AuthenticationMethods publickey,keyboard-interactive:pam\n"),
    )]);
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
    let r = ssh01(&[(
        SSHD_CONFIG,
        &format!("{base}AuthenticationMethods publickey keyboard-interactive\n"),
    )]);
    assert_eq!(r.findings.len(), 1);
    let mut t = TestRoot::new(&[(SSHD_CONFIG, &base)]);
    t.cfg.ssh.allow_password_authentication = true;
    let r = t.audit("SSH-01", ssh01_sshd);
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
}

#[test]
fn policy_values_come_from_the_configuration() {
    let text = STRONG
        .replace("MaxAuthTries 3", "MaxAuthTries 6")
        .replace("PasswordAuthentication no", "PasswordAuthentication yes");
    let r = ssh01(&[(SSHD_CONFIG, &text)]);
    assert_eq!(r.findings.len(), 2);
    let mut t = TestRoot::new(&[(SSHD_CONFIG, &text)]);
    t.cfg.ssh.max_auth_tries = 6;
    t.cfg.ssh.allow_password_authentication = true;
    let r = t.audit("SSH-01", ssh01_sshd);
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
}

#[test]
fn invalid_values_are_warnings_not_findings() {
    let text = STRONG
        .replace("PermitRootLogin no", "PermitRootLogin maybe")
        .replace("MaxAuthTries 3", "MaxAuthTries 3 4");
    let r = ssh01(&[(SSHD_CONFIG, &text)]);
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
    let lines: Vec<Option<u32>> = r.warnings.iter().map(|w| w.line).collect();
    assert_eq!(lines, [Some(1), Some(2)], "{:#?}", r.warnings);
}

#[test]
fn allow_lists_limit_access_unless_they_admit_everyone() {
    let text = STRONG.replace("AllowUsers tech\n", "AllowUsers *\nAllowGroups sshusers\n");
    assert!(ssh01(&[(SSHD_CONFIG, &text)]).findings.is_empty());
    let text = STRONG.replace("AllowUsers tech\n", "AllowUsers alice *@*\n");
    assert_eq!(
        locs(&ssh01(&[(SSHD_CONFIG, &text)])),
        [("/etc/ssh/sshd_config:5".to_owned(), Severity::Medium)]
    );
    let text = STRONG.replace("AllowUsers tech\n", "DenyUsers root\n");
    assert!(ssh01(&[(SSHD_CONFIG, &text)]).findings.is_empty());
}

#[test]
fn minus_lists_only_remove() {
    let text = STRONG.replace(
        "MACs hmac-sha2-512-etm@openssh.com",
        "MACs -umac-64*,hmac-sha1*,umac-128@openssh.com",
    );
    assert!(ssh01(&[(SSHD_CONFIG, &text)]).findings.is_empty());
    let text = STRONG.replace("MACs hmac-sha2-512-etm@openssh.com", "MACs ^hmac-sha2-512");
    assert_eq!(ssh01(&[(SSHD_CONFIG, &text)]).findings.len(), 1);
}

const COMMON_AUTH: &str = "auth [success=1 default=ignore] pam_unix.so nullok
auth requisite pam_deny.so
auth required pam_permit.so
";

#[test]
fn acc15_not_applicable_without_pam_or_sshd() {
    let r = acc15(&[("/etc/passwd", "root:x:0:0::/root:/bin/sh\n")]);
    assert_eq!(r.checks[0].status, CheckStatus::NotApplicable);
    let r = acc15(&[("/etc/pam.d/other", "auth required pam_deny.so\n")]);
    assert_eq!(r.checks[0].status, CheckStatus::NotApplicable);
    assert!(reason(&r).contains("no interactive login"));
}

#[test]
fn acc15_passes_with_key_plus_code_and_a_required_token() {
    let r = acc15(&[
        (
            SSHD_CONFIG,
            "UsePAM yes\nAuthenticationMethods publickey,keyboard-interactive\n",
        ),
        ("/etc/pam.d/common-auth", COMMON_AUTH),
        (
            "/etc/pam.d/login",
            "@include common-auth\nauth required pam_u2f.so cue\n",
        ),
        (
            "/etc/pam.d/gdm-password",
            "auth [success=ok default=die] pam_pkcs11.so\n@include common-auth\n",
        ),
    ]);
    assert_eq!(r.checks[0].status, CheckStatus::Pass, "{:#?}", r.findings);
    assert!(r.warnings.is_empty(), "{:#?}", r.warnings);
}

#[test]
fn acc15_reports_each_single_factor_path() {
    let r = acc15(&[
        (
            SSHD_CONFIG,
            "PubkeyAuthentication yes\nMatch Group vendor\n AuthenticationMethods publickey,password publickey\n",
        ),
        ("/etc/pam.d/common-auth", COMMON_AUTH),
        ("/etc/pam.d/login", "@include common-auth\n"),
        (
            "/etc/pam.d/lightdm",
            "auth sufficient pam_unix.so\nauth required pam_u2f.so\n",
        ),
        (
            "/etc/pam.d/gdm-password",
            "-auth required pam_u2f.so\n@include common-auth\n",
        ),
        (
            "/etc/pam.d/gdm-smartcard",
            "auth [success=2 default=ignore] pam_unix.so\nauth required pam_pkcs11.so\nauth requisite pam_deny.so\nauth required pam_permit.so\n",
        ),
    ]);
    assert_eq!(
        locs(&r),
        [
            ("/etc/pam.d/gdm-password:1".to_owned(), Severity::Low),
            ("/etc/pam.d/gdm-smartcard:2".to_owned(), Severity::Low),
            ("/etc/pam.d/lightdm:2".to_owned(), Severity::Low),
            ("/etc/pam.d/login".to_owned(), Severity::Low),
            ("/etc/ssh/sshd_config".to_owned(), Severity::Low),
            ("/etc/ssh/sshd_config:3".to_owned(), Severity::Low),
        ]
    );
    let lightdm = finding_at(&r, "/etc/pam.d/lightdm:2");
    assert!(observed(lightdm).contains("/etc/pam.d/lightdm:1"));
}

#[test]
fn acc15_keyboard_interactive_alone_counts_when_pam_requires_a_code() {
    let sshd = "UsePAM yes\nAuthenticationMethods keyboard-interactive\n";
    let r = acc15(&[
        (SSHD_CONFIG, sshd),
        (
            "/etc/pam.d/sshd",
            "auth required pam_unix.so\nauth required pam_oath.so usersfile=/etc/users.oath\n",
        ),
    ]);
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
    let r = acc15(&[
        (SSHD_CONFIG, sshd),
        ("/etc/pam.d/sshd", "auth required pam_unix.so\n"),
    ]);
    assert_eq!(
        locs(&r),
        [("/etc/ssh/sshd_config:2".to_owned(), Severity::Low)]
    );
}

#[test]
fn method_lists_split_like_sshd() {
    assert_eq!(
        auth_method_lists("publickey,keyboard-interactive:pam  password"),
        [
            vec!["publickey".to_owned(), "keyboard-interactive".to_owned()],
            vec!["password".to_owned()]
        ]
    );
    assert!(sshd_single_factor("publickey,publickey", false).is_none());
    assert!(sshd_single_factor("any", true).is_some());
}
