//! The metadata of the four top-level roles and of delegated roles (being written).
