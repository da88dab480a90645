"""The importers of the standard tools' recordings: glibc mtrace logs and
heaptrack files (tools/malloclog/formats/), beside the project's own logger's.

tools/malloclog/testprog.c (two threads, a fork, a realloc, cross-thread
frees, malloc(0), leaks) is run at test time under glibc's mtrace
(libc_malloc_debug.so.0 and build/mtraceon.so preloaded) and under heaptrack,
so the tests follow the installed tools' versions: the trace must say the
program's history as far as each format can tell it, and the counts and peak
must be what the log says and what heaptrack_print says.  Hand-written files
cover every record type, realloc chains, cut-off logs, and each error message
(FILE:LINE: what is wrong, exit status 2, never a traceback).
"""

import gzip
import os
import re
import subprocess
import sys

import pytest

from test_malloclog import CFLAGS, TOOL, bysize, checkrules, replay

TOTRACE = os.path.join(TOOL, "totrace.py")
sys.path.insert(0, TOOL)
import totrace  # noqa: E402

def run(*args, cwd=None):
    return subprocess.run(["/usr/bin/python3", TOTRACE, *args], capture_output=True,
                          text=True, cwd=cwd, timeout=120)


def header(text):
    return " ".join(ln[2:] for ln in text.splitlines() if ln.startswith("# "))


def count(text, pattern):
    m = re.search(pattern, header(text))
    assert m, pattern
    return int(m[1])


# ---------------------------------------------------------------------------
# The test program under each tool.

@pytest.fixture(scope="module")
def built(tmp_path_factory):
    d = tmp_path_factory.mktemp("importers")
    prog, shim = str(d / "testprog"), str(d / "mtraceon.so")
    subprocess.run(["gcc", *CFLAGS, "-o", prog, os.path.join(TOOL, "testprog.c"),
                    "-lpthread"], check=True)
    subprocess.run(["gcc", *CFLAGS, "-shared", "-o", shim,
                    os.path.join(TOOL, "mtraceon.c"), "-lpthread"], check=True)
    return d, prog, shim


@pytest.fixture(scope="module")
def mtrace(built):
    d, prog, shim = built
    log = d / "testprog.mtrace"
    env = dict(os.environ, MALLOC_TRACE=str(log), LD_PRELOAD=f"libc_malloc_debug.so.0 {shim}")
    subprocess.run([prog], env=env, check=True, timeout=60)
    out = d / "mtrace.trace"
    r = run("-o", str(out), str(log))
    assert r.returncode == 0, r.stderr
    return dict(log=str(log), path=str(out), text=out.read_text(), lines=log.read_text())


@pytest.fixture(scope="module")
def heaptrack(built):
    d, prog, _ = built
    subprocess.run(["heaptrack", "-o", str(d / "testprog"), prog], check=True,
                   capture_output=True, timeout=120)
    found = [p for p in os.listdir(d) if re.fullmatch(r"testprog\.(zst|gz)", p)]
    assert len(found) == 1, os.listdir(d)
    path = str(d / found[0])
    out = d / "heaptrack.trace"
    r = run("-o", str(out), path)
    assert r.returncode == 0, r.stderr
    pr = subprocess.run(["heaptrack_print", path], capture_output=True, text=True, timeout=120)
    assert pr.returncode == 0, pr.stderr
    return dict(file=path, path=str(out), text=out.read_text(), dir=d, printed=pr.stdout)


def test_mtrace_log_is_one_clean_process(mtrace):
    lines = mtrace["lines"].splitlines()
    assert lines[0] == "= Start"
    assert "= Start" not in lines[1:]       # the fork child's records went to /dev/null
    assert " 0x1771" not in mtrace["lines"]  # nor is its malloc(6001) there


