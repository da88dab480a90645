#!/usr/bin/python3
"""Turn one run of build/bench/pebblebench into reports/REPORT.md and plots.

    /usr/bin/python3 bench/report.py RUN.json OUTDIR

RUN.json is Google Benchmark's JSON (--benchmark_out) from one run of
the program with repetitions and aggregates.  OUTDIR receives
REPORT.md and the plots (PNG).  Nothing is measured here: every number
comes from RUN.json, except the machine description, which is read
from this machine when the report is made (the same machine: ninja
bench runs both in one go).

Figures: single-threaded benchmarks use CPU time per operation (the
machine is shared, and CPU time leaves out the time other processes
take from us); the thread benchmarks use wall-clock time, because
that is what throughput means.  "median" and "p99" are over the
repetitions of a benchmark (Google Benchmark's aggregates), so p99 is
the run-to-run tail of the mean cost of a call, not the tail of
single calls.
"""

import json
import os
import platform
import re
import resource
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

SIZES = [16 << i for i in range(13)]  # 16 B .. 64 KiB
GRID = [16, 64, 256, 1024, 4096, 16384, 65536]
LIVES = [1, 1000, 100000, 1000000]
ALLOCATORS = ["pebble", "glibc_bzero", "openssl_secure", "libsodium"]
LABEL = {
    "pebble": "Pebble",
    "glibc_bzero": "glibc malloc+explicit_bzero+free",
    "openssl_secure": "OpenSSL secure heap",
    "libsodium": "libsodium sodium_malloc/free",
    "wipe_floor": "explicit_bzero alone (wipe floor)",
}
COLOR = {"pebble": "C0", "glibc_bzero": "C1", "glibc": "C1", "openssl_secure": "C2", "libsodium": "C3", "wipe_floor": "C7"}
SEED_PAIR_NS = 1500.0  # the seed: alloc 1-2 us, free 0.5-1 us; the pair at its best, 1.5 us
SEED_ALLOC_NS = 1000.0
SEED_FREE_NS = 500.0


