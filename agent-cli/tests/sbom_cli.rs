//! `dha sbom` end to end: the built program on a fixture root and on this
//! machine, its output validated against the official CycloneDX 1.5 JSON
//! schema (`tests/data/cyclonedx`), and its failures.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use dha_tests::{materialise, repo_dir};
use serde_json::Value;
use std::collections::BTreeSet;
use std::process::{Command, Output, Stdio};

const DHA: &str = env!("CARGO_BIN_EXE_dha");

fn dha<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
    Command::new(DHA)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run dha")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

#[track_caller]
fn assert_exit(o: &Output, want: i32) {
    assert_eq!(
        o.status.code(),
        Some(want),
        "--- stdout\n{}\n--- stderr\n{}",
        stdout(o),
        stderr(o)
    );
    assert!(!stderr(o).contains("panicked"), "{}", stderr(o));
}

/// Validates `doc` against `bom-1.5.schema.json` with the SPDX and JSF
/// schemas registered by their `$id` (nothing fetched; formats checked).
fn validate(doc: &Value) -> Result<(), String> {
    let dir = repo_dir().join("tests/data/cyclonedx");
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

#[test]
fn the_sbom_of_a_fixture_root_is_valid_cyclonedx_1_5() {
    let fx = materialise("hardened");
    let o = dha(&[
        "sbom".as_ref(),
        "--root".as_ref(),
        fx.path().as_os_str(),
        "--config".as_ref(),
        repo_dir()
            .join("tests/data/roots/hardened.dha.toml")
            .as_os_str(),
    ]);
    assert_exit(&o, 0);
    let doc: Value = serde_json::from_str(&stdout(&o)).unwrap();
    validate(&doc).unwrap();
    assert_eq!(doc["bomFormat"], "CycloneDX");
    assert_eq!(doc["specVersion"], "1.5");
    assert_eq!(doc["metadata"]["component"]["name"], "ct-console-07");
    let comps = doc["components"].as_array().unwrap();
    assert!(comps.iter().any(|c| {
        c["purl"]
            .as_str()
            .is_some_and(|p| p.starts_with("pkg:deb/debian/bash@"))
    }));
    // The images of the root's install journal, as slots of kind "image".
    assert!(
        comps
            .iter()
            .any(|c| c["type"] == "firmware" && c["hashes"][0]["alg"] == "SHA-256"),
        "{}",
        stdout(&o)
    );
    // A validator that accepts anything would prove nothing.
    let mut broken = doc.clone();
    broken["components"][0]["type"] = "package".into();
    assert!(
        validate(&broken)
            .unwrap_err()
            .contains("/components/0/type")
    );

    // --output writes the same document to a file, nothing to stdout.
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("device.cdx.json");
    let o = dha(&[
        "sbom".as_ref(),
        "--root".as_ref(),
        fx.path().as_os_str(),
        "--output".as_ref(),
        file.as_os_str(),
    ]);
    assert_exit(&o, 0);
    assert!(stdout(&o).is_empty());
    let written: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    validate(&written).unwrap();
    assert_eq!(written["components"].as_array().unwrap().len(), comps.len());
}

#[test]
fn the_sbom_of_this_machine_is_valid_and_complete() {
    let o = dha(&["sbom"]);
    assert_exit(&o, 0);
    let doc: Value = serde_json::from_str(&stdout(&o)).unwrap();
    validate(&doc).unwrap();
    assert_eq!(doc["metadata"]["lifecycles"][0]["phase"], "operations");
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(doc["metadata"]["component"]["name"], hostname.trim());
    let Ok(q) = Command::new("dpkg-query")
        .args(["-W", "-f", "${db:Status-Status} ${Package}\n"])
        .output()
    else {
        eprintln!("no dpkg-query: not a Debian machine; the package count is not compared");
        return;
    };
    let installed: BTreeSet<String> = String::from_utf8(q.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("installed "))
        .map(str::to_owned)
        .collect();
    let listed: BTreeSet<String> = doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["type"] == "library")
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed, installed);
    eprintln!(
        "dha sbom of this machine: {} components, {} bytes",
        doc["components"].as_array().unwrap().len(),
        o.stdout.len()
    );
}

#[test]
fn an_unreadable_inventory_or_root_is_an_error() {
    let fx = materialise("hardened");
    let journal = fx.path().join("var/lib/dha/install.journal");
    std::fs::create_dir_all(journal.parent().unwrap()).unwrap();
    std::fs::write(&journal, "{\"schema_version\": 1, \"slots\": 7}").unwrap();
    let o = dha(&["sbom".as_ref(), "--root".as_ref(), fx.path().as_os_str()]);
    assert_exit(&o, 2);
    assert!(stdout(&o).is_empty(), "no partial SBOM");
    assert!(
        stderr(&o).contains("/var/lib/dha/install.journal"),
        "{}",
        stderr(&o)
    );
    let o = dha(&["sbom", "--root", "/nonexistent/dha-sbom-root"]);
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("nonexistent"), "{}", stderr(&o));
    let o = dha(&["sbom", "--format", "xml"]);
    assert_exit(&o, 2);
}

#[test]
fn help_documents_the_command() {
    let o = dha(&["sbom", "--help"]);
    assert_exit(&o, 0);
    for needle in [
        "CycloneDX",
        "--root",
        "--config",
        "--output",
        "Exit status:",
    ] {
        assert!(stdout(&o).contains(needle), "{needle}:\n{}", stdout(&o));
    }
}
