//! SES-02: idle shells (TMOUT), logind sessions (StopIdleSessionSec) and
//! SSH connections (ClientAlive*) end within `session.max_idle_secs`.

use super::{na, q, warn_at};
use crate::audit::{AuditContext, CheckOutcome};
use crate::finding::{Finding, Severity};
use crate::parse::keyfile::parse_timespan_usec;
use crate::parse::session::Logind;
use crate::parse::shell::{PROFILE, ShellProfiles, TmoutAction, TmoutLine};
use crate::parse::sshd::{SshdConfig, SshdSetting, default_of};
use std::collections::BTreeSet;

/// Parses a TMOUT value as bash does (`legal_number`: decimal, optional sign
/// and surrounding white space); `None` when bash would not time out.
fn tmout_secs(v: &str) -> Option<i64> {
    v.trim().parse::<i64>().ok()
}

fn shell_findings(ctx: &AuditContext<'_>, shells: &ShellProfiles, out: &mut Vec<Finding>) {
    let max = i64::from(ctx.config.session.max_idle_secs);
    let rule = "accounts_tmout";
    let want = format!("TMOUT=N with 0 < N ≤ {max}, readonly and exported");
    let remediation = format!(
        "Create /etc/profile.d/tmout.sh with `TMOUT={max}`, `readonly TMOUT` and `export TMOUT`."
    );
    // Simulate a login shell reading the files in order: after `readonly`
    // an assignment or unset fails ("readonly variable").
    let mut value: Option<&TmoutLine> = None;
    let mut readonly = false;
    let mut exported = false;
    // An assignment that fails because `readonly TMOUT` came first.
    let mut blocked: Option<&TmoutLine> = None;
    let mut reported = BTreeSet::new();
    let bad = |l: &TmoutLine,
               why: String,
               out: &mut Vec<Finding>,
               reported: &mut BTreeSet<(String, u32)>| {
        if reported.insert((l.file.clone(), l.line)) {
            out.push(
                ctx.finding("SES-02", format!("shell idle time-out TMOUT {why}"))
                    .at(&l.file, l.line)
                    .observed(match &l.action {
                        TmoutAction::Assign { value, .. } => format!("TMOUT={}", q(value)),
                        TmoutAction::Unset => "unset TMOUT".to_owned(),
                        _ => "TMOUT".to_owned(),
                    })
                    .expected(want.clone())
                    .remediation(remediation.clone())
                    .ssg(&[rule])
                    .build(),
            );
        }
    };
    let judge_assign = |v: &str| -> Result<(), String> {
        match tmout_secs(v) {
            None if v.trim().is_empty() => Err("is empty: no time-out".to_owned()),
            None => Err(format!("{} is not a number: bash does not time out", q(v))),
            Some(n) if n <= 0 => Err("is 0: no time-out".to_owned()),
            Some(n) if n > max => Err(format!(
                "is {n} s, longer than session.max_idle_secs ({max} s)"
            )),
            Some(_) => Ok(()),
        }
    };
    for l in shells.tmout() {
        match &l.action {
            TmoutAction::Assign { value: v, literal } => {
                if !literal {
                    warn_at(
                        ctx,
                        &l.file,
                        l.line,
                        "TMOUT",
                        format!("value {} is only known at run time; not evaluated", q(v)),
                    );
                } else if let Err(why) = judge_assign(v) {
                    // Reported even when a readonly before it makes it fail:
                    // which file runs first depends on how the shell starts.
                    bad(l, why, out, &mut reported);
                }
                if !readonly {
                    value = Some(l);
                } else if value.is_none() {
                    blocked.get_or_insert(l);
                }
            }
            TmoutAction::Readonly => readonly = true,
            TmoutAction::Export => exported = true,
            TmoutAction::Unset => {
                if !readonly {
                    bad(l, "is unset: no time-out".to_owned(), out, &mut reported);
                    value = None;
                }
            }
        }
    }
    let Some(v) = value else {
        if let Some(b) = blocked {
            let shown = match &b.action {
                TmoutAction::Assign { value, .. } => format!("TMOUT={}", q(value)),
                _ => "TMOUT".to_owned(),
            };
            out.push(
                ctx.finding("SES-02", "TMOUT is made read-only before it is set: the assignment fails and there is no time-out")
                    .at(&b.file, b.line)
                    .observed(format!("{shown} after readonly TMOUT"))
                    .expected(want.clone())
                    .remediation("Assign TMOUT before (or in) the readonly command: `readonly TMOUT=…`.")
                    .ssg(&[rule])
                    .build(),
            );
        } else if reported.is_empty() {
            out.push(
                ctx.finding("SES-02", "no shell idle time-out: TMOUT is not set")
                    .file(PROFILE)
                    .observed(
                        "no TMOUT assignment in /etc/profile, /etc/profile.d/*.sh or the bashrc",
                    )
                    .expected(want.clone())
                    .remediation(remediation.clone())
                    .ssg(&[rule])
                    .build(),
            );
        }
        return;
    };
    let TmoutAction::Assign {
        value: text,
        literal,
    } = &v.action
    else {
        return;
    };
    if !*literal || judge_assign(text).is_err() {
        return; // reported above, or not evaluable
    }
    if !readonly {
        out.push(
            ctx.finding(
                "SES-02",
                "TMOUT is not read-only: a user can unset it and never time out",
            )
            .at(&v.file, v.line)
            .observed(format!("TMOUT={} without readonly", q(text)))
            .expected(want.clone())
            .remediation(
                "Add `readonly TMOUT` after the assignment (or write `declare -xr TMOUT=…`).",
            )
            .ssg(&[rule])
            .build(),
        );
    }
    if !exported {
        out.push(
            ctx.finding(
                "SES-02",
                "TMOUT is not exported: shells started from the session have no time-out",
            )
            .severity(Severity::Low)
            .at(&v.file, v.line)
            .observed(format!("TMOUT={} not exported", q(text)))
            .expected(want)
            .remediation("Add `export TMOUT` after the assignment.")
            .ssg(&[rule])
            .build(),
        );
    }
}

