//! Which delegated roles are trusted for a target path (TUF 1.0.34 §4.5
//! "DELEGATIONS", §5.6.7; TAP 15 succinct hash bins).
//!
//! Everything here mirrors the reference implementation (python-tuf
//! `tuf.api.metadata`: `DelegatedRole.is_delegated_path`,
//! `_is_target_in_pathpattern`, `SuccinctRoles.get_role_for_target`,
//! `Delegations.get_roles_for_target`) and is tested against vectors it
//! produced (`tests/data/tuf/metadata/delegation-vectors.json`).
//!
//! The depth-first, pre-order search over the delegation graph (§5.6.7),
//! with its visited set and cap on roles, is the client's job:
//! [`Delegations::roles_for_target`] gives the ordered candidates of one
//! delegating role.

use super::metadata::{DelegatedRole, Delegations, SuccinctRoles};
use ring::digest::{SHA256, digest};

/// A delegated role to visit for a target, with what is needed to check its
/// metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildRole<'a> {
    /// The role's name (for a hash bin, the bin's name).
    pub name: String,
    /// The key ids allowed to sign the role.
    pub keyids: &'a [String],
    /// How many of them must sign.
    pub threshold: u64,
    /// Whether the search stops after this role (§5.6.7.2.1). Hash bins
    /// are always terminating (TAP 15).
    pub terminating: bool,
}

impl Delegations {
    /// The delegated roles trusted for `target_path`, in the order they are
    /// to be visited (TUF 1.0.34 §5.6.7.2: "in order of appearance"): every
    /// listed role whose `paths` or `path_hash_prefixes` match, or the one
    /// hash bin of `succinct_roles` the path falls in.
    pub fn roles_for_target(&self, target_path: &str) -> Vec<ChildRole<'_>> {
        if let Some(s) = &self.succinct_roles {
            return vec![ChildRole {
                name: s.role_for_target(target_path),
                keyids: &s.keyids,
                threshold: s.threshold,
                terminating: true,
            }];
        }
        self.roles
            .iter()
            .filter(|r| r.matches(target_path))
            .map(|r| ChildRole {
                name: r.name.clone(),
                keyids: &r.keyids,
                threshold: r.threshold,
                terminating: r.terminating,
            })
            .collect()
    }
}

impl DelegatedRole {
    /// Whether this role is trusted for `target_path` (TUF 1.0.34 §4.5):
    /// when it lists `path_hash_prefixes`, the lowercase hex SHA-256 of the
    /// path (UTF-8) must start with one of them; when it lists `paths`, the
    /// path must match one of the patterns ([`path_matches_pattern`]).
    pub fn matches(&self, target_path: &str) -> bool {
        if let Some(prefixes) = &self.path_hash_prefixes {
            let hash = hex_sha256(target_path);
            prefixes.iter().any(|p| hash.starts_with(p.as_str()))
        } else if let Some(patterns) = &self.paths {
            patterns
                .iter()
                .any(|p| path_matches_pattern(target_path, p))
        } else {
            false
        }
    }
}

impl SuccinctRoles {
    /// The number of hex digits in a bin's name: `ceil(bit_length / 4)`
    /// (the width of `2^bit_length - 1` in hex, as the reference computes it).
    fn suffix_len(&self) -> usize {
        usize::try_from(self.bit_length.div_ceil(4)).unwrap_or(8)
    }

    /// The bin that `target_path` belongs to (TAP 15): the first
    /// `bit_length` bits of SHA-256(path) as the bin index, named
    /// `{name_prefix}-{index}` with the index in lowercase hex, zero-padded
    /// to `ceil(bit_length / 4)` digits.
    pub fn role_for_target(&self, target_path: &str) -> String {
        let d = digest(&SHA256, target_path.as_bytes());
        let mut first = [0u8; 4];
        for (dst, src) in first.iter_mut().zip(d.as_ref()) {
            *dst = *src;
        }
        let shift = 32u32.saturating_sub(self.bit_length);
        let index = u32::from_be_bytes(first).checked_shr(shift).unwrap_or(0);
        format!(
            "{}-{:0width$x}",
            self.name_prefix,
            index,
            width = self.suffix_len()
        )
    }

