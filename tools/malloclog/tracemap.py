"""The mapping from a program's allocation history to a Pebble trace, shared by
every input format (traces/README.md, "Real programs", has the rules).

A format's reader (formats/) turns its file(s) into a Recording: the events of
one or more processes in one time order, in the vocabulary below, with the
header lines that say what the format records and what it lacks.  The Builder
maps the events to trace events; convert() renders the trace, cut to a size.

Events, each (time, pidx, n, ev) with (time, pidx, n) increasing:
    ("start", Image)                            a process image starts
    ("alloc", pid, tid, (size, ptr))            malloc and friends
    ("free", pid, tid, (ptr,))                  free
    ("rbegin", pid, tid, (size, old, new))      realloc starts: old may be reused
    ("rend", pid, tid, (size, old, new))        realloc returned new
    ("thread", pid, tid, (creator,))            a thread starts
    ("mark", pid, tid, (name,))                 a mark (--from-mark)
"""

import textwrap


class InputError(Exception):
    """Malformed input: reported as FILE:LINE: message (LINE 0: the file as a
    whole), exit status 2, never a traceback."""

    def __init__(self, path, line, msg):
        super().__init__(f"{path}:{line}: {msg}")
        self.path, self.line, self.msg = path, line, msg


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
CUTS = [(8, 8), (9, 8), (10, 16), (11, 16)]     # classes up to a page; then one a page count


def slotsin(size, npage):
    return min(npage * PAGE // size, MAXSLOT)


def geometry(size):
    """(pages a run takes, slots in a run) for one class, as core/class.c."""
    if size > PAGE:
        return size // PAGE, 1
    minslot = 16
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
    return sizes + list(range(2 * PAGE, MAXCLASS + 1, PAGE))


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


class Image:
    """One program image in one process: from its start (S or F) to exec or end.
    what, if set, describes its main proc in the comment header."""

    def __init__(self, pid, start, events, what=None):
        self.pid = pid
        self.start = start          # the S or F record, split
        self.events = events        # (seq, time, kind, tid, args), in causal order
        self.what = what


class Recording:
    """What a reader made of its input: the events (module docstring) from
    time t0, header lines saying what the format holds and lacks and what was
    read, and why, in this format, a free can name a block never seen."""

    def __init__(self, fmt, source, t0, events, notes, unknownwhy):
        self.fmt = fmt
        self.source = source        # the (first) input file, for messages
        self.t0 = t0
        self.events = events
        self.notes = notes
        self.unknownwhy = unknownwhy


def oneprocess(fmt, source, what, records, notes, unknownwhy):
    """A Recording of one process with one thread (pid 1, tid 1) from
    (time, kind, args) records in order: for formats that record neither
    processes nor threads.  Their times count from the recording's start."""
    t0 = 0
    im = Image(1, ["S", str(t0), "0", "1", "1", "0", "-"], [], what)
    events = [(t0, 0, 0, ("start", im))]
    for n, (t, kind, args) in enumerate(records, 1):
        events.append((t, 0, n, (kind, 1, 1, args)))
    return Recording(fmt, source, t0, events, notes, unknownwhy)


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
        self.what[p] = im.what or f"pid {pid} main thread ({self.comm[pid]}, {how})"
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


    def leftlive(self):
        return sum(len(v) for v in self.live.values()) + len(self.held)

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


def comment(text):
    """Comment lines for text: wrapped, since a replayer may bound its lines,
    and ASCII, whatever bytes the input's names held."""
    text = text.encode("ascii", "backslashreplace").decode("ascii")
    return ["# " + w for w in textwrap.wrap(text, 94, break_on_hyphens=False)] or ["#"]


def render(b, header, workload=None):
    last = mainlast(b)
    exits = {}
    for p in sorted(last, key=lambda p: (last[p], p in b.mainof.values(), p)):
        exits.setdefault(last[p], []).append(p)
    nproc = b.nextproc              # procs + 1
    budget = max(PAGE, -(-b.peakused // PAGE) * PAGE)
    lines = ["pebbletrace 1"]
    for h in header:
        lines += comment(h)
    lines.append("#")
    for p in range(1, b.nextproc):
        lines += comment(f"proc {p}: {b.what[p]}")
    lines += ["seed 0",
              f"config heap={b.estimate.heapbytes()} nproc={min(nproc, MAXNPROC)}"
              f" audit={AUDIT} budget={budget} maxbudget={budget}"
              + (f" workload={workload}" if workload else "")]
    for i, (t, p, text) in enumerate(b.out):
        lines.append(f"{t} {p} {text} = OK")
        for q in exits.get(i, []):
            lines.append(f"{t} {q} exit = OK")
    return "\n".join(lines) + "\n"


def describe(b, total, start, limit, unknownwhy):
    s = b.stats
    head = [f"Mapped: {s['allocs']} allocations, {s['reallocs']} reallocs, {s['frees']} frees, "
            f"{b.nextproc - 1} procs; peak live bytes of one proc {b.peakused}"]
    if start > 0:
        head.append(f"WINDOW from logged event {start} (the first {b.window} mark): "
                    "the procs and blocks live then are made at time 0, and times "
                    "count from there; the counts above include the events before it")
    if limit < total:
        head.append(f"TRUNCATED to the first {limit} of {total} logged events; the "
                    "allocations still live there are freed by their procs' exits")
    unknown = (f"frees of blocks never seen ({unknownwhy}), dropped: {s['unknownfree']}; "
               if unknownwhy else "")
    head.append(f"Size 0 as 1 byte: {s['zero']}; {unknown}"
                f"freed at exec: {s['execfree']}; frees missing from the input, "
                f"inferred at reuse: {s['implicitfree']}; blocks live at the end, "
                f"freed by their proc's exit: {b.leftlive()}")
    return head


def windowstart(events, mark, source):
    """Index of the first mark record named mark; 0 for none."""
    if mark is None:
        return 0
    for i, (_, _, _, ev) in enumerate(events):
        if ev[0] == "mark" and ev[3][0] == mark:
            return i
    raise InputError(source, 0, f"no {mark} mark in the input (--from-mark)")


def convert(rec, comments=(), maxbytes=MAXBYTES, mark=None, workload=None):
    """The trace text for a Recording, from the first mark if one is named,
    cut to at most maxbytes."""
    events = rec.events
    start = windowstart(events, mark, rec.source)
    limit = len(events)
    while True:
        b = build(rec.t0, events, start, limit)
        b.window = mark
        head = list(comments) + rec.notes + describe(b, len(events), start, limit, rec.unknownwhy)
        text = render(b, head, workload)
        size = len(text.encode())
        if size <= maxbytes or limit <= start:
            return text
        limit = max(start, min(limit - 1, start + (limit - start) * maxbytes * 97 // (100 * size)))
