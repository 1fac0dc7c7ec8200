#!/usr/bin/env python3
"""Writes quote-vectors.json: role names and the file-name stem that the
reference client gives them. python-tuf's ngclient (tuf 6.0.0,
tuf/ngclient/updater.py: _persist_metadata, _load_local_metadata,
_download_metadata) encodes a role name with `parse.quote(rolename, "")`;
agent-core/src/tuf/store.rs (percent_encode) must produce the same.

    pip install 'tuf==6.*'
    python3 tests/data/tuf/store/make_quote_vectors.py > tests/data/tuf/store/quote-vectors.json
"""
import inspect
import json
from urllib import parse

from tuf.ngclient import updater

# Guard: the reference still encodes role names this way.
assert 'parse.quote(rolename, "")' in inspect.getsource(updater.Updater._persist_metadata)

NAMES = [
    "root", "timestamp", "snapshot", "targets", "role-1_a.b~c",
    "../x", "/etc/passwd", "a/../../b", "a/b", "a%2Fb", "%", "%25", "..", ".", "",
    "a b", "a+b", "a\\b", "?#&=;:@$,!'()*[]", "\"<>{}|^`", "nul\u0000", "tab\tnl\n",
    "caf\u00e9", "cafe\u0301", "\u65e5\u672c", "emoji \U0001F600", "\u007f\u0080",
    ".dha-tmp-x", "UPPER lower 0123456789",
]

print(json.dumps([{"name": n, "quoted": parse.quote(n, "")} for n in NAMES],
                 indent=1, ensure_ascii=True))
