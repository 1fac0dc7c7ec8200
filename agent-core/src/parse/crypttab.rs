//! `/etc/crypttab` (crypttab(5)): the encrypted block devices set up at
//! boot, one a line: `volume-name encrypted-device [key-file [options]]`,
//! blank-separated, `#` comments; `none` or `-` as key file means a
//! passphrase (or a token) is asked for.

use crate::finding::Diagnostic;
use crate::root::TextFile;

/// The file.
pub const CRYPTTAB: &str = "/etc/crypttab";

/// One volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CryptEntry {
    /// The mapped name (`/dev/mapper/<name>`).
    pub name: String,
    /// The encrypted device (`UUID=…`, `/dev/…`, `PARTUUID=…`).
    pub device: String,
    /// The key file, `None` for `none`, `-` or absent.
    pub key_file: Option<String>,
    /// The options, split at commas.
    pub options: Vec<String>,
    /// The 1-based line.
    pub line: u32,
}

impl CryptEntry {
    /// True for a volume made with a fresh random key at every boot (`swap`
    /// or `tmp`): it protects data of one boot only.
    pub fn ephemeral(&self) -> bool {
        self.options
            .iter()
            .any(|o| o == "swap" || o == "tmp" || o.starts_with("tmp="))
    }
}

/// Parses crypttab, reporting lines with fewer than two fields.
pub fn parse_crypttab(t: &TextFile, warn: &mut dyn FnMut(Diagnostic)) -> Vec<CryptEntry> {
    let mut out = Vec::new();
    for (n, raw) in t.lines() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut f = line.split_whitespace();
        let (Some(name), Some(device)) = (f.next(), f.next()) else {
            warn(Diagnostic {
                file: t.path.clone(),
                line: Some(n),
                field: Some("encrypted-device".to_owned()),
                message: "fewer than 2 fields (volume-name encrypted-device)".to_owned(),
            });
            continue;
        };
        let key_file = f
            .next()
            .filter(|k| *k != "none" && *k != "-")
            .map(str::to_owned);
        let options = f
            .next()
            .map(|o| {
                o.split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        out.push(CryptEntry {
            name: name.to_owned(),
            device: device.to_owned(),
            key_file,
            options,
            line: n,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volumes_key_files_and_options() {
        let mut w = Vec::new();
        let t = TextFile::from_bytes(
            CRYPTTAB,
            b"# <target> <source> <key> <options>\n\
              data UUID=0a1b none luks,discard\n\
              cswap /dev/sda3 /dev/urandom swap,cipher=aes-xts-plain64\n\
              lonely\n\
              home /dev/sda4\n",
            false,
        );
        let v = parse_crypttab(&t, &mut |d| w.push(d));
        assert_eq!(v.len(), 3);
        assert_eq!(v[0].name, "data");
        assert_eq!(v[0].key_file, None);
        assert_eq!(v[0].options, ["luks", "discard"]);
        assert!(v[1].ephemeral());
        assert!(!v[2].ephemeral());
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].line, Some(4));
    }
}
