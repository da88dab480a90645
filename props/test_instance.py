"""Instances: making and tearing down the subsystem leaves nothing behind.

DESIGN.md, Reset: all state hangs off an instance that can be torn down
completely; nothing survives it.  Thousands of instances are made, used
and torn down in this one process; after each, the host holds no block
and no swap page of it, and the next instance starts from the defaults
whatever the last one did to the switches.
"""

import random

from hypothesis import given, settings, strategies as st

import model as M
from harness import PAGE, HostProc, Pebble, alloc, cptr, ffi, lib, set_conf


def nothing_left():
    assert not lib.pebblelive()
    assert lib.detblocks() == 0, "%d host blocks outlived the instance" % lib.detblocks()
    assert lib.detmetabytes() == 0
    assert lib.detswapcount() == 0, "swap pages outlived the instance"


def defaults_hold(heap):
    assert lib.pebble_secure_enabled == 1 and lib.pebble_secure_auditing == 1
    assert lib.pebble_secure_encryption == 0 and lib.pebble_secure_max_budget == heap


def dump_holds(secrets):
    """A crash dump (every host block the core holds) contains no secure byte."""
    blocks = []

    @ffi.callback("void(void*, usize, void*)")
    def each(buf, n, arg):
        blocks.append(bytes(ffi.buffer(buf, n)))
    lib.detdump(each, ffi.NULL)
    assert blocks, "the dump saw no metadata at all"
    for s in secrets:
        for b in blocks:
            assert s not in b, "secure bytes in a crash dump"


