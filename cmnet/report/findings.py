"""The findings in sentences, computed: the claims' verdicts counted, CMNet against its baseline
and against the plain classifier, and the repairs one at a time (the introduction's opening and
chapters 9–10 read them).

    findings(claims, summaries, plain, repairs_root, classes)   the introduction's paragraph
    repair_studies(root)                the held-out repairs studies committed under root/ (results/)
    missing_repairs(root)               those not there yet
    carried_by(table)                   which repairs carry the gap, from claims.repairs_table
    repairs_sentence(table, gap)        that in words, with the gap itself

The repairs studies are run apart from the book (params/cpu_repairs.yaml, ``make repairs``) on a
SynthME drawn with another generator seed than the one the repairs were chosen on, and committed
under the repository's results/cpu_repairs-<variant>/.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..config import DATASET_NAMES
from ..runs.layout import PREDICTIONS_TABLE, SUMMARY
from .prose import chapter_ref, count, estimate_pp, listing, pct, pp, relation
from ..statistics.verdicts import EXCLUDED, HOLDS, NOT_DISTINGUISHABLE, REVERSED

REPAIRS_PROFILE = "cpu_repairs"
REPAIRS_COMMAND = "make repairs"
MDE = "smallest detectable (pp)"
REPAIRED_VS_PRINTED = "Our repairs help CMNet (repaired vs as printed)"
BASELINE_CLAIM = "Table 3: CMNet beats its ResNet + LSTM baseline (L_C alone)"


def repair_variants() -> list[str]:
    from ..variants import ALL_REPAIRS, REPAIR_ABLATIONS

    return [ALL_REPAIRS, "cmnet_printed", *REPAIR_ABLATIONS]


def repair_studies(root: str | Path = "results", profile: str = REPAIRS_PROFILE) -> dict[str, Path]:
    """variant → root/<profile>-<variant>/ for the repairs studies whose tables are committed
    (summary and per-clip predictions)."""
    out = {}
    for v in repair_variants():
        f = Path(root) / f"{profile}-{v}"
        if (f / SUMMARY).is_file() and (f / PREDICTIONS_TABLE).is_file():
            out[v] = f
    return out


def missing_repairs(root: str | Path = "results", profile: str = REPAIRS_PROFILE) -> list[str]:
    have = repair_studies(root, profile)
    return [v for v in repair_variants() if v not in have]


def _verdict_word(v: str) -> str:
    for w in (REVERSED, HOLDS, EXCLUDED, NOT_DISTINGUISHABLE):
        if str(v).startswith(w):
            return w
    return str(v)


def carried_by(table: pd.DataFrame, metric: str = "accuracy") -> dict[str, list[str]]:
    """From the repairs table (cmnet.statistics.claims.repairs_table): the repairs whose removal
    from the configuration with all five repairs costs distinguishably ("removing"), whose addition alone to
    the printed one gains distinguishably ("adding"), either reversed ("reversed"), and the rest."""
    t = table[table.metric == metric]
    out = {"removing": [], "adding": [], "reversed": [], "neither": []}
    for repair, g in t.groupby(t.claim.str.split(":").str[0], sort=False):
        words = {("removing" if "removing" in c else "adding"): _verdict_word(v) for c, v in zip(g.claim, g.verdict)}
        name = repair.replace("_", " ")
        for side in ("removing", "adding"):
            if words.get(side) == HOLDS:
                out[side].append(name)
        if REVERSED in words.values():
            out["reversed"].append(name)
        if HOLDS not in words.values() and REVERSED not in words.values():
            out["neither"].append(name)
    return out


def repairs_sentence(table: pd.DataFrame, gap: dict | None = None, metric: str = "accuracy") -> str:
    """Which repairs carry the repaired-vs-printed gap, in words from the verdicts; ``gap``: the
    gap's own row (delta, ci_low, ci_high as fractions, verdict) on the same data."""
    c = carried_by(table, metric)
    t = table[table.metric == metric]
    parts = []
    if gap is not None:
        parts.append(f"on the held-out SynthME the configuration with all five repairs is "
                     f"{estimate_pp(gap['delta'], gap['ci_low'], gap['ci_high'])} in {metric} from the printed one "
                     f"({_verdict_word(gap['verdict'])})")
    if c["removing"]:
        parts.append(f"removing {listing(c['removing'])} from all five repairs costs distinguishably")
    if c["adding"]:
        parts.append(f"adding {listing(c['adding'])} alone to the printed one gains distinguishably")
    if c["reversed"]:
        parts.append(f"{listing(c['reversed'])} goes the other way (a distinguishable loss)")
    if not (c["removing"] or c["adding"] or c["reversed"]):
        parts.append("no single repair's removal or addition can be told from noise, so the gap is carried jointly "
                     "or by effects below the design's reach")
    elif c["neither"]:
        parts.append(f"{listing(c['neither'])}: not distinguishable either way")
    if len(t):
        parts.append(f"smallest detectable differences {_pp_range(t[MDE])}")
    text = "; ".join(parts) + "."
    return text[0].upper() + text[1:]


