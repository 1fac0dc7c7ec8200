//! `dha checks`: the check catalogue, as a table or as JSON.

use crate::table::Layout;
use crate::term::{Palette, pad, wrap};
use dha_core::CheckInfo;
use serde_json::{Value, json};

/// The version of the `dha checks --format json` document.
pub const CATALOGUE_SCHEMA_VERSION: u32 = 1;

/// The catalogue as JSON: `{"schema_version": 1, "checks": [...]}`.
pub fn to_json(checks: &[CheckInfo]) -> String {
    let list: Vec<Value> = checks
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "area": c.area,
                "title": c.title,
                "mode": mode(c),
                "offline": c.offline,
                "reads": c.reads,
                "default_severity": c.default_severity,
                "references": {
                    "iec62443": c.iec62443,
                    "mds2": c.mds2,
                    "ssg": c.ssg,
                    "lynis": c.lynis,
                },
            })
        })
        .collect();
    let doc = json!({
        "schema_version": CATALOGUE_SCHEMA_VERSION,
        "agent": { "name": "dha", "version": dha_core::VERSION },
        "checks": list,
    });
    // A document built from strings, booleans and numbers always serialises.
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

/// `offline` when the check can audit an extracted image, `live` when it needs
/// the running system (CHECKS.md "offline" column).
fn mode(c: &CheckInfo) -> &'static str {
    if c.offline { "offline" } else { "live" }
}

/// The catalogue as a table, grouped by area in catalogue order.
pub fn render(checks: &[CheckInfo], layout: Layout) -> String {
    const ID_W: usize = 8;
    const MODE_W: usize = 9;
    const SEV_W: usize = 10;
    const LABEL_W: usize = 15;
    let p = layout.palette;
    let mut out = Vec::new();
    out.push(p.paint(
        Palette::heading(),
        &format!(
            "dha {} check catalogue ({} checks)",
            dha_core::VERSION,
            checks.len()
        ),
    ));
    for line in wrap(
        "mode: offline = runs against an extracted image too; live = needs the running system",
        layout.width,
    ) {
        out.push(p.paint(Palette::quiet(), &line));
    }
    let mut area = "";
    for c in checks {
        if c.area != area {
            area = c.area;
            out.push(String::new());
            out.push(p.paint(Palette::heading(), &area.to_uppercase()));
            out.push(p.paint(
                Palette::quiet(),
                &format!(
                    "{}{}{}TITLE",
                    pad("ID", ID_W),
                    pad("MODE", MODE_W),
                    pad("SEVERITY", SEV_W)
                ),
            ));
        }
        let title_col = ID_W + MODE_W + SEV_W;
        let sev = p.paint(
            Palette::severity_style(c.default_severity),
            &pad(c.default_severity.as_str(), SEV_W),
        );
        for (i, line) in wrap(c.title, layout.width.saturating_sub(title_col))
            .iter()
            .enumerate()
        {
            if i == 0 {
                out.push(format!(
                    "{}{}{sev}{line}",
                    pad(c.id, ID_W),
                    pad(mode(c), MODE_W)
                ));
            } else {
                out.push(format!("{}{line}", " ".repeat(title_col)));
            }
        }
        let rows: [(&str, &[&str]); 5] = [
            ("reads", c.reads),
            ("IEC 62443-4-2", c.iec62443),
            ("MDS2", c.mds2),
            ("SSG", c.ssg),
            ("Lynis", c.lynis),
        ];
        for (label, values) in rows {
            if values.is_empty() {
                continue;
            }
            let lead = ID_W + LABEL_W;
            for (i, line) in wrap(&values.join(", "), layout.width.saturating_sub(lead))
                .iter()
                .enumerate()
            {
                let label = if i == 0 { label } else { "" };
                out.push(format!(
                    "{}{}{line}",
                    " ".repeat(ID_W),
                    p.paint(Palette::quiet(), &pad(label, LABEL_W))
                ));
            }
        }
    }
    let mut s = out.join("\n");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::term::width_of;
    use dha_core::CATALOGUE;

    #[test]
    fn json_lists_every_check_with_its_references() {
        let v: Value = serde_json::from_str(&to_json(CATALOGUE)).unwrap();
        assert_eq!(v["schema_version"], CATALOGUE_SCHEMA_VERSION);
        let list = v["checks"].as_array().unwrap();
        assert_eq!(list.len(), CATALOGUE.len());
        for (j, c) in list.iter().zip(CATALOGUE) {
            assert_eq!(j["id"], c.id);
            assert_eq!(j["offline"], c.offline);
            assert_eq!(j["default_severity"], c.default_severity.as_str());
            assert_eq!(
                j["references"]["iec62443"].as_array().unwrap().len(),
                c.iec62443.len()
            );
        }
    }

    #[test]
    fn table_lists_every_check_within_the_width() {
        for width in [60, 100] {
            let t = render(
                CATALOGUE,
                Layout {
                    palette: Palette::new(false),
                    width,
                },
            );
            for c in CATALOGUE {
                assert!(
                    t.lines().any(|l| l.starts_with(&format!("{:<8}", c.id))),
                    "{} missing:\n{t}",
                    c.id
                );
            }
            for line in t.lines() {
                assert!(width_of(line) <= width, "{line:?}");
            }
        }
        let t = render(
            CATALOGUE,
            Layout {
                palette: Palette::new(false),
                width: 100,
            },
        );
        assert!(
            t.contains("ACC-01  offline  critical  only root has UID 0"),
            "{t}"
        );
        assert!(t.contains("        Lynis          AUTH-9204"), "{t}");
        assert!(t.contains("        IEC 62443-4-2  CR 1.3, CR 2.1"), "{t}");
    }
}
