"""The log importers on hostile input (issue 12, fuzz/README.md).

Every importer of tools/malloclog turns a program's allocation log into a
trace.  A log is input from outside: whatever its bytes, an importer either
writes a trace that pebblesim parses, or exits non-zero with one line
`FILE:LINE: what is wrong` and never a Python traceback.  Hypothesis feeds
each importer text(), binary() and record-shaped garbage (real record
kinds with fields drawn towards the boundaries), which gets past the first
checks into the conversion itself.

IMPORTERS lists the formats totrace.py reads (tools/malloclog/formats/): the
project's logger's, glibc mtrace's and heaptrack's, each with the shapes of
its records.  A format added later gets its entry here.
"""

import contextlib
import io
import os
import re
import subprocess
import sys
import traceback

import pytest
from hypothesis import given, settings, strategies as st

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOL = os.path.join(TOP, "tools", "malloclog")
SIM = os.path.join(TOP, "build", "pebblesim")
PY = "/usr/bin/python3"

sys.path.insert(0, TOOL)
import totrace  # noqa: E402

# name -> (argv before the log, its first line, record shapes: kind and field kinds)
# field kinds: d decimal, x hex, w a word.  --format forces the format, so that
# garbage is read as that format whatever its first line says.
IMPORTERS = {
    "malloclog": (["--format", "malloclog"], None, {
        "S": "ddddd" "w", "F": "dddddd", "T": "ddddd", "K": "ddddw",
        "m": "dddddx", "c": "dddddx", "a": "dddddx", "f": "ddddx",
        "r": "ddddddd" "xx"}),
    "mtrace": (["--format", "mtrace"], "= Start", {
        "+": "xx", "-": "x", "<": "x", ">": "xx", "!": "xx", "=": "w", "@": "w"}),
    "heaptrack": (["--format", "heaptrack"], "v 10400 3", {
        "a": "xx", "+": "x", "-": "x", "c": "x", "A": "", "X": "w", "s": "w", "t": "xx", "i": "xx"}),
}
MAIN = totrace.main

ERRLINE = re.compile(r"^(?P<file>[^\n:]+):(?P<line>\d+): \S.*$")

numbers = st.one_of(st.integers(0, 5), st.integers(0, 2**64 + 5),
                    st.sampled_from([-1, 2**31, 2**63, 2**64 - 1, 2**64]))
words = st.text(alphabet=st.characters(blacklist_characters="\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029 \t"),
                min_size=1, max_size=6)


def field(kind):
    if kind == "d":
        return st.one_of(numbers.map(str), words)
    if kind == "x":
        return st.one_of(numbers.map(lambda n: "%x" % n if n >= 0 else str(n)),
                         st.just("0"), words)
    return words


@st.composite
def record(draw, shapes):
    k = draw(st.sampled_from(sorted(shapes) + ["Z"]))
    kinds = shapes.get(k, "ddd")
    n = draw(st.sampled_from([len(kinds), len(kinds), len(kinds), len(kinds) - 1, len(kinds) + 1]))
    fs = [draw(field(kinds[i] if i < len(kinds) else "w")) for i in range(max(n, 0))]
    # small pids, tids and pointers so that records meet each other
    if len(fs) > 3 and draw(st.booleans()):
        fs[2] = fs[3] = str(draw(st.integers(1, 3)))
    if k in "mcaf" and len(fs) == len(kinds) and draw(st.booleans()):
        fs[-1] = "%x" % draw(st.integers(0, 4) .map(lambda i: 0x1000 + 16 * i))
    return " ".join([k] + fs)


def logs(first, shapes):
    structured = st.builds(lambda head, ls: ("\n".join(([first] if head and first else []) + ls) + "\n").encode("utf-8", "surrogatepass"),
                           st.booleans(), st.lists(record(shapes), max_size=25))
    return st.one_of(structured, st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
                     st.binary(max_size=300))


def run(main, argv, path, out):
    """The importer's command line, in this process: (exit code, stderr).
    An exception other than SystemExit is what the command line would
    have printed as a traceback."""
    old = sys.argv
    sys.argv = ["importer", "-o", out] + argv + [path]
    err = io.StringIO()
    code = 0
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            main()
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
        if e.code is not None and not isinstance(e.code, int):
            err.write(str(e.code) + "\n")
    except Exception:
        code = 1
        err.write(traceback.format_exc())
    finally:
        sys.argv = old
    return code, err.getvalue()


def judge(name, code, err, path, out):
    if code == 0:
        with open(out) as f:
            text = f.read()
        assert text.startswith("pebbletrace 1\n"), f"{name}: exit 0 without a trace"
        r = subprocess.run([SIM, "replay", "--quiet", out], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, f"{name}: its trace does not replay:\n{r.stdout}{r.stderr}\n{text[:2000]}"
        return
    lines = err.strip().splitlines()
    assert "Traceback" not in err, f"{name}: traceback on a malformed log:\n{err}"
    assert len(lines) == 1, f"{name}: wants one error line, got:\n{err}"
    m = ERRLINE.match(lines[0])
    assert m and m.group("file") == path, f"{name}: error is not FILE:LINE: what:\n{err}"
    with open(path, "rb") as f:
        nlines = f.read().count(b"\n") + 1
    # LINE 0: the file as a whole (totrace.py)
    assert 0 <= int(m.group("line")) <= nlines, f"{name}: error names a line the log has not:\n{err}"


@pytest.mark.parametrize("name", sorted(IMPORTERS))
@settings(max_examples=80)     # each of three formats; about a minute in all
@given(data=st.data())
def test_garbage_gives_file_line_errors(name, data, tmp_path_factory):
    argv, first, shapes = IMPORTERS[name]
    d = tmp_path_factory.mktemp("imp")
    path, out = str(d / "log.1"), str(d / "out.trace")
    with open(path, "wb") as f:
        f.write(data.draw(logs(first, shapes)))
    code, err = run(MAIN, argv, path, out)
    judge(name, code, err, path, out)


def test_cli_error_is_one_line_and_replays_when_valid(tmp_path):
    """The real command line, once each way: an error, and a trace pebblesim accepts."""
    bad = tmp_path / "log.1"
    bad.write_text("S 0 0 7 7 1 prog\nm 5 1 7 7 12 zz\n")
    r = subprocess.run([PY, os.path.join(TOOL, "totrace.py"), str(bad)], capture_output=True, text=True)
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert ERRLINE.match(r.stderr.strip()) and r.stderr.startswith(f"{bad}:2: "), r.stderr
    good = tmp_path / "log.2"
    good.write_text("S 0 0 7 7 1 prog\nm 5 1 7 7 12 1000\nf 6 2 7 7 1000\n")
    out = tmp_path / "t.trace"
    subprocess.run([PY, os.path.join(TOOL, "totrace.py"), "-o", str(out), str(good)], check=True)
    r = subprocess.run([SIM, "replay", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
