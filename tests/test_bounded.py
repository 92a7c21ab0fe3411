"""Bounded inputs (issue 35): YAML aliases refused before anything prints them (a 331-byte
"billion laughs" took 3 GB), a value's echo cut to a few hundred characters, SynthME's size
estimated and checked against the free disk, a study name checked against the file system."""

import time

import pytest

from cmnet.cli import main
from cmnet.params import ECHO_LIMIT

LAUGHS = "\n".join(["a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]"]
                   + [f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]" for p, c in zip("abcdefgh", "bcdefghi")]
                   + ["name: *i"]) + "\n"


def _err(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_yaml_aliases_are_refused_before_anything_prints_them(tmp_path, capsys):
    bomb = tmp_path / "laughs.yaml"
    bomb.write_text(LAUGHS)
    assert len(LAUGHS) < 400
    assert main(["study", f"--set=runs_dir={tmp_path}", "--set=name=[&a [x, x, x], *a, *a]"]) == 1
    assert _err(capsys) == "error: --set name=…: a YAML alias (*name); write the value itself"
    t0 = time.perf_counter()
    assert main(["study", str(bomb)]) == 1
    assert time.perf_counter() - t0 < 5  # was a MemoryError after 35 s
    assert _err(capsys) == f"error: {bomb}, line 2: a YAML alias (*name): a params file writes each value itself"


@pytest.mark.parametrize("item", ["epochs=" + "9x" * 50_000, "device=" + "c" * 100_000,
                                  "folds=[" + ",".join(["1"] * 2_000) + "]", "x" * 100_000],
                         ids=["a long word", "a long choice", "a long list", "no ="])
def test_an_echoed_value_is_cut(tmp_path, capsys, item):
    assert main(["report", f"--set=runs_dir={tmp_path}", f"--set={item}"]) == 1
    line = _err(capsys)
    assert len(line) < ECHO_LIMIT + 100 and "error: --set" in line, line[:300]


def test_a_name_longer_than_the_file_system_takes_is_one_line(tmp_path, capsys):
    name = "n" * 300
    for command in ("study", "report"):
        assert main([command, f"--set=runs_dir={tmp_path / 'runs'}", f"--set=results_dir={tmp_path / 'res'}",
                     f"--set=name={name}"]) == 1  # was an internal error (exit 70): file name too long
        line = _err(capsys)
        assert line.startswith(f"error: parameter 'name' is 300 bytes long ({'n' * 40}…); a folder name on this file "
                               "system (") and line.endswith("holds at most 255: give a shorter name"), line
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_synthme_larger_than_the_free_disk_is_refused_with_its_estimate(tmp_path, capsys, monkeypatch):
    import cmnet.data.synthdisk as sd

    monkeypatch.setattr(sd, "free_bytes", lambda out: 10_000_000)
    out = tmp_path / "big"
    assert main(["synth", "--out", str(out), "--subjects", "100000", "--quiet"]) == 1
    printed = capsys.readouterr()
    assert printed.out.startswith("SynthME: 100000 subjects × 10 clips, about ")  # the estimate, before anything
    assert printed.err.strip() == (f"error: SynthME of 100000 × 10 clips at 128² needs about "
                                   f"{sd.human(sd.estimate_bytes(sd_cfg(100000)))}; {out} has 10.0 MB free: fewer "
                                   "subjects or clips, or a smaller size")
    assert sd.estimate_bytes(sd_cfg(100000)) > 100e9 and not out.exists()  # the issue measured 110 GB for 500,000 clips


def sd_cfg(subjects, **kw):
    from cmnet.data.synthme import SynthConfig

    return SynthConfig(subjects=subjects, **kw)


def test_the_synthme_estimate_is_near_what_is_written(tmp_path):
    from cmnet.data.synthdisk import estimate_bytes
    from cmnet.data.synthme import generate

    cfg = sd_cfg(1, clips_per_subject=4, size=64)
    generate(tmp_path / "s", cfg, progress=False)
    written = sum(p.stat().st_size for p in (tmp_path / "s").rglob("*") if p.is_file())
    assert 0.7 < estimate_bytes(cfg) / written < 1.4, (estimate_bytes(cfg), written)
