"""Traces: every committed trace replays without divergence, recording
then replaying reproduces every result and the final state, a changed
result is caught, and the parser refuses bad input with a line number
and never crashes."""

import glob
import os
import re
import sys

import pytest
from hypothesis import given, settings, strategies as st

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "sim"))
import simffi  # noqa: E402  (sim/simffi.py)

TRACES = sorted(glob.glob(os.path.join(simffi.ROOT, "traces", "*.trace")))


@pytest.mark.parametrize("path", TRACES, ids=os.path.basename)
def test_every_committed_trace_replays_without_divergence(path):
    code, summary, failure = simffi.replay(path)
    assert code == simffi.CLEAN, failure
    assert summary["events"] > 0


def test_there_is_a_committed_trace_for_every_profile():
    names = {os.path.basename(p) for p in TRACES}
    for profile in simffi.PROFILES:
        assert profile + ".trace" in names


@settings(max_examples=25)
@given(seed=st.integers(min_value=0, max_value=2**64 - 1),
       workload=st.sampled_from(simffi.PROFILES),
       procs=st.integers(min_value=1, max_value=100),
       events=st.integers(min_value=1, max_value=3000),
       faults=st.lists(st.sampled_from(simffi.FAULTS), unique=True))
def test_record_then_replay_reproduces_every_result(tmp_path_factory, seed, workload, procs, events, faults):
    path = str(tmp_path_factory.mktemp("rec") / "run.trace")
    code, ran, failure = simffi.run(seed, workload, procs, events, faults, record=path)
    assert code == simffi.CLEAN, failure
    code, replayed, failure = simffi.replay(path)
    assert code == simffi.CLEAN, failure
    assert replayed["events"] == ran["events"]
    assert replayed["ops"] == ran["ops"] and replayed["results"] == ran["results"]
    assert replayed["digest"] == ran["digest"]


def recorded(tmp_path, seed=3, events=2000):
    path = str(tmp_path / "r.trace")
    code, _, failure = simffi.run(seed, "mixed", 20, events, simffi.FAULTS, record=path)
    assert code == simffi.CLEAN, failure
    with open(path) as f:
        return path, f.read().splitlines()


def test_a_changed_result_is_a_divergence_at_that_line(tmp_path):
    path, lines = recorded(tmp_path)
    n = next(i for i, l in enumerate(lines) if l.endswith("= PERM"))
    lines[n] = lines[n][:-len("PERM")] + "OK"
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    code, _, failure = simffi.replay(path)
    assert code == simffi.DIVERGED
    assert "line %d:" % (n + 1) in failure or "expected OK, got PERM" in failure
    code, out = simffi.cli("replay", path)
    assert code == simffi.DIVERGED
    assert ":%d: divergence" % (n + 1) in out and "expected OK, got PERM" in out


@pytest.mark.parametrize("bad, why", [
    ("12 1 alloc 16 6 #1 = MAYBE", "result"),
    ("12 1 alloc sixteen 6 #1 = OK", "decimal"),
    ("12 1 frobnicate = OK", "unknown operation"),
    ("12 1 alloc 16 6 = OK", "arguments"),
    ("1 1 exit = OK", "backwards"),
    ("12 0 alloc 16 6 #1 = OK", "pid 0"),
    ("12 1 write 1 0 4 = OK", "handle"),
])
def test_a_bad_line_is_refused_with_its_number(bad, why):
    text = "pebbletrace 1\nseed 0\nconfig heap=65536\n10 1 fork - eve = OK\n" + bad + "\n"
    code, message = simffi.parse(text.encode())
    assert code == simffi.BADTRACE
    assert message.startswith("line 5: ")
    assert why in message


def test_the_header_is_checked():
    assert simffi.parse(b"pebbletrace 2\nseed 0\nconfig\n")[1].startswith("line 1: ")
    assert "unknown config key" in simffi.parse(b"pebbletrace 1\nseed 0\nconfig color=3\n")[1]
    assert simffi.parse(b"pebbletrace 1\nseed 0\nconfig heap=65536 workload=x\n# only a header\n")[0] == 0


@settings(max_examples=300)
@given(st.binary(max_size=2000))
def test_the_parser_never_crashes_on_arbitrary_bytes(data):
    code, message = simffi.parse(data)
    assert code in (0, simffi.BADTRACE)
    if code:
        assert re.match(r"line \d+: ", message)


@settings(max_examples=200)
@given(st.data())
def test_the_parser_never_crashes_on_a_damaged_trace(data):
    text = bytearray(b"pebbletrace 1\nseed 0\nconfig heap=1048576 nproc=8\n"
                     b"100 1 fork - eve = OK\n200 1 alloc 64 6 #1 = OK\n"
                     b"300 1 write #1 0 64 = OK\n400 1 free #1 = OK\n500 1 exit = OK\n")
    for _ in range(data.draw(st.integers(1, 5))):
        at = data.draw(st.integers(0, len(text) - 1))
        text[at] = data.draw(st.integers(0, 255))
    code, message = simffi.parse(bytes(text))
    assert code in (0, simffi.BADTRACE)
