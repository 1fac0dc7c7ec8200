#!/usr/bin/env python3
"""Times the reference client (python-tuf's `ngclient.Updater`) on the
repository made by make_hashbin_repo.py: the Python side of the TUF refresh
benchmark (issue 3).

    python3 python_refresh.py REPO_DIR [--runs 10] [--target NAME] [--store-dir DIR]

Each run starts from an empty metadata directory seeded with
REPO_DIR/client/root.json (the bootstrap root), under --store-dir (default
the system temporary directory), builds an Updater, refreshes
(root, timestamp, snapshot, top-level targets) and looks up one target
(`get_targetinfo`, which loads only the hash bin that lists it). The files
are read from REPO_DIR/metadata by a fetcher over the local directory, as
dha's LocalDirTransport does; the client's clock is fixed at the reference
time of REPO_DIR/bench.json. One untimed warm-up run comes first; interpreter
start-up and imports are not timed.

Prints one line per run and then one JSON line:
`{"client": "python-tuf", "runs": N, "median_ms": M, "min_ms": m, "times_ms": [...]}`.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import statistics
import sys
import tempfile
import time
import types
from pathlib import Path
from urllib.parse import urlsplit

from tuf.api import exceptions
from tuf.ngclient import FetcherInterface, Updater
from tuf.ngclient._internal import trusted_metadata_set

BASE = "http://bench.invalid"


class FixedClock(_dt.datetime):
    """datetime whose now() is the repository's reference time."""

    reference: _dt.datetime = _dt.datetime(2026, 11, 29, tzinfo=_dt.timezone.utc)

    @classmethod
    def now(cls, tz=None):  # noqa: D102
        return cls.reference


# TrustedMetadataSet reads the update start time with datetime.datetime.now(utc)
trusted_metadata_set.datetime = types.SimpleNamespace(datetime=FixedClock, timezone=_dt.timezone)


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
        return iter([f.read_bytes()])


def one_run(repo: Path, root: bytes, target: str, store_dir: str | None) -> float:
    """One cold client: returns the milliseconds of init + refresh + lookup."""
    with tempfile.TemporaryDirectory(prefix="pytuf-bench-", dir=store_dir) as tmp:
        md_dir = Path(tmp) / "metadata"
        md_dir.mkdir()
        t0 = time.perf_counter()
        up = Updater(str(md_dir), f"{BASE}/metadata/", str(Path(tmp) / "targets"),
                     f"{BASE}/targets/", fetcher=DirFetcher(repo), bootstrap=root)
        up.refresh()
        info = up.get_targetinfo(target)
        elapsed = (time.perf_counter() - t0) * 1000.0
        if info is None:
            raise SystemExit(f"python-tuf did not find {target}")
        return elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("repo", type=Path, help="directory made by make_hashbin_repo.py")
    ap.add_argument("--runs", type=int, default=10, help="timed runs (10)")
    ap.add_argument("--target", help="target to look up (default: bench.json's lookup)")
    ap.add_argument("--store-dir", help="where the metadata directories go (default: $TMPDIR)")
    ap.add_argument("--once", action="store_true",
                    help="one run, no warm-up, no output: for timing a whole cold process")
    args = ap.parse_args()
    bench = json.loads((args.repo / "bench.json").read_text())
    FixedClock.reference = _dt.datetime.fromisoformat(
        bench["reference_time"].replace("Z", "+00:00"))
    target = args.target or bench["lookup"]
    root = (args.repo / "client" / "root.json").read_bytes()
    if args.once:
        one_run(args.repo, root, target, args.store_dir)
        return 0
    one_run(args.repo, root, target, args.store_dir)  # warm-up
    times = []
    for i in range(max(args.runs, 1)):
        ms = one_run(args.repo, root, target, args.store_dir)
        times.append(ms)
        print(f"python-tuf run {i + 1}: {ms:.2f} ms", file=sys.stderr)
    print(json.dumps({
        "client": "python-tuf",
        "runs": len(times),
        "median_ms": statistics.median(times),
        "min_ms": min(times),
        "times_ms": [round(t, 3) for t in times],
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