def test_mtrace_trace_says_the_history(mtrace):
    _, events, blocks, procs = checkrules(mtrace["text"])
    assert len(procs) == 1                   # no threads, no processes
    a, b, a2 = bysize(blocks, 1001), bysize(blocks, 2001), bysize(blocks, 3001)
    c, d, f = bysize(blocks, 4001), bysize(blocks, 5001), bysize(blocks, 7001)
    assert not [x for x in blocks.values() if x["size"] == 6001]
    # realloc: the new block, then the old one freed
    assert a2["alloc"] < a["free"] == a2["alloc"] + 2
    for x in (a, b, c, a2):
        assert events[x["free"]][2] == "free"
    for x in (d, f):                        # leaks: freed by the exit
        assert events[x["free"]][2] == "exit"
    ones = [x for x in blocks.values() if x["size"] == 1]
    assert len(ones) == 1 and events[ones[0]["free"]][2] == "free"
    # the synthetic clock: the call on line N at N microseconds
    lines = mtrace["lines"].splitlines()
    n = next(i for i, ln in enumerate(lines, 1) if ln.endswith(" 0xfa1"))
    assert events[c["alloc"]][0] == n * 1000


def test_mtrace_header_counts_what_the_log_says(mtrace):
    log, text = mtrace["lines"], mtrace["text"]
    recs = [ln.rsplit("] ", 1)[-1].split()[0] for ln in log.splitlines()[1:]]
    assert count(text, r"Read: (\d+) '\+'") == recs.count("+")
    assert count(text, r"(\d+) '-' \(free") == recs.count("-")
    assert count(text, r"(\d+) '<'/'>' reallocs") == recs.count("<") == recs.count(">") == 1
    assert count(text, r"Mapped: (\d+) allocations") == recs.count("+")
    assert count(text, r"(\d+) reallocs, ") == 1
    # peak: the log's live requested bytes, counted here independently
    live, used, peak = {}, 0, 0
    for ln in log.splitlines()[1:]:
        w = ln.rsplit("] ", 1)[-1].split()
        if w[0] in "+>":
            live[w[1]] = int(w[2], 16)
            used += live[w[1]]
            peak = max(peak, used)
        else:
            used -= live.pop(w[1], 0)
    assert count(text, r"peak live requested bytes (\d+)") == peak
    assert count(text, r"at its end (\d+) blocks") == len(live) == 2
    assert "synthetic" in header(text)


def test_mtrace_trace_replays(mtrace):
    replay(mtrace["path"])


def test_heaptrack_trace_says_the_history(heaptrack):
    _, events, blocks, procs = checkrules(heaptrack["text"])
    assert len(procs) == 1
    a, b, a2 = bysize(blocks, 1001), bysize(blocks, 2001), bysize(blocks, 3001)
    d, f = bysize(blocks, 5001), bysize(blocks, 7001)
    assert not [x for x in blocks.values() if x["size"] == 6001]   # the fork child is not traced
    # realloc is a '-' then a '+' in heaptrack's file
    assert a["free"] < a2["alloc"]
    for x in (d, f):
        assert events[x["free"]][2] == "exit"
    assert events[b["free"]][2] == "free"
    assert "no pointers" in header(heaptrack["text"])


def kib(s):
    """heaptrack_print's 291.02K as (bytes, half its last digit)."""
    m = re.fullmatch(r"([\d.]+)([BKMG])", s)
    scale = {"B": 1, "K": 1000, "M": 1000 ** 2, "G": 1000 ** 3}[m[2]]
    digits = len(m[1].split(".")[1]) if "." in m[1] else 0
    return float(m[1]) * scale, scale / 10 ** digits / 2


def test_heaptrack_counts_are_heaptrack_prints(heaptrack):
    p, text = heaptrack["printed"], heaptrack["text"]
    calls = int(re.search(r"^calls to allocation functions: (\d+)", p, re.M)[1])
    temp = int(re.search(r"^temporary memory allocations: (\d+)", p, re.M)[1])
    peak, tol = kib(re.search(r"^peak heap memory consumption: (\S+)", p, re.M)[1])
    assert count(text, r"(\d+) '\+' \(heaptrack_print") == calls
    assert count(text, r"Mapped: (\d+) allocations") == calls
    assert count(text, r"(\d+) temporary") == temp
    assert abs(count(text, r"peak live requested bytes (\d+)") - peak) <= tol


