"""cmnet.report.narrative and the tables and figures of chapters 4–8: the words that depend on a
result, checked against a reference computation on hand-made studies."""

import io
import json
import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from scipy.stats import binomtest  # noqa: E402

from cmnet.io import write_bytes, write_text  # noqa: E402
from cmnet.report import narrative as N, tables  # noqa: E402
from cmnet.report.paper import paper_numbers, paper_table1  # noqa: E402
from cmnet.report.plots import annotation_colours, confusion_figure, learning_curves  # noqa: E402
from cmnet.statistics.verdicts import clip_table, compare  # noqa: E402

CLASSES = ["a", "b", "c"]


def _study(root, preds_by_subject, k=None, q=None, epochs=None):
    """A finished study, one seed, one fold per subject: preds_by_subject: subject → (labels, preds)."""
    for subject, (labels, preds) in preds_by_subject.items():
        d = root / "seed0" / subject
        d.mkdir(parents=True)
        keys = [f"{subject}/c{i}" for i in range(len(labels))]
        rows = ["key,subject,label,pred"] + [f"{key},{subject},{y},{p}" for key, y, p in zip(keys, labels, preds)]
        write_text(d / "predictions.csv", "\n".join(rows) + "\n")
        acc = float(np.mean(np.array(labels) == np.array(preds)))
        write_text(d / "done.json", json.dumps({"fold": subject, "n_test": len(labels), "accuracy": acc}))
        write_text(d / "metrics.jsonl", "".join(json.dumps(r) + "\n" for r in (epochs or [
            {"epoch": 1, "train_loss": 2.0, "train_ce": 1.1, "train_acc": 0.3},
            {"epoch": 2, "train_loss": 1.0, "train_ce": 0.5, "train_acc": 0.9}])))
        if k is not None:
            buf = io.BytesIO()
            n = len(labels)
            np.savez(buf, keys=np.array(keys), k=np.tile(k, (n, 1)), q=np.tile(q, (n, 1)), q_mean=np.tile(q, (n, 1)),
                     q_std=np.full((n, len(q)), 0.05), truth=np.tile(q, (n, 1)), apex=np.full(n, 3), eta=np.zeros(1))
            write_bytes(d / "intensity.npz", buf.getvalue())
    return root


def _labels(n=6):
    return [CLASSES[i % 3] for i in range(n)]


@pytest.fixture
def pair(tmp_path):
    """A good study (every clip right) and a weak one (a third right), six subjects of six clips."""
    subs = [f"s{i}" for i in range(6)]
    good = _study(tmp_path / "good", {s: (_labels(), _labels()) for s in subs})
    weak = _study(tmp_path / "weak", {s: (_labels(), ["a"] * 6) for s in subs})
    summ = {"summary": {"pooled_accuracy": {"mean": 1.0, "ci_low": 1.0, "ci_high": 1.0, "n": 1}}}
    return {"good": (summ, good), "weak": ({"accuracy": 1 / 3}, weak)}


def test_standing_says_above_and_below_from_the_subject_clustered_interval(pair):
    t = N.standing(pair, "weak", CLASSES, n_boot=500)
    ref = compare(clip_table(pair["good"][1]), clip_table(pair["weak"][1]), CLASSES, ("accuracy",), n_boot=500).iloc[0]
    good = t.set_index("row").loc["good"]
    assert good.delta == pytest.approx(2 / 3) and good.delta == pytest.approx(ref.delta)
    assert good.lo == pytest.approx(ref.ci_low) and good.relation == "above"
    assert t.set_index("row").loc["weak", "interval over seeds"] == "deterministic"
    assert N.standing_sentences(t) == f"- **good** (100.0 %) is above weak: +66.7 [+66.7, +66.7] pp (row − weak, same seeds and clips), p < 0.001."
    assert N.standing_summary(t) == "Every row is above weak."
    flipped = N.standing(pair, "good", CLASSES, n_boot=500)
    assert flipped.set_index("row").loc["weak", "relation"] == "below"
    assert N.standing_summary(flipped, "deep row") == "Every deep row is below good."
    for rel, want in ((["above", "below", "indistinguishable from"], "1 of 3 deep rows is above good, 1 below it and 1 "),
                      (["above", "above", "below"], "2 of 3 deep rows are above good, 1 below it and 0 ")):
        mixed = pd.DataFrame({"relation": [None] + rel})  # the reference row has no relation
        mixed.attrs["name"] = "good"
        assert N.standing_summary(mixed, "deep row").startswith(want)
    page = N.standing_page(flipped)
    assert list(page.columns) == ["row", "accuracy", "interval over seeds", "Δ acc (pp), row − good, same seeds and clips", "vs good"]
    assert page.iloc[0]["Δ acc (pp), row − good, same seeds and clips"] == "—" and page.iloc[1]["vs good"] == "below good" and page.iloc[0]["vs good"] == "—"


