"""An input file as text lines: decompressed when its first bytes say gzip or
zstd, refused when it holds binary bytes, and its cut-off last line set apart.
A writer that dies mid-line leaves a last line without its newline; what is
left of it may still parse (a size cut short is still a number), so it is
never read as a record: readers say in the header that it was dropped."""

import gzip
import re
import subprocess
import zlib

from tracemap import InputError

GZIP = b"\x1f\x8b"
ZSTD = b"\x28\xb5\x2f\xfd"
BINARY = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]")     # control bytes but tab and newline
HEX = re.compile(r"[0-9a-f]+")
DEC = re.compile(r"[0-9]+")


class Text:
    """A file's lines (without newlines, numbered from 1 by their index + 1),
    the cut-off last line or None, and the compression it came in."""

    def __init__(self, path, lines, cut, compression):
        self.path, self.lines, self.cut, self.compression = path, lines, cut, compression

    def error(self, n, msg):
        return InputError(self.path, n, msg)

    def cutnote(self):
        if self.cut is None:
            return []
        return [f"{self.path} ends in the middle of line {len(self.lines) + 1} "
                f"(no newline: the writer stopped there): that line, {self.cut[:40]!r}, "
                "is not read"]


def decompress(path, data):
    if data.startswith(GZIP):
        try:
            return gzip.decompress(data), "gzip"
        except (OSError, EOFError, zlib.error) as e:
            raise InputError(path, 0, f"the gzip stream is cut off or corrupt ({e})")
    if data.startswith(ZSTD):
        try:
            r = subprocess.run(["zstd", "-d", "-c", "-q"], input=data, capture_output=True)
        except OSError as e:
            raise InputError(path, 0, f"zstd-compressed, and zstd cannot run ({e.strerror}; "
                             "tools/setup installs it)")
        if r.returncode != 0:
            why = r.stderr.decode("ascii", "replace").strip().split(": ")[-1]
            raise InputError(path, 0, f"the zstd stream is cut off or corrupt ({why})")
        return r.stdout, "zstd"
    return data, None


def read(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise InputError(path, 0, f"cannot read: {e.strerror}")
    data, compression = decompress(path, data)
    m = BINARY.search(data)
    if m:
        line = data.count(b"\n", 0, m.start()) + 1
        col = m.start() - (data.rfind(b"\n", 0, m.start()) + 1) + 1
        if data[m.start()] == 0x0d:
            raise InputError(path, line, f"a carriage return in column {col}: lines must end "
                             "in a newline alone")
        raise InputError(path, line, f"binary data (byte 0x{data[m.start()]:02x} in column "
                         f"{col}): not a text log")
    lines = data.decode("utf-8", "replace").split("\n")
    cut = lines.pop() or None       # "" after a final newline
    return Text(path, lines, cut, compression)


def hexnum(t, n, s, what):
    """A lower-case hex number of the input, or a FILE:LINE error naming what."""
    if not HEX.fullmatch(s):
        raise t.error(n, f"bad {what} {s!r}: not a hex number")
    return int(s, 16)


def decnum(t, n, s, what):
    if not DEC.fullmatch(s):
        raise t.error(n, f"bad {what} {s!r}: not a decimal number")
    return int(s)
