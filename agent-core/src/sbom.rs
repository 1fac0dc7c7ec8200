//! The device's software bill of materials: a CycloneDX 1.5 JSON document
//! (issue 6 "Evidence", check SBOM-01; IEC 62443-4-2 CR 7.8 component
//! inventory; MDS2 section SBOM).
//!
//! What it lists, read from a [`Root`] (the live `/` or an extracted image):
//! - every installed package of the dpkg status database
//!   (`/var/lib/dpkg/status`, [`crate::parse::dpkg_status`]): name, version,
//!   architecture, supplier (the `Maintainer`), Package URL, home page;
//! - every image dha installed into a slot that the install journal of
//!   `[install]` records as good ([`crate::install::journal`]): target name,
//!   release counter, length and SHA-256;
//! - the operating system (`os-release(5)`), and the device itself (its host
//!   name) as the BOM's `metadata.component`.
//!
//! The document is deterministic: components are sorted, and the serial
//! number is derived from the content and the clock's time (see
//! [`serial_number`]), so the same device at the same instant gives the same
//! bytes. Validity against the official CycloneDX 1.5 JSON schema is checked
//! by the tests (`tests/data/cyclonedx`).
//!
//! A package database or journal that exists but cannot be read, is
//! malformed (journal) or was cut by a read limit makes [`build`] fail
//! ([`SbomError`]): an SBOM that silently leaves software out would be a
//! false disclosure. Malformed stanzas of the status database are skipped
//! with a [`Diagnostic`] each, as everywhere else.

pub mod model;

pub use model::{
    Bom, Component, ComponentType, ExternalReference, Hash, Lifecycle, Metadata,
    OrganizationalContact, OrganizationalEntity, Property, Tools,
};

use crate::audit::{AuditContext, HostProbe, Source, parse_os_release};
use crate::clock::{Clock, rfc3339};
use crate::config::Config;
use crate::finding::Diagnostic;
use crate::install::SlotKind;
use crate::install::journal::{ContentState, ImageRecord, Journal, JournalError};
use crate::parse::dpkg_status::{self, DpkgStatus, Package, purl_encode};
use crate::root::{Root, TextFile};
use std::collections::{BTreeMap, BTreeSet};

/// The CycloneDX specification version emitted.
pub const SPEC_VERSION: &str = "1.5";

/// The `$id` of the CycloneDX 1.5 JSON schema, written as the BOM's `$schema`.
pub const SCHEMA_ID: &str = "http://cyclonedx.org/schema/bom-1.5.schema.json";

/// Where dpkg keeps its status database (dpkg(1) "FILES").
pub const DPKG_STATUS: &str = "/var/lib/dpkg/status";

/// An input of the inventory: absent, present but unusable, or read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input<T> {
    /// The file does not exist.
    Absent,
    /// The file exists but could not be read, or is malformed; the string
    /// says why.
    Unreadable(String),
    /// The file was read.
    Read(T),
}

/// An image dha installed, as the install journal records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledTarget {
    /// The slot holding it (`A`, `B`, `recovery`).
    pub slot: String,
    /// The slot's kind, when `[install]` names the slot.
    pub kind: Option<SlotKind>,
    /// The target, its release counter, SHA-256 and length.
    pub image: ImageRecord,
}

/// What the software inventory is made of, read once per audit (a
/// [`Source`] for SBOM-01) or per SBOM.
#[derive(Debug, Clone)]
pub struct Inventory {
    /// The dpkg status database.
    pub dpkg: Input<DpkgStatus>,
    /// The install journal's path on the device (`install.journal`).
    pub journal_path: String,
    /// The images in good slots of the install journal.
    pub targets: Input<Vec<InstalledTarget>>,
    /// Problems met while reading (malformed stanzas, a cut file, …).
    pub diagnostics: Vec<Diagnostic>,
}

/// Why no SBOM could be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SbomError {
    /// The package database or the install journal exists but could not be
    /// read, or (the journal) is malformed.
    #[error("{path}: {reason}")]
    Unreadable {
        /// The file, as a path on the device.
        path: String,
        /// Why.
        reason: String,
    },
    /// The package database is larger than a read limit, so the SBOM would
    /// leave packages out.
    #[error("{path}: {reason}; the SBOM would be incomplete")]
    Incomplete {
        /// The file, as a path on the device.
        path: String,
        /// Which limit.
        reason: String,
    },
}

