//! The SBOM against the official CycloneDX 1.5 JSON schema
//! (`tests/data/cyclonedx`), on the fixture root, on a root with installed
//! targets and on this machine; and the failure modes.

use super::*;
use crate::clock::FixedClock;
use crate::install::journal::SlotRecord;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// 2026-11-29T00:00:00Z, the fixtures' "today".
const NOW: u64 = 1_795_910_400;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Validates `doc` against `bom-1.5.schema.json`, the `$ref`s to the SPDX
/// and JSF schemas resolved to the local copies by their `$id`; nothing is
/// fetched. Formats (`date-time`, `idn-email`, `iri-reference`) are checked.
/// The error lists every violation with its JSON pointer.
pub(crate) fn validate(doc: &Value) -> Result<(), String> {
    let dir = repo().join("tests/data/cyclonedx");
    let load = |name: &str| -> Value {
        serde_json::from_slice(&std::fs::read(dir.join(name)).unwrap()).unwrap()
    };
    let registry = jsonschema::Registry::new()
        .add(
            "http://cyclonedx.org/schema/spdx.schema.json",
            load("spdx.schema.json"),
        )
        .unwrap()
        .add(
            "http://cyclonedx.org/schema/jsf-0.82.schema.json",
            load("jsf-0.82.schema.json"),
        )
        .unwrap()
        .prepare()
        .unwrap();
    let validator = jsonschema::options()
        .offline()
        .with_registry(&registry)
        .should_validate_formats(true)
        .build(&load("bom-1.5.schema.json"))
        .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("\n"))
    }
}

fn sbom_of(root: &Path, config: &Config) -> Result<Sbom, SbomError> {
    let root = Root::open(root).unwrap();
    build(&root, config, &FixedClock::from_unix_secs(NOW), None)
}

fn json(s: &Sbom) -> Value {
    serde_json::from_str(&s.to_json()).unwrap()
}

fn component<'a>(doc: &'a Value, bom_ref: &str) -> &'a Value {
    doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["bom-ref"] == bom_ref)
        .unwrap_or_else(|| panic!("no component {bom_ref}"))
}

#[test]
fn the_fixture_root_gives_a_valid_cyclonedx_1_5_document() {
    let root = repo().join("tests/data/roots/hardened");
    let sbom = sbom_of(&root, &Config::default()).unwrap();
    let doc = json(&sbom);
    validate(&doc).unwrap();
    assert!(sbom.warnings.is_empty(), "{:?}", sbom.warnings);
    assert_eq!(doc["bomFormat"], "CycloneDX");
    assert_eq!(doc["specVersion"], "1.5");
    assert_eq!(doc["metadata"]["timestamp"], "2026-11-29T00:00:00Z");
    assert_eq!(doc["metadata"]["component"]["name"], "ct-console-07");
    assert_eq!(doc["metadata"]["component"]["type"], "device");
    assert_eq!(
        doc["metadata"]["tools"]["components"][0]["version"],
        crate::VERSION
    );
    // Every installed stanza, and not the one only unpacked (avahi-utils).
    let text = std::fs::read_to_string(root.join("var/lib/dpkg/status")).unwrap();
    let installed = text
        .split("\n\n")
        .filter(|s| s.contains("Status: install ok installed"))
        .count();
    assert_eq!(sbom.packages, installed);
    assert!(installed >= 30, "{installed}");
    // The images of the good slots of the root's install journal (written
    // for BAK-01 by the system checks' fixture).
    let journal = Journal::from_bytes(
        &std::fs::read(root.join("var/lib/dha/install.journal")).unwrap_or_default(),
    )
    .unwrap_or_default();
    let good: Vec<(&String, &ImageRecord)> = journal
        .slots
        .iter()
        .filter(|(_, r)| r.state == ContentState::Good)
        .filter_map(|(n, r)| Some((n, r.image.as_ref()?)))
        .collect();
    assert_eq!(sbom.targets, good.len());
    for (slot, image) in &good {
        let c = component(&doc, &format!("dha-slot:{slot}"));
        assert_eq!(c["type"], "firmware");
        assert_eq!(c["name"], image.target.as_str());
        assert_eq!(c["hashes"][0]["content"], image.sha256.as_str());
    }
    let comps = doc["components"].as_array().unwrap();
    assert_eq!(
        comps.len(),
        installed + 1 + good.len(),
        "the packages, the OS and the targets"
    );
    assert!(!text.contains("Package: avahi-utils\nStatus: install ok installed"));
    assert!(!sbom.to_json().contains("avahi-utils"));
    let os = component(&doc, "os");
    assert_eq!(os["type"], "operating-system");
    assert_eq!(os["name"], "debian");
    assert_eq!(os["version"], "12");
    // A package with everything: purl with the distro, supplier with its
    // contact, home page, source package.
    let libc = comps.iter().find(|c| c["name"] == "libc6").unwrap();
    let purl = libc["purl"].as_str().unwrap();
    assert!(
        purl.starts_with("pkg:deb/debian/libc6@") && purl.ends_with("?arch=amd64&distro=debian-12"),
        "{purl}"
    );
    assert_eq!(libc["bom-ref"], libc["purl"]);
    assert_eq!(libc["type"], "library");
    assert_eq!(libc["supplier"]["name"], "GNU Libc Maintainers");
    assert_eq!(
        libc["supplier"]["contact"][0]["email"],
        "debian-glibc@lists.debian.org"
    );
    assert_eq!(libc["properties"][0]["name"], "dha:deb:source");
    assert_eq!(libc["properties"][0]["value"], "glibc");
    // An epoch is percent-encoded in the purl, kept as written in `version`.
    let attr = comps.iter().find(|c| c["name"] == "attr").unwrap();
    assert!(attr["version"].as_str().unwrap().starts_with("1:"));
    assert!(attr["purl"].as_str().unwrap().contains("@1%3A"));
    // Sorted by name after the OS, so the output is deterministic.
    let names: Vec<&str> = comps
        .iter()
        .filter(|c| c["type"] == "library")
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted);
    assert_eq!(
        sbom_of(&root, &Config::default()).unwrap().to_json(),
        sbom.to_json()
    );
}

