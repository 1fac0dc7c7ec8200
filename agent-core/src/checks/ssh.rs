//! SSH-01 (the effective sshd settings) and ACC-15 (a multi-factor or
//! device-bound login path).
//!
//! Both judge the configuration the way sshd applies it (see
//! [`crate::parse::sshd`]): a keyword nobody sets is judged by OpenSSH 9.x's
//! built-in default, and the finding then points at `/etc/ssh/sshd_config`,
//! saying so. A `Match` block that weakens a setting for some connections is a
//! finding of its own, at the block's line for that keyword.

use crate::audit::{AuditContext, CheckOutcome};
use crate::config::Config;
use crate::finding::{Diagnostic, Finding, Severity};
use crate::parse::sshd::{
    self, AlgorithmKind, MatchBlock, SSHD_CONFIG, SshdConfig, SshdSetting, effective_algorithms,
};

mod mfa;

pub use mfa::{LOCAL_LOGIN_SERVICES, SECOND_FACTOR_MODULES, acc15_mfa};

const SSH01: &str = "SSH-01";

/// What one value means for one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    Fine,
    Weak(Severity, String),
    /// sshd would refuse the value (and so refuse to start).
    Invalid(String),
}

/// What a judge knows besides the value.
struct Env<'a> {
    config: &'a Config,
    /// `DisableForwarding yes` is in force (it overrides every forwarding keyword).
    disable_forwarding: bool,
}

/// One single-valued keyword of SSH-01.
struct Rule {
    /// Canonical lower-case keyword.
    keyword: &'static str,
    /// As sshd_config(5) spells it.
    name: &'static str,
    /// What is wrong, for the title (`root may log in over SSH`).
    problem: &'static str,
    /// The SSG rule(s) this answers (empty when SSG has no rule for it).
    ssg: &'static [&'static str],
    /// True when `DisableForwarding yes` makes the keyword irrelevant.
    forwarding: bool,
    expected: fn(&Config) -> String,
    judge: fn(&str, &Env<'_>) -> Verdict,
    remediation: &'static str,
}

