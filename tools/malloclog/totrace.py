#!/usr/bin/python3
"""Turn malloclog logs into a Pebble trace (traces/README.md, "Real programs").

    totrace.py [-o OUT] [--max-bytes N] [--from-mark NAME] [--workload NAME]
               [--comment TEXT]... LOG...

Each LOG is one process's file written by build/malloclog.so ($MALLOCLOG.PID).
The trace maps every thread of every logged process to a proc and every block
the program allocated to a secure allocation of the same size and lifetime:

  - a process's main thread is a proc forked from the proc of the thread that
    forked it (or from `-` when its parent was not logged); any other thread is
    forked from the proc of the thread that created it (or from the main proc);
    every proc's user is glenda;
  - malloc, calloc, memalign and friends become `alloc SIZE 6 #H` by the proc
    of the allocating thread, followed by `write #H 0 min(SIZE,64)`: the
    program filling its buffer, through the checked access path;
  - free becomes `free #H`, issued by the OWNER proc at the time of the real
    free, whichever thread freed it: only the owner may free in Pebble;
  - realloc becomes an alloc of the new size and a free of the old block;
  - malloc(0) and realloc(NULL, 0) become 1-byte allocations: size 0 is
    INVALID in Pebble, and the program holds a unique live pointer all the same;
  - a free of a pointer the log never saw allocated (a block inherited across
    fork, or made before the logger started) is dropped: secure memory never
    crosses fork;
  - an exec ends the old image: its live blocks are freed there;
  - each proc exits right after the last event that names it; blocks never
    freed are freed by that exit (detach wipes and frees them).

Time is real nanoseconds since the first logged record (made non-decreasing
within a process where two CPUs' clocks disagree by a few nanoseconds).  Every
result is OK: the config line gives a heap, budgets and proc slots large
enough for the whole trace.  The output depends only on the logs' contents
and the options: the same logs always give the same bytes.

Size.  A trace longer than --max-bytes (1.5 MB) is cut after the first N
logged events, N as large as fits; the blocks live at the cut are freed by
their procs' exits.  --from-mark NAME instead starts the trace at the first
mark NAME (the logger marks TCP connects and accepts): everything before it
only sets the scene, so the procs alive then are forked and the blocks live
then are allocated (same owners, same sizes) at time 0, and time counts from
the mark.  The comment header says which was done.

Log records (one a line; numbers decimal, pointers hex):
    S TIME SEQ PID TID PPID COMM            image start (first record, or exec)
    F TIME SEQ PID TID PPID PTID            fork child start; PTID forked it
    T TIME SEQ PID TID CREATOR              thread start
    K TIME SEQ PID TID NAME                 mark: a TCP connect or an accept
    m|c|a TIME SEQ PID TID SIZE PTR         malloc, calloc, aligned allocation
    f TIME SEQ PID TID PTR                  free (logged before the call)
    r TIME0 SEQ0 PID TID TIME1 SEQ1 SIZE OLD NEW
                                            realloc: before and after the call
SEQ orders one process's records causally (see malloclog.c); TIME orders
processes against each other.
"""

import argparse
import heapq
import re
import sys
import textwrap

PERMS = 6               # READ|WRITE
WRITEMAX = 64           # bytes written after each alloc
USER = "glenda"
MAXHEAP = 1 << 31
MAXNPROC = 16384
MAXBYTES = 1_500_000
AUDIT = 16384           # audit ring entries: the core's default

# ---------------------------------------------------------------------------
# The core's size classes (core/class.c), for the heap estimate.

PAGE = 4096
MAXSLOT = 512
MAXCLASS = 65536
CUTS = [(8, 8), (9, 8), (10, 16), (11, 16), (12, 8), (13, 8), (14, 8), (15, 8)]


