//! `include/dha.h` is exactly what the pinned cbindgen makes from agent-ffi
//! (STYLE.md, after rustls-ffi: the header is generated and checked in, and a
//! difference fails), its version macros match `Cargo.toml`, and it compiles
//! on its own as strict C11 and as C++.
//!
//! After changing the C ABI, regenerate the header with
//!
//! ```text
//! DHA_BLESS=1 cargo test -p dha-tests --test header
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use dha_tests::repo_dir;
use std::path::PathBuf;
use std::process::Command;

fn header_path() -> PathBuf {
    repo_dir().join("include/dha.h")
}

/// The workspace version (`[workspace.package] version` of `Cargo.toml`),
/// which agent-ffi inherits.
fn workspace_version() -> String {
    let text = std::fs::read_to_string(repo_dir().join("Cargo.toml")).unwrap();
    let mut in_section = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_section = line == "[workspace.package]";
            continue;
        }
        if let Some(v) = line.strip_prefix("version") {
            if in_section {
                let v = v.trim().strip_prefix('=').unwrap().trim();
                return v.trim_matches('"').to_owned();
            }
        }
    }
    panic!("no [workspace.package] version in Cargo.toml");
}

/// MAJOR, MINOR, PATCH of a SemVer version (`1.2.3` or `1.2.3-rc.1+build`).
fn version_numbers(v: &str) -> [u64; 3] {
    let core = v.split(['-', '+']).next().unwrap();
    let parts: Vec<u64> = core
        .split('.')
        .map(|p| {
            p.parse()
                .unwrap_or_else(|_| panic!("version {v:?} is not SemVer"))
        })
        .collect();
    assert_eq!(parts.len(), 3, "version {v:?} is not MAJOR.MINOR.PATCH");
    [parts[0], parts[1], parts[2]]
}

/// The macros that the header carries after its includes.
fn version_macros(v: &str) -> String {
    let [major, minor, patch] = version_numbers(v);
    format!(
        "/* The version of this header (Cargo.toml's); dha_version() gives the library's. */\n\
         #define DHA_VERSION_MAJOR {major}\n\
         #define DHA_VERSION_MINOR {minor}\n\
         #define DHA_VERSION_PATCH {patch}\n\
         #define DHA_VERSION_STRING \"{v}\"\n"
    )
}

/// The header as the pinned cbindgen makes it now.
fn generate() -> String {
    let crate_dir = repo_dir().join("agent-ffi");
    let manifest = std::fs::read_to_string(crate_dir.join("Cargo.toml")).unwrap();
    assert!(
        manifest.contains("version.workspace = true"),
        "agent-ffi must inherit the workspace version, which the header's macros carry"
    );
    let mut config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).unwrap();
    config.after_includes = Some(version_macros(&workspace_version()));
    // `with_src` parses the crate's sources directly (following its `mod`
    // items) instead of asking `cargo metadata`, so no nested cargo runs.
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(crate_dir.join("src/lib.rs"))
        .generate()
        .expect("cbindgen could not generate the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).unwrap()
}

#[test]
fn the_checked_in_header_is_the_generated_one() {
    let fresh = generate();
    let path = header_path();
    if std::env::var_os("DHA_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    if current != fresh {
        let first = current
            .lines()
            .zip(fresh.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| current.lines().count().min(fresh.lines().count()));
        panic!(
            "{} is stale: it differs from what cbindgen makes from agent-ffi, from line {} on\n\
             checked in: {:?}\n\
             generated:  {:?}\n\
             Regenerate it with: DHA_BLESS=1 cargo test -p dha-tests --test header",
            path.display(),
            first + 1,
            current.lines().nth(first),
            fresh.lines().nth(first),
        );
    }
}

