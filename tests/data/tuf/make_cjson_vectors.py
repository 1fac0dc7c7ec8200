#!/usr/bin/env python3
"""Writes cjson-vectors.json: inputs and the exact canonical bytes that the
reference implementation (securesystemslib.formats.encode_canonical) produces,
for agent-core/src/tuf/cjson.rs to compare against.

    pip install 'securesystemslib==1.6.0'
    python3 tests/data/tuf/make_cjson_vectors.py > tests/data/tuf/cjson-vectors.json
"""
import json
import sys

from securesystemslib.formats import encode_canonical

CASES = [
    None, True, False, 0, -1, 1, 2**53, 2**63 - 1, -(2**63), 18446744073709551615,
    "", "plain", 'quote " here', "back\\slash", "new\nline", "tab\t", "ctl\u0001\u001f",
    "caf\u00e9", "A\u030a vs \u00c5 vs \u212b", "emoji \U0001F600", "nul\u0000byte",
    [], [1, [2, [3]]], {}, {"b": 1, "a": 2}, {"\u00e9": 1, "e": 2, "z": 3, "Z": 4},
    {"nested": {"y": [True, None], "x": "v"}}, {"": "", " ": " "},
    {"signed": {"_type": "root", "spec_version": "1.0.34", "version": 1, "expires": "2030-01-01T00:00:00Z",
                "keys": {"ab": {"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": "00ff"}}},
                "roles": {"root": {"keyids": ["ab"], "threshold": 1}}, "consistent_snapshot": False,
                "x-custom": {"unknown": [1, "two"]}}},
    1.5, {"f": 0.1}, [1, 2.0],
]

out = []
for value in CASES:
    try:
        data = encode_canonical(value)
        if isinstance(data, str):
            data = data.encode("utf-8")
        out.append({"input": value, "canonical_hex": data.hex()})
    except Exception:  # the reference refuses floats
        out.append({"input": value, "canonical_hex": None})
json.dump(out, sys.stdout, indent=1, ensure_ascii=True)
sys.stdout.write("\n")
