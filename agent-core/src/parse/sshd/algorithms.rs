//! `Ciphers`, `MACs` and `KexAlgorithms`: OpenSSH 9.x's default and supported
//! lists, and the list sshd actually offers for a configured value.

/// OpenSSH 9.x default `Ciphers` (`myproposal.h` `KEX_SERVER_ENCRYPT`, unchanged from 9.0 to 9.9).
pub const DEFAULT_CIPHERS: &str = "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com";

/// OpenSSH 9.x default `MACs` (`myproposal.h` `KEX_SERVER_MAC`, unchanged from 9.0 to 9.9).
pub const DEFAULT_MACS: &str = "umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1";

/// OpenSSH 9.9 default `KexAlgorithms` (`myproposal.h` `KEX_SERVER_KEX` of
/// 9.9p1; 9.0 to 9.8 lack the first and third entries, which are strong).
pub const DEFAULT_KEX: &str = "sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com,mlkem768x25519-sha256,curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group14-sha256";

/// The algorithm lists sshd negotiates, each set by one keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlgorithmKind {
    /// `Ciphers`.
    Ciphers,
    /// `MACs`.
    Macs,
    /// `KexAlgorithms`.
    Kex,
}

impl AlgorithmKind {
    /// The keyword, as sshd_config(5) spells it.
    pub fn keyword(self) -> &'static str {
        match self {
            AlgorithmKind::Ciphers => "Ciphers",
            AlgorithmKind::Macs => "MACs",
            AlgorithmKind::Kex => "KexAlgorithms",
        }
    }

    /// OpenSSH 9.x's default list for this keyword.
    pub fn default_list(self) -> &'static str {
        match self {
            AlgorithmKind::Ciphers => DEFAULT_CIPHERS,
            AlgorithmKind::Macs => DEFAULT_MACS,
            AlgorithmKind::Kex => DEFAULT_KEX,
        }
    }

    /// Every algorithm OpenSSH 9.9 supports for this keyword (`ssh -Q cipher`,
    /// `ssh -Q mac`, `ssh -Q kex` of a build with OpenSSL); wildcards in a
    /// list are matched against these.
    pub fn supported(self) -> &'static [&'static str] {
        match self {
            AlgorithmKind::Ciphers => &[
                "3des-cbc",
                "aes128-cbc",
                "aes192-cbc",
                "aes256-cbc",
                "aes128-ctr",
                "aes192-ctr",
                "aes256-ctr",
                "aes128-gcm@openssh.com",
                "aes256-gcm@openssh.com",
                "chacha20-poly1305@openssh.com",
            ],
            AlgorithmKind::Macs => &[
                "hmac-sha1",
                "hmac-sha1-96",
                "hmac-sha2-256",
                "hmac-sha2-512",
                "hmac-md5",
                "hmac-md5-96",
                "umac-64@openssh.com",
                "umac-128@openssh.com",
                "hmac-sha1-etm@openssh.com",
                "hmac-sha1-96-etm@openssh.com",
                "hmac-sha2-256-etm@openssh.com",
                "hmac-sha2-512-etm@openssh.com",
                "hmac-md5-etm@openssh.com",
                "hmac-md5-96-etm@openssh.com",
                "umac-64-etm@openssh.com",
                "umac-128-etm@openssh.com",
            ],
            AlgorithmKind::Kex => &[
                "diffie-hellman-group1-sha1",
                "diffie-hellman-group14-sha1",
                "diffie-hellman-group14-sha256",
                "diffie-hellman-group16-sha512",
                "diffie-hellman-group18-sha512",
                "diffie-hellman-group-exchange-sha1",
                "diffie-hellman-group-exchange-sha256",
                "ecdh-sha2-nistp256",
                "ecdh-sha2-nistp384",
                "ecdh-sha2-nistp521",
                "curve25519-sha256",
                "curve25519-sha256@libssh.org",
                "sntrup761x25519-sha512",
                "sntrup761x25519-sha512@openssh.com",
                "mlkem768x25519-sha256",
            ],
        }
    }
}

/// The algorithms sshd offers for a `Ciphers`, `MACs` or `KexAlgorithms`
/// value (`None`: not set), as `kex_assemble_names()` builds them: a plain
/// list replaces the default; `+list` appends to the default; `^list` puts the
/// list before the default; `-list` removes from the default every algorithm
/// matching one of its patterns (`*`, `?`). Wildcards in the other forms are
/// matched against [`AlgorithmKind::supported`]; a name sshd does not know is
/// kept as written (sshd would refuse it; a caller judging strength should
/// treat it as not strong). Duplicates are dropped, the first kept.
pub fn effective_algorithms(kind: AlgorithmKind, value: Option<&str>) -> Vec<String> {
    let default = kind.default_list();
    let value = value.map(str::trim).unwrap_or("");
    if value.is_empty() {
        return split_names(default);
    }
    let (head, tail): (&str, &str) = if let Some(rest) = value.strip_prefix('-') {
        let patterns: Vec<&str> = rest.split(',').filter(|p| !p.is_empty()).collect();
        return split_names(default)
            .into_iter()
            .filter(|name| !patterns.iter().any(|p| wildcard_match(p, name)))
            .collect();
    } else if let Some(rest) = value.strip_prefix('+') {
        (default, rest)
    } else if let Some(rest) = value.strip_prefix('^') {
        (rest, default)
    } else {
        (value, "")
    };
    let mut out: Vec<String> = Vec::new();
    for item in head.split(',').chain(tail.split(',')) {
        if item.is_empty() {
            continue;
        }
        let names: Vec<String> = if item.contains(['*', '?']) {
            kind.supported()
                .iter()
                .filter(|a| wildcard_match(item, a))
                .map(|a| (*a).to_owned())
                .collect()
        } else {
            vec![item.to_owned()]
        };
        for n in names {
            if !out.contains(&n) {
                out.push(n);
            }
        }
    }
    out
}

fn split_names(list: &str) -> Vec<String> {
    list.split(',')
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect()
}

/// OpenSSH's `match_pattern()`: `*` matches any run of characters, `?` one
/// character; everything else literally (case-sensitive).
pub fn wildcard_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // Iterative matcher with one backtrack point (the last `*`): linear
    // memory, no recursion, so a hostile pattern cannot exhaust the stack.
    let (mut pi, mut ni) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ni));
                pi += 1;
            }
            Some(&c) if c == '?' || Some(&c) == n.get(ni) => {
                pi += 1;
                ni += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    pi = sp + 1;
                    ni = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|c| *c == '*'))
}
