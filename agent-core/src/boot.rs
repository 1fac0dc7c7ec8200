//! Boot control: which slot the boot loader starts, how many tries each
//! slot has left, and which slot is running (issue 5).
//!
//! The model is RAUC's for U-Boot (`BOOT_ORDER` and `BOOT_x_LEFT`): the boot
//! loader tries the slots in `order`, skipping a slot with no tries left,
//! and decrements the tries of the slot it starts; after a healthy boot the
//! system marks its slot good, which re-arms its tries. `agent-linux`
//! implements [`BootControl`] over the U-Boot environment
//! (`fw_printenv`/`fw_setenv`), the GRUB environment (`grub-editenv`) and a
//! file (test rigs), chosen by the `[boot]` section ([`BootConfig`]).
//!
//! After a boot, [`confirm`] runs the health checks and marks the running
//! slot good when they pass (module `health`).

use std::collections::BTreeMap;
use std::fmt;

mod config;
mod health;
#[cfg(test)]
mod health_tests;

pub use config::{
    BootBackend, BootConfig, HealthCheckConfig, MAX_HEALTH_CHECKS, MAX_HEALTH_TIMEOUT_SECS,
};
pub use health::{
    ConfirmReport, HealthCallback, HealthFn, HealthResult, confirm, fell_back_from, run_check,
};

/// A slot's name as the boot loader knows it (`A`, `B`, `recovery`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SlotId(pub String);

impl fmt::Display for SlotId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the boot loader's environment says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BootState {
    /// The slots in the order the boot loader tries them.
    pub order: Vec<SlotId>,
    /// Tries left per slot (`BOOT_x_LEFT`); a slot at 0 is skipped.
    pub tries_left: BTreeMap<SlotId, u32>,
}

/// Why the boot loader's environment could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BootError {
    /// The environment could not be read, or is malformed.
    #[error("boot environment {source_name}: {reason}")]
    Read {
        /// The file or tool (`/boot/grub/grubenv`, `fw_printenv`).
        source_name: String,
        /// What went wrong.
        reason: String,
    },
    /// A write failed, or reading it back did not give what was written (a
    /// "mark good" that silently failed is a known field failure).
    #[error("boot environment {source_name}: {reason}")]
    Write {
        /// The file or tool.
        source_name: String,
        /// What went wrong.
        reason: String,
    },
    /// The request names a slot the environment does not have, or would
    /// leave no bootable slot.
    #[error("boot control: {0}")]
    Refused(String),
}

/// Reads and writes the boot loader's environment.
///
/// `write` must be durable and must read the environment back and compare
/// it with what was written, returning [`BootError::Write`] when they
/// differ.
pub trait BootControl {
    /// The current state.
    fn read(&self) -> Result<BootState, BootError>;
    /// Replaces the state, then reads it back and checks it.
    fn write(&self, state: &BootState) -> Result<(), BootError>;
    /// The slot that is running now, when known (kernel command line
    /// `rauc.slot=`/`dha.slot=`, or what a test rig says).
    fn booted(&self) -> Option<SlotId>;
}

// ---------------------------------------------------------------------------
// Boot counting over any `BootControl` (RAUC's "bootchooser" semantics).
// ---------------------------------------------------------------------------

/// How many tries a slot gets when it is armed (RAUC's
/// `boot-attempts`, whose default is 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BootPolicy {
    /// Tries a slot gets when it is switched to or marked good; at least 1.
    pub max_tries: u32,
}

impl Default for BootPolicy {
    fn default() -> Self {
        BootPolicy { max_tries: 3 }
    }
}

/// One slot as [`status`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotStatus {
    /// The slot.
    pub slot: SlotId,
    /// Its position in the boot order, from 1; `None` when it is not in
    /// the order (marked bad: the boot loader never starts it).
    pub position: Option<usize>,
    /// Tries left (`BOOT_x_LEFT`); 0 when the environment has none.
    pub tries_left: u32,
    /// True when this slot is running now.
    pub booted: bool,
}

/// The boot loader's environment and what it means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootStatus {
    /// The environment as read.
    pub state: BootState,
    /// Every slot the environment names: those in the boot order first, in
    /// order, then the others.
    pub slots: Vec<SlotStatus>,
    /// The running slot, when known.
    pub booted: Option<SlotId>,
    /// The slot the boot loader starts next ([`next_boot`]); `None` when
    /// every slot in the order is exhausted (the boot loader then re-arms
    /// them, see [`boot_attempt`]).
    pub next: Option<SlotId>,
}

