"""Property-based (Hypothesis): every key of the configuration and the flags and paths of the
CLI commands, given hostile values — wrong types, NaN, ±inf, huge and negative numbers, empty
and non-UTF-8 text, paths that are files, folders, missing — either work or fail with one line
that names the key, flag or file. About 15 s in `make test` (1,000 draws a test); HYPOTHESIS_PROFILE=long draws
ten times as many (a measurement: 3,000 draws a test found nothing more, 34 s)."""

import math
import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cmnet.cli import main
from cmnet.config import Config, ConfigError
from cmnet.params import parse_sets

# no example database: the run leaves the checkout as it found it
settings.register_profile("default", max_examples=1000, deadline=None, database=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture])
settings.register_profile("long", max_examples=10000, deadline=None, database=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

KEYS = sorted(Config.key_index())
HOSTILE = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12), st.sampled_from(["", "a\udc80b", " ", "1e-3"]),
    st.lists(st.one_of(st.integers(-3, 3), st.text(max_size=3)), max_size=3), st.dictionaries(st.text(max_size=2),
                                                                                             st.integers(), max_size=2))
TEXT = st.one_of(st.text(max_size=15), st.sampled_from(["1e-3", ".inf", "-.nan", "[0,1", "{a: 1}", "a\udc80b", "~",
                                                        "0x10", "1_000", "  ", "=", "null"]))


def _one_line_naming(msg: str, *names: str) -> None:
    assert "\n" not in msg, msg
    assert any(n in msg for n in names), (names, msg)


@given(key=st.sampled_from(KEYS), value=HOSTILE)
def test_every_key_takes_a_value_or_names_itself(key, value):
    try:
        cfg = Config.from_flat({key: value}, "drawn").validate("drawn")
    except ConfigError as e:
        _one_line_naming(str(e), key)
        return
    for k, v in cfg.to_flat().items():  # what is accepted is a value of the key's type, finite
        if isinstance(v, float):
            assert math.isfinite(v), (k, v)


@given(key=st.sampled_from(KEYS), text=TEXT)
def test_every_key_on_the_command_line_takes_text_or_names_it(key, text):
    """`--set KEY=TEXT` as the CLI reads it (parse_sets, then the configuration)."""
    try:
        Config.from_flat(parse_sets([f"{key}={text}"]), "--set").validate("--set")
    except ConfigError as e:
        _one_line_naming(str(e), key, "--set")


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    d = tmp_path_factory.mktemp("paths")
    (d / "file.txt").write_text("not what any command wants")
    (d / "folder").mkdir()
    (d / "loop").symlink_to(d / "loop")
    return {"file": d / "file.txt", "folder": d / "folder", "missing": d / "missing", "loop": d / "loop",
            "odd": Path(os.fsdecode(b"odd\xff"))}


COMMANDS = [
    lambda p: ["status", p],
    lambda p: ["pack", p, "--out", "/nonexistent-dir/x.tar.gz"],
    lambda p: ["predict", p, p, "--no-figure"],
    lambda p: ["report", p],
    lambda p: ["train", p, "--fold", "sub01"],
    lambda p: ["study", p, "--quiet"],
    lambda p: ["preprocess", "--dataset", "casme2", "--root", p, "--quiet"],
]


@given(command=st.sampled_from(range(len(COMMANDS))), kind=st.sampled_from(["file", "folder", "missing", "loop", "odd"]))
def test_commands_on_paths_that_are_not_what_they_want(paths, capsys, command, kind):
    p = str(paths[kind])
    code = main(COMMANDS[command](p))
    err = capsys.readouterr().err.strip()
    assert code != 0
    assert len(err.splitlines()) == 1 and err.startswith("error: "), err


@given(flag=st.sampled_from(["--subjects", "--clips-per-subject", "--seed", "--size", "--difficulty"]), text=TEXT)
def test_synth_flags(tmp_path_factory, capsys, flag, text):
    """`cmnet synth FLAG TEXT`: argparse refuses what is not a number (usage and a line naming
    the flag, exit 2); a number
    out of its key's range is one line naming the flag; (a valid one would generate: skipped)."""
    typ = float if flag == "--difficulty" else int
    try:
        value = typ(text)
    except ValueError:
        value = None
    assume(value is None or not _valid_synth(flag, value))
    out = tmp_path_factory.mktemp("synth")
    try:
        code = main(["synth", "--out", str(out / "d"), flag, text, "--quiet"])
    except SystemExit as e:  # argparse: "invalid int value"
        code = e.code
    err = capsys.readouterr().err.strip()
    assert code != 0 and not (out / "d").exists()
    if code == 1:
        _one_line_naming(err, flag)
    else:  # argparse's usage, then one line naming the flag
        assert re.fullmatch(rf"cmnet synth: error: argument {flag}: (invalid (int|float) value: .*|expected one "
                            r"argument)", err.splitlines()[-1]), err


