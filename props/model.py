"""The reference model: DESIGN.md section 2 as plain Python.

This is the executable specification the property tests hold the C core
to.  It is written from DESIGN.md, not from core/*.c; where DESIGN.md is
silent it follows the lead's recorded decisions (see props/README.md),
and a few shapes the C chose that DESIGN.md leaves open (what an audit
entry's fields hold, which refusals log DENIED), each marked "C's choice".

The model knows nothing of addresses except what the heap hands out: an
allocation's address is an input (the core's answer), as is the heap's
refusal (NOMEM), which only the heap can know.  Everything else the
model decides.

Procs are the host's Proc structures (ProcStruct): a Proc is recycled,
so the model, like the core, knows a proc by its structure and its pid.
"""

import re
from dataclasses import dataclass, field

OK, NOMEM, PERM, NOTFOUND, INVALID, BUDGET, BUSY = 0, -1, -2, -3, -4, -5, -6
CODES = {OK: "OK", NOMEM: "NOMEM", PERM: "PERM", NOTFOUND: "NOTFOUND",
         INVALID: "INVALID", BUDGET: "BUDGET", BUSY: "BUSY"}

READ, WRITE, EXEC = 4, 2, 1
RWX = READ | WRITE | EXEC

(ALLOC, FREE, PARTIAL_FREE, WIPE, SHARE, REVOKE,
 DENIED, INHERIT, EXIT) = range(1, 10)

EVE = "eve"
USIZE_MAX = 2**64 - 1
PAGE = 4096                 # the heap's page: partial frees give back whole ones

KEY_BUDGET = "pebble.secure.budget"
KEY_ENCRYPTION = "pebble.secure.encryption"
KEY_AUDIT = "pebble.secure.audit"
KEY_AUTO_WIPE = "pebble.secure.auto_wipe"
KEYS = (KEY_BUDGET, KEY_ENCRYPTION, KEY_AUDIT, KEY_AUTO_WIPE)


def badperm(perm):
    """A permission argument of 0 or with bits beyond RWX is INVALID."""
    return perm == 0 or perm & ~RWX != 0


def parse_size(s):
    """`pebble.secure.budget`: decimal bytes, optional k/m/g; None if malformed.

    C's choice where DESIGN.md is silent: upper-case suffixes are accepted
    too, and a value that does not fit a usize is malformed.
    """
    m = re.fullmatch(r"([0-9]+)([kKmMgG]?)", s)
    if m is None:
        return None
    n = int(m.group(1)) * {"": 1, "k": 2**10, "m": 2**20, "g": 2**30}[m.group(2).lower()]
    return n if n <= USIZE_MAX else None


def parse_bool(s):
    return {"0": 0, "1": 1}.get(s)


class ProcStruct:
    """A host Proc structure: slot, pid, user, parent, RFNOWAIT.

    The host may recycle it (a new pid, user and parent in the same
    structure): the model then sees exactly what the core sees.
    """

    def __init__(self, slot, pid, user, parent=None, nowait=False):
        self.slot, self.pid, self.user = slot, pid, user
        self.parent, self.nowait = parent, nowait

    def __repr__(self):
        return "Proc(slot=%d pid=%d %s)" % (self.slot, self.pid, self.user)


@dataclass
class Area:
    """A proc's secure area: budget, usage, statistics and settings."""
    proc: ProcStruct
    pid: int
    limit: int
    encryption: int
    audit: int
    auto_wipe: int
    used: int = 0
    peak: int = 0
    wiped: int = 0
    deferred: int = 0
    ppid: int = 0           # the pid of the host parent it had when attached (Plan 9's parentpid)

    def charge(self, n):
        self.used += n
        self.peak = max(self.peak, self.used)


@dataclass
class Allocation:
    addr: int               # its start now (moves up on partial free)
    size: int               # bytes charged: requested, less partial frees
    prot: int               # its own permissions, for owner and grantees alike
    owner: ProcStruct
    born: int               # age: allocations are numbered in the order made
    time: int
    audited: bool
    data: bytearray
    grants: dict = field(default_factory=dict)      # holder ProcStruct -> perms
    ident: int = 0          # the id info reports: never reused, kept when inherited
    origin: int = 0         # its start when made: partial frees give back whole pages from here