impl BootStatus {
    /// The status as the JSON document of `dha boot status --format json`
    /// and `dha_boot_status_json` (`schema_version` 1: `boot_order`,
    /// `booted`, `next_boot`, and `slots` with `slot`, `position`,
    /// `tries_left`, `booted`).
    pub fn to_json_value(&self) -> serde_json::Value {
        let name = |s: &SlotId| s.0.clone();
        let slots: Vec<serde_json::Value> = self
            .slots
            .iter()
            .map(|s| {
                serde_json::json!({
                    "slot": s.slot.0,
                    "position": s.position,
                    "tries_left": s.tries_left,
                    "booted": s.booted,
                })
            })
            .collect();
        serde_json::json!({
            "schema_version": 1,
            "boot_order": self.state.order.iter().map(name).collect::<Vec<_>>(),
            "booted": self.booted.as_ref().map(name),
            "next_boot": self.next.as_ref().map(name),
            "slots": slots,
        })
    }
}

/// Reads the environment and says which slot boots next.
pub fn status(bc: &dyn BootControl) -> Result<BootStatus, BootError> {
    let state = bc.read()?;
    let booted = bc.booted();
    let others = state.tries_left.keys().filter(|s| !state.order.contains(s));
    let slots = state
        .order
        .iter()
        .enumerate()
        .map(|(i, s)| (Some(i.saturating_add(1)), s))
        .chain(others.map(|s| (None, s)))
        .map(|(position, s)| SlotStatus {
            slot: s.clone(),
            position,
            tries_left: tries(&state, s),
            booted: booted.as_ref() == Some(s),
        })
        .collect();
    Ok(BootStatus {
        next: next_boot(&state),
        slots,
        booted,
        state,
    })
}

/// Marks `slot` good after a healthy boot: re-arms its tries to
/// `policy.max_tries` (RAUC: `BOOT_x_LEFT` set to `boot-attempts`), and
/// puts it back in the boot order (at the end) if it was not there.
///
/// A slot ahead of it in the boot order that has no tries left is the one
/// the boot loader fell back from: it failed, so it is taken out of the
/// order (as [`mark_bad`] does). Otherwise a boot loader that re-arms the
/// slots of the order when all are exhausted (repeated power cuts, see
/// [`boot_attempt`]) would start the failed slot again. Returns the state
/// written.
pub fn mark_good(
    bc: &dyn BootControl,
    policy: BootPolicy,
    slot: &SlotId,
) -> Result<BootState, BootError> {
    let mut state = bc.read()?;
    known(&state, slot)?;
    match state.order.iter().position(|s| s == slot) {
        Some(pos) => {
            let mut i = 0usize;
            let tries_left = &state.tries_left;
            state.order.retain(|s| {
                let failed = i < pos && tries_left.get(s).copied().unwrap_or(0) == 0;
                i = i.saturating_add(1);
                !failed
            });
        }
        None => state.order.push(slot.clone()),
    }
    state.tries_left.insert(slot.clone(), armed(policy));
    commit(bc, &state)?;
    Ok(state)
}

/// Marks `slot` bad: no tries left (RAUC sets `BOOT_x_LEFT=0`) and out of
/// the boot order, so that no re-arming by the boot loader starts it again
/// until it is switched to. Refused when no other slot would have tries
/// left: the device must never be left with no bootable slot.
pub fn mark_bad(bc: &dyn BootControl, slot: &SlotId) -> Result<BootState, BootError> {
    let mut state = bc.read()?;
    known(&state, slot)?;
    state.order.retain(|s| s != slot);
    state.tries_left.insert(slot.clone(), 0);
    commit(bc, &state)?;
    Ok(state)
}

/// Makes `slot` the one the boot loader starts next: first in the boot
/// order, with `policy.max_tries` tries (RAUC's "mark active", which an
/// install does after writing the slot).
pub fn switch(
    bc: &dyn BootControl,
    policy: BootPolicy,
    slot: &SlotId,
) -> Result<BootState, BootError> {
    let mut state = bc.read()?;
    known(&state, slot)?;
    state.order.retain(|s| s != slot);
    state.order.insert(0, slot.clone());
    state.tries_left.insert(slot.clone(), armed(policy));
    commit(bc, &state)?;
    Ok(state)
}

