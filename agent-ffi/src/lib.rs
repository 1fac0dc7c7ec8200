//! dha's C ABI (being written).
