#!/usr/bin/env python3
"""Reverse interoperability (issue 3): repositories produced by `dha repo`
verify with the reference client, python-tuf's ngclient Updater.

    pip install 'tuf==6.0.0' 'securesystemslib[crypto]==1.6.0'
    python3 tests/data/tuf/dha_repo_with_python_tuf.py REPO_DIR [REPO_DIR ...]

Each REPO_DIR is a repository directory as `dha repo` lays it out
(metadata/ and targets/ as served). For each one, a new Updater with an
empty trusted metadata directory, bootstrapped from metadata/1.root.json
(so every later root version is walked, TUF 1.0.34 §5.3), refreshes over a
FetcherInterface that reads files (404 for a missing file or a path with
'.' or '..' segments), then looks up and downloads every target that the
repository's targets roles list, and compares the bytes with the file under
targets/. Target names are read from the metadata files only to know what
to ask for; the Updater verifies everything it uses.

A negative check per repository: in a copy whose first target has one byte
flipped (an empty one gets a byte), the download must fail with a hash or
length mismatch.

Prints one line per check and "N passed, N failed"; exits 1 if any failed.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import traceback
from pathlib import Path
from urllib.parse import urlsplit

from tuf.api import exceptions
from tuf.ngclient import FetcherInterface, Updater

BASE = "http://dha-repo.invalid"


class DirFetcher(FetcherInterface):
    """Serves BASE/<path> from <repo_dir>/<path>, bytes as stored."""

    def __init__(self, repo_dir: Path):
        self.repo_dir = repo_dir

    def _fetch(self, url: str):
        path = urlsplit(url).path.lstrip("/")
        parts = path.split("/")
        if any(p in ("", ".", "..") for p in parts):
            raise exceptions.DownloadHTTPError(f"refused path {path}", 404)
        f = self.repo_dir.joinpath(*parts)
        if not f.is_file():
            raise exceptions.DownloadHTTPError(f"not found: {path}", 404)
        data = f.read_bytes()
        return iter([data[i:i + 4096] for i in range(0, len(data), 4096)] or [b""])


def listed_targets(repo: Path) -> list[str]:
    """Every target name in the served targets roles (any version)."""
    names: set[str] = set()
    for f in sorted((repo / "metadata").glob("*.json")):
        signed = json.loads(f.read_bytes()).get("signed", {})
        if signed.get("_type") == "targets":
            names.update(signed.get("targets", {}))
    return sorted(names)


def new_updater(repo: Path, client: Path) -> Updater:
    md_dir, target_dir = client / "metadata", client / "targets"
    md_dir.mkdir(parents=True)
    target_dir.mkdir(parents=True)
    root = (repo / "metadata" / "1.root.json").read_bytes()
    return Updater(str(md_dir), f"{BASE}/metadata/", str(target_dir), f"{BASE}/targets/",
                   fetcher=DirFetcher(repo), bootstrap=root)


def check_repo(repo: Path, tmp: Path) -> tuple[int, int, list[str]]:
    passed = failed = 0
    lines: list[str] = []

    def record(ok: bool, label: str, detail: str = "") -> None:
        nonlocal passed, failed
        if ok:
            passed += 1
            lines.append(f"ok   {repo.name}: {label}")
        else:
            failed += 1
            lines.append(f"FAIL {repo.name}: {label}: {detail}")

    names = listed_targets(repo)
    try:
        up = new_updater(repo, tmp / "client")
        up.refresh()
        versions = {r: up._trusted_set[r].version  # noqa: SLF001 - report only
                    for r in ("root", "timestamp", "snapshot", "targets")}
        record(True, "refresh (" + ", ".join(f"{r} v{v}" for r, v in versions.items()) + ")")
    except Exception as e:  # noqa: BLE001 - every failure is reported
        record(False, "refresh", f"{type(e).__name__}: {e}")
        return passed, failed, lines
    for name in names:
        try:
            info = up.get_targetinfo(name)
            if info is None:
                record(False, f"download {name}", "target not found")
                continue
            path = up.download_target(info)
            got = Path(path).read_bytes()
            want = (repo / "targets" / name).read_bytes()
            custom = f" custom={json.dumps(info.custom, sort_keys=True)}" if info.custom else ""
            record(got == want, f"download {name} ({len(got)} bytes){custom}",
                   "bytes differ from targets/" + name)
        except Exception as e:  # noqa: BLE001
            record(False, f"download {name}", f"{type(e).__name__}: {e}\n{traceback.format_exc()}")
    if names:
        # Negative check: a tampered target is refused.
        copy = tmp / "tampered"
        shutil.copytree(repo, copy, symlinks=False)
        name = names[0]
        tampered = [copy / "targets" / name]
        parent = (copy / "targets" / name).parent
        base = Path(name).name
        tampered += [p for p in parent.glob(f"*.{base}") if len(p.name) > len(base) + 60]
        for t in tampered:
            data = bytearray(t.read_bytes())
            if data:
                data[0] ^= 0x01
            else:
                data = bytearray(b"x")
            t.unlink()  # break hard links to the original
            t.write_bytes(bytes(data))
        try:
            up = new_updater(copy, tmp / "client-tampered")
            up.refresh()
            info = up.get_targetinfo(name)
            up.download_target(info)
            record(False, f"tampered {name} refused", "downloaded without error")
        except (exceptions.LengthOrHashMismatchError, exceptions.DownloadLengthMismatchError) as e:
            record(True, f"tampered {name} refused ({type(e).__name__})")
        except Exception as e:  # noqa: BLE001
            record(False, f"tampered {name} refused", f"unexpected {type(e).__name__}: {e}")
    return passed, failed, lines


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    total_p = total_f = 0
    for arg in argv:
        repo = Path(arg).resolve()
        with tempfile.TemporaryDirectory() as tmp:
            p, f, lines = check_repo(repo, Path(tmp))
        total_p += p
        total_f += f
        print("\n".join(lines))
    print(f"{total_p} passed, {total_f} failed")
    return 1 if total_f else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
