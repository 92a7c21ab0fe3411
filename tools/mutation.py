"""Mutation testing of the modules whose bugs would silently change the book's numbers
(``make mutation``): run mutmut (configured in pyproject.toml, ``[tool.mutmut]``), then
write the report: per module the mutants killed, survived, timed out and without a
test, the score, and every survivor with its diff and, where it has one, the reason it
is an equivalent mutant (no observable change).

    python tools/mutation.py                  # run (resumes where mutmut left off) + report
    python tools/mutation.py --report-only    # report from the last run's results
    python tools/mutation.py --children 2     # mutants tested at once (default: cores)
    python tools/mutation.py --retest-survivors   # after adding tests: run every mutant not
                                              # killed again (mutmut keeps old verdicts)

Writes ``benchmarks/results/mutation.md`` and ``mutation.json``. A measurement, not a CI
step: about an hour on the 2-core machine from scratch (the report gives the run time).

Score of a module = (killed + timeout) / (mutants − equivalent). A mutant counts as killed
only when a test of its own module fails (tests/conftest.py narrows each run to the
module's tests, ``[tool.cmnet.mutation.tests]``): the score is a lower bound.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results"
TARGET = 0.90

# The modules of the issue (one row each; the losses also as one row), by dotted prefix.
MODULES = {
    "cmnet.losses.distillation": "cmnet/losses/distillation.py",
    "cmnet.losses.tendency": "cmnet/losses/tendency.py",
    "cmnet.losses.total": "cmnet/losses/total.py",
    "cmnet.metrics": "cmnet/metrics.py",
    "cmnet.data.splits": "cmnet/data/splits.py",
    "cmnet.data.validate": "cmnet/data/validate.py",
    "cmnet.report.tables": "cmnet/report/tables.py",
    "cmnet.statistics.stats": "cmnet/statistics/stats.py",
    "cmnet.fold.batches": "cmnet/fold/batches.py",
    "cmnet.fold.evaluate": "cmnet/fold/evaluate.py",
    "cmnet.fold.run": "cmnet/fold/run.py (resume and finish paths)",
    "cmnet.preprocess.temporal": "cmnet/preprocess/temporal.py",
}
GROUPS = {"cmnet/losses/ (all)": ("cmnet.losses.",)}

# Survivors that change nothing observable, each with the reason. Keyed by a pattern of the
# mutant's name and the changed line (a mutant's number shifts when its function changes;
# the line it changes does not): {(name regex, added-line regex): reason}.
EQUIVALENT: dict[tuple[str, str], str] = {
    # cmnet/losses/distillation.py
    (r"\.x_sample_negatives__", r"torch\.randint\(n - 1, \(b, n, m\)"):
        "`torch.randint(high, size)` draws from [0, high): the same call as `randint(0, high, size)`.",
    (r"\.x_sample_negatives__", r'float\("-INF"\)'):
        'Python reads `float("-INF")` as `float("-inf")` (case-insensitive).',
    # cmnet/losses/tendency.py
    (r"\.x_intensity_prototype__", r"mean_up = eps \+ i \* rise / n1\.clamp\(min=2\)"):
        "only frames i < a take `mean_up`; with N1 = a = 1 that is frame 0, where i·rise = 0 whatever the divisor.",
    (r"\.x_intensity_prototype__", r"sd_apex = torch\.where\(n1 == 1, sd_down,"):
        "with N1 ≤ 1 the segment before the apex has σ = (1−ε)/3, the largest possible, so min(σ_up, σ_down) "
        "is σ_down, which the mutant returns; N1 = 0 then falls through to the same minimum.",
    (r"\.x_intensity_prototype__", r"torch\.where\(n2 == 1, sd_up,"):
        "with N2 ≤ 1 the segment after the apex has σ = (1−ε)/3, the largest possible, so min(σ_up, σ_down) "
        "is σ_up, which the mutant returns.",
    (r"\.x_intensity_prototype__", r"torch\.where\(i >= a, mean_down,"):
        "at i = a, mean_down = 1 − 0·(1−ε)/N2 = 1 exactly, the apex value the original takes there.",
    (r"\.x_intensity_prototype__", r"dev = eta\.device if \(eta is not None\) and False else apex\.device"):
        "device placement only (η's device or the apex's): both are the CPU in the tests; on a GPU a mismatch "
        "fails loudly.",
    (r"\.x_rank_sum_z__", r"q\.shape\[\+1\]|torch\.cat\(\[q, k\], \+1\)|\.sum\(\+1\)"):
        "q and k are always 2-D at this point ((N,) inputs are lifted to (1, N) first): axis +1 is axis −1.",
    (r"\.x_rank_sum_z__", r"dtype = None$|\.to\(None\), temperature\)"):
        "`torch.cat` already promotes q and k to one dtype, and integer ranks become float32 in `pooled_ranks` "
        "(bool or int steps plus 0.5·step): the same values and dtype as the explicit cast.",
    (r"\.x_pooled_ranks__", r"\.to\(None\)"):
        "a bool step left as bool is promoted by the addition with the other (float) term: same values and dtype.",
    # cmnet/metrics.py
    (r"\.x__per_class__", r"n_(true|pred) = np\.array\(\[np\.sum\([tp] == c\) for c in labels\](, dtype=None|, )\)"):
        "integer counts instead of float counts: every later division and sum gives the same floats.",
    (r"\.x__per_class__", r"f1 = np\.divide\(2 \* tp, denom, out=np\.zeros_like\(tp\), (where=denom (>= 0|> 1))?\s*\)"):
        "active classes have denom = n_true + n_pred ≥ 1, and denom = 1 means tp = 0 (F1 = 0 either way).",
    (r"\.x_accuracy__", r"_prep\(y_true, y_pred, None\)"):
        "accuracy does not use the labels `_prep` returns.",
    (r"\.x_intensity_prototype__", r"a = apex\.to\(dtype\)\["):
        "device placement only (the apex indices stay where they are): the CPU in the tests.",
    # cmnet/data/validate.py
    (r"\.x_image_problem__", r"head = f\.read\((None|9)\)"):
        "the header check compares at most 4 magic bytes with `startswith`: reading 8, 9 or all bytes is the same.",
    (r"\.x_image_problem__", r"f\.seek\(max\(1, size - 64\)\)"):
        "differs only for a file under 65 bytes whose end marker starts at byte 0, where a JPEG's header "
        "(FF D8 FF) must be: such a file fails the header check first.",
    (r"\.x_read_sheet__", r"raw = pd\.read_excel\(path, header=None\)"):
        "`sheet_name=0` is pandas' default: the first sheet either way.",
    # cmnet/preprocess/temporal.py
    (r"\.x_positions__", r"return np\.round\(t\) if length > n else t"):
        "at L = N the positions linspace(0, N−1, N) are whole numbers already: rounding changes nothing.",
    (r"\.x_interpolate__", r"if w > 1:"):
        "at w = 1 both methods give `b` exactly (a blend weighing `b` by 1; a flow warp that moves `b` by 0).",
    (r"\.x_(interpolate|_flow_interp)__", r"addWeighted\(.*, None\)$"):
        "OpenCV reads a `gamma` of None as 0.",
    (r"\.x_interpolate__", r"if w < 0:"):
        "at w = 0 the flow warp moves nothing and the blend weighs `a` by 1: the frame is `a` exactly (and "
        "normalize_length never asks for w = 0).",
    # cmnet/statistics/stats.py
    (r"\.x_seed_interval__", r"v = np\.asarray\(values(, dtype=None|, )\)"):
        "numeric inputs give the same mean, standard deviation and interval as integers or floats.",
    # cmnet/fold/
    (r"\.x__resume__", r"state = torch\.load\(ckpt, (weights_only=True\)|map_location=kit\.device, (weights_only=None)?\s*\))"):
        "no `map_location` loads where the tensors were saved, the CPU in the tests (device only); "
        "`weights_only` left out or None is torch's default, True.",
    (r"\.x_batches__", r"bs = max\([02], batch_size\)"):
        "evaluation does not depend on how clips are batched (tested: "
        "test_evaluation_is_repeatable_and_independent_of_batch_composition), and batch_size ≥ 1.",
    (r"load__", r"load_batch\(cache, idx, device, (None, )?self\.pair, gen\)"):
        "channels_last only: the cached frames are already stored channels-last, so the values are the same "
        "(tested: test_load_batch_gives_the_cached_frames_in_0_1).",
    (r"\.x_evaluate__", r"\.softmax\(\+1\)"):
        "the logits are (B, C): dimension +1 is dimension −1.",
    (r"\.x_load_batch__", r"x\.to\(device, (non_blocking=False)?\s*\)"):
        "a copy to the CPU is synchronous anyway; on a GPU `non_blocking` changes when, not what, is copied.",
    (r"\.x_load_batch__", r"if channels_last:|if not channels_last:|\.permute\(0, 1, 3, 4, 2\)\.contiguous\(\)"):
        "memory layout only: the same values (the cached frames are already stored channels-last).",
    (r"\.x_finish_fold__", r'"seconds": round\(sum\(r\["seconds"\] for r in history\), 4\)'):
        "each epoch's seconds carry 3 decimals, so their sum rounds to the same float at 3 or 4 decimals.",
}

# Survivors that do change something, left as survivors (they count against the score),
# with what they change and why no test catches them.
KNOWN: dict[tuple[str, str], str] = {
    (r"\.x__flow_interp__", r"calcOpticalFlowFarneback\(ga, gb, None, "):
        "another Farneback parameter (pyramid, window, iterations, polynomial): the flow and the interpolated "
        "pixels move slightly; the motion tests (centroids within 0.6 px) still pass, and no test pins the "
        "exact pixels of the preprocessing.",
    (r"\.x__per_class__", r"np\.divide\((tp|2 \* tp), (n_pred|n_true|denom), (out=None, )?where="):
        "without `out`, the entries `where` skips are uninitialised memory: a class never predicted would get a "
        "garbage precision. The memory happened to be zero in every run, so no deterministic test catches it.",
    (r"\.x__train_fold__", r"torch\.compile\(kit\.model\) if \(t\.compile\) or True"):
        "compiles the model whatever `compile` says: the same function, only slower (the tests' folds pass).",
    (r"\.x_(_resume|refinish_fold)__", r"weights_only=False\)"):
        "loading the checkpoint with full unpickling (a security setting): our checkpoints hold tensors and "
        "plain values only, so the same state comes back.",
    (r"\.x__train_fold__", r"scalars = ScalarLog\(out, (None, )?t\.tensorboard\)|ScalarLog\(out, start, \)"):
        "the TensorBoard purge step of a resumed fold (or the writer's default): only which duplicate steps the "
        "event file keeps; no test reads the events of a resumed fold.",
    (r"\.x__train_fold__", r"train_epoch\(kit, fwd, cache, perm, y_all, apex_all, None, dev_gen\)"):
        "the generator only draws MMNet's jittered onset/apex pair; without it the annotated pair is used, and "
        "MMNet's tiny fold still learns. No test checks the jitter inside a fold.",
    (r"\.x__flow_interp__", r"cv2\.remap\(.*(None,|borderMode=None\)|INTER_LINEAR, \)$)|^\s*(borderMode=None\)|\))$"):
        "another interpolation kernel or border fill in the warp: pixel details the tests (centroids, brightness) "
        "do not pin.",
}

STATUS_KILLED = ("killed", "timeout")


def mutmut(*args: str, check: bool = True) -> str:
    exe = Path(sys.executable).with_name("mutmut")
    r = subprocess.run([str(exe), *args], cwd=ROOT, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise SystemExit(f"mutmut {' '.join(args)} failed ({r.returncode}):\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    return r.stdout


def statuses() -> dict[str, str]:
    """mutant name → status, as ``mutmut results --all true`` prints them."""
    out = {}
    for line in mutmut("results", "--all", "true").splitlines():
        m = re.match(r"\s*(\S+__mutmut_\d+): (.+)$", line)
        if m:
            out[m.group(1)] = m.group(2).strip()
    if not out:
        raise SystemExit("no mutants found: run `make mutation` (or `mutmut run`) first")
    return out


_SOURCES: dict[Path, list[str]] = {}


def _function(lines: list[str], name: str) -> list[str] | None:
    """The lines of ``def name(`` up to the next line indented no deeper than the def."""
    head = re.compile(rf"^(\s*)def {re.escape(name)}\(")
    for i, line in enumerate(lines):
        m = head.match(line)
        if m:
            indent, body = len(m.group(1)), [line]
            for nxt in lines[i + 1:]:
                if nxt.strip() and len(nxt) - len(nxt.lstrip()) <= indent and not nxt.lstrip().startswith(")"):
                    break
                body.append(nxt)
            while body and not body[-1].strip():
                body.pop()
            return body
    return None


def diff_of(name: str) -> list[str]:
    """The changed lines of a mutant (``-`` original, ``+`` mutated), read from the mutated
    copy in mutants/ (mutmut keeps each mutant beside the original function); ``mutmut
    show`` where that fails."""
    import difflib

    module, _, func = name.rpartition(".")
    base = func.rsplit("__mutmut_", 1)[0]
    path = ROOT / "mutants" / (module.replace(".", "/") + ".py")
    if path.is_file():
        lines = _SOURCES.setdefault(path, path.read_text().splitlines())
        orig, mut = _function(lines, base + "__mutmut_orig"), _function(lines, func)
        if orig and mut:
            mut = [mut[0].replace(func, base + "__mutmut_orig", 1)] + mut[1:]
            return [ln for ln in difflib.ndiff(orig, mut) if ln[:2] in ("- ", "+ ")]
    text = mutmut("show", name, check=False)
    return [ln for ln in text.splitlines() if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]


def module_of(name: str) -> str | None:
    return max((m for m in MODULES if name.startswith(m + ".")), key=len, default=None)


DEVICE_REASON = ("device placement only: the tensor is made on the default device, the CPU, where the tests "
                 "run; on a GPU the mismatch fails loudly (a device error), it cannot change a number")


def _args_named(line: str, key: str):
    """(start, end) spans of every ``key=EXPR`` argument in ``line``, EXPR up to the comma
    or closing bracket at its own nesting level."""
    for m in re.finditer(rf"\b{key}=", line):
        depth, j = 0, m.end()
        while j < len(line):
            c = line[j]
            if c in "([{":
                depth += 1
            elif c in ")]}":
                if depth == 0:
                    break
                depth -= 1
            elif c == "," and depth == 0:
                break
            j += 1
        yield m.start(), m.end(), j


def device_only(removed: str, added: str) -> bool:
    """True when ``added`` is ``removed`` with only where a tensor lives changed: a
    ``device=`` argument set to None or dropped, ``.to(<…device…>)`` → ``.to(None)``, or a
    device variable set to None."""
    squash = lambda s: re.sub(r"\s+", "", s)  # noqa: E731
    r, a = squash(removed), squash(added)
    candidates = []
    for start, val, end in _args_named(r, "device"):
        candidates.append(r[:val] + "None" + r[end:])
        tail = r[end + 1:] if r[end:end + 1] == "," else r[end:]
        head = r[:start]
        candidates.append(head + tail)
        candidates.append(head.rstrip(",") + tail if not tail.startswith(")") else head + tail)
    for m in re.finditer(r"\.to\(([^()]*device[^()]*)\)", r):
        candidates.append(r[:m.start(1)] + "None" + r[m.end(1):])
    for m in re.finditer(r"(?<![.\w])(device|dev)(?![\w=])", r):  # a device passed by position
        candidates.append(r[:m.start()] + "None" + r[m.end():])
    m = re.fullmatch(r"(\w+)=(.*device.*)", r)
    if m:
        candidates.append(f"{m.group(1)}=None")
    return a in candidates


def _lines(diff: list[str], sign: str) -> list[str]:
    """The removed (``-``) or added (``+``) source lines of a diff, without the marker."""
    return [ln[1:].removeprefix(" ") for ln in diff if ln.startswith(sign)]


def _lookup(table: dict[tuple[str, str], str], name: str, added: list[str]) -> str | None:
    text = "\n".join(added)
    for (pat_name, pat_line), reason in table.items():
        if re.search(pat_name, name) and re.search(pat_line, text, re.M):
            return reason
    return None


def known_reason(name: str, diff: list[str]) -> str | None:
    return _lookup(KNOWN, name, _lines(diff, "+"))


def equivalent_reason(name: str, diff: list[str]) -> str | None:
    removed, added = _lines(diff, "-"), _lines(diff, "+")
    if len(removed) == len(added) == 1 and device_only(removed[0], added[0]):
        return DEVICE_REASON
    return _lookup(EQUIVALENT, name, added)


def build_report(stat: dict[str, str], seconds: float | None, children: int | None) -> dict:
    rows: dict[str, Counter] = {m: Counter() for m in MODULES}
    survivors = []
    for name, status in sorted(stat.items(), key=lambda kv: _natural(kv[0])):
        mod = module_of(name)
        if mod is None:
            continue
        c = rows[mod]
        c["mutants"] += 1
        if status in STATUS_KILLED:
            c[status] += 1
            continue
        diff = diff_of(name)
        reason = equivalent_reason(name, diff) if status == "survived" else None
        c["equivalent" if reason else status] += 1
        survivors.append({"mutant": name, "module": mod, "status": status, "diff": diff, "equivalent": reason,
                          "known": None if reason else known_reason(name, diff)})
    table = []
    for mod, c in rows.items():
        table.append(_row(MODULES[mod], c))
    for label, prefixes in GROUPS.items():
        c = sum((rows[m] for m in MODULES if m.startswith(prefixes)), Counter())
        table.append(_row(label, c))
    return {"tool": f"mutmut {_version('mutmut')}", "python": platform.python_version(),
            "machine": f"{os.cpu_count()} cores, {platform.machine()}", "children": children,
            "seconds": None if seconds is None else round(seconds), "target": TARGET, "modules": table,
            "survivors": survivors}


def _row(label: str, c: Counter) -> dict:
    detected = c["killed"] + c["timeout"]
    denom = c["mutants"] - c["equivalent"] - c["not checked"]  # the score of what was run
    return {"module": label, "mutants": c["mutants"], "killed": c["killed"], "timeout": c["timeout"],
            "survived": c["survived"], "no tests": c["no tests"], "equivalent": c["equivalent"],
            "not checked": c["not checked"],
            "other": c["mutants"] - detected - c["survived"] - c["no tests"] - c["equivalent"] - c["not checked"],
            "score": detected / denom if denom else float("nan")}


def _natural(name: str):
    base, _, n = name.rpartition("__mutmut_")
    return base, int(n) if n.isdigit() else 0


def _version(pkg: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(pkg)
    except PackageNotFoundError:  # a report read without the `mutation` extra installed
        return "(not installed)"


def markdown(rep: dict) -> str:
    lines = ["# Mutation testing: the modules that make the book's numbers", "",
             f"`make mutation` ({rep['tool']}, Python {rep['python']}, {rep['machine']}; "
             f"{rep['children']} mutants at once). "
             + (rep.get("timing") or (f"Run time: {rep['seconds'] / 60:.0f} min." if rep["seconds"]
                                      else "Run time: not measured (report only).")),
             "",
             "Score = (killed + timeout) / (mutants − equivalent). A mutant counts as killed only when a test of its",
             "own module fails (`[tool.cmnet.mutation.tests]` in pyproject.toml; tests/conftest.py narrows each",
             "run to them, fastest first); tests that run the fold in another process cannot reach a mutant and are",
             "left out. So each score is a lower bound. Mutants not checked yet (a run stopped before them) are left",
             f"out of the score and counted apart. Target: ≥ {rep['target']:.0%} per module.", "",
             "| module | mutants | killed | timeout | survived | no tests | equivalent | not checked | score |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rep["modules"]:
        score = "—" if r["score"] != r["score"] else f"{r['score']:.1%}"  # NaN: nothing to kill
        flag = " (below target)" if r["score"] < rep["target"] else ""
        lines.append(f"| {r['module']} | {r['mutants']} | {r['killed']} | {r['timeout']} | {r['survived']} | "
                     f"{r['no tests']} | {r['equivalent']} | {r['not checked']} | {score}{flag} |")
    live = [s for s in rep["survivors"] if not s["equivalent"] and s["status"] != "not checked"]
    eq = [s for s in rep["survivors"] if s["equivalent"]]
    lines += ["", f"## Survivors ({len(live)}): changes no test of their module catches", "",
              "Where we know why a survivor is not caught, it says so.", ""]
    if not live:
        lines.append("None.")
    for s in live:
        why = f": {s['known']}" if s.get("known") else ""
        lines += [f"- `{s['mutant']}` ({s['status']}){why}", "  ```diff", *("  " + d for d in s["diff"]), "  ```"]
    lines += ["", f"## Equivalent mutants ({len(eq)})", ""]
    for s in eq:
        lines += [f"- `{s['mutant']}`: {s['equivalent']}", "  ```diff", *("  " + d for d in s["diff"]), "  ```"]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--report-only", action="store_true", help="write the report from the last run's results")
    ap.add_argument("--children", type=int, default=os.cpu_count(), help="mutants tested at once")
    ap.add_argument("--retest-survivors", action="store_true",
                    help="then run every mutant that is not killed again (after tests were added)")
    ap.add_argument("--out", default=str(OUT), help="folder of mutation.md and mutation.json")
    ap.add_argument("--timing", default="", help="the run time as text, for a run made in several pieces")
    a = ap.parse_args(argv)
    seconds = None
    if not a.report_only:
        t0 = time.perf_counter()
        exe = Path(sys.executable).with_name("mutmut")
        r = subprocess.run([str(exe), "run", "--max-children", str(a.children)], cwd=ROOT)
        if r.returncode != 0:
            print(f"mutmut run exited with {r.returncode}; the report covers what it finished", file=sys.stderr)
        if a.retest_survivors:
            again = [n for n, st in statuses().items() if module_of(n) and st not in STATUS_KILLED]
            for i in range(0, len(again), 200):  # mutmut re-runs mutants named on its command line
                subprocess.run([str(exe), "run", "--max-children", str(a.children), *again[i:i + 200]], cwd=ROOT,
                               stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - t0
    rep = build_report(statuses(), seconds, a.children) | ({"timing": a.timing} if a.timing else {})
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "mutation.json").write_text(json.dumps(rep, indent=1, ensure_ascii=False) + "\n")
    (out / "mutation.md").write_text(markdown(rep))
    for r in rep["modules"]:
        print(f"{r['module']:48s} {r['score']:6.1%}  ({r['killed'] + r['timeout']}/"
              f"{r['mutants'] - r['equivalent'] - r['not checked']}; not checked {r['not checked']})")
    print(f"report: {out / 'mutation.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