@dataclass
class Entry:
    """One audit log entry (the seed's fields, plus pid, peer, perms, result)."""
    alloc: int              # the allocation's age number: what the log is queried by
    op: int
    proc: ProcStruct
    pid: int
    size: int
    time: int
    peer: int = 0
    perms: int = 0
    result: int = 0
    group: int = 0          # entries logged by one call share a group


class Model:
    """The whole subsystem: switches, areas, allocations, grants, audit log."""

    def __init__(self, heap_size, nproc, audit_ring, conf_budget):
        self.heap_size = heap_size
        self.nproc = nproc
        self.audit_ring = audit_ring
        self.conf_budget = min(conf_budget, heap_size)
        # the system switches, as pebbleinit leaves them
        self.enabled = 1
        self.max_budget = heap_size
        self.encryption = 0
        self.auditing = 1
        self.areas = {}             # slot -> Area
        self.allocs = {}            # start address -> Allocation
        self.log = []               # every entry ever logged, oldest first
        self.nborn = 0
        self.ngroup = 0
        self.now = 0
        # byte ranges the core has just wiped, and ranges released unwiped
        # (zeroed before reuse); the harness checks the first and lets the
        # second hold old bytes
        self.wiped_ranges = []
        self.dirty_ranges = []      # (lo, hi, area): allowed to hold old bytes until that area's proc exits
        # what the system statistics keep of procs that exited
        self.exit_wiped = 0
        self.exit_deferred = 0

    # -- lookups -----------------------------------------------------------

    def area(self, p):
        """p's area, if p is the very proc (structure and pid) it was made for."""
        if p is None:
            return None
        a = self.areas.get(p.slot)
        if a is None or a.proc is not p or a.pid != p.pid:
            return None
        return a

    def owner_area(self, al):
        return self.area(al.owner)

    def containing(self, addr):
        for al in self.allocs.values():
            if al.addr <= addr < al.addr + al.size:
                return al
        return None

    def owned_by(self, p):
        return [al for al in self.allocs.values() if al.owner is p]

    # -- the audit log -------------------------------------------------------

    def logentry(self, al, op, by, size, peer=0, perms=0, result=0, group=None):
        if not al.audited:
            return
        if group is None:
            self.ngroup += 1
            group = self.ngroup
        self.log.append(Entry(al.born, op, by, by.pid, size, self.now,
                              peer, perms, result, group))

    def deny(self, al, by, err):
        """C's choice: a refusal after the allocation was found is logged on it."""
        self.logentry(al, DENIED, by, 0, result=err)
        return err

    def audit_entries(self, al):
        """(certain, uncertain) entries of al the log retains, oldest first.

        One call (a detach) may log several entries in an order the
        contract does not fix.  If the ring's edge cuts through such a
        group, which of its entries survive is not fixed either: those
        of al come back as `uncertain` (at most one; it precedes all of
        `certain`).
        """
        start = max(0, len(self.log) - self.audit_ring)
        cut = self.log[start].group if start > 0 else None
        certain, uncertain = [], []
        for i, e in enumerate(self.log):
            if e.alloc != al.born:
                continue
            if cut is not None and e.group == cut and self.log[start - 1].group == cut:
                uncertain.append(e)
            elif i >= start:
                certain.append(e)
        return certain, uncertain

    # -- releasing bytes -----------------------------------------------------

    def release(self, al, n, wipe):
        """The first n bytes of al leave it: wiped now, or zeroed before reuse."""
        a = self.owner_area(al)
        rng = (al.addr, al.addr + n)
        if wipe or a.auto_wipe:
            a.wiped += n
            self.wiped_ranges.append(rng)
        else:
            a.deferred += n
            self.dirty_ranges.append(rng + (a,))
        a.used -= n

    def free_whole(self, al, by, op, wipe, group=None):
        self.logentry(al, op, by, al.size, group=group)
        al.grants.clear()           # freeing a shared allocation revokes every grant
        self.release(al, al.size, wipe)
        del self.allocs[al.addr]

    # -- the API ---------------------------------------------------------------

    def alloc(self, p, size, perms, out_ok=True, addr=None):
        """addr: where the heap put it, or None if the heap refused (NOMEM)."""
        if p is None or not out_ok or size == 0 or badperm(perms):
            return INVALID
        if not self.enabled:
            return PERM
        a = self.area(p)
        if a is None:
            return NOTFOUND
        if a.used + size > a.limit:
            return BUDGET
        if addr is None:
            return NOMEM
        self.nborn += 1
        al = Allocation(addr, size, perms, p, self.nborn, self.now,
                        bool(self.auditing and a.audit), bytearray(size))
        al.ident = self.nborn           # until the caller learns the core's (setident)
        al.origin = addr
        self.allocs[addr] = al
        a.charge(size)
        self.logentry(al, ALLOC, p, size, perms=perms)
        return OK

    def setident(self, addr, ident):
        """The id the core gave the allocation at addr: the order of inheritance."""
        self.allocs[addr].ident = ident

    def alloc_simple(self, p, size, out_ok=True, addr=None):
        return self.alloc(p, size, READ | WRITE, out_ok, addr)

    @staticmethod
    def whole_pages(lo, hi):
        """Pages lying wholly inside [lo, hi) (the arena starts on a page)."""
        return max(0, hi // PAGE - -(-lo // PAGE))

    def pages_back(self, al, n):
        """Pages a partial free of al's first n bytes gives back to the heap: every whole
        page inside the freed front (DESIGN.md, Free), counted from where al began."""
        return (self.whole_pages(al.origin, al.addr + n) - self.whole_pages(al.origin, al.addr))

    def _memop(self, p, ptr, n, op, refused=False):
        """free, free_size, wipe, wipe_and_free: n is the size argument, 0 = all.
        refused: the host failed the metadata a partial free giving pages back needs."""
        if p is None or ptr == 0:
            return INVALID
        if self.area(p) is None:
            return NOTFOUND
        al = self.allocs.get(ptr)
        if al is None:
            return NOTFOUND
        if al.owner is not p:
            perm = al.grants.get(p)
            if op != "wipe" or perm is None or not perm & WRITE:
                return self.deny(al, p, PERM)
        if n > al.size or (op == "wipe_and_free" and n not in (0, al.size)):
            return self.deny(al, p, INVALID)
        if n == 0:
            n = al.size
        if op == "wipe":
            self.owner_area(al).wiped += n
            al.data[:n] = bytes(n)
            self.wiped_ranges.append((al.addr, al.addr + n))
            self.logentry(al, WIPE, p, n)
        elif op == "wipe_and_free":
            self.free_whole(al, p, FREE, wipe=True)
        elif n == al.size:
            self.free_whole(al, p, FREE, wipe=False)
        else:
            if refused and self.pages_back(al, n) > 0:
                return self.deny(al, p, NOMEM)
            self.logentry(al, PARTIAL_FREE, p, n)
            self.release(al, n, wipe=False)
            del self.allocs[al.addr]
            al.addr += n
            al.size -= n
            del al.data[:n]
            self.allocs[al.addr] = al
        return OK

    def free(self, p, ptr):
        return self._memop(p, ptr, 0, "free")

    def free_size(self, p, ptr, n, refused=False):
        if n == 0:
            return INVALID
        return self._memop(p, ptr, n, "free", refused)

    def wipe(self, p, ptr, n):
        return self._memop(p, ptr, n, "wipe")

    def wipe_and_free(self, p, ptr, n):
        return self._memop(p, ptr, n, "wipe_and_free")

    def share(self, src, tgt, ptr, perms, refused=False):
        """refused: the host had no memory for a new grant (NOMEM)."""
        if src is None or tgt is None or ptr == 0 or src is tgt or badperm(perms):
            return INVALID
        al = self.allocs.get(ptr)
        if not self.enabled:            # a refusal naming a live allocation is logged
            return self.deny(al, src, PERM) if al is not None else PERM
        if self.area(src) is None or self.area(tgt) is None:
            return NOTFOUND
        if al is None:
            return NOTFOUND
        if al.owner is not src or perms & ~al.prot or (src.user != EVE and src.user != tgt.user):
            return self.deny(al, src, PERM)
        if tgt not in al.grants and refused:
            return self.deny(al, src, NOMEM)
        al.grants[tgt] = perms          # sharing again replaces the grant
        self.logentry(al, SHARE, src, al.size, peer=tgt.pid, perms=perms)
        return OK

    def revoke(self, src, tgt, ptr):
        if src is None or tgt is None or ptr == 0 or src is tgt:
            return INVALID
        if self.area(src) is None or self.area(tgt) is None:
            return NOTFOUND
        al = self.allocs.get(ptr)
        if al is None:
            return NOTFOUND
        if al.owner is not src:
            return self.deny(al, src, PERM)
        if tgt not in al.grants:
            return NOTFOUND
        self.logentry(al, REVOKE, src, al.size, peer=tgt.pid, perms=al.grants.pop(tgt))
        return OK

    def perms_of(self, p, al):
        """p's effective permissions on al."""
        return al.prot if al.owner is p else al.grants.get(p, 0)

    def check(self, p, addr, n, perm):
        """The simulated MMU: may p touch [addr, addr+n) with perm?"""
        if p is None or addr == 0 or n == 0 or badperm(perm):
            return INVALID
        if self.area(p) is None:
            return NOTFOUND
        al = self.containing(addr)
        if al is None:
            return NOTFOUND
        have = self.perms_of(p, al)
        if not have:                # a stranger learns nothing of the extent: PERM whatever n
            return self.deny(al, p, PERM)
        if addr + n > al.addr + al.size:
            return NOTFOUND
        if perm & ~have:
            return self.deny(al, p, PERM)
        return OK

    def info(self, p, ptr, out_ok=True):
        """(code, expected fields or None)."""
        if p is None or ptr == 0 or not out_ok:
            return INVALID, None
        if self.area(p) is None:
            return NOTFOUND, None
        al = self.allocs.get(ptr)
        if al is None:
            return NOTFOUND, None
        if al.owner is not p and p not in al.grants:
            return self.deny(al, p, PERM), None
        return OK, dict(ptr=al.addr, size=al.size, owner=al.owner, pid=al.owner.pid,
                        permissions=self.perms_of(p, al), alloc_time=al.time,
                        ngrants=len(al.grants), protection=al.prot)

    def stats(self, p, out_ok=True):
        if p is None or not out_ok:
            return INVALID, None
        a = self.area(p)
        if a is None:
            return NOTFOUND, None
        return OK, dict(total_budget=a.limit, used_budget=a.used,
                        num_allocations=len(self.owned_by(p)), peak_usage=a.peak,
                        total_wiped=a.wiped, total_deferred=a.deferred)

    def audit(self, p, ptr, max_entries, out_ok=True):
        """(code, (certain, uncertain) entries as returned, or None)."""
        if p is None or ptr == 0 or not out_ok or max_entries <= 0:
            return INVALID, None
        if self.area(p) is None:
            return NOTFOUND, None
        al = self.allocs.get(ptr)
        if al is None:
            return NOTFOUND, None
        if al.owner is not p and p.user != EVE:
            return self.deny(al, p, PERM), None
        return OK, self.audit_entries(al)

    # -- budgets -------------------------------------------------------------

    def budget_get(self, p):
        a = self.area(p)
        return a.limit if a is not None else 0

    def _budget(self, p, extends):
        if p is None:
            return INVALID, None
        if extends and not self.enabled:
            return PERM, None
        a = self.area(p)
        if a is None:
            return NOTFOUND, None
        return None, a

    def _setlimit(self, a, v):
        """DESIGN order: in use (BUSY) before budget (BUDGET)."""
        if v < a.used:
            return BUSY
        if v > self.max_budget:
            return BUDGET
        a.limit = v
        return OK

    def budget_set(self, p, v):
        err, a = self._budget(p, True)
        return err if err is not None else self._setlimit(a, v)

    def budget_increase(self, p, v):
        err, a = self._budget(p, True)
        if err is not None:
            return err
        if a.limit + v > self.max_budget:       # passing the maximum, or overflowing
            return BUDGET
        a.limit += v
        return OK

    def budget_decrease(self, p, v):
        err, a = self._budget(p, False)
        if err is not None:
            return err
        if v > a.limit:
            return INVALID
        if a.limit - v < a.used:
            return BUSY
        a.limit -= v
        return OK

    # -- configuration -----------------------------------------------------------

    def get_conf(self, p, key):
        a = self.area(p)
        if a is None or key not in KEYS:
            return None
        return str({KEY_BUDGET: a.limit, KEY_ENCRYPTION: a.encryption,
                    KEY_AUDIT: a.audit, KEY_AUTO_WIPE: a.auto_wipe}[key])

    def set_conf(self, p, key, value):
        if p is None or key not in KEYS or value is None:
            return INVALID
        v = parse_size(value) if key == KEY_BUDGET else parse_bool(value)
        if v is None:
            return INVALID
        if not self.enabled:
            return PERM
        a = self.area(p)
        if a is None:
            return NOTFOUND
        if key == KEY_BUDGET:
            return self._setlimit(a, v)
        setattr(a, {KEY_ENCRYPTION: "encryption", KEY_AUDIT: "audit",
                    KEY_AUTO_WIPE: "auto_wipe"}[key], v)
        return OK

    # -- process lifecycle -----------------------------------------------------

    def attach(self, parent, child):
        if child is None or child is parent or not 0 <= child.slot < self.nproc:
            return INVALID
        if not self.enabled:
            return PERM
        pa = None
        if parent is not None:
            pa = self.area(parent)
            if pa is None:
                return NOTFOUND
        if child.slot in self.areas:
            return BUSY
        if pa is not None:          # the parent's budget limit and settings
            a = Area(child, child.pid, pa.limit, pa.encryption, pa.audit, pa.auto_wipe)
        else:                       # the system defaults
            a = Area(child, child.pid, min(self.conf_budget, self.max_budget),
                     int(self.encryption != 0), 1, 1)
        a.ppid = child.parent.pid if child.parent is not None else 0
        self.areas[child.slot] = a
        return OK

    def detach(self, p):
        """Exit.  Returns OK or an error; entries it logs form one group."""
        if p is None:
            return INVALID
        a = self.area(p)
        if a is None:
            return NOTFOUND
        self.ngroup += 1
        g = self.ngroup
        # every grant p holds is dropped (C's choice: a REVOKE entry by p, naming p)
        for al in list(self.allocs.values()):
            if p in al.grants:
                self.logentry(al, REVOKE, p, al.size, peer=p.pid, perms=al.grants.pop(p), group=g)
        # what p's parent holds a grant on passes to it, in increasing id (docs/decisions.md), if it fits
        # the parent is the process p had when attached: a Proc structure
        # given since to another process (a new pid) inherits nothing
        parent = None if p.nowait else p.parent
        if parent is not None and parent.pid != a.ppid:
            parent = None
        pa = self.area(parent)
        if pa is not None:
            for al in sorted(self.owned_by(p), key=lambda al: al.ident):
                if parent in al.grants and al.size <= pa.limit - pa.used:
                    self.logentry(al, INHERIT, p, al.size, peer=parent.pid, group=g)
                    del al.grants[parent]       # the grant becomes ownership
                    al.owner = parent
                    a.used -= al.size
                    pa.charge(al.size)
        # everything else is wiped and freed
        for al in sorted(self.owned_by(p), key=lambda al: al.born):
            self.free_whole(al, p, EXIT, wipe=True, group=g)
        # and whatever p freed unwiped is wiped now, counted in its total_wiped
        a.wiped += a.deferred
        self.exit_wiped += a.wiped
        self.exit_deferred += a.deferred
        self.dirty_ranges = [r for r in self.dirty_ranges if r[2] is not a]
        del self.areas[p.slot]
        return OK

    # -- the whole system --------------------------------------------------------

    def sysstats(self):
        areas = self.areas.values()
        dropped = max(0, len(self.log) - self.audit_ring)
        return dict(heap_size=self.heap_size, in_use=sum(a.used for a in areas),
                    live_allocations=len(self.allocs), attached=len(self.areas),
                    wiped=self.exit_wiped + sum(a.wiped for a in areas),
                    deferred=self.exit_deferred + sum(a.deferred for a in areas),
                    audit_logged=len(self.log), audit_dropped=dropped)
