"""The real-program importer: tools/malloclog (logger and converter).

A small C program with a known allocation history (tools/malloclog/testprog.c:
two threads, a fork, a realloc, cross-thread frees, malloc(0), leaks) is run
under the logger; the trace made from its logs must say exactly that history,
with every block owned by the proc of the thread that allocated it and freed
by its owner.  Hand-written logs pin down the converter's ordering rules, and
every committed traces/real-*.trace must keep the importer's rules and replay
without divergence under build/pebblesim.
"""

import os
import re
import subprocess
import sys

import pytest

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOL = os.path.join(TOP, "tools", "malloclog")
SIM = os.path.join(TOP, "build", "pebblesim")
CFLAGS = ["-std=gnu11", "-O2", "-g", "-fPIC", "-Wall", "-Wextra", "-Werror",
          "-Wno-unused-parameter"]

sys.path.insert(0, TOOL)
import totrace  # noqa: E402

CONFKEYS = {"heap", "nproc", "audit", "budget", "maxbudget", "workload"}


# ---------------------------------------------------------------------------
# Reading a trace and the rules every imported trace keeps.

def parse(text):
    """(config dict, events) of a trace; an event is (time, proc, op, args, result)."""
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    assert lines[0] == "pebbletrace 1"
    assert lines[1] == "seed 0"
    w = lines[2].split()
    assert w[0] == "config"
    conf = dict(kv.split("=", 1) for kv in w[1:])
    assert set(conf) <= CONFKEYS
    events = []
    for ln in lines[3:]:
        m = re.fullmatch(r"(\d+) (\d+) (\w+)((?: \S+)*) = (\w+)", ln)
        assert m, ln
        events.append((int(m[1]), int(m[2]), m[3], m[4].split(), m[5]))
    return conf, events


def checkrules(text):
    """Assert the importer's rules; return (conf, events, blocks, procs)
    where blocks[h] = dict(proc, size, alloc, free) (event indices) and
    procs[p] = dict(parent, fork, exit)."""
    conf, events = parse(text)
    procs, blocks = {}, {}
    live = {}                   # proc -> live bytes
    peakproc = peakall = 0
    last = 0
    for i, (t, p, op, a, res) in enumerate(events):
        assert res == "OK"
        assert t >= last, f"time goes back at event {i}"
        last = t
        if op != "fork":
            assert p in procs and procs[p]["exit"] is None, f"event {i}: proc {p} not alive"
        if op == "fork":
            assert p not in procs, f"proc {p} forked twice"
            parent, user = a
            if i == 0:
                assert parent == "-"
            if parent != "-":
                q = int(parent)
                assert q in procs and procs[q]["exit"] is None, f"fork from dead proc {q}"
            assert user == "glenda"
            procs[p] = dict(parent=parent, fork=i, exit=None)
            live[p] = 0
        elif op == "alloc":
            size, perms, h = int(a[0]), a[1], a[2]
            assert size >= 1 and perms == "6" and h not in blocks
            blocks[h] = dict(proc=p, size=size, alloc=i, free=None)
            live[p] += size
            peakproc = max(peakproc, live[p])
            peakall = max(peakall, sum(live.values()))
            nt, np_, nop, na, _ = events[i + 1]
            assert (np_, nop, na) == (p, "write", [h, "0", str(min(size, 64))])
        elif op == "write":
            assert blocks[a[0]]["proc"] == p and blocks[a[0]]["free"] is None
        elif op == "free":
            b = blocks[a[0]]
            assert b["proc"] == p, "a block is freed by its owner"
            assert b["free"] is None, "freed twice"
            b["free"] = i
            live[p] -= b["size"]
        elif op == "exit":
            procs[p]["exit"] = i
            for b in blocks.values():
                if b["proc"] == p and b["free"] is None:
                    b["free"] = i   # detach frees what is left
            live[p] = 0
        else:
            pytest.fail(f"unexpected op {op}")
    assert all(q["exit"] is not None for q in procs.values()), "every proc exits"
    assert int(conf["nproc"]) >= len(procs) + 1
    assert int(conf["budget"]) >= peakproc and int(conf["maxbudget"]) >= int(conf["budget"])
    heap = int(conf["heap"])
    assert heap % 4096 == 0 and peakall <= heap <= 1 << 31
    return conf, events, blocks, procs