def slotsin(size, npage):
    return min(npage * PAGE // size, MAXSLOT)


def geometry(size):
    """(pages a run takes, slots in a run) for one class, as core/class.c."""
    minslot = 16 if size <= 8192 else 4
    best, bwaste, brun = 0, 1, 1
    for np in range(1, 65):
        if slotsin(size, np) < minslot and np < 64:
            continue
        run = np * PAGE
        waste = run - slotsin(size, np) * size
        if waste * 64 <= run:
            best = np
            break
        if best == 0 or waste * brun < bwaste * run:
            best, bwaste, brun = np, waste, run
    return best, slotsin(size, best)


def classsizes():
    sizes = list(range(16, 257, 16))
    for lg, n in CUTS:
        step = (1 << lg) // n
        sizes += [(1 << lg) + j * step for j in range(1, n + 1)]
    return sizes


CLASSES = [(s,) + geometry(s) for s in classsizes()]


def classof(n):
    """Index of the smallest class holding n bytes, or None for whole pages."""
    if n > MAXCLASS:
        return None
    lo, hi = 0, len(CLASSES) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if CLASSES[mid][0] >= n:
            hi = mid
        else:
            lo = mid + 1
    return lo


class HeapEstimate:
    """Heap pages the live allocations need if every run were packed full;
    the config doubles the peak of this to allow for partly empty runs."""

    def __init__(self):
        self.live = {}          # (proc, class) -> live count
        self.pages = 0
        self.peak = 0

    def runpages(self, key):
        c = key[1]
        npage, nslot = CLASSES[c][1], CLASSES[c][2]
        return -(-self.live.get(key, 0) // nslot) * npage

    def change(self, proc, size, delta):
        c = classof(size)
        if c is None:
            self.pages += delta * (-(-size // PAGE))
        else:
            key = (proc, c)
            self.pages -= self.runpages(key)
            self.live[key] = self.live.get(key, 0) + delta
            self.pages += self.runpages(key)
        self.peak = max(self.peak, self.pages)

    def heapbytes(self):
        b = 2 * self.peak * PAGE + (8 << 20)
        b = -(-b // (1 << 20)) * (1 << 20)
        return min(b, MAXHEAP)


# ---------------------------------------------------------------------------
# Reading the logs.

class Image:
    """One program image in one process: from its start (S or F) to exec or end."""

    def __init__(self, pid, start, events):
        self.pid = pid
        self.start = start          # the S or F record, split
        self.events = events        # (seq, time, kind, tid, args), in causal order


# fields after the kind letter, and which are hex pointers
RECORDS = {"S": (5, ()), "F": (6, ()), "T": (5, ()), "K": (5, ()),
           "m": (6, (6,)), "c": (6, (6,)), "a": (6, (6,)), "f": (5, (5,)),
           "r": (9, (8, 9))}
DECIMAL = re.compile(r"[0-9]+")
HEX = re.compile(r"(0x)?[0-9a-fA-F]+")


def bad(path, lineno, what):
    """A malformed log ends the run with FILE:LINE: what is wrong."""
    raise SystemExit(f"{path}:{lineno}: {what}")


def checkrecord(path, lineno, w, pid):
    """A record's shape: its kind, its field count, its numbers."""
    k = w[0]
    if k not in RECORDS:
        bad(path, lineno, f"unknown record kind {k[:20]!r} (S F T K m c a f r)")
    n, hexes = RECORDS[k]
    if len(w) - 1 < n or (len(w) - 1 > n and k not in "SK"):
        bad(path, lineno, f"record {k} has {len(w) - 1} fields, wants {n}")
    for i in range(1, n + 1):
        if k in "K" and i == 5:
            continue                    # the mark's name
        if not (HEX if i in hexes else DECIMAL).fullmatch(w[i]):
            what = "a hex pointer" if i in hexes else "a decimal number"
            bad(path, lineno, f"field {i} of record {k} is {w[i][:20]!r}, not {what}")
    if pid is not None and int(w[3]) != pid:
        bad(path, lineno, f"record of pid {w[3]} in the log of pid {pid}")


def readlog(path):
    """The images of one process's log, in order."""
    images = []
    cur = None
    pid = None
    with open(path, encoding="ascii", errors="replace") as f:
        for lineno, line in enumerate(f, 1):
            w = line.split()
            if not w:
                continue
            checkrecord(path, lineno, w, pid)
            if w[0] in "SF":
                cur = []
                pid = int(w[3])
                images.append((w, cur))
                continue
            if cur is None:
                bad(path, lineno, "records before the start record (S or F)")
            cur.append(w)
    out = []
    for start, recs in images:
        evs = []
        for w in recs:
            evs.extend(splitrecord(w))
        evs.sort(key=lambda e: e[0])
        out.append(Image(int(start[3]), start, evs))
    return out


def splitrecord(w):
    """A record as (seq, time, kind, tid, args) events; realloc gives two."""
    k = w[0]
    t, s, tid = int(w[1]), int(w[2]), int(w[4])
    if k in "mca":
        return [(s, t, "alloc", tid, (int(w[5]), int(w[6], 16)))]
    if k == "f":
        return [(s, t, "free", tid, (int(w[5], 16),))]
    if k == "T":
        return [(s, t, "thread", tid, (int(w[5]),))]
    if k == "K":
        return [(s, t, "mark", tid, (w[5],))]
    t1, s1, size = int(w[5]), int(w[6]), int(w[7])        # r: checkrecord knows no other
    old, new = int(w[8], 16), int(w[9], 16)
    return [(s, t, "rbegin", tid, (size, old, new)),
            (s1, t1, "rend", tid, (size, old, new))]


def processstream(images, pidx):
    """A process's events with time made non-decreasing: (time, pidx, n, ev)."""
    last = 0
    n = 0
    for im in images:
        t = max(int(im.start[1]), last)
        last = t
        yield (t, pidx, n, ("start", im))
        n += 1
        for seq, t, kind, tid, args in im.events:
            t = max(t, last)
            last = t
            yield (t, pidx, n, (kind, im.pid, tid, args))
            n += 1


def mergelogs(paths):
    """All processes' events in one time order; each process keeps its own."""
    procs = [readlog(p) for p in paths]
    procs = [p for p in procs if p]
    procs.sort(key=lambda ims: (int(ims[0].start[1]), ims[0].pid))
    streams = [processstream(ims, i) for i, ims in enumerate(procs)]
    t0 = int(procs[0][0].start[1]) if procs else 0
    return t0, [e for e in heapq.merge(*streams)]


# ---------------------------------------------------------------------------
# Building the trace.

class Builder:
    """Turns merged events into trace events (without exits) and counts."""

    def __init__(self, t0):
        self.t0 = t0
        self.out = []           # (time, proc, text)
        self.nextproc = 1
        self.nexthandle = 1
        self.procof = {}        # (pid, tid) -> proc
        self.mainof = {}        # pid -> main proc
        self.pidof = {}         # proc -> pid
        self.what = {}          # proc -> description, for the comment header
        self.live = {}          # pid -> {ptr: (handle, proc, size)}
        self.held = {}          # (pid, tid, old) -> (handle, proc, size): realloc in flight
        self.lastref = {}       # proc -> index of its last event
        self.comm = {}          # pid -> program name
        self.stats = dict(allocs=0, frees=0, reallocs=0, zero=0, unknownfree=0,
                          implicitfree=0, execfree=0)
        self.estimate = HeapEstimate()
        self.used = {}          # proc -> live requested bytes
        self.peakused = 0
        self.parentof = {}      # proc -> the proc it was forked from, or None
        self.quiet = False      # before the window opens: state only

    def emit(self, t, proc, text, *others):
        if self.quiet:
            return
        self.out.append((t - self.t0, proc, text))
        for p in (proc,) + others:
            if p is not None:
                self.lastref[p] = len(self.out) - 1

    def newproc(self, t, pid, tid, parent, what):
        p = self.nextproc
        self.nextproc += 1
        self.procof[(pid, tid)] = p
        self.pidof[p] = pid
        self.what[p] = what
        self.parentof[p] = parent
        self.emit(t, p, f"fork {'-' if parent is None else parent} {USER}", parent)
        return p

    def threadproc(self, t, pid, tid, creator=None):
        """The proc of a thread, forked from its creator's the first time."""
        p = self.procof.get((pid, tid))
        if p is not None:
            return p
        parent = self.procof.get((pid, creator), self.mainof[pid])
        return self.newproc(t, pid, tid, parent, f"pid {pid} thread {tid}")

    def start(self, t, im):
        w = im.start
        pid = im.pid
        if w[0] == "S" and pid in self.mainof:
            self.execimage(t, pid)
            if len(w) > 6:
                self.comm[pid] = w[6]
                self.what[self.mainof[pid]] += f", exec {w[6]}"
            return
        if w[0] == "F":
            ppid, ptid = int(w[5]), int(w[6])
            parent = self.procof.get((ppid, ptid), self.mainof.get(ppid))
            self.comm[pid] = self.comm.get(ppid, "?")
            how = f"forked by pid {ppid} thread {ptid}"
        else:
            ppid = int(w[5])
            parent = self.mainof.get(ppid)
            self.comm[pid] = w[6] if len(w) > 6 else "?"
            how = f"child of pid {ppid}"
        p = self.newproc(t, pid, pid, parent, "")
        self.what[p] = f"pid {pid} main thread ({self.comm[pid]}, {how})"
        self.mainof[pid] = p
        self.live[pid] = {}

    def execimage(self, t, pid):
        """exec: the old image's blocks go, its threads with it."""
        for ptr, (h, p, size) in list(self.live[pid].items()):
            self.free(t, pid, ptr)
            self.stats["execfree"] += 1
        for key in [k for k in self.held if k[0] == pid]:
            self.release(t, self.held.pop(key))
        for key in [k for k in self.procof if k[0] == pid and k[1] != pid]:
            del self.procof[key]

    def alloc(self, t, pid, tid, size, ptr):
        p = self.threadproc(t, pid, tid)
        if size == 0:
            size = 1
            self.stats["zero"] += 1
        live = self.live[pid]
        if ptr in live:
            # the log missed this block's free: it must have been freed
            self.free(t, pid, ptr)
            self.stats["implicitfree"] += 1
        h = self.nexthandle
        self.nexthandle += 1
        live[ptr] = (h, p, size)
        self.emit(t, p, f"alloc {size} {PERMS} #{h}")
        self.emit(t, p, f"write #{h} 0 {min(size, WRITEMAX)}")
        self.stats["allocs"] += 1
        self.charge(p, size, 1)

    def charge(self, p, size, delta):
        self.estimate.change(p, size, delta)
        self.used[p] = self.used.get(p, 0) + delta * size
        self.peakused = max(self.peakused, self.used[p])

    def release(self, t, block):
        h, p, size = block
        self.emit(t, p, f"free #{h}")
        self.charge(p, size, -1)

    def free(self, t, pid, ptr):
        block = self.live[pid].pop(ptr, None)
        if block is None:
            self.stats["unknownfree"] += 1
            return
        self.release(t, block)
        self.stats["frees"] += 1

    def event(self, t, ev):
        if ev[0] == "start":
            self.start(t, ev[1])
            return
        kind, pid, tid, args = ev
        if kind == "thread":
            self.threadproc(t, pid, tid, args[0])
        elif kind == "alloc":
            self.alloc(t, pid, tid, args[0], args[1])
        elif kind == "free":
            self.free(t, pid, args[0])
        elif kind == "rbegin":
            self.rbegin(t, pid, tid, *args)
        elif kind == "rend":
            self.rend(t, pid, tid, *args)

    def rbegin(self, t, pid, tid, size, old, new):
        """The old block may be reused by another thread once realloc starts."""
        if old == 0 or (new == 0 and size > 0):
            return          # a malloc, or a failure that changed nothing
        if new == 0:
            self.free(t, pid, old)      # realloc(p, 0) frees p
            return
        block = self.live[pid].pop(old, None)
        if block is None:
            self.stats["unknownfree"] += 1
            return
        self.held[(pid, tid, old)] = block

    def rend(self, t, pid, tid, size, old, new):
        if new == 0:
            return
        self.alloc(t, pid, tid, size, new)
        if old == 0:
            return
        self.stats["reallocs"] += 1
        self.stats["allocs"] -= 1
        block = self.held.pop((pid, tid, old), None)
        if block is not None:
            self.release(t, block)


    def openwindow(self, t):
        """The window opens at t: the procs made so far are forked and the
        blocks live now are allocated, as they stand, all at time 0."""
        self.quiet = False
        self.t0 = t
        for p in range(1, self.nextproc):
            parent = self.parentof[p]
            self.emit(t, p, f"fork {'-' if parent is None else parent} {USER}", parent)
        blocks = [b for live in self.live.values() for b in live.values()]
        blocks += list(self.held.values())
        for h, p, size in sorted(blocks):
            self.emit(t, p, f"alloc {size} {PERMS} #{h}")
            self.emit(t, p, f"write #{h} 0 {min(size, WRITEMAX)}")


def build(t0, events, start, limit):
    """Trace events for events[start:limit]; those before start only set the
    scene (procs and live blocks)."""
    b = Builder(t0)
    b.quiet = start > 0
    for i, (t, _, _, ev) in enumerate(events[:limit]):
        if i == start and start > 0:
            b.openwindow(t)
        b.event(t, ev)
    return b


def mainlast(b):
    """A main proc outlives every other proc of its process."""
    last = dict(b.lastref)
    for p, i in b.lastref.items():
        m = b.mainof.get(b.pidof[p])
        if m is not None and m != p:
            last[m] = max(last[m], i)
    return last


def render(b, header, workload=None):
    last = mainlast(b)
    exits = {}
    for p in sorted(last, key=lambda p: (last[p], p in b.mainof.values(), p)):
        exits.setdefault(last[p], []).append(p)
    nproc = b.nextproc              # procs + 1
    budget = max(PAGE, -(-b.peakused // PAGE) * PAGE)
    lines = ["pebbletrace 1"]
    for h in header:        # wrapped: a replayer may bound its lines
        lines += ["# " + w for w in textwrap.wrap(h, 94, break_on_hyphens=False)] or ["#"]
    lines.append("#")
    for p in range(1, b.nextproc):
        lines.append(f"# proc {p}: {b.what[p]}")
    lines += ["seed 0",
              f"config heap={b.estimate.heapbytes()} nproc={min(nproc, MAXNPROC)}"
              f" audit={AUDIT} budget={budget} maxbudget={budget}"
              + (f" workload={workload}" if workload else "")]
    for i, (t, p, text) in enumerate(b.out):
        lines.append(f"{t} {p} {text} = OK")
        for q in exits.get(i, []):
            lines.append(f"{t} {q} exit = OK")
    return "\n".join(lines) + "\n"


def describe(b, total, start, limit):
    s = b.stats
    head = [f"{s['allocs']} allocations, {s['reallocs']} reallocs, {s['frees']} frees, "
            f"{b.nextproc - 1} procs; peak live bytes of one proc {b.peakused}"]
    if start > 0:
        head.append(f"WINDOW from logged event {start} (the first {b.window} mark): "
                    "the procs and blocks live then are made at time 0, and times "
                    "count from there; the counts above include the events before it")
    if limit < total:
        head.append(f"TRUNCATED to the first {limit} of {total} logged events; the "
                    "allocations still live there are freed by their procs' exits")
    head.append(f"malloc(0) as 1 byte: {s['zero']}; frees of blocks never logged "
                f"(inherited over fork or older than the logger), dropped: {s['unknownfree']}; "
                f"freed at exec: {s['execfree']}; frees missing from the log, "
                f"inferred at reuse: {s['implicitfree']}")
    return head


def windowstart(events, mark):
    """Index of the first mark record named mark; 0 for none."""
    if mark is None:
        return 0
    for i, (_, _, _, ev) in enumerate(events):
        if ev[0] == "mark" and ev[3][0] == mark:
            return i
    raise SystemExit(f"no {mark} mark in the logs")


def convert(paths, comments=(), maxbytes=MAXBYTES, mark=None, workload=None):
    """The trace text for the logs, from the first mark if one is named,
    cut to at most maxbytes."""
    t0, events = mergelogs(sorted(paths))
    start = windowstart(events, mark)
    limit = len(events)
    while True:
        b = build(t0, events, start, limit)
        b.window = mark
        text = render(b, list(comments) + describe(b, len(events), start, limit), workload)
        size = len(text.encode())
        if size <= maxbytes or limit <= start:
            return text
        limit = max(start, min(limit - 1, start + (limit - start) * maxbytes * 97 // (100 * size)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("logs", nargs="+", help="malloclog files, one per process")
    ap.add_argument("-o", "--output", help="trace file (default: standard output)")
    ap.add_argument("--max-bytes", type=int, default=MAXBYTES)
    ap.add_argument("--comment", action="append", default=[],
                    help="a line for the trace's comment header (repeatable)")
    ap.add_argument("--from-mark", metavar="NAME",
                    help="open the window at the first mark NAME (connect, accept)")
    ap.add_argument("--workload", metavar="NAME",
                    help="the config's informational workload name")
    a = ap.parse_args()
    text = convert(a.logs, a.comment, a.max_bytes, a.from_mark, a.workload)
    if a.output:
        with open(a.output, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
