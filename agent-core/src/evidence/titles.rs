//! The names of what the evidence answers: MDS2 (2019) sections and
//! IEC 62443-4-2 requirements, with their titles and their order.
//!
//! Only names live here. Which checks answer what comes from the catalogue
//! ([`crate::CATALOGUE`]), never from this file.

use std::cmp::Ordering;

/// An MDS2 (2019) section: its three- or four-letter id, its title in the
/// form, and what an on-device agent can and cannot say about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mds2Section {
    /// The id used in the form (`PAUT`).
    pub id: &'static str,
    /// The title in the form ("Person authentication").
    pub title: &'static str,
    /// `Some` when dha answers the section only in part: what it measures
    /// and what stays for the manufacturer to answer from the design.
    pub partly: Option<&'static str>,
}

/// The sections of the MDS2 form (HIMSS/NEMA HN 1-2019), in the form's order.
///
/// [`MEASURABLE_MDS2`] says which of them an on-device agent can answer with
/// measured evidence (CHECKS.md, "Standards in one line each").
pub const MDS2_SECTIONS: &[Mds2Section] = &[
    Mds2Section {
        id: "MPII",
        title: "Management of personally identifiable information",
        partly: Some(
            "Whether the device stores, displays or transmits personally identifiable \
             information is a fact of its design, which the manufacturer answers. No check \
             maps to MPII: dha measures the controls that protect such data where it is kept \
             and sent (STCF: data at rest encrypted, ENC-01; TXCF: SSH transport settings, \
             SSH-01), not whether the data is there.",
        ),
    },
    Mds2Section {
        id: "ALOF",
        title: "Automatic logoff",
        partly: None,
    },
    Mds2Section {
        id: "AUDT",
        title: "Audit controls",
        partly: None,
    },
    Mds2Section {
        id: "AUTH",
        title: "Authorization",
        partly: None,
    },
    Mds2Section {
        id: "CSUP",
        title: "Cyber security product upgrades",
        partly: None,
    },
    Mds2Section {
        id: "DTBK",
        title: "Data backup and disaster recovery",
        partly: None,
    },
    Mds2Section {
        id: "EMRG",
        title: "Emergency access",
        partly: None,
    },
    Mds2Section {
        id: "IGAU",
        title: "Health data integrity and authenticity",
        partly: None,
    },
    Mds2Section {
        id: "MLDP",
        title: "Malware detection/protection",
        partly: None,
    },
    Mds2Section {
        id: "NAUT",
        title: "Node authentication",
        partly: Some(
            "dha measures how the device's SSH service authenticates the nodes and users \
             that connect to it (SSH-01). Node authentication of the clinical protocols \
             (DICOM associations, HL7 interfaces) is configured in the application and is \
             not measured.",
        ),
    },
    Mds2Section {
        id: "CONN",
        title: "Connectivity capabilities",
        partly: None,
    },
    Mds2Section {
        id: "PAUT",
        title: "Person authentication",
        partly: None,
    },
    Mds2Section {
        id: "PLOK",
        title: "Physical locks",
        partly: Some(
            "dha measures the port-control part (removable storage cannot be mounted: \
             KRN-02); mechanical locks on the enclosure are not measurable by software.",
        ),
    },
    Mds2Section {
        id: "RDMP",
        title: "Roadmap for third party components in device life cycle",
        partly: Some(
            "dha measures that the inventory of third-party components can be produced \
             (SBOM-01); the support roadmap for those components is the manufacturer's to \
             state.",
        ),
    },
    Mds2Section {
        id: "SBOM",
        title: "Software bill of materials",
        partly: None,
    },
    Mds2Section {
        id: "SAHD",
        title: "System and application hardening",
        partly: None,
    },
    Mds2Section {
        id: "SGUD",
        title: "Security guidance",
        partly: None,
    },
    Mds2Section {
        id: "STCF",
        title: "Health data storage confidentiality",
        partly: None,
    },
    Mds2Section {
        id: "TXCF",
        title: "Transmission confidentiality",
        partly: Some(
            "dha measures the SSH transport's ciphers, MACs and key exchange (SSH-01); the \
             transport security of clinical protocols (DICOM TLS, HL7) is configured in the \
             application and is not measured.",
        ),
    },
    Mds2Section {
        id: "TXIG",
        title: "Transmission integrity",
        partly: None,
    },
    Mds2Section {
        id: "RMOT",
        title: "Remote service",
        partly: None,
    },
    Mds2Section {
        id: "OTHR",
        title: "Other security considerations",
        partly: None,
    },
];