def replay(path):
    assert os.path.exists(SIM), "build/pebblesim is missing: ninja build/pebblesim"
    r = subprocess.run([SIM, "replay", path], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"pebblesim replay {path}: {r.stdout[-2000:]}{r.stderr[-2000:]}"


# ---------------------------------------------------------------------------
# The test program under the logger.

@pytest.fixture(scope="module")
def progtrace(tmp_path_factory):
    d = tmp_path_factory.mktemp("malloclog")
    so, prog = str(d / "malloclog.so"), str(d / "testprog")
    subprocess.run(["gcc", *CFLAGS, "-shared", "-o", so,
                    os.path.join(TOOL, "malloclog.c"), "-ldl"], check=True)
    subprocess.run(["gcc", *CFLAGS, "-o", prog,
                    os.path.join(TOOL, "testprog.c"), "-lpthread"], check=True)
    env = dict(os.environ, MALLOCLOG=str(d / "log"), LD_PRELOAD=so)
    subprocess.run([prog], env=env, check=True, timeout=60)
    logs = sorted(str(p) for p in d.glob("log.*"))
    out = str(d / "testprog.trace")
    subprocess.run(["/usr/bin/python3", os.path.join(TOOL, "totrace.py"), "-o", out, *logs],
                   check=True)
    with open(out) as f:
        return dict(logs=logs, path=out, text=f.read())


def bysize(blocks, size):
    found = [b for b in blocks.values() if b["size"] == size]
    assert len(found) == 1, f"one block of {size} bytes"
    return found[0]


def test_logger_writes_one_log_per_process(progtrace):
    assert len(progtrace["logs"]) == 2         # the program and its fork child
    first = [open(p).readline().split()[0] for p in progtrace["logs"]]
    assert sorted(first) == ["F", "S"]


def test_each_thread_and_process_is_a_proc(progtrace):
    _, events, blocks, procs = checkrules(progtrace["text"])
    main = 1
    assert procs[main]["parent"] == "-"
    t1 = bysize(blocks, 4001)["proc"]
    t2 = bysize(blocks, 5001)["proc"]
    child = bysize(blocks, 6001)["proc"]
    assert len({main, t1, t2, child}) == 4
    for p in (t1, t2, child):
        assert procs[p]["parent"] == str(main)
    for size in (1001, 2001, 3001, 7001):
        assert bysize(blocks, size)["proc"] == main


def test_cross_thread_free_is_issued_by_the_owner_at_the_real_time(progtrace):
    _, events, blocks, _ = checkrules(progtrace["text"])
    b, c, d = bysize(blocks, 2001), bysize(blocks, 4001), bysize(blocks, 5001)
    # t2 allocated d, then freed main's b: the free is main's, after d's alloc
    assert events[b["free"]][1] == 1 and events[b["free"]][2] == "free"
    assert d["alloc"] < b["free"]
    # main freed t1's c after joining t1: t1's proc frees it
    assert events[c["free"]][1] == c["proc"] and events[c["free"]][2] == "free"
    assert c["free"] > d["alloc"]


def test_realloc_is_alloc_new_then_free_old(progtrace):
    _, events, blocks, _ = checkrules(progtrace["text"])
    old, new = bysize(blocks, 1001), bysize(blocks, 3001)
    assert events[old["free"]][2] == "free"
    assert new["alloc"] < old["free"] and old["free"] == new["alloc"] + 2


def test_malloc0_is_one_byte_and_freed(progtrace):
    _, events, blocks, _ = checkrules(progtrace["text"])
    t1 = bysize(blocks, 4001)["proc"]
    ones = [b for b in blocks.values() if b["size"] == 1 and b["proc"] == t1]
    assert len(ones) == 1 and events[ones[0]["free"]][2] == "free"


def test_fork_child_frees_only_its_own_blocks(progtrace):
    _, events, blocks, procs = checkrules(progtrace["text"])
    e, a = bysize(blocks, 6001), bysize(blocks, 3001)
    child = e["proc"]
    assert events[e["free"]][2] == "free" and events[e["free"]][1] == child
    # the child's free of the inherited block is dropped; main frees it later
    assert events[a["free"]][1] == 1 and a["free"] > procs[child]["exit"]
    assert [b for b in blocks.values() if b["proc"] == child] == [e]


def test_leaks_are_freed_by_exit(progtrace):
    _, events, blocks, procs = checkrules(progtrace["text"])
    d, f = bysize(blocks, 5001), bysize(blocks, 7001)
    assert events[d["free"]][2] == "exit" and d["free"] == procs[d["proc"]]["exit"]
    assert events[f["free"]][2] == "exit" and f["free"] == len(events) - 1


def test_conversion_is_deterministic(progtrace):
    logs = progtrace["logs"]
    assert totrace.convert(logs) == totrace.convert(list(reversed(logs)))
    assert totrace.convert(logs) in progtrace["text"]


def test_testprog_trace_replays(progtrace):
    replay(progtrace["path"])


# ---------------------------------------------------------------------------
# Hand-written logs: the ordering rules.

def convertlogs(tmp_path, logs, **kw):
    paths = []
    for name, text in logs.items():
        p = tmp_path / name
        p.write_text(text)
        paths.append(str(p))
    return totrace.convert(paths, **kw)


def test_sequence_not_write_order_decides(tmp_path):
    # thread 11 frees 0xa0 (seq 2) before thread 12 gets it back (seq 3),
    # though the records were written the other way round
    text = convertlogs(tmp_path, {"l.10": "\n".join([
        "S 1000 0 10 10 1 prog",
        "m 1100 1 10 11 32 a0",
        "m 1300 3 10 12 48 a0",
        "f 1200 2 10 11 a0",
        "f 1400 4 10 12 a0", ""])})
    _, events, blocks, _ = checkrules(text)
    ops = [(e[2], e[3][0] if e[3] else None) for e in events if e[2] in ("alloc", "free")]
    assert ops == [("alloc", "32"), ("free", "#1"), ("alloc", "48"), ("free", "#2")]


def test_realloc_source_may_be_reused_before_realloc_returns(tmp_path):
    # thread 10 reallocs 0xa0 -> 0xb0; glibc frees 0xa0 inside, and thread 11
    # gets 0xa0 back before realloc returns: 0xa0's old block is not freed twice
    text = convertlogs(tmp_path, {"l.10": "\n".join([
        "S 1000 0 10 10 1 prog",
        "m 1100 1 10 10 100 a0",
        "r 1200 2 10 10 1400 4 200 a0 b0",
        "m 1300 3 10 11 64 a0",
        "f 1500 5 10 11 a0",
        "f 1600 6 10 10 b0", ""])})
    _, events, blocks, procs = checkrules(text)
    sizes = {b["size"]: b for b in blocks.values()}
    assert set(sizes) == {100, 200, 64}
    assert events[sizes[64]["free"]][2] == "free"
    assert events[sizes[100]["free"]][2] == "free"
    assert sizes[100]["free"] == sizes[200]["alloc"] + 2


def test_exec_frees_the_old_image(tmp_path):
    text = convertlogs(tmp_path, {"l.10": "\n".join([
        "S 1000 0 10 10 1 sh",
        "m 1100 1 10 10 100 a0",
        "S 2000 0 10 10 1 prog",
        "m 2100 1 10 10 300 a0",
        "f 2200 2 10 10 a0", ""])})
    _, events, blocks, procs = checkrules(text)
    assert len(procs) == 1
    old = [b for b in blocks.values() if b["size"] == 100][0]
    assert events[old["free"]][2] == "free" and events[old["free"]][0] == 1000


def test_window_starts_with_the_live_blocks(tmp_path):
    text = convertlogs(tmp_path, {"l.10": "\n".join([
        "S 1000 0 10 10 1 client",
        "m 1100 1 10 10 100 a0",
        "m 1200 2 10 10 200 b0",
        "f 1300 3 10 10 a0",
        "K 1400 4 10 10 connect",
        "m 1500 5 10 10 300 c0",
        "f 1600 6 10 10 b0", ""])}, mark="connect")
    _, events, blocks, _ = checkrules(text)
    assert "WINDOW" in text
    assert sorted(b["size"] for b in blocks.values()) == [200, 300]
    assert events[0][0] == 0 and events[blocks["#2"]["alloc"]][0] == 0
    assert events[blocks["#3"]["alloc"]][0] == 100


def test_truncation_keeps_the_rules_and_the_limit(progtrace):
    text = totrace.convert(progtrace["logs"], maxbytes=1000)
    assert len(text.encode()) <= 1000 and "TRUNCATED" in text
    checkrules(text)


# ---------------------------------------------------------------------------
# The committed traces.

REAL = sorted(p for p in os.listdir(os.path.join(TOP, "traces"))
              if p.startswith("real-") and p.endswith(".trace")) \
    if os.path.isdir(os.path.join(TOP, "traces")) else []


def test_at_least_three_real_programs():
    assert len(REAL) >= 3


@pytest.mark.parametrize("name", REAL)
def test_real_trace_keeps_the_rules_and_replays(name):
    path = os.path.join(TOP, "traces", name)
    with open(path) as f:
        text = f.read()
    assert len(text.encode()) <= totrace.MAXBYTES
    assert "# Recorded by: tools/malloclog/record.sh" in text
    checkrules(text)
    replay(path)
