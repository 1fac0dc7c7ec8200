use super::*;

/// Stanzas copied from this Debian 12 machine's /var/lib/dpkg/status
/// (bsdutils with an epoch and a versioned Source, libattr1, tzdata, bash
/// with its want changed to `hold`), plus a removed package whose
/// configuration files remain (`deinstall ok config-files`).
const SAMPLE: &str = include_str!("status.sample");

fn parse(text: &str) -> (DpkgStatus, Vec<Diagnostic>) {
    parse_limited(text, Limits::default())
}

fn parse_limited(text: &str, limits: Limits) -> (DpkgStatus, Vec<Diagnostic>) {
    let t = TextFile::from_bytes("/var/lib/dpkg/status", text.as_bytes(), false);
    let mut d = Vec::new();
    let s = parse_status_with(&t, limits, &mut |x| d.push(x));
    (s, d)
}

#[test]
fn real_stanzas_give_the_installed_packages_with_purls() {
    let (s, d) = parse(SAMPLE);
    assert!(d.is_empty(), "{d:?}");
    let names: Vec<&str> = s.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["bsdutils", "libattr1", "tzdata", "bash"]);
    assert_eq!((s.not_installed, s.malformed, s.incomplete), (1, 0, false));

    let bsd = &s.packages[0];
    assert_eq!(bsd.version, "1:2.38.1-5+deb12u3");
    assert_eq!(bsd.architecture, "amd64");
    assert_eq!(bsd.want, "install");
    assert_eq!(bsd.line, 1);
    assert_eq!(
        bsd.maintainer.as_deref(),
        Some("util-linux packagers <util-linux@packages.debian.org>")
    );
    assert_eq!(
        bsd.source,
        Some(SourcePackage {
            name: "util-linux".into(),
            version: Some("2.38.1-5+deb12u3".into())
        })
    );
    assert_eq!(
        bsd.homepage.as_deref(),
        Some("https://www.kernel.org/pub/linux/utils/util-linux/")
    );
    assert_eq!(
        bsd.purl(None),
        "pkg:deb/debian/bsdutils@1%3A2.38.1-5%2Bdeb12u3?arch=amd64"
    );
    assert_eq!(
        bsd.purl(Some("debian-12")),
        "pkg:deb/debian/bsdutils@1%3A2.38.1-5%2Bdeb12u3?arch=amd64&distro=debian-12"
    );

    let attr = &s.packages[1];
    assert_eq!(
        attr.source,
        Some(SourcePackage {
            name: "attr".into(),
            version: None
        })
    );
    let tz = &s.packages[2];
    assert_eq!(tz.source, None);
    assert_eq!(tz.architecture, "all");
    assert_eq!(
        tz.purl(None),
        "pkg:deb/debian/tzdata@2025b-0%2Bdeb12u2?arch=all"
    );
    let bash = &s.packages[3];
    assert_eq!(bash.want, "hold");
    assert_eq!(bash.version, "5.2.15-2+b8");
    assert_eq!(
        bash.source.as_ref().and_then(|s| s.version.as_deref()),
        Some("5.2.15-2")
    );
}

#[test]
fn crlf_whitespace_separators_comments_and_case_insensitive_names() {
    let text = "# comment\r\npackage: a1\r\nSTATUS: install ok installed\r\nversion: 0.1~rc1\r\narchitecture: arm64\r\nDescription: x\r\n y\r\n .\r\n z\r\n \t \r\nPackage: b2\nStatus: install ok installed\nVersion: 2\nArchitecture: all\n";
    let (s, d) = parse(text);
    assert!(d.is_empty(), "{d:?}");
    let got: Vec<(&str, &str, u32)> = s
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str(), p.line))
        .collect();
    assert_eq!(got, [("a1", "0.1~rc1", 2), ("b2", "2", 11)]);
    assert_eq!(
        s.packages[0].purl(None),
        "pkg:deb/debian/a1@0.1~rc1?arch=arm64"
    );
}

