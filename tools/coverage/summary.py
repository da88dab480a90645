#!/usr/bin/python3
"""gcovr's JSON summary as a Markdown table, put into REPORT.md.

    summary.py SUMMARY.json OUT.md REPORT.md

OUT.md gets the table: line and branch coverage of each file of core/ and
the total.  In REPORT.md the table replaces what stands between the
coverage markers, or goes in before "## How to read this report" (or at
the end); bench/report.py carries OUT.md over when it rewrites REPORT.md.
"""

import json
import os
import sys

BEGIN, END = "<!-- coverage: tools/coverage/run.sh -->", "<!-- /coverage -->"


def pct(c, t):
    return "%.1f%%" % (100.0 * c / t) if t else "-"


def table(s):
    rows = ["| file | lines | covered | branches | covered |", "|---|---:|---:|---:|---:|"]
    for f in sorted(s["files"], key=lambda f: f["filename"]):
        rows.append("| %s | %d/%d | %s | %d/%d | %s |" % (
            f["filename"], f["line_covered"], f["line_total"], pct(f["line_covered"], f["line_total"]),
            f["branch_covered"], f["branch_total"], pct(f["branch_covered"], f["branch_total"])))
    rows.append("| **core/ total** | %d/%d | **%s** | %d/%d | **%s** |" % (
        s["line_covered"], s["line_total"], pct(s["line_covered"], s["line_total"]),
        s["branch_covered"], s["branch_total"], pct(s["branch_covered"], s["branch_total"])))
    return "\n".join(rows)


def main():
    src, out, report = sys.argv[1:4]
    with open(src) as f:
        s = json.load(f)
    md = ("## Coverage of core/\n\n"
          "What `tools/test` runs, counted by `ninja coverage` (gcc --coverage, gcovr): the C tests, the "
          "property tests, the simulator's test campaign and the fuzz targets' committed corpora. "
          "Per line: [coverage/index.html](coverage/index.html); the lines no test reaches, and why: "
          "fuzz/README.md.\n\n" + table(s) + "\n")
    with open(out, "w") as f:
        f.write(md)
    block = BEGIN + "\n" + md + END + "\n"
    text = open(report).read() if os.path.exists(report) else ""
    if BEGIN in text and END in text:
        a, b = text.index(BEGIN), text.index(END) + len(END) + 1
        text = text[:a] + block + text[b:]
    elif "## How to read this report" in text:
        i = text.index("## How to read this report")
        text = text[:i] + block + "\n" + text[i:]
    else:
        text = text + "\n" + block
    with open(report, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