impl Inventory {
    /// Reads the dpkg status database and the install journal of
    /// `config.install` from `root` (both bounded by the root's read limits;
    /// the journal also by [`crate::install::journal::MAX_JOURNAL_BYTES`]).
    pub fn read(root: &Root, config: &Config) -> Inventory {
        let mut diagnostics = Vec::new();
        let dpkg = read_dpkg(root, &mut diagnostics);
        let journal_path = config.install.journal.to_string_lossy().into_owned();
        let targets = read_journal(root, config, &journal_path, &mut diagnostics);
        Inventory {
            dpkg,
            journal_path,
            targets,
            diagnostics,
        }
    }

    /// The installed packages (empty when the database is absent or unreadable).
    pub fn packages(&self) -> &[Package] {
        match &self.dpkg {
            Input::Read(s) => &s.packages,
            _ => &[],
        }
    }

    /// The installed targets (empty when the journal is absent or unreadable).
    pub fn installed_targets(&self) -> &[InstalledTarget] {
        match &self.targets {
            Input::Read(t) => t,
            _ => &[],
        }
    }

    /// Why an SBOM of this inventory cannot be made, if it cannot: an
    /// unreadable database or journal, or a database cut by a read limit.
    pub fn problem(&self) -> Option<SbomError> {
        match &self.dpkg {
            Input::Unreadable(reason) => {
                return Some(SbomError::Unreadable {
                    path: DPKG_STATUS.to_owned(),
                    reason: reason.clone(),
                });
            }
            Input::Read(s) if s.incomplete => {
                return Some(SbomError::Incomplete {
                    path: DPKG_STATUS.to_owned(),
                    reason:
                        "larger than a read limit ([limits] max_file_bytes, or 200,000 stanzas)"
                            .to_owned(),
                });
            }
            _ => {}
        }
        match &self.targets {
            Input::Unreadable(reason) => Some(SbomError::Unreadable {
                path: self.journal_path.clone(),
                reason: reason.clone(),
            }),
            _ => None,
        }
    }
}

impl Source for Inventory {
    fn load(ctx: &AuditContext<'_>) -> Self {
        let inv = Inventory::read(ctx.root, ctx.config);
        for d in &inv.diagnostics {
            ctx.warn(d.clone());
        }
        inv
    }
}

fn read_dpkg(root: &Root, diagnostics: &mut Vec<Diagnostic>) -> Input<DpkgStatus> {
    match root.read_text(DPKG_STATUS) {
        Ok(Some(t)) => {
            note_text_problems(&t, root, diagnostics);
            Input::Read(dpkg_status::parse_status(&t, &mut |d| diagnostics.push(d)))
        }
        Ok(None) => Input::Absent,
        Err(e) => {
            let reason = e.to_string();
            diagnostics.push(file_diagnostic(DPKG_STATUS, None, reason.clone()));
            Input::Unreadable(reason)
        }
    }
}

fn note_text_problems(t: &TextFile, root: &Root, diagnostics: &mut Vec<Diagnostic>) {
    if t.truncated {
        diagnostics.push(file_diagnostic(
            &t.path,
            None,
            format!(
                "larger than the read limit of {} bytes; the rest was ignored",
                root.limits().max_file_bytes
            ),
        ));
    }
    if t.lossy {
        diagnostics.push(file_diagnostic(
            &t.path,
            None,
            "holds bytes that are not UTF-8; they were replaced".to_owned(),
        ));
    }
}

fn file_diagnostic(file: &str, field: Option<String>, message: String) -> Diagnostic {
    Diagnostic {
        file: file.to_owned(),
        line: None,
        field,
        message,
    }
}

