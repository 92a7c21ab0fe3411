"""The introduction's generated pages, written at publish time from the results.

    write_headline(out_dir, profile, results_dir)   headline.md: the findings in a few sentences
                                                    (the claims' verdicts, CMNet against the baseline
                                                    and the plain classifier, the repairs), the
                                                    headline figure with the plain classifier drawn,
                                                    the claims table; headline.png
    write_departures(out_dir, profile)              departures.md: the paper / this edition / the GPU
                                                    profile, row by row, from params/

Every number in them comes from the results or the parameters; the wording that depends on a
result (holds / not distinguishable, above / below) from cmnet.statistics.verdicts and prose.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from .config import DATASET_NAMES
from .runs.layout import SUMMARY

# the rows of the headline figure, in the claims chapter's order
HEADLINE_VARIANTS = ["cmnet", "cmnet_printed", "cmnet_deterministic", "cmnet_random", "cmnet_no_id", "cmnet_no_wrst",
                     "baseline", "mmnet"]
GPU_PROFILE = "synthme"
# the departures table: (row, the flat key(s) it shows); the paper's column is params/base.yaml
DEPARTURES = [("data", "dataset"), ("subjects × clips", ("synth_subjects", "synth_clips_per_subject")),
              ("protocol", ("protocol", "kfold_k")), ("frame size", "size"), ("epochs", "epochs"), ("lr", "lr"),
              ("batch", "batch_size"), ("seeds", "seeds"), ("pretraining", "pretrained"),
              ("clip interpolation", "interpolation"), ("face detector", "detector"),
              ("SynthME difficulty", "synth_difficulty"), ("ICE width", "ice_width")]
# what the paper itself says for the keys params/base.yaml does not give as the paper's
PAPER_SAYS = {"dataset": "CASME II, SAMM, SMIC-HS", "protocol": "LOSO", "seeds": "not given",
              "pretrained": "not stated (a ResNet backbone)", "interpolation": "DAIN (learned)",
              "detector": "face-alignment", "synth_subjects": "26 (CASME II), 32 (SAMM), 16 (SMIC-HS) subjects",
              "synth_difficulty": "—", "ice_width": "not given"}

WORDS = {"flow": "optical flow (Farnebäck)", "linear": "linear", "haar": "OpenCV Haar cascade",
         "face_alignment": "face-alignment", "synthme": "SynthME (synthetic)"}


def _cell(flat: dict, keys) -> str:
    keys = (keys,) if isinstance(keys, str) else keys
    if keys[0] == "protocol":
        return "LOSO" if flat["protocol"] == "loso" else f"subject-grouped {flat['kfold_k']}-fold"
    if keys[0] == "synth_subjects":
        return f"{flat['synth_subjects']} × {flat['synth_clips_per_subject']}" if flat["dataset"] == "synthme" else "—"
    v = flat.get(keys[0], "")
    if keys[0] == "seeds":
        one = flat.get("one_seed") or []
        return f"{len(v)} (1 for {len(one)} rows)" if one else str(len(v))
    if keys[0] == "pretrained":
        return v or "none (from scratch)"
    if keys[0] == "lr" and flat.get("tuned"):
        from .variants import TUNED

        return f"{v:g} (each arm tuned on held-out data: MMNet's AdamW {TUNED['mmnet']:g})"
    if keys[0] == "synth_difficulty" and flat["dataset"] != "synthme":
        return "—"
    return WORDS.get(str(v), str(v))


def edition_settings(profile: str, results_dir: str | Path | None = None, params_dir: str | Path = "params") -> dict:
    """The settings the edition ran with: the repaired CMNet study's config as its summary
    recorded it (over the defaults, for keys added since), else the profile's."""
    from .config import Config
    from .variants import variant_config

    f = Path(results_dir or "") / f"{profile}-cmnet" / SUMMARY
    if results_dir is not None and f.is_file():
        return Config().to_flat() | {"one_seed": []} | json.loads(f.read_text()).get("config", {})
    return variant_config(profile, "cmnet", params_dir).to_flat()


def departures_table(profile: str, params_dir: str | Path = "params", gpu: str = GPU_PROFILE,
                     results_dir: str | Path | None = None) -> list[list[str]]:
    """Rows [setting, the paper, this edition (profile), the GPU profile]; the paper's column
    from params/base.yaml where it holds the paper's value, else what the paper says; this
    edition's from its results where they are (:func:`edition_settings`)."""
    from .params import read_params
    from .variants import variant_config

    base = read_params(Path(params_dir) / "base.yaml")
    ours = edition_settings(profile, results_dir, params_dir)
    gpu_flat = variant_config(gpu, "cmnet", params_dir).to_flat()
    rows = []
    for name, keys in DEPARTURES:
        k = keys if isinstance(keys, str) else keys[0]
        paper = PAPER_SAYS.get(k, str(base.get(k, "not given")))
        if k in ("epochs", "batch_size"):
            paper = f"not given ({base[k]}: our default)"
        rows.append([name, paper, _cell(ours, keys), _cell(gpu_flat, keys)])
    return rows