const RULES: &[Rule] = &[
    Rule {
        keyword: "permitrootlogin",
        name: "PermitRootLogin",
        problem: "root may log in over SSH",
        ssg: &["sshd_disable_root_login"],
        forwarding: false,
        expected: |_| "no".to_owned(),
        judge: |v, _| {
            match v {
            "no" => Verdict::Fine,
            "forced-commands-only" => Verdict::Weak(
                Severity::Low,
                "root may log in with a key restricted to a forced command".to_owned(),
            ),
            "prohibit-password" | "without-password" => Verdict::Weak(
                Severity::Medium,
                "root may log in with a public key or another non-password method, so actions are not traceable to a person".to_owned(),
            ),
            "yes" => Verdict::Weak(
                Severity::High,
                "root may log in with any method, a password included".to_owned(),
            ),
            _ => Verdict::Invalid(
                "PermitRootLogin takes yes, prohibit-password, forced-commands-only or no".to_owned(),
            ),
        }
        },
        remediation: "Set `PermitRootLogin no`; service engineers log in with their own account and use sudo.",
    },
    Rule {
        keyword: "permitemptypasswords",
        name: "PermitEmptyPasswords",
        problem: "accounts with an empty password may log in over SSH",
        ssg: &["sshd_disable_empty_passwords"],
        forwarding: false,
        expected: |_| "no".to_owned(),
        judge: |v, _| match v {
            "no" => Verdict::Fine,
            "yes" => Verdict::Weak(
                Severity::Critical,
                "an account whose password is empty can log in without any credential".to_owned(),
            ),
            _ => Verdict::Invalid("PermitEmptyPasswords takes yes or no".to_owned()),
        },
        remediation: "Set `PermitEmptyPasswords no`.",
    },
    Rule {
        keyword: "maxauthtries",
        name: "MaxAuthTries",
        problem: "too many authentication attempts per connection",
        ssg: &["sshd_set_max_auth_tries"],
        forwarding: false,
        expected: |c| format!("{} or fewer", c.ssh.max_auth_tries),
        judge: |v, env| match v.parse::<i64>() {
            Ok(n) if n > i64::from(env.config.ssh.max_auth_tries) => Verdict::Weak(
                Severity::Medium,
                format!(
                    "{n} attempts per connection make password guessing cheaper (policy: at most {})",
                    env.config.ssh.max_auth_tries
                ),
            ),
            Ok(_) => Verdict::Fine,
            Err(_) => Verdict::Invalid("MaxAuthTries takes an integer".to_owned()),
        },
        remediation: "Set `MaxAuthTries` to the policy's limit (ssh.max_auth_tries in dha.toml) or lower.",
    },
    Rule {
        keyword: "passwordauthentication",
        name: "PasswordAuthentication",
        problem: "passwords are accepted over SSH",
        ssg: &[],
        forwarding: false,
        expected: |_| "no".to_owned(),
        judge: |v, env| match v {
            "no" => Verdict::Fine,
            "yes" if env.config.ssh.allow_password_authentication => Verdict::Fine,
            "yes" => Verdict::Weak(
                Severity::Medium,
                "a password alone opens a remote session and can be guessed or reused".to_owned(),
            ),
            _ => Verdict::Invalid("PasswordAuthentication takes yes or no".to_owned()),
        },
        remediation: "Set `PasswordAuthentication no` and use keys (with a second factor, see ACC-15), or allow it explicitly with ssh.allow_password_authentication in dha.toml.",
    },
    Rule {
        keyword: "x11forwarding",
        name: "X11Forwarding",
        problem: "X11 forwarding is allowed",
        ssg: &["sshd_disable_x11_forwarding"],
        forwarding: true,
        expected: |_| "no".to_owned(),
        judge: |v, env| match v {
            _ if env.disable_forwarding => Verdict::Fine,
            "no" => Verdict::Fine,
            "yes" => Verdict::Weak(
                Severity::Medium,
                "remote X11 clients reach the console's display server".to_owned(),
            ),
            _ => Verdict::Invalid("X11Forwarding takes yes or no".to_owned()),
        },
        remediation: "Set `X11Forwarding no` (or `DisableForwarding yes`).",
    },
    Rule {
        keyword: "allowtcpforwarding",
        name: "AllowTcpForwarding",
        problem: "TCP forwarding is allowed",
        ssg: &["sshd_disable_tcp_forwarding"],
        forwarding: true,
        expected: |_| "no".to_owned(),
        judge: |v, env| match v {
            _ if env.disable_forwarding => Verdict::Fine,
            "no" => Verdict::Fine,
            "yes" | "all" | "local" | "remote" => Verdict::Weak(
                Severity::Medium,
                "an SSH user can tunnel connections through the device, past network segmentation"
                    .to_owned(),
            ),
            _ => Verdict::Invalid(
                "AllowTcpForwarding takes yes, all, local, remote or no".to_owned(),
            ),
        },
        remediation: "Set `AllowTcpForwarding no` (or `DisableForwarding yes`).",
    },
    Rule {
        keyword: "allowagentforwarding",
        name: "AllowAgentForwarding",
        problem: "ssh-agent forwarding is allowed",
        ssg: &[],
        forwarding: true,
        expected: |_| "no".to_owned(),
        judge: |v, env| match v {
            _ if env.disable_forwarding => Verdict::Fine,
            "no" => Verdict::Fine,
            "yes" => Verdict::Weak(
                Severity::Low,
                "a forwarded agent socket on the device can be used by anyone who gains root there"
                    .to_owned(),
            ),
            _ => Verdict::Invalid("AllowAgentForwarding takes yes or no".to_owned()),
        },
        remediation: "Set `AllowAgentForwarding no` (or `DisableForwarding yes`).",
    },
    Rule {
        keyword: "permittunnel",
        name: "PermitTunnel",
        problem: "tun/tap tunnelling is allowed",
        ssg: &[],
        forwarding: false,
        expected: |_| "no".to_owned(),
        judge: |v, _| match v {
            "no" => Verdict::Fine,
            "yes" | "point-to-point" | "ethernet" => Verdict::Weak(
                Severity::Medium,
                "an SSH user can bridge a network into the device's networks".to_owned(),
            ),
            _ => Verdict::Invalid(
                "PermitTunnel takes yes, point-to-point, ethernet or no".to_owned(),
            ),
        },
        remediation: "Set `PermitTunnel no`.",
    },
    Rule {
        keyword: "hostbasedauthentication",
        name: "HostbasedAuthentication",
        problem: "host-based authentication is accepted",
        ssg: &["disable_host_auth"],
        forwarding: false,
        expected: |_| "no".to_owned(),
        judge: |v, _| {
            match v {
            "no" => Verdict::Fine,
            "yes" => Verdict::Weak(
                Severity::Medium,
                "a login is trusted because it comes from a trusted host, with no credential of the user".to_owned(),
            ),
            _ => Verdict::Invalid("HostbasedAuthentication takes yes or no".to_owned()),
        }
        },
        remediation: "Set `HostbasedAuthentication no`.",
    },
    Rule {
        keyword: "ignorerhosts",
        name: "IgnoreRhosts",
        problem: "users' .rhosts/.shosts files are honoured",
        ssg: &["sshd_disable_rhosts"],
        forwarding: false,
        expected: |_| "yes".to_owned(),
        judge: |v, _| match v {
            "yes" => Verdict::Fine,
            "shosts-only" => Verdict::Weak(
                Severity::Low,
                "users' ~/.shosts files can grant host-based logins".to_owned(),
            ),
            "no" => Verdict::Weak(
                Severity::Medium,
                "users' ~/.rhosts and ~/.shosts files can grant host-based logins".to_owned(),
            ),
            _ => Verdict::Invalid("IgnoreRhosts takes yes, shosts-only or no".to_owned()),
        },
        remediation: "Set `IgnoreRhosts yes` (the default).",
    },
    Rule {
        keyword: "permituserenvironment",
        name: "PermitUserEnvironment",
        problem: "users may set the environment of their SSH sessions",
        ssg: &["sshd_do_not_permit_user_env"],
        forwarding: false,
        expected: |_| "no".to_owned(),
        judge: |v, _| {
            match v {
            "no" => Verdict::Fine,
            "yes" => Verdict::Weak(
                Severity::Medium,
                "~/.ssh/environment can set LD_PRELOAD or PATH and so escape a ForceCommand or other restrictions".to_owned(),
            ),
            // OpenSSH 7.8+: a pattern list of the variable names accepted.
            _ => Verdict::Weak(
                Severity::Low,
                "~/.ssh/environment may set the variables the pattern list allows".to_owned(),
            ),
        }
        },
        remediation: "Set `PermitUserEnvironment no`.",
    },
    Rule {
        keyword: "strictmodes",
        name: "StrictModes",
        problem: "sshd does not check the ownership and modes of users' files",
        ssg: &["sshd_enable_strictmodes"],
        forwarding: false,
        expected: |_| "yes".to_owned(),
        judge: |v, _| {
            match v {
            "yes" => Verdict::Fine,
            "no" => Verdict::Weak(
                Severity::Medium,
                "a world-writable ~/.ssh/authorized_keys is accepted, so another local user can add a key".to_owned(),
            ),
            _ => Verdict::Invalid("StrictModes takes yes or no".to_owned()),
        }
        },
        remediation: "Set `StrictModes yes` (the default).",
    },
    Rule {
        keyword: "loglevel",
        name: "LogLevel",
        problem: "SSH log level is not INFO or VERBOSE",
        ssg: &["sshd_set_loglevel_verbose"],
        forwarding: false,
        expected: |_| "INFO or VERBOSE".to_owned(),
        judge: |v, _| {
            match v {
            "info" | "verbose" => Verdict::Fine,
            "quiet" | "fatal" | "error" => Verdict::Weak(
                Severity::Medium,
                "logins and failed attempts are not logged".to_owned(),
            ),
            "debug" | "debug1" | "debug2" | "debug3" => Verdict::Weak(
                Severity::Low,
                "sshd_config(5): logging with a DEBUG level violates the privacy of users".to_owned(),
            ),
            _ => Verdict::Invalid(
                "LogLevel takes QUIET, FATAL, ERROR, INFO, VERBOSE, DEBUG, DEBUG1, DEBUG2 or DEBUG3".to_owned(),
            ),
        }
        },
        remediation: "Set `LogLevel VERBOSE` (it also logs key fingerprints) or `LogLevel INFO`.",
    },
];

