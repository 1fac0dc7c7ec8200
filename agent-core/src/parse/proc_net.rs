//! `/proc/net/tcp`, `/proc/net/tcp6`, `/proc/net/udp` and `/proc/net/udp6`:
//! the kernel's socket tables (proc(5), "/proc/net/tcp"; the formats are
//! written by `tcp4_seq_show` / `tcp6_seq_show` in `net/ipv4/tcp_ipv4.c` /
//! `net/ipv6/tcp_ipv6.c` and `udp4_format_sock` / `__ip6_dgram_sock_seq_show`
//! for UDP).
//!
//! Each file is a header line (`sl local_address rem_address st
//! tx_queue rx_queue tr tm->when retrnsmt uid timeout inode ...`), then one
//! line per socket:
//!
//! ```text
//!    0: 0100007F:0277 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 ...
//! ```
//!
//! Byte order: the kernel prints each 32-bit word of an address with `%08X`
//! applied to the raw `__be32` (network-order) value *as the CPU reads it*,
//! i.e. in the host's byte order. On little-endian machines (x86, ARM) the
//! bytes of each word therefore appear reversed: `127.0.0.1` is `0100007F`.
//! IPv6 addresses are four such words (`s6_addr32[0..4]`), each reversed on
//! its own. Ports are printed after `ntohs`, so they read as plain hex
//! numbers. [`parse`] decodes with the byte order of the machine it runs on
//! ([`ByteOrder::NATIVE`]), which is right for the live `/proc` this is meant
//! for; [`parse_with`] takes the byte order explicitly (for tables captured
//! on another architecture).
//!
//! Malformed lines become a [`Diagnostic`] naming file, line and field; the
//! rest of the table is still parsed. Work is linear in the input (which the
//! [`TextFile`] read limits bound).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::finding::Diagnostic;
use crate::root::TextFile;

/// Which table a socket came from (serialised as `tcp`, `tcp6`, `udp`, `udp6`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// `/proc/net/tcp` (IPv4 TCP).
    Tcp,
    /// `/proc/net/tcp6` (IPv6 TCP, including IPv4-mapped addresses).
    Tcp6,
    /// `/proc/net/udp` (IPv4 UDP).
    Udp,
    /// `/proc/net/udp6` (IPv6 UDP, including IPv4-mapped addresses).
    Udp6,
}

impl Protocol {
    /// All four tables, in the order `tcp`, `tcp6`, `udp`, `udp6`.
    pub const ALL: [Protocol; 4] = [Protocol::Tcp, Protocol::Tcp6, Protocol::Udp, Protocol::Udp6];

    /// The table's path under `/proc` (`/proc/net/tcp` etc.).
    pub fn proc_path(self) -> &'static str {
        match self {
            Protocol::Tcp => "/proc/net/tcp",
            Protocol::Tcp6 => "/proc/net/tcp6",
            Protocol::Udp => "/proc/net/udp",
            Protocol::Udp6 => "/proc/net/udp6",
        }
    }

    /// True for the TCP tables.
    pub fn is_tcp(self) -> bool {
        matches!(self, Protocol::Tcp | Protocol::Tcp6)
    }

    /// True for the IPv6 tables (addresses are 32 hex digits).
    pub fn is_v6(self) -> bool {
        matches!(self, Protocol::Tcp6 | Protocol::Udp6)
    }
}

/// The byte order in which the kernel printed each 32-bit address word
/// (the host byte order of the machine whose `/proc` was read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteOrder {
    /// Little-endian hosts (x86, x86-64, ARM, AArch64, RISC-V): `127.0.0.1`
    /// is printed `0100007F`.
    Little,
    /// Big-endian hosts (s390x, some PowerPC/MIPS): `127.0.0.1` is printed
    /// `7F000001`.
    Big,
}

