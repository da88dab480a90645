#!/usr/bin/python3
"""Generated mutants: does the project's testing catch breakages nobody thought of?

props/mutants.py faces the tests with breakages written by hand, each one a rule of DESIGN.md
broken on purpose.  A reviewer's mutation tool breaks the code blindly instead, one operator at
a time, and a test suite is only as good as what it kills of those.  This script does the same
to the core (core/*.c, not the hosts, the tests, the example or the simulator's digest):

    ROR   a relational operator replaced (< <=, > >=, == !=, each both ways)
    LCR   && and || swapped
    NEG   a logical negation removed (!x -> x)
    AOR   an increment or decrement turned round, a "+ 1" or "- 1" dropped
    SDL   a statement line deleted (a call or an assignment ending in ';')
    ERR   a returned error code replaced by another
    RET   "return 0" and "return 1" swapped

Every mutant is a line of one file replaced.  They are listed in file and line order, numbered,
and a seeded sample of them (--sample N --seed S) is run, so a campaign reproduces from its seed.
Each faces the checks in layers, cheapest first, and stops at the first that fails:

    c      the C tests (build/pebbletest)
    asan   the same built with ASan and UBSan: an index one past a table's end reads memory
           that is there in the plain build
    sim    every committed trace replayed, then sweeps of the named profiles (every fault) and
           of swarm (props/mutants.py's campaign)
    props  pytest props/ with the ci profile

A mutant that does not compile is counted apart and not run; one whose check runs past
its --timeout (a loop that never ends, a lock never let go) counts as killed, as mutation
tools count it.  What survives every layer is printed with its file, line and diff, and every
result is appended to --json as it comes (a line a mutant), so a campaign cut short
keeps what it found and --skip takes it up again.

    /usr/bin/python3 props/mutagen.py --list             every mutant, numbered
    /usr/bin/python3 props/mutagen.py --sample 300 --seed 1 -j 2 --json build/mutagen.jsonl
    /usr/bin/python3 props/mutagen.py --only 17,242      those mutants (numbers from --list)

Exit status 0 if no mutant survived, 1 if any did, 2 if the unmutated baseline fails.
"""

import argparse
import glob
import json
import os
import random
import re
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mutants as M  # noqa: E402  (the scratch trees and the checks are shared)

ROOT = M.ROOT
SKIP = {"core/example.c", "core/digest.c"}
ERRS = ["PEBBLE_ERR_INVALID", "PEBBLE_ERR_PERM", "PEBBLE_ERR_NOTFOUND", "PEBBLE_ERR_BUSY",
        "PEBBLE_ERR_BUDGET", "PEBBLE_ERR_NOMEM"]
# each error code turns into the one a careless hand would most likely write instead
ERRSWAP = {"PEBBLE_ERR_INVALID": "PEBBLE_ERR_PERM", "PEBBLE_ERR_PERM": "PEBBLE_ERR_NOTFOUND",
           "PEBBLE_ERR_NOTFOUND": "PEBBLE_ERR_PERM", "PEBBLE_ERR_BUSY": "PEBBLE_ERR_BUDGET",
           "PEBBLE_ERR_BUDGET": "PEBBLE_ERR_NOMEM", "PEBBLE_ERR_NOMEM": "PEBBLE_ERR_BUDGET",
           "PEBBLE_ERR_OK": "PEBBLE_ERR_INVALID"}
ROR = [(r"(?<![<>=!-])<=(?!=)", "<"), (r"(?<![<>=!-])<(?![<=])", "<="),
       (r"(?<![<>=!-])>=(?!=)", ">"), (r"(?<![<>=!-])>(?![>=])", ">="),
       (r"==", "!="), (r"!=", "==")]
LCR = [(r"&&", "||"), (r"\|\|", "&&")]
NEG = [(r"(?<=[(\s|&])!(?=[A-Za-z_(])", "")]
AOR = [(r"\+\+", "--"), (r"(?<=[A-Za-z_\])])--", "++"), (r" \+ 1\b", ""), (r" - 1\b", "")]
STMT = re.compile(r"^\s*(?:[A-Za-z_][\w\[\]\.\->*]*\s*(?:[-+|&]?=|\+\+|--)|[A-Za-z_]\w*\s*\().*;\s*$")
NOSTMT = re.compile(r"^\s*(?:return|if|for|while|switch|case|default|goto|break|continue|else)\b")


