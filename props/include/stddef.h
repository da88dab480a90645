/*
 * Stands in for the C library's <stddef.h> when props/cdef.h is
 * preprocessed for CFFI: CFFI already knows size_t, and the real
 * header's compiler builtins are more than its parser takes.
 */