fn read_journal(
    root: &Root,
    config: &Config,
    path: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Input<Vec<InstalledTarget>> {
    let mut unreadable = |field: Option<String>, reason: String| {
        diagnostics.push(file_diagnostic(path, field, reason.clone()));
        Input::Unreadable(reason)
    };
    if !path.starts_with('/') {
        return unreadable(
            Some("install.journal".to_owned()),
            "not an absolute path".to_owned(),
        );
    }
    let bytes = match root.read(path) {
        Ok(Some((bytes, _))) => bytes,
        Ok(None) => return Input::Absent,
        Err(e) => return unreadable(None, e.to_string()),
    };
    // A journal over the root's read limit is cut here; Journal::from_bytes
    // then refuses it (it is far over MAX_JOURNAL_BYTES) or fails to parse.
    let journal = match Journal::from_bytes(&bytes) {
        Ok(j) => j,
        Err(JournalError::Invalid { field, reason, .. }) => {
            return unreadable(Some(field), format!("malformed install journal: {reason}"));
        }
        Err(e) => return unreadable(None, e.to_string()),
    };
    let kind_of = |slot: &str| {
        config
            .install
            .slots
            .iter()
            .chain(config.install.recovery.iter())
            .find(|s| s.name == slot)
            .map(|s| s.kind)
    };
    Input::Read(
        journal
            .slots
            .into_iter()
            .filter(|(_, rec)| rec.state == ContentState::Good)
            .filter_map(|(slot, rec)| {
                let image = rec.image?;
                Some(InstalledTarget {
                    kind: kind_of(&slot),
                    slot,
                    image,
                })
            })
            .collect(),
    )
}

/// An SBOM and what was noticed while making it.
#[derive(Debug, Clone)]
pub struct Sbom {
    /// The CycloneDX document.
    pub bom: Bom,
    /// Problems with the inputs that did not stop the SBOM (malformed
    /// stanzas, skipped duplicates).
    pub warnings: Vec<Diagnostic>,
    /// Packages listed.
    pub packages: usize,
    /// Installed targets listed.
    pub targets: usize,
}

impl Sbom {
    /// The document as pretty-printed JSON, newline-terminated.
    pub fn to_json(&self) -> String {
        // Structs of strings and integers: serialisation cannot fail.
        let mut s = serde_json::to_string_pretty(&self.bom).unwrap_or_default();
        s.push('\n');
        s
    }
}

/// Makes the SBOM of `root`. `host` gives the live host name when `root` is
/// the live `/`; the clock gives `metadata.timestamp`.
pub fn build(
    root: &Root,
    config: &Config,
    clock: &dyn Clock,
    host: Option<&dyn HostProbe>,
) -> Result<Sbom, SbomError> {
    let inventory = Inventory::read(root, config);
    if let Some(e) = inventory.problem() {
        return Err(e);
    }
    let mut warnings = inventory.diagnostics.clone();
    let os = read_os_release(root, &mut warnings);
    let hostname = host
        .filter(|_| root.is_live())
        .and_then(HostProbe::hostname)
        .or_else(|| {
            root.read_text("/etc/hostname")
                .ok()
                .flatten()
                .and_then(|t| {
                    t.lines()
                        .map(|(_, l)| l.trim().to_owned())
                        .find(|l| !l.is_empty() && !l.starts_with('#'))
                })
        });

    let mut components = Vec::new();
    if let Some(c) = os_component(&os) {
        components.push(c);
    }
    let (namespace, distro) = purl_namespace(&os);
    let mut packages: Vec<&Package> = inventory.packages().iter().collect();
    packages.sort_by(|a, b| {
        (&a.name, &a.architecture, &a.version).cmp(&(&b.name, &b.architecture, &b.version))
    });
    let mut refs = BTreeSet::new();
    let mut package_count = 0usize;
    for p in packages {
        let c = package_component(p, &namespace, distro.as_deref());
        let bom_ref = c.bom_ref.clone().unwrap_or_default();
        if !refs.insert(bom_ref.clone()) {
            warnings.push(Diagnostic {
                file: DPKG_STATUS.to_owned(),
                line: Some(p.line),
                field: Some("Package".to_owned()),
                message: format!("{bom_ref} is listed twice; the later stanza is left out"),
            });
            continue;
        }
        components.push(c);
        package_count = package_count.saturating_add(1);
    }
    let targets: Vec<Component> = inventory
        .installed_targets()
        .iter()
        .map(target_component)
        .collect();
    let target_count = targets.len();
    components.extend(targets);

    let mut device = Component::new(
        ComponentType::Device,
        hostname.unwrap_or_else(|| "unnamed-device".to_owned()),
    );
    device.bom_ref = Some("device".to_owned());
    let mut tool = Component::new(ComponentType::Application, "dha");
    tool.version = Some(crate::VERSION.to_owned());
    tool.description =
        Some("dha, the device-hardening agent for medical-imaging devices".to_owned());
    let mut bom = Bom {
        schema: SCHEMA_ID,
        bom_format: "CycloneDX",
        spec_version: SPEC_VERSION,
        serial_number: String::new(),
        version: 1,
        metadata: Metadata {
            timestamp: whole_seconds(clock.now()),
            lifecycles: if root.is_live() {
                vec![Lifecycle {
                    phase: "operations",
                }]
            } else {
                Vec::new()
            },
            tools: Tools {
                components: vec![tool],
            },
            component: device,
        },
        components,
    };
    bom.serial_number = serial_number(&bom);
    Ok(Sbom {
        bom,
        warnings,
        packages: package_count,
        targets: target_count,
    })
}

fn read_os_release(root: &Root, warnings: &mut Vec<Diagnostic>) -> BTreeMap<String, String> {
    for path in ["/etc/os-release", "/usr/lib/os-release"] {
        match root.read_text(path) {
            Ok(Some(t)) => return parse_os_release(&t),
            Ok(None) => {}
            Err(e) => warnings.push(file_diagnostic(path, None, e.to_string())),
        }
    }
    BTreeMap::new()
}

/// The operating system as a component, when `os-release` names it.
fn os_component(os: &BTreeMap<String, String>) -> Option<Component> {
    let name = os.get("ID").or_else(|| os.get("NAME"))?;
    let mut c = Component::new(ComponentType::OperatingSystem, name.clone());
    c.bom_ref = Some("os".to_owned());
    c.version = os.get("VERSION_ID").or_else(|| os.get("VERSION")).cloned();
    c.description = os.get("PRETTY_NAME").cloned();
    Some(c)
}

/// The purl namespace (the distribution, os-release `ID`; `debian` when
/// unknown or not a plain name) and the `distro` qualifier (`ID-VERSION_ID`,
/// e.g. `debian-12`, when both are known), per the purl specification's
/// `deb` type.
fn purl_namespace(os: &BTreeMap<String, String>) -> (String, Option<String>) {
    let plain = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
    };
    match os.get("ID").filter(|id| plain(id)) {
        Some(id) => {
            let distro = os
                .get("VERSION_ID")
                .filter(|v| plain(v))
                .map(|v| format!("{id}-{v}"));
            (id.clone(), distro)
        }
        None => ("debian".to_owned(), None),
    }
}