def codeof(line):
    """The line with string and character literals and comments blanked, same length."""
    out, i, n = [], 0, len(line)
    while i < n:
        c = line[i]
        if c in "\"'":
            j = i + 1
            while j < n and line[j] != c:
                j += 2 if line[j] == "\\" else 1
            out.append(" " * (min(j, n - 1) - i + 1))
            i = j + 1
        elif line.startswith("/*", i) or line.startswith("//", i):
            out.append(" " * (n - i))
            break
        else:
            out.append(c)
            i += 1
    return "".join(out)[:n]


def generate():
    """Every mutant: (number, kind, file, line number, old line, new line)."""
    muts = []
    for path in sorted(glob.glob(os.path.join(ROOT, "core", "*.c"))):
        rel = os.path.relpath(path, ROOT)
        if rel in SKIP:
            continue
        with open(path) as fh:
            lines = fh.read().split("\n")
        incomment = False
        for ln, line in enumerate(lines, 1):
            s = line.strip()
            if incomment:
                if "*/" in s:
                    incomment = False
                continue
            if s.startswith("/*") and "*/" not in s:
                incomment = True
                continue
            if not s or s.startswith(("#", "*", "/*", "//")) or "passert(" in s:
                continue
            code = codeof(line)
            for kind, ops in (("ROR", ROR), ("LCR", LCR), ("NEG", NEG), ("AOR", AOR)):
                for pat, rep in ops:
                    for m in re.finditer(pat, code):
                        new = line[:m.start()] + rep + line[m.end():]
                        muts.append((kind, rel, ln, line, new))
            for e in ERRSWAP:
                for m in re.finditer(r"\b%s\b" % e, code):
                    if "return" in code or "err =" in code:
                        muts.append(("ERR", rel, ln, line, line[:m.start()] + ERRSWAP[e] + line[m.end():]))
            m = re.search(r"\breturn ([01]);", code)
            if m:
                muts.append(("RET", rel, ln, line, line[:m.start(1)] + ("1" if m.group(1) == "0" else "0") + line[m.end(1):]))
            if STMT.match(code) and not NOSTMT.match(code) and code.count("(") == code.count(")"):
                ind = line[:len(line) - len(line.lstrip())]
                muts.append(("SDL", rel, ln, line, ind + ";"))
    return [(i + 1,) + m for i, m in enumerate(muts)]


def apply(tree, mut):
    _, _, rel, ln, old, new = mut
    f = os.path.join(tree, rel)
    with open(f) as fh:
        text = fh.read()
    lines = text.split("\n")
    if lines[ln - 1] != old:
        raise RuntimeError("%s:%d no longer reads as generated" % (rel, ln))
    lines[ln - 1] = new
    with open(f, "w") as fh:
        fh.write("\n".join(lines))
    return f, text


