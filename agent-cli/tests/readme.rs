//! The README's examples work as written: the C example compiles with
//! warnings as errors against `include/dha.h` and `libdha.a` and reports a
//! planted weakness; the commands it shows are ones `dha` accepts. (The Rust
//! example is compiled as a doctest of agent-linux.)
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use dha_tests::{materialise, repo_dir};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn readme() -> String {
    fs::read_to_string(repo_dir().join("README.md")).unwrap()
}

/// The body of every fenced block of `lang` in the README.
fn blocks(lang: &str) -> Vec<String> {
    let text = readme();
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for line in text.lines() {
        match &mut cur {
            None if line.trim_end() == format!("```{lang}") => cur = Some(String::new()),
            Some(body) if line.trim_end() == "```" => {
                out.push(std::mem::take(body));
                cur = None;
            }
            Some(body) => {
                body.push_str(line);
                body.push('\n');
            }
            None => {}
        }
    }
    out
}

/// A fresh `libdha.a` (see [`dha_tests::build_ffi_lib`]; the same
/// directory tests/tests/c_api.rs uses, so the library is built once for both).
fn libdha() -> PathBuf {
    dha_tests::build_ffi_lib(Path::new(env!("CARGO_TARGET_TMPDIR"))).join("libdha.a")
}

#[test]
fn the_c_example_compiles_cleanly_and_reports_a_planted_weakness() {
    let c = blocks("c");
    assert_eq!(c.len(), 1, "the README has one C example");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("readme-c");
    fs::create_dir_all(&dir).unwrap();
    let src = dir.join("audit.c");
    fs::write(&src, &c[0]).unwrap();
    let exe = dir.join("audit");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_owned());
    // The README's own compile line, with warnings as errors and -pedantic.
    let out = Command::new(&cc)
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-I"])
        .arg(repo_dir().join("include"))
        .arg(&src)
        .arg(libdha())
        .args(["-lpthread", "-ldl", "-lm", "-o"])
        .arg(&exe)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{cc} failed on the README's C example:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let fx = materialise("hardened");
    let passwd = fx.path().join("etc/passwd");
    let mut text = fs::read_to_string(&passwd).unwrap();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str("toor:x:0:0:maintenance:/root:/bin/bash\n");
    fs::write(&passwd, &text).unwrap();
    let line = text.lines().count();

    let out = Command::new(&exe)
        .arg(fx.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // DHA_SEVERITY_CRITICAL is 4.
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with(&format!("4 ACC-01 /etc/passwd:{line} "))),
        "{stdout}"
    );

    let out = Command::new(&exe)
        .arg("/nonexistent/image")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/image"));
}

#[test]
fn the_fresh_machine_commands_are_the_ones_ci_runs() {
    let text = readme();
    let fresh = text
        .split("## On a fresh machine")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .unwrap();
    let commands: Vec<&str> = fresh
        .split("```sh\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .map(str::trim)
        .collect();
    assert_eq!(
        commands,
        [
            "cargo run --release -p agent-cli -- audit",
            "cargo test --workspace --locked"
        ]
    );
    let ci = fs::read_to_string(repo_dir().join(".ci/run")).unwrap();
    assert!(
        ci.lines().any(|l| l == "cargo test --workspace --locked"),
        ".ci/run runs the README's test command"
    );
    assert!(
        ci.contains("-p agent-cli -- audit --fail-on none"),
        ".ci/run smoke-tests the main job"
    );
}

#[test]
fn the_dha_commands_shown_are_accepted() {
    let dha = env!("CARGO_BIN_EXE_dha");
    let mut seen = 0;
    for block in blocks("sh") {
        for line in block.lines().map(str::trim) {
            let Some(rest) = line.strip_prefix("dha ") else {
                continue;
            };
            // Drop the comment and any redirection; keep the arguments.
            let args = rest.split('#').next().unwrap().split('>').next().unwrap();
            let args: Vec<&str> = args.split_whitespace().collect();
            // Parse only: `--help` after the arguments makes clap check them
            // and stop before doing anything.
            let out = Command::new(dha)
                .args(&args)
                .arg("--help")
                .output()
                .unwrap();
            assert_eq!(
                out.status.code(),
                Some(0),
                "README: `{line}`:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            seen += 1;
        }
    }
    assert!(seen >= 5, "only {seen} dha commands found in the README");
}
