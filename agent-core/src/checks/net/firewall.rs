//! NET-01, firewall: is the nftables input path default-deny?
//!
//! Reads the libnftables JSON of `nft -j list ruleset` (libnftables-json(5)):
//! an array `nftables` of objects, each holding one of `metainfo`, `table`,
//! `chain` (`family`, `table`, `name`, and for a base chain `type`, `hook`,
//! `prio`, `policy`) or `rule` (`family`, `table`, `chain`, `expr`: the
//! statements, in order). Rules are listed in their chain's order.
//!
//! A packet to this host traverses every base chain on the `input` hook of
//! its family (nft(8), "CHAINS": "a packet ... will be evaluated by each
//! base chain"; a drop anywhere is final). Within a chain the first rule
//! whose verdict is unconditional (only `counter`, `log` and `comment`
//! statements before it) ends the evaluation: rules after it are never
//! reached, and neither is the policy. So a chain drops by default when its
//! first unconditional verdict is `drop` or `reject`, or when it has none
//! and its policy is `drop`; an unconditional `accept` (`counter accept`)
//! opens it whatever its policy. IPv4 is default-deny when some `input`
//! chain of an `ip` or `inet` table drops by default; likewise IPv6 with
//! `ip6` or `inet`. A drop reached only through `jump`/`goto` is not
//! followed: such a ruleset is reported (conservatively) as not
//! default-deny.

use serde_json::Value;

/// What the input path of the ruleset does by default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InputPolicy {
    /// IPv4 traffic ends in a drop when no rule accepts it.
    pub v4_denied: bool,
    /// IPv6 likewise.
    pub v6_denied: bool,
    /// Each `input` base chain: `inet filter input: policy accept`.
    pub chains: Vec<String>,
}

/// The most chains named in a finding.
const MAX_CHAINS_SHOWN: usize = 16;

/// A base chain on the input hook, with its verdict so far.
struct InputChain {
    family: String,
    table: String,
    name: String,
    policy: String,
    /// The first unconditional verdict among its rules (later rules and the
    /// policy are never reached).
    terminal: Option<Verdict>,
}

/// An unconditional verdict of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// `drop` or `reject`.
    Drop,
    /// `accept`.
    Accept,
}

impl InputChain {
    /// True when a packet no rule matches conditionally is dropped.
    fn denies(&self) -> bool {
        match self.terminal {
            Some(Verdict::Drop) => true,
            Some(Verdict::Accept) => false,
            None => self.policy == "drop",
        }
    }
}

/// Reads the ruleset; `Err` says why it is not libnftables JSON.
pub(crate) fn input_policy(json: &str) -> Result<InputPolicy, String> {
    let doc: Value = serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
    let items = doc
        .get("nftables")
        .and_then(Value::as_array)
        .ok_or("no \"nftables\" array at the top (libnftables-json(5))")?;
    let mut chains: Vec<InputChain> = Vec::new();
    for item in items {
        if let Some(c) = item.get("chain") {
            if c.get("hook").and_then(Value::as_str) != Some("input") {
                continue;
            }
            let family = text(c, "family");
            if !matches!(family.as_str(), "inet" | "ip" | "ip6") {
                continue;
            }
            chains.push(InputChain {
                family,
                table: text(c, "table"),
                name: text(c, "name"),
                // nft(8): a base chain's policy defaults to accept.
                policy: c
                    .get("policy")
                    .and_then(Value::as_str)
                    .unwrap_or("accept")
                    .to_owned(),
                terminal: None,
            });
        } else if let Some(r) = item.get("rule") {
            let (family, table, chain) = (text(r, "family"), text(r, "table"), text(r, "chain"));
            if let Some(c) = chains
                .iter_mut()
                .find(|c| c.family == family && c.table == table && c.name == chain)
            {
                // Rules come in chain order; the first unconditional
                // verdict is final (nft(8), "VERDICT STATEMENT").
                if c.terminal.is_none() {
                    c.terminal = unconditional_verdict(r.get("expr"));
                }
            }
        }
    }
    let denies = InputChain::denies;
    let covers = |families: [&str; 2]| {
        chains
            .iter()
            .any(|c| families.contains(&c.family.as_str()) && denies(c))
    };
    Ok(InputPolicy {
        v4_denied: covers(["ip", "inet"]),
        v6_denied: covers(["ip6", "inet"]),
        chains: chains
            .iter()
            .take(MAX_CHAINS_SHOWN)
            .map(|c| {
                let mut s = format!("{} {} {}: policy {}", c.family, c.table, c.name, c.policy);
                match c.terminal {
                    Some(Verdict::Drop) => s.push_str(", an unconditional rule drops"),
                    Some(Verdict::Accept) => {
                        s.push_str(", an unconditional rule accepts everything")
                    }
                    None => {}
                }
                s
            })
            .collect(),
    })
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// The verdict of a rule whose statements are only `counter`, `log` and
/// `comment` before `drop`, `reject` or `accept` (libnftables-json(5),
/// "VERDICT", "REJECT", "COUNTER", "LOG"); `None` for any other rule (a
/// match, a jump, a rule without a verdict).
fn unconditional_verdict(expr: Option<&Value>) -> Option<Verdict> {
    let stmts = expr.and_then(Value::as_array)?;
    let (last, before) = stmts.split_last()?;
    let is = |s: &Value, keys: &[&str]| {
        s.as_object()
            .is_some_and(|o| o.len() == 1 && o.keys().all(|k| keys.contains(&k.as_str())))
    };
    if !before.iter().all(|s| is(s, &["counter", "log", "comment"])) {
        return None;
    }
    if is(last, &["drop", "reject"]) {
        Some(Verdict::Drop)
    } else if is(last, &["accept"]) {
        Some(Verdict::Accept)
    } else {
        None
    }
}