/// SSH-01: the effective sshd settings, with Include and Match.
pub fn ssh01_sshd(ctx: &AuditContext<'_>) -> CheckOutcome {
    let cfg = ctx.get::<SshdConfig>();
    if !cfg.present() {
        return CheckOutcome::NotApplicable(format!(
            "{SSHD_CONFIG} is absent: the image has no OpenSSH server configured"
        ));
    }
    let mut out = Vec::new();
    let global_disable = flag_value(&cfg, None, "disableforwarding");
    let mut password_weak = false;
    for rule in RULES {
        let env = Env {
            config: ctx.config,
            disable_forwarding: global_disable,
        };
        let s = cfg.get(rule.keyword);
        if let Some(f) = judge(ctx, rule, &env, s, Origin::Global) {
            password_weak |= rule.keyword == "passwordauthentication";
            out.push(f);
        }
        for b in cfg.match_blocks().iter().filter(|b| !b.always) {
            if let Some(f) = judge_block(ctx, &cfg, rule, b, global_disable) {
                out.push(f);
            }
        }
    }
    if !password_weak {
        out.extend(keyboard_interactive_password(ctx, &cfg));
    }
    out.extend(access_limited(ctx, &cfg));
    for kind in [
        AlgorithmKind::Ciphers,
        AlgorithmKind::Macs,
        AlgorithmKind::Kex,
    ] {
        out.extend(algorithms(ctx, &cfg, kind));
    }
    CheckOutcome::Ran(out)
}