/// The slot the boot loader starts next: the first in the boot order with
/// tries left, or `None` when every slot in the order is exhausted.
pub fn next_boot(state: &BootState) -> Option<SlotId> {
    state.order.iter().find(|s| tries(state, s) > 0).cloned()
}

/// What the boot loader does at power-on (the simulated boot loader of the
/// test rigs; RAUC's U-Boot boot script): it starts [`next_boot`] and takes
/// one of its tries. When every slot in the order is exhausted (repeated
/// power cuts before any slot was marked good), it re-arms every slot in
/// the order to `policy.max_tries` and starts the first, as RAUC's
/// reference script does ("no valid slot found, resetting tries"), so the
/// device keeps booting; slots marked bad are not in the order and stay
/// off. Returns the slot started, or `None` when the order is empty.
pub fn boot_attempt(state: &mut BootState, policy: BootPolicy) -> Option<SlotId> {
    if next_boot(state).is_none() {
        for s in &state.order {
            state.tries_left.insert(s.clone(), armed(policy));
        }
    }
    let slot = next_boot(state)?;
    let left = tries(state, &slot).saturating_sub(1);
    state.tries_left.insert(slot.clone(), left);
    Some(slot)
}

/// Tries left of `slot` (0 when the environment has none).
fn tries(state: &BootState, slot: &SlotId) -> u32 {
    state.tries_left.get(slot).copied().unwrap_or(0)
}

/// The tries an armed slot gets (at least 1, whatever the policy says).
fn armed(policy: BootPolicy) -> u32 {
    policy.max_tries.max(1)
}

/// Refuses a slot the environment does not name (in the order or with a
/// `BOOT_x_LEFT`).
fn known(state: &BootState, slot: &SlotId) -> Result<(), BootError> {
    if state.order.contains(slot) || state.tries_left.contains_key(slot) {
        return Ok(());
    }
    let mut names: Vec<&str> = state.order.iter().map(|s| s.0.as_str()).collect();
    for s in state.tries_left.keys() {
        if !names.contains(&s.0.as_str()) {
            names.push(&s.0);
        }
    }
    Err(BootError::Refused(format!(
        "no slot {slot} in the boot environment (slots: {})",
        names.join(" ")
    )))
}

