//! The subset of the CycloneDX 1.5 JSON model that dha emits (CycloneDX 1.5
//! JSON schema, `bom-1.5.schema.json`): field names, enum spellings and
//! which fields are optional follow the schema's `definitions`.
//!
//! Own serde structs rather than the `cyclonedx-bom` crate (0.8): that crate
//! models all of CycloneDX and brings about a dozen dependencies into
//! agent-core (regex, the SPDX license database, xml-rs, uuid with a random
//! generator, purl, fluent-uri, strum, indexmap, ordered-float, base64, a
//! proc-macro crate), all linked into the device's firmware, to emit the
//! handful of objects below. What they emit is checked against the official
//! schema by the tests (`tests/data/cyclonedx`), so the model cannot drift.

use serde::Serialize;

/// The BOM (schema root object).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Bom {
    /// `$schema`: the schema's `$id`, so editors and validators find it.
    #[serde(rename = "$schema")]
    pub schema: &'static str,
    /// Always `CycloneDX`.
    pub bom_format: &'static str,
    /// Always [`super::SPEC_VERSION`].
    pub spec_version: &'static str,
    /// `urn:uuid:…` (RFC 9562), see [`super::serial_number`].
    pub serial_number: String,
    /// The BOM's version: 1 (dha never edits a BOM it made).
    pub version: u32,
    /// Who made the BOM, when, and of what.
    pub metadata: Metadata,
    /// The software on the device.
    pub components: Vec<Component>,
}

/// `metadata` (`#/definitions/metadata`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Metadata {
    /// When the BOM was made (RFC 3339, UTC; schema `format: date-time`).
    pub timestamp: String,
    /// The lifecycle phase; `operations` for a running device.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lifecycles: Vec<Lifecycle>,
    /// The tools that made the BOM (1.5 object form: `{components: […]}`).
    pub tools: Tools,
    /// The device the BOM describes.
    pub component: Component,
}

/// One `metadata.lifecycles` entry (the pre-defined phase form).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lifecycle {
    /// `design`, `pre-build`, `build`, `post-build`, `operations`, …
    pub phase: &'static str,
}

/// `metadata.tools` in its CycloneDX 1.5 form (the array form is deprecated).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tools {
    /// The tools, as components (dha itself).
    pub components: Vec<Component>,
}

/// A component (`#/definitions/component`; `type` and `name` required).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Component {
    /// What kind of component.
    #[serde(rename = "type")]
    pub kind: ComponentType,
    /// A reference unique within the BOM (`bom-ref`).
    #[serde(rename = "bom-ref", skip_serializing_if = "Option::is_none")]
    pub bom_ref: Option<String>,
    /// The organisation that supplied it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supplier: Option<OrganizationalEntity>,
    /// Its name.
    pub name: String,
    /// Its version, as its packaging writes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// A short description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Its digests.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hashes: Vec<Hash>,
    /// Its Package URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    /// Links (the project's web site).
    #[serde(rename = "externalReferences", skip_serializing_if = "Vec::is_empty")]
    pub external_references: Vec<ExternalReference>,
    /// Name-value facts the schema has no field for (`dha:slot`, …).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub properties: Vec<Property>,
}

impl Component {
    /// A component with only its type and name.
    pub fn new(kind: ComponentType, name: impl Into<String>) -> Component {
        Component {
            kind,
            bom_ref: None,
            supplier: None,
            name: name.into(),
            version: None,
            description: None,
            hashes: Vec::new(),
            purl: None,
            external_references: Vec::new(),
            properties: Vec::new(),
        }
    }
}

/// The component types dha uses (schema `component.type` enum).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ComponentType {
    /// A software application (dha itself; a target unpacked into a
    /// directory slot).
    Application,
    /// A library: a Debian binary package, as the CycloneDX guidance for
    /// reusable third-party components recommends.
    Library,
    /// The operating system (from `os-release`).
    OperatingSystem,
    /// The device the BOM describes.
    Device,
    /// An image written to an A/B slot (a block device or an image file).
    Firmware,
}

/// `#/definitions/organizationalEntity`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrganizationalEntity {
    /// The organisation's name.
    pub name: String,
    /// Contacts at it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub contact: Vec<OrganizationalContact>,
}

/// `#/definitions/organizationalContact`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrganizationalContact {
    /// The contact's e-mail address (schema `format: idn-email`).
    pub email: String,
}

/// `#/definitions/hash`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hash {
    /// The algorithm (schema `hash-alg` enum): `SHA-256`.
    pub alg: &'static str,
    /// Lower-case hex digest (schema `hash-content` pattern).
    pub content: String,
}

/// `#/definitions/externalReference`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExternalReference {
    /// The reference type (schema enum): `website`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The URL (schema `format: iri-reference`).
    pub url: String,
}

/// `#/definitions/property`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Property {
    /// The property's name (`dha:` namespace for dha's own).
    pub name: String,
    /// Its value.
    pub value: String,
}
