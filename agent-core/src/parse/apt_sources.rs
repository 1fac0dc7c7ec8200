//! APT's package sources, as sources.list(5) defines them: the one-line
//! format of `/etc/apt/sources.list` and `sources.list.d/*.list`
//! (`deb [ key=value … ] uri suite [component …]`), and the deb822 format of
//! `sources.list.d/*.sources` (stanzas of `Field: value`, folded lines
//! indented). Other file names in `sources.list.d` are ignored, as APT
//! ignores them.
//!
//! Only what the checks need is kept: the types, the URIs, and the options
//! with the line that sets each. Option names are compared in lower case,
//! so `Signed-By:` and `signed-by=` are one option; `key+=` and `key-=`
//! (one-line list edits) are kept as `key`.

use crate::audit::{AuditContext, Source};
use crate::finding::Diagnostic;
use crate::root::TextFile;
use std::collections::BTreeMap;

/// The main list.
pub const SOURCES_LIST: &str = "/etc/apt/sources.list";

/// The drop-in directory.
pub const SOURCES_DIR: &str = "/etc/apt/sources.list.d";

/// One source entry (a one-line entry or a deb822 stanza).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AptSource {
    /// The file.
    pub file: String,
    /// The line of the entry, or of the stanza's first field.
    pub line: u32,
    /// `deb`, `deb-src`.
    pub types: Vec<String>,
    /// The URIs, each with its line.
    pub uris: Vec<(String, u32)>,
    /// Options by lower-case name: the value and its line.
    pub options: BTreeMap<String, (String, u32)>,
    /// False for a deb822 stanza with `Enabled: no`.
    pub enabled: bool,
}

impl AptSource {
    /// The option `name` read as APT's boolean (`yes`, `true`, `on`,
    /// `enable`, `with`, `1` are true), with its line; `None` when unset.
    pub fn flag(&self, name: &str) -> Option<(bool, u32)> {
        self.options
            .get(name)
            .map(|(v, l)| (apt_bool(v).unwrap_or(false), *l))
    }
}

/// APT's `StringToBool` (apt-pkg/contrib/strutl.cc): `None` for a word it
/// does not know.
pub fn apt_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "yes" | "true" | "with" | "on" | "enable" | "1" => Some(true),
        "no" | "false" | "without" | "off" | "disable" | "0" => Some(false),
        _ => None,
    }
}

/// Every source of the root.
#[derive(Debug, Clone, Default)]
pub struct AptSources {
    /// The entries in file order (the main list first, then the drop-ins by name).
    pub sources: Vec<AptSource>,
}

impl Source for AptSources {
    fn load(ctx: &AuditContext<'_>) -> Self {
        let mut out = AptSources::default();
        let mut warn = |d| ctx.warn(d);
        if let Some(t) = ctx.read_text(SOURCES_LIST) {
            out.sources.extend(parse_one_line(&t, &mut warn));
        }
        let files = ctx.dir_files(SOURCES_DIR).unwrap_or_else(|e| {
            ctx.warn(Diagnostic {
                file: SOURCES_DIR.to_owned(),
                line: None,
                field: None,
                message: e.to_string(),
            });
            Vec::new()
        });
        for f in files {
            if f.ends_with(".list") {
                if let Some(t) = ctx.read_text(&f) {
                    out.sources.extend(parse_one_line(&t, &mut warn));
                }
            } else if f.ends_with(".sources") {
                if let Some(t) = ctx.read_text(&f) {
                    out.sources.extend(parse_deb822(&t, &mut warn));
                }
            }
        }
        out
    }
}

fn diag(t: &TextFile, line: u32, field: &str, message: &str) -> Diagnostic {
    Diagnostic {
        file: t.path.clone(),
        line: Some(line),
        field: Some(field.to_owned()),
        message: message.to_owned(),
    }
}

/// Parses the one-line format.
pub fn parse_one_line(t: &TextFile, warn: &mut dyn FnMut(Diagnostic)) -> Vec<AptSource> {
    let mut out = Vec::new();
    for (n, raw) in t.lines() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let (ty, rest) = line
            .split_once(|c: char| c.is_ascii_whitespace())
            .unwrap_or((line, ""));
        if ty != "deb" && ty != "deb-src" {
            warn(diag(
                t,
                n,
                "type",
                "not a deb or deb-src entry: ignored, as APT refuses the file",
            ));
            continue;
        }
        let mut rest = rest.trim_start();
        let mut options = BTreeMap::new();
        if let Some(r) = rest.strip_prefix('[') {
            let Some((opts, after)) = r.split_once(']') else {
                warn(diag(t, n, "options", "`[` without `]`"));
                continue;
            };
            for o in opts.split_whitespace() {
                let Some((k, v)) = o.split_once('=') else {
                    warn(diag(t, n, "options", &format!("{o:?} is not key=value")));
                    continue;
                };
                let k = k.trim_end_matches(['+', '-']).to_ascii_lowercase();
                options.insert(k, (v.to_owned(), n));
            }
            rest = after.trim_start();
        }
        let Some(uri) = rest.split_whitespace().next() else {
            warn(diag(t, n, "uri", "no URI"));
            continue;
        };
        out.push(AptSource {
            file: t.path.clone(),
            line: n,
            types: vec![ty.to_owned()],
            uris: vec![(uri.to_owned(), n)],
            options,
            enabled: true,
        });
    }
    out
}