def test_heaptrack_zstd_gzip_and_plain_give_one_trace(heaptrack):
    d = heaptrack["dir"]
    plain = subprocess.run(["zstd", "-d", "-c", "-q", heaptrack["file"]], capture_output=True,
                           check=True).stdout if heaptrack["file"].endswith(".zst") \
        else gzip.decompress(open(heaptrack["file"], "rb").read())
    (d / "plain").write_bytes(plain)
    (d / "again.gz").write_bytes(gzip.compress(plain))
    base = None
    for name in ("plain", "again.gz"):
        text = totrace.convert([str(d / name)])
        body = [ln for ln in text.splitlines() if not ln.startswith("#")]
        if base is None:
            base = body
        assert body == base
    ref = [ln for ln in heaptrack["text"].splitlines() if not ln.startswith("#")]
    assert ref == base


def test_heaptrack_trace_replays(heaptrack):
    replay(heaptrack["path"])


# ---------------------------------------------------------------------------
# Hand-written files: every record type, realloc chains, cut-off logs.

def convert(tmp_path, content, name="log", **kw):
    p = tmp_path / name
    p.write_bytes(content.encode() if isinstance(content, str) else content)
    return totrace.convert([str(p)], **kw)


MTRACE = """= Start
@ /usr/bin/prog:[0x1000] + 0x10 0xa
@ /a path/with spaces.so:(operator+[abi:x]+12)[0x2000] + 0x20 0
+ 0x30 0x64
@ prog:[0x1] < 0x10
@ prog:[0x1] > 0x40 0x14
@ prog:[0x1] < 0x40
@ prog:[0x1] > 0x50 0x1e
@ prog:[0x1] < 0x50
@ prog:[0x1] > 0x50 0x28
@ prog:[0x1] ! 0x50 0x4000000000000000
@ prog:[0x1] + (nil) 0x4000000000000000
@ prog:[0x1] - 0x999
@ prog:[0x1] < 0x888
@ prog:[0x1] > 0x60 0x32
- 0x20
- 0x50
= End
"""


def test_mtrace_every_record_and_a_realloc_chain(tmp_path):
    text = convert(tmp_path, MTRACE)
    _, events, blocks, procs = checkrules(text)
    sizes = sorted(b["size"] for b in blocks.values())
    assert sizes == [1, 10, 20, 30, 40, 50, 100]      # size 0 is 1 byte
    by = {b["size"]: b for b in blocks.values()}
    # the chain 10 -> 20 -> 30 -> 40 (in place): each new block, then the old freed
    for old, new in ((10, 20), (20, 30), (30, 40)):
        assert by[new]["alloc"] < by[old]["free"] == by[new]["alloc"] + 2
    assert events[by[40]["free"]][2] == "free" and events[by[100]["free"]][2] == "exit"
    h = header(text)
    assert "Read: 4 '+' (1 of them failed" in h
    assert "4 '<'/'>' reallocs, 1 '!' failed reallocs" in h
    assert "'= End': line 18" in h
    assert "dropped: 2" in h        # the free of 0x999 and the realloc of 0x888: never seen
    assert "Mapped: 3 allocations, 4 reallocs, 2 frees" in h
    assert "peak live requested bytes 190" in h


def test_mtrace_cut_off_mid_line(tmp_path):
    # killed: stdio's buffer ends in the middle of a record, which may still
    # parse (0x3e9 cut to 0x3): it is not read, and the header says so
    text = convert(tmp_path, "= Start\n+ 0x10 0x20\n+ 0x30 0x3")
    _, events, blocks, _ = checkrules(text)
    assert [b["size"] for b in blocks.values()] == [32]
    assert "ends in the middle of line 3" in header(text)
    assert "at its end 1 blocks (32 bytes) are live" in header(text)


def test_mtrace_cut_off_inside_a_realloc(tmp_path):
    text = convert(tmp_path, "= Start\n+ 0x10 0x20\n< 0x10\n")
    _, _, blocks, _ = checkrules(text)
    assert [b["size"] for b in blocks.values()] == [32]
    assert "without its '>': that realloc is not read" in header(text)


HEAPTRACK = """v 10400 3
# a comment
X ./prog --flag
I 1000 5e2907
s 4 main
s 9 a b c.cpp
i 55ed0bb430ef 1 1
t 1 0
S leak:foo

a 10 1
a 20 1
+ 0
+ 1
c 5
+ 0
R 3e7
- 0
c a
- 0
A
+ 1
- 1
- 1
c 14
"""