impl ByteOrder {
    /// The byte order of the machine this code runs on.
    #[cfg(target_endian = "little")]
    pub const NATIVE: ByteOrder = ByteOrder::Little;
    /// The byte order of the machine this code runs on.
    #[cfg(target_endian = "big")]
    pub const NATIVE: ByteOrder = ByteOrder::Big;

    /// The four address bytes, in network order, of one printed word.
    fn word_bytes(self, word: u32) -> [u8; 4] {
        match self {
            ByteOrder::Little => word.to_le_bytes(),
            ByteOrder::Big => word.to_be_bytes(),
        }
    }
}

/// A socket state, numbered as in the kernel's `include/net/tcp_states.h`
/// (the `st` column). UDP reuses the numbers: a bound, unconnected UDP
/// socket shows `07` (CLOSE), a connected one `01` (ESTABLISHED).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// `TCP_ESTABLISHED` (0x01).
    Established,
    /// `TCP_SYN_SENT` (0x02).
    SynSent,
    /// `TCP_SYN_RECV` (0x03).
    SynRecv,
    /// `TCP_FIN_WAIT1` (0x04).
    FinWait1,
    /// `TCP_FIN_WAIT2` (0x05).
    FinWait2,
    /// `TCP_TIME_WAIT` (0x06).
    TimeWait,
    /// `TCP_CLOSE` (0x07); for UDP, a bound unconnected socket.
    Close,
    /// `TCP_CLOSE_WAIT` (0x08).
    CloseWait,
    /// `TCP_LAST_ACK` (0x09).
    LastAck,
    /// `TCP_LISTEN` (0x0A).
    Listen,
    /// `TCP_CLOSING` (0x0B).
    Closing,
    /// `TCP_NEW_SYN_RECV` (0x0C).
    NewSynRecv,
    /// `TCP_BOUND_INACTIVE` (0x0D, Linux 6.8+).
    BoundInactive,
    /// A number this parser does not know (a newer kernel).
    Other(u8),
}

impl State {
    /// The state for a `st` number.
    pub fn from_code(code: u8) -> State {
        match code {
            0x01 => State::Established,
            0x02 => State::SynSent,
            0x03 => State::SynRecv,
            0x04 => State::FinWait1,
            0x05 => State::FinWait2,
            0x06 => State::TimeWait,
            0x07 => State::Close,
            0x08 => State::CloseWait,
            0x09 => State::LastAck,
            0x0A => State::Listen,
            0x0B => State::Closing,
            0x0C => State::NewSynRecv,
            0x0D => State::BoundInactive,
            other => State::Other(other),
        }
    }

    /// The `st` number.
    pub fn code(self) -> u8 {
        match self {
            State::Established => 0x01,
            State::SynSent => 0x02,
            State::SynRecv => 0x03,
            State::FinWait1 => 0x04,
            State::FinWait2 => 0x05,
            State::TimeWait => 0x06,
            State::Close => 0x07,
            State::CloseWait => 0x08,
            State::LastAck => 0x09,
            State::Listen => 0x0A,
            State::Closing => 0x0B,
            State::NewSynRecv => 0x0C,
            State::BoundInactive => 0x0D,
            State::Other(c) => c,
        }
    }
}

/// One socket (one data line of a table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Socket {
    /// The table it came from.
    pub protocol: Protocol,
    /// `local_address`: address and port.
    pub local: SocketAddr,
    /// `rem_address`: address and port (`0.0.0.0:0` / `[::]:0` when none).
    pub remote: SocketAddr,
    /// `st`.
    pub state: State,
    /// `uid`: the owner's effective uid (in the reader's user namespace).
    pub uid: u32,
    /// `inode`: the socket inode, matching `socket:[N]` links in
    /// `/proc/PID/fd` (0 for sockets no longer attached to a file, e.g.
    /// TIME_WAIT).
    pub inode: u64,
    /// The 1-based line in the table.
    pub line: u32,
}

