"""Check that the pinned dependencies resolve to binary wheels for every Python the
project supports (``requires-python`` in pyproject.toml), without a second interpreter:
``pip install --dry-run --python-version X --only-binary=:all:`` asks the package index
for each minor version and this script checks that every pin is what pip would install
(the optional extras, e.g. ``mutation``, resolved together with the dependencies).

    python tools/check_pins.py            # every supported minor version (3.11, 3.12, 3.13)
    python tools/check_pins.py 3.12       # one

Exit status 1 names the version and the package that does not resolve. Needs the
package index (as installing does); downloads only metadata where the index offers it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]


def project() -> tuple[list[Requirement], SpecifierSet]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = [r for group in meta.get("optional-dependencies", {}).values() for r in group]
    return [Requirement(r) for r in meta["dependencies"] + extras], SpecifierSet(meta["requires-python"])


def supported_versions(spec: SpecifierSet, candidates=range(8, 20)) -> list[str]:
    return [v for v in (f"3.{m}" for m in candidates) if spec.contains(f"{v}.0")]


def resolve(reqs: list[Requirement], version: str) -> dict[str, str]:
    """{package name: version} that pip would install for Python ``version``."""
    with tempfile.TemporaryDirectory() as tmp:
        req_file, report = Path(tmp) / "requirements.txt", Path(tmp) / "report.json"
        req_file.write_text("\n".join(str(r) for r in reqs) + "\n")
        cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--ignore-installed",
               "--only-binary=:all:", "--python-version", version, "--report", str(report), "-r", str(req_file)]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            tail = "\n".join(line for line in r.stderr.splitlines() if "ignored: it is neither" not in line)[-3000:]
            raise RuntimeError(f"Python {version}: the pinned set does not resolve:\n{tail}")
        items = json.loads(report.read_text())["install"]
    return {i["metadata"]["name"].lower().replace("_", "-"): i["metadata"]["version"] for i in items}


def check(version: str, reqs: list[Requirement]) -> list[str]:
    got = resolve(reqs, version)
    problems = []
    for r in reqs:
        name = r.name.lower().replace("_", "-")
        if name not in got:
            problems.append(f"{r.name}: not in the resolution")
        elif not r.specifier.contains(got[name], prereleases=True):
            problems.append(f"{r.name}: resolves to {got[name]}, pinned {r.specifier}")
    return problems


def main(argv: list[str]) -> int:
    reqs, spec = project()
    versions = argv or supported_versions(spec)
    print(f"requires-python {spec}: checking {', '.join(versions)} ({len(reqs)} pinned packages)")
    failed = False
    for v in versions:
        t0 = time.perf_counter()
        try:
            problems = check(v, reqs)
        except RuntimeError as e:
            print(f"  {v}: FAILED\n{e}")
            failed = True
            continue
        if problems:
            failed = True
            print(f"  {v}: FAILED: " + "; ".join(problems))
        else:
            print(f"  {v}: every pin resolves to a wheel ({time.perf_counter() - t0:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