def workload(rnd, heap, nproc):
    """Use an instance the way a kernel would, then leave it in a mess for teardown."""
    procs = [HostProc(i, 100 + i, rnd.choice(["eve", "glenda"])) for i in range(min(nproc, 4))]
    secrets = []
    for p in procs:
        assert lib.pebble_secure_attach(ffi.NULL, p.c) == 0
        if rnd.random() < 0.5:
            assert set_conf(p, M.KEY_ENCRYPTION, "1") == 0
        if rnd.random() < 0.3:
            assert set_conf(p, M.KEY_AUTO_WIPE, "0") == 0
    live = []
    for _ in range(rnd.randint(0, 12)):
        p = rnd.choice(procs)
        n = rnd.choice([1, 17, 300, 4096, 5000, 70000])
        err, addr = alloc(p, n, M.READ | M.WRITE)
        if err != 0:
            continue
        secret = rnd.randbytes(min(n, 64)) if n >= 16 else b""
        if secret:
            assert lib.pebble_secure_check(p.c, cptr(addr), len(secret), M.WRITE) == 0
            Pebble.poke(addr, secret)
            secrets.append(secret)
        live.append((p, addr))
        q = rnd.choice(procs)
        if q is not p:
            lib.pebble_secure_share(p.c, q.c, cptr(addr), M.READ)
    for p, addr in live[::3]:
        lib.pebble_secure_free(p.c, cptr(addr))
    lib.pebble_secure_pageout(rnd.randint(0, heap // PAGE))
    dump_holds([s for s in secrets if len(s) >= 16])
    if procs and rnd.random() < 0.5:
        lib.pebble_secure_detach(procs[0].c)
    # switches left anywhere: the next instance must not see them
    lib.pebble_secure_enabled = rnd.choice([0, 1])
    lib.pebble_secure_max_budget = rnd.randint(0, 2**40)
    lib.pebble_secure_encryption = rnd.choice([0, 1])
    lib.pebble_secure_auditing = rnd.choice([0, 1])


def test_thousands_of_instances_leave_nothing_behind():
    rnd = random.Random(9)
    for i in range(2000):
        heap = rnd.choice([1, 16, 64, 256]) * PAGE
        nproc = rnd.choice([1, 4, 65])
        conf = ffi.new("Pebbleconf*", dict(heapsize=heap, nproc=nproc, auditsize=rnd.choice([1, 7, 100])))
        lib.detreset(i)
        assert lib.pebbleinit(conf) == 0
        try:
            assert lib.pebblelive()
            defaults_hold(heap)
            workload(rnd, heap, nproc)
        finally:
            lib.pebbleshutdown()
        nothing_left()


@given(heap=st.integers(1, 64).map(lambda n: n * PAGE), nproc=st.integers(1, 70),
       audit=st.integers(1, 300), seed=st.integers(0, 2**32))
@settings(max_examples=settings().max_examples // 4)
def test_any_instance_leaves_nothing_behind(heap, nproc, audit, seed):
    lib.detreset(seed)
    conf = ffi.new("Pebbleconf*", dict(heapsize=heap, nproc=nproc, auditsize=audit))
    assert lib.pebbleinit(conf) == 0
    try:
        defaults_hold(heap)
        workload(random.Random(seed), heap, nproc)
    finally:
        lib.pebbleshutdown()
    nothing_left()


@given(bad=st.sampled_from([
    dict(heapsize=4095), dict(heapsize=4097), dict(heapsize=(1 << 31) + 4096), dict(heapsize=2**64 - 4096),
    dict(nproc=-1), dict(nproc=16385), dict(nproc=-2**31),
    dict(auditsize=-1), dict(auditsize=(1 << 24) + 1)]))
def test_bad_configuration_is_invalid_and_leaves_nothing(bad):
    assert lib.pebbleinit(ffi.new("Pebbleconf*", bad)) == M.INVALID
    nothing_left()


@given(n=st.integers(1, 12))
def test_host_memory_failure_during_init_is_nomem_and_leaves_nothing(n):
    """The nth metadata allocation of pebbleinit fails: NOMEM, and every earlier one is given back."""
    lib.detreset(0)
    lib.detfailmalloc(n)
    err = lib.pebbleinit(ffi.new("Pebbleconf*", dict(heapsize=16 * PAGE, nproc=4)))
    lib.detfailmalloc(0)
    if err == M.OK:                 # init needed fewer than n allocations
        lib.pebbleshutdown()
    else:
        assert err == M.NOMEM
    nothing_left()


def test_one_instance_at_a_time():
    assert lib.pebbleinit(ffi.NULL) == M.OK
    try:
        assert lib.pebbleinit(ffi.NULL) == M.BUSY
    finally:
        lib.pebbleshutdown()
    lib.pebbleshutdown()            # a second shutdown is harmless
    nothing_left()


def test_calls_without_an_instance_are_refused():
    """With no instance every call is INVALID (or its null answer); none crashes."""
    p = HostProc(0, 1, "eve")
    out = ffi.new("void**")
    assert not lib.pebblelive()
    assert lib.pebble_secure_attach(ffi.NULL, p.c) == M.INVALID
    assert lib.pebble_secure_alloc(p.c, 16, out, 6) == M.INVALID
    assert lib.pebble_secure_free(p.c, cptr(4096)) == M.INVALID
    assert lib.pebble_secure_stats(p.c, ffi.new("PebbleSecureStats*")) == M.INVALID
    assert lib.pebble_secure_budget_get(p.c) == 0
    assert lib.pebble_secure_budget_set(p.c, 1) == M.INVALID
    assert lib.pebble_get_secure_conf(p.c, M.KEY_BUDGET.encode()) == ffi.NULL
    assert lib.pebble_set_secure_conf(p.c, M.KEY_AUDIT.encode(), b"1") == M.INVALID
    assert lib.pebble_secure_detach(p.c) == M.INVALID
    assert lib.pebble_secure_sysstats(ffi.new("PebbleSysStats*")) == M.INVALID
    assert lib.pebble_secure_pageout(1) == M.INVALID
    assert lib.pebble_secure_digest() == 0
    nothing_left()


def test_every_code_has_its_own_message():
    msgs = {code: ffi.string(lib.pebble_strerror(code)) for code in M.CODES}
    assert len(set(msgs.values())) == len(M.CODES)
    for bad in (1, -7, 2**31 - 1, -2**31):
        assert ffi.string(lib.pebble_strerror(bad)) == b"unknown error"