def _valid_synth(flag: str, value) -> bool:
    key = {"--subjects": "synth_subjects", "--clips-per-subject": "synth_clips_per_subject", "--seed": "synth_seed",
           "--size": "synth_size", "--difficulty": "synth_difficulty"}[flag]
    try:
        Config.from_flat({key: value}, "t")
    except ConfigError:
        return False
    return True


SHEET_VALUES = st.one_of(st.none(), st.integers(-5, 10**9), st.floats(allow_nan=True, allow_infinity=True),
                         st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=8),  # what a sheet holds
                         st.sampled_from(["/", "-1", "8.5", "1e3", "=1/0", "sub01", "EP01_01"]))


def _set_cell(sheet: Path, row: int, column: int, value) -> None:
    """One cell of a coding sheet replaced (a non-finite float as its text: a sheet holds no NaN)."""
    from openpyxl import load_workbook

    wb = load_workbook(sheet)
    wb.active.cell(row=row, column=column, value=value if not isinstance(value, float) or math.isfinite(value)
                   else str(value))
    wb.save(sheet)


def _damage(damage: str, frame: Path, junk: Path, clip: Path, subject: Path) -> None:
    """One damage to a frame tree: a frame missing or junk, a clip folder that is a file, a
    subject folder that is a file, a leftover copy of a subject folder."""
    import shutil as sh

    if damage == "frame missing":
        frame.unlink()
    elif damage == "frame junk":
        junk.write_bytes(b"junk")
    elif damage == "clip folder a file":
        sh.rmtree(clip)
        clip.write_text("a file")
    elif damage == "subject folder a file":
        sh.rmtree(subject)
        subject.write_text("a file")
    elif damage == "subject copied":
        sh.copytree(subject, subject.with_name(subject.name + "_backup"))


def _check_read(read, root, named_file: str):
    """The reader returns clips and a report (every excluded clip named, with why) or one
    DatasetError line naming ``named_file`` (the sheet or the frame tree)."""
    from cmnet.data import DatasetError

    try:
        clips, report = read(root)
    except DatasetError as e:
        assert "\n" not in str(e) and named_file in str(e), str(e)
        return None
    assert all(r.reason and r.clip for r in report.rows)
    assert all(c.onset <= c.apex <= c.offset and len(c.frames) == c.offset - c.onset + 1 for c in clips)
    assert len({c.key for c in clips}) == len(clips), "a clip is listed twice"
    assert clips or report.rows, "every row is a clip or a reported exclusion"
    return clips


DAMAGES = st.sampled_from(["none", "frame missing", "frame junk", "clip folder a file", "subject folder a file",
                           "subject copied"])


# per dataset: its fixture, reader, the Excel row of the first clip, the clips (rows), the columns
# to mutate, and the frame tree's places to damage (a frame, a junk frame, a clip, a subject)
SHEETS = {
    "casme2": ("casme2", "read_casme2", 2, 9, [0, 1, 3, 4, 5, 7, 8], "CASME2_RAW_selected",
               ("sub01/EP01_01/img10.jpg", "sub02/EP02_01/img22.jpg", "sub01/EP01_02", "sub02")),
    "samm": ("samm", "read_samm", 15, 3, [0, 1, 3, 4, 5, 10], "SAMM",
             ("006/006_1_2/006_05563.jpg", "007/007_3_1/007_00012.jpg", "006/006_1_3", "007")),
}


@settings(max_examples=80 if os.environ.get("HYPOTHESIS_PROFILE") != "long" else 2000)
@given(data=st.data(), dataset=st.sampled_from(sorted(SHEETS)), value=SHEET_VALUES, damage=DAMAGES)
def test_the_sheet_readers_over_mutated_sheets_and_trees(tmp_path_factory, data, dataset, value, damage):
    """CASME II and SAMM: one cell of the coding sheet replaced by a hostile value and one damage
    to the frame tree: the reader returns clips and a report (every excluded clip named, with
    why), or raises one DatasetError line naming the sheet."""
    import _fixtures
    import cmnet.data

    fixture, reader, first, rows, cols, tree, (frame, junk, clip, subject) = SHEETS[dataset]
    root = tmp_path_factory.mktemp(dataset)
    sheet = getattr(_fixtures, fixture)(root)
    _set_cell(sheet, first + data.draw(st.integers(0, rows - 1)), data.draw(st.sampled_from(cols)) + 1, value)
    base = root / tree
    _damage(damage, frame=base / frame, junk=base / junk, clip=base / clip, subject=base / subject)
    clips = _check_read(getattr(cmnet.data, reader), root, sheet.name)
    assert clips is None or len(clips) <= rows


