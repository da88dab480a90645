"""Real threads: a batch of calls made at once ends in a state some serial order explains.

Hypothesis draws a set-up (procs, allocations, grants) and a batch of
calls for each of several threads.  The threads run the batch at once
through CFFI, which lets go of the GIL inside every call, so calls meet
inside the core and its locks are what keeps them apart.  Then we look
for a serial order of the calls (each thread's in its own order) under
which the model gives every call the result the core gave it and ends
in the state the core ended in: the calls were linearizable.
"""

import copy
import sys
import threading

from hypothesis import given, settings, strategies as st

import model as M
from harness import HostProc, Pebble, alloc, cptr, ffi, lib, set_conf

NTHREAD = 3
USERS = ["eve", "glenda", "glenda", "glenda"]

target = st.tuples(st.sampled_from(["old", "mine"]), st.integers(0, 7))
op = st.one_of(
    st.tuples(st.just("alloc"), st.integers(0, 3), st.integers(1, 5000), st.sampled_from([6, 4, 7])),
    st.tuples(st.just("free"), st.integers(0, 3), target),
    st.tuples(st.just("wipe"), st.integers(0, 3), target),
    st.tuples(st.just("share"), st.integers(0, 3), target, st.integers(0, 3), st.sampled_from([4, 2, 6])),
    st.tuples(st.just("revoke"), st.integers(0, 3), target, st.integers(0, 3)),
    st.tuples(st.just("check"), st.integers(0, 3), target, st.sampled_from([4, 2, 1])),
    st.tuples(st.just("stats"), st.integers(0, 3)),
    st.tuples(st.just("budget"), st.integers(0, 3), st.integers(0, 40000)),
    st.tuples(st.just("autowipe"), st.integers(0, 3), st.integers(0, 1)),
    st.tuples(st.just("detach"), st.integers(0, 3)),
)
setup = st.lists(st.tuples(st.integers(0, 3), st.integers(1, 5000), st.integers(0, 3), st.sampled_from([0, 4, 6])),
                 min_size=1, max_size=6)
batch = st.lists(st.lists(op, max_size=4), min_size=NTHREAD, max_size=NTHREAD)


class World:
    """One instance, four procs and their allocations, with the model beside it."""

    def __init__(self, plan):
        self.pb = Pebble(1 << 20, 8, 4096, 0)
        self.m = M.Model(1 << 20, 8, 4096, 1 << 20)
        # the harness's probe proc exited: the system totals keep its wipes
        sys_ = Pebble.sysstats()
        self.m.exit_wiped, self.m.exit_deferred = sys_["wiped"], sys_["deferred"]
        self.procs = [HostProc(i, 10 + i, USERS[i]) for i in range(4)]
        for p in self.procs:
            assert lib.pebble_secure_attach(ffi.NULL, p.c) == self.m.attach(None, p) == 0
        self.old = []
        for owner, size, peer, grant in plan:
            p = self.procs[owner]
            err, addr = alloc(p, size, M.READ | M.WRITE)
            assert err == self.m.alloc(p, size, M.READ | M.WRITE, True, addr) == 0
            self.old.append(addr)
            if grant and peer != owner:
                q = self.procs[peer]
                assert lib.pebble_secure_share(p.c, q.c, cptr(addr), grant) == self.m.share(p, q, addr, grant)

    def run(self, program, mine):
        """Run one thread's calls; each record is (call, its actual arguments, result)."""
        out = []
        for o in program:
            kind, p = o[0], self.procs[o[1]]

            def addr(t):
                where, i = t
                pool = self.old if where == "old" or not mine else mine
                return pool[i % len(pool)]
            if kind == "alloc":
                err, a = alloc(p, o[2], o[3])
                if err == 0:
                    mine.append(a)
                out.append((kind, (p, o[2], o[3]), (err, a)))
            elif kind == "free":
                a = addr(o[2])
                out.append((kind, (p, a), lib.pebble_secure_free(p.c, cptr(a))))
            elif kind == "wipe":
                a = addr(o[2])
                out.append((kind, (p, a, 0), lib.pebble_secure_wipe(p.c, cptr(a), 0)))
            elif kind == "share":
                a, q = addr(o[2]), self.procs[o[3]]
                out.append((kind, (p, q, a, o[4]), lib.pebble_secure_share(p.c, q.c, cptr(a), o[4])))
            elif kind == "revoke":
                a, q = addr(o[2]), self.procs[o[3]]
                out.append((kind, (p, q, a), lib.pebble_secure_revoke(p.c, q.c, cptr(a))))
            elif kind == "check":
                a = addr(o[2])
                out.append((kind, (p, a, 1, o[3]), lib.pebble_secure_check(p.c, cptr(a), 1, o[3])))
            elif kind == "stats":
                out.append((kind, (p,), Pebble.stats(p)))
            elif kind == "budget":
                out.append(("budget_set", (p, o[2]), lib.pebble_secure_budget_set(p.c, o[2])))
            elif kind == "autowipe":
                v = str(o[2])
                out.append(("set_conf", (p, M.KEY_AUTO_WIPE, v), set_conf(p, M.KEY_AUTO_WIPE, v)))
            elif kind == "detach":
                out.append((kind, (p,), lib.pebble_secure_detach(p.c)))
        return out


