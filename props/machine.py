"""The state machine: every call of the API against the reference model.

Each rule makes one call on the core and the same call on the model
(model.py) and demands the same answer; arguments are drawn to include
bad ones (nil and zero, huge sizes and overflowing sums, interior and
freed pointers, pointers of another proc, wrong and unknown procs, bad
permission bits, malformed settings).  After every step the invariants
compare everything the core lets one observe with the model: statistics,
info, audit logs, settings, the bytes of every allocation and of the
heap around them.

Rules are plain methods: regression tests (test_regressions.py) call
them directly to pin what the machine found.
"""

import random
from collections import Counter

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

import model as M
from harness import PAGE, HostProc, Pebble, alloc, cproc, cptr, ffi, lib, set_conf

# every (call, code) the machine has seen in this process: test_api checks
# that every call and every error code is reached
OBSERVED = Counter()

USERS = ["eve", "glenda", "rob"]
HEAPS = [256 * 1024, 1 << 20]

# a proc: mostly one attached, sometimes nil (100) or one the core does not know (101, 102)
who = st.one_of(st.integers(0, 15), st.integers(0, 15), st.integers(0, 15), st.sampled_from([100, 101, 102]))
pick = st.integers(0, 2**16)
good_perms = st.sampled_from([6, 6, 6, 4, 7, 7, 2, 5, 1, 3])
perms = st.one_of(good_perms, good_perms, good_perms,
                  st.sampled_from([0, 8, 9, 15, -1, 2**31 - 1, -2**31]))
good_sizes = st.one_of(st.integers(1, 64), st.integers(65, 4096), st.integers(4097, 66000),
                       st.integers(66000, 200000))
sizes = st.one_of(good_sizes, good_sizes, good_sizes,
                  st.sampled_from([0, 2**63, M.USIZE_MAX, M.USIZE_MAX - 15, 1 << 20, (1 << 20) + 1]))
counts = st.one_of(st.integers(0, 4), st.integers(0, 70000),
                   st.sampled_from([M.USIZE_MAX, 2**63, 2**32]))
budgets = st.one_of(st.integers(0, 2 * 1024 * 1024),
                    st.sampled_from([0, 1, 4096, 256 * 1024, 1 << 20, 2**63, M.USIZE_MAX, M.USIZE_MAX - 4095]))
out_ok = st.sampled_from([True] * 9 + [False])
ptr_kinds = st.sampled_from(["start", "start", "start", "interior", "end", "freed", "nil", "outside"])
keys = st.one_of(st.sampled_from(M.KEYS),
                 st.sampled_from(["pebble.secure.bogus", "", "pebble.secure.budget ", "PEBBLE.SECURE.AUDIT"]))
values = st.one_of(
    st.sampled_from(["0", "1", "2", "01", "", " 1", "1 ", "true", "-1", "+5", "0x10", "4096",
                     "64k", "1m", "1g", "3K", "2M", "1G", "10t", "k", "1kk", "18446744073709551615",
                     "18446744073709551616", "17179869184g", "16777215k", "99999999999999999999999"]),
    st.integers(0, 3 * 1024 * 1024).map(str),
    st.text(alphabet="0123456789kmgKMG -+x.", max_size=8))


def code(err):
    return M.CODES.get(err, str(err))