#[test]
fn malformed_stanzas_are_reported_with_line_and_field_and_skipped() {
    let text = "\
Package: Bad_Name
Status: install ok installed
Version: 1.0
Architecture: amd64

Package: badver
Status: install ok installed
Version: a:1
Architecture: amd64

Package: wrapped
Status: install ok installed
Version: 1.0
 continued
Architecture: amd64

Package: twice
Package: twice
Status: install ok installed
Version: 1
Architecture: amd64

Package: nostatus
Version: 1
Architecture: amd64

Package: shortstatus
Status: installed
Version: 1
Architecture: amd64

Package: noarch
Status: install ok installed
Version: 1

no colon here

Package: badsource
Status: install reinstreq half-installed
Version: 1
Architecture: amd64

Package: goodbadsource
Status: install ok installed
Source: x (1.0
Version: 1
Architecture: amd64
";
    let (s, d) = parse(text);
    let got: Vec<(Option<u32>, Option<&str>)> =
        d.iter().map(|d| (d.line, d.field.as_deref())).collect();
    assert_eq!(
        got,
        [
            (Some(1), Some("Package")),
            (Some(6), Some("Version")),
            (Some(14), Some("Version")),
            (Some(18), Some("Package")),
            (Some(23), Some("Package or Status")),
            (Some(27), Some("Status")),
            (Some(32), Some("Version or Architecture")),
            (Some(36), None),
            (Some(45), Some("Source")),
        ],
        "{d:?}"
    );
    assert!(d.iter().all(|d| d.file == "/var/lib/dpkg/status"));
    assert!(d[1].message.contains("\"a:1\""), "{}", d[1].message);
    // The package with an unparsable Source is kept, without a source.
    let names: Vec<&str> = s.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["goodbadsource"]);
    assert_eq!(s.packages[0].source, None);
    assert_eq!((s.not_installed, s.malformed), (1, 8));
}

#[test]
fn limits_bound_packages_and_field_sizes() {
    let limits = Limits {
        max_packages: 2,
        max_field_bytes: 64,
    };
    let long = "x".repeat(65);
    let text = format!(
        "Package: aa\nStatus: install ok installed\nVersion: 1\nArchitecture: all\nMaintainer: {long}\n\nPackage: bb\nStatus: install ok installed\nVersion: 1{long}\nArchitecture: all\n\nPackage: cc\nStatus: install ok installed\nVersion: 1\nArchitecture: all\n"
    );
    let (s, d) = parse_limited(&text, limits);
    let names: Vec<&str> = s.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["aa"]);
    assert_eq!(s.packages[0].maintainer, None);
    assert!(s.incomplete);
    let got: Vec<(Option<u32>, Option<&str>)> =
        d.iter().map(|d| (d.line, d.field.as_deref())).collect();
    assert_eq!(
        got,
        [
            (Some(5), Some("Maintainer")),
            (Some(9), Some("Version")),
            (Some(12), None)
        ]
    );
    // A truncated read is incomplete too.
    let t = TextFile::from_bytes("/var/lib/dpkg/status", SAMPLE.as_bytes(), true);
    assert!(parse_status(&t, &mut |_| {}).incomplete);
}

#[test]
fn purl_encoding_and_validators() {
    assert_eq!(
        purl_encode("1:2.0+dfsg-1~bpo12+1"),
        "1%3A2.0%2Bdfsg-1~bpo12%2B1"
    );
    assert_eq!(purl_encode("a b/é"), "a%20b%2F%C3%A9");
    assert!(valid_version("1:2.38.1-5+deb12u3"));
    assert!(valid_version("2:1.02.185-2"));
    assert!(valid_version("1.0-1-2"));
    assert!(!valid_version("1.0-"));
    assert!(!valid_version(":1"));
    assert!(!valid_version("x1"));
    assert!(!valid_version(""));
    assert!(valid_name("g++"));
    assert!(!valid_name("a"));
    assert!(!valid_name("-ab"));
    assert_eq!(
        parse_source("gcc-defaults (1.203)"),
        Some(SourcePackage {
            name: "gcc-defaults".into(),
            version: Some("1.203".into())
        })
    );
    assert_eq!(parse_source("x (1.0"), None);
}

#[test]
fn this_machines_status_database_parses_without_diagnostics() {
    let Ok(bytes) = std::fs::read("/var/lib/dpkg/status") else {
        return; // not a dpkg system
    };
    let t = TextFile::from_bytes("/var/lib/dpkg/status", &bytes, false);
    let mut d = Vec::new();
    let s = parse_status(&t, &mut |x| d.push(x));
    assert!(d.is_empty(), "{:?}", d.first());
    assert!(!s.packages.is_empty());
    assert!(s.packages.iter().any(|p| p.name == "dpkg"));
}