impl Socket {
    /// True for a TCP socket in LISTEN, or a UDP socket bound and
    /// unconnected (state CLOSE): the sockets that accept traffic from any
    /// peer (what `ss -l` lists).
    pub fn is_listening(&self) -> bool {
        if self.protocol.is_tcp() {
            self.state == State::Listen
        } else {
            self.state == State::Close
        }
    }
}

/// The listening sockets among `sockets` (see [`Socket::is_listening`]).
pub fn listening(sockets: &[Socket]) -> Vec<&Socket> {
    sockets.iter().filter(|s| s.is_listening()).collect()
}

/// Parses one table, decoding addresses in this machine's byte order
/// ([`ByteOrder::NATIVE`]; see the module documentation).
pub fn parse(t: &TextFile, protocol: Protocol, warn: &mut dyn FnMut(Diagnostic)) -> Vec<Socket> {
    parse_with(t, protocol, ByteOrder::NATIVE, warn)
}

/// Parses one table whose address words were printed in `order`.
/// The header line (first line, starting with `sl`) is skipped; every other
/// non-blank line is a socket or yields a diagnostic.
pub fn parse_with(
    t: &TextFile,
    protocol: Protocol,
    order: ByteOrder,
    warn: &mut dyn FnMut(Diagnostic),
) -> Vec<Socket> {
    let mut out = Vec::new();
    for (n, line) in t.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || (n == 1 && trimmed.starts_with("sl")) {
            continue;
        }
        match parse_line(trimmed, protocol, order, n) {
            Ok(s) => out.push(s),
            Err((field, message)) => warn(Diagnostic {
                file: t.path.clone(),
                line: Some(n),
                field: Some(field.to_owned()),
                message,
            }),
        }
    }
    out
}

type LineError = (&'static str, String);

fn parse_line(
    line: &str,
    protocol: Protocol,
    order: ByteOrder,
    n: u32,
) -> Result<Socket, LineError> {
    let mut f = line.split_ascii_whitespace();
    let mut next = |name: &'static str| {
        f.next()
            .ok_or_else(|| (name, format!("missing field {name}")))
    };
    let sl = next("sl")?;
    let sl_digits = sl
        .strip_suffix(':')
        .ok_or_else(|| ("sl", format!("expected `N:`, found {sl:?}")))?;
    if sl_digits.is_empty() || !sl_digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(("sl", format!("expected `N:`, found {sl:?}")));
    }
    let local = parse_endpoint(next("local_address")?, protocol, order)
        .map_err(|m| ("local_address", m))?;
    let remote =
        parse_endpoint(next("rem_address")?, protocol, order).map_err(|m| ("rem_address", m))?;
    let st = next("st")?;
    let code = u8::from_str_radix(st, 16)
        .ok()
        .filter(|_| st.len() == 2)
        .ok_or_else(|| ("st", format!("expected two hex digits, found {st:?}")))?;
    let _queues = next("tx_queue:rx_queue")?;
    let _timer = next("tr:tm->when")?;
    let _retrnsmt = next("retrnsmt")?;
    let uid_s = next("uid")?;
    let uid = uid_s
        .parse::<u32>()
        .map_err(|_| ("uid", format!("expected a decimal uid, found {uid_s:?}")))?;
    let _timeout = next("timeout")?;
    let inode_s = next("inode")?;
    let inode = inode_s.parse::<u64>().map_err(|_| {
        (
            "inode",
            format!("expected a decimal inode, found {inode_s:?}"),
        )
    })?;
    Ok(Socket {
        protocol,
        local,
        remote,
        state: State::from_code(code),
        uid,
        inode,
        line: n,
    })
}

