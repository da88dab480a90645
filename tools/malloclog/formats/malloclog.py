"""The project's own logger's files (build/malloclog.so, one file a process;
tools/malloclog/totrace.py's docstring describes the records)."""

import heapq

from tracemap import Image, Recording
from formats import text

NAME = "malloclog"
# fields of each record kind, the kind included (S may end in COMM, which may
# hold spaces)
FIELDS = {"S": 6, "F": 7, "T": 6, "K": 6, "m": 7, "c": 7, "a": 7, "f": 6, "r": 10}
UNKNOWNWHY = "inherited over fork or older than the logger"


def sniff(line):
    w = line.split()
    return bool(w) and w[0] in "SF" and len(w) >= 6 and all(text.DEC.fullmatch(x) for x in w[1:6])


def splitrecord(t, n, w):
    """A record as (seq, time, kind, tid, args) events; realloc gives two."""
    k = w[0]
    if k not in FIELDS:
        raise t.error(n, f"unknown record kind {k!r}")
    if len(w) != FIELDS[k] and not (k == "S" and len(w) > 6):
        raise t.error(n, f"a {k} record has {FIELDS[k]} fields, this one {len(w)}")
    tm, s = text.decnum(t, n, w[1], "time"), text.decnum(t, n, w[2], "sequence number")
    text.decnum(t, n, w[3], "pid")
    tid = text.decnum(t, n, w[4], "thread id")
    if k in "mca":
        return [(s, tm, "alloc", tid, (text.decnum(t, n, w[5], "size"),
                                       text.hexnum(t, n, w[6], "pointer")))]
    if k == "f":
        return [(s, tm, "free", tid, (text.hexnum(t, n, w[5], "pointer"),))]
    if k == "T":
        return [(s, tm, "thread", tid, (text.decnum(t, n, w[5], "creator thread id"),))]
    if k == "K":
        return [(s, tm, "mark", tid, (w[5],))]
    t1, s1 = text.decnum(t, n, w[5], "time"), text.decnum(t, n, w[6], "sequence number")
    size = text.decnum(t, n, w[7], "size")
    old, new = text.hexnum(t, n, w[8], "pointer"), text.hexnum(t, n, w[9], "pointer")
    return [(s, tm, "rbegin", tid, (size, old, new)),
            (s1, t1, "rend", tid, (size, old, new))]


def readlog(t):
    """The images of one process's log, in order."""
    images = []
    cur = None
    for n, line in enumerate(t.lines, 1):
        w = line.split()
        if not w:
            continue
        if w[0] in "SF":
            if len(w) < FIELDS[w[0]]:
                raise t.error(n, f"a {w[0]} record has {FIELDS[w[0]]} fields, this one {len(w)}")
            for i, what in enumerate(["time", "sequence number", "pid", "thread id",
                                      "parent pid", "parent thread id"][:FIELDS[w[0]] - 1]):
                text.decnum(t, n, w[i + 1], what)
            cur = []
            images.append((w, cur))
            continue
        if cur is None:
            raise t.error(n, "a record before the first S or F (start) record")
        cur.extend(splitrecord(t, n, w))
    out = []
    for start, evs in images:
        evs.sort(key=lambda e: e[0])
        out.append(Image(int(start[3]), start, evs))
    return out


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


def read(texts):
    """All processes' events in one time order; each process keeps its own."""
    texts = sorted(texts, key=lambda t: t.path)
    procs = [readlog(t) for t in texts]
    procs = [p for p in procs if p]
    procs.sort(key=lambda ims: (int(ims[0].start[1]), ims[0].pid))
    streams = [processstream(ims, i) for i, ims in enumerate(procs)]
    t0 = int(procs[0][0].start[1]) if procs else 0
    events = list(heapq.merge(*streams))
    notes = [f"Input: {len(texts)} malloclog file(s), "
             f"{sum(len(t.lines) for t in texts)} lines"]
    for t in texts:
        notes += t.cutnote()
    return Recording(NAME, texts[0].path, t0, events, notes, UNKNOWNWHY)