/// A root with a journal: good slot A holds release 3 of `os.img`, slot B
/// is bad (a torn install) and is not listed.
fn root_with_journal(dir: &Path, journal: &Journal) -> Config {
    let status = repo().join("tests/data/roots/hardened/var/lib/dpkg/status");
    std::fs::create_dir_all(dir.join("var/lib/dpkg")).unwrap();
    std::fs::copy(status, dir.join("var/lib/dpkg/status")).unwrap();
    std::fs::create_dir_all(dir.join("var/lib/dha")).unwrap();
    std::fs::write(dir.join("var/lib/dha/install.journal"), journal.to_bytes()).unwrap();
    let mut cfg = Config::default();
    cfg.install.slots = vec![
        crate::install::SlotConfig {
            name: "A".into(),
            kind: SlotKind::Block,
            path: "/dev/mmcblk0p2".into(),
        },
        crate::install::SlotConfig {
            name: "B".into(),
            kind: SlotKind::Block,
            path: "/dev/mmcblk0p3".into(),
        },
    ];
    cfg.install.recovery = Some(crate::install::SlotConfig {
        name: "recovery".into(),
        kind: SlotKind::Directory,
        path: "/srv/recovery".into(),
    });
    cfg
}

fn journal() -> Journal {
    let image = |target: &str, n: u64, byte: &str| ImageRecord {
        target: target.into(),
        release_counter: n,
        sha256: byte.repeat(32),
        length: 4_194_304,
    };
    let mut j = Journal::default();
    j.slots.insert(
        "A".into(),
        SlotRecord {
            state: ContentState::Good,
            image: Some(image("os.img", 3, "ab")),
        },
    );
    j.slots.insert(
        "B".into(),
        SlotRecord {
            state: ContentState::Bad,
            image: Some(image("os.img", 4, "cd")),
        },
    );
    j.slots.insert(
        "recovery".into(),
        SlotRecord {
            state: ContentState::Good,
            image: Some(image("recovery.tar", 1, "ef")),
        },
    );
    j
}

