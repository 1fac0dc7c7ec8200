//! How text reaches the reader: colour or not, how wide, and never a control
//! character taken from the audited device.
//!
//! Everything a finding says may come from an extracted device image, which
//! the person running `dha` does not control. A crafted `/etc/passwd` or
//! `/etc/hostname` could carry terminal escape sequences (move the cursor,
//! rewrite earlier lines, retitle the window) or Unicode bidirectional
//! overrides that make a line read differently than it is stored. So every
//! device-derived string goes through [`clean`] before it is printed, and the
//! only escape sequences on the output are the ones [`Palette`] adds.

use anstyle::{AnsiColor, Style};
use dha_core::Severity;
use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether to colour the output (`--color`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when standard output is a terminal, `NO_COLOR` is unset or
    /// empty, and `TERM` is not `dumb`.
    Auto,
    /// Always colour (overrides `NO_COLOR`, as a command-line flag should).
    Always,
    /// Never colour.
    Never,
}

impl ColorChoice {
    /// Decides, given whether stdout is a terminal and the environment.
    ///
    /// no-color.org: "Command-line software which adds ANSI color to its
    /// output by default should check for a NO_COLOR environment variable
    /// that, when present and not an empty string (regardless of its value),
    /// prevents the addition of ANSI color."
    pub fn resolve(
        self,
        stdout_is_terminal: bool,
        no_color: Option<&str>,
        term: Option<&str>,
    ) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                stdout_is_terminal && no_color.is_none_or(str::is_empty) && term != Some("dumb")
            }
        }
    }
}

/// The styles of the report; all empty when colour is off.
#[derive(Debug, Clone, Copy)]
pub struct Palette {
    on: bool,
}

impl Palette {
    /// A palette that colours when `on`.
    pub fn new(on: bool) -> Self {
        Palette { on }
    }

    /// `text` in `style` (plain when colour is off). Pad before styling, so
    /// that escape sequences never count towards a column's width.
    pub fn paint(&self, style: Style, text: &str) -> String {
        if self.on {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_owned()
        }
    }

    /// The style of a severity: the graver, the louder.
    pub fn severity_style(s: Severity) -> Style {
        match s {
            Severity::Critical => AnsiColor::BrightRed.on_default().bold(),
            Severity::High => AnsiColor::Red.on_default(),
            Severity::Medium => AnsiColor::Yellow.on_default(),
            Severity::Low => AnsiColor::Cyan.on_default(),
            Severity::Info => Style::new().dimmed(),
        }
    }

    /// Section headings.
    pub fn heading() -> Style {
        Style::new().bold()
    }

    /// Labels and references: present but quiet.
    pub fn quiet() -> Style {
        Style::new().dimmed()
    }

    /// A passing result.
    pub fn good() -> Style {
        AnsiColor::Green.on_default().bold()
    }

    /// A failing result.
    pub fn bad() -> Style {
        AnsiColor::Red.on_default().bold()
    }
}

/// Narrowest layout: below this the columns would not hold their headings.
pub const MIN_WIDTH: usize = 60;
/// Widest layout: longer lines are hard to read even on a wide screen.
pub const MAX_WIDTH: usize = 160;
/// Width when neither the terminal nor `COLUMNS` says.
pub const DEFAULT_WIDTH: usize = 100;

/// The width to lay the table out for: the terminal's (see
/// [`terminal_columns`]), else `COLUMNS` when it is a number, else
/// [`DEFAULT_WIDTH`]; clamped to [`MIN_WIDTH`]..=[`MAX_WIDTH`].
pub fn layout_width(terminal_columns: Option<u16>, columns_env: Option<&str>) -> usize {
    let w = terminal_columns
        .map(usize::from)
        .or_else(|| columns_env.and_then(|c| c.trim().parse::<usize>().ok()))
        .unwrap_or(DEFAULT_WIDTH);
    w.clamp(MIN_WIDTH, MAX_WIDTH)
}

