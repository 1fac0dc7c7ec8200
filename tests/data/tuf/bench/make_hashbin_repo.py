#!/usr/bin/env python3
"""Generates the repository of the TUF refresh benchmark (issue 3): 10,000
targets spread over 256 succinct hash bins (TAP 15), built with the reference
implementation (python-tuf's `tuf.api.metadata`, ed25519 keys from
securesystemslib's CryptoSigner).

    python3 make_hashbin_repo.py OUT_DIR [--targets 10000] [--bit-length 8]

Writes, replacing OUT_DIR if it exists:

    OUT_DIR/client/root.json        the trusted root a device ships with
    OUT_DIR/metadata/1.root.json    as a TUF server serves it (no consistent
    OUT_DIR/metadata/timestamp.json snapshots): timestamp, snapshot, targets
    OUT_DIR/metadata/snapshot.json  (which delegates every target to the bins
    OUT_DIR/metadata/targets.json   through succinct_roles) and one file per
    OUT_DIR/metadata/bins-XX.json   bin, `bins-00.json` to `bins-ff.json`
    OUT_DIR/targets/<lookup name>   the one target the benchmark looks up
    OUT_DIR/bench.json              target count, bins, the name to look up,
                                    its bin, the reference time, versions

Targets are metadata entries only (length, sha256 and sha512 of a small
generated content, `pkg/file-NNNNN.bin`); only the looked-up one is written
as a file. Every role has one ed25519 key; all bins share one key, as TAP 15
succinct delegations do. Dates are fixed (expiry 2030-01-01, reference time
2026-11-29T00:00:00Z); keys are random on every run.

Needs tuf 6.0.0 and securesystemslib 1.6.0 (`pip install 'tuf==6.0.0'
'securesystemslib[crypto]==1.6.0'`).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import (
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
from tuf.api.serialization.json import JSONSerializer

EXPIRES = datetime(2030, 1, 1, tzinfo=timezone.utc)
REFERENCE_TIME = "2026-11-29T00:00:00Z"
BIN_PREFIX = "bins"


def target_name(i: int) -> str:
    return f"pkg/file-{i:05d}.bin"


def target_content(i: int) -> bytes:
    return f"benchmark target {i}\n".encode()


def to_bytes(md: Metadata) -> bytes:
    # python-tuf's default (what a repository built with it serves)
    return md.to_bytes(JSONSerializer(compact=False))


def sign(md: Metadata, signer: CryptoSigner) -> bytes:
    md.signatures.clear()
    md.sign(signer)
    return to_bytes(md)


def build(out: Path, n_targets: int, bit_length: int) -> dict:
    signers = {role: CryptoSigner.generate_ed25519()
               for role in ("root", "timestamp", "snapshot", "targets", "bins")}

    root = Metadata(Root(expires=EXPIRES, consistent_snapshot=False))
    for role in ("root", "timestamp", "snapshot", "targets"):
        root.signed.add_key(signers[role].public_key, role)
    root_bytes = sign(root, signers["root"])

    bins_key = signers["bins"].public_key
    succinct = SuccinctRoles([bins_key.keyid], 1, bit_length, BIN_PREFIX)
    targets = Metadata(Targets(expires=EXPIRES))
    targets.signed.delegations = Delegations(
        keys={bins_key.keyid: bins_key}, succinct_roles=succinct)

    bins = {name: Metadata(Targets(expires=EXPIRES)) for name in succinct.get_roles()}
    for i in range(n_targets):
        name = target_name(i)
        tf = TargetFile.from_data(name, target_content(i), ["sha256", "sha512"])
        bins[succinct.get_role_for_target(name)].signed.targets[name] = tf

    served: dict[str, bytes] = {}
    snapshot = Metadata(Snapshot(expires=EXPIRES))
    for name, md in [("targets", targets), *bins.items()]:
        data = sign(md, signers["targets" if name == "targets" else "bins"])
        served[name] = data
        snapshot.signed.meta[f"{name}.json"] = MetaFile(version=md.signed.version)
    served["snapshot"] = sign(snapshot, signers["snapshot"])
    timestamp = Metadata(Timestamp(expires=EXPIRES))
    timestamp.signed.snapshot_meta = MetaFile(version=snapshot.signed.version)
    served["timestamp"] = sign(timestamp, signers["timestamp"])

    if out.exists():
        shutil.rmtree(out)
    md_dir = out / "metadata"
    md_dir.mkdir(parents=True)
    (out / "client").mkdir()
    (out / "client" / "root.json").write_bytes(root_bytes)
    (md_dir / "1.root.json").write_bytes(root_bytes)
    for name, data in served.items():
        (md_dir / f"{quote(name, '')}.json").write_bytes(data)

    # The looked-up target: the last one, in whatever bin it falls.
    lookup = target_name(n_targets - 1)
    lookup_path = out / "targets" / lookup
    lookup_path.parent.mkdir(parents=True)
    lookup_path.write_bytes(target_content(n_targets - 1))

    info = {
        "targets": n_targets,
        "bins": len(bins),
        "bit_length": bit_length,
        "name_prefix": BIN_PREFIX,
        "lookup": lookup,
        "lookup_bin": succinct.get_role_for_target(lookup),
        "lookup_sha256": hashlib.sha256(target_content(n_targets - 1)).hexdigest(),
        "reference_time": REFERENCE_TIME,
        "metadata_bytes": sum(f.stat().st_size for f in md_dir.iterdir()),
        "generator": {name: importlib.metadata.version(name)
                      for name in ("tuf", "securesystemslib", "cryptography")},
    }
    (out / "bench.json").write_text(json.dumps(info, indent=2) + "\n")
    return info


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path, help="output directory (replaced)")
    ap.add_argument("--targets", type=int, default=10_000, help="number of targets (10000)")
    ap.add_argument("--bit-length", type=int, default=8,
                    help="succinct_roles bit_length: 2^N bins (8 = 256)")
    args = ap.parse_args()
    if args.targets < 1 or not 1 <= args.bit_length <= 32:
        ap.error("--targets must be >= 1 and --bit-length in 1..32")
    info = build(args.out, args.targets, args.bit_length)
    json.dump(info, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