/// The lower-cased first argument of a setting, warning about extra arguments
/// (sshd 9.x: "keyword %s extra arguments at end of line", then it stops).
fn single_value(ctx: &AuditContext<'_>, s: &SshdSetting) -> String {
    if s.args.len() > 1 {
        ctx.warn(Diagnostic {
            file: s.file.clone(),
            line: Some(s.line),
            field: Some(s.keyword.clone()),
            message: "extra arguments at end of line; sshd refuses to start".to_owned(),
        });
    }
    s.first_arg().to_ascii_lowercase()
}

/// A yes/no keyword's effective value in a block (or globally), default applied.
fn flag_value(cfg: &SshdConfig, block: Option<&MatchBlock>, keyword: &str) -> bool {
    block
        .and_then(|b| b.get(keyword))
        .or_else(|| cfg.get(keyword))
        .map(|s| s.first_arg().to_ascii_lowercase())
        .or_else(|| sshd::default_of(keyword).map(str::to_ascii_lowercase))
        .is_some_and(|v| v == "yes")
}

/// Where a judged value applies.
#[derive(Clone, Copy)]
enum Origin<'a> {
    /// Every connection that matches no conditional block.
    Global,
    /// Connections matching a conditional block that sets the keyword.
    Block(&'a MatchBlock),
    /// Connections matching a conditional block whose `DisableForwarding no`
    /// (the setting) lifts a global `DisableForwarding yes`.
    Lifted(&'a MatchBlock, &'a SshdSetting),
}

/// Judges one rule's value: `s`, or OpenSSH's default when `None`.
fn judge(
    ctx: &AuditContext<'_>,
    rule: &Rule,
    env: &Env<'_>,
    s: Option<&SshdSetting>,
    origin: Origin<'_>,
) -> Option<Finding> {
    // A lifted global value was judged (and warned about) as global already.
    let warn = !matches!(origin, Origin::Lifted(..));
    let value = match s {
        Some(s) if warn => single_value(ctx, s),
        Some(s) => s.first_arg().to_ascii_lowercase(),
        None => sshd::default_of(rule.keyword)?.to_ascii_lowercase(),
    };
    let (severity, why) = match (rule.judge)(&value, env) {
        Verdict::Fine => return None,
        Verdict::Weak(sev, why) => (sev, why),
        Verdict::Invalid(msg) => {
            if let (Some(s), true) = (s, warn) {
                ctx.warn(Diagnostic {
                    file: s.file.clone(),
                    line: Some(s.line),
                    field: Some(rule.name.to_owned()),
                    message: format!("{msg}; sshd refuses to start with {:?}", s.value),
                });
            }
            return None;
        }
    };
    let expected = format!("{} {}", rule.name, (rule.expected)(ctx.config));
    // "PermitRootLogin yes" as written, or "PermitRootLogin not set; OpenSSH default …".
    let seen = match s {
        Some(s) => format!("{} {}", rule.name, s.value),
        None => format!(
            "{} not set; OpenSSH default {}",
            rule.name,
            sshd::default_of(rule.keyword).unwrap_or("")
        ),
    };
    let title = match origin {
        Origin::Block(blk) | Origin::Lifted(blk, _) => format!(
            "sshd: {} for connections matching `Match {}`",
            rule.problem,
            blk.criteria_text()
        ),
        Origin::Global => format!("sshd: {}", rule.problem),
    };
    let b = ctx
        .finding(SSH01, title)
        .severity(severity)
        .ssg(rule.ssg)
        .expected(expected)
        .remediation(rule.remediation);
    let f = match (origin, s) {
        (Origin::Global, Some(s)) | (Origin::Block(_), Some(s)) => b.at(s.file.clone(), s.line),
        (Origin::Lifted(_, at), _) => b.at(at.file.clone(), at.line),
        (_, None) => b.file(SSHD_CONFIG),
    };
    let observed = match origin {
        Origin::Global => format!("{seen}: {why}"),
        Origin::Block(blk) => format!("{seen} in {}: {why}", blk.describe()),
        Origin::Lifted(blk, at) => format!(
            "DisableForwarding {} in {} lifts the global DisableForwarding yes, so {seen} applies: {why}",
            at.value,
            blk.describe()
        ),
    };
    Some(f.observed(observed).build())
}