def test_heaptrack_every_record_and_the_pairing(tmp_path):
    text = convert(tmp_path, HEAPTRACK)
    conf, events, blocks, _ = checkrules(text)
    allocs = [(e[0], int(e[3][0])) for e in events if e[2] == "alloc"]
    assert allocs == [(0, 16), (0, 32), (5000000, 16), (10000000, 32)]
    # the '-' at 5 ms frees the newest 16-byte block (#3), the one at 10 ms the older (#1)
    frees = [(e[0], e[3][0]) for e in events if e[2] == "free"]
    assert frees == [(5000000, "#3"), (10000000, "#1"), (10000000, "#4"), (10000000, "#2")]
    h = header(text)
    assert "format 3, written by heaptrack 1.4.0, of `./prog --flag`" in h
    # heaptrack's rule makes the second '- 0' temporary too: after a '-' it
    # remembers info 0
    assert "2 allocation infos, 4 '+'" in h and "4 '-', 3 temporary" in h
    assert "peak live requested bytes 64 at 5 ms" in h
    assert "attached to the running program (line 21)" in h


@pytest.mark.parametrize("v", ["v 10200", "v 10200 1", "v 10300 2"])
def test_heaptrack_older_formats_are_read(tmp_path, v):
    text = convert(tmp_path, v + "\na 8 1\n+ 0\n- 0\n")
    checkrules(text)


def test_heaptrack_plain_cut_off(tmp_path):
    text = convert(tmp_path, "v 10400 3\na 10 1\n+ 0\n- 0\n+ 0\n- ")
    _, events, blocks, _ = checkrules(text)
    assert len(blocks) == 2 and "ends in the middle of line 6" in header(text)


def test_format_is_detected_and_forced(tmp_path):
    for content, fmt in ((MTRACE, "mtrace"), (HEAPTRACK, "heaptrack"),
                         ("S 1000 0 10 10 1 prog\nm 1100 1 10 10 32 a0\n", "malloclog")):
        p = tmp_path / fmt
        p.write_text(content)
        assert totrace.formats.load([str(p)]).fmt == fmt
        assert totrace.convert([str(p)], fmt=fmt) == totrace.convert([str(p)])


# ---------------------------------------------------------------------------
# Malformed input: FILE:LINE: what is wrong, exit 2, from the command line.

ZSTDBAD = b"\x28\xb5\x2f\xfd" + b"\x00" * 40
GZCUT = gzip.compress(HEAPTRACK.encode())[:30]

