//! Keys and signatures (being written).