def write_departures(out_dir: Path, profile: str, results_dir: str | Path | None = None,
                     params_dir: str | Path = "params") -> Path:
    rows = departures_table(profile, params_dir, results_dir=results_dir)
    lines = [f"| setting | the paper | this edition (`{profile}`) | the GPU profile (`{GPU_PROFILE}`) |",
             "| --- | --- | --- | --- |"] + ["| " + " | ".join(r) + " |" for r in rows]
    path = Path(out_dir) / "departures.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def _markdown_table(df) -> str:
    cols = list(df.columns)
    rows = ["| " + " | ".join(cols) + " |", "| " + " | ".join("---" for _ in cols) + " |"]
    def cell(v) -> str:
        missing = v is None or (isinstance(v, float) and not math.isfinite(v))
        return "—" if missing else str(v).replace("|", "/")

    rows += ["| " + " | ".join(cell(v) for v in r) + " |" for r in df.itertuples(index=False)]
    return "\n".join(rows)


def headline_intervals(folders: dict[str, Path], classes, n_boot: int = 4000) -> dict[str, tuple[float, float]]:
    """variant → the 95 % interval of its pooled accuracy over *subjects* (cmnet.statistics.verdicts.level:
    the verdicts' subject bootstrap and t), from its results folder's per-clip predictions; a
    variant without them is left out (the figure then draws its interval over seeds)."""
    from .statistics.verdicts import clip_table, level

    out = {}
    for v, folder in folders.items():
        try:
            lv = level(clip_table(folder), classes, n_boot=n_boot)
        except FileNotFoundError:
            continue
        out[v] = (lv["ci_low"], lv["ci_high"])
    return out