def repairs_gap(runs: dict[str, Path], classes, metric: str = "accuracy") -> dict | None:
    """Repaired − printed on the repairs studies (None unless both are there), judged alone."""
    from ..statistics.verdicts import clip_table, compare, verdict

    from ..variants import ALL_REPAIRS

    if not {ALL_REPAIRS, "cmnet_printed"} <= set(runs):
        return None
    c = compare(clip_table(runs[ALL_REPAIRS]), clip_table(runs["cmnet_printed"]), classes, (metric,)).iloc[0]
    return {"delta": c.delta, "ci_low": c.ci_low, "ci_high": c.ci_high, "mde": c.mde,
            "verdict": verdict(c.delta, c.p, c.mde)}


def repairs_status(root: str | Path, classes, profile: str = REPAIRS_PROFILE,
                   short: bool = False) -> tuple[pd.DataFrame, str]:
    """The repairs table of the committed studies (empty when fewer than two) and one sentence:
    what carries the gap, and which studies are still missing (named unless ``short``) with the
    command that makes them."""
    from ..statistics.claims import repairs_table

    runs = repair_studies(root, profile)
    missing = missing_repairs(root, profile)
    table = repairs_table(runs, classes) if len(runs) >= 2 else pd.DataFrame()
    text = repairs_sentence(table, repairs_gap(runs, classes)) if len(table) else ""
    if missing and short:
        text += (f" {len(repair_variants()) - len(missing)} of the {len(repair_variants())} held-out repairs studies "
                 f"are committed so far (`{REPAIRS_COMMAND}` runs the others).")
    elif missing:
        have = len(repair_variants()) - len(missing)
        text += (f" {have} of the {len(repair_variants())} held-out repairs studies are committed so far; missing: "
                 f"{', '.join(missing)} (`{REPAIRS_COMMAND}` runs them, then commit results/{profile}-*).")
    return table, text.strip()


def _pp_range(points) -> str:
    """'3.1–7.2 pp' from a column in points (one value: '3.1 pp')."""
    lo, hi = pp(points.min() / 100, signed=False), pp(points.max() / 100, signed=False)
    return lo if lo == hi else f"{lo.removesuffix(' pp')}–{hi}"


def _estimate(row) -> str:
    """A claims-table row's Δ and interval, the unit once: '−0.8 [−3.3, +1.6] pp'."""
    return f"{pp(row['Δ (pp)'] / 100).removesuffix(' pp')} {str(row['95% interval (pp)']).replace('-', '−')} pp"


def _claim_row(claims: pd.DataFrame, claim: str, metric: str = "accuracy"):
    sel = claims[(claims.claim == claim) & (claims.metric == metric)]
    return sel.iloc[0] if len(sel) else None


def verdict_counts(claims: pd.DataFrame, metric: str = "accuracy") -> str:
    """'of the N orderings …, k hold here (…), r are reversed …' from the claims table."""
    t = claims[(claims.metric == metric) & (claims.claim != REPAIRED_VS_PRINTED)]
    words = t.verdict.map(_verdict_word)
    held = list(t.claim[words == HOLDS])
    out = [f"of the paper's {len(t)} orderings checked in {metric}, {len(held)} {'holds' if len(held) == 1 else 'hold'} "
           "here" + (f" ({'; '.join(held)})" if held else "")]
    for w, one, many in ((REVERSED, "is reversed", "are reversed"),
                         (EXCLUDED, "has the paper's effect excluded", "have the paper's effect excluded")):
        n = int((words == w).sum())
        if n:
            out.append(f"{n} {one if n == 1 else many}")
    idle = int(t.verdict.astype(str).str.startswith("not tested here").sum())
    if idle:  # cmnet.report.scope.mark_inactive: the loss term the claim adds never acted
        out.append(f"{idle} {'is' if idle == 1 else 'are'} not tested (the loss term {'it adds' if idle == 1 else 'they add'} "
                   "was inactive)")
    nd = t[words == NOT_DISTINGUISHABLE]
    if len(nd) == 1:
        out.append(f"1 cannot be told from noise at its smallest detectable difference ({_pp_range(nd[MDE])})")
    elif len(nd):
        out.append(f"{len(nd)} cannot be told from noise at their smallest detectable differences "
                   f"({_pp_range(nd[MDE])})")
    return ", ".join(out)


def _against_plain(study: Path, plain: Path, classes) -> str:
    from ..statistics.verdicts import clip_table, compare

    c = compare(clip_table(study), clip_table(plain), classes, ("accuracy",)).iloc[0]
    return f"{relation(c.ci_low, c.ci_high)} it ({estimate_pp(c.delta, c.ci_low, c.ci_high)})"


