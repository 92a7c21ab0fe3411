"""A chapter runs where Jupyter runs it (issue 35): from notebooks/ (JupyterLab, nbconvert,
``jupyter execute``) as from the repository's root (papermill, tests/test_notebooks.py), and a
bad parameter ends the cell with the command line's one line."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cmnet.notebook import enter_project_root, project_root

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _env():
    """The kernel imports this checkout's cmnet (not another install's)."""
    return os.environ | {"PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
                         "OMP_NUM_THREADS": "1"}


def _project(tmp_path: Path, chapter: str) -> Path:
    """A checkout as a chapter sees it: params/ and notebooks/<chapter>."""
    proj = tmp_path / "proj"
    shutil.copytree(ROOT / "params", proj / "params")
    (proj / "notebooks").mkdir()
    shutil.copy2(ROOT / "notebooks" / chapter, proj / "notebooks" / chapter)
    return proj


def test_project_root_is_found_from_below_and_only_inside_a_checkout(tmp_path, monkeypatch):
    proj = tmp_path / "proj"
    (proj / "params").mkdir(parents=True)
    (proj / "params" / "base.yaml").write_text("name: x\n")
    (proj / "notebooks" / "deeper").mkdir(parents=True)
    assert project_root(proj / "notebooks" / "deeper") == proj.resolve()
    assert project_root(tmp_path) is None  # above it: no checkout
    monkeypatch.chdir(proj / "notebooks")
    assert enter_project_root() == proj.resolve() and Path.cwd() == proj.resolve()
    assert enter_project_root() is None and Path.cwd() == proj.resolve()  # at the root: nothing moves
    monkeypatch.chdir(tmp_path)
    assert enter_project_root() is None and Path.cwd() == tmp_path.resolve()


def test_a_chapter_executed_from_notebooks_writes_where_the_command_line_does(tmp_path):
    """`jupyter execute` (nbconvert's executor) starts the kernel in notebooks/: chapter 1 on
    the smoke profile reads params/smoke.yaml and generates SynthME into the root's data/."""
    proj = _project(tmp_path, "01_explore_data.ipynb")
    out = tmp_path / "executed.ipynb"
    r = subprocess.run([str(BIN / "jupyter"), "execute", f"--output={out}", "01_explore_data.ipynb"],
                       cwd=proj / "notebooks", env=_env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert any((proj / "data").glob("synthme-*")), sorted(p.name for p in proj.iterdir())
    assert sorted(p.name for p in (proj / "notebooks").iterdir()) == ["01_explore_data.ipynb"]
    cells = json.loads(out.read_text())["cells"]
    assert not [o for c in cells for o in c.get("outputs", []) if o["output_type"] == "error"]
    printed = "".join("".join(o.get("text", "")) for c in cells for o in c.get("outputs", []))
    assert f"cmnet: working folder {proj.resolve()}" in printed


@pytest.mark.parametrize("params, line", [
    ({"profile": "no_such_profile"}, "error: params file params/no_such_profile.yaml not found"),
    ({"runs_dir": 5}, "error: the folders given (runs_dir, results_dir, cache_dir, data_dir): parameter 'runs_dir' "
                      "must be str, got 5"),
], ids=["unknown profile", "wrong type"])
def test_a_bad_parameter_is_the_cells_one_line_error(tmp_path, monkeypatch, params, line):
    import papermill as pm

    for k, v in _env().items():
        monkeypatch.setenv(k, v)
    proj = _project(tmp_path, "03_model_losses.ipynb")
    with pytest.raises(pm.PapermillExecutionError) as e:
        pm.execute_notebook(str(proj / "notebooks" / "03_model_losses.ipynb"), str(tmp_path / "out.ipynb"),
                            parameters=params, kernel_name="python3", progress_bar=False,
                            cwd=str(proj / "notebooks"))
    assert e.value.ename == "ConfigError"
    assert e.value.traceback == [line]  # the command line's line, no traceback