    /// Whether `name` is one of the bins (TAP 15; python-tuf's
    /// `SuccinctRoles.is_delegated_role`): the prefix, `-`, and a hex index
    /// of exactly the bins' width below `2^bit_length`.
    pub fn is_bin(&self, name: &str) -> bool {
        let Some(suffix) = name
            .strip_prefix(self.name_prefix.as_str())
            .and_then(|s| s.strip_prefix('-'))
        else {
            return false;
        };
        if suffix.len() != self.suffix_len() || !suffix.bytes().all(|b| b.is_ascii_hexdigit()) {
            return false;
        }
        match u64::from_str_radix(suffix, 16) {
            Ok(n) => 1u64
                .checked_shl(self.bit_length)
                .is_some_and(|bins| n < bins),
            Err(_) => false,
        }
    }
}

/// The lowercase hex SHA-256 of a target path's UTF-8 bytes.
fn hex_sha256(s: &str) -> String {
    super::hex::encode(digest(&SHA256, s.as_bytes()).as_ref())
}

/// Whether `target_path` matches the delegation pattern `pattern` (TUF
/// 1.0.34 §4.5 "PATHPATTERN"; python-tuf `_is_target_in_pathpattern`):
/// both are split on `/`, they must have the same number of segments, and
/// each segment must match its pattern segment as Python's `fnmatch` does
/// (`*` any run of characters, `?` one character, `[...]` a set, `[!...]`
/// its complement). `*` therefore never crosses a `/`.
pub fn path_matches_pattern(target_path: &str, pattern: &str) -> bool {
    let targets: Vec<&str> = target_path.split('/').collect();
    let patterns: Vec<&str> = pattern.split('/').collect();
    targets.len() == patterns.len() && targets.iter().zip(&patterns).all(|(t, p)| fnmatch(t, p))
}

/// One element of a compiled `fnmatch` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// `*`: any run of characters (consecutive stars are one).
    Star,
    /// `?`, or `[!]`-like sets that exclude nothing: any one character.
    Any,
    /// A character standing for itself.
    Literal(char),
    /// `[...]`: one character in (or, negated, not in) the set.
    Set {
        negated: bool,
        chars: Vec<char>,
        ranges: Vec<(char, char)>,
    },
    /// A set that includes nothing (`[z-a]`): never matches.
    Never,
}

impl Token {
    fn matches(&self, c: char) -> bool {
        match self {
            Token::Star | Token::Any => true,
            Token::Literal(l) => *l == c,
            Token::Set {
                negated,
                chars,
                ranges,
            } => {
                let inside =
                    chars.contains(&c) || ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c));
                inside != *negated
            }
            Token::Never => false,
        }
    }
}

/// Compiles a pattern as Python 3's `fnmatch.translate` does.
fn compile(pattern: &[char]) -> Vec<Token> {
    let n = pattern.len();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = pattern.get(i) {
        i = i.saturating_add(1);
        match c {
            '*' => {
                if out.last() != Some(&Token::Star) {
                    out.push(Token::Star);
                }
            }
            '?' => out.push(Token::Any),
            '[' => {
                // The set runs to the next `]`, a `]` right after `[` or
                // `[!` being a member; without a closing `]` the `[` is
                // literal.
                let mut j = i;
                if pattern.get(j) == Some(&'!') {
                    j = j.saturating_add(1);
                }
                if pattern.get(j) == Some(&']') {
                    j = j.saturating_add(1);
                }
                while pattern.get(j).is_some_and(|&ch| ch != ']') {
                    j = j.saturating_add(1);
                }
                if j >= n {
                    out.push(Token::Literal('['));
                } else {
                    out.push(compile_set(pattern.get(i..j).unwrap_or(&[])));
                    i = j.saturating_add(1);
                }
            }
            other => out.push(Token::Literal(other)),
        }
    }
    out
}