/// The width of the terminal the reader sees: standard output's when it is
/// one, else standard error's (`dha audit | less` still shows the table on
/// the terminal that standard error is on).
pub fn terminal_columns() -> Option<u16> {
    terminal_size::terminal_size_of(std::io::stdout())
        .or_else(|| terminal_size::terminal_size_of(std::io::stderr()))
        .map(|(w, _)| w.0)
}

/// `s` made safe to print on a terminal: control characters (C0, DEL, C1)
/// and Unicode bidirectional controls are shown as escapes (`\x1b`,
/// `\u{202e}`), tabs become a space. Borrowed when nothing needed changing.
pub fn clean(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len().saturating_add(8));
    for c in s.chars() {
        if c == '\t' {
            out.push(' ');
        } else if needs_escape(c) {
            let n = u32::from(c);
            // Writing to a String cannot fail.
            let _ = if n < 0x100 {
                write!(out, "\\x{n:02x}")
            } else {
                write!(out, "\\u{{{n:x}}}")
            };
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    // Unicode TR #9 explicit directional embeddings, overrides and isolates,
    // and the implicit marks (the "Trojan Source" characters, CVE-2021-42574).
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The number of terminal columns `s` takes, counted in characters (the
/// report's text is cleaned, so no character takes zero columns).
pub fn width_of(s: &str) -> usize {
    s.chars().count()
}

/// `s` padded with spaces to `w` columns (unchanged when already wider).
pub fn pad(s: &str, w: usize) -> String {
    let mut out = s.to_owned();
    let n = width_of(s);
    if n < w {
        out.push_str(&" ".repeat(w.saturating_sub(n)));
    }
    out
}

/// Word-wraps `s` into lines of at most `w` columns; a word longer than a
/// line (a path, a cipher list) is cut. Never returns an empty list, so a
/// caller can always print the first line.
pub fn wrap(s: &str, w: usize) -> Vec<String> {
    let w = w.max(1);
    let mut lines = Vec::new();
    let mut cur = String::new();
    let mut cur_w = 0usize;
    for word in s.split_whitespace() {
        let mut word: &str = word;
        loop {
            let ww = width_of(word);
            let sep = usize::from(cur_w > 0);
            if cur_w.saturating_add(sep).saturating_add(ww) <= w {
                if sep == 1 {
                    cur.push(' ');
                }
                cur.push_str(word);
                cur_w = cur_w.saturating_add(sep).saturating_add(ww);
                break;
            }
            if cur_w > 0 {
                lines.push(std::mem::take(&mut cur));
                cur_w = 0;
                continue;
            }
            // The word alone is wider than a line: cut it at a character boundary.
            let cut = word.char_indices().nth(w).map_or(word.len(), |(i, _)| i);
            let (head, tail) = word.split_at(cut);
            lines.push(head.to_owned());
            word = tail;
            if word.is_empty() {
                break;
            }
        }
    }
    if !cur.is_empty() || lines.is_empty() {
        lines.push(cur);
    }
    lines
}

/// Lays `groups` out in lines of at most `w` columns, joined by `sep`,
/// keeping each group whole on one line when it fits one (so that
/// `SSG accounts_no_uid_except_zero` is never split after `SSG`).
pub fn pack(groups: &[String], sep: &str, w: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for g in groups {
        let joined = width_of(&cur)
            .saturating_add(width_of(sep))
            .saturating_add(width_of(g));
        if !cur.is_empty() && joined <= w {
            cur.push_str(sep);
            cur.push_str(g);
            continue;
        }
        if !cur.is_empty() {
            lines.push(std::mem::take(&mut cur));
        }
        if width_of(g) <= w {
            cur = g.clone();
        } else {
            let mut parts = wrap(g, w);
            cur = parts.pop().unwrap_or_default();
            lines.extend(parts);
        }
    }
    if !cur.is_empty() || lines.is_empty() {
        lines.push(cur);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_follows_terminal_no_color_and_flags() {
        assert!(ColorChoice::Auto.resolve(true, None, Some("xterm-256color")));
        assert!(!ColorChoice::Auto.resolve(false, None, Some("xterm")));
        assert!(!ColorChoice::Auto.resolve(true, Some("1"), Some("xterm")));
        // An empty NO_COLOR does not count (no-color.org).
        assert!(ColorChoice::Auto.resolve(true, Some(""), Some("xterm")));
        assert!(!ColorChoice::Auto.resolve(true, None, Some("dumb")));
        assert!(ColorChoice::Always.resolve(false, Some("1"), None));
        assert!(!ColorChoice::Never.resolve(true, None, None));
    }

    #[test]
    fn paint_adds_escapes_only_when_on() {
        let s = Palette::severity_style(Severity::High);
        assert_eq!(Palette::new(false).paint(s, "high"), "high");
        let on = Palette::new(true).paint(s, "high");
        assert!(on.starts_with('\u{1b}') && on.contains("high") && on.ends_with('m'));
    }

    #[test]
    fn clean_escapes_terminal_controls_and_bidi_overrides() {
        assert!(matches!(clean("ct-console-07"), Cow::Borrowed(_)));
        assert_eq!(clean("a\u{1b}]0;owned\u{7}b"), "a\\x1b]0;owned\\x07b");
        assert_eq!(clean("x\u{9b}31m"), "x\\x9b31m");
        assert_eq!(clean("admin\u{202e}toor"), "admin\\u{202e}toor");
        assert_eq!(clean("a\tb\r\nc\u{7f}"), "a b\\x0d\\x0ac\\x7f");
        assert_eq!(clean("Übergabe café"), "Übergabe café");
    }

    #[test]
    fn width_comes_from_terminal_then_columns_then_default() {
        assert_eq!(layout_width(Some(120), Some("80")), 120);
        assert_eq!(layout_width(None, Some("80")), 80);
        assert_eq!(layout_width(None, Some("wide")), DEFAULT_WIDTH);
        assert_eq!(layout_width(None, None), DEFAULT_WIDTH);
        assert_eq!(layout_width(Some(20), None), MIN_WIDTH);
        assert_eq!(layout_width(Some(500), None), MAX_WIDTH);
    }

    #[test]
    fn wrap_breaks_at_words_and_cuts_long_ones() {
        assert_eq!(wrap("", 10), vec![String::new()]);
        assert_eq!(wrap("one two three", 7), vec!["one two", "three"]);
        assert_eq!(wrap("  spaced   out  ", 20), vec!["spaced out"]);
        assert_eq!(
            wrap("see /etc/ssh/sshd_config.d/50-x.conf now", 12),
            vec!["see", "/etc/ssh/ssh", "d_config.d/5", "0-x.conf now"]
        );
        assert_eq!(wrap("ééééé", 2), vec!["éé", "éé", "é"]);
        for line in wrap(&"word ".repeat(100), 17) {
            assert!(width_of(&line) <= 17, "{line:?}");
        }
    }

    #[test]
    fn pack_keeps_groups_whole() {
        let g: Vec<String> = [
            "IEC 62443-4-2 CR 1.3, CR 2.1",
            "MDS2 AUTH",
            "SSG a_long_rule_id",
            "Lynis AUTH-9204",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            pack(&g, "; ", 42),
            vec![
                "IEC 62443-4-2 CR 1.3, CR 2.1; MDS2 AUTH",
                "SSG a_long_rule_id; Lynis AUTH-9204"
            ]
        );
        assert_eq!(pack(&g, "; ", 200).len(), 1);
        assert_eq!(pack(&[], "; ", 10), vec![String::new()]);
        for line in pack(&g, "; ", 12) {
            assert!(width_of(&line) <= 12, "{line:?}");
        }
    }

    #[test]
    fn pad_counts_characters_not_bytes() {
        assert_eq!(pad("é", 3), "é  ");
        assert_eq!(pad("long", 2), "long");
    }
}
