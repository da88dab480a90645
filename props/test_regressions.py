"""What the state machine found, pinned: each a minimal failing example it shrank to.

Every step runs as in the machine (the core and the model side by side,
the invariants after each), so these fail exactly as the machine did
when the bug is back.  Each says what the core did wrong.
"""

from machine import PebbleMachine


def replay(steps, **init):
    m = PebbleMachine()
    m.init(**init)
    try:
        m.agrees_with_model()
        m.memory_agrees()
        for step in steps:
            step(m)
            m.agrees_with_model()
            m.memory_agrees()
    finally:
        m.teardown()


def test_budget_set_below_usage_and_above_maximum_is_busy():
    """Core bug 2: BUDGET came before BUSY, against DESIGN's check order."""
    replay([
        lambda m: m.alloc_good(p=0, prot=6, size=2),
        lambda m: m.switch(budget=0, v=0, which="max_budget"),
        lambda m: m.budget(kind="set", near=0, p=0, v=0),
    ], heap=262144, nproc=6, ring=12, budget=0, seed=0)


def test_heap_refusal_after_reclaiming_empty_runs():
    """Core finding 1: a NOMEM that first gives back cached empty runs is still a refusal
    that changed nothing the model can see (the digest is not compared for heap NOMEM)."""
    replay([
        lambda m: m.alloc_good(p=0, prot=6, size=1),
        lambda m: m.alloc_good(p=1, prot=6, size=1),
        lambda m: m.alloc_good(p=0, prot=6, size=199941),
        lambda m: m.wipe_and_free(i=0, kind="start", n=0, p=0, whole=False),
        lambda m: m.alloc_good(p=0, prot=6, size=4609),
    ], heap=262144, nproc=6, ring=12, budget=0, seed=0)


def test_heap_finds_a_fitting_run_in_its_own_bin():
    """Core bug 3: NOMEM with a big enough free run, because only bins certain to fit were searched."""
    replay([
        lambda m: m.alloc_edge(d=0, p=0, prot=6),
        lambda m: m.alloc_edge(d=0, p=0, prot=6),
        lambda m: m.alloc_good(p=0, prot=6, size=1),
        lambda m: m.alloc_good(p=0, prot=6, size=110593),
        lambda m: m.alloc_edge(d=0, p=0, prot=6),
    ], heap=1048576, nproc=6, ring=12, budget=0, seed=0)