/// Compiles the inside of a `[...]` set as `fnmatch.translate` does: the
/// set is cut into chunks at the hyphens that make ranges, a range whose
/// ends are reversed is dropped with its two ends, and every other
/// character (hyphens included) is a member.
fn compile_set(stuff: &[char]) -> Token {
    let negated = stuff.first() == Some(&'!');
    let mut chunks: Vec<Vec<char>> = Vec::new();
    if stuff.contains(&'-') {
        let mut start = 0usize;
        let mut k = if negated { 2 } else { 1 };
        while let Some(pos) = stuff
            .get(k..)
            .and_then(|rest| rest.iter().position(|&c| c == '-'))
        {
            let at = k.saturating_add(pos);
            chunks.push(stuff.get(start..at).unwrap_or(&[]).to_vec());
            start = at.saturating_add(1);
            k = at.saturating_add(3);
        }
        let last = stuff.get(start..).unwrap_or(&[]).to_vec();
        if last.is_empty() {
            if let Some(prev) = chunks.last_mut() {
                prev.push('-');
            }
        } else {
            chunks.push(last);
        }
        // Remove empty ranges (python: "invalid in RE"), from the end.
        let mut k = chunks.len().saturating_sub(1);
        while k > 0 {
            let prev_last = chunks
                .get(k.saturating_sub(1))
                .and_then(|c| c.last().copied());
            let next_first = chunks.get(k).and_then(|c| c.first().copied());
            if let (Some(a), Some(b)) = (prev_last, next_first) {
                if a > b {
                    let tail: Vec<char> = chunks
                        .get(k)
                        .map(|c| c.iter().skip(1).copied().collect())
                        .unwrap_or_default();
                    if let Some(prev) = chunks.get_mut(k.saturating_sub(1)) {
                        prev.pop();
                        prev.extend(tail);
                    }
                    chunks.remove(k);
                }
            }
            k = k.saturating_sub(1);
        }
    } else {
        chunks.push(stuff.to_vec());
    }
    // Flatten: chunk[k-1]'s last character to chunk[k]'s first is a range.
    let mut chars: Vec<char> = Vec::new();
    let mut ranges: Vec<(char, char)> = Vec::new();
    let count = chunks.len();
    for (idx, chunk) in chunks.iter().enumerate() {
        let len = chunk.len();
        for (ci, &c) in chunk.iter().enumerate() {
            let opens_range = idx.saturating_add(1) < count && ci.saturating_add(1) == len;
            let closes_range = idx > 0 && ci == 0;
            if opens_range {
                if let Some(&hi) = chunks.get(idx.saturating_add(1)).and_then(|n| n.first()) {
                    ranges.push((c, hi));
                }
            }
            if !opens_range && !closes_range {
                chars.push(c);
            }
        }
    }
    if negated {
        // The leading `!` is the negation, not a member.
        if let Some(pos) = chars.iter().position(|&c| c == '!') {
            chars.remove(pos);
        }
    }
    if chars.is_empty() && ranges.is_empty() {
        return if negated { Token::Any } else { Token::Never };
    }
    Token::Set {
        negated,
        chars,
        ranges,
    }
}

/// Python's `fnmatch.fnmatch` on POSIX (case-sensitive, `/` not special):
/// the whole `name` must match the whole pattern.
fn fnmatch(name: &str, pattern: &str) -> bool {
    let pat: Vec<char> = pattern.chars().collect();
    let tokens = compile(&pat);
    let text: Vec<char> = name.chars().collect();
    // Classic glob matching with one backtrack point per star: every
    // token other than a star consumes exactly one character.
    let (mut t, mut p) = (0usize, 0usize);
    let mut backtrack: Option<(usize, usize)> = None;
    loop {
        match (tokens.get(p), text.get(t)) {
            (Some(Token::Star), _) => {
                backtrack = Some((p, t));
                p = p.saturating_add(1);
            }
            (Some(tok), Some(&c)) if tok.matches(c) => {
                p = p.saturating_add(1);
                t = t.saturating_add(1);
            }
            (None, None) => return true,
            _ => match backtrack {
                Some((sp, st)) if st < text.len() => {
                    let st = st.saturating_add(1);
                    backtrack = Some((sp, st));
                    p = sp.saturating_add(1);
                    t = st;
                }
                _ => return false,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_stays_within_a_segment() {
        assert!(path_matches_pattern("firmware/a.bin", "firmware/*"));
        assert!(!path_matches_pattern("firmware/a/b.bin", "firmware/*"));
        assert!(!path_matches_pattern("a.bin", "*/*"));
        assert!(path_matches_pattern("", "*"));
    }

    #[test]
    fn sets_follow_fnmatch() {
        assert!(fnmatch("b", "[a-c]"));
        assert!(!fnmatch("d", "[a-c]"));
        assert!(fnmatch("d", "[!a-c]"));
        assert!(fnmatch("-", "[a-]"));
        assert!(!fnmatch("b", "[z-a]"));
        assert!(fnmatch("q", "[!z-a]"));
        assert!(fnmatch("[", "["));
        assert!(fnmatch("]", "[]]"));
        assert!(fnmatch("x", "[!]]"));
        assert!(fnmatch("\\", "[\\]"));
    }
}
