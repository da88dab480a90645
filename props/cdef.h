/*
 * What CFFI sees of the core: the public API and the deterministic
 * host, straight from their headers.  props/build.ninja runs this
 * through the preprocessor with the C library kept out (props/include
 * stands in for <stddef.h>) and writes build/props/pebble_cdef.h,
 * which props/pebbleffi.py hands to ffi.cdef.  Nothing here is copied
 * by hand, so the declarations cannot drift from the core's.
 */
#include "pebble.h"
#include "host/det.h"