/// Parses the deb822 format (sources.list(5) "DEB822-STYLE FORMAT").
pub fn parse_deb822(t: &TextFile, warn: &mut dyn FnMut(Diagnostic)) -> Vec<AptSource> {
    let mut out = Vec::new();
    // (field lower-case, value, line) of the stanza being read.
    let mut fields: Vec<(String, String, u32)> = Vec::new();
    let finish = |fields: &mut Vec<(String, String, u32)>, out: &mut Vec<AptSource>| {
        if fields.is_empty() {
            return;
        }
        let line = fields.first().map_or(1, |f| f.2);
        let mut s = AptSource {
            file: t.path.clone(),
            line,
            types: Vec::new(),
            uris: Vec::new(),
            options: BTreeMap::new(),
            enabled: true,
        };
        for (k, v, l) in fields.drain(..) {
            match k.as_str() {
                "types" => s.types = v.split_whitespace().map(str::to_owned).collect(),
                "uris" => s.uris = v.split_whitespace().map(|u| (u.to_owned(), l)).collect(),
                "enabled" => s.enabled = apt_bool(&v).unwrap_or(true),
                _ => {
                    s.options.insert(k, (v, l));
                }
            }
        }
        out.push(s);
    };
    for (n, line) in t.lines() {
        if line.trim().is_empty() {
            finish(&mut fields, &mut out);
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            match fields.last_mut() {
                Some((_, v, _)) => {
                    v.push('\n');
                    v.push_str(line.trim());
                }
                None => warn(diag(t, n, "field", "a continuation line before any field")),
            }
            continue;
        }
        let Some((k, v)) = line.split_once(':') else {
            warn(diag(t, n, "field", "not a `Field: value` line"));
            continue;
        };
        fields.push((k.trim().to_ascii_lowercase(), v.trim().to_owned(), n));
    }
    finish(&mut fields, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tf(path: &str, s: &str) -> TextFile {
        TextFile::from_bytes(path, s.as_bytes(), false)
    }

    #[test]
    fn one_line_entries_with_options_and_comments() {
        let mut w = Vec::new();
        let v = parse_one_line(
            &tf(
                "/etc/apt/sources.list",
                "# comment\n\
                 deb https://deb.debian.org/debian bookworm main # tail\n\
                 deb [ arch=amd64 trusted=yes ] http://vendor.example/apt stable main\n\
                 deb-src [signed-by=/usr/share/keyrings/v.gpg allow-insecure+=yes] http://x/ s\n\
                 rpm http://x/ y\n\
                 deb [broken http://x/ y\n",
            ),
            &mut |d| w.push(d),
        );
        assert_eq!(v.len(), 3);
        assert_eq!(v[0].uris, [("https://deb.debian.org/debian".to_owned(), 2)]);
        assert_eq!(v[1].flag("trusted"), Some((true, 3)));
        assert_eq!(v[2].types, ["deb-src"]);
        assert_eq!(v[2].flag("allow-insecure"), Some((true, 4)));
        assert!(v[2].options.contains_key("signed-by"));
        assert_eq!(
            w.iter().map(|d| d.line).collect::<Vec<_>>(),
            [Some(5), Some(6)]
        );
    }

    #[test]
    fn deb822_stanzas_with_folded_keys_and_enabled() {
        let mut w = Vec::new();
        let v = parse_deb822(
            &tf(
                "/etc/apt/sources.list.d/v.sources",
                "Types: deb deb-src\nURIs: http://a/ https://b/\nSuites: s\n\
                 Trusted: yes\nSigned-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n abc\n\n\
                 # off\nTypes: deb\nURIs: http://c/\nEnabled: no\nAllow-Downgrade-To-Insecure: true\n",
            ),
            &mut |d| w.push(d),
        );
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].types, ["deb", "deb-src"]);
        assert_eq!(v[0].uris.len(), 2);
        assert_eq!(v[0].flag("trusted"), Some((true, 4)));
        assert!(v[0].options["signed-by"].0.contains("BEGIN PGP"));
        assert!(!v[1].enabled);
        assert_eq!(v[1].line, 11);
        assert_eq!(v[1].flag("allow-downgrade-to-insecure"), Some((true, 14)));
    }
}