#[test]
fn installed_targets_are_listed_with_their_hashes() {
    let d = tempfile::tempdir().unwrap();
    let cfg = root_with_journal(d.path(), &journal());
    let sbom = sbom_of(d.path(), &cfg).unwrap();
    let doc = json(&sbom);
    validate(&doc).unwrap();
    assert_eq!(
        sbom.targets, 2,
        "slot B is bad: its image is not on the device"
    );
    let a = component(&doc, "dha-slot:A");
    assert_eq!(a["type"], "firmware");
    assert_eq!(a["name"], "os.img");
    assert_eq!(a["version"], "3");
    assert_eq!(a["hashes"][0]["alg"], "SHA-256");
    assert_eq!(a["hashes"][0]["content"], "ab".repeat(32));
    assert!(
        a["properties"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "dha:length" && p["value"] == "4194304")
    );
    let r = component(&doc, "dha-slot:recovery");
    assert_eq!(r["type"], "application", "a directory slot");
    assert!(!sbom.to_json().contains(&"cd".repeat(32)));
    // The serial number is an RFC 9562 UUIDv8 that follows the content.
    let serial = doc["serialNumber"].as_str().unwrap();
    assert_eq!(serial.as_bytes()[23], b'8', "{serial}");
    assert!(matches!(serial.as_bytes()[28], b'8' | b'9' | b'a' | b'b'));
    let other = sbom_of(
        &repo().join("tests/data/roots/hardened"),
        &Config::default(),
    )
    .unwrap();
    assert_ne!(other.bom.serial_number, sbom.bom.serial_number);
}

#[test]
fn a_broken_journal_or_an_unreadable_database_stops_the_sbom() {
    let d = tempfile::tempdir().unwrap();
    let cfg = root_with_journal(d.path(), &journal());
    let jpath = d.path().join("var/lib/dha/install.journal");
    let good = std::fs::read_to_string(&jpath).unwrap();
    std::fs::write(&jpath, good.replacen("\"good\"", "\"great\"", 1)).unwrap();
    let e = sbom_of(d.path(), &cfg).unwrap_err();
    assert!(
        matches!(&e, SbomError::Unreadable { path, .. } if path == "/var/lib/dha/install.journal"),
        "{e}"
    );
    std::fs::remove_file(&jpath).unwrap();
    assert!(sbom_of(d.path(), &cfg).is_ok(), "no journal: no target");

    // A directory where the database should be.
    let status = d.path().join("var/lib/dpkg/status");
    std::fs::remove_file(&status).unwrap();
    std::fs::create_dir(&status).unwrap();
    let e = sbom_of(d.path(), &cfg).unwrap_err();
    assert!(
        matches!(&e, SbomError::Unreadable { path, .. } if path == DPKG_STATUS),
        "{e}"
    );

    // A database over the read limit.
    std::fs::remove_dir(&status).unwrap();
    std::fs::copy(
        repo().join("tests/data/roots/hardened/var/lib/dpkg/status"),
        &status,
    )
    .unwrap();
    let root = Root::with_limits(
        d.path(),
        crate::ReadLimits {
            max_file_bytes: 4096,
            ..crate::ReadLimits::default()
        },
    )
    .unwrap();
    let e = build(&root, &cfg, &FixedClock::from_unix_secs(NOW), None).unwrap_err();
    assert!(matches!(e, SbomError::Incomplete { .. }), "{e}");
    assert!(e.to_string().contains("incomplete"), "{e}");
}

#[test]
fn no_package_database_gives_an_empty_but_valid_sbom() {
    let d = tempfile::tempdir().unwrap();
    let sbom = sbom_of(d.path(), &Config::default()).unwrap();
    assert_eq!((sbom.packages, sbom.targets), (0, 0));
    let doc = json(&sbom);
    validate(&doc).unwrap();
    assert_eq!(doc["metadata"]["component"]["name"], "unnamed-device");
    assert_eq!(doc["components"], serde_json::json!([]));
}

#[test]
fn malformed_stanzas_are_warnings_and_duplicates_are_left_out() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join("var/lib/dpkg")).unwrap();
    let stanza = "Package: zlib1g\nStatus: install ok installed\nVersion: 1:1.2.13.dfsg-1\n\
                  Architecture: amd64\nMaintainer: Mark Brown <broonie@debian.org>\n\
                  Homepage: not a url\n";
    let text = format!(
        "{stanza}\n{stanza}\nPackage: Bad_Name\nStatus: install ok installed\n\
         Version: 1\nArchitecture: amd64\n\nPackage: odd\nStatus: install ok installed\n\
         Version: 1.0\nArchitecture: all\nMaintainer: <not an address>\n"
    );
    std::fs::write(d.path().join("var/lib/dpkg/status"), text).unwrap();
    let sbom = sbom_of(d.path(), &Config::default()).unwrap();
    let doc = json(&sbom);
    validate(&doc).unwrap();
    assert_eq!(sbom.packages, 2);
    let w: Vec<String> = sbom.warnings.iter().map(ToString::to_string).collect();
    assert!(
        w.iter()
            .any(|w| w.contains(":8") && w.contains("listed twice")),
        "{w:?}"
    );
    assert!(w.iter().any(|w| w.contains("Bad_Name")), "{w:?}");
    let z = component(&doc, "pkg:deb/debian/zlib1g@1%3A1.2.13.dfsg-1?arch=amd64");
    assert!(z.get("externalReferences").is_none(), "not a URL");
    let odd = component(&doc, "pkg:deb/debian/odd@1.0?arch=all");
    assert!(odd.get("supplier").is_none(), "no name, no valid address");
}

