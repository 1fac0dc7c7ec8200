#!/usr/bin/env python3
"""Writes the metadata fixtures read by agent-core/src/tuf/metadata.rs and
agent-core/src/tuf/delegation.rs, all produced by the reference
implementation (python-tuf's `tuf.api.metadata`, securesystemslib):

- root.json, timestamp.json, snapshot.json, targets.json (delegations with
  `paths` and `path_hash_prefixes`, custom fields, unknown fields) and
  bins.json (a delegated targets role with TAP 15 `succinct_roles`), signed
  with deterministic Ed25519 keys;
- <role>.signed.cjson: python-tuf's canonical bytes of each `signed`
  (`Metadata.signed_bytes`), what signatures are made over;
- delegation-vectors.json: glob matches (`DelegatedRole._is_target_in_pathpattern`),
  the roles `Delegations.get_roles_for_target` yields for targets.json and
  bins.json, and `SuccinctRoles.get_role_for_target` for several bit lengths;
- malformed.json: documents python-tuf refuses (checked here), each with the
  field the error must name.

    pip install 'tuf==6.*' 'securesystemslib[crypto]==1.6.*'
    python3 tests/data/tuf/metadata/make_metadata.py tests/data/tuf/metadata
"""
import copy
import json
import os
import sys
from datetime import datetime, timezone

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from securesystemslib.signer import CryptoSigner, SSlibKey
from tuf.api.metadata import (
    DelegatedRole,
    Delegations,
    Metadata,
    MetaFile,
    Role,
    Root,
    Snapshot,
    SuccinctRoles,
    TargetFile,
    Targets,
    Timestamp,
)
from tuf.api.serialization.json import JSONSerializer

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
EXPIRES = datetime(2030, 1, 1, 0, 0, 0, tzinfo=timezone.utc)
SPEC = "1.0.34"


def signer(seed_byte):
    priv = Ed25519PrivateKey.from_private_bytes(bytes([seed_byte]) * 32)
    key = SSlibKey.from_crypto(priv.public_key())
    return CryptoSigner(priv, key), key


SIGNERS = {name: signer(i + 1) for i, name in enumerate(
    ["root", "timestamp", "snapshot", "targets", "role-a", "role-b", "bins", "bin-n"])}


def write(name, md, sign_with):
    for s in sign_with:
        md.sign(SIGNERS[s][0], append=True)
    with open(os.path.join(OUT, f"{name}.json"), "wb") as f:
        f.write(md.to_bytes(JSONSerializer(compact=False)))
    with open(os.path.join(OUT, f"{name}.signed.cjson"), "wb") as f:
        f.write(md.signed_bytes)


# --- root (TUF 1.0.34 §4.3) ---------------------------------------------------
root = Root(version=3, spec_version=SPEC, expires=EXPIRES, consistent_snapshot=True)
for role in ["root", "timestamp", "snapshot", "targets"]:
    root.add_key(SIGNERS[role][1], role)
root.add_key(SIGNERS["role-a"][1], "root")
root.roles["root"].threshold = 2
root.unrecognized_fields["x-vendor"] = {"site": "ward 4", "n": [1, 2]}
write("root", Metadata(root), ["root", "role-a"])

