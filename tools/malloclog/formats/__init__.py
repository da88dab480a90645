"""The input formats totrace.py reads, one module each.  A module has NAME,
sniff(first line) -> bool, and read([formats.text.Text]) -> tracemap.Recording;
it raises tracemap.InputError (FILE:LINE: message) for anything malformed."""

from formats import heaptrack, malloclog, mtrace, text
from tracemap import InputError

FORMATS = {m.NAME: m for m in (malloclog, mtrace, heaptrack)}


def detect(t):
    """The format of a Text by its first line."""
    first = t.lines[0] if t.lines else ""
    for m in FORMATS.values():
        if m.sniff(first):
            return m
    raise InputError(t.path, 1 if t.lines else 0,
                     "not a log this importer reads: a malloclog log starts with an S or F "
                     "record, a glibc mtrace log with '= Start', a heaptrack file with "
                     "'v HEAPTRACK FORMAT' (zstd or gzip compressed, or plain); "
                     "--format forces one")


def load(paths, fmt=None):
    """A Recording of the files, in the format named or the one they say."""
    texts = [text.read(p) for p in paths]
    if fmt is not None:
        return FORMATS[fmt].read(texts)
    mods = [detect(t) for t in texts]
    for t, m in zip(texts, mods):
        if m is not mods[0]:
            raise InputError(t.path, 1, f"a {m.NAME} file with a {mods[0].NAME} file "
                             f"({texts[0].path}): give one recording's files")
    return mods[0].read(texts)
