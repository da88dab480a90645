"""The API against the reference model: the state machine, and its reach.

One test runs the machine (machine.py) under the current Hypothesis
profile; it then demands that the run reached every public call and
every error code, so a change that stops the machine from reaching a
path cannot go unnoticed.
"""

import glob
import os
import re

from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

import model as M
from machine import OBSERVED, PebbleMachine

CALLS = {"alloc", "alloc_simple", "free", "free_size", "share", "revoke", "wipe", "wipe_and_free",
         "info", "stats", "budget_get", "budget_set", "budget_increase", "budget_decrease",
         "attach", "detach", "audit", "get_conf", "set_conf", "check"}


def test_api_agrees_with_model():
    OBSERVED.clear()
    run_state_machine_as_test(PebbleMachine, settings=settings())
    calls = {c for c, _ in OBSERVED}
    codes = {e for _, e in OBSERVED}
    assert CALLS <= calls, "calls never made: %s" % sorted(CALLS - calls)
    assert set(M.CODES.values()) <= codes, "codes never seen: %s" % sorted(set(M.CODES.values()) - codes)


def test_every_public_call_is_exercised():
    """Every function core/pebble.h declares is called somewhere in props/."""
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "core", "pebble.h")) as f:
        calls = set(re.findall(r"^[a-z].*?\b(pebble\w*)\(", f.read(), re.M))
    used = ""
    for path in glob.glob(os.path.join(here, "*.py")):
        with open(path) as f:
            used += f.read()
    # machine.py reaches the budget calls by name: getattr(lib, "pebble_secure_budget_" + kind)
    used += " ".join("lib.pebble_secure_budget_" + k for k in ("set", "increase", "decrease"))
    assert len(calls) > 20
    missing = sorted(c for c in calls if not re.search(r"\blib\.%s\b" % c, used))
    assert not missing, "never called: %s" % missing