/// The MDS2 sections an on-device agent can answer with measured evidence
/// (CHECKS.md). The evidence has one entry for each of them, and for every
/// other section the catalogue maps a check to.
pub const MEASURABLE_MDS2: &[&str] = &[
    "ALOF", "AUDT", "AUTH", "CONN", "CSUP", "DTBK", "EMRG", "IGAU", "MLDP", "PAUT", "PLOK", "SAHD",
    "SBOM", "STCF", "RMOT", "NAUT", "MPII",
];

/// The MDS2 section with id `id`.
pub fn mds2_section(id: &str) -> Option<&'static Mds2Section> {
    MDS2_SECTIONS.iter().find(|s| s.id == id)
}

/// The position of section `id` in the form (unknown ids last).
pub fn mds2_position(id: &str) -> usize {
    MDS2_SECTIONS
        .iter()
        .position(|s| s.id == id)
        .unwrap_or(MDS2_SECTIONS.len())
}

/// IEC 62443-4-2:2019 requirement titles (clauses 5 to 11 and the host
/// device requirements of clause 14), by base requirement (`CR 1.1`).
const IEC62443_TITLES: &[(&str, &str)] = &[
    ("CR 1.1", "Human user identification and authentication"),
    (
        "CR 1.2",
        "Software process and device identification and authentication",
    ),
    ("CR 1.3", "Account management"),
    ("CR 1.4", "Identifier management"),
    ("CR 1.5", "Authenticator management"),
    ("CR 1.7", "Strength of password-based authentication"),
    ("CR 1.11", "Unsuccessful login attempts"),
    ("CR 2.1", "Authorization enforcement"),
    ("CR 2.3", "Use control for portable and mobile devices"),
    ("CR 2.5", "Session lock"),
    ("CR 2.6", "Remote session termination"),
    ("CR 2.8", "Auditable events"),
    ("CR 2.9", "Audit storage capacity"),
    ("CR 2.10", "Response to audit processing failures"),
    ("CR 2.11", "Timestamps"),
    ("CR 3.2", "Protection from malicious code"),
    ("CR 3.4", "Software and information integrity"),
    ("CR 3.9", "Protection of audit information"),
    ("HDR 3.10", "Support for updates"),
    ("HDR 3.14", "Integrity of the boot process"),
    ("CR 4.1", "Information confidentiality"),
    ("CR 4.3", "Use of cryptography"),
    ("CR 6.1", "Audit log accessibility"),
    ("CR 6.2", "Continuous monitoring"),
    ("CR 7.1", "Denial of service protection"),
    ("CR 7.3", "Control system backup"),
    ("CR 7.4", "Control system recovery and reconstitution"),
    ("CR 7.6", "Network and security configuration settings"),
    ("CR 7.7", "Least functionality"),
    ("CR 7.8", "Control system component inventory"),
];

/// Requirement enhancement titles, by full id (`CR 1.1 RE1`).
const IEC62443_RE_TITLES: &[(&str, &str)] = &[
    ("CR 1.1 RE1", "Unique identification and authentication"),
    (
        "CR 1.1 RE2",
        "Multifactor authentication for all interfaces",
    ),
    (
        "CR 1.7 RE1",
        "Password generation and lifetime restrictions for human users",
    ),
    ("CR 2.1 RE2", "Permission mapping to roles"),
    ("CR 3.4 RE1", "Authenticity of software and information"),
    (
        "CR 3.4 RE2",
        "Automated notification of integrity violations",
    ),
    ("HDR 3.10 RE1", "Update authenticity and integrity"),
    ("HDR 3.14 RE1", "Authenticity of the boot process"),
    ("CR 7.3 RE1", "Backup integrity verification"),
];