class Run:
    """The benchmarks of one JSON file, by run name and aggregate."""

    def __init__(self, path):
        with open(path) as f:
            d = json.load(f)
        self.context = d["context"]
        self.agg = {}  # (run_name, aggregate) -> entry
        self.one = {}  # run_name -> entry, for benchmarks run once
        self.errors = {}  # run_name -> message
        for b in d["benchmarks"]:
            name = clean(b["run_name"])
            if b.get("error_occurred"):
                self.errors[name] = b.get("error_message", "error")
            elif b["run_type"] == "aggregate":
                self.agg[(name, b["aggregate_name"])] = b
            else:
                self.one[name] = b

    def entry(self, name, agg="median"):
        return self.agg.get((name, agg)) or self.one.get(name)

    def time(self, name, agg="median", clock="cpu_time"):
        """ns per operation, or None if not measured."""
        b = self.entry(name, agg)
        if b is None:
            return None
        return b[clock] * {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[b["time_unit"]]

    def counter(self, name, key, agg="median"):
        b = self.entry(name, agg)
        return None if b is None else b.get(key)

    def missing(self, name):
        return self.errors.get(name, "not measured")


def clean(name):
    """a run's name without what only says how it was run (iterations, repeats, min_time, manual time)"""
    return re.sub(r"/(iterations|repeats):\d+|/min_time:[\d.]+|/manual_time", "", name)


def ns(v):
    if v is None:
        return "-"
    if v >= 1e6:
        return "%.2f ms" % (v / 1e6)
    if v >= 1e3:
        return "%.2f us" % (v / 1e3)
    return "%.1f ns" % v


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "-"
    return "%.2fx" % (a / b)


def pct(v):
    return "-" if v is None else "%.2f%%" % (100 * v)


def size(n):
    return "%d KiB" % (n // 1024) if n >= 1024 else "%d B" % n


def table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out) + "\n"


def sh(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return "unknown"


def readfile(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return "unknown"


def machine(run):
    c = run.context
    cpu = "unknown"
    for line in readfile("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    soft, hard = resource.getrlimit(resource.RLIMIT_MEMLOCK)
    lim = "unlimited" if soft == resource.RLIM_INFINITY else "%d KiB" % (soft // 1024)
    locked = {"1": "yes (mlock succeeded)",
              "0": "NO: run unlocked by choice (Pebbleconf.unlocked), the arena can be swapped; "
                   "raise RLIMIT_MEMLOCK (ulimit -l, or memlock in /etc/security/limits.conf) to lock it"}
    rows = [
        ("CPU", "%s, %d cores, %s MHz" % (cpu, c.get("num_cpus", 0), c.get("mhz_per_cpu", "?"))),
        ("caches", ", ".join("L%d %s %d KiB" % (x["level"], x["type"], x["size"] // 1024) for x in c.get("caches", []))),
        ("kernel", platform.release()),
        ("clock source", readfile("/sys/devices/system/clocksource/clocksource0/current_clocksource")),
        ("transparent huge pages", readfile("/sys/kernel/mm/transparent_hugepage/enabled")),
        ("C compiler", sh(["gcc", "--version"]).splitlines()[0] if sh(["gcc", "--version"]) else "unknown"),
        ("C++ compiler (benchmarks)", c.get("compiler", "unknown")),
        ("glibc", platform.libc_ver()[1]),
        ("OpenSSL", c.get("openssl_version", "unknown")),
        ("libsodium", c.get("libsodium_version", "unknown")),
        ("Google Benchmark", sh(["dpkg-query", "-W", "-f=${Version}", "libbenchmark-dev"]) + " (Debian build type: %s)" % c.get("library_build_type", "?")),
        ("RLIMIT_MEMLOCK (report time)", lim + ("; running as root" if os.geteuid() == 0 else "")),
        ("Pebble arena", "%d MiB, mlock'd: %s" % (int(c.get("pebble_heap_bytes", 0)) >> 20, locked.get(c.get("pebble_arena_locked"), "unknown"))),
        ("OpenSSL secure heap", "%d MiB, mlock'd: %s" % (int(c.get("openssl_heap_bytes", 0)) >> 20, locked.get(c.get("openssl_arena_locked"), "unknown"))),
        ("load average at start", " ".join("%.2f" % x for x in c.get("load_avg", []))),
        ("load average at report", readfile("/proc/loadavg")),
        ("run date", c.get("date", "unknown")),
    ]
    return table(["", ""], rows)


def verdict(ok):
    if ok is None:
        return "NOT MEASURED"
    return "met" if ok else "**NOT MET**"


SMALL = [16, 64, 256, 1024]


def steadytime(r, a, n, live):
    return r.time("steady/%s/size:%d/live:%d" % (a, n, live))


ALTERNATED = " (alternating batches, median of the rounds)"   # bench/steady.cc, "Comparisons"


def worstvs(r, a, ref, limit):
    """a's worst steady-state pair (1,000 live, sizes up to 1 KiB) over ref's: (measured, verdict).
    From the alternating comparison vs/a/ref where the run has it: the median of its rounds' ratios,
    each round's two batches next to each other in time; else from the two steady benchmarks."""
    worst, how = None, ""
    for n in SMALL:
        x = r.counter("vs/%s/%s/steady/size:%d" % (a, ref, n), "ratio")
        if x is not None:
            how = ALTERNATED
        else:
            p, g = steadytime(r, a, n, 1000), steadytime(r, ref, n, 1000)
            x = None if None in (p, g) else p / g
        if x is not None:
            worst = max(worst or 0, x)
    return ("worst %s%s" % (ratio(worst, 1), how) if worst else "-", verdict(None if worst is None else worst <= limit))


def floordiff(r, a, n):
    """a's pair at n bytes over the wipe floor, ns: the alternating comparison's median difference, or
    the two pair benchmarks'; and how it was measured"""
    d = r.counter("vs/%s/wipe_floor/pair/size:%d" % (a, n), "diff")
    if d is not None:
        return d, ALTERNATED
    p, f = r.time("pair/%s/size:%d" % (a, n)), r.time("pair/wipe_floor/size:%d" % n)
    return (None if None in (p, f) else p - f), ""


def bothrow(fig, target, f):
    """a table row: f(a) -> (measured, verdict) for pebble (audit off) and pebble_audit (on)"""
    return (fig, target) + f("pebble") + f("pebble_audit")


def targets(r):
    """The speed targets, for audit off and on (the default) in the same run:
    (figure, target, measured off, verdict off, measured on, verdict on)."""
    rows = []

    def steady(a, n, live):
        return steadytime(r, a, n, live)

    def both(fig, target, f):
        rows.append(bothrow(fig, target, f))

    def vsref(ref, limit, a):
        return worstvs(r, a, ref, limit)

    both("pair <= 1 KiB, 1,000 live, vs glibc+bzero", "<= 3x", lambda a: vsref("glibc_bzero", 3, a))
    both("pair <= 1 KiB, 1,000 live, vs OpenSSL", "<= 0.33x", lambda a: vsref("openssl_secure", 1 / 3, a))
    for n in (4096, 65536):
        def floor(a, n=n):
            m, how = floordiff(r, a, n)
            return (("floor + %s" % ns(m) if m >= 0 else "floor - %s" % ns(-m)) + how if m is not None else "-",
                    verdict(None if m is None else m <= 40))
        both("pair at %s vs wipe floor" % size(n), "<= floor + 40 ns", floor)
    for n in (64, 256):
        def growth(a, n=n):
            x, y = steady(a, n, 1000000), steady(a, n, 1)
            return (ratio(x, y), verdict(None if None in (x, y) else x / y <= 1.5))
        both("pair at %s: 1,000,000 live vs 1 live" % size(n), "<= 1.5x", growth)
    c1, c2 = rates(r, CEILING)
    g1, g2 = rates(r, threadname("glibc_bzero", 1, "%d"))
    ceiling = "" if None in (c1, c2, g1, g2) else \
        " (machine's own ceiling in the same run: a loop touching no memory %s, glibc+bzero with no shared state %s)" % (ratio(c2, c1), ratio(g2, g1))

    def scale(a):
        """met at 1.8x, or within 0.1 of what this allocator's one thread pinned to each processor adds up
        to in this run, when the processors do not allow 1.8x"""
        _, t2 = rates(r, threadname(a, 1, "%d"))
        t1 = best1(r, a)
        if None in (t1, t2):
            return ("-", verdict(None))
        c = allocceiling(r, a)
        text = ratio(t2, t1) + ("" if c is None else " (its ceiling in this run %s: %s)" % (ratio(c, 1), pinnedtext(r, a)))
        if t2 / t1 >= 1.8:
            return (text, verdict(True))
        if c is not None and c < 1.8 and t2 / t1 >= c - 0.1:
            return (text, "met (the processors' ceiling)")
        return (text, verdict(False))
    both("2 threads in separate procs vs 1 thread (pairs/s)" + ceiling, ">= 1.8x", scale)
    rows.append(auditcostrow(r))
    fixed = [r.counter("overhead/pebble/size:%d" % n, "meta_per_alloc") for n in SIZES]
    fixed = [x for x in fixed if x is not None]
    first = [r.counter("overhead/pebble/size:%d" % n, "meta_first_pass") for n in SIZES]
    first = [x for x in first if x is not None]
    rec = r.counter("overhead/pebble/size:16", "record_size")
    same = ("measured with audit off only", "")
    rows.append(("fixed metadata per allocation", "<= 32 B",
                 "record %s B; all host metadata per allocation %.1f-%.1f B (first pass, span structures made: up to %.1f B)"
                 % (rec, min(fixed), max(fixed), max(first)) if fixed and first else "-",
                 verdict(None if not fixed else max(fixed) <= 32)) + same)
    u = r.counter("overhead/pebble/mix:uniform_1_4096", "round_per_byte")
    rows.append(("rounding waste, sizes 1..4096 (each once)", "<= 6%", pct(u), verdict(None if u is None else u <= 0.06)) + same)
    t = r.counter("overhead/pebble/size:4096", "total_per_byte")
    rows.append(("total overhead at 4 KiB", "<= 1%", pct(t), verdict(None if t is None else t <= 0.01)) + same)
    sims = [k for k in r.one if k.startswith("sim/run/")]
    if sims:
        simrates = {k.split(":")[-1]: r.counter(k, "items_per_second") or 0 for k in sims}
        worst = min(simrates.values())
        rows.append(("simulator events/s (run, 1,000 procs, 1,000,000 events, checker on after every event)", ">= 2M/s",
                     ", ".join("%s %.2fM/s" % (p, v / 1e6) for p, v in simrates.items()),
                     verdict(worst >= 2e6)) + ("(the simulator's own audit setting)", ""))
    else:
        rows.append(("simulator events/s", ">= 2M/s", "not measured: pebblesim missing", verdict(None), "", ""))
    return rows


def pairtable(r):
    rows = []
    for n in SIZES:
        p = r.time("pair/pebble/size:%d" % n)
        g = r.time("pair/glibc_bzero/size:%d" % n)
        o = r.time("pair/openssl_secure/size:%d" % n)
        s = r.time("pair/libsodium/size:%d" % n)
        f = r.time("pair/wipe_floor/size:%d" % n)
        rows.append((size(n), "%s (%s)" % (ns(p), ns(r.time("pair/pebble/size:%d" % n, "p99"))),
                     ns(g), ns(o), ns(s), ns(f), ratio(p, g), ratio(p, o), ratio(p, s), ratio(p, SEED_PAIR_NS)))
    return table(["size", "Pebble median (p99)", "glibc+bzero", "OpenSSL", "libsodium", "wipe floor",
                  "Pebble / glibc", "Pebble / OpenSSL", "Pebble / libsodium", "Pebble / seed (1.5 us)"], rows)


def steadytable(r):
    rows = []
    for n in GRID:
        name = "steady/%%s/size:%d/live:1000" % n
        p, g, o, s = (r.time(name % a) for a in ALLOCATORS)
        rows.append((size(n), "%s (%s)" % (ns(p), ns(r.time(name % "pebble", "p99"))), ns(g), ns(o), ns(s),
                     ns(r.time(name % "wipe_floor")), ratio(p, g), ratio(p, o), ratio(p, SEED_PAIR_NS)))
    return table(["size", "Pebble median (p99)", "glibc+bzero", "OpenSSL", "libsodium", "floor (reach + wipe)",
                  "Pebble / glibc", "Pebble / OpenSSL", "Pebble / seed (1.5 us)"], rows)


def growthtable(r):
    rows = []
    for n in (64, 256):
        base = {a: r.time("steady/%s/size:%d/live:1" % (a, n)) for a in ALLOCATORS + ["wipe_floor"]}
        for live in LIVES:
            v = {a: r.time("steady/%s/size:%d/live:%d" % (a, n, live)) for a in ALLOCATORS + ["wipe_floor"]}
            rows.append((size(n), "{:,}".format(live),
                         "%s (%s)" % (ns(v["pebble"]), ratio(v["pebble"], base["pebble"])),
                         "%s (%s)" % (ns(v["glibc_bzero"]), ratio(v["glibc_bzero"], base["glibc_bzero"])),
                         "%s (%s)" % (ns(v["openssl_secure"]), ratio(v["openssl_secure"], base["openssl_secure"])),
                         ns(v["wipe_floor"]),
                         ns(None if None in (v["pebble"], v["wipe_floor"]) else v["pebble"] - v["wipe_floor"]),
                         ratio(v["pebble"], v["glibc_bzero"]), ratio(v["pebble"], v["openssl_secure"])))
    return table(["size", "live", "Pebble (vs 1 live)", "glibc+bzero (vs 1 live)", "OpenSSL (vs 1 live)",
                  "floor: reach + wipe", "Pebble above floor", "Pebble / glibc", "Pebble / OpenSSL"], rows)


THREADS = [("pebble", 1, "Pebble, audit off, each thread its own proc"), ("pebble", 0, "Pebble, audit off, both threads in one proc"),
           ("pebble_audit", 1, "Pebble, audit on (default), each thread its own proc"),
           ("pebble_audit", 0, "Pebble, audit on (default), both threads in one proc"),
           ("glibc_bzero", 1, "glibc+bzero"), ("openssl_secure", 1, "OpenSSL secure heap")]


CEILING = "threads/cpu_ceiling/real_time/threads:%d"


def threadname(a, procs, t):
    return "threads/%s/procs:%d/real_time/threads:%s" % (a, procs, t)


def rates(r, name):
    """items/s of a threads benchmark on 1 and on 2 threads; name has a %d for the count."""
    return tuple(r.counter(name % t, "items_per_second") for t in (1, 2))


def pinnedrates(r, a):
    """items/s of one thread of a pinned to each processor the run measured, in processor order."""
    v = []
    for k in range(64):
        x = r.counter("threads/%s/pinned/procs:1/cpu:%d/real_time" % (a, k), "items_per_second")
        if x is not None:
            v.append((k, x))
    return v


def auditcostrow(r):
    """audit on's cost to one thread, from audit_cost: batches of pairs alternating between a proc with
    audit off and one with it on, the median of the rounds' ratios, so the VM's drift in speed between two
    benchmarks seconds apart does not enter (one run measured audit on 12% faster that way).  The threads
    benchmarks' one-thread rates are the fallback for a run without it."""
    name = "audit_cost/size:256/live:1000"
    cost, off, on = (r.counter(name, k) for k in ("cost", "off_ns", "on_ns"))
    if cost is not None:
        how = "%s (median of %d alternating rounds: %.1f ns against %.1f ns a pair)" % (
            pct(cost), r.counter(name, "rounds") or 0, on, off)
    else:
        off1, on1 = best1(r, "pebble"), best1(r, "pebble_audit")
        cost = None if None in (off1, on1) else off1 / on1 - 1
        how = pct(cost) if cost is not None else "-"
    return ("audit on: one thread's cost over audit off (pairs, 256 B, 1,000 live)", "<= 15%", "(the reference)", "",
            how, verdict(None if cost is None else cost <= 0.15))


def best1(r, a):
    """one thread's pairs/s for a: the best it did in this run, unpinned or pinned to any processor.
    A one-thread run lands on whichever processor is free, and a VM's processors need not be equally
    fast; the best is the figure a ratio can be trusted against."""
    one, _ = rates(r, threadname(a, 1, "%d"))
    v = [x for _, x in pinnedrates(r, a)] + ([one] if one is not None else [])
    return max(v) if v else None


def allocceiling(r, a):
    """a's own ceiling in this run: the two threads each make the same number of pairs (Google
    Benchmark splits the iterations evenly), so the slower of the two fastest processors sets the
    pace: twice its pinned one-thread rate, over a's unpinned one-thread rate; None if the run has no
    pinned figures."""
    one = best1(r, a)
    v = sorted((x for _, x in pinnedrates(r, a)), reverse=True)
    if one is None or len(v) < 2:
        return None
    return 2 * v[1] / one


def pinnedtext(r, a):
    v = pinnedrates(r, a)
    return ", ".join("cpu %d %.2fM/s" % (k, x / 1e6) for k, x in v) if v else "-"


def threadtable(r):
    rows = []
    for label, name, a in [(label, threadname(a, procs, "%d"), a if procs else None) for a, procs, label in THREADS] + \
            [("the machine's ceiling: a loop touching no memory (64 multiply-adds an item)", CEILING, None)]:
        one, two = rates(r, name)
        if a:
            one = best1(r, a)
        c = allocceiling(r, a) if a else None
        rows.append((label, "%.2fM/s" % (one / 1e6) if one else "-", "%.2fM/s" % (two / 1e6) if two else "-", ratio(two, one),
                     pinnedtext(r, a) if a else "-", ratio(c, 1) if c else "-"))
    return table(["configuration", "1 thread (best of unpinned and pinned)", "2 threads", "2 threads / 1 thread",
                  "1 thread pinned to each processor", "its ceiling: twice the slower of two fastest pinned / 1 thread"], rows)


def sweeptable(out):
    """tools/sweep's seeds/s on one local worker and on two (bench/run.sh wrote sweep-1.json, sweep-2.json)."""
    runs = []
    for n in (1, 2):
        try:
            with open(os.path.join(out, "sweep-%d.json" % n)) as f:
                runs.append(json.load(f))
        except (OSError, ValueError):
            return "Not measured: no sweep-1.json and sweep-2.json beside this report.\n"
    rows = [("%d worker%s" % (n, "s" * (n > 1)), "%.2f" % s["this_run"]["seeds_per_s"], "%.0f" % s["this_run"]["events_per_s"],
             s["digest"]) for n, s in zip((1, 2), runs)]
    r = ratio(runs[1]["this_run"]["seeds_per_s"], runs[0]["this_run"]["seeds_per_s"])
    return table(["local cluster", "seeds/s", "events/s", "combined digest"], rows) + \
        "\nTwo workers against one: **%s** (seeds %s-%s, %s).\n" % (r, runs[0]["first"], runs[0]["last"], " ".join(runs[0]["opts"]))


CALLS = ["alloc", "alloc_simple", "free", "free_size", "wipe_and_free", "alloc+free", "alloc+free_size",
         "alloc+wipe_and_free", "wipe", "share", "revoke", "check_owner", "check_grantee", "pin+unpin", "info"]
SEEDCLAIM = {"alloc": SEED_ALLOC_NS, "alloc_simple": SEED_ALLOC_NS, "free": SEED_FREE_NS, "free_size": SEED_FREE_NS,
             "wipe_and_free": SEED_FREE_NS, "alloc+free": SEED_PAIR_NS, "alloc+free_size": SEED_PAIR_NS,
             "alloc+wipe_and_free": SEED_PAIR_NS}
PLAIN = ["stats", "sysstats", "audit/fill:0", "audit/fill:16384", "budget_get", "budget_set", "budget_increase",
         "budget_decrease", "conf_get", "conf_set", "attach+detach"]


def callstable(r):
    head = ["call"] + [size(n) for n in GRID]
    rows = []
    for c in CALLS:
        rows.append(["`%s`" % c] + [ns(r.time("calls/%s/size:%d" % (c, n))) for n in GRID])
    out = table(head, rows)
    out += "\nThe same figures as ratios: to a glibc+bzero pair of the same size / to an OpenSSL pair (fresh heap) / " \
           "to the seed's claim where it makes one (alloc 1 us, free 0.5 us, the pair 1.5 us; its best case).\n\n"
    rows = []
    for c in CALLS:
        row = ["`%s`" % c]
        for n in GRID:
            v = r.time("calls/%s/size:%d" % (c, n))
            cell = "%s / %s" % (ratio(v, r.time("pair/glibc_bzero/size:%d" % n)), ratio(v, r.time("pair/openssl_secure/size:%d" % n)))
            if c in SEEDCLAIM:
                cell += " / %s" % ratio(v, SEEDCLAIM[c])
            row.append(cell)
        rows.append(row)
    out += table(head, rows)
    out += "\nCalls that do not depend on a size:\n\n"
    rows = [("`%s`" % c, ns(r.time("calls/" + c)), ns(r.time("calls/" + c, "p99")),
             ratio(r.time("calls/" + c), r.time("pair/glibc_bzero/size:64")),
             ratio(r.time("calls/" + c), r.time("pair/openssl_secure/size:64"))) for c in PLAIN]
    out += table(["call", "median", "p99", "/ glibc pair 64 B", "/ OpenSSL pair 64 B"], rows)
    return out


def overheadtable(r):
    rows = []
    mixes = sorted({k.split("/mix:")[1] for k in r.one if k.startswith("overhead/pebble/mix:")})
    for key in ["size:%d" % n for n in SIZES] + ["mix:" + m for m in mixes]:
        row = [key.replace("size:", "").replace("mix:", "mix ")]
        for a in ("pebble", "openssl_secure", "glibc"):
            name = "overhead/%s/%s" % (a, key)
            m, rd, t = (r.counter(name, k) for k in ("meta_per_alloc", "round_per_byte", "total_per_byte"))
            row += ["%.1f B" % m if m is not None else "-", pct(rd), pct(t)]
        rows.append(row)
    return table(["size or mix", "Pebble metadata/alloc", "Pebble rounding", "Pebble total",
                  "OpenSSL metadata/alloc", "OpenSSL rounding", "OpenSSL total",
                  "glibc metadata/alloc", "glibc rounding", "glibc total"], rows)


def replaytable(r):
    rows = []
    names = list(r.one) + [a for a, _ in r.agg] + list(r.errors) + list(r.context)
    traces = sorted({k.split("trace:")[1] if "trace:" in k else k.split(":", 1)[1] for k in names if "replay/trace:" in k or k.startswith("replay_not_run:")})
    for t in traces:
        name = "replay/trace:" + t
        ops = r.counter(name, "items_per_second")
        ev = r.counter(name, "events")
        if ops:
            inproc = "%.2fM ops/s (%s events, %s per replay)" % (ops / 1e6, int(ev), ns(r.time(name)))
        elif "replay_not_run:" + t in r.context:
            inproc = "not run: the trace " + r.context["replay_not_run:" + t]
        else:
            inproc = r.missing(name)
        sim = r.counter("sim/replay/trace:" + t, "items_per_second")
        simtxt = "%.2fM events/s" % (sim / 1e6) if sim else ("not measured: pebblesim missing"
                                                             if r.context.get("pebblesim") == "missing" else r.missing("sim/replay/trace:" + t))
        rows.append(("`%s`" % t, inproc, simtxt))
    if not rows:
        return "No traces found (traces/*.trace): not measured.\n"
    return table(["trace", "in process, the core on the POSIX host", "`pebblesim replay`, end to end less start-up"], rows)


def realtraces(r):
    names = list(r.one) + [a for a, _ in r.agg] + list(r.errors) + list(r.context)
    return sorted({k.split("trace:")[1] for k in names if k.startswith("real/") and "trace:" in k}
                  | {k.split("/", 1)[1] for k in r.context if k.startswith("real_not_run:")})


def realtable(r):
    """Real programs' traces against every allocator: time per event, footprint at the peak."""
    rows = []
    for t in realtraces(r):
        row = ["`%s`" % t]
        live = None
        for a in ALLOCATORS:
            name = "real/%s/trace:%s" % (a, t)
            ops = r.counter(name, "items_per_second")
            if ops:
                fp, live, ratio = (r.counter(name, k) for k in ("peak_footprint", "peak_live", "footprint_ratio"))
                row.append("%s/event; %s (%.2fx)" % (ns(1e9 / ops), size(int(fp)), ratio))
            elif "real_not_run:%s/%s" % (a, t) in r.context:
                row.append("not run: " + r.context["real_not_run:%s/%s" % (a, t)])
            else:
                row.append(r.missing(name))
        row.insert(1, size(int(live)) if live else "-")
        rows.append(row)
    if not rows:
        return "No real-program traces (traces/real-*.trace): not measured.\n"
    return table(["trace", "peak live bytes asked for"] + ["%s: time per event; held at the peak (x live)" % LABEL[a]
                                                          for a in ALLOCATORS], rows)


def plots(r, out):
    made = []

    def save(fig, name):
        fig.tight_layout()
        fig.savefig(os.path.join(out, name), dpi=110)
        plt.close(fig)
        made.append(name)

    fig, ax = plt.subplots(figsize=(8, 5))
    for a in ALLOCATORS + ["wipe_floor"]:
        pts = [(n, r.time("pair/%s/size:%d" % (a, n))) for n in SIZES]
        pts = [(x, y) for x, y in pts if y is not None]
        if pts:
            ax.plot(*zip(*pts), marker="o", color=COLOR[a], label=LABEL[a])
    ax.set(xscale="log", yscale="log", xlabel="allocation size (bytes)", ylabel="ns per alloc+free pair (median, CPU)",
           title="Latency against size: the alloc+free pair, nothing else live")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    save(fig, "latency-size.png")

    fig, ax = plt.subplots(figsize=(8, 5))
    for a in ("pebble", "glibc_bzero", "openssl_secure", "wipe_floor"):
        for n, style in ((64, "-"), (256, "--")):
            pts = [(lv, r.time("steady/%s/size:%d/live:%d" % (a, n, lv))) for lv in LIVES]
            pts = [(x, y) for x, y in pts if y is not None]
            if pts:
                lab = "reach + wipe, no allocator (floor)" if a == "wipe_floor" else LABEL[a]
                ax.plot(*zip(*pts), style, marker="o", color=COLOR[a], label="%s, %s" % (lab, size(n)))
    ax.set(xscale="log", yscale="log", xlabel="live allocations", ylabel="ns per free+alloc (median, CPU)",
           title="Latency against live allocations (steady state)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    save(fig, "latency-live.png")

    fig, ax = plt.subplots(figsize=(8, 5))
    for a, procs, label in THREADS:
        pts = [(t, r.counter(threadname(a, procs, t), "items_per_second")) for t in (1, 2)]
        pts = [(x, y / 1e6) for x, y in pts if y is not None]
        if pts:
            ax.plot(*zip(*pts), marker="o", label=label)
    ax.set(xticks=[1, 2], xlabel="threads", ylabel="million pairs per second (wall clock)",
           title="Throughput against threads (256 B, 1,000 live per thread)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    save(fig, "throughput-threads.png")

    fig, ax = plt.subplots(figsize=(8, 5))
    for a, label in (("pebble", "Pebble"), ("openssl_secure", "OpenSSL secure heap"), ("glibc", "glibc malloc")):
        pts = [(n, r.counter("overhead/%s/size:%d" % (a, n), "total_per_byte")) for n in SIZES]
        pts = [(x, 100 * y) for x, y in pts if y is not None]
        if pts:
            ax.plot(*zip(*pts), marker="o", color=COLOR[a], label=label + " (metadata + rounding)")
    ax.set(xscale="log", yscale="log", xlabel="allocation size (bytes)", ylabel="overhead, % of requested bytes",
           title="Metadata overhead against size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    save(fig, "overhead-size.png")

    tr = realtraces(r)
    if tr:
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 5))
        w = 0.8 / len(ALLOCATORS)
        for i, a in enumerate(ALLOCATORS):
            xs, ts, fs = [], [], []
            for j, t in enumerate(tr):
                ops = r.counter("real/%s/trace:%s" % (a, t), "items_per_second")
                if ops:
                    xs.append(j + i * w)
                    ts.append(1e9 / ops)
                    fs.append(r.counter("real/%s/trace:%s" % (a, t), "footprint_ratio"))
            if xs:
                ax1.bar(xs, ts, w, color=COLOR[a], label=LABEL[a])
                ax2.bar(xs, fs, w, color=COLOR[a], label=LABEL[a])
        for ax in (ax1, ax2):
            ax.set_xticks([j + 0.4 - w / 2 for j in range(len(tr))])
            ax.set_xticklabels([t.replace("real-", "") for t in tr], rotation=45, ha="right", fontsize=7)
            ax.set_yscale("log")
            ax.grid(True, axis="y", which="both", alpha=0.3)
        ax1.set(ylabel="ns per event (median)", title="Real programs: time per event")
        ax2.set(ylabel="held at the peak / live bytes asked for", title="Real programs: footprint at the peak")
        ax1.legend(fontsize=7)
        save(fig, "real-programs.png")
    return made


def scaletargets(r, design):
    """The allocator-at-scale targets (issue 13), in the same run and the same six columns as
    targets(); design is targets(r), whose rows for the wipe floor and metadata must still be met."""
    rows = []

    def steady(a, n, live):
        return steadytime(r, a, n, live)

    def both(fig, target, f):
        rows.append(bothrow(fig, target, f))

    lockf = r.time("pair/lock_floor")
    lockw = r.time("pair/lock_floor_word")
    g64 = steady("glibc_bzero", 64, 1000)
    limit = "" if None in (lockf, lockw, g64) else \
        (" (two turns of an uncontended area lock alone, one a call as the threads contract needs: %s, %s of"
         " glibc's pair at 64 B, biased to its thread; %s, %s, with a locked instruction a turn)") \
        % (ns(lockf), ratio(lockf, g64), ns(lockw), ratio(lockw, g64))
    both("pair <= 1 KiB, 1,000 live, vs glibc+bzero" + limit, "<= 2x at every size",
         lambda a: worstvs(r, a, "glibc_bzero", 2))
    both("pair <= 1 KiB, 1,000 live, vs OpenSSL", "<= 0.33x", lambda a: worstvs(r, a, "openssl_secure", 1 / 3))
    for n in (64, 256):
        def live(a, n=n):
            v = [(steady(a, n, l), steady("glibc_bzero", n, l)) for l in (100000, 1000000)]
            if any(None in x for x in v):
                return ("-", verdict(None))
            q = [p / g for p, g in v]
            return ("%s / %s" % (ratio(q[0], 1), ratio(q[1], 1)), verdict(max(q) <= 2))
        both("%s at 10^5 / 10^6 live, vs glibc+bzero" % size(n), "<= 2x", live)
    for n in (64, 256):
        def growth(a, n=n):
            x, y = steady(a, n, 1000000), steady(a, n, 1)
            gx, gy = steady("glibc_bzero", n, 1000000), steady("glibc_bzero", n, 1)
            if None in (x, y, gx, gy):
                return ("-", verdict(None))
            return ("%s (glibc %s)" % (ratio(x, y), ratio(gx, gy)), verdict(x / y <= gx / gy))
        both("growth from 1 to 10^6 live at %s" % size(n), "no more than glibc's", growth)
    _, g2 = rates(r, threadname("glibc_bzero", 1, "%d"))
    g1 = best1(r, "glibc_bzero")

    def scale(a):
        _, t2 = rates(r, threadname(a, 1, "%d"))
        t1 = best1(r, a)
        if None in (t1, t2, g1, g2):
            return ("-", verdict(None))
        return ("%s (glibc %s)" % (ratio(t2, t1), ratio(g2, g1)), verdict(t2 / t1 >= g2 / g1 - 0.1))
    both("2 threads in separate procs vs 1 thread (pairs/s)", "within 0.1 of glibc's ratio", scale)
    ok = ("met", "", "met (the processors' ceiling)")
    kept = [x for x in design if x[0].startswith("pair at ") and "floor" in x[1]
            or x[0].startswith(("fixed metadata", "rounding waste", "total overhead"))]
    rows.append(("4 KiB and 64 KiB vs the wipe floor; metadata; rounding (the rows above)", "still met",
                 "; ".join("%s %s" % (x[0].split(" vs")[0].split(" per")[0], x[2]) for x in kept),
                 verdict(all(x[3] in ok for x in kept)),
                 "; ".join(x[4] for x in kept if x[4] and not x[4].startswith("measured")),
                 verdict(all(x[5] in ok for x in kept))))
    return rows


def report(r, jsonname, out):
    made = plots(r, out)
    t = targets(r)
    ok = ("met", "", "met (the processors' ceiling)")
    failed = [x for x in t if x[3] not in ok or x[5] not in ok]
    parts = []
    parts.append("# Pebble benchmark report\n\n"
                 "Made by `ninja bench` from one run of `build/bench/pebblebench` (raw Google Benchmark JSON: "
                 "[`%s`](%s)). Every allocator below ran in the same program, in the same run, on this machine. "
                 "How to read it and how to compare two runs: the last section.\n" % (jsonname, jsonname))
    parts.append("## Machine\n\n" + machine(r))
    parts.append("## Speed targets\n\nEach Pebble figure twice, from the same run: on procs with audit off, and on procs "
                 "with audit on (the default a user gets).\n\n"
                 + table(["figure", "target", "audit off", "verdict", "audit on (default)", "verdict"], t))
    if failed:
        parts.append("**Targets not met in this run: %d of %d.** %s\n" % (
            len(failed), len(t), "; ".join(x[0] for x in failed)))
    else:
        parts.append("Every target is met in this run.\n")
    st = scaletargets(r, t)
    sfailed = [x for x in st if x[3] not in ok or x[5] not in ok]
    parts.append("### The allocator at scale (issue 13)\n\nThe targets of the scale work, stricter than DESIGN.md's, "
                 "from the same run.\n\n"
                 + table(["figure", "target", "audit off", "verdict", "audit on (default)", "verdict"], st)
                 + ("\n**Not met in this run: %d of %d.** %s\n" % (len(sfailed), len(st), "; ".join(x[0].split(" (")[0] for x in sfailed))
                    if sfailed else "\nEvery one is met in this run.\n"))
    notes = os.path.join(os.path.dirname(os.path.abspath(__file__)), "NOTES.md")
    if os.path.exists(notes):
        parts.append(readfile(notes) + "\n")
    parts.append("## The alloc+free pair against size\n\nAlloc then free, nothing else live (auto_wipe on, audit off). "
                 "OpenSSL's heap is fresh here: each pair splits a large block down and merges it back.\n\n"
                 + pairtable(r) + "\n![latency against size](latency-size.png)\n")
    parts.append("## Steady state: 1,000 live\n\nEach iteration frees a random one of 1,000 live allocations and "
                 "allocates anew; the random index comes from a ring drawn before timing. The floor column reaches "
                 "and wipes a random one of 1,000 slices of one block: memory latency with no allocator.\n\n"
                 + steadytable(r))
    parts.append("## Cost against live allocations\n\n" + growthtable(r) + "\n![latency against live allocations](latency-live.png)\n")
    parts.append("## Threads\n\nSteady state at 256 B with 1,000 live per thread; pairs per second over the wall clock, "
                 "both threads together. Separate procs use distinct slots (distinct areas and locks); one proc shares "
                 "one area and its lock. The processors of a VM need not be equally fast for the same code, and "
                 "which one a one-thread run lands on is chance: so one thread of each allocator is also run pinned "
                 "to each processor, and a one-thread figure is the best of those runs. Two threads each make the same number of pairs, so the slower of the two fastest "
                 "processors sets their pace: twice its pinned rate, over the one-thread rate, is the most two threads "
                 "of the allocator could reach in this run (its ceiling).\n\n" + threadtable(r) + "\n![throughput against threads](throughput-threads.png)\n")
    parts.append("## Every call\n\nMedian CPU time per call on an idle proc with one allocation of the size. alloc and "
                 "free alone run in batches of 256 with the timer stopped to undo them, so a batch of large frees "
                 "wipes memory that is no longer in cache; the pairs run back to back. audit reads the log ring, "
                 "so its cost is given with the ring empty and full.\n\n" + callstable(r))
    parts.append("## Metadata overhead\n\nPebble's figures are deltas of `pebble_secure_sysstats` across allocating "
                 "the set (a fresh proc each time): metadata is all host memory the core took (records, bitmaps, span "
                 "structures), rounding is slot bytes beyond the request. Run tails (at most 1/64 of a run by the class "
                 "geometry) are in neither statistic. OpenSSL: rounding from `CRYPTO_secure_actual_size`, metadata its "
                 "two bit tables (1/32 of the bytes its blocks take). glibc: `malloc_usable_size`, and the 8-byte "
                 "chunk header. A trace's mix is the sizes of all its alloc lines, allocated together.\n\n"
                 + overheadtable(r) + "\n![metadata overhead against size](overhead-size.png)\n")
    parts.append("## Trace replay\n\n" + replaytable(r))
    parts.append("## Real programs, every allocator\n\nEach recorded program's trace (traces/real-*.trace) replayed in "
                 "process against each allocator in this run (bench/real.cc): alloc, the program's writes, free, and at a "
                 "proc's exit the release of what it still held. Time per event is the median over repetitions of the "
                 "whole trace; the footprint is what the allocator held at the trace's peak of live bytes (Pebble: heap "
                 "pages its runs take plus metadata; glibc: mallinfo2 in-use and mmap'd bytes; OpenSSL: "
                 "CRYPTO_secure_used; libsodium: pages sodium_malloc maps, from its layout), against the live bytes "
                 "the program asked for.\n\n" + realtable(r) + "\n![real programs](real-programs.png)\n")
    parts.append("## Seed sweeps (tools/sweep)\n\nThe same seeds on a local Dask cluster of one worker process and of "
                 "two, one after the other in this run; wall clock from the first chunk to the last result (cluster "
                 "start-up excluded). The digests must be equal.\n\n" + sweeptable(out))
    if r.errors:
        parts.append("## Benchmarks that failed\n\n" + table(["benchmark", "error"], sorted(r.errors.items())))
    cov = os.path.join(out, "coverage", "summary.md")      # ninja coverage's, kept across runs
    if os.path.exists(cov):
        with open(cov) as f:
            parts.append("<!-- coverage: tools/coverage/run.sh -->\n" + f.read() + "<!-- /coverage -->\n")
    parts.append(HOWTO)
    with open(os.path.join(out, "REPORT.md"), "w") as f:
        f.write("\n".join(parts))
    return made


HOWTO = """## How to read this report, and how to compare runs

- Times are per operation: CPU time for single-threaded benchmarks, wall-clock for the thread table.
  "median" and "p99" are over the repetitions of each benchmark (each repetition's figure is a mean over
  many calls), so p99 shows how much a run can vary, not the slowest single call.
- "Pebble / glibc" below 1 means Pebble is faster. glibc+bzero is what a careful user would write by hand
  without a secure heap; OpenSSL's secure heap is the usual library choice; libsodium pays guard pages and
  system calls on every allocation. The wipe floor is explicit_bzero of the same bytes alone: nothing that
  wipes can be faster.
- The machine is shared and virtual: the load average lines above tell how busy it was. Compare ratios
  within one run, not absolute times across machines.
- To compare a new run with this baseline, use Google Benchmark's own tool (package `libbenchmark-tools`):

      ninja bench-compare

  runs the program into `build/reports-new/pebblebench.json` and prints
  `/usr/share/benchmark/compare.py benchmarks reports/pebblebench.json build/reports-new/pebblebench.json`
  (negative numbers: the new run is faster; with repetitions it also gives a U test per benchmark).
"""


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: report.py RUN.json OUTDIR")
    path, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    r = Run(path)
    if not r.agg and not r.one:
        sys.exit("report.py: %s holds no benchmark results" % path)
    jsonname = os.path.relpath(os.path.abspath(path), os.path.abspath(out))
    made = report(r, jsonname, out)
    print("report.py: wrote %s and %s" % (os.path.join(out, "REPORT.md"), ", ".join(made)))
    if r.errors:
        print("report.py: %d benchmarks failed:" % len(r.errors), file=sys.stderr)
        for k, v in sorted(r.errors.items()):
            print("  %s: %s" % (k, v), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
