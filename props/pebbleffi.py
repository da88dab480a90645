"""The core through CFFI: build what is missing or stale, then load it.

`ninja` decides staleness.  The declarations are build/props/pebble_cdef.h,
made by props/build.ninja from the core's own headers (props/cdef.h run
through the preprocessor), so they cannot drift from the C.  CFFI's ABI
mode (ffi.dlopen) needs no compiler at import time.
"""

import os
import subprocess

import cffi

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# `ninja coverage` points both at an instrumented build
LIBRARY = os.environ.get("PEBBLE_LIBRARY", "build/libpebble.so")
CDEF = "build/props/pebble_cdef.h"


def ninja(*targets):
    """Bring targets up to date in the project's build, or fail loudly."""
    done = subprocess.run(["ninja", "-C", ROOT, *targets],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode != 0:
        raise RuntimeError("ninja %s failed:\n%s" % (" ".join(targets), done.stdout))


def load():
    ninja(LIBRARY, CDEF)
    ffi = cffi.FFI()
    with open(os.path.join(ROOT, CDEF)) as f:
        ffi.cdef(f.read())
    return ffi, ffi.dlopen(os.path.join(ROOT, LIBRARY))


ffi, lib = load()
