"""After a study failed on its device before any epoch (`device=cuda` on a machine without one),
its name is free again: the fold folders hold nothing trained, so a rerun with another device
makes them again instead of asking for --discard-changed (issue 35)."""

import pytest
import torch

from test_training import tiny

from cmnet.study.plan import StudyError
from cmnet.study.run import run_study


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA (the device must fail)")
def test_a_name_is_free_after_a_device_failure_that_trained_nothing(tmp_path):
    fold = tmp_path / "runs" / "tiny" / "seed0" / "sub01"
    with pytest.raises(StudyError):
        run_study(tiny(tmp_path, epochs=1, device="cuda", folds=["sub01"]), progress=False)
    assert fold.is_dir() and not (fold / "done.json").exists()  # the failed fold's folder, no epoch in it
    s = run_study(tiny(tmp_path, epochs=1, device="cpu", folds=["sub01"]), progress=False)  # was refused
    assert (fold / "done.json").is_file() and s["seeds"][0]["folds"] == 1
