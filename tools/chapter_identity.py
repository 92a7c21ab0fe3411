"""The identity check of a refactoring of the words: every output of every chapter, before and after.

    python tools/chapter_identity.py BEFORE/ AFTER/     # two folders of executed notebooks

Execute the chapters twice on the same finished folds (``cmnet book --profile cpu --no-build``
reuses them: the fingerprints do not depend on the report's code), copying
``_build/profiles/<profile>/book/executed/`` aside in between; this compares every output of
every code cell — text, HTML tables, glued numbers and sentences, and each figure's PNG by its
digest — after removing what differs between two executions of the same code (pandas Styler ids
and object addresses, commit hashes, timings). Prints per chapter "identical" or the first
differences; exits 1 if any chapter differs. Used for the report/statistics split (issue 34).
"""
import hashlib, json, re, sys
from pathlib import Path

UUID = re.compile(r"T_[0-9a-f]{5}(_row\d+_col\d+|_level\d+_col\d+|_level\d+_row\d+|_row\d+)?")
def norm_text(s):
    s = UUID.sub("T_X", s)
    s = re.sub(r" at 0x[0-9a-f]+>", " at 0x>", s)
    s = re.sub(r"[0-9.]+ GB free", "<n> GB free", s)        # the disk the chapter ran on
    s = re.sub(r"\b[0-9a-f]{12}\b", "<sha>", s)          # commit hashes
    s = re.sub(r"\d+(\.\d+)? s\b", "<t> s", s)             # timings
    return s

def outputs(nb):
    out = []
    for i, c in enumerate(json.loads(Path(nb).read_text())["cells"]):
        if c["cell_type"] != "code":
            continue
        for o in c.get("outputs", []):
            if o["output_type"] == "stream":
                if o["name"] == "stdout":
                    out.append((i, "stdout", norm_text("".join(o["text"]))))
                continue
            if o["output_type"] == "error":
                out.append((i, "error", o["ename"] + ": " + o["evalue"])); continue
            for k, v in sorted(o.get("data", {}).items()):
                v = "".join(v) if isinstance(v, list) else (json.dumps(v, sort_keys=True) if not isinstance(v, str) else v)
                if k.startswith("image/"):
                    v = hashlib.sha256(v.encode()).hexdigest()[:16]
                else:
                    v = norm_text(v)
                out.append((i, k, v))
    return out

a, b = Path(sys.argv[1]), Path(sys.argv[2])
bad = 0
for nb in sorted(a.glob("*.ipynb")):
    x, y = outputs(nb), outputs(b / nb.name)
    if x == y:
        print(f"{nb.name}: identical ({len(x)} outputs)"); continue
    bad += 1
    print(f"{nb.name}: DIFFERS ({len(x)} vs {len(y)} outputs)")
    for p, q in zip(x, y):
        if p != q:
            import difflib
            print(f"  cell {p[0]} {p[1]} vs cell {q[0]} {q[1]}:")
            for l in list(difflib.unified_diff(p[2].splitlines(), q[2].splitlines(), lineterm="", n=0))[2:14]:
                print("    " + l[:240])
sys.exit(1 if bad else 0)