def findings(claims: pd.DataFrame, summaries: dict, plain: Path | None, repairs_root: Path, classes,
             included: bool = False) -> str:
    """The findings paragraph (markdown), every number computed: the introduction's (``included``:
    a file its page includes) and the summary page's (glued)."""
    s = {v: summaries[v]["summary"]["pooled_accuracy"] for v in ("cmnet", "baseline", "cmnet_printed")}
    cfg = summaries["cmnet"]
    dataset = DATASET_NAMES.get(cfg["dataset"], cfg["dataset"])
    words = [f"On {dataset} ({int(claims.subjects.max())} subjects, {cfg['protocol']}, "
             f"{count(int(cfg['n_seeds']), 'seed')}), {verdict_counts(claims)}."]
    b = _claim_row(claims, BASELINE_CLAIM)
    words.append(f"Repaired CMNet reaches {pct(s['cmnet']['mean'])} pooled accuracy and its ResNet + LSTM baseline "
                 f"{pct(s['baseline']['mean'])}" + (f": CMNet − baseline on the same clips = {_estimate(b)} "
                                                    f"({_verdict_word(b.verdict)})."
                                                    if b is not None else "."))
    if plain is not None:
        import json

        acc = json.loads((plain / SUMMARY).read_text())["accuracy"]
        folder = plain.parent / plain.name.replace("-plain", "-cmnet")  # the studies beside it
        base = plain.parent / plain.name.replace("-plain", "-baseline")
        words.append(f"A plain classifier (logistic regression on apex − onset, the same folds) reaches {pct(acc)}: "
                     f"CMNet is {_against_plain(folder, plain, classes)}, the baseline "
                     f"{_against_plain(base, plain, classes)}.")
    else:
        words.append(f"The plain classifier's study is not among this edition's results ({chapter_ref(7, included=included)} computes it).")
    r = _claim_row(claims, REPAIRED_VS_PRINTED)
    if r is not None:
        words.append(f"Repaired − as printed, on the same clips: {_estimate(r)} "
                     f"({_verdict_word(r.verdict)}).")
    _, rep = repairs_status(repairs_root, classes, short=True)
    words.append(f"The repairs one at a time ({chapter_ref(10, included=included)}): {rep[0].lower() + rep[1:] if rep else 'not run yet.'}")
    return " ".join(words)


def claim_sentence(claims: pd.DataFrame, claim: str, label: str, metric: str = "accuracy") -> str:
    """One claim row in words: '<label>: Δ +4.5 pp [−1.0, +10.0] pp (smallest detectable 7.0 pp):
    <verdict>.' ('' where the claim was not tested)."""
    r = _claim_row(claims, claim, metric)
    if r is None:
        return ""
    return (f"{label}: Δ {_estimate(r)} in {metric} (smallest detectable {pp(r[MDE] / 100, signed=False)}, "
            f"{count(int(r.seeds), 'seed')}): {_verdict_word(r.verdict)}.")


NEAR_CHANCE = 1.5  # a row below this multiple of chance needs its reason said beside it


def _named(variant: str) -> str:
    """A repairs study's variant in words: its label where it has one, else the name spelled out
    ("cmnet_without_onset_diff" → "CMNet without onset diff")."""
    from ..variants import LABELS

    return LABELS.get(variant) or variant.replace("_", " ").replace("cmnet", "CMNet", 1)


def near_chance_sentence(runs: dict[str, Path], classes, inputs: dict[str, str]) -> str:
    """The rows of a table of studies (variant → results folder) that stay near chance (pooled
    accuracy below NEAR_CHANCE × chance) and their reason, read from what their encoders see
    (``inputs``: variant → the config's ``input``): when every such row sees raw frames and a
    row with the onset difference learns, the input holds them there, not a bug."""
    import json

    chance = 1 / len(classes)
    acc = {v: json.loads((f / SUMMARY).read_text())["summary"]["pooled_accuracy"]["mean"] for v, f in runs.items()}
    near = [v for v in acc if acc[v] < NEAR_CHANCE * chance]
    if not near:
        return f"No row stays near chance (every one above {NEAR_CHANCE:g} × chance, {pct(NEAR_CHANCE * chance)})."
    names = ", ".join(f"{_named(v)} ({pct(acc[v])})" for v in near)
    if all(inputs[v] == "frames" for v in near) and any(inputs[v] == "onset_diff" for v in acc if v not in near):
        best = max((v for v in acc if inputs[v] == "onset_diff"), key=acc.get)
        return (f"Near chance (below {NEAR_CHANCE:g} × chance, {pct(NEAR_CHANCE * chance)}): {names}. Every one "
                f"feeds raw frames to the encoders (`input: frames`), and the rows that feed the onset difference "
                f"learn ({_named(best)}: {pct(acc[best])}), so the input holds them at chance, not a bug "
                f"({chapter_ref(4)} measures why raw frames carry the motion too weakly at this size).")
    return (f"Near chance (below {NEAR_CHANCE:g} × chance, {pct(NEAR_CHANCE * chance)}): {names}; their input does "
            f"not explain it (some see the onset difference): a reason is not established here.")