def _headline_figure(out_dir: Path, found: dict, plain: dict | None, profile: str,
                     intervals: dict[str, tuple[float, float]] | None = None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .report.plots import variant_bars
    from .report.prose import pct
    from .variants import LABELS

    s0 = found["cmnet"]
    ref = {f"plain classifier ({pct(plain['accuracy'])})": plain["accuracy"]} if plain else None
    iv = {LABELS[v]: intervals[v] for v in HEADLINE_VARIANTS if intervals and v in intervals}
    fig = variant_bars({LABELS[v]: found[v] for v in HEADLINE_VARIANTS}, 1 / len(s0["classes"]), reference=ref,
                       title=f"every row of Tables 1–3 on {DATASET_NAMES.get(s0['dataset'], s0['dataset'])} (profile {profile})",
                       intervals=iv if len(iv) == len(HEADLINE_VARIANTS) else None)
    fig.savefig(out_dir / "headline.png", dpi=110)
    plt.close(fig)


def scope_paragraph(profile: str, results_dir: str | Path, controls_dir: str | Path = "results") -> str:
    """What every verdict of the edition was measured at, what it cannot speak to, and what the
    positive control (oracle k, chapter 8) says about the room there was to gain."""
    from .report.dose import DOSE_PROFILES
    from .report.positive import controls_accuracy, controls_sentence
    from .report.prose import chapter_ref
    from .report.scope import scope_words
    from .variants import variant_config

    words = (f"**Scope.** Every verdict below was measured at: {scope_words(variant_config(profile, 'cmnet'))}. "
             "This edition cannot speak to real micro-expressions, to the paper's 224² frames and epochs, or to "
             "ImageNet pretraining; a verdict carries its scope.")
    try:
        t = controls_accuracy(results_dir=controls_dir)
    except FileNotFoundError:
        return words + f" The positive controls ({chapter_ref(8, included=True)}) are not among the committed results yet."
    d = variant_config(DOSE_PROFILES[0.5], "cmnet")
    return words + (f" Positive control ({chapter_ref(8, included=True)}, {d.data.synth_subjects} subjects, difficulty "
                    f"{d.data.synth_difficulty:g}): ") + controls_sentence(t[t.arm.str.startswith("oracle_k")])


def _claims_view(claims):
    """The claims table as the introduction shows it: words for headers, every Δ signed at the
    book's precision (the paper's too), the verdict without the smallest detectable difference
    (which has its column)."""
    from .report.prose import pp
    from .statistics.power import PAIRED

    cols = ["claim", "metric", "paper Δ (pp)", "Δ (pp)", "95% interval (pp)", "smallest detectable (pp)", "verdict"]
    view = claims[[c for c in cols if c in claims.columns]]
    view = view.assign(verdict=view.verdict.str.replace(r" — smallest detectable difference .* pp$", "", regex=True))
    view = view.assign(**{"Δ (pp)": [pp(d / 100).removesuffix(" pp") for d in view["Δ (pp)"]],
                          "smallest detectable (pp)": [pp(d / 100, signed=False).removesuffix(" pp")
                                                       for d in view["smallest detectable (pp)"]]})
    if "paper Δ (pp)" in view:  # the paper's difference at the book's precision, signed like ours
        view = view.assign(**{"paper Δ (pp)": ["—" if d != d else pp(d / 100).removesuffix(" pp")
                                               for d in view["paper Δ (pp)"]]})
    view = view.rename(columns={"Δ (pp)": PAIRED, "95% interval (pp)": "95 % interval (pp)"})
    view = view.assign(metric=view.metric.map({"accuracy": "accuracy", "uf1": "UF1"}).fillna(view.metric))
    return view


def write_headline(out_dir: Path, profile: str, results_dir: str | Path, repairs_dir: str | Path = "results") -> bool:
    """The introduction's opening (headline.md, headline.png) from the study summaries in
    ``results_dir``, the repairs from ``repairs_dir``. Where the studies are not all there yet,
    headline.md says so and nothing else."""
    from .report.prose import chapter_ref

    from .statistics.claims import UNCHECKED, order_claims
    from .report.findings import findings
    from .report.paper import paper_numbers, reported_orderings
    from .report.scope import mark_inactive

    out_dir, results_dir = Path(out_dir), Path(results_dir)
    found = {v: json.loads((results_dir / f"{profile}-{v}" / SUMMARY).read_text()) for v in HEADLINE_VARIANTS
             if (results_dir / f"{profile}-{v}" / SUMMARY).is_file()}
    md = out_dir / "headline.md"
    missing = [v for v in HEADLINE_VARIANTS if v not in found]
    if missing:
        md.write_text(f"*The findings, the headline figure and the claims table appear once chapters 4–9 have run "
                      f"for the profile **{profile}** (missing studies: {', '.join(missing)}).*\n")
        (out_dir / "headline.png").unlink(missing_ok=True)
        return False
    plain_file = results_dir / f"{profile}-plain" / SUMMARY
    plain = json.loads(plain_file.read_text()) if plain_file.is_file() else None
    s0 = found["cmnet"]
    folders = {v: results_dir / f"{profile}-{v}" for v in found}
    intervals = headline_intervals(folders, s0["classes"])
    _headline_figure(out_dir, found, plain, profile, intervals)
    subject_iv = len(intervals) == len(HEADLINE_VARIANTS)
    claims = mark_inactive(order_claims(folders, s0["classes"], paper_numbers(), s0["dataset"]), folders)
    text = findings(claims, found, results_dir / f"{profile}-plain" if plain else None, Path(repairs_dir),
                    s0["classes"], included=True)
    view = _claims_view(claims)
    reported = reported_orderings(paper_numbers(), s0["dataset"], included=True)
    drawn = ("; the plain classifier (logistic regression on apex − onset, the same folds) dotted" if plain else
             "; the plain classifier's study is not in this edition's results")
    only = " Accuracy only: this edition kept no per-clip predictions." if claims.attrs.get("accuracy_only") else ""
    data = DATASET_NAMES.get(s0["dataset"], s0["dataset"])
    lines = ["**What this edition finds.** " + text, "", scope_paragraph(profile, results_dir, repairs_dir), "",
             "```{figure} executed/headline.png", ":name: fig-headline",
             f":alt: Pooled accuracy of every row of the paper's Tables 1–3 reproduced on {data}: a bar per "
             "row with its 95 % interval and a dot per seed, chance dashed", "",
             f"Pooled accuracy of every row of the paper's Tables 1–3, reproduced on {data} (profile "
             f"**{profile}**, {s0['protocol']}): mean over seeds, each seed a dot; the bars' 95 % interval "
             + ("over subjects, as the verdicts below compute it (subject bootstrap, Student's t)" if subject_iv
                else "over seeds") + f"; chance dashed{drawn}. Grey: CMNet as printed. " + chapter_ref(9, "Chapter 9", included=True) + " gives the details.",
             "```", "",
             f"**The paper's orderings, checked here** (better − worse on the same clips; 95 % interval over "
             f"subjects, Holm over the table; each row's smallest detectable difference at 80 % power; the verdicts' "
             f"words are defined in {chapter_ref(9, included=True)}).{only}", "", _markdown_table(view), "",
             f"**Not tested here: {UNCHECKED}.** Out of the claims above and out of their Holm family; "
             f"printed as the papers give them, for the reader's orientation only.", "",
             _markdown_table(reported), ""]
    md.write_text("\n".join(lines))
    return True