/// The purl of a package: `pkg:deb/<namespace>/<name>@<version>?arch=<arch>
/// [&distro=<distro>]`, each part percent-encoded as the purl specification
/// requires ([`purl_encode`]). Like [`Package::purl`] but with the
/// namespace taken from `os-release` (an Ubuntu device's packages are
/// `pkg:deb/ubuntu/...`).
fn purl(p: &Package, namespace: &str, distro: Option<&str>) -> String {
    let mut s = format!(
        "pkg:deb/{}/{}@{}?arch={}",
        purl_encode(namespace),
        purl_encode(&p.name.to_ascii_lowercase()),
        purl_encode(&p.version),
        purl_encode(&p.architecture.to_ascii_lowercase()),
    );
    if let Some(d) = distro {
        s.push_str("&distro=");
        s.push_str(&purl_encode(d));
    }
    s
}

fn package_component(p: &Package, namespace: &str, distro: Option<&str>) -> Component {
    let mut c = Component::new(ComponentType::Library, p.name.clone());
    let purl = purl(p, namespace, distro);
    c.bom_ref = Some(purl.clone());
    c.purl = Some(purl);
    c.version = Some(p.version.clone());
    c.supplier = p.maintainer.as_deref().and_then(supplier);
    if let Some(url) = p.homepage.as_deref().filter(|u| is_web_url(u)) {
        c.external_references.push(ExternalReference {
            kind: "website",
            url: url.to_owned(),
        });
    }
    if let Some(src) = &p.source {
        c.properties.push(Property {
            name: "dha:deb:source".to_owned(),
            value: match &src.version {
                Some(v) => format!("{} ({v})", src.name),
                None => src.name.clone(),
            },
        });
    }
    c
}

