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
    session.config._git_before = _git_status()


def pytest_sessionfinish(session, exitstatus):
    before, after = getattr(session.config, "_git_before", None), _git_status()
    if before is None or after is None or getattr(session.config.option, "collectonly", False):
        return
    new = sorted(after - before)
    if new:
        print("\nthe tests changed the checkout (git status):\n  " + "\n  ".join(new))
        session.exitstatus = 1
