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
//! base chain"; a drop anywhere is final). So IPv4 is default-deny when some
//! `input` chain of an `ip` or `inet` table has `policy drop`, or ends with
//! a rule that drops or rejects unconditionally (only `counter` and `log`
//! beside the verdict); likewise IPv6 with `ip6` or `inet`. A drop reached
//! only through `jump`/`goto` is not followed: such a ruleset is reported
//! (conservatively) as not default-deny.

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
    ends_in_drop: bool,
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
                ends_in_drop: false,
            });
        } else if let Some(r) = item.get("rule") {
            let (family, table, chain) = (text(r, "family"), text(r, "table"), text(r, "chain"));
            if let Some(c) = chains
                .iter_mut()
                .find(|c| c.family == family && c.table == table && c.name == chain)
            {
                // Only the last rule counts: each rule overwrites it.
                c.ends_in_drop = unconditional_drop(r.get("expr"));
            }
        }
    }
    let denies = |c: &InputChain| c.policy == "drop" || c.ends_in_drop;
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
                if c.ends_in_drop {
                    s.push_str(", last rule drops");
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

/// True for a rule whose statements are only `counter`/`log` and end in
/// `drop` or `reject` (libnftables-json(5), "VERDICT" and "REJECT").
fn unconditional_drop(expr: Option<&Value>) -> bool {
    let Some(stmts) = expr.and_then(Value::as_array) else {
        return false;
    };
    let Some((last, before)) = stmts.split_last() else {
        return false;
    };
    let is = |s: &Value, keys: &[&str]| {
        s.as_object()
            .is_some_and(|o| o.len() == 1 && o.keys().all(|k| keys.contains(&k.as_str())))
    };
    is(last, &["drop", "reject"]) && before.iter().all(|s| is(s, &["counter", "log"]))
}
