"""tools/mutation.py (the `make mutation` report): the device-only classifier and the
per-module counts, on hand-made mutant results (no mutmut run)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))

import mutation  # noqa: E402


@pytest.mark.parametrize("removed, added, want", [
    ("j = torch.arange(n - 1, device=device)", "j = torch.arange(n - 1, device=None)", True),
    ("j = torch.arange(n - 1, device=device)", "j = torch.arange(n - 1, )", True),
    ("i = torch.arange(n, device=device)[:, None]", "i = torch.arange(n, )[:, None]", True),
    ("dev = frames.device", "dev = None", True),
    ("r = torch.randint(0, n, (b, m), device=dev, generator=g)", "r = torch.randint(0, n, (b, m), generator=g)", True),
    ("q = f(apex.to(self.eta_logit.device), n)", "q = f(apex.to(None), n)", True),
    ("ev = evaluate(model, cache, cfg, device, amp)", "ev = evaluate(model, cache, cfg, None, amp)", True),
    ("a = apex.to(dev, dtype)", "a = apex.to(None, dtype)", True),
    # not only the device: a number, a dtype, the generator, another argument
    ("ev = evaluate(model, cache, cfg, device, amp)", "ev = evaluate(model, cache, None, device, amp)", False),
    ("r = torch.randint(0, n, (b, m), device=dev, generator=g)", "r = torch.randint(1, n, (b, m), device=dev, generator=g)", False),
    ("x = torch.randn(s, device=d, dtype=t, generator=g)", "x = torch.randn(s, device=d, generator=g)", False),
    ("x = torch.randn(s, device=d, dtype=t, generator=g)", "x = torch.randn(s, device=None, dtype=t)", False),
    ("dev = frames.device", "dev = frames", False),
])
def test_device_only(removed, added, want):
    assert mutation.device_only(removed, added) is want


def test_report_counts_per_module_and_group(monkeypatch):
    diffs = {
        "cmnet.metrics.x_uf1__mutmut_2": ["-    return f1.mean()", "+    return f1.sum()"],
        "cmnet.losses.distillation.x__others__mutmut_3": ["-    j = torch.arange(n, device=device)",
                                                          "+    j = torch.arange(n, device=None)"],
    }
    monkeypatch.setattr(mutation, "diff_of", lambda name: diffs.get(name, []))
    stat = {"cmnet.metrics.x_uf1__mutmut_1": "killed", "cmnet.metrics.x_uf1__mutmut_2": "survived",
            "cmnet.metrics.x_uar__mutmut_1": "timeout", "cmnet.metrics.x_uar__mutmut_2": "no tests",
            "cmnet.metrics.x_uar__mutmut_3": "not checked",
            "cmnet.losses.distillation.x__others__mutmut_3": "survived",
            "cmnet.losses.tendency.x_wrst_p__mutmut_1": "killed",
            "cmnet.plots.x_figure__mutmut_1": "survived"}  # not a listed module: not counted
    rep = mutation.build_report(stat, seconds=60.0, children=2)
    rows = {r["module"]: r for r in rep["modules"]}
    m = rows["cmnet/metrics.py"]
    assert (m["mutants"], m["killed"], m["timeout"], m["survived"], m["no tests"], m["not checked"]) == (5, 1, 1, 1, 1, 1)
    assert m["score"] == pytest.approx(2 / 4)
    d = rows["cmnet/losses/distillation.py"]
    assert (d["mutants"], d["equivalent"], d["survived"]) == (1, 1, 0) and d["score"] != d["score"]  # 0/0: NaN
    g = rows["cmnet/losses/ (all)"]
    assert (g["mutants"], g["killed"], g["equivalent"]) == (2, 1, 1) and g["score"] == pytest.approx(1.0)
    assert {s["mutant"] for s in rep["survivors"]} == {"cmnet.losses.distillation.x__others__mutmut_3",
                                                       "cmnet.metrics.x_uf1__mutmut_2", "cmnet.metrics.x_uar__mutmut_2",
                                                       "cmnet.metrics.x_uar__mutmut_3"}
    text = mutation.markdown(rep)
    assert "| cmnet/metrics.py | 5 | 1 | 1 | 1 | 1 | 0 | 1 | 50.0% (below target) |" in text
    assert "device placement only" in text
    assert "| cmnet/losses/distillation.py | 1 | 0 | 0 | 0 | 0 | 1 | 0 | — |" in text