/// The title of requirement `id` (`CR 1.1 RE1` → "Human user identification
/// and authentication: RE1 Unique identification and authentication"), or
/// `None` for an id this table does not know.
pub fn iec62443_title(id: &str) -> Option<String> {
    let parsed = RequirementId::parse(id)?;
    let base = IEC62443_TITLES
        .iter()
        .find(|(k, _)| *k == parsed.base)
        .map(|(_, t)| *t)?;
    match parsed.re {
        None => Some(base.to_owned()),
        Some(n) => {
            let re = IEC62443_RE_TITLES
                .iter()
                .find(|(k, _)| *k == id)
                .map(|(_, t)| *t)?;
            Some(format!("{base}: RE{n} {re}"))
        }
    }
}

/// A requirement id taken apart for ordering: `HDR 3.10 RE1` → kind `HDR`,
/// 3, 10, enhancement 1.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RequirementId<'a> {
    base: &'a str,
    kind: &'a str,
    major: u32,
    minor: u32,
    re: Option<u32>,
}

impl<'a> RequirementId<'a> {
    /// `KIND MAJOR.MINOR` optionally followed by ` RE<n>`; `None` otherwise.
    fn parse(id: &'a str) -> Option<Self> {
        let mut words = id.split(' ');
        let kind = words.next()?;
        let number = words.next()?;
        let re = match words.next() {
            None => None,
            Some(w) => Some(w.strip_prefix("RE")?.parse().ok()?),
        };
        if words.next().is_some() || kind.is_empty() {
            return None;
        }
        let (major, minor) = number.split_once('.')?;
        let base_len = kind.len().checked_add(1)?.checked_add(number.len())?;
        Some(RequirementId {
            base: id.get(..base_len)?,
            kind,
            major: major.parse().ok()?,
            minor: minor.parse().ok()?,
            re,
        })
    }
}

/// Orders requirement ids numerically, as the standard does: CR 1.7 before
/// CR 1.11, a base requirement before its enhancements, CR 3.9 before
/// HDR 3.10 (component and host-device requirements share one numbering).
/// Ids that do not parse come last, by text.
pub fn cmp_requirements(a: &str, b: &str) -> Ordering {
    match (RequirementId::parse(a), RequirementId::parse(b)) {
        (Some(x), Some(y)) => (x.major, x.minor, x.re.unwrap_or(0), x.kind).cmp(&(
            y.major,
            y.minor,
            y.re.unwrap_or(0),
            y.kind,
        )),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CATALOGUE;

    #[test]
    fn requirements_sort_numerically() {
        let mut v = vec![
            "CR 7.8",
            "CR 1.11",
            "HDR 3.10 RE1",
            "CR 1.1 RE1",
            "CR 1.7",
            "CR 3.9",
            "CR 1.1",
            "HDR 3.14",
            "junk",
            "CR 2.10",
            "CR 2.9",
        ];
        v.sort_by(|a, b| cmp_requirements(a, b));
        assert_eq!(
            v,
            [
                "CR 1.1",
                "CR 1.1 RE1",
                "CR 1.7",
                "CR 1.11",
                "CR 2.9",
                "CR 2.10",
                "CR 3.9",
                "HDR 3.10 RE1",
                "HDR 3.14",
                "CR 7.8",
                "junk"
            ]
        );
    }

    #[test]
    fn every_reference_of_the_catalogue_has_a_title() {
        for c in CATALOGUE {
            for r in c.iec62443 {
                assert!(iec62443_title(r).is_some(), "{}: no title for {r}", c.id);
            }
            for s in c.mds2 {
                assert!(
                    mds2_section(s).is_some(),
                    "{}: unknown MDS2 section {s}",
                    c.id
                );
            }
        }
        for s in MEASURABLE_MDS2 {
            assert!(mds2_section(s).is_some(), "{s}");
        }
        assert_eq!(
            iec62443_title("HDR 3.10 RE1").unwrap(),
            "Support for updates: RE1 Update authenticity and integrity"
        );
        assert_eq!(iec62443_title("CR 9.9"), None);
        assert_eq!(iec62443_title("CR 1.1 RE9"), None);
        assert_eq!(iec62443_title("CR"), None);
    }
}
