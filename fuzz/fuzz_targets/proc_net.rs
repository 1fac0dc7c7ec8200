//! The /proc/net/{tcp,tcp6,udp,udp6} socket-table parser on arbitrary bytes,
//! in both address byte orders, and the listening filter.
#![no_main]

use dha_core::TextFile;
use dha_core::parse::proc_net::{self, ByteOrder, Protocol};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for p in Protocol::ALL {
        let t = TextFile::from_bytes(p.proc_path(), data, false);
        for order in [ByteOrder::Little, ByteOrder::Big] {
            let sockets = proc_net::parse_with(&t, p, order, &mut |_| {});
            let _ = proc_net::listening(&sockets);
        }
    }
});