/// The supplier from a `Maintainer` value, `Name <email>` (deb-control(5)):
/// the name as the organisation, the address as its contact when it is a
/// plain `local@domain` (anything else is left out rather than emitted as
/// an invalid `idn-email`).
pub fn supplier(maintainer: &str) -> Option<OrganizationalEntity> {
    let (name, email) = match maintainer.split_once('<') {
        Some((name, rest)) => (name.trim(), rest.strip_suffix('>').map(str::trim)),
        None => (maintainer.trim(), None),
    };
    let email = email.filter(|e| is_plain_email(e)).map(str::to_owned);
    let name = if name.is_empty() {
        email.clone()?
    } else {
        name.to_owned()
    };
    Some(OrganizationalEntity {
        name,
        contact: email
            .map(|email| vec![OrganizationalContact { email }])
            .unwrap_or_default(),
    })
}

fn is_plain_email(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else {
        return false;
    };
    let atext = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~.".contains(&b);
    !local.is_empty()
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.bytes().all(atext)
        && domain.contains('.')
        && domain.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// An `http(s)://` URL of RFC 3986 characters only (so a valid
/// `iri-reference`); a `Homepage` that is not is left out.
fn is_web_url(u: &str) -> bool {
    (u.starts_with("https://") || u.starts_with("http://"))
        && u.len() > "https://".len()
        && u.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=%".contains(&b))
}

fn target_component(t: &InstalledTarget) -> Component {
    let kind = match t.kind {
        Some(SlotKind::Directory) => ComponentType::Application,
        _ => ComponentType::Firmware,
    };
    let mut c = Component::new(kind, t.image.target.clone());
    c.bom_ref = Some(format!("dha-slot:{}", t.slot));
    c.version = Some(t.image.release_counter.to_string());
    c.description = Some(format!(
        "installed by dha into slot {} (TUF target, release counter {})",
        t.slot, t.image.release_counter
    ));
    c.hashes.push(Hash {
        alg: "SHA-256",
        content: t.image.sha256.clone(),
    });
    c.properties = vec![
        Property {
            name: "dha:slot".to_owned(),
            value: t.slot.clone(),
        },
        Property {
            name: "dha:length".to_owned(),
            value: t.image.length.to_string(),
        },
    ];
    c
}

/// The BOM's serial number: a name-based UUID version 8 (RFC 9562 §5.8 and
/// Appendix B.2, "SHA-256-based UUIDv8") of the document with an empty
/// serial number. Deterministic, yet different for any change of content or
/// time, as CycloneDX 1.5 asks ("every BOM generated SHOULD have a unique
/// serial number").
pub fn serial_number(bom: &Bom) -> String {
    let mut unserialed = bom.clone();
    unserialed.serial_number = String::new();
    let bytes = serde_json::to_vec(&unserialed).unwrap_or_default();
    let digest = ring::digest::digest(&ring::digest::SHA256, &bytes);
    let mut u = [0u8; 16];
    for (dst, src) in u.iter_mut().zip(digest.as_ref()) {
        *dst = *src;
    }
    // Version 8 in the high nibble of octet 6, variant 0b10 in octet 8.
    u[6] = (u[6] & 0x0f) | 0x80;
    u[8] = (u[8] & 0x3f) | 0x80;
    let hex: String = u.iter().map(|b| format!("{b:02x}")).collect();
    let part = |a: usize, b: usize| hex.get(a..b).unwrap_or_default();
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        part(0, 8),
        part(8, 12),
        part(12, 16),
        part(16, 20),
        part(20, 32)
    )
}

/// The time in RFC 3339 to the whole second: the SBOM's size does not change
/// from one call to the next with the number of digits of a fraction (a C
/// caller sizes its buffer with one call and fills it with the next).
fn whole_seconds(t: std::time::SystemTime) -> String {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    rfc3339(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

#[cfg(test)]
mod tests;