def layered(tree, layers, timeout):
    """Run the checks in turn: ('killed', by, why), ('survived',), or ('no build', out)."""
    for by in layers:
        M.BY = by
        targets, cmd = M.CHECKS[by]
        rc, out = M.run(["ninja", *targets], tree)
        if rc != 0:
            return ("no build", out[-2000:])
        if cmd is not None:
            rc, out = M.run(["sh", "-c", cmd], tree, timeout[by])
        else:
            rc, out = M.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "props/"],
                          tree, timeout[by])
        if rc is None:
            return ("killed", by, "timed out after %ds" % timeout[by])
        if rc != 0:
            return ("killed", by, M.why(out))
    return ("survived",)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--list", action="store_true", help="print every mutant, numbered, and stop")
    ap.add_argument("--sample", type=int, default=0, help="run this many, drawn by --seed (0: all)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", default="", help="run these mutants (comma-separated numbers)")
    ap.add_argument("--file", default="", help="only mutants of files whose path contains this")
    ap.add_argument("--layers", default="c,asan,sim,props", help="the checks, in order (c, asan, sim, props)")
    ap.add_argument("--timeout", default="",
                    help="LAYER=SECONDS,...: how long a check may run before the mutant counts as killed (a hang); each overrides its default (c=30, asan=120, sim=180, props=900)")
    ap.add_argument("-j", type=int, default=1)
    ap.add_argument("--json", default="", help="write every result here, one JSON line a mutant as it ends")
    ap.add_argument("--skip", default="", help="leave out the mutants a former --json file has results for")
    args = ap.parse_args()
    allm = generate()
    if args.list:
        for n, kind, rel, ln, old, new in allm:
            print("%4d %s %s:%d\n     - %s\n     + %s" % (n, kind, rel, ln, old.strip(), new.strip()))
        print("%d mutants" % len(allm))
        return 0
    pool = [m for m in allm if args.file in m[2]]
    if args.only:
        want = {int(x) for x in args.only.split(",")}
        pool = [m for m in allm if m[0] in want]
    elif args.sample and args.sample < len(pool):
        pool = sorted(random.Random(args.seed).sample(pool, args.sample))
    if args.skip:
        with open(args.skip) as fh:
            done = {json.loads(l)["n"] for l in fh if l.strip()}
        pool = [m for m in pool if m[0] not in done]
    layers = args.layers.split(",")
    timeout = {"c": 30, "asan": 120, "sim": 180, "props": 900}
    for kv in filter(None, args.timeout.split(",")):
        k, _, v = kv.partition("=")
        if k not in timeout or not v.isdigit():
            ap.error("--timeout: %r is not LAYER=SECONDS (layers: %s)" % (kv, ",".join(timeout)))
        timeout[k] = int(v)
    print("%d mutants generated, %d to run (seed %d), layers %s" % (len(allm), len(pool), args.seed, " -> ".join(layers)), flush=True)

    trees = [M.scratch_copy() for _ in range(max(1, args.j))]
    results = {}
    out = open(args.json, "a") if args.json else None
    lk = threading.Lock()
    try:
        t0 = time.time()
        v = layered(trees[0], layers, timeout)
        print("baseline (no mutant): %s in %.0fs" % ("passed" if v[0] == "survived" else v[0], time.time() - t0), flush=True)
        if v[0] != "survived":
            print(v)
            return 2
        for t in trees[1:]:
            for by in layers:
                M.run(["ninja", *M.CHECKS[by][0]], t)

        def lane(k):
            tree = trees[k]
            for mut in pool[k::len(trees)]:
                t = time.time()
                f, text = apply(tree, mut)
                try:
                    v = layered(tree, layers, timeout)
                finally:
                    with open(f, "w") as fh:
                        fh.write(text)
                results[mut[0]] = v
                n, kind, rel, ln, old, new = mut
                if out is not None:
                    with lk:
                        out.write(json.dumps({"n": n, "kind": kind, "file": rel, "line": ln, "old": old, "new": new,
                                              "verdict": v[0], "by": v[1] if v[0] == "killed" else None,
                                              "why": v[2] if v[0] == "killed" else None}) + "\n")
                        out.flush()
                tag = {"killed": "killed by %s" % (v[1] if len(v) > 1 else ""), "survived": "SURVIVED",
                       "no build": "no build"}[v[0]]
                print("%4d %-3s %-20s %-16s %4.0fs  %s" % (n, kind, "%s:%d" % (rel, ln), tag, time.time() - t,
                                                         new.strip()[:70]), flush=True)
        with ThreadPoolExecutor(len(trees)) as ex:
            list(ex.map(lane, range(len(trees))))
    finally:
        for t in trees:
            M.shutil.rmtree(t, ignore_errors=True)

    byn = {m[0]: m for m in pool}
    ran = [n for n in sorted(results) if results[n][0] != "no build"]
    surv = [n for n in ran if results[n][0] == "survived"]
    killedby = {}
    for n in ran:
        if results[n][0] == "killed":
            killedby[results[n][1]] = killedby.get(results[n][1], 0) + 1
    print("\n%d mutants run (%d did not compile): %d killed (%s), %d survived" % (
        len(ran), len(results) - len(ran), len(ran) - len(surv),
        ", ".join("%s %d" % (b, killedby[b]) for b in layers if b in killedby), len(surv)))
    for n in surv:
        _, kind, rel, ln, old, new = byn[n]
        print("SURVIVED %d %s %s:%d\n  - %s\n  + %s" % (n, kind, rel, ln, old.strip(), new.strip()))
    return 1 if surv else 0


if __name__ == "__main__":
    sys.exit(main())