fn logind_findings(ctx: &AuditContext<'_>, logind: &Logind, out: &mut Vec<Finding>) {
    let max = u64::from(ctx.config.session.max_idle_secs);
    let rule = "logind_session_timeout";
    let want = format!("StopIdleSessionSec={max} or less (systemd ≥ 252)");
    let remediation = format!(
        "Set `StopIdleSessionSec={max}` in the [Login] section of /etc/systemd/logind.conf (or a drop-in in /etc/systemd/logind.conf.d/)."
    );
    let Some((file, e)) = logind.get("StopIdleSessionSec") else {
        out.push(
            ctx.finding(
                "SES-02",
                "logind does not end idle sessions: StopIdleSessionSec is not set",
            )
            .severity(Severity::Low)
            .file(logind.main_path())
            .observed("StopIdleSessionSec not set (default infinity)")
            .expected(want)
            .remediation(remediation)
            .ssg(&[rule])
            .build(),
        );
        return;
    };
    // logind.conf(5): a time span in seconds or with units; "infinity" (the
    // default) and 0 turn the check off; an empty value resets it to the default.
    let why = match parse_timespan_usec(&e.value, 1_000_000) {
        _ if e.value.is_empty() => Some("is empty, which resets it to infinity".to_owned()),
        Ok(None) => Some("is infinity: idle sessions are never ended".to_owned()),
        Ok(Some(0)) => Some("is 0: idle sessions are never ended".to_owned()),
        Ok(Some(us)) if us > max.saturating_mul(1_000_000) => Some(format!(
            "is {} s, longer than session.max_idle_secs ({max} s)",
            us / 1_000_000
        )),
        Ok(Some(_)) => None,
        Err(m) => Some(format!("is not a time span ({m}): logind ignores it")),
    };
    if let Some(why) = why {
        out.push(
            ctx.finding("SES-02", format!("logind StopIdleSessionSec {why}"))
                .severity(Severity::Low)
                .at(file, e.line)
                .observed(format!("StopIdleSessionSec={}", q(&e.value)))
                .expected(want)
                .remediation(remediation)
                .ssg(&[rule])
                .build(),
        );
    }
}

/// An sshd time value (sshd_config(5) "TIME FORMATS", OpenSSH `convtime`):
/// a sequence of numbers each with an optional unit `s m h d w` (any case);
/// a bare number is seconds.
pub fn sshd_time_secs(s: &str) -> Option<u64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    let mut num: Option<u64> = None;
    for c in s.chars() {
        if let Some(d) = c.to_digit(10) {
            num = Some(
                num.unwrap_or(0)
                    .checked_mul(10)?
                    .checked_add(u64::from(d))?,
            );
            continue;
        }
        let mult = match c.to_ascii_lowercase() {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return None,
        };
        total = total.checked_add(num.take()?.checked_mul(mult)?)?;
    }
    if let Some(n) = num {
        total = total.checked_add(n)?;
    }
    // convtime rejects values that do not fit an int.
    (total <= u64::from(i32::MAX.unsigned_abs())).then_some(total)
}

/// The value of an sshd keyword: its setting (in a Match block, else
/// global) or OpenSSH's default.
fn sshd_value<'a>(
    global: Option<&'a SshdSetting>,
    local: Option<&'a SshdSetting>,
    keyword: &str,
) -> (String, Option<&'a SshdSetting>) {
    match local.or(global) {
        Some(s) => (s.first_arg().to_owned(), Some(s)),
        None => (default_of(keyword).unwrap_or("0").to_owned(), None),
    }
}

