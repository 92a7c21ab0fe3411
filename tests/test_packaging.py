"""The supported Pythons and the pinned set: pyproject.toml, environment.yml and the pin check agree."""

import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import check_pins  # noqa: E402


def test_supported_pythons_are_3_11_to_3_13():
    reqs, spec = check_pins.project()
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
