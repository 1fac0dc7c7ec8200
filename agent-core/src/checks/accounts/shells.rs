//! ACC-09: system accounts have no login shell, and every unlocked account's
//! shell is a valid one.

use super::{OVERFLOW_UID, UidMin, login_shell, na, q};
use crate::audit::{AuditContext, CheckOutcome};
use crate::finding::Severity;
use crate::parse::accounts::{Accounts, Shells};

/// ACC-09 (Lynis AUTH-9284, SHLL-6211; SSG no_shelllogin_for_systemaccounts,
/// no_invalid_shell_accounts_unlocked): system accounts have no login shell
/// unless locked; every unlocked account's shell is listed in /etc/shells.
pub fn acc09_system_shells(ctx: &AuditContext<'_>) -> CheckOutcome {
    let acc = ctx.get::<Accounts>();
    let Some(passwd) = acc.passwd.path.as_deref() else {
        return na("/etc/passwd is absent: there are no accounts to check");
    };
    let shells = ctx.get::<Shells>();
    let uid_min = ctx.get::<UidMin>().0;
    let pol = &ctx.config.accounts;
    let today = ctx.clock.days_since_epoch();
    let mut out = Vec::new();
    for u in &acc.passwd.entries {
        let shell = login_shell(u);
        if pol.nologin_shells.iter().any(|n| n == shell) || acc.is_locked(u, today) {
            continue;
        }
        let system = u.name != "root"
            && (u.uid < uid_min || u.uid == OVERFLOW_UID)
            && !pol.system_accounts_with_shell.contains(&u.name);
        if system {
            out.push(
                ctx.finding(
                    "ACC-09",
                    format!(
                        "system account {} has a login shell and is not locked",
                        q(&u.name)
                    ),
                )
                .at(passwd, u.line)
                .observed(format!(
                    "{} (UID {}) with shell {} and a usable password",
                    q(&u.name),
                    u.uid,
                    q(shell)
                ))
                .expected(format!(
                    "system accounts (UID below {uid_min}) with a nologin \
                        shell, or locked"
                ))
                .remediation(format!(
                    "usermod -s /usr/sbin/nologin {} (and passwd -l): a locked \
                        password alone does not stop key-based SSH login.",
                    u.name
                ))
                .ssg(&["no_shelllogin_for_systemaccounts"])
                .build(),
            );
        }
        if !shells.contains(shell) {
            let listed = if shells.present() {
                "not listed in /etc/shells".to_owned()
            } else {
                format!(
                    "/etc/shells absent; getusershell(3) accepts only {}",
                    Shells::DEFAULT.join(" and ")
                )
            };
            out.push(
                ctx.finding(
                    "ACC-09",
                    format!(
                        "unlocked account {} has a shell that is not a valid login \
                    shell",
                        q(&u.name)
                    ),
                )
                .at(passwd, u.line)
                .observed(format!("{} with shell {}: {listed}", q(&u.name), q(shell)))
                .expected("a shell listed in /etc/shells, or a nologin shell")
                .remediation(
                    "Set a listed shell or a nologin shell (usermod -s), or \
                        lock the account; an unlisted program as shell escapes the \
                        checks chsh and ftp daemons make.",
                )
                .ssg(&["no_invalid_shell_accounts_unlocked"])
                .build(),
            );
        } else if !pol.allowed_shells.is_empty() && !pol.allowed_shells.iter().any(|a| a == shell) {
            out.push(
                ctx.finding(
                    "ACC-09",
                    format!("unlocked account {} has a shell the device policy does not allow", q(&u.name)),
                )
                .severity(Severity::Low)
                .at(passwd, u.line)
                .observed(format!("{} with shell {}", q(&u.name), q(shell)))
                .expected(format!("one of accounts.allowed_shells: {}", pol.allowed_shells.join(", ")))
                .remediation("Set an allowed shell (usermod -s) or lock the account, or add the shell to accounts.allowed_shells in dha.toml.")
                .ssg(&["no_invalid_shell_accounts_unlocked"])
                .build(),
            );
        }
    }
    CheckOutcome::Ran(out)
}
