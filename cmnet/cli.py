"""The ``cmnet`` command. ``cmnet <subcommand> --help`` documents each subcommand."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

from .cli_settings import PREPROCESS_FLAGS, SYNTH_FLAGS, config_of, flag_config


def _cmd_synth(args) -> int:
    from .data.synthdisk import estimate_bytes, free_bytes, human
    from .data.synthme import generate
    from .preprocess.prepare import synth_config, synth_face_check

    cfg = flag_config(args, SYNTH_FLAGS, "synth")
    sc, t0 = synth_config(cfg), time.perf_counter()
    print(f"SynthME: {sc.subjects} subjects × {sc.clips_per_subject} clips, about {human(estimate_bytes(sc))} "
          f"(estimate; {human(free_bytes(args.out))} free), into {args.out}", flush=True)
    sheet = generate(args.out, sc, progress=not args.quiet, accept_face=synth_face_check(sc))
    print(f"written in {time.perf_counter() - t0:.1f} s (sheet {sheet.name})")
    return 0


def _cmd_preprocess(args) -> int:
    from .data import class_counts, read_dataset
    from .preprocess import preprocess
    from .preprocess.prepare import dataset_root

    if args.dataset != "synthme" and args.dataset != "megc2019" and not args.root:
        print("error: --root is required (the dataset's folder)", file=sys.stderr)
        return 2
    cfg = flag_config(args, PREPROCESS_FLAGS, "preprocess")
    d, settings = cfg.data, cfg.preprocess
    root = d.data_root if d.data_root and d.dataset != "megc2019" else dataset_root(cfg, progress=not args.quiet)
    clips, report = read_dataset(d.dataset, root, d.layout)
    print(report)
    print(class_counts(clips, d.dataset).to_string(index=False))
    t0 = time.perf_counter()
    cache = preprocess(clips, settings, d.cache_dir, d.dataset, sources=report.sources, on_error=args.on_error,
                       progress=not args.quiet, rebuild=args.rebuild)
    print(f"cache {cache.path}: {len(cache)} clips × {settings.frames} frames × {settings.size}² "
          f"({time.perf_counter() - t0:.1f} s)")
    for f in cache.failures:
        print(f"  FAILED {f['clip']}: {f['reason']}")
    return 0


def _cmd_train(args) -> int:
    from .data.splits import make_folds
    from .fold.run import run_fold
    from .preprocess.prepare import prepare_cache
    from .runs.layout import fold_dir, study_dir

    cfg = config_of(args)
    cache, classes = prepare_cache(cfg, progress=not args.quiet)
    st = cfg.study
    folds = {f.subject: f for f in make_folds(st.protocol, cache.subjects, cache.labels, st.kfold_k)}
    if args.fold not in folds:
        what = "a subject; subjects" if st.protocol == "loso" else f"a fold of the {st.kfold_k}-fold split; folds"
        print(f"error: fold {args.fold!r} is not {what}: {', '.join(folds)}", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else fold_dir(study_dir(cfg), cfg.train.seed, args.fold)
    r = run_fold(cfg, cache, classes, folds[args.fold], out, progress=not args.quiet)
    print(f"fold {args.fold}: {r['n_test']} clips  acc {r['accuracy']:.4f}  F1 {r['f1_paper']:.4f}  "
          f"UF1 {r['uf1']:.4f}  UAR {r['uar']:.4f}  → {out}")
    return 0


def _cmd_study(args) -> int:
    from .report.tables import summary_table
    from .study.run import run_study

    executor = args.executor or ("ray" if args.address else None)  # an address is a Ray cluster's
    extra = [f"executor={executor}"] if executor else []
    extra += [f"address={args.address}"] if args.address is not None else []
    args.set = (args.set or []) + extra  # the same keys as in a profile
    cfg = config_of(args)
    s = run_study(cfg, progress=not args.quiet, discard_changed=args.discard_changed)
    print(f"{cfg.study.name}: {cfg.data.dataset}, {cfg.model.model}, {s['protocol']}")
    print(summary_table(s).to_string(index=False))
    return 0


def _cmd_report(args) -> int:
    from .preprocess.prepare import CLASSES
    from .report.prose import count
    from .report.tables import confusion_table, summary_table, write_results
    from .runs.layout import results_dir, study_dir
    from .study.plan import refuse_other_settings

    cfg = config_of(args)
    refuse_other_settings(cfg)
    s = write_results(cfg, CLASSES[cfg.data.dataset], partial=args.partial)
    print(f"{s['name']}: {s['dataset']}, {s['model']}, {s['protocol']}; "
          f"{count(s['seeds'][0]['folds'], 'fold')}, {count(s['n_seeds'], 'seed')}"
          + "".join(f"; PARTIAL: seed {k}: {', '.join(v)} missing" for k, v in s["missing"].items()))
    print(summary_table(s).to_string(index=False))
    print(confusion_table(s).to_string())
    print(f"tables: {results_dir(cfg)}/ (from {study_dir(cfg)})")
    return 0


def _cmd_predict(args) -> int:
    from .io import check_output
    from .predict import predict_folder

    fig_path = args.figure or Path(f"prediction-{Path(args.frames).resolve().name}.png")
    for flag, path in (("--csv", args.csv), ("--figure", None if args.no_figure else fig_path)):
        if path is not None:  # before anything is computed; never over an input
            check_output(path, flag, args.force, inputs=(args.frames, args.checkpoint))
    r = predict_folder(args.checkpoint, args.frames, detector=args.detector)
    print(f"{args.frames}: {r['n_frames']} frames → {len(r['k']) if r['k'] is not None else 0} normalised")
    for c, p in sorted(r["probs"].items(), key=lambda kv: -kv[1]):
        print(f"  {c:12s} {p:.4f}")
    if r["k"] is not None:
        print("intensity k per normalised frame: " + " ".join(f"{v:.3f}" for v in r["k"]))
    if args.csv:
        import pandas as pd

        if r["k"] is None:
            raise ValueError(f"--csv: {r['model']} has no per-frame intensity to write")
        pd.DataFrame({"frame": range(len(r["k"])), "k": r["k"]}).to_csv(args.csv, index=False)
    if not args.no_figure:
        import matplotlib

        matplotlib.use("Agg")
        from .report.plots import prediction_figure

        prediction_figure(r, f"clip {Path(args.frames).resolve().name} · "
                                       f"model {'/'.join(args.checkpoint.resolve().parts[-4:-1])}").savefig(fig_path, dpi=110)
        print(f"figure: {fig_path}")
    return 0


def _cmd_pack(args) -> int:
    from .runs.pack import pack

    r = pack(args.studies, args.out, weights=args.weights, overwrite=args.force, partial=args.partial)
    mib = r["bytes"] / 2**20
    print(f"{r['path']}: {r['folds']} finished folds, {r['files']} files, {mib:.1f} MiB"
          + ("" if args.weights else " (no weights)") + f"; unpack with: tar -xzf {r['path']} -C runs/")
    if mib > 16:
        print(f"note: {mib:.1f} MiB is more than the 16 MiB a device run can bring back: pack fewer studies per "
              "archive", file=sys.stderr)
    return 0


def _cmd_status(args) -> int:
    from .report.status import find_studies, format_status

    studies = find_studies(args.studies)
    while True:
        text = format_status(studies, folds=args.folds)
        if not args.watch:
            print(text)
            return 0
        print("\033[2J\033[H" + time.strftime("%H:%M:%S ") + f"(every {args.watch:g} s; Ctrl-C stops)\n" + text,
              flush=True)
        try:
            time.sleep(args.watch)
        except KeyboardInterrupt:
            return 0
        studies = find_studies(args.studies)


def _cmd_book(args) -> int:
    from .book import build_book, build_folder, make_book

    if args.published:
        print(f"book: {build_book('.')}")
        return 0
    r = make_book(args.profile, only=args.only, execute=not args.build_only, build=not args.no_build,
                  publish_it=args.publish, runs_dir=args.runs_dir, cache_dir=args.cache_dir, data_dir=args.data_dir)
    print(f"chapters and tables: {build_folder(args.profile)}/")
    if args.publish:
        print(f"published: {len(r['published'])} files into book/executed/ and results/ (commit them)")
    if "index" in r:
        print(f"book: {r['index']}")
    return 0


def _add_params(s):
    s.add_argument("params", nargs="?", type=Path, help="a params file (flat YAML; base.yaml beside it is read first)")
    s.add_argument("--variant", help="one of the book's variants of this profile (cmnet, cmnet_printed, baseline, "
                                     "…; cmnet/variants.py): its study <profile>-<variant>")
    s.add_argument("--set", action="append", metavar="KEY=VALUE", help="override one parameter (repeatable)")
    s.add_argument("--quiet", action="store_true", help="no progress bars")


def build_parser() -> argparse.ArgumentParser:
    from .config import CHOICES, DataConfig, PreprocessSettings
    from .runs.layout import FINAL, LAST

    d, pre = DataConfig(), PreprocessSettings()

    p = argparse.ArgumentParser(prog="cmnet", description="CMNet / MMNet micro-expression recognition: data, "
                                "preprocessing, training and reports.")
    p.add_argument("-v", "--verbose", action="store_true", help="log what is being done (INFO)")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("synth", help="write the SynthME dataset (CASME II layout)",
                       description="Generate SynthME, the built-in synthetic micro-expression dataset.")
    s.add_argument("--out", required=True, type=Path, help="folder to write into")
    s.add_argument("--subjects", type=int, help=f"number of subjects (key synth_subjects; default {d.synth_subjects})")
    s.add_argument("--clips-per-subject", type=int,
                   help=f"clips per subject (key synth_clips_per_subject; default {d.synth_clips_per_subject})")
    s.add_argument("--seed", type=int, help=f"random seed (key synth_seed; default {d.synth_seed})")
    s.add_argument("--size", type=int, help=f"frame side in pixels (key synth_size; default {d.synth_size})")
    s.add_argument("--difficulty", type=float, help=f">1 harder: weaker motion, more nuisance (key synth_difficulty; "
                                                    f"default {d.synth_difficulty:g})")
    s.add_argument("--curves", help=f"intensity curves: varied per clip, or bump (one shape, the first edition) "
                                    f"(key synth_curves; default {d.synth_curves})")
    s.add_argument("--others", help=f"'others': varied (a random set of AUs per clip) or template (key synth_others; "
                                    f"default {d.synth_others})")
    s.add_argument("--proportions", help=f"class shares: balanced, casme2 or samm (key synth_proportions; "
                                         f"default {d.synth_proportions})")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.set_defaults(fn=_cmd_synth)

    s = sub.add_parser("preprocess", help="crop, resize and normalise clips into the cache",
                       description="Read a dataset, report repairs and exclusions, and build its clip cache.")
    s.add_argument("--dataset", required=True, choices=CHOICES["dataset"])
    s.add_argument("--root", type=Path, help="the dataset's folder")
    s.add_argument("--casme2-root", type=Path, help="megc2019 only")
    s.add_argument("--samm-root", type=Path, help="megc2019 only")
    s.add_argument("--smic-root", type=Path, help="megc2019 only")
    s.add_argument("--layout", choices=CHOICES["layout"], help=f"CASME II frame layout (default {d.layout})")
    s.add_argument("--cache-dir", type=Path, help=f"where cached clips go (default {d.cache_dir}/)")
    s.add_argument("--size", type=int, help=f"output frame side (default {pre.size})")
    s.add_argument("--frames", type=int, help=f"frames per clip after normalisation (default {pre.frames})")
    s.add_argument("--detector", choices=CHOICES["detector"], help=f"face finder (default {pre.detector})")
    s.add_argument("--margin", type=float, help=f"widening of the face box (default {pre.margin:g})")
    s.add_argument("--level-eyes", action="store_const", const=True, default=None,
                   help="turn each clip so its eye line is level (detectors dlib, face_alignment)")
    s.add_argument("--interpolation", choices=CHOICES["interpolation"],
                   help=f"for clips shorter than N (default {pre.interpolation})")
    s.add_argument("--device", help="device for face_alignment (key device; default cpu)")
    s.add_argument("--on-error", default="report", choices=["report", "raise"],
                   help="a failing clip: report it and go on (default), or stop")
    s.add_argument("--rebuild", action="store_true", help="rebuild even if the cache is current")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.set_defaults(fn=_cmd_preprocess)

    s = sub.add_parser("train", help="train and evaluate one fold",
                       description="Train one fold (test subject --fold) of the configured experiment.")
    _add_params(s)
    s.add_argument("--fold", required=True, help="the fold: its test subject under LOSO (e.g. sub01), k1…kK under kfold")
    s.add_argument("--out", type=Path, help="fold folder (default runs/<name>/seed<k>/<fold>)")
    s.set_defaults(fn=_cmd_train)

    s = sub.add_parser("study", help="run every fold of an experiment",
                       description="Run every fold (the protocol's: LOSO or subject-grouped k-fold) for every seed; "
                                   "finished folds are skipped, "
                                   "interrupted ones resume; then write the tables. Fold folders made with other "
                                   "settings stop the study before anything is trained (the keys that differ are "
                                   "named), unless --discard-changed.")
    _add_params(s)
    s.add_argument("--discard-changed", action="store_true",
                   help="remove this study's fold folders that were made with other settings, and train them again")
    s.add_argument("--executor", choices=["local", "ray"],
                   help="where folds run: local (this machine; default) or ray (a Ray cluster); profile key executor")
    s.add_argument("--address", help="ray: the cluster to join (auto, host:port; default: a local Ray instance "
                                     "for this study); profile key address")
    s.set_defaults(fn=_cmd_study)

    s = sub.add_parser("report", help="tables from a study's artifacts",
                       description="Summarise a study's finished folds (text and CSV under results/<name>/).")
    _add_params(s)
    s.add_argument("--partial", action="store_true", help="tables of an unfinished study, labelled partial")
    s.set_defaults(fn=_cmd_report)

    s = sub.add_parser("predict", help="classify a folder of frames with a trained fold",
                       description="Class probabilities and the per-frame intensity curve of one clip.")
    s.add_argument("checkpoint", type=Path, help=f"a fold's {FINAL}")
    s.add_argument("frames", type=Path, help="folder of the clip's frames (numbered file names)")
    s.add_argument("--detector", choices=CHOICES["detector"], help="default: the training config's")
    s.add_argument("--csv", type=Path, help="write the intensity curve here")
    s.add_argument("--figure", type=Path, help="the figure: frames, intensity curve and class probabilities "
                                               "(default prediction-<folder>.png in the current folder)")
    s.add_argument("--no-figure", action="store_true", help="no figure")
    s.add_argument("--force", action="store_true", help="replace --csv / --figure if it exists (never an input)")
    s.set_defaults(fn=_cmd_predict)

    s = sub.add_parser("pack", help="one .tar.gz of studies' artifacts, without weights (to carry them)",
                       description="Pack whole study folders (runs/<name>/) into one .tar.gz; without --weights the "
                                   ".pt files stay behind and the folds still read as finished where the archive is "
                                   "unpacked (tar -xzf ARCHIVE -C runs/): tables and chapters, no retraining.")
    s.add_argument("studies", nargs="+", type=Path, help="study folders, e.g. runs/synthme-cmnet")
    s.add_argument("--out", required=True, type=Path, help="the archive to write (.tar.gz)")
    s.add_argument("--weights", action="store_true", help=f"keep {FINAL} and {LAST}")
    s.add_argument("--force", action="store_true", help="replace --out if it exists")
    s.add_argument("--partial", action="store_true", help="pack studies whose planned folds are not all finished")
    s.set_defaults(fn=_cmd_pack)

    s = sub.add_parser("status", help="how far a study is (from another terminal, while it runs)",
                       description="Folds done / running / stopped / failed / pending per study and seed, the latest "
                                   "epoch's losses of open folds, training time so far and an estimate of what is "
                                   "left, read from the study's folders. Per-epoch curves: tensorboard --logdir runs/.")
    s.add_argument("studies", nargs="+", type=Path, help="study folders (runs/<name>) or a folder of studies (runs/)")
    s.add_argument("--folds", action="store_true", help="list every fold, not only the open ones")
    s.add_argument("--watch", type=float, metavar="SECONDS", help="refresh every SECONDS until Ctrl-C")
    s.set_defaults(fn=_cmd_status)

    s = sub.add_parser("book", help="execute every notebook for a profile and build the book",
                       description="Execute notebooks/*.ipynb with papermill (with the profile's parameters) into "
                                   "the profile's build folder _build/profiles/<profile>/ and build its HTML there. "
                                   "The committed book (book/executed/, results/) changes only with --publish.")
    s.add_argument("--profile", default="smoke", help="params/<profile>.yaml (default smoke)")
    s.add_argument("--runs-dir", default="runs", help="fold artifacts, shared by all builds (default runs/)")
    s.add_argument("--cache-dir", default="cache")
    s.add_argument("--data-dir", default="data")
    s.add_argument("--only", nargs="*", help="notebook name prefixes, e.g. 01 04")
    s.add_argument("--no-build", action="store_true", help="execute only")
    s.add_argument("--build-only", action="store_true", help="build from the executed notebooks present")
    s.add_argument("--publish", action="store_true",
                   help="copy the profile's chapters into book/executed/ and its tables into results/, replacing "
                        "the committed book, then build it into _build/html/")
    s.add_argument("--published", action="store_true", help="only build the committed book into _build/html/")
    s.set_defaults(fn=_cmd_book)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.fn(args)
    except (ValueError, FileNotFoundError, FileExistsError, RuntimeError) as e:
        print(f"error: {_printable(e)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as e:  # Ctrl-C, or a study's SIGTERM / SIGHUP (cmnet.study.run.Stopped)
        import signal

        signum = getattr(e, "signum", signal.SIGINT)
        print(f"stopped by {signal.Signals(signum).name}: finished folds are kept, the others resume from their "
              "last checkpoint when you run the same command again", file=sys.stderr)
        return 128 + signum
    except Exception as e:  # not foreseen: a bug; kept visible, with its traceback on file
        log = _internal_error_log(e)
        print(f"internal error (a bug in cmnet: please report it with the log): {type(e).__name__}: "
              f"{_printable(e)}; traceback in {log}", file=sys.stderr)
        return 70


def _internal_error_log(e: Exception) -> Path:
    import tempfile
    import traceback

    log = Path(tempfile.gettempdir()) / f"cmnet-internal-error-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    log.write_text(f"cmnet {' '.join(sys.argv[1:])}\n\n" + "".join(traceback.format_exception(e)))
    return log


def _printable(e: Exception) -> str:
    """The message, with a name that is not UTF-8 (a path's raw bytes) shown escaped."""
    return str(e).encode("utf-8", "backslashreplace").decode("utf-8")


if __name__ == "__main__":
    sys.exit(main())
