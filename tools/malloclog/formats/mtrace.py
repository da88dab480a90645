"""glibc's mtrace logs: what libc_malloc_debug.so writes to $MALLOC_TRACE once
the program (or build/mtraceon.so, preloaded) calls mtrace().  One line a call:

    = Start                     mtrace() began the log
    @ WHERE + PTR SIZE          malloc, calloc, memalign...; PTR (nil) if it failed
    @ WHERE - PTR               free, or realloc(PTR, 0)
    @ WHERE < OLD               realloc: the block it was given,
    @ WHERE > NEW SIZE          and, on the next line, the one it returned
    @ WHERE ! OLD SIZE          a realloc that failed (OLD stays)
    = End                       muntrace()

WHERE is the caller (`FILE:(SYMBOL+OFF)[ADDR]`) and may be missing.  PTR, OLD
and NEW are %p (0x... or (nil)), SIZE is %#lx (0x... or 0).  The log has no
thread, process or time: every call is the one proc's, at a synthetic clock
(the call on line N at N microseconds).  glibc buffers it in stdio, so a
program that ends by _exit or a signal leaves it cut off, often mid-line."""

import re

from tracemap import oneprocess

NAME = "mtrace"
UNKNOWNWHY = "allocated before mtrace() started"
PTR = re.compile(r"0x[0-9a-f]+|\(nil\)")
SIZE = re.compile(r"0x[0-9a-f]+|0")
ARGS = {"+": 2, "-": 1, "<": 1, ">": 2, "!": 2}


def sniff(line):
    return line == "= Start"


def record(t, n, line):
    """(op, ptr, size) of a call line; size None where it has none."""
    if "= Start" in line:
        raise t.error(n, "a line cut off by another '= Start': another process (a fork or "
                      "exec child) wrote into this log too; mtrace cannot tell processes "
                      "apart: record one process a log")
    rest = line
    if rest.startswith("@ "):
        i = rest.rfind("] ")
        if i < 0:
            raise t.error(n, "a caller ('@ ...') without its '[ADDRESS] '")
        rest = rest[i + 2:]
    w = rest.split()
    if not w or w[0] not in ARGS:
        raise t.error(n, f"not an mtrace record: {line[:60]!r}")
    op = w[0]
    if len(w) != ARGS[op] + 1:
        raise t.error(n, f"'{op}' takes {ARGS[op]} argument(s), this one {len(w) - 1}")
    if not PTR.fullmatch(w[1]):
        raise t.error(n, f"bad pointer {w[1]!r}: not 0x... or (nil)")
    ptr = 0 if w[1] == "(nil)" else int(w[1], 16)
    size = None
    if len(w) == 3:
        if not SIZE.fullmatch(w[2]):
            raise t.error(n, f"bad size {w[2]!r}: not 0x... or 0")
        size = int(w[2], 16)
    if ptr == 0 and op in "-<>":
        raise t.error(n, f"'{op}' of (nil): mtrace never logs that")
    return op, ptr, size


class Reader:
    def __init__(self, t):
        self.t = t
        self.records = []       # (time, kind, args) for the mapping
        self.live = {}          # ptr -> size
        self.freedat = {}       # ptr -> line it was freed on, until reused
        self.count = dict.fromkeys(["+", "-", "<>", "!", "nil"], 0)
        self.used = self.peak = 0
        self.pending = None     # the line of a '<' waiting for its '>'
        self.end = None         # the line of '= End'

    def give(self, n, ptr, size):
        self.used -= self.live.get(ptr, 0)     # a free the log missed
        self.live[ptr] = size
        self.freedat.pop(ptr, None)
        self.used += size
        self.peak = max(self.peak, self.used)

    def take(self, n, ptr):
        if ptr in self.live:
            self.used -= self.live.pop(ptr)
            self.freedat[ptr] = n
        elif ptr in self.freedat:
            raise self.t.error(n, f"free of 0x{ptr:x}, already freed on line "
                               f"{self.freedat[ptr]} and not allocated since: not one "
                               "process's log")

    def line(self, n, line):
        t = self.t
        if line.startswith("= "):
            if line == "= Start":
                raise t.error(n, "a second '= Start': another process (a fork or exec "
                              "child) wrote into this log too; mtrace cannot tell "
                              "processes apart: record one process a log")
            if line != "= End":
                raise t.error(n, f"unknown '=' line {line!r}")
            self.end = n
            return
        if self.end is not None:
            raise t.error(n, f"a record after '= End' (line {self.end})")
        op, ptr, size = record(t, n, line)
        if self.pending is not None and op != ">":
            raise t.error(n, f"realloc's '<' on line {self.pending} is not followed by its '>'")
        us = n * 1000
        if op == "+":
            self.count["+"] += 1
            if ptr == 0:
                self.count["nil"] += 1
                return
            self.give(n, ptr, size)
            self.records.append((us, "alloc", (size, ptr)))
        elif op == "-":
            self.count["-"] += 1
            self.take(n, ptr)
            self.records.append((us, "free", (ptr,)))
        elif op == "<":
            self.pending = n
            self.old = ptr
        elif op == ">":
            if self.pending is None:
                raise t.error(n, "realloc's '>' without the '<' line before it")
            self.pending = None
            self.count["<>"] += 1
            self.take(n, self.old)
            self.give(n, ptr, size)
            self.records.append((us, "rbegin", (size, self.old, ptr)))
            self.records.append((us, "rend", (size, self.old, ptr)))
        else:
            self.count["!"] += 1


def read(texts):
    if len(texts) != 1:
        raise texts[1].error(0, "a second file: an mtrace log is one whole recording; give one")
    t = texts[0]
    if not t.lines:
        raise t.error(0, "empty: not an mtrace log ('= Start' first)")
    if t.lines[0] != "= Start":
        raise t.error(1, "not a glibc mtrace log: its first line is '= Start'")
    r = Reader(t)
    for n, line in enumerate(t.lines[1:], 2):
        if line:
            r.line(n, line)
    notes = [f"Input: glibc mtrace log {t.path}" + (f" ({t.compression})" if t.compression else "")
             + f", {len(t.lines)} lines. mtrace records no threads, processes or times: one "
             "proc does every call, and the clock is synthetic (the call on line N at N "
             "microseconds)."]
    notes += t.cutnote()
    if r.pending is not None:
        notes.append(f"The log ends after realloc's '<' on line {r.pending}, without its '>': "
                     "that realloc is not read")
    c = r.count
    notes.append(f"Read: {c['+']} '+' ({c['nil']} of them failed, (nil): dropped), {c['-']} '-' "
                 f"(free, or realloc to 0: mtrace logs both alike), {c['<>']} '<'/'>' reallocs, "
                 f"{c['!']} '!' failed reallocs (dropped: nothing changed); "
                 f"'= End': {'line ' + str(r.end) if r.end else 'none (the program did not call muntrace)'}")
    notes.append(f"The log's own count: peak live requested bytes {r.peak}; at its end "
                 f"{len(r.live)} blocks ({sum(r.live.values())} bytes) are live")
    what = f"the one process of the mtrace log {t.path}"
    return oneprocess(NAME, t.path, what, r.records, notes, UNKNOWNWHY)