def test_k_spread_compares_k_with_the_prototypes_step(tmp_path):
    q = np.array([0.2, 0.4, 0.6, 0.8, 1.0, 0.6])  # steps 0.2 ×4, 0.4: mean 0.24
    flat = N.k_spread(_study(tmp_path / "flat", {"s0": (_labels(3), _labels(3))}, k=0.5 + 0.01 * np.arange(6), q=q))
    assert flat["k_range"] == pytest.approx(0.05) and flat["step"] == pytest.approx(0.24) and flat["flat"]
    assert flat["share_below_step"] == 1.0 and flat["clips"] == 3
    moving = N.k_spread(_study(tmp_path / "moving", {"s0": (_labels(3), _labels(3))}, k=q * 2, q=q))
    assert not moving["flat"] and moving["k_range"] == pytest.approx(1.6)
    assert "reduces to its baseline" in N.k_spread_sentence("X", flat)
    assert "does not reduce" in N.k_spread_sentence("X", moving)
    assert N.small(8.3e-05) == "0.000083" and N.small(0.0114) == "0.011" and N.small(0.24) == "0.240"


def test_rarely_predicted_reads_the_confusion_columns():
    cm = np.array([[10, 0, 0], [9, 1, 0], [0, 0, 10]])  # b: 1 prediction for 10 clips; c: 10 for 10
    assert N.rarely_predicted(cm, CLASSES) == [("b", 1, 10)]
    assert N.rarely_sentence("M", cm, CLASSES).startswith("M almost never predicts *b* (")
    assert "every class" in N.rarely_sentence("M", np.eye(3) * 5, CLASSES)


def test_learning_table_row_against_the_files(tmp_path):
    subs = {f"s{i}": (_labels(), _labels()) for i in range(4)}
    root = _study(tmp_path / "st", subs)
    row = tables.learning_row(root, 3)
    assert row["train acc"] == pytest.approx(0.9) and row["test acc"] == 1.0
    assert row["loss"] == "2.00 → 1.00" and row["CE"] == "1.10 → 0.50" and row["learned"] == "yes"
    # 18 training clips per fold (24 − 6): 0.9 of them right is far above chance
    assert binomtest(16, 18, 1 / 3, alternative="greater").pvalue < 0.05
    assert tables.learned_word(0.4, 18, 1 / 3) == "no: training accuracy not above chance"
    assert tables.learned_word(0.9, 18, 1 / 3, 1.0, 1.2) == "no: its loss did not fall"
    fit = N.fit_sentence("X", row, 1 / 3)
    assert "**learned**" in fit and f"ln C = {math.log(3):.2f}" in fit and "100.0 %" in fit


def test_page_tables_carry_the_theme_class_and_padding():
    html = N.page(pd.DataFrame({"row": ["a"], "acc": [0.5]}), percent=("acc",)).to_html()
    assert 'class="dataframe"' in html and "padding" in html and "50.0 %" in html
    t1 = N.paper_table1_page(paper_table1(paper_numbers()))
    html = t1.to_html()
    assert 'class="dataframe"' in html and "padding" in html and "74.05" in html and "—" in html
    assert "blank level0" not in html  # no index column


def test_ablation_page_keeps_the_columns_a_reader_compares():
    t = pd.DataFrame({"ours acc (pooled)": [40.0], "± std": [1.0], "acc 95% CI": ["[30.0, 50.0]"],
                      "ours UF1 (pooled)": [30.0], "Δ acc: ref − row": ["+1.0 [−2.0, +4.0]"], "p (acc)": [0.5],
                      "paper Acc CASME II": [70.0], "paper F1 SAMM": [60.0]}, index=pd.Index(["r"], name="method"))
    page = N.ablation_page(t, "ref")
    assert list(page.columns) == ["row", "acc (%)", "95 % interval (%)", "UF1 (%)", "Δ acc (pp), ref − row, same seeds and clips", "p",
                                  "paper acc, CASME II (%)"]


def test_confusion_digits_follow_the_cell_brightness():
    cm = np.array([[50, 0], [1, 49]])
    colours = annotation_colours(cm)
    assert colours[0, 0] == "white" and colours[0, 1] == "black"
    fig = confusion_figure(cm, ["x", "y"], "t")
    texts = {t.get_text(): t.get_color() for t in fig.axes[0].texts}
    assert texts["50"] == "white" and texts["0"] == "black"
    plt.close(fig)


def test_learning_curves_title_sits_above_the_panel_titles(tmp_path):
    root = _study(tmp_path / "st", {"s0": (_labels(), _labels())})
    fig = learning_curves(root, title="A study")
    fig.canvas.draw()
    sup = fig._suptitle.get_window_extent()
    assert all(sup.y0 >= ax.title.get_window_extent().y1 for ax in fig.axes)
    plt.close(fig)