/// `ADDR:PORT` with ADDR 8 (IPv4) or 32 (IPv6) hex digits, PORT 4.
fn parse_endpoint(s: &str, protocol: Protocol, order: ByteOrder) -> Result<SocketAddr, String> {
    let (addr, port) = s
        .split_once(':')
        .ok_or_else(|| format!("expected ADDRESS:PORT, found {s:?}"))?;
    if port.len() != 4 {
        return Err(format!("expected a 4-digit hex port, found {port:?}"));
    }
    let port = u16::from_str_radix(port, 16)
        .map_err(|_| format!("expected a 4-digit hex port, found {port:?}"))?;
    let want = if protocol.is_v6() { 32 } else { 8 };
    if addr.len() != want || !addr.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "expected {want} hex digits of address, found {addr:?}"
        ));
    }
    let mut bytes = [0u8; 16];
    for (i, chunk) in bytes.chunks_exact_mut(4).take(want / 8).enumerate() {
        let start = i.checked_mul(8).ok_or("address too long")?;
        let end = start.checked_add(8).ok_or("address too long")?;
        let word = addr
            .get(start..end)
            .and_then(|w| u32::from_str_radix(w, 16).ok())
            .ok_or_else(|| format!("bad address word in {addr:?}"))?;
        chunk.copy_from_slice(&order.word_bytes(word));
    }
    let ip = if protocol.is_v6() {
        IpAddr::V6(Ipv6Addr::from(bytes))
    } else {
        let [a, b, c, d, ..] = bytes;
        IpAddr::V4(Ipv4Addr::new(a, b, c, d))
    };
    Ok(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, TcpStream, UdpSocket};
    use std::os::fd::AsRawFd;

    fn parse_all(name: &str, text: &str, p: Protocol) -> (Vec<Socket>, Vec<Diagnostic>) {
        let t = TextFile::from_bytes(name, text.as_bytes(), false);
        let mut d = Vec::new();
        let s = parse_with(&t, p, ByteOrder::Little, &mut |x| d.push(x));
        (s, d)
    }

    /// The inode of a socket, from its `/proc/self/fd/N -> socket:[N]` link.
    fn inode_of(fd: &impl AsRawFd) -> u64 {
        let link = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).unwrap();
        let s = link.to_str().unwrap();
        s.strip_prefix("socket:[")
            .and_then(|s| s.strip_suffix(']'))
            .unwrap()
            .parse()
            .unwrap()
    }

    fn read_proc(p: Protocol) -> Vec<Socket> {
        let bytes = std::fs::read(p.proc_path()).unwrap();
        let t = TextFile::from_bytes(p.proc_path(), &bytes, false);
        let mut d = Vec::new();
        let s = parse(&t, p, &mut |x| d.push(x));
        assert!(d.is_empty(), "{}: {d:?}", p.proc_path());
        s
    }

    #[test]
    fn real_listeners_on_this_machine_are_found_by_port_and_inode() {
        let l4 = TcpListener::bind("127.0.0.1:0").unwrap();
        let l6 = TcpListener::bind("[::1]:0").unwrap();
        let u4 = UdpSocket::bind("127.0.0.1:0").unwrap();
        let u6 = UdpSocket::bind("[::1]:0").unwrap();
        // A connection to l4: an ESTABLISHED pair that listening() drops.
        let c = TcpStream::connect(l4.local_addr().unwrap()).unwrap();
        let (accepted, _) = l4.accept().unwrap();

        let tcp = read_proc(Protocol::Tcp);
        let tcp6 = read_proc(Protocol::Tcp6);
        let udp = read_proc(Protocol::Udp);
        let udp6 = read_proc(Protocol::Udp6);
        let cases: [(&[Socket], SocketAddr, u64, State); 4] = [
            (&tcp, l4.local_addr().unwrap(), inode_of(&l4), State::Listen),
            (
                &tcp6,
                l6.local_addr().unwrap(),
                inode_of(&l6),
                State::Listen,
            ),
            (&udp, u4.local_addr().unwrap(), inode_of(&u4), State::Close),
            (&udp6, u6.local_addr().unwrap(), inode_of(&u6), State::Close),
        ];
        let uid = std::fs::metadata("/proc/self").map(|m| {
            use std::os::unix::fs::MetadataExt;
            m.uid()
        });
        for (table, addr, inode, state) in cases {
            let s = table
                .iter()
                .find(|s| s.inode == inode)
                .unwrap_or_else(|| panic!("inode {inode} ({addr}) not in {table:?}"));
            assert_eq!(s.local, addr);
            assert_eq!(s.state, state);
            assert_eq!(s.remote.port(), 0);
            assert!(s.remote.ip().is_unspecified());
            assert_eq!(s.uid, *uid.as_ref().unwrap());
            assert!(listening(table).iter().any(|l| l.inode == inode));
        }
        // The connected pair: both ends ESTABLISHED, remote = the other end.
        let client = tcp.iter().find(|s| s.inode == inode_of(&c)).unwrap();
        assert_eq!(client.state, State::Established);
        assert_eq!(client.remote, l4.local_addr().unwrap());
        assert_eq!(client.local, c.local_addr().unwrap());
        let server = tcp.iter().find(|s| s.inode == inode_of(&accepted)).unwrap();
        assert_eq!(server.remote, c.local_addr().unwrap());
        let ls = listening(&tcp);
        assert!(
            !ls.iter()
                .any(|s| s.inode == client.inode || s.inode == server.inode)
        );
    }

    // Captured from this machine (Debian, x86-64): header lines with their
    // trailing spaces, sshd on 0.0.0.0:22 and [::]:22, a loopback pair, DHCP.
    const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode                                                     \n   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 559 1 0000000061ecaf30 100 0 0 10 0                       \n   1: 0100007F:A1B2 0100007F:0016 01 00000000:00000000 02:000A7F43 00000000  1000        0 8812 2 00000000a3f1c2d4 20 4 30 10 -1                     \n   2: 0100007F:9C40 0100007F:1F90 06 00000000:00000000 03:00000F9C 00000000     0        0 0 3 0000000000000000                                      \n";
    const TCP6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 561 1 00000000b7d3e8a1 100 0 0 10 0\n   1: 0000000000000000FFFF00000100007F:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000   108        0 9001 1 00000000c0ffee00 100 0 0 10 0\n   2: 000080FE00000000FF27000AA1664EFE:0016 000080FE000000000000000001000000:D431 01 00000000:00000000 00:00000000 00000000     0        0 9002 1 00000000c0ffee01 20 4 30 10 -1\n";
    const UDP: &str = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops            \n  310: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 14562 2 000000005d1c6bd8 0            \n  999: 0F02000A:E1C3 08080808:0035 01 00000000:00000000 00:00000000 00000000   101        0 14600 2 000000005d1c6bd9 0            \n";

    #[test]
    fn captured_tables_decode_little_endian_words() {
        let (t, d) = parse_all("/proc/net/tcp", TCP, Protocol::Tcp);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(t.len(), 3);
        assert_eq!(t[0].local, "0.0.0.0:22".parse().unwrap());
        assert_eq!(
            (t[0].state, t[0].uid, t[0].inode, t[0].line),
            (State::Listen, 0, 559, 2)
        );
        assert_eq!(t[1].local, "127.0.0.1:41394".parse().unwrap());
        assert_eq!(t[1].remote, "127.0.0.1:22".parse().unwrap());
        assert_eq!((t[1].state, t[1].uid), (State::Established, 1000));
        assert_eq!((t[2].state, t[2].inode), (State::TimeWait, 0));
        assert_eq!(listening(&t).len(), 1);

        let (t6, d) = parse_all("/proc/net/tcp6", TCP6, Protocol::Tcp6);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(t6[0].local, "[::]:22".parse().unwrap());
        assert_eq!(t6[1].local, "[::ffff:127.0.0.1]:8080".parse().unwrap());
        assert_eq!(t6[1].uid, 108);
        assert_eq!(
            t6[2].local,
            "[fe80::a00:27ff:fe4e:66a1]:22".parse().unwrap()
        );
        assert_eq!(t6[2].remote, "[fe80::1]:54321".parse().unwrap());
        assert_eq!(listening(&t6).len(), 2);

        let (u, d) = parse_all("/proc/net/udp", UDP, Protocol::Udp);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(u[0].local, "0.0.0.0:68".parse().unwrap());
        assert_eq!(u[0].state, State::Close);
        assert_eq!(u[1].local, "10.0.2.15:57795".parse().unwrap());
        assert_eq!(u[1].remote, "8.8.8.8:53".parse().unwrap());
        // Bound UDP (07) listens; a connected UDP socket (01) does not.
        let l = listening(&u);
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].inode, 14562);
    }

    #[test]
    fn big_endian_order_reads_words_as_written() {
        let text = "  sl  local_address rem_address   st\n   0: 7F000001:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 7 1\n";
        let t = TextFile::from_bytes("/proc/net/tcp", text.as_bytes(), false);
        let s = parse_with(&t, Protocol::Tcp, ByteOrder::Big, &mut |d| panic!("{d}"));
        assert_eq!(s[0].local, "127.0.0.1:80".parse().unwrap());
        let s = parse_with(&t, Protocol::Tcp, ByteOrder::Little, &mut |d| panic!("{d}"));
        assert_eq!(s[0].local, "1.0.0.127:80".parse().unwrap());
    }

    #[test]
    fn malformed_lines_name_file_line_and_field() {
        let good = "   0: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5 1";
        let cases = [
            ("   0 0100007F:0016 00000000:0000 0A 0:0 00:0 0 0 0 5", "sl"),
            (
                "   0: 0100007F0016 00000000:0000 0A 0:0 00:0 0 0 0 5",
                "local_address",
            ),
            (
                "   0: 0100007:0016 00000000:0000 0A 0:0 00:0 0 0 0 5",
                "local_address",
            ),
            (
                "   0: 0100007F:16 00000000:0000 0A 0:0 00:0 0 0 0 5",
                "local_address",
            ),
            (
                "   0: 0100007F:0016 0000000G:0000 0A 0:0 00:0 0 0 0 5",
                "rem_address",
            ),
            ("   0: 0100007F:0016 00000000:0000 A 0:0 00:0 0 0 0 5", "st"),
            (
                "   0: 0100007F:0016 00000000:0000 0A 0:0 00:0 0 -1 0 5",
                "uid",
            ),
            (
                "   0: 0100007F:0016 00000000:0000 0A 0:0 00:0 0 0 0 x",
                "inode",
            ),
            (
                "   0: 0100007F:0016 00000000:0000 0A 0:0 00:0 0 0 0",
                "inode",
            ),
            (
                "   0: +100007F:0016 00000000:0000 0A 0:0 00:0 0 0 0 5",
                "local_address",
            ),
        ];
        for (bad, field) in cases {
            let text = format!("  sl  local_address\n{good}\n{bad}\n\n{good}\n");
            let (s, d) = parse_all("/proc/net/tcp", &text, Protocol::Tcp);
            assert_eq!(s.len(), 2, "{bad}");
            assert_eq!(d.len(), 1, "{bad}: {d:?}");
            assert_eq!(d[0].file, "/proc/net/tcp");
            assert_eq!(d[0].line, Some(3));
            assert_eq!(d[0].field.as_deref(), Some(field), "{bad}: {}", d[0]);
        }
        // An IPv4-length address in the IPv6 table is reported, not guessed.
        let (s, d) = parse_all("/proc/net/tcp6", &format!("{good}\n"), Protocol::Tcp6);
        assert!(s.is_empty());
        assert_eq!(d[0].field.as_deref(), Some("local_address"));
        assert_eq!(d[0].line, Some(1));
        // Unknown states are kept with their number.
        assert_eq!(State::from_code(0x0E), State::Other(0x0E));
        for c in 0..=0xFF {
            assert_eq!(State::from_code(c).code(), c);
        }
    }
}
