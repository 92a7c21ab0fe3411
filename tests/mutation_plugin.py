"""The pytest side of `make mutation` (tools/mutation.py), loaded by tests/conftest.py only
under mutmut (MUTANT_UNDER_TEST set): each mutant's run is narrowed to the unit tests of the
mutated module ([tool.cmnet.mutation.tests] in pyproject.toml), fastest first, so a mutant
counts as killed only by its own module's tests; the forked runs skip GC over the inherited
heap, use one thread each (mutants run side by side, one per core) and leave no tmp_path."""

import gc
import json
import os
import shutil
import tomllib
from pathlib import Path

import pytest
import torch

from cmnet._torchvision import import_torchvision

import_torchvision()  # mutmut's fork server: load once what every mutant's run imports


def _mutant_under_test() -> str:
    name = os.environ.get("MUTANT_UNDER_TEST", "")
    return name if "__mutmut_" in name else ""


def pytest_sessionstart(session):
    if _mutant_under_test():
        gc.freeze()  # the forked test process's inherited heap is never collected: no GC pauses over it
        torch.set_num_threads(1)  # mutants run side by side, one per core: no oversubscribed spinning threads


def pytest_sessionfinish(session, exitstatus):
    factory = getattr(session.config, "_tmp_path_factory", None)  # thousands of mutant runs: no tmp_path left
    if factory is not None:
        shutil.rmtree(factory.getbasetemp(), ignore_errors=True)


def pytest_collection_modifyitems(config, items):
    mutant = _mutant_under_test()
    if not mutant:
        return
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