/// Judges what a conditional `Match` block changes for one rule: its own
/// value, or (for forwarding keywords) a `DisableForwarding no` that lifts a
/// global `DisableForwarding yes`, exposing the global or default value.
fn judge_block(
    ctx: &AuditContext<'_>,
    cfg: &SshdConfig,
    rule: &Rule,
    b: &MatchBlock,
    global_disable: bool,
) -> Option<Finding> {
    let env = Env {
        config: ctx.config,
        disable_forwarding: flag_value(cfg, Some(b), "disableforwarding"),
    };
    if let Some(s) = b.get(rule.keyword) {
        return judge(ctx, rule, &env, Some(s), Origin::Block(b));
    }
    if rule.forwarding && global_disable && !env.disable_forwarding {
        let lifted = b.get("disableforwarding")?;
        return judge(
            ctx,
            rule,
            &env,
            cfg.get(rule.keyword),
            Origin::Lifted(b, lifted),
        );
    }
    None
}

/// With `UsePAM yes`, keyboard-interactive authentication runs the PAM `auth`
/// stack, which normally asks for the account password: `PasswordAuthentication
/// no` alone does not stop passwords then (sshd_config(5),
/// KbdInteractiveAuthentication and UsePAM). Judged on the global values; fine
/// when every `AuthenticationMethods` list pairs keyboard-interactive with
/// another method.
fn keyboard_interactive_password(ctx: &AuditContext<'_>, cfg: &SshdConfig) -> Option<Finding> {
    if ctx.config.ssh.allow_password_authentication
        || !flag_value(cfg, None, "kbdinteractiveauthentication")
        || !flag_value(cfg, None, "usepam")
    {
        return None;
    }
    let methods = cfg.get("authenticationmethods");
    let lists = auth_method_lists(methods.map_or("any", |s| s.value.as_str()));
    let alone = lists
        .iter()
        .any(|l| l.iter().all(|m| m == "keyboard-interactive" || m == "any"));
    if !alone {
        return None;
    }
    let b = ctx
        .finding(
            SSH01,
            "sshd: passwords are accepted through PAM keyboard-interactive authentication",
        )
        .severity(Severity::Medium)
        .ssg(&[])
        .expected("KbdInteractiveAuthentication no, or AuthenticationMethods that pair keyboard-interactive with publickey")
        .remediation("Set `KbdInteractiveAuthentication no`, or require a key first with `AuthenticationMethods publickey,keyboard-interactive` so PAM only adds a factor.");
    let why = format!(
        "UsePAM yes and AuthenticationMethods {} let keyboard-interactive alone log in, and the PAM stack asks for the password",
        methods.map_or("not set (OpenSSH default any)", |s| s.value.as_str())
    );
    let f = match cfg.get("kbdinteractiveauthentication") {
        Some(s) => b
            .at(s.file.clone(), s.line)
            .observed(format!("KbdInteractiveAuthentication {}: {why}", s.value)),
        None => b.file(SSHD_CONFIG).observed(format!(
            "KbdInteractiveAuthentication not set; OpenSSH default yes: {why}"
        )),
    };
    Some(f.build())
}

