import os

import pytest
import torch

# `make mutation` (tools/mutation.py) runs these tests under mutmut, which sets MUTANT_UNDER_TEST:
# then tests/mutation_plugin.py narrows each mutant's run to its own module's tests
_MUTATION = "MUTANT_UNDER_TEST" in os.environ
pytest_plugins = ["mutation_plugin"] if _MUTATION else []


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
    # under mutmut (every phase sets MUTANT_UNDER_TEST) the tests run in mutants/, not the checkout
    session.config._git_before = None if _MUTATION else _git_status()


def pytest_sessionfinish(session, exitstatus):
    before, after = getattr(session.config, "_git_before", None), _git_status()
    if before is None or after is None or getattr(session.config.option, "collectonly", False):
        return
    new = sorted(after - before)
    if new:
        print("\nthe tests changed the checkout (git status):\n  " + "\n  ".join(new))
        session.exitstatus = 1
