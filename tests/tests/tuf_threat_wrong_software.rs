//! Threat: wrong software installation (Uptane's "install software intended
//! for another ECU"; for dha: an image built for other hardware). TUF
//! 1.0.34 §1.5.2 lists no such attack since TUF does not know devices; dha
//! reads the target's `custom.hardware_id` (§4.5 custom) and refuses a
//! mismatch before anything is fetched.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use dha_core::tuf::TufError;
use dha_tests::tuf_support::{Device, assert_rejected_unchanged, repository};

const S: &str = "hardware-id";

fn device() -> Device {
    let mut d = Device::for_scenario(S);
    d.hardware_id = Some("mr-scanner-03".to_owned());
    d
}

#[test]
fn target_for_other_hardware_is_refused() {
    let d = device();
    let repo = repository(S, ".");
    d.refresh(&repo).unwrap();
    let err = assert_rejected_unchanged(&d, || d.download(&repo, "firmware/ct.bin"));
    assert!(
        matches!(&err, TufError::HardwareIdMismatch { listed, device, .. }
            if listed == "ct-console-07" && device == "mr-scanner-03"),
        "{err:?}"
    );
    assert!(!d.targets().join("firmware/ct.bin").exists());
}

#[test]
fn target_for_this_hardware_installs() {
    let d = device();
    let repo = repository(S, ".");
    assert_eq!(d.download(&repo, "firmware/mr.bin").unwrap().len(), 29);
}