/// Writes `state` unless it would leave no bootable slot.
fn commit(bc: &dyn BootControl, state: &BootState) -> Result<(), BootError> {
    if next_boot(state).is_none() {
        return Err(BootError::Refused(
            "that would leave no slot with tries left (the device could not boot)".to_owned(),
        ));
    }
    bc.write(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::{Cell, RefCell};

    /// An in-memory boot environment; `drop_writes` makes it ignore writes
    /// silently (the field failure the read-back is there to catch).
    struct Memory {
        state: RefCell<BootState>,
        booted: Option<SlotId>,
        writes: Cell<u32>,
    }

    impl BootControl for Memory {
        fn read(&self) -> Result<BootState, BootError> {
            Ok(self.state.borrow().clone())
        }
        fn write(&self, state: &BootState) -> Result<(), BootError> {
            self.writes.set(self.writes.get() + 1);
            *self.state.borrow_mut() = state.clone();
            Ok(())
        }
        fn booted(&self) -> Option<SlotId> {
            self.booted.clone()
        }
    }

    fn id(s: &str) -> SlotId {
        SlotId(s.to_owned())
    }

    fn state(order: &[&str], tries: &[(&str, u32)]) -> BootState {
        BootState {
            order: order.iter().map(|s| id(s)).collect(),
            tries_left: tries.iter().map(|(s, n)| (id(s), *n)).collect(),
        }
    }

    fn memory(order: &[&str], tries: &[(&str, u32)], booted: Option<&str>) -> Memory {
        Memory {
            state: RefCell::new(state(order, tries)),
            booted: booted.map(id),
            writes: Cell::new(0),
        }
    }

    const P: BootPolicy = BootPolicy { max_tries: 3 };

    #[test]
    fn default_policy_gives_three_tries() {
        assert_eq!(BootPolicy::default().max_tries, 3);
    }

    #[test]
    fn status_lists_slots_in_order_with_the_next_boot() {
        let m = memory(&["B", "A"], &[("A", 3), ("B", 0)], Some("A"));
        let st = status(&m).unwrap();
        assert_eq!(st.next, Some(id("A")));
        assert_eq!(st.booted, Some(id("A")));
        assert_eq!(
            st.slots,
            vec![
                SlotStatus {
                    slot: id("B"),
                    position: Some(1),
                    tries_left: 0,
                    booted: false
                },
                SlotStatus {
                    slot: id("A"),
                    position: Some(2),
                    tries_left: 3,
                    booted: true
                },
            ]
        );
    }

    #[test]
    fn switch_puts_the_slot_first_and_arms_it() {
        let m = memory(&["A", "B"], &[("A", 3), ("B", 0)], Some("A"));
        let s = switch(&m, P, &id("B")).unwrap();
        assert_eq!(s, state(&["B", "A"], &[("A", 3), ("B", 3)]));
        assert_eq!(*m.state.borrow(), s);
    }

    #[test]
    fn mark_good_rearms_and_demotes_the_slot_fallen_back_from() {
        let m = memory(&["B", "A"], &[("A", 1), ("B", 0)], Some("A"));
        let s = mark_good(&m, P, &id("A")).unwrap();
        assert_eq!(s, state(&["A"], &[("A", 3), ("B", 0)]));
        // A slot ahead with tries left is not demoted.
        let m = memory(&["B", "A"], &[("A", 1), ("B", 2)], Some("A"));
        let s = mark_good(&m, P, &id("A")).unwrap();
        assert_eq!(s.order, vec![id("B"), id("A")]);
        // The slot first stays first.
        let m = memory(&["B", "A"], &[("A", 3), ("B", 2)], Some("B"));
        let s = mark_good(&m, P, &id("B")).unwrap();
        assert_eq!(s, state(&["B", "A"], &[("A", 3), ("B", 3)]));
        // A slot out of the order comes back at its end.
        let m = memory(&["A"], &[("A", 3), ("B", 0)], Some("B"));
        let s = mark_good(&m, P, &id("B")).unwrap();
        assert_eq!(s, state(&["A", "B"], &[("A", 3), ("B", 3)]));
    }

    #[test]
    fn mark_bad_zeroes_and_takes_out_of_the_order() {
        let m = memory(&["B", "A", "R"], &[("A", 3), ("B", 2), ("R", 3)], None);
        let s = mark_bad(&m, &id("B")).unwrap();
        assert_eq!(s, state(&["A", "R"], &[("A", 3), ("B", 0), ("R", 3)]));
        let st = status(&m).unwrap();
        assert_eq!(st.slots.len(), 3);
        assert_eq!(
            (st.slots[2].slot.clone(), st.slots[2].position),
            (id("B"), None)
        );
        // Switching to it brings it back, first.
        let s = switch(&m, P, &id("B")).unwrap();
        assert_eq!(s.order, vec![id("B"), id("A"), id("R")]);
    }

    #[test]
    fn mark_bad_that_leaves_no_bootable_slot_is_refused_and_writes_nothing() {
        let m = memory(&["A", "B"], &[("A", 3), ("B", 0)], Some("A"));
        let e = mark_bad(&m, &id("A")).unwrap_err();
        assert!(
            matches!(e, BootError::Refused(ref r) if r.contains("no slot with tries")),
            "{e}"
        );
        assert_eq!(m.writes.get(), 0);
        assert_eq!(*m.state.borrow(), state(&["A", "B"], &[("A", 3), ("B", 0)]));
    }

    #[test]
    fn unknown_slot_is_refused_naming_the_known_ones() {
        let m = memory(&["A", "B"], &[("A", 3), ("B", 3)], None);
        for e in [
            switch(&m, P, &id("C")).unwrap_err(),
            mark_good(&m, P, &id("C")).unwrap_err(),
            mark_bad(&m, &id("C")).unwrap_err(),
        ] {
            assert_eq!(
                e.to_string(),
                "boot control: no slot C in the boot environment (slots: A B)"
            );
        }
        assert_eq!(m.writes.get(), 0);
    }

    #[test]
    fn a_zero_policy_still_arms_one_try() {
        let m = memory(&["A", "B"], &[("A", 3), ("B", 0)], None);
        let s = switch(&m, BootPolicy { max_tries: 0 }, &id("B")).unwrap();
        assert_eq!(s.tries_left.get(&id("B")), Some(&1));
    }

    #[test]
    fn boot_attempt_takes_a_try_of_the_first_slot_with_tries() {
        let mut s = state(&["B", "A"], &[("A", 3), ("B", 1)]);
        assert_eq!(boot_attempt(&mut s, P), Some(id("B")));
        assert_eq!(s, state(&["B", "A"], &[("A", 3), ("B", 0)]));
        assert_eq!(next_boot(&s), Some(id("A")));
        assert_eq!(boot_attempt(&mut s, P), Some(id("A")));
        assert_eq!(s, state(&["B", "A"], &[("A", 2), ("B", 0)]));
        assert_eq!(boot_attempt(&mut BootState::default(), P), None);
    }

    #[test]
    fn boot_attempt_rearms_when_every_slot_is_exhausted() {
        let mut s = state(&["A", "B"], &[("A", 0), ("B", 0)]);
        assert_eq!(next_boot(&s), None);
        assert_eq!(boot_attempt(&mut s, P), Some(id("A")));
        assert_eq!(s, state(&["A", "B"], &[("A", 2), ("B", 3)]));
    }

    /// Issue 5: B installed and switched to; its health check fails three
    /// times, the device falls back to A, A is marked good; a later healthy
    /// boot of B keeps B.
    #[test]
    fn unhealthy_update_falls_back_then_a_healthy_one_sticks() {
        let m = memory(&["A", "B"], &[("A", 3), ("B", 0)], Some("A"));
        switch(&m, P, &id("B")).unwrap();
        for _ in 0..3 {
            let mut s = m.read().unwrap();
            assert_eq!(boot_attempt(&mut s, P), Some(id("B")));
            m.write(&s).unwrap(); // the boot loader saves its counter
            // health check fails: no mark-good
        }
        let mut s = m.read().unwrap();
        assert_eq!(boot_attempt(&mut s, P), Some(id("A")), "fell back");
        m.write(&s).unwrap();
        mark_good(&m, P, &id("A")).unwrap();
        assert_eq!(m.read().unwrap(), state(&["A"], &[("A", 3), ("B", 0)]));

        switch(&m, P, &id("B")).unwrap();
        let mut s = m.read().unwrap();
        assert_eq!(boot_attempt(&mut s, P), Some(id("B")));
        m.write(&s).unwrap();
        mark_good(&m, P, &id("B")).unwrap();
        assert_eq!(m.read().unwrap(), state(&["B", "A"], &[("A", 3), ("B", 3)]));
    }

    /// One thing that happens between two power-ons.
    #[derive(Debug, Clone, Copy)]
    enum Step {
        /// Power cut before the health check finished: no mark-good.
        Cut,
        /// Healthy boot: the running slot is marked good.
        Healthy,
        /// The running system installs the other slot and switches to it.
        Install,
        /// The health check fails and the running slot marks itself bad
        /// (refused when that would leave no bootable slot).
        MarkBad,
    }

    /// Every sequence of 8 steps (4^8 = 65,536 runs) from "A good, B
    /// empty": each power-on finds a slot to start, and whatever the agent
    /// writes leaves a slot with tries left. The same over the file
    /// backend, for chosen sequences, is in agent-linux (`boot::rig_tests`).
    #[test]
    fn no_sequence_of_power_cuts_and_updates_leaves_the_device_unbootable() {
        const STEPS: [Step; 4] = [Step::Cut, Step::Healthy, Step::Install, Step::MarkBad];
        const LEN: u32 = 8;
        for n in 0..4u32.pow(LEN) {
            let m = memory(&["A", "B"], &[("A", 3), ("B", 0)], None);
            let mut me = id("A");
            let mut code = n;
            for _ in 0..LEN {
                let step = STEPS[(code % 4) as usize];
                code /= 4;
                let done = match step {
                    Step::Cut => false,
                    Step::Healthy => mark_good(&m, P, &me).is_ok(),
                    Step::Install => {
                        let other = if me == id("A") { id("B") } else { id("A") };
                        switch(&m, P, &other).is_ok()
                    }
                    Step::MarkBad => mark_bad(&m, &me).is_ok(),
                };
                let now = m.read().unwrap();
                if done {
                    assert!(next_boot(&now).is_some(), "run {n}: {step:?}: {now:?}");
                }
                let mut s = now;
                me = boot_attempt(&mut s, P)
                    .unwrap_or_else(|| panic!("run {n}: nothing to boot: {s:?}"));
                *m.state.borrow_mut() = s;
            }
        }
    }
}