@settings(max_examples=40 if os.environ.get("HYPOTHESIS_PROFILE") != "long" else 1000)
@given(damage=st.lists(st.sampled_from(["frame missing", "frame junk", "odd frame name", "clip folder a file",
                                        "unknown class", "empty clip", "subject copied", "subject without micro",
                                        "non-numeric subject", "stray file", "one frame"]), max_size=3, unique=True))
def test_the_smic_reader_over_mutated_trees(tmp_path_factory, damage):
    import shutil as sh

    from _fixtures import smic
    from cmnet.data import read_smic_hs

    root = tmp_path_factory.mktemp("smic")
    smic(root)
    hs = root / "HS"
    clip = hs / "s1" / "micro" / "positive" / "s1_po_01"
    for d in damage:
        if d == "frame missing" and (clip / "image000103.bmp").exists():
            (clip / "image000103.bmp").unlink()
        elif d == "frame junk" and clip.is_dir():
            (clip / "image000104.bmp").write_bytes(b"junk")
        elif d == "odd frame name" and clip.is_dir():
            (clip / "image_x.bmp").write_bytes(b"junk")
        elif d == "clip folder a file" and clip.is_dir():
            sh.rmtree(clip)
            clip.write_text("a file")
        elif d == "unknown class" and (hs / "s2" / "micro" / "surprise").is_dir():
            (hs / "s2" / "micro" / "surprise").rename(hs / "s2" / "micro" / "Fear")
        if d == "empty clip":
            (hs / "s2" / "micro" / "negative" / "s2_ne_01").mkdir(parents=True, exist_ok=True)
        elif d == "subject copied" and not (hs / "s1_backup").exists():
            sh.copytree(hs / "s1", hs / "s1_backup")
        elif d == "subject without micro":
            (hs / "s3").mkdir(exist_ok=True)
        elif d == "non-numeric subject":
            (hs / "sX" / "micro").mkdir(parents=True, exist_ok=True)
        elif d == "stray file":
            (hs / "s2" / "micro" / "notes.txt").write_text("x")
        elif d == "one frame":
            one = hs / "s2" / "micro" / "surprise" / "s2_sur_02"
            if one.parent.is_dir():
                one.mkdir(exist_ok=True)
                sh.copy(hs / "s2" / "micro" / "surprise" / "s2_sur_01" / "image000100.bmp", one)
    _check_read(read_smic_hs, root, "HS")


# ------------------------------------------------------------------ the chapters' parameters

NOTEBOOK_VALUE = st.one_of(HOSTILE, TEXT, st.sampled_from(["smoke", "cpu", "../params/smoke", "params/smoke.yaml",
                                                           "a\x00b", "/", "runs", "x" * 300, "notebooks"]))


@given(name=st.sampled_from(["profile", "runs_dir", "results_dir", "cache_dir", "data_dir"]), value=NOTEBOOK_VALUE)
def test_the_chapters_parameters_work_or_name_themselves(name, value):
    """A chapter's parameters cell (papermill's -p, or a user's edit in Jupyter) over its first
    step, the configuration every chapter builds (``variant_config(profile, "cmnet", **dirs)``):
    it works, or fails with one line of the kinds a chapter shows as one line (cmnet.notebook),
    naming the parameter or its value; never another exception, never a value accepted as
    something it is not."""
    from cmnet.notebook import user_errors
    from cmnet.variants import variant_config

    params = {"profile": "smoke", "runs_dir": "runs", "results_dir": "results", "cache_dir": "cache", "data_dir": "data"}
    params[name] = value
    dirs = {k: v for k, v in params.items() if k != "profile"}
    try:
        cfg = variant_config(params["profile"], "cmnet", **dirs)
    except user_errors() as e:
        shown = str(value)[:40]
        _one_line_naming(str(e), name, "profile" if name == "profile" else name, shown)
        return
    if name != "profile" and value is None:  # None: not given, the profile's folder
        assert cfg.to_flat()[name] == {"runs_dir": "runs", "results_dir": "results", "cache_dir": "cache",
                                       "data_dir": "data"}[name]
    elif name != "profile":  # accepted: the folder is that text, as given
        assert isinstance(value, str) and value.strip(), (name, value)
        assert cfg.to_flat()[name] == value
    else:
        assert value in ("smoke", "cpu")
