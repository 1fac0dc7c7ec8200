//! The simulated-reboot scenarios of issue 5 over the file-backed boot
//! control: a simulated boot loader ([`boot::boot_attempt`]) starts a slot
//! and saves its counter, and the agent marks slots good or bad.

use super::FileBootControl;
use dha_core::boot::{self, BootControl, BootPolicy, BootState, SlotId};
use std::path::Path;

const P: BootPolicy = BootPolicy { max_tries: 3 };

fn id(s: &str) -> SlotId {
    SlotId(s.to_owned())
}

/// A rig: A good and running, B empty.
fn rig(dir: &Path) -> FileBootControl {
    let path = dir.join("bootenv");
    std::fs::write(&path, "BOOT_ORDER=A B\nBOOT_A_LEFT=3\nBOOT_B_LEFT=0\n").unwrap();
    FileBootControl::new(path).with_booted(id("A"))
}

/// Power-on: the boot loader picks a slot and saves its counter; returns
/// the boot control as the started system sees it.
fn power_on(bc: &FileBootControl) -> (FileBootControl, SlotId) {
    let mut s = bc.read().unwrap();
    let slot = boot::boot_attempt(&mut s, P).expect("the boot loader found a slot");
    bc.write(&s).unwrap();
    (
        FileBootControl::new(bc.path()).with_booted(slot.clone()),
        slot,
    )
}

fn state(bc: &FileBootControl) -> BootState {
    bc.read().unwrap()
}

fn tries(bc: &FileBootControl, s: &str) -> u32 {
    state(bc).tries_left.get(&id(s)).copied().unwrap_or(0)
}

#[test]
fn failing_health_check_falls_back_then_a_healthy_update_sticks() {
    let dir = tempfile::tempdir().unwrap();
    let bc = rig(dir.path());
    // Install "writes" B, then switches to it.
    boot::switch(&bc, P, &id("B")).unwrap();
    // The health check fails three times: no mark-good, B's tries run out.
    for left in [2, 1, 0] {
        let (running, slot) = power_on(&bc);
        assert_eq!(slot, id("B"));
        assert_eq!(running.booted(), Some(id("B")));
        assert_eq!(tries(&bc, "B"), left);
    }
    // The fourth power-on falls back to A, which is healthy and marked good.
    let (running, slot) = power_on(&bc);
    assert_eq!(slot, id("A"));
    boot::mark_good(&running, P, &running.booted().unwrap()).unwrap();
    assert_eq!(
        state(&bc).order,
        vec![id("A")],
        "B, which failed, is out of the order"
    );
    assert_eq!((tries(&bc, "A"), tries(&bc, "B")), (3, 0));
    // A later power-on stays on A.
    assert_eq!(power_on(&bc).1, id("A"));

    // A new, healthy update of B.
    boot::switch(&bc, P, &id("B")).unwrap();
    let (running, slot) = power_on(&bc);
    assert_eq!(slot, id("B"));
    boot::mark_good(&running, P, &slot).unwrap();
    assert_eq!(state(&bc).order, vec![id("B"), id("A")]);
    assert_eq!(tries(&bc, "B"), 3);
    for _ in 0..5 {
        let (running, slot) = power_on(&bc);
        assert_eq!(slot, id("B"), "B stays first");
        boot::mark_good(&running, P, &slot).unwrap();
    }
}

#[test]
fn power_cuts_after_a_fallback_never_restart_the_failed_slot() {
    let dir = tempfile::tempdir().unwrap();
    let bc = rig(dir.path());
    boot::switch(&bc, P, &id("B")).unwrap();
    for _ in 0..3 {
        power_on(&bc);
    }
    let (running, slot) = power_on(&bc);
    assert_eq!(slot, id("A"));
    boot::mark_good(&running, P, &slot).unwrap();
    // Twenty power cuts in a row: A's tries run out and the boot loader
    // re-arms, and A (now first) is started every time.
    for i in 0..20 {
        assert_eq!(power_on(&bc).1, id("A"), "power-on {i}");
    }
}