class PebbleMachine(RuleBasedStateMachine):

    def __init__(self):
        super().__init__()
        self.pb = None

    def teardown(self):
        if self.pb is not None:
            self.pb.close()
            assert lib.detblocks() == 0 and lib.detmetabytes() == 0, "teardown left host memory"

    # -- set-up ----------------------------------------------------------------

    @initialize(heap=st.sampled_from(HEAPS), nproc=st.sampled_from([6, 66]),
                ring=st.sampled_from([12, 40, 4096]),
                budget=st.sampled_from([0, 64 * 1024, 300000]), seed=st.integers(0, 2**32),
                encrypt=st.booleans())
    def init(self, heap=1 << 20, nproc=6, ring=4096, budget=0, seed=1, encrypt=False):
        self.pb = Pebble(heap, nproc, ring, budget, seed)
        self.m = M.Model(heap, nproc, ring, budget if budget else 1 << 20)
        # the harness's probe proc (it found the arena) exited: the system totals keep its wipes
        sys = Pebble.sysstats()
        self.m.exit_wiped, self.m.exit_deferred = sys["wiped"], sys["deferred"]
        self.nproc = nproc
        self.procs = []             # every host Proc structure made
        self.pid = 100
        self.freed = []             # start addresses that were freed
        self.failmalloc = False
        self.seen = {}              # id(area) -> (area, peak, wiped) last seen
        self.clock = 0
        lib.pebble_secure_encryption = self.m.encryption = int(encrypt)
        for slot, user in ((0, "eve"), (1, "glenda")):
            self.pid += 1
            self.procs.append(HostProc(slot, self.pid, user))
            self.attach_call(None, self.procs[-1])

    # -- choosing arguments ----------------------------------------------------

    def attached(self):
        return [p for p in self.procs if self.m.area(p) is not None]

    def proc(self, i):
        """See `who`: an attached proc, nil, or one the core does not know."""
        live = self.attached()
        dead = [p for p in self.procs if self.m.area(p) is None]
        if i == 100:
            return None
        if i > 100 and dead:
            return dead[i % len(dead)]
        if live:
            return live[i % len(live)]
        return self.procs[i % len(self.procs)] if self.procs else None

    def ptr(self, kind, i):
        live = sorted(self.m.allocs)
        if kind == "nil":
            return 0
        if kind == "outside":
            return [self.pb.base - 16, self.pb.base + self.pb.heap + 64, 4096][i % 3]
        if kind == "freed" and self.freed:
            return self.freed[i % len(self.freed)]
        if not live:
            return self.pb.base + (i % self.pb.heap)
        al = self.m.allocs[live[i % len(live)]]
        if kind == "interior":
            return al.addr + 1 + (i // 7) % max(al.size - 1, 1)
        if kind == "end":
            return al.addr + al.size
        return al.addr

    # -- one call ----------------------------------------------------------------

    def tick(self):
        self.clock += 1000
        lib.detsetclock(self.clock)
        self.m.now = self.clock

    def begin(self):
        self.tick()
        self.before = Pebble.digest()
        self.sys_before = Pebble.sysstats()
        if self.failmalloc:
            lib.detfailmalloc(1)

    def end(self, name, want, got, changes=True, digest=True):
        """Compare a call's result; a failed call (or a query) changed nothing."""
        injected, self.failmalloc = self.failmalloc, False
        lib.detfailmalloc(0)
        OBSERVED[(name, code(got))] += 1
        assert got == want, "%s: core %s, model %s%s" % (
            name, code(got), code(want), " (a host malloc failure was injected)" if injected else "")
        if (got != M.OK or not changes) and digest:
            assert Pebble.digest() == self.before, "%s failed (%s) but changed state" % (name, code(got))
            # no statistic either: whatever sysstats reports (the audit counters the model predicts)
            sys = Pebble.sysstats()
            for k, v in self.sys_before.items():
                if k not in ("audit_logged", "audit_dropped"):
                    assert sys[k] == v, "%s failed (%s) but changed sysstats.%s: %r -> %r" % (
                        name, code(got), k, v, sys[k])
        return injected

    # -- process lifecycle -------------------------------------------------------

    @rule(parent=who, user=st.sampled_from([0, 1, 1, 1, 2]), nowait=st.booleans(),
          slot=st.integers(-1, 70), via_parent=st.booleans(), recycle=st.booleans())
    def fork(self, parent, user, nowait, slot, via_parent, recycle):
        """rfork: a new process (a new or recycled Proc), attached to its parent or with defaults.

        slot: -1 and 70 are outside the proc table, 60-69 a slot in use
        (BUSY), anything else a free slot if there is one.
        """
        pp = self.proc(parent)
        taken = sorted(self.m.areas)
        free = [s for s in range(self.nproc) if s not in self.m.areas]
        if slot == 70:
            slot = self.nproc
        elif slot >= 60 and taken:
            slot = taken[slot % len(taken)]
        elif slot >= 0:
            slot = free[slot % len(free)] if free else slot % self.nproc
        self.pid += 1
        gone = [p for p in self.procs if self.m.area(p) is None]
        if recycle and gone:
            child = gone[self.pid % len(gone)]
            child.recycle(slot, self.pid, USERS[user], pp, nowait)
        elif len(self.procs) < 14:
            child = HostProc(slot, self.pid, USERS[user], pp, nowait)
            self.procs.append(child)
        else:
            return
        self.attach_call(pp if via_parent else None, child)

    @rule(parent=who, nowait=st.booleans(), sizes=st.lists(st.integers(1, 9000), min_size=1, max_size=4),
          room=st.one_of(st.integers(0, 20000), st.sampled_from(["exact", "short"])), order=st.booleans())
    def family(self, parent, nowait, sizes, room, order):
        """A child is born, allocates, shares all with its parent, and exits while the
        parent has `room` bytes of budget left: what passes to the parent, and what not.
        "exact" leaves the parent room for all of them to the byte, so the last to pass fits
        exactly; "short" one byte less."""
        if room in ("exact", "short"):
            room = sum(sizes) - (room == "short")
        live = self.attached()
        free = [s for s in range(self.nproc) if s not in self.m.areas]
        if not live or not free:
            return
        pp = live[parent % len(live)]
        self.pid += 1
        child = HostProc(free[0], self.pid, pp.user, pp, nowait)
        self.procs.append(child)
        self.attach_call(pp, child)
        for n in sizes:
            self.alloc(child, n, M.READ | M.WRITE, False, True)
        for al in sorted(self.m.owned_by(child), key=lambda al: al.born, reverse=order):
            self.share_call(child, pp, al.addr, M.READ)
        a = self.m.area(pp)
        if a is not None:
            self.begin()
            got = lib.pebble_secure_budget_set(pp.c, min(a.used + room, self.m.max_budget))
            self.end("budget_set", self.m.budget_set(pp, min(a.used + room, self.m.max_budget)), got)
        self.exit_call(child)

    @rule(parent=who, size=st.integers(1, 9000), same_slot=st.booleans())
    def orphan(self, parent, size, same_slot):
        """A child's parent exits and the host gives the parent's Proc structure to a
        new process (a new pid, in the same slot or another); the child shares with
        the newcomer and exits: the newcomer is not its parent and inherits nothing."""
        live = self.attached()
        if not live:
            return
        pp = live[parent % len(live)]
        free = [s for s in range(self.nproc) if s not in self.m.areas]
        if len(free) < 2:
            return
        self.pid += 1
        child = HostProc(free[0], self.pid, pp.user, pp, False)
        self.procs.append(child)
        self.attach_call(pp, child)
        self.alloc(child, size, M.READ | M.WRITE, False, True)
        self.exit_call(pp)
        self.pid += 1
        pp.recycle(pp.slot if same_slot else free[1], self.pid, pp.user, None, False)
        self.attach_call(None, pp)
        for al in list(self.m.owned_by(child)):
            self.share_call(child, pp, al.addr, M.READ)
        self.exit_call(child)

    @rule(p=who, size=good_sizes, seed=pick)
    def dirty_reuse(self, p, size, seed):
        """auto_wipe off: a secret is written, freed unwiped, and the slot is handed out again."""
        live = self.attached()
        if not live:
            return
        p = live[p % len(live)]
        self.set_conf_call(p, M.KEY_AUTO_WIPE, "0")
        self.alloc(p, size, M.READ | M.WRITE, False, True)
        al = [al for al in self.m.owned_by(p) if al.time == self.clock]
        if al:
            self.write_call(p, al[0].addr, size, seed)
            self.memop("free", lambda p, a, n: lib.pebble_secure_free(p, a), 0, "start", 0, 0, who=p, ptr=al[0].addr)
            self.alloc(p, size, M.READ | M.WRITE, False, True)

    @rule(parent=who, child=who)
    def attach(self, parent, child):
        """attach with any two procs: BUSY, NOTFOUND, INVALID (itself, nil)."""
        self.attach_call(self.proc(parent), self.proc(child))

    def attach_call(self, parent, child):
        self.begin()
        got = lib.pebble_secure_attach(cproc(parent), cproc(child))
        self.end("attach", self.m.attach(parent, child), got)

    @rule(p=who)
    def exit(self, p):
        """detach: inheritance, wipes, grants dropped."""
        self.exit_call(self.proc(p))

    def exit_call(self, p):
        owned = [(al.addr, al.size) for al in self.m.owned_by(p)] if self.m.area(p) else []
        self.begin()
        got = lib.pebble_secure_detach(cproc(p))
        self.end("detach", self.m.detach(p), got)
        if got == M.OK:
            self.freed += [a for a, n in owned if a not in self.m.allocs]
            if not owned:
                # runs the proc kept empty for reuse counted as free already (DESIGN.md)
                after = Pebble.sysstats()["largest_free"]
                assert after == self.sys_before["largest_free"], (
                    "largest_free %d before an exit that freed nothing, %d after" % (
                        self.sys_before["largest_free"], after))
                OBSERVED[("detach", "largest unchanged")] += 1

    # -- allocation --------------------------------------------------------------

    @rule(p=who, size=sizes, prot=perms, simple=st.booleans(), out_ok=out_ok)
    def alloc_any(self, p, size, prot, simple, out_ok):
        self.alloc(self.proc(p), size, prot, simple, out_ok)

    @rule(p=who, size=good_sizes, prot=good_perms)
    def alloc_good(self, p, size, prot):
        live = self.attached()
        if live:
            self.alloc(live[p % len(live)], size, prot, False, True)

    @rule(p=who, size=st.integers(1, 600), prot=good_perms)
    def alloc_small(self, p, size, prot):
        self.alloc_good(p, size, prot)

    @rule(p=who, d=st.integers(-1, 1), prot=good_perms)
    def alloc_edge(self, p, d, prot):
        """An allocation of what is left of the budget, a byte less, or a byte more."""
        live = self.attached()
        if live:
            a = self.m.area(live[p % len(live)])
            self.alloc(live[p % len(live)], max(1, min(a.limit - a.used, 300000) + d), prot, False, True)

    def alloc(self, p, size, prot, simple, out_ok):
        self.begin()
        got, addr = alloc(p, size, prot, simple, out_ok)
        if simple:
            prot = M.READ | M.WRITE
        injected = self.failmalloc
        want = self.m.alloc(p, size, prot, out_ok, addr)
        if got == M.NOMEM and want == M.NOMEM:
            self.nomem_plausible(size, injected)
        self.end("alloc_simple" if simple else "alloc", want, got)
        if got == M.OK and size > 64 * 1024:
            # whole pages, never an area's cache: it fit in the largest free block
            assert size <= self.sys_before["largest_free"], (
                "%d bytes allocated with largest_free %d" % (size, self.sys_before["largest_free"]))
        if got == M.OK:
            assert Pebble.peek(addr, size) == bytes(size), "fresh memory is not zero"
            err, info = Pebble.info(p, addr)
            assert err == M.OK
            self.m.setident(addr, info.id)

    def nomem_plausible(self, size, injected):
        """The heap may refuse only what it could not place: largest_free is the largest
        allocation that could succeed now for a proc with budget to spare (DESIGN.md)."""
        if injected:
            return
        largest = Pebble.sysstats()["largest_free"]
        if size > 64 * 1024:
            # whole pages: refused exactly when more than largest_free
            assert size > largest, "NOMEM for %d bytes with largest_free %d" % (size, largest)
        else:
            # a size class's run takes up to 64 pages, more than some larger allocations do
            assert largest < 64 * PAGE, "NOMEM for %d bytes with largest_free %d" % (size, largest)

    @rule(p=who, size=st.sampled_from([16, 100, 3000, 5000, 20000]))
    def alloc_over_dirty_slot(self, p, size):
        """DESIGN.md: a refused alloc changes nothing.  A run made with audit off holds a
        slot freed with auto_wipe off; audit goes on; the next alloc there fails on its
        audit index: the dirty slot must not have been taken or zeroed first."""
        live = self.attached()
        if not live:
            return
        p = live[p % len(live)]
        a = self.m.area(p)
        if a.limit - a.used < 2 * size:
            return
        self.set_conf_call(p, M.KEY_AUDIT, "0")
        self.set_conf_call(p, M.KEY_AUTO_WIPE, "0")
        first = len(self.m.allocs)
        self.alloc(p, size, M.READ | M.WRITE, False, True)
        self.alloc(p, size, M.READ | M.WRITE, False, True)
        mine = [al for al in self.m.owned_by(p) if al.size == size]
        if len(self.m.allocs) < first + 2 or not mine:
            return
        al = mine[-1]
        self.pb_fill(al)
        self.memop("free", lambda p, a, n: lib.pebble_secure_free(p, a), 0, "start", 0, 0, who=p, ptr=al.addr)
        self.set_conf_call(p, M.KEY_AUDIT, "1")
        self.failmalloc = True
        self.alloc(p, size, M.READ | M.WRITE, False, True)

    def pb_fill(self, al):
        """Write the owner's bytes into al, as a write through the access check would."""
        data = bytes((i * 7 + 1) & 0xff or 1 for i in range(al.size))
        Pebble.poke(al.addr, data)
        al.data[:] = data

    @rule(p=who)
    def alloc_largest(self, p):
        """An allocation of exactly largest_free succeeds for a proc whose budget allows it."""
        largest = Pebble.sysstats()["largest_free"]
        live = [q for q in self.attached()
                if self.m.area(q).limit - self.m.area(q).used >= largest]
        if largest and live:
            self.alloc(live[p % len(live)], largest, M.READ | M.WRITE, False, True)

    @rule(p=who, kind=ptr_kinds, i=pick)
    def free(self, p, kind, i):
        self.memop("free", lambda p, a, n: lib.pebble_secure_free(p, a), p, kind, i, 0)

    @rule(p=who, kind=ptr_kinds, i=pick, n=counts, frac=st.integers(0, 100))
    def free_size(self, p, kind, i, n, frac):
        self.memop("free_size", lib.pebble_secure_free_size, p, kind, i, self.within(kind, i, n, frac))

    @rule(p=who, kind=ptr_kinds, i=pick, n=counts, frac=st.integers(0, 100))
    def wipe(self, p, kind, i, n, frac):
        self.memop("wipe", lib.pebble_secure_wipe, p, kind, i, self.within(kind, i, n, frac))

    @rule(p=who, kind=ptr_kinds, i=pick, n=counts, whole=st.booleans())
    def wipe_and_free(self, p, kind, i, n, whole):
        ptr = self.ptr(kind, i)
        al = self.m.allocs.get(ptr)
        if whole and al is not None:
            n = al.size
        self.memop("wipe_and_free", lib.pebble_secure_wipe_and_free, p, kind, i, n)

    @rule(i=pick, op=st.sampled_from(["free", "free_size", "wipe", "wipe_and_free"]),
          frac=st.integers(0, 100), grantee=st.booleans())
    def memop_good(self, i, op, frac, grantee):
        """The owner (or a grantee) frees or wipes a live allocation, all of it or a part."""
        if not self.m.allocs:
            return
        al = self.m.allocs[sorted(self.m.allocs)[i % len(self.m.allocs)]]
        p = al.owner
        if grantee and al.grants:
            p = list(al.grants)[i % len(al.grants)]
        n = al.size * frac // 100 if op != "wipe_and_free" else (0 if frac < 50 else al.size)
        fn = {"free": lambda p, a, n: lib.pebble_secure_free(p, a)}.get(op, getattr(lib, "pebble_secure_" + op))
        owner = self.procs.index(p) if p in self.procs else 0
        self.memop(op, fn, owner, "start", 0, n, who=p, ptr=al.addr)

    def within(self, kind, i, n, frac):
        """A size argument: often a fraction of the allocation's size, sometimes anything."""
        al = self.m.allocs.get(self.ptr(kind, i))
        if al is not None and frac <= 90:
            return al.size * frac // 90
        return n

    def memop(self, name, fn, p, kind, i, n, who=None, ptr=None):
        p = self.proc(p) if who is None else who
        ptr = self.ptr(kind, i) if ptr is None else ptr
        al = self.m.allocs.get(ptr)
        back = self.m.pages_back(al, n) if al is not None and 0 < n < al.size else 0
        self.begin()
        got = fn(cproc(p), cptr(ptr), n)
        if name == "free":
            want = self.m.free(p, ptr)
        elif name == "free_size":
            want = self.m.free_size(p, ptr, n, refused=got == M.NOMEM and self.failmalloc)
        else:
            want = getattr(self.m, name)(p, ptr, n)
        self.end(name, want, got)
        if got == M.OK and name == "free_size" and back:
            # every whole page of the freed front is free heap memory at once
            grew = Pebble.sysstats()["free_bytes"] - self.sys_before["free_bytes"]
            assert grew == back * PAGE, "partial free gave back %d bytes, want %d pages" % (grew, back)
            OBSERVED[("free_size", "pages back")] += 1
        if got == M.OK and name != "wipe" and ptr not in self.m.allocs:
            self.freed.append(ptr)

    # -- sharing -------------------------------------------------------------------

    @rule(src=who, tgt=who, kind=ptr_kinds, i=pick, grant=perms, owner=st.booleans())
    def share(self, src, tgt, kind, i, grant, owner):
        ptr = self.ptr(kind, i)
        src = self.proc(src)
        if owner and ptr in self.m.allocs:
            src = self.m.allocs[ptr].owner
        self.share_call(src, self.proc(tgt), ptr, grant)

    def share_call(self, src, tgt, ptr, grant):
        self.begin()
        got = lib.pebble_secure_share(cproc(src), cproc(tgt), cptr(ptr), grant)
        refused = got == M.NOMEM and self.failmalloc
        self.end("share", self.m.share(src, tgt, ptr, grant, refused), got)

    @rule(i=pick, j=pick, grant=good_perms)
    def share_good(self, i, j, grant):
        """The owner shares with another attached proc it may share with."""
        if not self.m.allocs:
            return
        al = self.m.allocs[sorted(self.m.allocs)[i % len(self.m.allocs)]]
        peers = [p for p in self.attached() if p is not al.owner
                 and (al.owner.user == M.EVE or p.user == al.owner.user)]
        if peers:
            self.share_call(al.owner, peers[j % len(peers)], al.addr, grant & al.prot or grant)

    @rule(i=pick, grant=good_perms)
    def share_with_parent(self, i, grant):
        """A child shares with its parent: what the parent may inherit at the child's exit."""
        kids = [al for al in self.m.allocs.values()
                if al.owner.parent is not None and self.m.area(al.owner.parent) is not None]
        if kids:
            al = kids[i % len(kids)]
            self.share_call(al.owner, al.owner.parent, al.addr, grant & al.prot or grant)

    @rule(src=who, tgt=who, kind=ptr_kinds, i=pick, holder=st.booleans())
    def revoke(self, src, tgt, kind, i, holder):
        ptr = self.ptr(kind, i)
        src = self.proc(src)
        tgt = self.proc(tgt)
        al = self.m.allocs.get(ptr)
        if holder and al is not None and al.grants:
            src = al.owner
            tgt = list(al.grants)[i % len(al.grants)]
        self.begin()
        got = lib.pebble_secure_revoke(cproc(src), cproc(tgt), cptr(ptr))
        self.end("revoke", self.m.revoke(src, tgt, ptr), got)

    # -- access through the checked path -----------------------------------------

    def span(self, kind, i, off, n):
        """An address and length: inside an allocation, or running past it."""
        ptr = self.ptr(kind, i)
        al = self.m.containing(ptr) if ptr else None
        if al is None:
            return ptr, n
        start = al.addr + off % al.size
        left = al.addr + al.size - start
        if off % 5 == 0:
            return start, n
        if off % 5 == 1:            # to the last byte, or one past it
            return start, left + n % 2
        return start, 1 + n % left

    @rule(p=who, kind=ptr_kinds, i=pick, off=pick, n=counts, seed=pick, grantee=st.booleans())
    def write(self, p, kind, i, off, n, seed, grantee):
        p = self.proc(p)
        addr, n = self.span(kind, i, off, n)
        al = self.m.containing(addr) if addr else None
        if grantee and al is not None and al.grants:
            p = list(al.grants)[seed % len(al.grants)]
        self.write_call(p, addr, n, seed)

    def write_call(self, p, addr, n, seed):
        al = self.m.containing(addr) if addr else None
        self.begin()
        got = lib.pebble_secure_check(cproc(p), cptr(addr), n, M.WRITE)
        self.end("check", self.m.check(p, addr, n, M.WRITE), got)
        if got == M.OK:
            data = random.Random(seed).randbytes(n)
            Pebble.poke(addr, data)
            al.data[addr - al.addr:addr - al.addr + n] = data

    @rule(p=who, kind=ptr_kinds, i=pick, off=pick, n=counts, grantee=st.booleans())
    def read(self, p, kind, i, off, n, grantee):
        p = self.proc(p)
        addr, n = self.span(kind, i, off, n)
        al = self.m.containing(addr) if addr else None
        if grantee and al is not None and al.grants:
            p = list(al.grants)[off % len(al.grants)]
        self.begin()
        got = lib.pebble_secure_check(cproc(p), cptr(addr), n, M.READ)
        self.end("check", self.m.check(p, addr, n, M.READ), got)
        if got == M.OK:
            # a threaded host pins the access instead: allowed alike, and pinning changes no state
            d = lib.pebble_secure_digest()
            assert lib.pebble_secure_pin(cproc(p), cptr(addr), n, M.READ) == M.OK, "check allowed, pin refused"
            assert Pebble.peek(addr, n) == bytes(al.data[addr - al.addr:addr - al.addr + n]), \
                "bytes read differ from bytes written"
            assert lib.pebble_secure_unpin(cproc(p), cptr(addr), n) == M.OK
            assert lib.pebble_secure_unpin(cproc(p), cptr(addr), n) == M.INVALID, "unpinned what was not pinned"
            assert lib.pebble_secure_digest() == d

    @rule(p=who, kind=ptr_kinds, i=pick, off=pick, n=counts, perm=perms)
    def check(self, p, kind, i, off, n, perm):
        p = self.proc(p)
        addr, n = self.span(kind, i, off, n)
        self.begin()
        got = lib.pebble_secure_check(cproc(p), cptr(addr), n, perm)
        self.end("check", self.m.check(p, addr, n, perm), got)

    # -- queries -------------------------------------------------------------------

    @rule(p=who, kind=ptr_kinds, i=pick, out_ok=out_ok)
    def info(self, p, kind, i, out_ok):
        p, ptr = self.proc(p), self.ptr(kind, i)
        self.begin()
        got, info = Pebble.info(p, ptr, out_ok)
        want, fields = self.m.info(p, ptr, out_ok)
        self.end("info", want, got, changes=False)
        if got == M.OK:
            self.same_info(info, fields)

    @rule(p=who, out_ok=out_ok)
    def stats(self, p, out_ok):
        p = self.proc(p)
        self.begin()
        got, st_ = Pebble.stats(p, out_ok)
        want, fields = self.m.stats(p, out_ok)
        self.end("stats", want, got, changes=False)
        assert st_ == fields

    @rule(p=who, kind=ptr_kinds, i=pick, max_entries=st.one_of(st.integers(1, 6), st.integers(1, 6), st.sampled_from([0, -1, -2**31])), out_ok=out_ok)
    def audit(self, p, kind, i, max_entries, out_ok):
        p, ptr = self.proc(p), self.ptr(kind, i)
        if max_entries == 6:
            max_entries = self.m.audit_ring
        self.begin()
        got, entries = Pebble.audit(p, ptr, max_entries, out_ok)
        want, expect = self.m.audit(p, ptr, max_entries, out_ok)
        self.end("audit", want, min(got, M.OK), changes=False)
        if got >= 0:
            self.same_entries(entries, expect, max_entries)

    @rule(p=who, v=budgets, kind=st.sampled_from(["set", "increase", "decrease"]), near=st.integers(0, 3))
    def budget(self, p, v, kind, near):
        p = self.proc(p)
        a = self.m.area(p)
        if a is not None and near == 0:     # around the edges that matter
            v = {"set": a.used + v % 3 - 1, "increase": self.m.max_budget - a.limit + v % 3 - 1,
                 "decrease": a.limit - a.used + v % 3 - 1}[kind] % 2**64
        self.begin()
        got = getattr(lib, "pebble_secure_budget_" + kind)(cproc(p), v)
        self.end("budget_" + kind, getattr(self.m, "budget_" + kind)(p, v), got)

    @rule(p=who, kind=st.sampled_from(["set", "set", "increase", "decrease"]), d=st.integers(-1, 1))
    def budget_edge(self, p, kind, d):
        """A budget call a byte either side of its edge: usage, the maximum, the budget itself."""
        live = [q for q in self.attached() if self.m.area(q).used > 0] or self.attached()
        if not live:
            return
        p = live[p % len(live)]
        a = self.m.area(p)
        edge = {"set": a.used if d or p.pid % 2 else self.m.max_budget,
                "increase": self.m.max_budget - a.limit, "decrease": a.limit - a.used}[kind]
        v = (edge + d) % 2**64
        self.begin()
        got = getattr(lib, "pebble_secure_budget_" + kind)(p.c, v)
        self.end("budget_" + kind, getattr(self.m, "budget_" + kind)(p, v), got)

    # -- configuration ---------------------------------------------------------------

    @rule(p=who, key=keys)
    def ask(self, p, key):
        """budget_get and get_conf, with any proc and key (nil and unknown ones too)."""
        p = self.proc(p)
        self.begin()
        budget, value = lib.pebble_secure_budget_get(cproc(p)), Pebble.get_conf(p, key)
        self.end("budget_get", M.OK, M.OK, changes=False)
        self.end("get_conf", M.OK, M.OK, changes=False)
        assert budget == self.m.budget_get(p)
        assert value == self.m.get_conf(p, key), "get_conf %r" % key

    @rule(p=who, key=st.sampled_from(M.KEYS), on=st.booleans(), budget=budgets)
    def set_conf_good(self, p, key, on, budget):
        p = self.proc(p)
        self.set_conf_call(p, key, str(budget % (1 << 21)) if key == M.KEY_BUDGET else str(int(on)))

    @rule(p=who, key=keys, value=values, nil=st.integers(0, 20))
    def set_conf(self, p, key, value, nil):
        p = self.proc(p)
        if nil == 0:
            key = None
        elif nil == 1:
            value = None
        self.set_conf_call(p, key, value)

    def set_conf_call(self, p, key, value):
        self.begin()
        got = set_conf(p, key, value)
        self.end("set_conf", self.m.set_conf(p, key, value), got)

    # -- the system switches -----------------------------------------------------------

    @rule(which=st.sampled_from(["enabled", "enabled", "auditing", "encryption", "max_budget"]),
          v=st.sampled_from([0, 1, 1, 1, 2, -1]), budget=budgets)
    def switch(self, which, v, budget):
        """Flip a system switch: the subsystem off and on, auditing, encryption, max budget."""
        if which == "max_budget":
            v = budget
        setattr(lib, "pebble_secure_" + which, v)
        setattr(self.m, which, v)

    # -- the host -------------------------------------------------------------------------

    @rule()
    def fail_next_malloc(self):
        """The host's next metadata allocation fails: the next call may be NOMEM."""
        self.failmalloc = True

    @rule(n=st.integers(0, 80))
    def pageout(self, n):
        """Memory pressure: the pager takes pages of encrypted areas to swap."""
        got = lib.pebble_secure_pageout(n)
        assert 0 <= got <= n
        OBSERVED[("pageout", "paged" if got else "none")] += 1
        for page, cipher in self.pb.swapped_pages().items():
            for al in self.m.allocs.values():
                lo, hi = max(al.addr, page), min(al.addr + al.size, page + PAGE)
                if lo >= hi:
                    continue
                assert self.m.owner_area(al).encryption, "a page of an unencrypted area went to swap"
                plain = bytes(al.data[lo - al.addr:hi - al.addr])
                if sum(1 for b in plain if b) >= 8:
                    assert cipher[lo - page:hi - page] != plain, "plaintext reached swap"

    # -- comparing what the core shows with the model -------------------------------------

    def same_info(self, info, want):
        assert int(ffi.cast("uintptr_t", info.ptr)) == want["ptr"]
        assert info.owner == want["owner"].c
        for k in ("size", "pid", "permissions", "alloc_time", "ngrants", "protection"):
            assert getattr(info, k) == want[k], "info.%s: core %r, model %r" % (k, getattr(info, k), want[k])
        a = self.m.area(want["owner"])
        rd = info.ramdisk
        assert rd.base.proc == want["owner"].c and rd.base.pid == want["pid"]
        assert (rd.total_size, rd.used_size, rd.encrypted, rd.wipe_on_free) == \
            (a.limit, a.used, a.encryption, a.auto_wipe)

    def same_entries(self, got, expect, max_entries):
        certain, uncertain = expect
        want = [e for e in certain]
        options = [want] + [[u] + want for u in uncertain]
        options = [[(e.op, e.proc.c, e.pid, e.size, e.time, e.peer, e.perms, e.result)
                    for e in o][:max_entries] for o in options]
        assert got in options, "audit entries differ:\ncore  %r\nmodel %r" % (got, options[0])

    def access_map(self, p):
        """The slots whose bits are set in p's access_map (read through an info), or None."""
        for al in self.m.owned_by(p):
            err, info = Pebble.info(p, al.addr)
            assert err == M.OK
            m = info.ramdisk.access_map
            return {s for s in range(self.nproc) if m[s // 64] >> (s % 64) & 1}
        return None

    @invariant()
    def agrees_with_model(self):
        if self.pb is None:
            return
        m = self.m
        sys = Pebble.sysstats()
        for k, v in m.sysstats().items():
            assert sys[k] == v, "sysstats.%s: core %r, model %r" % (k, sys[k], v)
        assert sys["free_bytes"] + sys["in_use"] + sys["rounding"] == sys["heap_size"]
        assert sys["largest_free"] <= sys["free_bytes"] and sys["rounding"] < sys["heap_size"]
        assert sys["paged_out"] == lib.detswapcount()
        for p in self.attached():
            a = m.area(p)
            assert Pebble.stats(p) == m.stats(p)
            assert lib.pebble_secure_budget_get(p.c) == a.limit
            for key in M.KEYS:
                assert Pebble.get_conf(p, key) == m.get_conf(p, key), key
            _, peak, wiped = self.seen.get(id(a), (a, 0, 0))
            st_ = Pebble.stats(p)[1]
            assert st_["peak_usage"] >= peak and st_["total_wiped"] >= wiped, "peak_usage or total_wiped went down"
            self.seen[id(a)] = (a, st_["peak_usage"], st_["total_wiped"])
            bits = self.access_map(p)
            if bits is not None:
                holders = {h.slot for al in m.owned_by(p) for h in al.grants}
                assert bits == holders, "access_map %r, grants held from slots %r" % (bits, holders)
        for al in list(m.allocs.values()):
            err, info = Pebble.info(al.owner, al.addr)
            assert err == M.OK, "info on a live allocation: %s" % code(err)
            self.same_info(info, m.info(al.owner, al.addr)[1])
            for h, g in al.grants.items():
                err, info = Pebble.info(h, al.addr)
                assert err == M.OK and info.permissions == g
            err, entries = Pebble.audit(al.owner, al.addr, m.audit_ring)
            assert err >= 0
            self.same_entries(entries, m.audit_entries(al), m.audit_ring)

    @invariant()
    def memory_agrees(self):
        """Allocations lie in the heap apart; bytes stay written; nothing else holds a byte."""
        if self.pb is None:
            return
        base, end = self.pb.base, self.pb.base + self.pb.heap
        out = set(self.pb.swapped_pages())
        last = base
        for al in sorted(self.m.allocs.values(), key=lambda al: al.addr):
            assert last <= al.addr and al.addr + al.size <= end, "allocation outside the heap or overlapping"
            last = al.addr + al.size
            pages = range((al.addr - base) // PAGE, (al.addr + al.size - 1 - base) // PAGE + 1)
            if not any(base + pg * PAGE in out for pg in pages):
                assert Pebble.peek(al.addr, al.size) == bytes(al.data), "allocation bytes changed"
        for lo, hi in self.m.wiped_ranges:
            if not any(al.addr < hi and lo < al.addr + al.size for al in self.m.allocs.values()):
                assert Pebble.peek(lo, hi - lo) == bytes(hi - lo), "released bytes were not wiped"
        self.m.wiped_ranges.clear()
        heap = self.pb.arena()
        for lo, hi in [(al.addr, al.addr + al.size) for al in self.m.allocs.values()] + [r[:2] for r in self.m.dirty_ranges]:
            heap[lo - base:hi - base] = bytes(hi - lo)
        if heap.count(0) != len(heap):
            i = next(i for i, b in enumerate(heap) if b)
            raise AssertionError("heap byte at offset %d is not zero but lies in no allocation" % i)