#[test]
fn suppliers_come_from_the_maintainer_field() {
    let s =
        supplier("Debian systemd Maintainers <pkg-systemd-maintainers@lists.alioth.debian.org>")
            .unwrap();
    assert_eq!(s.name, "Debian systemd Maintainers");
    assert_eq!(
        s.contact[0].email,
        "pkg-systemd-maintainers@lists.alioth.debian.org"
    );
    let s = supplier("Ubuntu Developers").unwrap();
    assert!(s.contact.is_empty());
    let s = supplier("Someone <some one@example.org>").unwrap();
    assert_eq!(s.name, "Someone");
    assert!(s.contact.is_empty(), "an address with a space is left out");
    assert_eq!(supplier("<a@b.org>").unwrap().name, "a@b.org");
    assert!(supplier("").is_none());
}

/// The validator is real: a document the schema forbids fails, naming where.
#[test]
fn broken_documents_fail_the_schema() {
    let d = tempfile::tempdir().unwrap();
    let cfg = root_with_journal(d.path(), &journal());
    let good = json(&sbom_of(d.path(), &cfg).unwrap());
    validate(&good).unwrap();
    let mut cases: Vec<(Value, &str)> = Vec::new();
    let mut v = good.clone();
    v["components"][1].as_object_mut().unwrap().remove("name");
    cases.push((v, "/components/1"));
    let mut v = good.clone();
    v["components"][1]["type"] = "package".into();
    cases.push((v, "/components/1/type"));
    let mut v = good.clone();
    let last = v["components"].as_array().unwrap().len() - 1;
    v["components"][last]["hashes"][0]["content"] = "xyz".into();
    cases.push((v, "hashes/0/content"));
    let mut v = good.clone();
    v["metadata"]["timestamp"] = "yesterday".into();
    cases.push((v, "/metadata/timestamp"));
    let mut v = good.clone();
    v["serialNumber"] = "42".into();
    cases.push((v, "/serialNumber"));
    let mut v = good.clone();
    v["bomFormat"] = "SPDX".into();
    cases.push((v, "/bomFormat"));
    let mut v = good.clone();
    v["metadata"]["color"] = "blue".into();
    cases.push((v, "/metadata"));
    let mut v = good;
    v["components"][1]["supplier"]["contact"][0]["email"] = "not an address".into();
    cases.push((v, "/email"));
    for (doc, pointer) in cases {
        let e = validate(&doc).expect_err(pointer);
        assert!(e.contains(pointer), "{pointer}: {e}");
    }
}

/// This machine: the SBOM of `/` is valid and lists exactly the packages
/// `dpkg-query` says are installed.
#[test]
fn the_live_machine_gives_a_valid_sbom_of_every_installed_package() {
    let Ok(out) = std::process::Command::new("dpkg-query")
        .args([
            "-W",
            "-f",
            "${db:Status-Status} ${Package}:${Architecture}\n",
        ])
        .output()
    else {
        eprintln!("no dpkg-query: not a Debian machine; skipped");
        return;
    };
    let listed = String::from_utf8(out.stdout).unwrap();
    let installed: BTreeSet<String> = listed
        .lines()
        .filter_map(|l| l.strip_prefix("installed "))
        .map(str::to_owned)
        .collect();
    let root = Root::open("/").unwrap();
    let sbom = build(&root, &Config::default(), &crate::SystemClock, None).unwrap();
    let doc = json(&sbom);
    validate(&doc).unwrap();
    let seen: BTreeSet<String> = sbom
        .bom
        .components
        .iter()
        .filter(|c| c.kind == ComponentType::Library)
        .map(|c| {
            let arch = c.purl.as_deref().unwrap().split("arch=").nth(1).unwrap();
            format!("{}:{}", c.name, arch.split('&').next().unwrap())
        })
        .collect();
    assert_eq!(seen, installed);
    assert_eq!(sbom.packages, installed.len());
    eprintln!(
        "live SBOM: {} packages, {} targets, {} bytes",
        sbom.packages,
        sbom.targets,
        sbom.to_json().len()
    );
}
