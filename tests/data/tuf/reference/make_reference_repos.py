#!/usr/bin/env python3
"""Builds the TUF interoperability fixtures under tests/data/tuf/reference/
with the reference implementation (python-tuf's Metadata API and
securesystemslib's CryptoSigner), for dha's TUF client (issue 3).

Pinned versions (checked at start; pass --any-version to override):

    pip install 'tuf==6.0.0' 'securesystemslib[crypto]==1.6.0'
    # cryptography 48.0.0 was installed alongside (recorded, not enforced)
    python3 tests/data/tuf/reference/make_reference_repos.py
    python3 tests/data/tuf/reference/verify_with_python_tuf.py

Every scenario is written to its own directory <scenario>/:

    metadata/      what a TUF server serves: N.root.json for every root
                   version, timestamp.json, snapshot.json / targets.json /
                   <role>.json (or N.snapshot.json, N.targets.json,
                   N.<role>.json with consistent snapshots); role names are
                   percent-encoded in file names (urllib.parse.quote(name, ""))
    targets/       target files under their path (hash-prefixed with
                   consistent snapshots: <dir>/<sha256>.<base> and
                   <dir>/<sha512>.<base>)
    client/root.json   the trusted root a device ships with
    scenario.json  what the client must do and what it must get (see README.md)

Scenarios with several repository states put metadata/ and targets/ under
state1/, state2/, ... instead; scenario.json says in which order a single
client (one trusted metadata store) refreshes against them.

Keys are generated at random on every run: the outcomes do not depend on them.
All dates are fixed, so the outcome at the client's fixed time
(REFERENCE_TIME) is deterministic.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import importlib.metadata
import json
import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

PINNED = {"tuf": "6.0.0", "securesystemslib": "1.6.0"}
RECORDED = {"cryptography": "48.0.0"}

REFERENCE_TIME = "2026-11-29T00:00:00Z"
SPEC_VERSION = "1.0.34"
HERE = Path(__file__).resolve().parent

# Dates relative to REFERENCE_TIME.
VALID = datetime(2099, 11, 29, tzinfo=timezone.utc)  # far beyond any test run: no time bomb
VALID_ROOT = datetime(2100, 11, 29, tzinfo=timezone.utc)
EXPIRED = datetime(2026, 11, 28, tzinfo=timezone.utc)  # one day before REFERENCE_TIME
EXPIRED_LONG_AGO = datetime(2026, 6, 1, tzinfo=timezone.utc)

TOP = ("root", "timestamp", "snapshot", "targets")


def check_versions(any_version: bool) -> dict[str, str]:
    found = {}
    for name in list(PINNED) + list(RECORDED):
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "missing"
    bad = {n: v for n, v in found.items() if n in PINNED and v != PINNED[n]}
    if bad and not any_version:
        sys.exit(f"pinned versions {PINNED} required, found {found}; "
                 "pip install 'tuf==6.0.0' 'securesystemslib[crypto]==1.6.0' "
                 "or pass --any-version")
    return found


# Imported after the version check would be nicer, but a missing package makes
# the import fail with a clear message anyway.
from securesystemslib.formats import encode_canonical  # noqa: E402
from securesystemslib.signer import CryptoSigner, Signature  # noqa: E402
from tuf.api.metadata import (  # noqa: E402
    DelegatedRole,
    Delegations,
    Metadata,
    MetaFile,
    Root,
    Snapshot,
    SuccinctRoles,
    TargetFile,
    Targets,
    Timestamp,
)
from tuf.api.serialization.json import JSONSerializer  # noqa: E402


def new_signer(keytype: str) -> CryptoSigner:
    if keytype == "ed25519":
        return CryptoSigner.generate_ed25519()
    if keytype == "ecdsa":
        return CryptoSigner.generate_ecdsa()  # ecdsa-sha2-nistp256, PEM SPKI
    if keytype == "rsa":
        return CryptoSigner.generate_rsa(scheme="rsassa-pss-sha256", size=2048)
    raise ValueError(keytype)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def to_bytes(md: Metadata) -> bytes:
    return md.to_bytes(JSONSerializer(compact=False))


class Repo:
    """A repository in memory: metadata objects, the signers of each role and
    the bytes served for each target path."""

    def __init__(self, keytype: str = "ed25519", consistent: bool = False,
                 nkeys: int = 1, threshold: int = 1, meta_hashes: bool = False):
        self.keytype = keytype
        self.consistent = consistent
        self.meta_hashes = meta_hashes  # length + hashes in snapshot/timestamp meta
        self.signers: dict[str, list[CryptoSigner]] = {}
        self.root = Metadata(Root(expires=VALID_ROOT, consistent_snapshot=consistent))
        for role in TOP:
            self.signers[role] = [new_signer(keytype) for _ in range(nkeys)]
            for s in self.signers[role]:
                self.root.signed.add_key(s.public_key, role)
            self.root.signed.roles[role].threshold = threshold
        self.roots: list[bytes] = []  # signed root versions; index = version - 1
        self.timestamp = Metadata(Timestamp(expires=VALID))
        self.snapshot = Metadata(Snapshot(expires=VALID))
        self.targets: dict[str, Metadata] = {"targets": Metadata(Targets(expires=VALID))}
        self.blobs: dict[str, bytes] = {}  # target path -> bytes served
        self.sign_root()

    # -- root ------------------------------------------------------------
    def sign_root(self, signers: list[CryptoSigner] | None = None) -> bytes:
        """Signs the current root (by default with its own root keys) and
        records it as the next served version."""
        assert self.root.signed.version == len(self.roots) + 1
        self.root.signatures.clear()
        for s in signers if signers is not None else self.signers["root"]:
            self.root.sign(s, append=True)
        data = to_bytes(self.root)
        self.roots.append(data)
        return data

    def rotate_key(self, role: str, keytype: str | None = None) -> CryptoSigner:
        """Replaces every key of a top-level role by one new key (root not
        re-signed here)."""
        for s in self.signers[role]:
            self.root.signed.revoke_key(s.public_key.keyid, role)
        new = new_signer(keytype or self.keytype)
        self.root.signed.add_key(new.public_key, role)
        self.root.signed.roles[role].threshold = 1
        self.signers[role] = [new]
        return new

    # -- targets and delegations -----------------------------------------
    def add_target(self, path: str, data: bytes, role: str = "targets",
                   custom: dict | None = None) -> TargetFile:
        tf = TargetFile.from_data(path, data, ["sha256", "sha512"])
        if custom is not None:
            tf.unrecognized_fields["custom"] = custom
        self.targets[role].signed.targets[path] = tf
        self.blobs[path] = data
        return tf

    def delegate(self, parent: str, name: str, paths: list[str] | None = None,
                 terminating: bool = False, hash_prefixes: list[str] | None = None,
                 signer: CryptoSigner | None = None) -> CryptoSigner:
        signer = signer or self.signers.get(name, [None])[0] or new_signer(self.keytype)
        pmd = self.targets[parent].signed
        if pmd.delegations is None:
            pmd.delegations = Delegations(keys={}, roles={})
        pmd.delegations.keys[signer.public_key.keyid] = signer.public_key
        pmd.delegations.roles[name] = DelegatedRole(
            name, [signer.public_key.keyid], 1, terminating, paths, hash_prefixes)
        self.signers[name] = [signer]
        if name not in self.targets:
            self.targets[name] = Metadata(Targets(expires=VALID))
        return signer

    def delegate_bins(self, parent: str, prefix: str, bit_length: int) -> list[str]:
        signer = new_signer(self.keytype)
        succinct = SuccinctRoles([signer.public_key.keyid], 1, bit_length, prefix)
        self.targets[parent].signed.delegations = Delegations(
            keys={signer.public_key.keyid: signer.public_key}, succinct_roles=succinct)
        names = list(succinct.get_roles())
        for n in names:
            self.signers[n] = [signer]
            self.targets[n] = Metadata(Targets(expires=VALID))
        self.succinct = succinct
        return names

    # -- publishing ------------------------------------------------------
    def bump(self, *roles: str) -> None:
        for r in roles:
            md = {"timestamp": self.timestamp, "snapshot": self.snapshot}.get(r) or self.targets[r]
            md.signed.version += 1

    def meta_for(self, data: bytes, version: int) -> MetaFile:
        if self.meta_hashes:
            return MetaFile(version=version, length=len(data), hashes={"sha256": sha256(data)})
        return MetaFile(version=version)

    def sign_md(self, md: Metadata, role: str) -> bytes:
        md.signatures.clear()
        for s in self.signers[role]:
            md.sign(s, append=True)
        return to_bytes(md)

    def publish(self) -> dict[str, bytes]:
        """Signs targets roles, snapshot and timestamp; returns the served
        metadata (role name -> bytes; roots are in self.roots)."""
        out = {}
        self.snapshot.signed.meta = {}
        for name, md in self.targets.items():
            out[name] = self.sign_md(md, name)
            self.snapshot.signed.meta[f"{name}.json"] = self.meta_for(out[name], md.signed.version)
        out["snapshot"] = self.sign_md(self.snapshot, "snapshot")
        self.timestamp.signed.snapshot_meta = self.meta_for(out["snapshot"], self.snapshot.signed.version)
        out["timestamp"] = self.sign_md(self.timestamp, "timestamp")
        return out

    def write(self, repo_dir: Path, served: dict[str, bytes],
              blobs: dict[str, bytes] | None = None,
              roots: list[bytes] | None = None) -> None:
        """Writes metadata/ and targets/ as a server serves them (adds to
        what is there: old consistent-snapshot versions stay)."""
        md_dir = repo_dir / "metadata"
        md_dir.mkdir(parents=True, exist_ok=True)
        for i, data in enumerate(self.roots if roots is None else roots):
            if data is not None:
                (md_dir / f"{i + 1}.root.json").write_bytes(data)
        for name, data in served.items():
            if name == "timestamp":
                (md_dir / "timestamp.json").write_bytes(data)
                continue
            fname = f"{quote(name, '')}.json"
            if self.consistent:
                version = json.loads(data)["signed"]["version"]
                fname = f"{version}.{fname}"
            (md_dir / fname).write_bytes(data)
        t_dir = repo_dir / "targets"
        t_dir.mkdir(parents=True, exist_ok=True)
        for path, data in (self.blobs if blobs is None else blobs).items():
            if data is None:
                continue
            dirname, _, base = path.rpartition("/")
            names = [base]
            if self.consistent:
                names = [f"{hashlib.new(a, data).hexdigest()}.{base}" for a in ("sha256", "sha512")]
            for n in names:
                dest = t_dir / dirname / n if dirname else t_dir / n
                assert t_dir in dest.resolve().parents, path
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(data)


def resign_raw(signed: dict, signers: list[CryptoSigner]) -> bytes:
    """Signs a raw 'signed' dict (for metadata the Metadata API refuses to
    build, e.g. a threshold of 0)."""
    canonical = encode_canonical(signed).encode("utf-8")
    sigs = [s.sign(canonical).to_dict() for s in signers]
    return json.dumps({"signatures": sigs, "signed": signed}, indent=1, sort_keys=True).encode()


# -- scenario description helpers ------------------------------------------

def ok(action: str, target: str | None = None, data: bytes | None = None, **extra) -> dict:
    step = {"action": action}
    if target is not None:
        step["target"] = target
    exp = {"result": "ok"}
    if data is not None:
        exp.update(length=len(data), sha256=sha256(data))
    step["expect"] = exp
    step.update(extra)
    return step


def fail(action: str, stage: str, kind: str, role: str | None = None,
         target: str | None = None, **extra) -> dict:
    step = {"action": action}
    if target is not None:
        step["target"] = target
    exp = {"result": "error", "stage": stage, "kind": kind}
    if role is not None:
        exp["role"] = role
    if "also_acceptable" in extra:
        exp["also_acceptable"] = extra.pop("also_acceptable")
    step["expect"] = exp
    step.update(extra)
    return step


def in_state(state: str, step: dict, trusted_after: dict | None = None) -> dict:
    step = {"repository": state, **step}
    if trusted_after is not None:
        step["trusted_after"] = trusted_after
    return step


SCENARIOS = {}


def scenario(name: str):
    def deco(fn):
        SCENARIOS[name] = fn
        return fn
    return deco


def finish(d: Path, repo: Repo, threat: str, description: str, steps: list[dict],
           spec: list[str], client_root: bytes | None = None, **extra) -> None:
    (d / "client").mkdir(parents=True, exist_ok=True)
    (d / "client" / "root.json").write_bytes(client_root or repo.roots[0])
    for s in steps:
        s.setdefault("repository", ".")
    doc = {
        "scenario": d.name,
        "description": description,
        "threat": threat,
        "spec": spec,
        "spec_version": SPEC_VERSION,
        "reference_time": REFERENCE_TIME,
        "consistent_snapshot": repo.consistent,
        "client": {"trusted_root": "client/root.json"},
        **extra,
        "steps": steps,
    }
    (d / "scenario.json").write_text(json.dumps(doc, indent=1) + "\n")


# -- scenarios ----------------------------------------------------------------

def simple(d: Path, name: str, keytype: str, threat: str, description: str) -> None:
    r = Repo(keytype)
    hello = b"hello from " + name.encode() + b"\n"
    r.add_target("files/hello.txt", hello)
    r.add_target("readme.txt", b"top-level target\n")
    r.write(d, r.publish())
    finish(d, r, threat, description, [
        ok("refresh", trusted_after={"root": 1, "timestamp": 1, "snapshot": 1, "targets": 1}),
        ok("download", "files/hello.txt", hello),
        ok("download", "readme.txt", b"top-level target\n"),
        fail("lookup", "lookup", "target not found", target="files/absent.txt"),
    ], ["§5.2", "§5.3", "§5.4", "§5.5", "§5.6", "§5.7"], keytype=keytype)


@scenario("basic-ed25519")
def s_basic(d):
    simple(d, "basic-ed25519", "ed25519", "arbitrary installation (positive control: only signed targets install)",
           "Plain repository, one ed25519 key per top-level role, threshold 1.")


@scenario("ecdsa-keys")
def s_ecdsa(d):
    simple(d, "ecdsa-keys", "ecdsa", "arbitrary installation (positive control)",
           "All keys ecdsa / ecdsa-sha2-nistp256, PEM SubjectPublicKeyInfo public keys, DER signatures.")


@scenario("rsa-keys")
def s_rsa(d):
    simple(d, "rsa-keys", "rsa", "arbitrary installation (positive control)",
           "All keys rsa / rsassa-pss-sha256 (2048-bit), PEM SubjectPublicKeyInfo public keys.")


@scenario("threshold-2-of-3")
def s_threshold(d):
    r = Repo(nkeys=3, threshold=2)
    # sign every role with 2 of its 3 keys (root with all 3 for v1)
    for role in ("timestamp", "snapshot", "targets"):
        r.signers[role] = r.signers[role][:2]
    data = b"needs two signatures\n"
    r.add_target("files/fw.bin", data)
    r.write(d, r.publish())
    finish(d, r, "key compromise below threshold (positive control: 2 of 3 keys sign every role)",
           "Every top-level role has 3 keys and threshold 2; timestamp, snapshot and targets carry 2 signatures.",
           [ok("download", "files/fw.bin", data)], ["§5.3.4", "§5.4.2", "§5.5.3", "§5.6.3"])


@scenario("threshold-2-of-3-one-key")
def s_threshold_one(d):
    r = Repo(nkeys=3, threshold=2)
    all_targets = r.signers["targets"]
    for role in ("timestamp", "snapshot"):
        r.signers[role] = r.signers[role][:2]
    r.signers["targets"] = all_targets[:1]
    data = b"signed by one key only\n"
    r.add_target("files/fw.bin", data)
    r.write(d / "state1", r.publish())
    # state2: the single signature listed twice (same keyid): must count once
    served = r.publish()
    md = json.loads(served["targets"])
    md["signatures"] = md["signatures"] * 2
    served["targets"] = json.dumps(md, indent=1).encode()
    r.write(d / "state2", served)
    finish(d, r, "key compromise below threshold",
           "targets has 3 keys and threshold 2 but carries 1 signature (state1), or that one "
           "signature twice (state2): the same key must count once.",
           [in_state("state1", fail("download", "refresh", "threshold not met", "targets", "files/fw.bin"),
                     {"root": 1, "timestamp": 1, "snapshot": 1, "targets": None}),
            in_state("state2", fail("download", "refresh", "threshold not met", "targets", "files/fw.bin",
                                    also_acceptable=["invalid metadata"]),
                     {"root": 1, "timestamp": 1, "snapshot": 1, "targets": None})],
           ["§5.6.3", "§4.2 (each key counts once)"])


@scenario("root-rotation")
def s_root_rotation(d):
    r = Repo()
    old = r.signers["root"]
    r.rotate_key("root")
    r.root.signed.version = 2
    r.sign_root(old + r.signers["root"])  # §5.3.4: old threshold and new threshold
    r.rotate_key("timestamp")
    r.root.signed.version = 3
    r.sign_root()
    data = b"after two rotations\n"
    r.add_target("files/fw.bin", data)
    r.write(d, r.publish())
    finish(d, r, "key compromise (recovery by root rotation)",
           "Root v1 -> v2 (root key replaced; v2 signed by old and new key) -> v3 (timestamp key "
           "replaced, signed by the v2 root key). Client ships with v1 and must end at v3.",
           [ok("download", "files/fw.bin", data, trusted_after={"root": 3, "timestamp": 1})],
           ["§5.3.3", "§5.3.4", "§5.3.5", "§5.3.8", "§5.3.11"])


@scenario("root-rotation-bad")
def s_root_rotation_bad(d):
    r = Repo()
    old = r.signers["root"]
    new = r.rotate_key("root")
    r.root.signed.version = 2
    served = r.publish()
    data = b"x\n"
    r.add_target("files/fw.bin", data)
    served = r.publish()
    only_new = r.sign_root([new])
    r.roots.pop()
    only_old = r.sign_root(old)
    r.write(d / "state1", served, roots=[r.roots[0], only_new])
    r.write(d / "state2", served, roots=[r.roots[0], only_old])
    finish(d, r, "arbitrary installation via a root not signed by the previous root's threshold",
           "2.root.json replaces the root key but is signed only by the new key (state1: the v1 "
           "threshold is not met) or only by the old key (state2: v2's own threshold is not met).",
           [in_state("state1", fail("refresh", "refresh", "threshold not met", "root"),
                     {"root": 1, "timestamp": None}),
            in_state("state2", fail("refresh", "refresh", "threshold not met", "root"),
                     {"root": 1, "timestamp": None})],
           ["§5.3.4"])


@scenario("root-version-skip")
def s_root_skip(d):
    r = Repo()
    v1 = r.roots[0]
    old = r.signers["root"]
    r.rotate_key("root")
    for role in ("timestamp", "snapshot", "targets"):
        r.rotate_key(role)
    r.root.signed.version = 2
    r.sign_root(old + r.signers["root"])
    r.root.signed.version = 3
    v3 = r.sign_root(old + r.signers["root"])  # signed by v1's and v3's keys
    data = b"only reachable through a skipped root\n"
    r.add_target("files/fw.bin", data)
    served = r.publish()
    r.write(d / "state1", served, roots=[v1, None, v3])
    r.write(d / "state2", served, roots=[v1, v3, None])  # v3's bytes served as 2.root.json
    finish(d, r, "fast-forward / arbitrary installation through a root version jump",
           "Server has 1.root.json and 3.root.json only (state1), or serves version 3 as "
           "2.root.json (state2). Version 3 rotates every key and is signed by the v1 and v3 root "
           "keys; the client must stay at root v1 and so reject the timestamp signed by v3's key.",
           [in_state("state1", fail("refresh", "refresh", "threshold not met", "timestamp"),
                     {"root": 1, "timestamp": None}),
            in_state("state2", fail("refresh", "refresh", "version mismatch", "root"),
                     {"root": 1, "timestamp": None})],
           ["§5.3.3", "§5.3.5"], client_root=v1)


@scenario("consistent-snapshot")
def s_consistent(d):
    r = Repo(consistent=True)
    r.delegate("targets", "vendor", paths=["vendor/*"])
    r.add_target("files/hello.txt", b"version one\n")
    r.add_target("vendor/blob.bin", b"\x00\x01vendor one\n", role="vendor")
    r.write(d, r.publish())
    # second publication: the server keeps the old versioned files
    r.bump("targets", "vendor", "snapshot", "timestamp")
    hello = b"version two\n"
    blob = b"\x00\x01vendor two\n"
    r.add_target("files/hello.txt", hello)
    r.add_target("vendor/blob.bin", blob, role="vendor")
    r.write(d, r.publish())
    finish(d, r, "mix-and-match (consistent snapshots keep a coherent view)",
           "consistent_snapshot: metadata fetched as N.snapshot.json / N.targets.json / N.vendor.json, "
           "targets as <sha256>.<name> (a <sha512>.<name> copy is served too); two publications present.",
           [ok("download", "files/hello.txt", hello),
            ok("download", "vendor/blob.bin", blob,
               trusted_after={"root": 1, "timestamp": 2, "snapshot": 2, "targets": 2, "vendor": 2})],
           ["§5.3.3", "§5.5.1", "§5.6.1", "§5.7.3"])


@scenario("delegations-paths")
def s_deleg_paths(d):
    r = Repo()
    r.add_target("top.txt", b"top\n")
    r.delegate("targets", "A", paths=["files/*"], terminating=True)
    r.delegate("A", "B", paths=["files/*"])
    r.delegate("targets", "C", paths=["files/*", "files/*/*", "etc/*"])
    h = sha256(b"vendor/hashed.bin")[:2]
    r.delegate("targets", "vendor/hashed", hash_prefixes=[h])
    in_b = b"from B\n"
    r.add_target("files/in-b.bin", in_b, role="B")
    r.add_target("files/in-b.bin", b"C's different copy\n", role="C")
    r.blobs["files/in-b.bin"] = in_b
    r.add_target("files/only-in-c.bin", b"only C has me\n", role="C")
    sub = b"C, two segments deep\n"
    r.add_target("files/sub/in-c.bin", sub, role="C")
    r.add_target("etc/evil.bin", b"A is not trusted for etc/*\n", role="A")
    hashed = b"found through path_hash_prefixes\n"
    r.add_target("vendor/hashed.bin", hashed, role="vendor/hashed")
    r.write(d, r.publish())
    finish(d, r, "extraneous dependencies / arbitrary installation through a delegated role acting outside its paths",
           "targets -> A (files/*, terminating) -> B (files/*); then C (files/*, files/*/*, etc/*); then "
           "'vendor/hashed' (path_hash_prefixes, role name percent-encoded as vendor%2Fhashed.json). "
           "Glob '*' does not match '/'.",
           [ok("download", "top.txt", b"top\n"),
            ok("download", "files/in-b.bin", in_b),
            fail("download", "lookup", "target not found", target="files/only-in-c.bin",
                 note="A is terminating and matches files/*: C must not be visited"),
            ok("download", "files/sub/in-c.bin", sub,
               note="files/* does not match files/sub/in-c.bin, so A does not terminate the search"),
            fail("download", "lookup", "target not found", target="etc/evil.bin",
                 note="listed in A, but A is delegated files/* only; C (etc/*) does not list it"),
            ok("download", "vendor/hashed.bin", hashed)],
           ["§5.6.7", "§5.6.7.1", "§5.6.7.2", "§4.5 (paths, path_hash_prefixes, terminating)"])


@scenario("delegation-cycle")
def s_cycle(d):
    r = Repo()
    sa = r.delegate("targets", "A", paths=["loop/*"])
    sb = r.delegate("A", "B", paths=["loop/*"])
    r.delegate("B", "A", paths=["loop/*"], signer=sa)
    data = b"in B\n"
    r.add_target("loop/in-b.bin", data, role="B")
    r.write(d, r.publish())
    finish(d, r, "endless data / denial of service through a delegation cycle",
           "targets -> A -> B -> A (cycle). A visited set must end the search.",
           [ok("download", "loop/in-b.bin", data),
            fail("download", "lookup", "target not found", target="loop/missing.bin")],
           ["§5.6.7", "§5.6.7.1"])


@scenario("delegation-depth")
def s_depth(d):
    r = Repo()
    parent = "targets"
    for i in range(1, 41):
        r.delegate(parent, f"d{i:02}", paths=["deep/*"])
        parent = f"d{i:02}"
    shallow = b"at depth 10\n"
    r.add_target("deep/shallow.bin", shallow, role="d10")
    r.add_target("deep/bottom.bin", b"at depth 40\n", role="d40")
    r.write(d, r.publish())
    finish(d, r, "endless data / denial of service through a long delegation chain",
           "A chain targets -> d01 -> ... -> d40. Within the cap of 32 delegated roles visited per search "
           "the target in d10 is found; the one in d40 is beyond it.",
           [ok("download", "deep/shallow.bin", shallow),
            fail("download", "lookup", "target not found", target="deep/bottom.bin",
                 note="more than 32 delegated roles would have to be visited")],
           ["§5.6.7", "§5.6.7.1"], max_delegations=32)


@scenario("hash-bins")
def s_bins(d):
    r = Repo()
    names = r.delegate_bins("targets", "bins", 4)
    assert len(names) == 16
    files = {f"pkg/file-{i}.bin": f"bin payload {i}\n".encode() for i in range(6)}
    for path, data in files.items():
        r.add_target(path, data, role=r.succinct.get_role_for_target(path))
    r.write(d, r.publish())
    steps = [ok("download", p, data, bin=r.succinct.get_role_for_target(p)) for p, data in files.items()]
    steps.append(fail("download", "lookup", "target not found", target="pkg/absent.bin",
                      bin=r.succinct.get_role_for_target("pkg/absent.bin")))
    finish(d, r, "arbitrary installation (positive control for succinct hash-bin delegations)",
           "targets delegates through succinct_roles (TAP 15): bit_length 4, name_prefix 'bins' -> "
           "bins-0 .. bins-f (16 roles, all published, most empty).",
           steps, ["§4.5 (succinct_roles, TAP 15)", "§5.6.7"])


@scenario("expired-timestamp")
def s_exp_ts(d):
    r = Repo()
    r.add_target("files/fw.bin", b"x\n")
    r.timestamp.signed.expires = EXPIRED
    r.write(d, r.publish())
    finish(d, r, "indefinite freeze",
           f"timestamp.json expired {EXPIRED.isoformat()} (one day before the client's time).",
           [fail("refresh", "refresh", "expired", "timestamp", trusted_after={"root": 1, "snapshot": None})],
           ["§5.4.4"])


@scenario("expired-root")
def s_exp_root(d):
    r = Repo()
    r.root.signed.expires = EXPIRED_LONG_AGO
    r.roots.clear()
    r.sign_root()
    r.add_target("files/fw.bin", b"x\n")
    r.write(d, r.publish())
    finish(d, r, "indefinite freeze",
           f"The only root (v1, also the client's) expired {EXPIRED_LONG_AGO.isoformat()}; no newer root exists.",
           [fail("refresh", "refresh", "expired", "root", trusted_after={"root": 1, "timestamp": None})],
           ["§5.3.10"])


@scenario("timestamp-rollback")
def s_ts_rollback(d):
    r = Repo()
    r.add_target("files/fw.bin", b"x\n")
    old = r.publish()
    r.bump("timestamp")
    r.write(d / "state1", r.publish())
    r.write(d / "state2", old)
    finish(d, r, "rollback",
           "state1 serves timestamp v2; state2 replays the older, validly signed timestamp v1.",
           [in_state("state1", ok("refresh"), {"timestamp": 2}),
            in_state("state2", fail("refresh", "refresh", "rollback", "timestamp"), {"timestamp": 2})],
           ["§5.4.3.1"])


@scenario("snapshot-rollback")
def s_snap_rollback(d):
    r = Repo()
    r.add_target("files/fw.bin", b"x\n")
    old_snapshot = r.publish()["snapshot"]
    r.bump("snapshot", "timestamp")
    r.write(d / "state1", r.publish())
    # state2: a newer timestamp (v3) that points at the old snapshot v1
    r.bump("timestamp")
    r.snapshot.signed.version = 1
    served = r.publish()
    assert served["snapshot"] == old_snapshot
    r.write(d / "state2", served)
    finish(d, r, "rollback",
           "state1: timestamp v2 -> snapshot v2. state2: timestamp v3 (validly signed) lists snapshot v1 and "
           "serves it.",
           [in_state("state1", ok("refresh"), {"timestamp": 2, "snapshot": 2}),
            in_state("state2", fail("refresh", "refresh", "rollback", "snapshot"),
                     {"timestamp": 2, "snapshot": 2})],
           ["§5.4.3.2", "§5.5.5"])


@scenario("targets-rollback")
def s_targets_rollback(d):
    r = Repo()
    r.add_target("files/fw.bin", b"v1\n")
    r.publish()
    r.bump("targets", "snapshot", "timestamp")
    data2 = b"v2\n"
    r.add_target("files/fw.bin", data2)
    r.write(d / "state1", r.publish())
    r.bump("snapshot", "timestamp")
    r.targets["targets"].signed.version = 1
    r.add_target("files/fw.bin", b"v1\n")
    r.write(d / "state2", r.publish())
    finish(d, r, "rollback",
           "state1: snapshot v2 lists targets v2. state2: snapshot v3 (validly signed) lists targets v1 and "
           "serves it.",
           [in_state("state1", ok("download", "files/fw.bin", data2), {"snapshot": 2, "targets": 2}),
            in_state("state2", fail("download", "refresh", "rollback", "targets", "files/fw.bin"),
                     {"timestamp": 3, "snapshot": 2, "targets": 2})],
           ["§5.5.5"])


@scenario("delegated-rollback")
def s_deleg_rollback(d):
    r = Repo()
    r.delegate("targets", "A", paths=["a/*"])
    r.add_target("a/x.bin", b"A v1\n", role="A")
    r.publish()
    r.bump("A", "snapshot", "timestamp")
    data2 = b"A v2\n"
    r.add_target("a/x.bin", data2, role="A")
    r.write(d / "state1", r.publish())
    r.bump("snapshot", "timestamp")
    r.targets["A"].signed.version = 1
    r.add_target("a/x.bin", b"A v1\n", role="A")
    r.write(d / "state2", r.publish())
    finish(d, r, "rollback (delegated role)",
           "state1: snapshot v2 lists A v2 (downloaded through A). state2: snapshot v3 lists A v1 and serves it.",
           [in_state("state1", ok("download", "a/x.bin", data2), {"snapshot": 2, "A": 2}),
            in_state("state2", fail("download", "refresh", "rollback", "A", "a/x.bin"),
                     {"timestamp": 3, "snapshot": 2, "A": 2})],
           ["§5.5.5"])


@scenario("delegated-metadata-checks")
def s_deleg_checks(d):
    r = Repo(meta_hashes=True)
    r.delegate("targets", "A", paths=["a/*"])
    data = b"A's target\n"
    r.add_target("a/x.bin", data, role="A")
    good = r.publish()
    r.write(d / "state1", good)
    # state2: A.json re-signed with other content, same version: hash differs from snapshot's
    # (same length: the other bytes of a same-length target give a same-length file)
    r.add_target("a/x.bin", b"A's targeT\n", role="A")
    served = dict(good)
    served["A"] = r.sign_md(r.targets["A"], "A")
    assert len(served["A"]) == len(good["A"]) and served["A"] != good["A"]
    r.add_target("a/x.bin", data, role="A")
    r.write(d / "state2", served)
    # state3: A.json longer than the length snapshot lists (extra whitespace, signature still valid)
    served = dict(good)
    served["A"] = good["A"] + b" " * 64
    r.write(d / "state3", served)
    # state4: A.json expired (listed correctly in snapshot)
    r.bump("A", "snapshot", "timestamp")
    r.targets["A"].signed.expires = EXPIRED
    r.write(d / "state4", r.publish())
    finish(d, r, "arbitrary installation / freeze through a delegated role's metadata",
           "snapshot and timestamp list length and sha256 of every file. Delegated A.json must be "
           "checked for hash (state2), length (state3) and expiry (state4) like top-level roles. "
           "Each state is tried with a fresh client.",
           [in_state("state1", ok("download", "a/x.bin", data)),
            in_state("state2", fail("download", "lookup", "hash mismatch", "A", "a/x.bin"), {"A": None}),
            in_state("state3", fail("download", "lookup", "length mismatch", "A", "a/x.bin"), {"A": None}),
            in_state("state4", fail("download", "lookup", "expired", "A", "a/x.bin"), {"A": None})],
           ["§5.6.2", "§5.6.4", "§5.6.7.2"], fresh_client_per_step=True)


@scenario("mix-and-match")
def s_mix(d):
    r = Repo()
    r.add_target("files/fw.bin", b"v1\n")
    v1 = r.publish()["targets"]
    r.bump("targets", "snapshot", "timestamp")
    r.add_target("files/fw.bin", b"v2\n")
    served = r.publish()
    served["targets"] = v1
    r.blobs["files/fw.bin"] = b"v1\n"
    r.write(d, served)
    finish(d, r, "mix-and-match",
           "snapshot v2 lists targets version 2; the server serves the validly signed targets version 1.",
           [fail("download", "refresh", "version mismatch", "targets", "files/fw.bin",
                 trusted_after={"snapshot": 2, "targets": None})],
           ["§5.6.4"])


@scenario("timestamp-fast-forward-recovery")
def s_ff(d):
    r = Repo()
    data = b"fw\n"
    r.add_target("files/fw.bin", data)
    r.timestamp.signed.version = 1000  # forged with the compromised timestamp key
    r.write(d / "state1", r.publish())
    r.timestamp.signed.version = 2
    r.write(d / "state2", r.publish())  # honest repository, key not yet rotated
    r.rotate_key("timestamp")
    r.root.signed.version = 2
    r.sign_root()
    r.bump("snapshot")
    r.write(d / "state3", r.publish())
    finish(d, r, "fast-forward",
           "state1: an attacker holding the timestamp key serves timestamp v1000. state2: the honest "
           "timestamp v2 is then refused as a rollback. state3: root v2 replaces the timestamp key; the "
           "client must discard its trusted timestamp and snapshot (§5.3.11) and accept timestamp v2.",
           [in_state("state1", ok("refresh"), {"root": 1, "timestamp": 1000}),
            in_state("state2", fail("refresh", "refresh", "rollback", "timestamp"), {"root": 1, "timestamp": 1000}),
            in_state("state3", ok("download", "files/fw.bin", data), {"root": 2, "timestamp": 2, "snapshot": 2})],
           ["§5.3.11", "§5.4.3.1"])


@scenario("endless-data")
def s_endless(d):
    r = Repo()
    r.add_target("files/fw.bin", b"x\n")
    r.timestamp.signed.unrecognized_fields["x-padding"] = "endless " * 2100  # > 16,384 bytes, validly signed
    served = r.publish()
    assert len(served["timestamp"]) > 16384
    r.write(d / "state1", served)
    del r.timestamp.signed.unrecognized_fields["x-padding"]
    big = b"A" * 100
    r.add_target("files/big.bin", big)
    r.blobs["files/big.bin"] = big + b"B" * 4000  # served longer than listed
    r.write(d / "state2", r.publish())
    finish(d, r, "endless data",
           "state1: timestamp.json is 16,385+ bytes (over the 16,384-byte limit; validly signed, padded with "
           "an unknown field). state2: files/big.bin is listed as 100 bytes and served as 4,100: the client "
           "must stop reading after the listed length.",
           [in_state("state1", fail("refresh", "refresh", "metadata too large", "timestamp"), {"timestamp": None}),
            in_state("state2", fail("download", "download", "length mismatch", target="files/big.bin",
                                    note="served target longer than its listed length"))],
           ["§5.4.1", "§5.7.2", "limits: timestamp 16,384 bytes"], limits={"timestamp_max_length": 16384})


@scenario("wrong-hash")
def s_wrong_hash(d):
    r = Repo()
    r.add_target("files/app.bin", b"genuine payload\n")
    r.add_target("files/short.bin", b"genuine but longer\n")
    r.blobs["files/app.bin"] = b"MALICIOUS payload\n"[:16]  # same length, other bytes
    assert len(r.blobs["files/app.bin"]) == len(b"genuine payload\n")
    r.blobs["files/short.bin"] = b"genuine"
    r.write(d, r.publish())
    finish(d, r, "arbitrary installation",
           "The served files/app.bin has the listed length but other bytes; files/short.bin is shorter "
           "than listed.",
           [fail("download", "download", "hash mismatch", target="files/app.bin"),
            fail("download", "download", "length mismatch", target="files/short.bin")],
           ["§5.7.3"])


@scenario("hardware-id")
def s_hwid(d):
    r = Repo()
    other = b"firmware for a CT console\n"
    mine = b"firmware for this MR scanner\n"
    r.add_target("firmware/ct.bin", other, custom={"hardware_id": "ct-console-07"})
    r.add_target("firmware/mr.bin", mine, custom={"hardware_id": "mr-scanner-03"})
    r.write(d, r.publish())
    finish(d, r, "wrong software",
           "Targets carry custom.hardware_id (Uptane-style); the device is mr-scanner-03.",
           [fail("download", "lookup", "hardware id mismatch", target="firmware/ct.bin"),
            ok("download", "firmware/mr.bin", mine)],
           ["Uptane hardware_id (dha device addition)"], device={"hardware_id": "mr-scanner-03"})


@scenario("target-path-escape")
def s_escape(d):
    r = Repo()
    good = b"fine\n"
    r.add_target("files/ok.txt", good)
    r.add_target("../../etc/passwd", b"root::0:0::/:/bin/sh\n")
    r.blobs["../../etc/passwd"] = None  # never written anywhere: the client must not even fetch it
    r.write(d, r.publish())
    finish(d, r, "arbitrary installation (a file written outside the target directory)",
           "targets.json lists '../../etc/passwd' (signed). The client must refuse to write outside its "
           "target directory; it is not served.",
           [ok("download", "files/ok.txt", good),
            fail("download", "download", "target path escape", target="../../etc/passwd",
                 note="a client that stores targets under percent-encoded names (python-tuf) may "
                      "instead fail to fetch; either way nothing is written outside target_dir")],
           ["§5.7 (target path is a path-relative URL, not a file path)"])


@scenario("threshold-zero")
def s_threshold_zero(d):
    r = Repo()
    r.add_target("files/fw.bin", b"x\n")
    served = r.publish()
    signed = copy.deepcopy(r.root.to_dict()["signed"])
    signed["version"] = 2
    signed["roles"]["targets"]["threshold"] = 0
    v2 = resign_raw(signed, r.signers["root"])
    targets = json.loads(served["targets"])
    targets["signatures"] = []
    served["targets"] = json.dumps(targets, indent=1).encode()
    r.write(d, served, roots=[r.roots[0], v2])
    finish(d, r, "arbitrary installation (threshold 0 accepted)",
           "2.root.json, validly signed, sets the targets threshold to 0, and targets.json carries no "
           "signature. A threshold below 1 is invalid: the root must be refused.",
           [fail("refresh", "refresh", "invalid metadata", "root", trusted_after={"root": 1, "timestamp": None},
                 also_acceptable=["threshold not met"])],
           ["§4.3 (threshold >= 1)", "§5.3.4"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--any-version", action="store_true")
    ap.add_argument("--out", type=Path, default=HERE)
    ap.add_argument("only", nargs="*", help="scenario names (default: all)")
    args = ap.parse_args()
    versions = check_versions(args.any_version)
    names = args.only or list(SCENARIOS)
    for name in names:
        d = args.out / name
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
        SCENARIOS[name](d)
        print(f"wrote {name}")
    index = {"reference_time": REFERENCE_TIME, "spec_version": SPEC_VERSION,
             "generated_with": versions, "scenarios": list(SCENARIOS)}
    (args.out / "scenarios.json").write_text(json.dumps(index, indent=1) + "\n")


if __name__ == "__main__":
    main()