MALFORMED = [
    # (format forced or None, content, expected stderr after "FILE:")
    (None, "= Start\n@ p:[0x1] + 0x10\n", "2: '+' takes 2 argument(s), this one 1"),
    (None, "= Start\n+ 0x1g 0x10\n", "2: bad pointer '0x1g': not 0x... or (nil)"),
    (None, "= Start\n+ 0x10 16\n", "2: bad size '16': not 0x... or 0"),
    (None, "= Start\n+ 0x10 0x1\n- 0x10\n- 0x10\n",
     "4: free of 0x10, already freed on line 3 and not allocated since: not one process's log"),
    (None, "= Start\n< 0x10\n+ 0x20 0x1\n", "3: realloc's '<' on line 2 is not followed by its '>'"),
    (None, "= Start\n> 0x10 0x1\n", "2: realloc's '>' without the '<' line before it"),
    (None, "= Start\n+ 0x10 0x1\n= Start\n", "3: a second '= Start'"),
    (None, "= Start\n@ p:[0x11= Start\n", "2: a line cut off by another '= Start'"),
    (None, "= Start\n= End\n+ 0x10 0x1\n", "3: a record after '= End' (line 2)"),
    (None, "= Start\n= Stop\n", "2: unknown '=' line '= Stop'"),
    (None, "= Start\n@ p:[0x1] * 0x10\n", "2: not an mtrace record"),
    (None, "= Start\n@ p + 0x10 0x1\n", "2: a caller ('@ ...') without its '[ADDRESS] '"),
    (None, "= Start\n- (nil)\n", "2: '-' of (nil): mtrace never logs that"),
    (None, "= Start\n+ 0x10 0x1\r\n", "2: a carriage return in column 11"),
    ("mtrace", "+ 0x10 0x1\n", "1: not a glibc mtrace log: its first line is '= Start'"),
    ("mtrace", "", "0: empty: not an mtrace log"),
    (None, "v 10500 4\n", "1: heaptrack file format 4 (written by heaptrack 1.5.0): this "
     "importer reads formats 1, 2, 3 only"),
    (None, "v 10100\n", "1: heaptrack file format 0 (written by heaptrack 1.1.0)"),
    ("heaptrack", "= Start\n", "1: not a heaptrack file"),
    ("heaptrack", "", "0: empty: not a heaptrack file"),
    ("heaptrack", "v 1x400 3\n", "1: bad heaptrack version '1x400': not a hex number"),
    (None, "v 10400 3\na 10 1\n+ 1\n", "3: allocation info 1 is not defined (there are 1 'a' "
     "lines before this one)"),
    (None, "v 10400 3\na 10 1\n+ 0\n- 0\n- 0\n",
     "5: '-' of allocation info 0 (16 bytes), which has no live allocation"),
    (None, "v 10400 3\n+ 10 2 7f00\n", "2: '+' takes 1 argument(s), this one 3: a raw file"),
    (None, "v 10400 3\nc 10\nc f\n", "3: time goes back: 15 ms after 16 ms"),
    (None, "v 10400 3\na zz 1\n", "2: bad size 'zz': not a hex number"),
    (None, "v 10400 3\nQ 1\n", "2: unknown record 'Q 1'"),
    (None, "v 10400 3\nX a\nX b\n", "3: a second 'X' (command line) record"),
    (None, ZSTDBAD, "0: the zstd stream is cut off or corrupt"),
    (None, GZCUT, "0: the gzip stream is cut off or corrupt"),
    (None, b"v 10400 3\na 10\x00 1\n", "2: binary data (byte 0x00 in column 5): not a text log"),
    (None, "S 1000 0 10 10 1 p\nm 1100 1 10 x 32 a0\n", "2: bad thread id 'x': not a decimal"),
    (None, "S 1000 0 10 10 1 p\nm 1100 1 10 10 32\n", "2: a m record has 7 fields, this one 6"),
    (None, "S 1000 0 10 10 1 p\nf 1200 2 10 10 xyz\n", "2: bad pointer 'xyz': not a hex"),
    (None, "S 1000 0 10 10 1 p\nz 1200 2 10 10\n", "2: unknown record kind 'z'"),
    ("malloclog", "m 1100 1 10 10 32 a0\n", "1: a record before the first S or F (start) record"),
    (None, "hello\n", "1: not a log this importer reads"),
    (None, "", "0: not a log this importer reads"),
]


@pytest.mark.parametrize("fmt,content,want", MALFORMED, ids=[w[2][:40] for w in MALFORMED])
def test_malformed_input_is_file_line_message(tmp_path, fmt, content, want):
    p = tmp_path / "in"
    p.write_bytes(content.encode() if isinstance(content, str) else content)
    r = run(*(["--format", fmt] if fmt else []), "in", cwd=tmp_path)
    assert r.returncode == 2 and r.stdout == ""
    assert "Traceback" not in r.stderr
    assert r.stderr.startswith("in:" + want), r.stderr
    assert r.stderr.count("\n") == 1


def test_errors_across_files(tmp_path):
    (tmp_path / "a").write_text(MTRACE)
    (tmp_path / "b").write_text(HEAPTRACK)
    (tmp_path / "c").write_text(MTRACE)
    r = run("a", "b", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.startswith("b:1: a heaptrack file with a mtrace file (a)")
    r = run("a", "c", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.startswith("c:0: a second file: an mtrace log")
    r = run("missing", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr == "missing:0: cannot read: No such file or directory\n"
    r = run("--from-mark", "connect", "a", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.startswith("a:0: no connect mark in the input")


def test_header_is_ascii_and_wrapped_whatever_the_input_names(tmp_path):
    text = convert(tmp_path, "v 10400 3\nX ./pr\u00f8g " + "arg " * 500 + "\na 8 1\n+ 0\n")
    checkrules(text)
    assert text.isascii() and "pr\\xf8g" in text
    assert max(len(ln) for ln in text.splitlines()) <= 100
