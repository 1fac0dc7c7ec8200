#!/usr/bin/env python3
"""Runs the reference client (python-tuf's ngclient Updater) against every
scenario under tests/data/tuf/reference/ and checks that it gets the outcome
scenario.json states, so the fixtures are proven by the reference before dha's
client uses them.

    pip install 'tuf==6.0.0' 'securesystemslib[crypto]==1.6.0'
    python3 tests/data/tuf/reference/verify_with_python_tuf.py [SCENARIO ...]

Each step runs a new Updater (a new update cycle, with the client's fixed time
scenario.json's reference_time) over one trusted metadata directory kept for
the whole scenario (a fresh one per step when fresh_client_per_step is set),
started from client/root.json. Files are served from the step's repository
directory by a FetcherInterface that reads files and answers 404 for a
missing file or a path with '.' or '..' segments.

python-tuf has no notion of a device hardware id: this script applies the
check an application would (target custom.hardware_id against scenario.json's
device.hardware_id) after the lookup, as dha does inside its client.

Exit 0 and "N passed, 0 failed" when every step matches.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import sys
import tempfile
import traceback
import types
from pathlib import Path
from urllib.parse import urlsplit

from tuf.api import exceptions
from tuf.api.serialization import DeserializationError
from tuf.ngclient import FetcherInterface, Updater, UpdaterConfig
from tuf.ngclient._internal import trusted_metadata_set

HERE = Path(__file__).resolve().parent
BASE = "http://fixture.invalid"


class FixedClock(_dt.datetime):
    """datetime whose now() is the scenario's reference time."""

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
        self.fetched: list[str] = []

    def _fetch(self, url: str):
        path = urlsplit(url).path.lstrip("/")
        self.fetched.append(path)
        parts = path.split("/")
        if any(p in ("", ".", "..") for p in parts):
            raise exceptions.DownloadHTTPError(f"refused path {path}", 404)
        f = self.repo_dir.joinpath(*parts)
        if not f.is_file():
            raise exceptions.DownloadHTTPError(f"not found: {path}", 404)
        data = f.read_bytes()
        return iter([data[i:i + 4096] for i in range(0, len(data), 4096)] or [b""])


def classify(e: BaseException) -> str:
    """Maps a python-tuf exception to a scenario.json failure kind."""
    msg = str(e)
    if isinstance(e, exceptions.ExpiredMetadataError):
        return "expired"
    if isinstance(e, exceptions.UnsignedMetadataError):
        return "threshold not met"
    if isinstance(e, exceptions.BadVersionNumberError):
        # rollback: "New X version must be >=", "Expected F.json version ..."
        # mismatch: "Expected root version N instead got", "Expected A vN, got vM"
        if "must be >=" in msg or ".json version" in msg:
            return "rollback"
        return "version mismatch"
    if isinstance(e, exceptions.DownloadLengthMismatchError):
        return "too long"  # "metadata too large" or "length mismatch"
    if isinstance(e, exceptions.LengthOrHashMismatchError):
        return "length mismatch" if "length" in msg else "hash mismatch"
    if isinstance(e, DeserializationError):
        return "invalid metadata"
    if isinstance(e, exceptions.DownloadHTTPError):
        return "download failed"
    return type(e).__name__


# python-tuf names the role in these errors only (not in hash/length/parse errors)
NAMES_ROLE = ("expired", "threshold not met", "rollback", "version mismatch")


def role_in_message(role: str, e: BaseException) -> bool:
    msg = str(e)
    return role in msg or f"{role}.json" in msg


def trusted_versions(md_dir: Path) -> dict[str, int | None]:
    out = {}
    for f in md_dir.glob("*.json"):
        try:
            out[f.stem] = json.loads(f.read_bytes())["signed"]["version"]
        except (OSError, ValueError, KeyError):
            pass
    return out


def run_step(sc: dict, sc_dir: Path, step: dict, md_dir: Path, target_dir: Path) -> tuple[str, BaseException | None, dict]:
    """Returns (stage, exception or None, info)."""
    repo = sc_dir / step["repository"]
    fetcher = DirFetcher(repo)
    config = UpdaterConfig()
    if "max_delegations" in sc:
        config.max_delegations = sc["max_delegations"]
    info: dict = {"fetcher": fetcher}
    bootstrap = None
    if not (md_dir / "root.json").exists():
        bootstrap = (sc_dir / sc["client"]["trusted_root"]).read_bytes()
    stage = "refresh"
    try:
        up = Updater(str(md_dir), f"{BASE}/metadata/", str(target_dir), f"{BASE}/targets/",
                     fetcher=fetcher, config=config, bootstrap=bootstrap)
        up.refresh()
        if step["action"] == "refresh":
            return stage, None, info
        stage = "lookup"
        tinfo = up.get_targetinfo(step["target"])
        if tinfo is None:
            return stage, LookupError("target not found"), info
        device = sc.get("device", {}).get("hardware_id")
        want = tinfo.custom.get("hardware_id") if isinstance(tinfo.custom, dict) else None
        if device is not None and want is not None and want != device:
            return stage, LookupError("hardware id mismatch"), info
        info["targetinfo"] = tinfo
        if step["action"] == "lookup":
            return stage, None, info
        stage = "download"
        path = up.download_target(tinfo)
        info["path"] = path
        return stage, None, info
    except Exception as e:  # noqa: BLE001 - every failure is compared below
        return stage, e, info