# --- targets with delegations (§4.5) -------------------------------------------
targets = Targets(version=7, spec_version=SPEC, expires=EXPIRES)
targets.targets["firmware/ct-1.2.bin"] = TargetFile(
    length=1024,
    hashes={"sha256": "ab" * 32, "sha512": "cd" * 64},
    path="firmware/ct-1.2.bin",
    unrecognized_fields={"custom": {"hardware_id": "ct-scanner-x1", "release": 12}},
)
targets.targets["docs/readme.txt"] = TargetFile(
    length=0, hashes={"sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    path="docs/readme.txt")
targets.unrecognized_fields["x-note"] = "kept for signatures"
roles = {}
roles["role-a"] = DelegatedRole("role-a", [SIGNERS["role-a"][1].keyid], 1, True,
                                paths=["firmware/*", "firmware/ct-*.bin"])
roles["role-b"] = DelegatedRole("role-b", [SIGNERS["role-b"][1].keyid, SIGNERS["role-a"][1].keyid], 2, False,
                                paths=["*.txt", "docs/*/*.pdf", "a?c/[a-c]x/[!z]*"])
roles["hashed"] = DelegatedRole("hashed", [SIGNERS["role-b"][1].keyid], 1, False,
                                path_hash_prefixes=["0", "8a", "f0f", "c4"],
                                unrecognized_fields={"x-extra": True})
roles["bins"] = DelegatedRole("bins", [SIGNERS["bins"][1].keyid], 1, False, paths=["*", "*/*", "*/*/*"])
targets.delegations = Delegations(
    keys={SIGNERS[s][1].keyid: SIGNERS[s][1] for s in ["role-a", "role-b", "bins"]}, roles=roles)
write("targets", Metadata(targets), ["targets"])

# --- a delegated role with succinct hash bins (TAP 15) -------------------------
bins = Targets(version=2, spec_version=SPEC, expires=EXPIRES)
bins.delegations = Delegations(
    keys={SIGNERS["bin-n"][1].keyid: SIGNERS["bin-n"][1]},
    succinct_roles=SuccinctRoles([SIGNERS["bin-n"][1].keyid], 1, 10, "bin"))
write("bins", Metadata(bins), ["bins"])

# --- snapshot (§4.4) and timestamp (§4.6) --------------------------------------
snapshot = Snapshot(version=5, spec_version=SPEC, expires=EXPIRES)
snapshot.meta = {
    "targets.json": MetaFile(version=7),
    "role-a.json": MetaFile(version=1, length=512, hashes={"sha256": "01" * 32}),
    "bins.json": MetaFile(version=2),
}
write("snapshot", Metadata(snapshot), ["snapshot"])

timestamp = Timestamp(version=9, spec_version=SPEC, expires=EXPIRES,
                      snapshot_meta=MetaFile(version=5, length=1234, hashes={"sha256": "9f" * 32}))
write("timestamp", Metadata(timestamp), ["timestamp"])

# --- delegation vectors -------------------------------------------------------
PATHS = [
    "firmware/ct-1.2.bin", "firmware/x", "firmware/", "firmware", "firmware/a/b",
    "readme.txt", "docs/readme.txt", ".txt", "docs/x/y.pdf", "docs/x/y/z.pdf",
    "abc/ax/y", "a/c/ax/y", "aXc/bx/zz", "aXc/bx/yz", "abc/dx/y", "a.c/cx/", "a\nc/ax/y",
    "", "/", "/abc", "x/y/z", "ünï/cödé", "a*b", "[x]", "file with spaces",
]
PATTERNS = [
    "*", "*/*", "firmware/*", "firmware/ct-*.bin", "*.txt", "docs/*/*.pdf",
    "a?c/[a-c]x/[!z]*", "[", "[]", "[!]", "[]]", "[!]]", "a[", "[a-]", "[-a]",
    "[z-a]", "[!z-a]", "[a-c-e]", "[\\]", "[^a]", "a*b", "[*]", "[[]x]", "?",
    "**", "*/", "/*", "", "ünï/c?dé", "*with*", "[a-z0-9]*", "[!a-z]*",
]
glob = []
for pattern in PATTERNS:
    for path in PATHS:
        glob.append({"pattern": pattern, "target": path,
                     "matches": DelegatedRole._is_target_in_pathpattern(path, pattern)})

lookups = []
for path in PATHS + [f"pkg/{i}.bin" for i in range(40)]:
    lookups.append({"target": path,
                    "roles": [[n, t] for n, t in targets.delegations.get_roles_for_target(path)],
                    "bins_roles": [[n, t] for n, t in bins.delegations.get_roles_for_target(path)]})

succinct = []
for bit_length in [1, 2, 3, 4, 5, 8, 10, 13, 16, 31, 32]:
    sr = SuccinctRoles([], 1, bit_length, "hb")
    for path in PATHS[:12] + [f"pkg/{i}.bin" for i in range(8)]:
        succinct.append({"bit_length": bit_length, "name_prefix": "hb", "target": path,
                         "role": sr.get_role_for_target(path)})

with open(os.path.join(OUT, "delegation-vectors.json"), "w") as f:
    json.dump({"glob": glob, "lookups": lookups, "succinct": succinct}, f, indent=1, ensure_ascii=True)
    f.write("\n")

# --- malformed documents (each refused by python-tuf too) ---------------------
def doc(name):
    with open(os.path.join(OUT, f"{name}.json"), "rb") as f:
        return json.load(f)


TYPES = {"root": Root, "timestamp": Timestamp, "snapshot": Snapshot}


def case(label, role, field, base, mutate):
    d = copy.deepcopy(doc(base))
    mutate(d["signed"])
    try:
        # Parse as the role the client expects (python-tuf's
        # `Metadata.from_bytes` would dispatch on `_type` instead).
        Metadata.from_bytes(json.dumps(d).encode())
        TYPES.get(role, Targets).from_dict(copy.deepcopy(d["signed"]))
    except Exception:
        pass
    else:
        raise SystemExit(f"python-tuf accepted malformed case {label}")
    return {"case": label, "role": role, "field": field, "document": d}


def set_(path, value):
    def m(s):
        *head, last = path
        for p in head:
            s = s[p]
        s[last] = value
    return m


def both(s):
    s["delegations"]["roles"][0]["path_hash_prefixes"] = ["ab"]


def neither(s):
    del s["delegations"]["roles"][0]["paths"]


def dup_role(s):
    s["delegations"]["roles"][1]["name"] = "role-a"


def succ_and_roles(s):
    s["delegations"]["succinct_roles"] = {"keyids": [], "threshold": 1, "bit_length": 4, "name_prefix": "b"}


def drop_(key):
    def m(s):
        del s[key]
    return m


malformed = [
    case("wrong _type", "timestamp", "_type", "snapshot", lambda s: None),
    case("wrong _type root", "root", "_type", "root", set_(["_type"], "targets")),
    case("spec_version 2.0", "root", "spec_version", "root", set_(["spec_version"], "2.0")),
    case("spec_version garbage", "root", "spec_version", "root", set_(["spec_version"], "1.x.0")),
    case("version 0", "snapshot", "version", "snapshot", set_(["version"], 0)),
    case("version negative", "snapshot", "version", "snapshot", set_(["version"], -3)),
    case("version string", "snapshot", "version", "snapshot", set_(["version"], "3")),
    case("threshold 0", "root", "threshold", "root", set_(["roles", "timestamp", "threshold"], 0)),
    case("delegated threshold 0", "targets", "threshold", "targets",
         set_(["delegations", "roles", 1, "threshold"], 0)),
    case("bad expires", "root", "expires", "root", set_(["expires"], "2030-01-01 00:00:00")),
    case("expires with offset", "root", "expires", "root", set_(["expires"], "2030-01-01T00:00:00+01:00")),
    case("both paths and path_hash_prefixes", "targets", "paths", "targets", both),
    case("neither paths nor path_hash_prefixes", "targets", "paths", "targets", neither),
    case("duplicate delegated role", "targets", "role-a", "targets", dup_role),
    case("roles and succinct_roles", "targets", "succinct_roles", "targets", succ_and_roles),
    case("negative length", "targets", "length", "targets",
         set_(["targets", "docs/readme.txt", "length"], -1)),
    case("empty hashes", "targets", "hashes", "targets", set_(["targets", "docs/readme.txt", "hashes"], {})),
    case("meta version 0", "snapshot", "version", "snapshot", set_(["meta", "targets.json", "version"], 0)),
    case("no snapshot.json in timestamp", "timestamp", "snapshot.json", "timestamp", set_(["meta"], {})),
    case("root role missing", "root", "roles", "root", lambda s: s["roles"].pop("snapshot")),
    case("duplicate keyids", "root", "keyids", "root",
         lambda s: s["roles"]["targets"]["keyids"].append(s["roles"]["targets"]["keyids"][0])),
    case("bit_length 0", "bins", "bit_length", "bins", set_(["delegations", "succinct_roles", "bit_length"], 0)),
    case("bit_length 33", "bins", "bit_length", "bins", set_(["delegations", "succinct_roles", "bit_length"], 33)),
    case("missing version", "root", "version", "root", drop_("version")),
    case("top-level delegated name", "targets", "name", "targets",
         set_(["delegations", "roles", 0, "name"], "snapshot")),
]
# "wrong _type": a snapshot document read as the timestamp role.
with open(os.path.join(OUT, "malformed.json"), "w") as f:
    json.dump(malformed, f, indent=1, ensure_ascii=True)
    f.write("\n")
