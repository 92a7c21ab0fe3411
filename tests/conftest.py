import pytest
import torch


@pytest.fixture(autouse=True)
def _seed_and_threads():
    torch.manual_seed(0)
    yield


# `make test` leaves a clean checkout clean: what `git status` shows after the session must
# be what it showed before (new or changed files written by a test into the repository fail it)
_ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


def _git_status():
    import subprocess

    r = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=_ROOT, capture_output=True,
                       text=True)
    return set(r.stdout.splitlines()) if r.returncode == 0 else None


def pytest_sessionstart(session):
    if _mutant_under_test():
        import gc

        gc.freeze()  # the forked test process's inherited heap is never collected: no GC pauses over it
        torch.set_num_threads(1)  # mutants run side by side, one per core: no oversubscribed spinning threads
    # under mutmut (every phase sets MUTANT_UNDER_TEST) the tests run in mutants/, not the checkout
    session.config._git_before = None if "MUTANT_UNDER_TEST" in __import__("os").environ else _git_status()


def pytest_sessionfinish(session, exitstatus):
    if "MUTANT_UNDER_TEST" in __import__("os").environ:  # thousands of mutant runs: leave no tmp_path behind
        import shutil

        factory = getattr(session.config, "_tmp_path_factory", None)
        if factory is not None:
            shutil.rmtree(factory.getbasetemp(), ignore_errors=True)
    before, after = getattr(session.config, "_git_before", None), _git_status()
    if before is None or after is None or getattr(session.config.option, "collectonly", False):
        return
    new = sorted(after - before)
    if new:
        print("\nthe tests changed the checkout (git status):\n  " + "\n  ".join(new))
        session.exitstatus = 1


# ------------------------------------------------------------------ mutation testing (make mutation)
# mutmut runs the tests that execute a mutated function; here, under mutmut, they are narrowed
# to the unit tests of the mutated module ([tool.cmnet.mutation] in pyproject.toml) and run
# fastest first, so a mutant counts as killed only by its own module's tests

if "MUTANT_UNDER_TEST" in __import__("os").environ:  # mutmut's fork server: load once what every mutant's run imports
    from cmnet._torchvision import import_torchvision

    import_torchvision()


def _mutant_under_test() -> str:
    import os

    name = os.environ.get("MUTANT_UNDER_TEST", "")
    return name if "__mutmut_" in name else ""


def pytest_collection_modifyitems(config, items):
    mutant = _mutant_under_test()
    if not mutant:
        return
    import json
    import tomllib
    from pathlib import Path

    table = tomllib.loads(Path("pyproject.toml").read_text())["tool"]["cmnet"]["mutation"]["tests"]
    module = max((m for m in table if mutant.startswith(m + ".")), key=len, default=None)
    if module is None:
        raise pytest.UsageError(f"{mutant}: its module has no entry in [tool.cmnet.mutation.tests]")
    own = set(table[module])
    keep = [it for it in items if it.nodeid.split("::")[0] in own]
    drop = [it for it in items if it.nodeid.split("::")[0] not in own]
    stats = Path("mutmut-stats.json")
    durations = json.loads(stats.read_text()).get("duration_by_test", {}) if stats.is_file() else {}
    keep.sort(key=lambda it: durations.get(it.nodeid, 0.0))
    if drop:
        config.hook.pytest_deselected(items=drop)
    items[:] = keep
