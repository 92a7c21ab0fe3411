"""The committed tables change only by publish (issue 35): a study or report from the repository's
root under a committed profile's name (results/cpu-*/ tracked by git) is refused before anything
is trained or written, and says where to write instead; `git status` stays clean."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cmnet.params import ConfigError
from cmnet.runs.committed import refuse_committed, tracked_files
from cmnet.variants import variant_config

ROOT = Path(__file__).resolve().parents[1]
STUDY = "cpu-cmnet_printed"


@pytest.fixture
def checkout(tmp_path):
    """A git checkout holding the committed profile and its committed tables (no .gitignore:
    anything a command writes shows in `git status`)."""
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "params", repo / "params")
    shutil.copytree(ROOT / "results" / STUDY, repo / "results" / STUDY)
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@localhost"]
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(git + ["add", "-A"], cwd=repo, check=True)
    subprocess.run(git + ["commit", "-qm", "edition"], cwd=repo, check=True)
    return repo


def _status(repo: Path) -> str:
    return subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=repo, capture_output=True,
                          text=True, check=True).stdout


@pytest.mark.parametrize("command", ["study", "report"])
def test_a_committed_profiles_study_from_the_root_leaves_git_clean(checkout, command):
    env = os.environ | {"PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    r = subprocess.run([sys.executable, "-m", "cmnet.cli", command, "params/cpu.yaml", "--variant", "cmnet_printed",
                        "--set", "synth_subjects=4", "--set", "kfold_k=2", "--set", "epochs=1", "--quiet"],
                       cwd=checkout, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1, r.stderr[-2000:]
    assert r.stderr.splitlines() == [
        f"error: results/{STUDY}/ holds the committed edition's tables ({len(list((ROOT / 'results' / STUDY).iterdir()))} "
        "files tracked by git), which change only by "
        "`make publish`: write this study's tables elsewhere, e.g. --set results_dir=_build/results (a chapter: its "
        "results_dir parameter)"]
    assert _status(checkout) == ""  # nothing trained, generated or rewritten


def test_elsewhere_or_publish_is_allowed(checkout, tmp_path):
    committed = variant_config("cpu", "cmnet_printed", params_dir=checkout / "params",
                               results_dir=str(checkout / "results"))
    assert sorted(Path(p).name for p in tracked_files(checkout / "results" / STUDY)) == sorted(
        p.name for p in (ROOT / "results" / STUDY).iterdir())  # every committed table, as git lists them
    with pytest.raises(ConfigError, match="holds the committed edition's tables"):
        refuse_committed(committed)
    refuse_committed(committed, publish=True)  # make repairs: the run that refreshes them
    refuse_committed(variant_config("cpu", "cmnet_printed", params_dir=checkout / "params",
                                    results_dir=str(checkout / "_build" / "results")))
    assert tracked_files(tmp_path / "not_a_checkout") == []  # outside git nothing is committed
