"""heaptrack's files (heaptrack 1.x: heaptrack_interpret's text, zstd or gzip
compressed by heaptrack, or plain once decompressed).  The records read:

    v HEAPTRACK FORMAT          versions, hex: must be the first line
    X COMMAND LINE              the program
    a SIZE TRACE                allocation info N (the N-th a line, from 0)
    + N                         an allocation of info N
    - N                         a free of an allocation of info N
    c MS                        time stamp: milliseconds since the start
    A                           heaptrack attached to a running program
and, not needed here: s (string), t (trace node), i (instruction pointer),
I (system), R (RSS), S (suppression), # (comment).  The file has times but
no pointers, threads or processes (a fork child is not traced): one proc
does every call; a '-' is paired with the newest live allocation of its
info (same size and call stack); a realloc is a '-' then a '+'."""

from tracemap import oneprocess
from formats import text

NAME = "heaptrack"
FORMATS = (1, 2, 3)         # what heaptrack's own reader does with +, -, a, c is the same in each
UNKNOWNWHY = None           # a '-' without a live allocation of its info is an error
SKIP = set("stiIRS#")
ARGS = {"a": 2, "+": 1, "-": 1, "c": 1, "A": 0}


def sniff(line):
    w = line.split()
    return len(w) in (2, 3) and w[0] == "v" and all(text.HEX.fullmatch(x) for x in w[1:])


def version(t):
    if not t.lines:
        raise t.error(0, "empty: not a heaptrack file ('v HEAPTRACK FORMAT' first)")
    w = t.lines[0].split()
    if not w or w[0] != "v":
        raise t.error(1, "not a heaptrack file: its first line is 'v HEAPTRACK FORMAT' "
                      "(heaptrack before 1.0 wrote none: not read)")
    if len(w) not in (2, 3):
        raise t.error(1, f"'v' takes 2 arguments, this one {len(w) - 1}")
    ht = text.hexnum(t, 1, w[1], "heaptrack version")
    fmt = text.hexnum(t, 1, w[2], "format version") if len(w) == 3 else (1 if ht == 0x010200 else 0)
    name = f"{ht >> 16}.{(ht >> 8) & 0xff}.{ht & 0xff}"
    if fmt not in FORMATS:
        raise t.error(1, f"heaptrack file format {fmt} (written by heaptrack {name}): this "
                      f"importer reads formats {', '.join(map(str, FORMATS))} only")
    return fmt, name


class Reader:
    def __init__(self, t):
        self.t = t
        self.infos = []         # info -> size
        self.live = {}          # info -> [pointer], newest last
        self.records = []       # (time, kind, args) for the mapping
        self.ms = 0
        self.nextptr = 1        # the pointers are made up: the file has none
        self.command = self.attached = None
        self.nplus = self.nminus = self.ntemp = self.nstamps = 0
        self.used = self.peak = self.peakms = 0
        # heaptrack's rule for a temporary allocation: a '-' right after a
        # '+' of its info (and, as heaptrack has it, 0 after a '-')
        self.last = 0

    def line(self, n, line):
        t = self.t
        k = line[0]
        if k == "X":
            if self.command is not None:
                raise t.error(n, "a second 'X' (command line) record")
            self.command = line[2:]
            return
        if k not in ARGS or (len(line) > 1 and line[1] != " "):
            raise t.error(n, f"unknown record {line[:20]!r}")
        w = line.split()[1:]
        if len(w) != ARGS[k]:
            hint = (": a raw file (heaptrack --raw)? heaptrack_interpret turns it into this "
                    "format" if k in "+-" else "")
            raise t.error(n, f"'{k}' takes {ARGS[k]} argument(s), this one {len(w)}{hint}")
        if k == "a":
            self.infos.append(text.hexnum(t, n, w[0], "size"))
            text.hexnum(t, n, w[1], "trace index")
        elif k == "c":
            stamp = text.hexnum(t, n, w[0], "time stamp")
            if stamp < self.ms:
                raise t.error(n, f"time goes back: {stamp} ms after {self.ms} ms")
            self.ms = stamp
            self.nstamps += 1
        elif k == "A":
            self.attached = n
        else:
            i = text.hexnum(t, n, w[0], "allocation info index")
            if i >= len(self.infos):
                raise t.error(n, f"allocation info {i:x} is not defined (there are "
                              f"{len(self.infos)} 'a' lines before this one)")
            (self.plus if k == "+" else self.minus)(n, i, self.infos[i])

    def plus(self, n, i, size):
        self.nplus += 1
        self.live.setdefault(i, []).append(self.nextptr)
        self.records.append((self.ms * 1000000, "alloc", (size, self.nextptr)))
        self.nextptr += 1
        self.used += size
        if self.used > self.peak:
            self.peak, self.peakms = self.used, self.ms
        self.last = i

    def minus(self, n, i, size):
        if not self.live.get(i):
            raise self.t.error(n, f"'-' of allocation info {i:x} ({size} bytes), which has "
                               "no live allocation: a free of a block never allocated")
        self.nminus += 1
        self.ntemp += self.last == i
        self.last = 0
        self.records.append((self.ms * 1000000, "free", (self.live[i].pop(),)))
        self.used -= size

    def notes(self, fmt, htname):
        t = self.t
        notes = [f"Input: heaptrack file {t.path}"
                 + (f" ({t.compression})" if t.compression else "")
                 + f", format {fmt}, written by heaptrack {htname}, of "
                 f"`{self.command or '?'}`; {len(t.lines)} lines. heaptrack records times "
                 f"({self.nstamps} time stamps, in ms, at its timer's ticks: every call "
                 "between two has the earlier one's time) but no pointers, threads or "
                 "processes: one proc does every call; a '-' names only the allocation info "
                 "(size and call stack) of what it frees and is paired with the newest live "
                 "allocation of that info; a realloc is a '-' then a '+', so no realloc is "
                 "told apart"]
        notes += t.cutnote()
        if self.attached:
            notes.append(f"heaptrack attached to the running program (line {self.attached}): "
                         "what was allocated before is not in the file")
        nlive = sum(len(v) for v in self.live.values())
        notes.append(f"Read: {len(self.infos)} allocation infos, {self.nplus} '+' "
                     f"(heaptrack_print's \"calls to allocation functions\"), {self.nminus} "
                     f"'-', {self.ntemp} temporary; the file's own count: peak live requested "
                     f"bytes {self.peak} at {self.peakms} ms; at its end {nlive} blocks "
                     f"({self.used} bytes) are live")
        return notes


def read(texts):
    if len(texts) != 1:
        raise texts[1].error(0, "a second file: a heaptrack file is one whole recording; give one")
    t = texts[0]
    fmt, htname = version(t)
    r = Reader(t)
    for n, line in enumerate(t.lines[1:], 2):
        if line and line[0] not in SKIP:
            r.line(n, line)
    what = f"the process of `{r.command}`" if r.command else f"the process of {t.path}"
    return oneprocess(NAME, t.path, what, r.records, r.notes(fmt, htname), UNKNOWNWHY)
