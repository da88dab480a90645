"""The simulator, driven by Hypothesis: every drawn configuration runs
clean (the checker found nothing), and runs the same way twice."""

import os
import sys

from hypothesis import given, settings, strategies as st

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "sim"))
import simffi  # noqa: E402  (sim/simffi.py)

configs = st.fixed_dictionaries({
    "seed": st.integers(min_value=0, max_value=2**64 - 1),
    "workload": st.sampled_from(simffi.PROFILES),
    "procs": st.integers(min_value=1, max_value=300),
    "events": st.integers(min_value=1, max_value=4000),
    "faults": st.lists(st.sampled_from(simffi.FAULTS), unique=True),
})


@settings(max_examples=60)
@given(configs)
def test_every_drawn_run_is_clean_and_repeats_exactly(c):
    code, first, failure = simffi.run(**c)
    assert code == simffi.CLEAN, failure
    assert first["events"] == c["events"]
    assert first["seed"] == c["seed"] and first["workload"] == c["workload"]
    again_code, again, _ = simffi.run(**c)
    assert again_code == simffi.CLEAN
    assert again == first


@settings(max_examples=10)
@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_the_command_line_prints_the_same_bytes_twice(seed):
    code, out = simffi.cli("run", "--seed", str(seed), "--events", "3000")
    assert code == simffi.CLEAN, out
    assert out.startswith("seed %d\n" % seed)
    assert simffi.cli("run", "--seed", str(seed), "--events", "3000") == (code, out)


def test_ops_and_results_add_up_to_the_events():
    code, s, failure = simffi.run(7, "mixed", 50, 5000, simffi.FAULTS)
    assert code == simffi.CLEAN, failure
    assert sum(s["ops"].values()) == s["events"] == 5000
    assert sum(s["results"].values()) == s["events"]


def test_a_seed_names_every_setting_on_its_first_lines():
    code, out = simffi.cli("run", "--seed", "99", "--events", "100")
    lines = out.splitlines()
    assert code == simffi.CLEAN
    assert lines[0] == "seed 99"
    for word in ("workload", "procs", "events", "heap", "nproc", "audit", "budget", "faults"):
        assert word in lines[1].split()
