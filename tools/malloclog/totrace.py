#!/usr/bin/python3
"""Turn allocation logs into a Pebble trace (traces/README.md, "Real programs").

    totrace.py [-o OUT] [--format malloclog|mtrace|heaptrack] [--max-bytes N]
               [--from-mark NAME] [--workload NAME] [--comment TEXT]... LOG...

Three formats, told apart by their first line (--format forces one):
  - the project's logger: each LOG is one process's file written by
    build/malloclog.so ($MALLOCLOG.PID); give every process's file;
  - a glibc mtrace log ($MALLOC_TRACE with libc_malloc_debug.so): one LOG;
  - a heaptrack file (heaptrack.PROG.PID.zst, or .gz, or decompressed): one LOG.
formats/ has one module a format; tracemap.py is the mapping they share.  An
mtrace log or a heaptrack file is one proc (neither records threads; mtrace
records no times either: its clock is synthetic); the comment header says
what the format lacks, what was read and what was dropped.  Malformed input
is reported as FILE:LINE: what is wrong (LINE 0: the file as a whole), with
exit status 2.

What follows is the mapping, and the logger's records.
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
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import formats  # noqa: E402
import tracemap  # noqa: E402
from tracemap import InputError, MAXBYTES  # noqa: E402,F401


def convert(paths, comments=(), maxbytes=MAXBYTES, mark=None, workload=None, fmt=None):
    """The trace text for the logs (format fmt, or the one they say), from
    the first mark if one is named, cut to at most maxbytes."""
    rec = formats.load(sorted(paths), fmt)
    return tracemap.convert(rec, comments, maxbytes, mark, workload)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("logs", nargs="+", help="malloclog files (one per process), "
                    "or one mtrace log, or one heaptrack file")
    ap.add_argument("-o", "--output", help="trace file (default: standard output)")
    ap.add_argument("--format", choices=sorted(formats.FORMATS),
                    help="the logs' format (default: told by their first line)")
    ap.add_argument("--max-bytes", type=int, default=MAXBYTES)
    ap.add_argument("--comment", action="append", default=[],
                    help="a line for the trace's comment header (repeatable)")
    ap.add_argument("--from-mark", metavar="NAME",
                    help="open the window at the first mark NAME (connect, accept)")
    ap.add_argument("--workload", metavar="NAME",
                    help="the config's informational workload name")
    a = ap.parse_args()
    try:
        text = convert(a.logs, a.comment, a.max_bytes, a.from_mark, a.workload, a.format)
    except InputError as e:
        print(e, file=sys.stderr)
        sys.exit(2)
    if a.output:
        with open(a.output, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