fn ssh_findings(ctx: &AuditContext<'_>, sshd: &SshdConfig, out: &mut Vec<Finding>) {
    let max = u64::from(ctx.config.session.max_idle_secs);
    let gi = sshd.get("clientaliveinterval");
    let gc = sshd.get("clientalivecountmax");
    let mut scopes: Vec<(String, Option<&SshdSetting>, Option<&SshdSetting>)> =
        vec![(String::new(), None, None)];
    for b in sshd.match_blocks() {
        let (bi, bc) = (b.get("clientaliveinterval"), b.get("clientalivecountmax"));
        if bi.is_some() || bc.is_some() {
            scopes.push((format!(" in {}", b.describe()), bi, bc));
        }
    }
    for (scope, li, lc) in scopes {
        let (iv, iset) = sshd_value(gi, li, "clientaliveinterval");
        let (cv, cset) = sshd_value(gc, lc, "clientalivecountmax");
        let Some(interval) = sshd_time_secs(&iv) else {
            if let Some(s) = iset {
                warn_at(
                    ctx,
                    &s.file,
                    s.line,
                    "ClientAliveInterval",
                    format!("{} is not a time value (sshd refuses to start)", q(&iv)),
                );
            }
            continue;
        };
        let Ok(count) = cv.trim().parse::<u64>() else {
            if let Some(s) = cset {
                warn_at(
                    ctx,
                    &s.file,
                    s.line,
                    "ClientAliveCountMax",
                    format!("{} is not a number (sshd refuses to start)", q(&cv)),
                );
            }
            continue;
        };
        let observed = format!(
            "ClientAliveInterval {iv}, ClientAliveCountMax {cv}{}",
            if iset.is_none() && cset.is_none() {
                " (OpenSSH defaults)"
            } else {
                ""
            }
        );
        let why = if interval == 0 {
            Some((
                "ClientAliveInterval is 0: sshd never checks an idle client".to_owned(),
                iset,
            ))
        } else if count == 0 {
            // OpenSSH ≥ 8.2 sshd_config(5): "Setting a zero ClientAliveCountMax
            // disables connection termination."
            Some((
                "ClientAliveCountMax is 0, which disables connection termination (OpenSSH ≥ 8.2)"
                    .to_owned(),
                cset,
            ))
        } else {
            let total = interval.saturating_mul(count);
            (total > max).then(|| (format!("ends unresponsive sessions only after {total} s, longer than session.max_idle_secs ({max} s)"), iset.or(cset)))
        };
        let Some((why, at)) = why else { continue };
        let b = ctx
            .finding("SES-02", format!("sshd{scope}: {why}"))
            .observed(observed)
            .expected(format!("ClientAliveInterval × ClientAliveCountMax ≤ {max} s, both above 0"))
            .remediation(format!(
                "Set `ClientAliveInterval {}` and `ClientAliveCountMax 1` (or an interval × count within {max} s) in {}. These settings end sessions whose client stopped answering; on OpenSSH ≥ 9.2 add `ChannelTimeout session:*={max}s` to close sessions that are idle.",
                max.min(300), sshd.path()
            ))
            .ssg(&["sshd_set_idle_timeout", "sshd_set_keepalive"]);
        out.push(match at {
            Some(s) => b.at(&s.file, s.line).build(),
            None => b.file(sshd.path()).build(),
        });
    }
}

/// SES-02 (Lynis SHLL-6220; SSG accounts_tmout, logind_session_timeout,
/// sshd_set_idle_timeout): idle shells, logind sessions and SSH connections
/// end within `session.max_idle_secs`. Each part applies when its software
/// is on the image (shell start-up files, logind, sshd_config).
pub fn ses02_idle_timeouts(ctx: &AuditContext<'_>) -> CheckOutcome {
    let shells = ctx.get::<ShellProfiles>();
    let logind = ctx.get::<Logind>();
    let sshd = ctx.get::<SshdConfig>();
    if !shells.present() && !logind.present && !sshd.present() {
        return na(
            "none of /etc/profile, /etc/profile.d/*.sh, the bashrc, systemd-logind or /etc/ssh/sshd_config is on this image: no interactive session to time out",
        );
    }
    let mut out = Vec::new();
    if shells.present() {
        shell_findings(ctx, &shells, &mut out);
    }
    if logind.present {
        logind_findings(ctx, &logind, &mut out);
    }
    if sshd.present() {
        ssh_findings(ctx, &sshd, &mut out);
    }
    CheckOutcome::Ran(out)
}
