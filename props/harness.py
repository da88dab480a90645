"""The core as the property tests drive it: one instance, host procs, memory.

This is the C side of every comparison: thin wrappers that call the core
through CFFI and turn its answers into Python values the model's can be
compared with.  It knows nothing of the semantics; model.py does.
"""

from model import ProcStruct, KEYS
from pebbleffi import ffi, lib

PAGE = 4096


class HostProc(ProcStruct):
    """A ProcStruct backed by a real host Proc structure the core reads."""

    def __init__(self, slot, pid, user, parent=None, nowait=False):
        self.c = ffi.new("Proc*")
        super().__init__(slot, pid, user, parent, nowait)
        self.sync()

    def sync(self):
        """Write the fields to the C structure (after making or recycling it)."""
        self.c.slot = self.slot
        self.c.pid = self.pid
        self.c.user = self.user.encode()
        self.c.parent = self.parent.c if self.parent is not None else ffi.NULL
        self.c.nowait = int(self.nowait)

    def recycle(self, slot, pid, user, parent, nowait):
        """The host reuses this structure for a new process, as Plan 9 does."""
        self.slot, self.pid, self.user = slot, pid, user
        self.parent, self.nowait = parent, nowait
        self.sync()


def cproc(p):
    return ffi.NULL if p is None else p.c


def cptr(addr):
    return ffi.cast("void*", addr)


def cstr(s):
    return ffi.NULL if s is None else ffi.new("char[]", s.encode())


class Pebble:
    """One live instance of the core, on the deterministic host."""

    def __init__(self, heap, nproc, audit, budget, seed=1):
        assert not lib.pebblelive(), "an instance was left live"
        lib.detreset(seed)
        conf = ffi.new("Pebbleconf*", dict(heapsize=heap, nproc=nproc, auditsize=audit, budget=budget))
        err = lib.pebbleinit(conf)
        assert err == 0, "pebbleinit: %d" % err
        self.heap = heap
        self.base = self.find_arena()

    def find_arena(self):
        """Where the arena is: a fresh heap gives a heap-sized allocation at its start.

        The probe runs with auditing off, so it leaves no audit entry, and
        its proc is gone before any test call: the instance is as fresh
        as pebbleinit left it, but for allocation ids.
        """
        probe = HostProc(0, 1 << 30, "eve")
        lib.pebble_secure_auditing = 0
        assert lib.pebble_secure_attach(ffi.NULL, probe.c) == 0
        assert lib.pebble_secure_budget_set(probe.c, self.heap) == 0
        out = ffi.new("void**")
        assert lib.pebble_secure_alloc(probe.c, self.heap, out, 6) == 0, "a fresh heap refused all of itself"
        base = int(ffi.cast("uintptr_t", out[0]))
        assert lib.pebble_secure_free(probe.c, out[0]) == 0
        assert lib.pebble_secure_detach(probe.c) == 0
        lib.pebble_secure_auditing = 1
        assert base % PAGE == 0
        return base

    def close(self):
        lib.pebbleshutdown()

    # -- reading the core's state -------------------------------------------

    @staticmethod
    def digest():
        return lib.pebble_secure_digest()

    @staticmethod
    def sysstats():
        st = ffi.new("PebbleSysStats*")
        assert lib.pebble_secure_sysstats(st) == 0
        return {k: getattr(st, k) for k in dir(st)}

    @staticmethod
    def stats(p, out_ok=True):
        st = ffi.new("PebbleSecureStats*")
        err = lib.pebble_secure_stats(cproc(p), st if out_ok else ffi.NULL)
        if err != 0:
            return err, None
        return err, {k: getattr(st, k) for k in dir(st)}

    @staticmethod
    def info(p, addr, out_ok=True):
        info = ffi.new("SecureAllocation*")
        err = lib.pebble_secure_info(cproc(p), cptr(addr), info if out_ok else ffi.NULL)
        return err, info

    @staticmethod
    def audit(p, addr, max_entries, out_ok=True):
        n = max(max_entries, 1)
        buf = ffi.new("SecureAuditEntry[]", n)
        err = lib.pebble_secure_audit(cproc(p), cptr(addr), buf if out_ok else ffi.NULL, max_entries)
        fields = ("operation", "process", "pid", "size", "timestamp", "peer", "perms", "result")
        return err, [tuple(getattr(buf[i], f) for f in fields) for i in range(max(err, 0))]

    @staticmethod
    def get_conf(p, key):
        s = lib.pebble_get_secure_conf(cproc(p), cstr(key))
        return None if s == ffi.NULL else ffi.string(s).decode()

    def swapped_pages(self):
        """{page address: ciphertext} of every page in the swap store."""
        out = {}
        key, buf, n = ffi.new("uvlong*"), ffi.new("uchar**"), ffi.new("usize*")
        for i in range(lib.detswapcount()):
            assert lib.detswapread(i, key, buf, n) == 0
            out[self.base + key[0] * PAGE] = bytes(ffi.buffer(buf[0], n[0]))
        return out

    # -- memory, as the host touches it once pebble_secure_check allowed it --

    @staticmethod
    def peek(addr, n):
        return bytes(ffi.buffer(cptr(addr), n))

    @staticmethod
    def poke(addr, data):
        ffi.memmove(cptr(addr), data, len(data))

    def arena(self):
        return bytearray(ffi.buffer(cptr(self.base), self.heap))


def alloc(p, size, perms, simple=False, out_ok=True):
    """(code, address or None)."""
    out = ffi.new("void**")
    o = out if out_ok else ffi.NULL
    if simple:
        err = lib.pebble_secure_alloc_simple(cproc(p), size, o)
    else:
        err = lib.pebble_secure_alloc(cproc(p), size, o, perms)
    return err, (int(ffi.cast("uintptr_t", out[0])) if err == 0 else None)


def set_conf(p, key, value):
    return lib.pebble_set_secure_conf(cproc(p), cstr(key), cstr(value))


__all__ = ["HostProc", "Pebble", "cproc", "cptr", "alloc", "set_conf", "KEYS", "ffi", "lib", "PAGE"]