/// `AllowUsers`/`AllowGroups` (or `DenyUsers`/`DenyGroups`) limit who may log
/// in; sshd_config(5): without them, every account with a valid shell may.
fn access_limited(ctx: &AuditContext<'_>, cfg: &SshdConfig) -> Option<Finding> {
    let allow_users: Vec<&SshdSetting> = cfg.get_all("allowusers").collect();
    let allow_groups: Vec<&SshdSetting> = cfg.get_all("allowgroups").collect();
    let denies = cfg.get_all("denyusers").count() + cfg.get_all("denygroups").count();
    if denies > 0 {
        return None;
    }
    // A list admits everyone when absent or when one of its patterns is `*`.
    let open = |v: &[&SshdSetting]| v.is_empty() || wildcard(v).is_some();
    if !(open(&allow_users) && open(&allow_groups)) {
        return None;
    }
    let b = ctx
        .finding(SSH01, "sshd: every account may log in over SSH")
        .severity(Severity::Medium)
        .ssg(&["sshd_limit_user_access"])
        .expected("AllowUsers or AllowGroups naming only the accounts that need remote access")
        .remediation("Add `AllowUsers` (or `AllowGroups`) with the service accounts that need SSH, e.g. `AllowUsers tech`.");
    let f = match wildcard(&allow_users).or_else(|| wildcard(&allow_groups)) {
        Some(s) => b.at(s.file.clone(), s.line).observed(format!(
            "{} {}: the pattern * admits every account",
            if s.keyword == "allowusers" { "AllowUsers" } else { "AllowGroups" },
            s.value
        )),
        None => b.file(SSHD_CONFIG).observed(
            "AllowUsers, AllowGroups, DenyUsers and DenyGroups not set; OpenSSH default: every account with a login shell may log in",
        ),
    };
    Some(f.build())
}

/// The first line of an allow list whose patterns include `*` (AllowUsers
/// also takes USER@HOST, so `*@*` too): it admits every account.
fn wildcard<'s>(lines: &[&'s SshdSetting]) -> Option<&'s SshdSetting> {
    lines
        .iter()
        .find(|s| s.args.iter().any(|a| a == "*" || a == "*@*"))
        .copied()
}

/// Ciphers, MACs, KexAlgorithms: every algorithm sshd would offer must be in
/// the policy's strong list (a `+`/`^` list keeps the default's entries, so
/// they are judged too; `-` only removes).
fn algorithms(ctx: &AuditContext<'_>, cfg: &SshdConfig, kind: AlgorithmKind) -> Option<Finding> {
    let (strong, ssg): (&[String], &str) = match kind {
        AlgorithmKind::Ciphers => (&ctx.config.ssh.ciphers, "sshd_use_strong_ciphers"),
        AlgorithmKind::Macs => (&ctx.config.ssh.macs, "sshd_use_strong_macs"),
        AlgorithmKind::Kex => (&ctx.config.ssh.kex, "sshd_use_strong_kex"),
    };
    let s = cfg.get(&kind.keyword().to_ascii_lowercase());
    if let Some(s) = s {
        // Only for its warning about extra arguments.
        let _ = single_value(ctx, s);
    }
    let offered = effective_algorithms(kind, s.map(SshdSetting::first_arg));
    let weak: Vec<&str> = offered
        .iter()
        .filter(|a| !strong.iter().any(|x| x == *a))
        .map(String::as_str)
        .collect();
    if weak.is_empty() {
        return None;
    }
    let name = kind.keyword();
    let b = ctx
        .finding(SSH01, format!("sshd: {name} offers algorithms outside the strong list"))
        .severity(Severity::Medium)
        .ssg(&[ssg])
        .expected(format!("{name} {}", strong.join(",")))
        .remediation(format!(
            "Set `{name}` to an explicit list of strong algorithms (dha.toml ssh.{}); a `+` or `^` list keeps OpenSSH's defaults.",
            match kind {
                AlgorithmKind::Ciphers => "ciphers",
                AlgorithmKind::Macs => "macs",
                AlgorithmKind::Kex => "kex",
            }
        ));
    let f = match s {
        Some(s) => b.at(s.file.clone(), s.line).observed(format!(
            "{name} {}: offers {}",
            s.value,
            weak.join(", ")
        )),
        None => b.file(SSHD_CONFIG).observed(format!(
            "{name} not set; the OpenSSH 9.x default offers {}",
            weak.join(", ")
        )),
    };
    Some(f.build())
}

/// Splits an `AuthenticationMethods` value into its method lists: lists are
/// separated by white space, methods by commas; a `:submethod` suffix
/// (`keyboard-interactive:pam`) is dropped. `any` is a list of its own.
fn auth_method_lists(value: &str) -> Vec<Vec<String>> {
    value
        .split_whitespace()
        .map(|list| {
            list.split(',')
                .filter(|m| !m.is_empty())
                .map(|m| m.split(':').next().unwrap_or(m).to_ascii_lowercase())
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests;