def check_step(sc: dict, step: dict, stage: str, err: BaseException | None, info: dict,
               md_dir: Path, target_dir: Path, sandbox: Path) -> list[str]:
    problems = []
    exp = step["expect"]
    if exp["result"] == "ok":
        if err is not None:
            problems.append(f"expected ok, got {classify(err)} at {stage}: {err}")
        elif "sha256" in exp:
            data = Path(info["path"]).read_bytes()
            if len(data) != exp["length"] or hashlib.sha256(data).hexdigest() != exp["sha256"]:
                problems.append("downloaded bytes differ from expected length/sha256")
        elif step["action"] == "lookup" and "length" in exp and info["targetinfo"].length != exp["length"]:
            problems.append("looked-up length differs")
    else:
        kind = exp["kind"]
        accept = {kind, *exp.get("also_acceptable", [])}
        if kind in ("metadata too large", "length mismatch"):
            accept.add("too long")
        if err is None:
            if kind == "target path escape":
                written = Path(info.get("path", target_dir)).resolve()
                if target_dir.resolve() not in written.parents:
                    problems.append(f"target written outside target_dir: {written}")
            else:
                problems.append(f"expected {kind} at {exp['stage']}, got success")
        elif kind == "target path escape":
            # python-tuf stores targets under percent-encoded names and fetches the
            # URL; our fetcher refuses '..' segments. Either way: nothing outside.
            if classify(err) not in ("download failed", kind):
                problems.append(f"expected refusal, got {classify(err)}: {err}")
        elif str(err) in ("target not found", "hardware id mismatch"):
            if str(err) not in accept:
                problems.append(f"expected {kind}, got {err}")
        else:
            got = classify(err)
            if got not in accept:
                problems.append(f"expected {kind}, got {got}: {type(err).__name__}: {err}")
            elif exp.get("role") and got in NAMES_ROLE and not role_in_message(exp["role"], err):
                problems.append(f"error does not name role {exp['role']}: {err}")
        if err is not None and stage != exp["stage"]:
            problems.append(f"failed at {stage}, expected at {exp['stage']}")
    # nothing ever lands outside the target directory
    for f in sandbox.rglob("*"):
        parts = f.relative_to(sandbox).parts
        inside = len(parts) > 4 and parts[:2] == ("a", "b") and parts[3] in ("metadata", "targets")
        if f.is_file() and not inside:
            problems.append(f"file written outside target and metadata dirs: {f}")
    trusted = trusted_versions(md_dir)
    for role, version in step.get("trusted_after", {}).items():
        if trusted.get(role) != version:
            problems.append(f"trusted {role} version {trusted.get(role)}, expected {version}")
    return problems


def run_scenario(sc_dir: Path) -> tuple[int, int, list[str]]:
    sc = json.loads((sc_dir / "scenario.json").read_text())
    FixedClock.reference = _dt.datetime.fromisoformat(sc["reference_time"].replace("Z", "+00:00"))
    passed = failed = 0
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        # nested so that "../../etc/passwd" from target_dir stays inside the sandbox
        sandbox = Path(tmp)
        client = sandbox / "a" / "b" / "c"
        for i, step in enumerate(sc["steps"], 1):
            if sc.get("fresh_client_per_step") or i == 1:
                client = sandbox / "a" / "b" / f"client{i}"
            md_dir, target_dir = client / "metadata", client / "targets"
            md_dir.mkdir(parents=True, exist_ok=True)
            target_dir.mkdir(parents=True, exist_ok=True)
            stage, err, info = run_step(sc, sc_dir, step, md_dir, target_dir)
            problems = check_step(sc, step, stage, err, info, md_dir, target_dir, sandbox)
            label = f"{sc_dir.name} step {i} [{step['repository']}] {step['action']} {step.get('target', '')}".rstrip()
            exp = step["expect"]
            want = "ok" if exp["result"] == "ok" else f"{exp['kind']}{' (' + exp['role'] + ')' if 'role' in exp else ''} at {exp['stage']}"
            if problems:
                failed += 1
                lines.append(f"FAIL {label}: want {want}")
                lines.extend(f"     - {p}" for p in problems)
                if err is not None and os.environ.get("VERBOSE"):
                    lines.append("".join(traceback.format_exception(err)))
            else:
                passed += 1
                detail = "" if err is None else f" ({type(err).__name__}: {str(err)[:90]})"
                lines.append(f"ok   {label}: {want}{detail}")
    return passed, failed, lines


def main() -> int:
    names = sys.argv[1:] or json.loads((HERE / "scenarios.json").read_text())["scenarios"]
    total_p = total_f = 0
    for name in names:
        p, f, lines = run_scenario(HERE / name)
        total_p += p
        total_f += f
        print("\n".join(lines))
    print(f"{total_p} passed, {total_f} failed")
    return 1 if total_f else 0


if __name__ == "__main__":
    sys.exit(main())