def replay(m, call, args, result):
    """Apply one recorded call to the model; did the model give the same result?"""
    if call == "alloc":
        p, size, prot = args
        err, addr = result
        return m.alloc(p, size, prot, True, addr) == err
    if call == "stats":
        return m.stats(*args) == result
    return getattr(m, call)(*args) == result


def final_state_agrees(world, m):
    """Everything observable of the core now equals the model's."""
    sys_ = Pebble.sysstats()
    if any(sys_[k] != v for k, v in m.sysstats().items()):
        return False
    for p in world.procs:
        if Pebble.stats(p) != m.stats(p):
            return False
    live = sorted(m.allocs)
    for addr in live:
        al = m.allocs[addr]
        err, info = Pebble.info(al.owner, addr)
        if err != 0 or info.size != al.size or info.owner != al.owner.c or info.ngrants != len(al.grants):
            return False
        for h, g in al.grants.items():
            err, info = Pebble.info(h, addr)
            if err != 0 or info.permissions != g:
                return False
        err, entries = Pebble.audit(al.owner, addr, 4096)
        certain, _ = m.audit_entries(al)
        if [(e[0], e[2], e[3]) for e in entries] != [(e.op, e.pid, e.size) for e in certain]:
            return False
    return True


def linearize(world, m, records, pos):
    """A serial order of the threads' records that the model accepts, or None."""
    if all(pos[t] == len(records[t]) for t in range(len(records))):
        return [] if final_state_agrees(world, m) else None
    for t in range(len(records)):
        if pos[t] == len(records[t]):
            continue
        call, args, result = records[t][pos[t]]
        m2 = copy.deepcopy(m, {id(p): p for p in world.procs})
        if not replay(m2, call, args, result):
            continue
        pos[t] += 1
        rest = linearize(world, m2, records, pos)
        pos[t] -= 1
        if rest is not None:
            return [(t, call)] + rest
    return None


@settings(max_examples=settings().max_examples // 2)
@given(plan=setup, programs=batch)
def test_threads_are_linearizable(plan, programs):
    world = World(plan)
    try:
        records = [None] * NTHREAD
        mine = [[] for _ in range(NTHREAD)]
        start = threading.Barrier(NTHREAD)

        def body(t):
            start.wait()
            records[t] = world.run(programs[t], mine[t])
        threads = [threading.Thread(target=body, args=(t,)) for t in range(NTHREAD)]
        interval = sys.getswitchinterval()
        sys.setswitchinterval(1e-6)
        try:
            for th in threads:
                th.start()
            for th in threads:
                th.join()
        finally:
            sys.setswitchinterval(interval)
        order = linearize(world, world.m, records, [0] * NTHREAD)
        assert order is not None, "no serial order explains the results:\n%s" % "\n".join(
            "thread %d: %r" % (t, [(c, r) for c, _, r in rec]) for t, rec in enumerate(records))
    finally:
        world.pb.close()
        assert lib.detblocks() == 0