#[test]
fn the_version_macros_match_cargo_toml() {
    let header = std::fs::read_to_string(header_path()).unwrap();
    let v = workspace_version();
    let [major, minor, patch] = version_numbers(&v);
    let define = |name: &str| -> String {
        let prefix = format!("#define {name} ");
        let lines: Vec<&str> = header
            .lines()
            .filter_map(|l| l.strip_prefix(&prefix))
            .collect();
        assert_eq!(lines.len(), 1, "{name} is defined {} times", lines.len());
        lines[0].trim().to_owned()
    };
    assert_eq!(define("DHA_VERSION_MAJOR"), major.to_string());
    assert_eq!(define("DHA_VERSION_MINOR"), minor.to_string());
    assert_eq!(define("DHA_VERSION_PATCH"), patch.to_string());
    assert_eq!(define("DHA_VERSION_STRING"), format!("\"{v}\""));
    assert_eq!(v, env!("CARGO_PKG_VERSION"));
}

#[test]
fn the_header_has_its_guards_includes_and_result_numbers() {
    let h = std::fs::read_to_string(header_path()).unwrap();
    for needle in [
        "#ifndef DHA_H",
        "#define DHA_H",
        "#include <stddef.h>",
        "#include <stdint.h>",
        "#include <stdbool.h>",
        "extern \"C\" {",
        "DHA_OK = 0,",
        "DHA_ERR_NULL_ARGUMENT = 1,",
        "DHA_ERR_PANIC = 4,",
        "DHA_ERR_CONFIG_PARSE = 100,",
        "DHA_ERR_ROOT_NOT_FOUND = 200,",
        "typedef uint32_t dha_result;",
        "typedef struct dha_report dha_report;",
        "typedef void (*dha_log_callback)(void *userdata,",
    ] {
        assert!(h.contains(needle), "include/dha.h lacks {needle:?}");
    }
    // Every declaration is documented (cbindgen copies the Rust docs): the
    // line before a function, type or constant closes a comment.
    let mut previous = "";
    let mut functions = 0;
    for line in h.lines() {
        let declares = (line.starts_with("dha_result dha_")
            || line.starts_with("void dha_")
            || line.starts_with("const char *dha_")
            || line.starts_with("size_t dha_")
            || line.starts_with("uint32_t dha_")
            || line.starts_with("typedef ")
            || line.starts_with("enum ")
            || line.starts_with("#define DHA_"))
            && !line.starts_with("#define DHA_H")
            && !line.starts_with("#define DHA_VERSION_");
        if declares && !line.starts_with("typedef enum") && !line.starts_with("typedef uint32_t") {
            assert!(previous.ends_with("*/"), "undocumented: {line}");
        }
        functions += usize::from(line.contains(" dha_") && line.contains('('));
        if !line.trim().is_empty() {
            previous = line.trim();
        }
    }
    assert!(functions >= 20, "only {functions} functions in the header");
}

/// Compiles a file that includes only the header, with `compiler` and `flags`.
fn compile_header_alone(compiler: &str, flags: &[&str], ext: &str) {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join(format!("only_header.{ext}"));
    std::fs::write(
        &src,
        "#include \"dha.h\"\nint main(void) { return (int)DHA_OK; }\n",
    )
    .unwrap();
    let out = Command::new(compiler)
        .args(flags)
        .arg("-I")
        .arg(repo_dir().join("include"))
        .args(["-fsyntax-only"])
        .arg(&src)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {compiler}: {e}"));
    assert!(
        out.status.success(),
        "{compiler} {flags:?} rejects include/dha.h:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_header_compiles_alone_as_c11_and_cpp() {
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_owned());
    compile_header_alone(
        &cc,
        &["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic"],
        "c",
    );
    let cxx = std::env::var("CXX").unwrap_or_else(|_| "c++".to_owned());
    if Command::new(&cxx).arg("--version").output().is_ok() {
        compile_header_alone(
            &cxx,
            &["-std=c++11", "-Wall", "-Wextra", "-Werror", "-pedantic"],
            "cpp",
        );
    } else {
        eprintln!("note: no C++ compiler ({cxx}); the C++ check of the header is skipped");
    }
}
