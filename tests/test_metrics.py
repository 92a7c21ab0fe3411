"""Metrics against scikit-learn, including folds where classes are absent."""

import warnings

import numpy as np
import pytest
from sklearn import metrics as skm

from cmnet.metrics import accuracy, all_metrics, confusion, f1_paper, uar, uf1


def _sk(t, p, labels):
    prec, rec, f1, _ = skm.precision_recall_fscore_support(t, p, labels=labels, zero_division=0)
    return prec, rec, f1


@pytest.mark.parametrize("seed", range(5))
def test_against_sklearn_random(seed):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 5, 60)
    p = np.where(rng.random(60) < 0.5, t, rng.integers(0, 5, 60))
    prec, rec, f1 = _sk(t, p, [0, 1, 2, 3, 4])
    assert accuracy(t, p) == pytest.approx(skm.accuracy_score(t, p))
    assert uar(t, p) == pytest.approx(skm.recall_score(t, p, average="macro"))
    assert uf1(t, p) == pytest.approx(skm.f1_score(t, p, average="macro"))
    P, R = prec.mean(), rec.mean()
    assert f1_paper(t, p) == pytest.approx(2 * P * R / (P + R))
    # the paper's F1 differs from the mean of per-class F1 on such inputs
    assert abs(f1_paper(t, p) - uf1(t, p)) > 1e-4
    np.testing.assert_array_equal(confusion(t, p, labels=range(5)), skm.confusion_matrix(t, p, labels=range(5)))


def test_absent_classes_follow_the_documented_rule_without_warnings():
    # a LOSO fold: the subject shows only classes 0 and 2; the model also predicts 3
    t = np.array([0, 0, 2, 2, 2])
    p = np.array([0, 3, 2, 2, 0])
    labels = [0, 1, 2, 3, 4]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = all_metrics(t, p, labels)
    active = [0, 2, 3]  # classes in truth or predictions
    prec, rec, f1 = _sk(t, p, active)
    assert got["uar"] == pytest.approx(rec.mean())  # (1/2 + 2/3 + 0) / 3
    assert got["uar"] == pytest.approx((0.5 + 2 / 3 + 0) / 3)
    assert got["uf1"] == pytest.approx(f1.mean())
    P, R = prec.mean(), rec.mean()
    assert got["f1_paper"] == pytest.approx(2 * P * R / (P + R))
    assert all(np.isfinite(v) for v in got.values())


def test_all_wrong_is_zero_not_nan():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = all_metrics([0, 0, 0], [1, 1, 1], labels=[0, 1, 2])
    assert m == {"accuracy": 0.0, "f1_paper": 0.0, "uf1": 0.0, "uar": 0.0}


def test_string_labels_and_perfect_scores():
    t = ["happiness", "others", "disgust", "others"]
    m = all_metrics(t, t)
    assert m == {"accuracy": 1.0, "f1_paper": 1.0, "uf1": 1.0, "uar": 1.0}
    cm = confusion(t, t, labels=["disgust", "happiness", "others", "surprise"])
    np.testing.assert_array_equal(cm, np.diag([1, 1, 2, 0]))


def test_bad_inputs():
    with pytest.raises(ValueError, match="entries"):
        accuracy([0, 1], [0])
    with pytest.raises(ValueError, match="no predictions"):
        uf1([], [])


def test_confusion_counts_are_integers_and_skip_labels_outside_the_list():
    """A truth or prediction outside ``labels`` is counted in no cell (it is an error for the
    scores): cells equal scikit-learn's confusion_matrix restricted to the labels."""
    t = ["a", "b", "x", "a", "b", "a"]
    p = ["a", "y", "b", "b", "b", "x"]
    cm = confusion(t, p, labels=["b", "a"])
    assert cm.dtype.kind == "i"
    np.testing.assert_array_equal(cm, skm.confusion_matrix(t, p, labels=["b", "a"]))
    assert cm.sum() == 3  # ("a", "a"), ("a", "b"), ("b", "b"); the three pairs with x or y are left out


def test_predictions_outside_the_labels_are_errors_for_every_score():
    """With ``labels`` given, a prediction outside them is wrong and adds no class: the
    averages run over the active labels only (scikit-learn with labels=active)."""
    t = ["a", "a", "b", "b", "c", "a"]
    p = ["a", "zz", "b", "zz", "zz", "b"]
    labels = ["c", "b", "a"]
    active = ["c", "b", "a"]
    prec, rec, f1 = _sk(t, p, active)
    P, R = prec.mean(), rec.mean()
    assert f1_paper(t, p, labels) == pytest.approx(2 * P * R / (P + R))
    assert uar(t, p, labels) == pytest.approx(rec.mean())
    assert uf1(t, p, labels) == pytest.approx(f1.mean())
    assert accuracy(t, p, labels) == pytest.approx(2 / 6)
    assert f1_paper(t, p) != pytest.approx(f1_paper(t, p, labels))  # without labels "zz" is a class


def test_one_active_class_and_none():
    assert all_metrics(["a", "a"], ["a", "a"]) == {"accuracy": 1.0, "f1_paper": 1.0, "uf1": 1.0, "uar": 1.0}
    # every truth and prediction outside the labels: no active class, every score 0
    assert all_metrics(["x", "y"], ["y", "x"], labels=["a", "b"]) == {"accuracy": 0.0, "f1_paper": 0.0, "uf1": 0.0,
                                                                       "uar": 0.0}
    with pytest.raises(ValueError, match="^no predictions to score$"):
        accuracy([], [])


def test_a_right_answer_outside_the_labels_is_an_error_for_every_metric():
    """("x", "x") with x not in labels: no class gains a true positive, and accuracy agrees
    (it once counted it correct while F1 and UAR did not)."""
    t, p, labels = ["x", "a", "b", "a"], ["x", "a", "a", "a"], ["a", "b"]
    assert accuracy(t, p, labels) == pytest.approx(2 / 4)
    assert accuracy(t, p) == pytest.approx(3 / 4)  # without labels, "x" is a class
    assert confusion(t, p, labels).trace() == 2
