//! SBOM-01: the software inventory can be emitted (IEC 62443-4-2 CR 7.8
//! component inventory; MDS2 SBOM; Lynis PKGS-7345).
//!
//! The inventory is what `dha sbom` lists ([`crate::sbom`]): the installed
//! packages of the dpkg status database and the images dha installed (the
//! install journal of `[install]`). The check fails when `dha sbom` would
//! fail (a database or journal that exists but cannot be read, a database
//! cut by a read limit) or would list nothing (no package database and no
//! installed target). Malformed stanzas are warnings, not findings.

use crate::audit::{AuditContext, CheckOutcome};
use crate::sbom::{DPKG_STATUS, Input, Inventory, SbomError};

/// SBOM-01.
pub fn sbom01_inventory(ctx: &AuditContext<'_>) -> CheckOutcome {
    let inv = ctx.get::<Inventory>();
    let remediation = "Keep the package database (/var/lib/dpkg/status) readable and within \
                       [limits] max_file_bytes, keep dha's install journal intact, and emit the \
                       SBOM with `dha sbom` for the device's MDS2 form (section SBOM)";
    if let Some(problem) = inv.problem() {
        let (SbomError::Unreadable { path, reason } | SbomError::Incomplete { path, reason }) =
            &problem;
        let (path, observed) = (path.clone(), reason.clone());
        let title = match problem {
            SbomError::Incomplete { .. } => {
                "the software inventory is cut by a read limit: the SBOM would be incomplete"
            }
            _ => "the software inventory cannot be read: no SBOM can be emitted",
        };
        return CheckOutcome::Ran(vec![
            ctx.finding("SBOM-01", title)
                .file(path)
                .observed(observed)
                .expected("a readable, complete package database and install journal")
                .remediation(remediation)
                .build(),
        ]);
    }
    if !inv.packages().is_empty() || !inv.installed_targets().is_empty() {
        return CheckOutcome::Ran(Vec::new());
    }
    let database = match &inv.dpkg {
        Input::Absent => "no package database".to_owned(),
        Input::Read(s) if s.malformed > 0 => format!(
            "no installed package could be read ({} malformed stanzas)",
            s.malformed
        ),
        _ => "no installed package".to_owned(),
    };
    let journal = match &inv.targets {
        Input::Absent => format!("no install journal ({})", inv.journal_path),
        _ => "no image in a good slot of the install journal".to_owned(),
    };
    CheckOutcome::Ran(vec![
        ctx.finding(
            "SBOM-01",
            "no software inventory can be read: the SBOM would be empty",
        )
        .file(DPKG_STATUS)
        .observed(format!("{database}; {journal}"))
        .expected("installed packages in the dpkg status database, or targets installed by dha")
        .remediation(remediation)
        .build(),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{TestRoot, finding_at, is_clean, observed};

    const PKG: &str = "Package: bash\nStatus: install ok installed\nVersion: 5.2.15-2+b9\n\
                       Architecture: amd64\nMaintainer: Matthias Klose <doko@debian.org>\n";

    #[test]
    fn installed_packages_pass() {
        let t = TestRoot::new(&[("var/lib/dpkg/status", PKG)]);
        assert!(is_clean(&t.audit("SBOM-01", sbom01_inventory)));
    }

    #[test]
    fn installed_targets_alone_pass() {
        let journal = format!(
            "{{\"schema_version\": 1, \"slots\": {{\"A\": {{\"state\": \"good\", \"image\": \
             {{\"target\": \"os.img\", \"release_counter\": 3, \"sha256\": \"{}\", \"length\": 9}}}}}}}}",
            "ab".repeat(32)
        );
        let t = TestRoot::new(&[("var/lib/dha/install.journal", &journal)]);
        assert!(is_clean(&t.audit("SBOM-01", sbom01_inventory)));
    }

    #[test]
    fn no_inventory_is_a_low_finding_at_the_database() {
        for files in [
            vec![],
            vec![("var/lib/dpkg/status", "")],
            vec![(
                "var/lib/dpkg/status",
                "Package: gone\nStatus: deinstall ok config-files\nVersion: 1.0\n\
                 Architecture: all\n",
            )],
        ] {
            let t = TestRoot::new(&files);
            let r = t.audit("SBOM-01", sbom01_inventory);
            let f = finding_at(&r, DPKG_STATUS);
            assert_eq!(f.severity, crate::Severity::Low);
            assert!(f.title.contains("would be empty"), "{}", f.title);
            assert!(
                observed(f).contains("no install journal"),
                "{}",
                observed(f)
            );
        }
    }

    #[test]
    fn a_malformed_journal_is_a_finding_at_the_journal_and_a_warning() {
        let t = TestRoot::new(&[
            ("var/lib/dpkg/status", PKG),
            (
                "var/lib/dha/install.journal",
                "{\"schema_version\": 1, \"slots\": 7}",
            ),
        ]);
        let r = t.audit("SBOM-01", sbom01_inventory);
        let f = finding_at(&r, "/var/lib/dha/install.journal");
        assert!(f.title.contains("cannot be read"), "{}", f.title);
        assert!(
            r.warnings
                .iter()
                .any(|w| w.file == "/var/lib/dha/install.journal"),
            "{:?}",
            r.warnings
        );
    }

    #[test]
    fn malformed_stanzas_are_warnings_not_findings() {
        let t = TestRoot::new(&[(
            "var/lib/dpkg/status",
            &format!(
                "{PKG}\nPackage: Bad_Name\nStatus: install ok installed\nVersion: 1\nArchitecture: all\n"
            ),
        )]);
        let r = t.audit("SBOM-01", sbom01_inventory);
        assert!(r.findings.is_empty(), "{:?}", r.findings);
        assert!(
            r.warnings.iter().any(|w| w.line == Some(7)),
            "{:?}",
            r.warnings
        );
    }
}
