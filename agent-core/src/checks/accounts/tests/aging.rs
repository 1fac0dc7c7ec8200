//! ACC-05 password aging.

use super::{LOGIN_DEFS_OK, SHADOW_OK, clean, hardened};
use crate::checks::accounts::acc05_aging;
use crate::checks::accounts::aging::shadow_date;
use crate::testing::{TestRoot, finding_at, found, has, not_applicable, observed};

/// The shadow day of [`NOW`](crate::testing::NOW), 2026-11-29.
const TODAY: i64 = 20_786;

#[test]
fn acc05_login_defs_values_absent_keys_and_useradd() {
    let t = TestRoot::new(&[
        (
            "/etc/login.defs",
            "# aging\nPASS_MAX_DAYS 99999\nPASS_MIN_DAYS 0\nPASS_WARN_AGE 3\n",
        ),
        ("/etc/default/useradd", "SHELL=/bin/sh\nINACTIVE=-1\n"),
    ]);
    let r = t.audit("ACC-05", acc05_aging);
    assert!(has(
        &r,
        "/etc/login.defs:2",
        "accounts_maximum_age_login_defs"
    ));
    assert!(has(
        &r,
        "/etc/login.defs:3",
        "accounts_minimum_age_login_defs"
    ));
    assert!(has(
        &r,
        "/etc/login.defs:4",
        "accounts_password_warn_age_login_defs"
    ));
    assert!(has(
        &r,
        "/etc/default/useradd:2",
        "account_disable_post_pw_expiration"
    ));
    assert_eq!(r.findings.len(), 4);

    let t = TestRoot::new(&[("/etc/login.defs", "PASS_MAX_DAYS -1\nPASS_MIN_DAYS x\n")]);
    let r = t.audit("ACC-05", acc05_aging);
    assert!(has(
        &r,
        "/etc/login.defs:1",
        "accounts_maximum_age_login_defs"
    ));
    assert!(has(
        &r,
        "/etc/login.defs:2",
        "accounts_minimum_age_login_defs"
    ));
    assert!(has(
        &r,
        "/etc/login.defs",
        "accounts_password_warn_age_login_defs"
    ));
    assert!(has(
        &r,
        "/etc/default/useradd",
        "account_disable_post_pw_expiration"
    ));
}

#[test]
fn acc05_policy_comes_from_the_configuration() {
    let mut t = TestRoot::new(&[
        (
            "/etc/login.defs",
            "PASS_MAX_DAYS 180\nPASS_MIN_DAYS 0\nPASS_WARN_AGE 0\n",
        ),
        ("/etc/default/useradd", "INACTIVE=0\n"),
    ]);
    assert_eq!(t.audit("ACC-05", acc05_aging).findings.len(), 3);
    t.cfg.password.max_days = 180;
    t.cfg.password.min_days = 0;
    t.cfg.password.warn_days = 0;
    clean(&t.audit("ACC-05", acc05_aging));
}

#[test]
fn acc05_existing_accounts_and_future_change_dates() {
    let t = TestRoot::new(&[
        ("/etc/login.defs", LOGIN_DEFS_OK),
        ("/etc/default/useradd", "INACTIVE=30\n"),
        (
            "/etc/shadow",
            "a:$y$j9T$s$h:20700:1:99999:7:30::\nb:$y$j9T$s$h:20700:1:90:7:::\nc:!$y$j9T$s$h:20700::::::\nd:$y$j9T$s$h:21000:1:90:7:30::\ne:*:30000::::::\nf:$y$j9T$s$h:20700:::::1:\n",
        ),
    ]);
    let r = t.audit("ACC-05", acc05_aging);
    assert!(has(
        &r,
        "/etc/shadow:1",
        "accounts_password_set_max_life_existing"
    ));
    assert!(has(&r, "/etc/shadow:2", "accounts_set_post_pw_existing"));
    assert!(has(
        &r,
        "/etc/shadow:4",
        "accounts_password_last_change_is_in_past"
    ));
    // A locked account's dates in the future are still reported; its aging is not.
    assert!(has(
        &r,
        "/etc/shadow:5",
        "accounts_password_last_change_is_in_past"
    ));
    assert_eq!(
        r.findings.len(),
        4,
        "locked c and expired f are not judged: {:#?}",
        found(&r)
    );
    let future = finding_at(&r, "/etc/shadow:4");
    assert!(
        observed(future).contains("2027-07-01"),
        "{:?}",
        future.evidence.observed
    );
}

#[test]
fn acc05_not_applicable_and_hardened() {
    assert!(not_applicable(
        &TestRoot::new(&[("/etc/default/useradd", "INACTIVE=30\n")]).audit("ACC-05", acc05_aging)
    ));
    clean(&hardened().audit("ACC-05", acc05_aging));
    let r = TestRoot::new(&[
        ("/etc/shadow", SHADOW_OK),
        ("/etc/default/useradd", "INACTIVE=30\n"),
    ])
    .audit("ACC-05", acc05_aging);
    assert_eq!(found(&r).len(), 1);
    assert!(has(
        &r,
        "/etc/login.defs",
        "accounts_maximum_age_login_defs"
    ));
}

#[test]
fn shadow_dates_are_iso_dates() {
    assert_eq!(shadow_date(0), "1970-01-01");
    assert_eq!(shadow_date(TODAY), "2026-11-29");
    assert_eq!(shadow_date(i64::MAX), format!("day {}", i64::MAX));
}
