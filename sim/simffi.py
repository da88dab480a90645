"""The simulator through CFFI: build/libpebblesim.so (the simulator with
its own copy of the core and the deterministic host) and the
build/pebblesim command line, both built here if missing or stale.
Used by props/test_sim.py and props/test_traces.py."""

import json
import os
import subprocess

import cffi

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def ninja(*targets):
    done = subprocess.run(["ninja", "-C", ROOT, *targets],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode != 0:
        raise RuntimeError("ninja %s failed:\n%s" % (" ".join(targets), done.stdout))


# `ninja coverage` points these at an instrumented build
SIMLIB = os.environ.get("PEBBLESIM_LIBRARY", "build/libpebblesim.so")
SIMBIN = os.environ.get("PEBBLESIM", "build/pebblesim")
ninja(SIMBIN, SIMLIB)

ffi = cffi.FFI()
ffi.cdef("""
int pebblesim_replay(char *file, char *out, int nout, int lenient);
int pebblesim_parse(char *text, int n, char *out, int nout);
int pebblesim_run(unsigned long long seed, char *workload, long procs, long events,
                  char *faults, char *record, char *out, int nout);
""")
lib = ffi.dlopen(os.path.join(ROOT, SIMLIB))
PEBBLESIM = os.path.join(ROOT, SIMBIN)

# exit codes of pebblesim (sim/sim.h)
CLEAN, USAGE, BADTRACE, DIVERGED, VIOLATION = 0, 1, 2, 3, 4
PROFILES = ["keyserver", "tls", "forkstorm", "pressure", "mixed"]
FAULTS = ["kill", "malloc", "budget", "heap", "off", "pager"]


def _summary(out):
    text = ffi.string(out).decode()
    first, _, rest = text.partition("\n")
    return json.loads(first), rest


def run(seed, workload, procs, events, faults, record=None):
    """Run one seed in-process; (exit code, summary dict, failure text)."""
    out = ffi.new("char[]", 1 << 16)
    rec = ffi.new("char[]", record.encode()) if record else ffi.NULL
    code = lib.pebblesim_run(seed, workload.encode(), procs, events,
                             (",".join(faults) or "none").encode(), rec, out, len(out))
    summary, failure = _summary(out)
    return code, summary, failure


def replay(path, lenient=False):
    """Replay a trace file in-process; (exit code, summary or None, message)."""
    out = ffi.new("char[]", 1 << 16)
    code = lib.pebblesim_replay(path.encode(), out, len(out), int(lenient))
    if code == BADTRACE:
        return code, None, ffi.string(out).decode()
    summary, failure = _summary(out)
    return code, summary, failure


def parse(data):
    """Parse trace bytes; (0 or BADTRACE, message)."""
    out = ffi.new("char[]", 512)
    buf = ffi.new("char[]", bytes(data))
    code = lib.pebblesim_parse(buf, len(data), out, len(out))
    return code, ffi.string(out).decode()


def cli(*args):
    """Run build/pebblesim; (exit code, stdout)."""
    done = subprocess.run([PEBBLESIM, *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return done.returncode, done.stdout.decode()
