#!/usr/bin/python3
"""The mutation check: does `pytest props/` (or the simulator, or the C tests) catch a broken core?

Each mutant is one single-point breakage of the core's semantics (a
skipped wipe, a budget off by one, a forgotten revoke, a wrong error
code, ...).  For each, one at a time, this copies the tree to a scratch
directory (the real tree is never touched, so others may build and test
in it meanwhile), applies the mutant, rebuilds, runs `pytest props/`
with the ci profile, and says whether the suite killed it (failed) or
it survived (passed).  Shrinking is turned off (PEBBLE_PROPS_NOSHRINK):
the examples tried are the ci profile's, only the search for the
smallest failing one is skipped.  An unmutated baseline runs first and must pass.

    /usr/bin/python3 props/mutants.py            every mutant, the whole props/ suite
    /usr/bin/python3 props/mutants.py --list     what the mutants are
    /usr/bin/python3 props/mutants.py -k A,B     only mutants whose names contain A or B
    /usr/bin/python3 props/mutants.py --tests 'props/test_api.py props/test_threads.py'
                                                 run only those tests against each mutant
    /usr/bin/python3 props/mutants.py -j 2       two mutants at a time
    /usr/bin/python3 props/mutants.py --by sim   the simulator's campaign alone faces each mutant: every
                                                 committed trace, then sweeps of 200 seeds x 20,000 events
                                                 of the named profiles (every fault) and of swarm
    /usr/bin/python3 props/mutants.py --by c     the C tests alone (build/pebbletest)
    /usr/bin/python3 props/mutants.py --by asan  the C tests built with ASan and UBSan (build/asan/pebbletest)

Seven mutants (INTERLEAVING) break what only a second thread can see: four act between two of one
call's locks, three break the hosts' biased lock (core/host/lock.c), which one thread never revokes; --by sim and --by props list them as out of reach and do not run them.
One (LAYOUT) keeps an entry of a large audit ring past its time, which seen through queries is an
entry such a ring may keep: out of reach of those two as well; the C tests lay the blocks out and
kill it.

Exit status 0 if every mutant was killed, 1 if any survived, 2 on a
set-up failure (the baseline failed, a mutant no longer applies or
does not build).
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (name, file, exact text, replacement, what it breaks)
MUTANTS = [
    ("skip-auto-wipe", "core/alloc.c",
     "if(wipe || a->rd.wipe_on_free)", "if(wipe)",
     "free with auto_wipe on leaves the bytes unwiped"),
    ("budget-off-by-one", "core/alloc.c",
     "else if(size > a->budget.limit - a->budget.used)",
     "else if(size > a->budget.limit - a->budget.used + 1)",
     "alloc may pass the budget by one byte"),
    ("forget-revoke", "core/share.c",
     "procpid(target), g->perm, 0);\n\tdropgrant(a, g);", "procpid(target), g->perm, 0);",
     "revoke logs the revoke but keeps the grant"),
    ("revoke-wrong-code", "core/share.c",
     "\tif(g == nil){\n\t\twunlock(&a->rd.lock);\n\t\treturn PEBBLE_ERR_NOTFOUND;",
     "\tif(g == nil){\n\t\twunlock(&a->rd.lock);\n\t\treturn PEBBLE_ERR_PERM;",
     "revoking a grant that does not exist is PERM, not NOTFOUND"),
    ("wipe-without-write", "core/alloc.c",
     "(g->perm & PEBBLE_WRITE) == 0", "(g->perm & PEBBLE_READ) == 0",
     "a grantee holding READ but not WRITE may wipe"),
    ("drop-partial-free-audit", "core/alloc.c",
     "auditlog(s, i, PEBBLE_AUDIT_PARTIAL_FREE, p, n, 0, 0, 0);", ";",
     "a partial free is not audited"),
    ("share-while-disabled", "core/share.c",
     "\tif(!pebble_secure_enabled){\n\t\t/* a refusal naming a live allocation: DENIED in its log */",
     "\tif(0){",
     "share works with the subsystem switched off"),
    ("share-across-users", "core/share.c",
     "(!proceve(source) && !sameuser(source, target))", "(!proceve(target) && !sameuser(source, target))",
     "anyone may share with eve's procs; eve may not share with others"),
    ("inherit-past-budget", "core/proc.c",
     "if(r->size > pa->budget.limit - pa->budget.used)", "if(0)",
     "the parent inherits past its budget"),
    ("ignore-rfnowait", "core/proc.c",
     "pp = procnowait(p) ? nil : procparent(p);", "pp = procparent(p);",
     "a child made with RFNOWAIT still leaves its allocations to its parent"),
    ("check-range-off-by-one", "core/share.c",
     "if(len > end - v){", "if(len > end - v + 1){",
     "an access may run one byte past the allocation"),
    ("reuse-dirty-unzeroed", "core/slab.c",
     "if(r->word & Fdirty){", "if(0 && (r->word & Fdirty)){",
     "a slot freed with auto_wipe off is handed out again unzeroed"),
    ("child-ignores-auto-wipe", "core/conf.c",
     "a->rd.wipe_on_free = parent->rd.wipe_on_free;", "a->rd.wipe_on_free = 1;",
     "a child does not take its parent's auto_wipe"),
    ("decrease-below-usage", "core/area.c",
     "if(a->budget.limit - v < a->budget.used)", "if(a->budget.limit - v + 1 < a->budget.used)",
     "budget_decrease may go one byte below usage"),
    ("wipe-and-free-any-size", "core/alloc.c",
     "(op == Owipefree && n != 0 && n != r->size)", "(op == Owipefree && n != 0 && n > r->size)",
     "wipe_and_free accepts a size that is neither 0 nor the allocation's"),
    ("info-grantee-sees-protection", "core/query.c",
     "have = g->perm;", "have = RPERM(r);",
     "info gives a grantee the allocation's protection, not its grant"),
    ("wiped-not-summed", "core/alloc.c",
     "a->budget.wiped += n;", "a->budget.wiped = n;",
     "total_wiped is overwritten (and may decrease)"),
    ("audit-for-anyone", "core/audit.c",
     "if(a != c && !proceve(p)){", "if(a != c && proceve(p)){",
     "anyone but eve may read another's audit log"),
    ("alloc-while-disabled", "core/alloc.c",
     "\tif(!pebble_secure_enabled)\n\t\treturn PEBBLE_ERR_PERM;\n\tif((a = procarea(p)) == nil)\n\t\treturn PEBBLE_ERR_NOTFOUND;\n\twlock",
     "\tif((a = procarea(p)) == nil)\n\t\treturn PEBBLE_ERR_NOTFOUND;\n\twlock",
     "alloc works with the subsystem switched off"),
    ("peak-lags", "core/fns.h",
     "if(a->budget.used > a->budget.peak)", "if(a->budget.used > a->budget.peak + 1)",
     "peak_usage misses a new peak one byte above the old"),
    ("grantee-frees", "core/alloc.c",
     "if(op != Owipe || g == nil", "if((op != Owipe && op != Ofree) || g == nil",
     "a grantee may free (and free_size) the owner's allocation"),
    ("refusal-changes-stat", "core/alloc.c",
     "\tif(n > r->size || (op == Owipefree && n != 0 && n != r->size)){\n",
     "\tif(n > r->size || (op == Owipefree && n != 0 && n != r->size)){\n\t\ta->budget.wiped++;\n",
     "a refused wipe or free still counts a wiped byte"),
    # DESIGN.md as sharpened in December (issue 8)
    ("partial-free-keeps-pages", "core/alloc.c",
     "k = s->nslot == 1 ? (r->head + n) >> PGSHIFT : 0;", "k = 0;",
     "a partial free gives the budget back but keeps the freed front's whole pages"),
    ("refused-alloc-reclaims", "core/slab.c",
     "if(s == nil && reclaimfits(npage, a)){", "if(s == nil){",
     "an alloc the heap refuses first takes back cached runs: the system statistics change"),
    ("index-after-dirty-slot", "core/slab.c",
     "\t\tif(s != nil){\n\t\t\tif(audit && auditindex(s) < 0)\n\t\t\t\treturn nil;\n",
     "\t\tif(s != nil){\n\t\t\tif(audit && auditindex(s) < 0){\n\t\t\t\ti = takeslot(a, s);\n"
     "\t\t\t\tzero((void*)slotaddr(s, i), slotsize(s));\n\t\t\t\ts->rec[i].word = 0;\n"
     "\t\t\t\ts->freemap[i/64] |= 1ULL << (i%64);\n\t\t\t\ts->nfree++;\n\t\t\t\treturn nil;\n\t\t\t}\n",
     "an alloc that fails on its audit index has already zeroed a dirty slot"),
    ("largest-free-ignores-cache", "core/heap.c",
     "if(ATOMLOAD(&s->empty))\n\t\t\t\trow += n;", "if(0)\n\t\t\t\trow += n;",
     "largest_free leaves out the runs areas keep cached"),
    ("exit-leaves-deferred", "core/slab.c",
     "\tif(a->budget.deferred == 0)\n\t\treturn;\n\tfor(s = a->spans;", "\tif(1)\n\t\treturn;\n\tfor(s = a->spans;",
     "exit leaves bytes freed with auto_wipe off in plaintext, uncounted"),
    ("release-keeps-dirty", "core/slab.c",
     "\tfor(i = 0; i < s->nslot; i++)\n\t\tsettleslot(s, i);\n\tif(s->empty)",
     "\tfor(i = s->nslot; i < s->nslot; i++)\n\t\tsettleslot(s, i);\n\tif(s->empty)",
     "a run given back to the heap keeps the unwiped bytes of the area that owned it"),
    ("check-tells-extent", "core/share.c",
     "if(a != c && (!testmapbit(a, c->rd.base.slot) || findgrant(s, i, c) == nil)){", "if(0){",
     "the access check tells a proc with no grant where an allocation ends"),
    ("start-unlocked", "core/heap.c",
     "if(!pb->locked && !pb->conf.unlocked){", "if(0){",
     "the core starts with the arena unlocked though nobody chose it"),
    # the kinds the simulator used to miss (issue 10): boundaries, SIZE_MAX, settings, pinning, audit
    ("budget-increase-wraps", "core/area.c",
     "if(v > pebble_secure_max_budget || a->budget.limit > pebble_secure_max_budget - v)",
     "if(a->budget.limit + v > pebble_secure_max_budget)",
     "budget_increase near SIZE_MAX wraps around instead of BUDGET"),
    ("budget-set-exact-max-refused", "core/area.c",
     "\tif(v > pebble_secure_max_budget)\n\t\treturn PEBBLE_ERR_BUDGET;\n\tsetlimit(a, v);",
     "\tif(v >= pebble_secure_max_budget)\n\t\treturn PEBBLE_ERR_BUDGET;\n\tsetlimit(a, v);",
     "budget_set to exactly the maximum is BUDGET"),
    ("decrease-exact-budget-invalid", "core/area.c",
     "\tif(v > a->budget.limit)\n\t\treturn PEBBLE_ERR_INVALID;",
     "\tif(v >= a->budget.limit)\n\t\treturn PEBBLE_ERR_INVALID;",
     "budget_decrease by exactly the budget is INVALID"),
    ("conf-size-trailing-junk", "core/conf.c",
     "if(*s != 0 || n > (usize)-1 / mul)", "if(n > (usize)-1 / mul)",
     "a budget setting with junk after it (\"1x\", \"1 \") is accepted"),
    ("conf-size-overflow", "core/conf.c",
     "if(*s != 0 || n > (usize)-1 / mul)", "if(*s != 0)",
     "a budget setting that overflows with its suffix wraps instead of INVALID"),
    ("conf-bool-prefix", "core/conf.c",
     "if(s[0] == '1' && s[1] == 0)", "if(s[0] == '1')",
     "a 0/1 setting accepts \"1x\", \"10\", \"1 \""),
    ("pageout-unencrypted", "core/pager.c",
     "alive(a->state) && a->rd.encrypted && spanarea(s) == a", "alive(a->state) && spanarea(s) == a",
     "the pager pages out areas with encryption off (they must be pinned)"),
    ("audit-dropped-off-by-one", "core/auditring.c",
     "ATOMSTORE(&a->dropped, a->dropped + l->blk);", "ATOMSTORE(&a->dropped, a->dropped + l->blk + 1);",
     "the audit dropped count is one too many once the ring wraps"),
    ("inherit-exact-fit-refused", "core/proc.c",
     "if(r->size > pa->budget.limit - pa->budget.used)", "if(r->size >= pa->budget.limit - pa->budget.used)",
     "an allocation that exactly fits the parent's remaining budget is not inherited"),
    ("alloc-exact-budget-refused", "core/alloc.c",
     "else if(size > a->budget.limit - a->budget.used)", "else if(size >= a->budget.limit - a->budget.used)",
     "an allocation of exactly the remaining budget is BUDGET"),
    ("check-exact-end-refused", "core/share.c",
     "if(len > end - v){", "if(len >= end - v){",
     "an access running exactly to the end of an allocation is NOTFOUND"),
    ("ids-repeat", "core/area.c",
     "return a->idnext++;", "return a->idnext;",
     "a proc's allocations share one id"),
    ("inherit-recycled-parent", "core/proc.c",
     "mine(pa, pp) && pa->rd.base.pid == a->ppid ? pa : nil;", "mine(pa, pp) ? pa : nil;",
     "a new process given the exited parent's Proc structure inherits from the orphan"),
    ("exit-skips-first-slots", "core/proc.c",
     "for(m = takenslots(s, w, nslot); m != 0; m &= m-1){", "for(m = takenslots(s, w, nslot) & ~1ULL; m != 0; m &= m-1){",
     "exit leaves the allocation in the first slot of every 64 of a run unfreed and unwiped"),
    ("share-off-logs-nothing", "core/share.c",
     "\t\t\tauditdenied(s, i, source, PEBBLE_ERR_PERM);\n\t\t\trunlock(&a->rd.lock);", "\t\t\trunlock(&a->rd.lock);",
     "a share refused because the subsystem is off logs no DENIED on the allocation it names"),
    ("getconf-budget-stale", "core/conf.c",
     "\tATOMSTORE(&a->budgetcur, n);", "\tif(a->budgetstr[a->budgetcur][0] == 0)\n\t\tATOMSTORE(&a->budgetcur, n);",
     "getconf of the budget keeps its first string after the budget changes"),
    ("share-nomem-logs-nothing", "core/share.c",
     "\t\t\tauditdenied(s, i, source, PEBBLE_ERR_NOMEM);\n", "",
     "a share refused for want of grant metadata logs no DENIED on the allocation it names"),
    ("attach-reads-recycled-parent", "core/proc.c",
     "\ta->ppid = ppid;", "\ta->ppid = pp != nil ? procpid(pp) : ppid;",
     "a child whose parent exits during its attach is recorded as the child of the parent's Proc's next process"),
    ("exit-gone-too-soon", "core/proc.c",
     "\tsetstate(a, Aclosing);\n\twunlock(&a->rd.lock);", "\tsetstate(a, Adying);\n\twunlock(&a->rd.lock);",
     "an exiting proc is NOTFOUND to other calls before its memory, grants and inheritance have changed"),
    ("exit-owner-read-once", "core/proc.c",
     "}while(ok && ATOMLOAD(&g->owner) != o);", "}while(0);",
     "an exit's lock set misses the owner a held grant passed to while the set was taken"),
    ("stats-area-at-a-time", "core/pebble.c",
     "\t\tif(on)\n\t\t\trlock(&slotarea(i)->rd.lock);\n\t\telse\n\t\t\trunlock(&slotarea(i)->rd.lock);",
     "\t\tif(on){\n\t\t\trlock(&slotarea(i)->rd.lock);\n\t\t\trunlock(&slotarea(i)->rd.lock);\n\t\t}",
     "the system statistics look at each area's lock and let it go before reading: a thread's alloc and later free between two looks are both missed"),
    ("wipe-writes-garbage", "core/wipe.c",
     "\texplicit_bzero(p, n);", "\tmemset(p, 0xA5, n);",
     "a wipe writes a pattern instead of zeros: bytes nobody wrote come back nonzero"),
    ("zero-writes-garbage", "core/wipe.c",
     "\tmemset(p, 0, n);", "\tmemset(p, 1, n);",
     "a dirty slot handed out again is filled with ones, not zeros"),
    ("pagein-wrong-nonce", "core/pager.c",
     "chacha20(p, p, PGSIZE, a->key, pb->pager.nonce[pg], 0);", "chacha20(p, p, PGSIZE, a->key, pb->pager.nonce[pg]+1, 0);",
     "a page back from swap is decrypted with the wrong nonce: every byte of it is garbage"),
    ("lock-revoke-no-wait", "core/host/lock.c",
     "\tfor(n = 0; __atomic_load_n(&b->hold, __ATOMIC_ACQUIRE) == l; n++){",
     "\tfor(n = 0; 0 && __atomic_load_n(&b->hold, __ATOMIC_ACQUIRE) == l; n++){",
     "a thread that takes a biased lock's word goes in without waiting for the biased thread to leave"),
    ("lock-second-reader-in", "core/host/lock.c",
     "\t\tif(v == Revoking){\n\t\t\trelax(n);\n\t\t\tcontinue;\n\t\t}",
     "\t\tif(v == Revoking)\n\t\t\treturn 1;",
     "a second reader takes another reader's revoking of a bias for its end, and goes in beside the biased thread"),
    ("audit-gone-keeps-old", "core/audit.c",
     "\t__atomic_store_n(&e->seq, seq+1, __ATOMIC_RELAXED);\n\tadvance(a, e, seq, n);\n}\n\n/* a refusal", "\tadvance(a, e, seq, n);\n}\n\n/* a refusal",
     "a free's entry in a large ring's block leaves the place's older entry readable"),
    ("audit-gone-small-keeps-old", "core/audit.c",
     "\t__atomic_store_n(&e->seq, seq+1, __ATOMIC_RELAXED);\n\tadvance(a, e, seq, n);\n\tringdone();", "\tadvance(a, e, seq, n);\n\tringdone();",
     "a free's entry in a small ring (or a block's first) leaves the place's older entry readable"),
    ("lock-try-clears-bias", "core/host/lock.c",
     "\t\tif(!wait && __atomic_load_n(&b->hold, __ATOMIC_ACQUIRE) == l)\n\t\t\treturn 0;",
     "\t\tif(!wait && __atomic_load_n(&b->hold, __ATOMIC_ACQUIRE) == l){\n\t\t\t__atomic_store_n(&l->bias, nil, __ATOMIC_RELEASE);\n\t\t\treturn 0;\n\t\t}",
     "a failed try on a biased lock clears the bias with the biased thread still in: the next taker of the word goes in beside it"),
]

# Mutants that only an interleaving inside one call shows: a second thread acting between two
# of the call's locks.  The simulator is one thread and makes each call whole, and the property
# tests' threads meet at random; the C tests stop the call at a chosen lock (detlockhook) and
# pebblestress runs real threads with an exit observer.  For the sim and props checks these are
# out of reach and are reported as such, not as survivors.  So are the hosts' biased-lock
# mutants: one thread never has its bias taken away; the C tests' lock test (core/test/lock.c)
# revokes from a second thread at chosen points.
INTERLEAVING = {"attach-reads-recycled-parent", "exit-gone-too-soon", "exit-owner-read-once", "stats-area-at-a-time",
                "lock-revoke-no-wait", "lock-second-reader-in", "lock-try-clears-bias"}

# Mutants that only a test knowing the large ring's block layout shows.  A ring of at least
# PEBBLE_AUDITEXACT entries keeps at least its newest auditsize entries and may keep more
# (docs/decisions.md), so an entry kept longer than it should be is, seen through queries, one
# the ring was allowed to keep; the C tests (core/test/audit.c, auditgone) lay out the blocks so
# that an entry's place is written over by a free's, and look.  Reported as out of reach of the
# sim and props checks, not as survivors.
LAYOUT = {"audit-gone-keeps-old"}

# what each check runs in a scratch tree: build targets, then a command (stops at the first failure)
SIMCAMPAIGN = ("for t in traces/*.trace; do build/pebblesim replay $t > /dev/null 2>&1 || { echo \"E replay $t fails\"; exit 1; }; done; "
               "build/pebblesim sweep --seeds 1-200 --events 20000 --faults all > s.out 2>&1 || { grep -A2 'CHECK\\|FAIL' s.out | head -3 | sed 's/^/E /'; exit 1; }; "
               "build/pebblesim sweep --seeds 1-200 --workload swarm --events 20000 > w.out 2>&1 || { grep -A2 'CHECK\\|FAIL' w.out | head -3 | sed 's/^/E /'; exit 1; }")
CHECKS = {
    "props": (["build/libpebble.so", "build/props/pebble_cdef.h", "build/pebblemlock"], None),
    "sim": (["build/pebblesim"], SIMCAMPAIGN),
    "c": (["build/pebbletest"], "build/pebbletest > t.out 2>&1 || { grep -m3 -i 'fail' t.out | sed 's/^/E Error: /'; exit 1; }"),
    "asan": (["build/asan/pebbletest"], "build/asan/pebbletest > t.out 2>&1 || { grep -m3 -i 'fail\\|ERROR: \\|runtime error' t.out | sed 's/^/E Error: /'; exit 1; }"),
}
BY = "props"


def scratch_copy():
    dst = tempfile.mkdtemp(prefix="pebble-mutants-")
    shutil.copytree(ROOT, dst, dirs_exist_ok=True, symlinks=True,
                    ignore=shutil.ignore_patterns("build", ".git", ".hypothesis", "__pycache__",
                                                  ".pytest_cache"))
    return dst


def run(cmd, cwd, timeout=900):
    """Run cmd in cwd; on a timeout kill it with everything it started (its process group:
    a hung test under sh -c would otherwise keep spinning)."""
    env = dict(os.environ, HYPOTHESIS_PROFILE="ci", PEBBLE_PROPS_NOSHRINK="1")
    pr = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, start_new_session=True)
    try:
        out, _ = pr.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(pr.pid, signal.SIGKILL)
        pr.communicate()
        return None, "timed out after %ds" % timeout
    return pr.returncode, out


def suite(tree, tests):
    """Build, then run the check (BY): 'passed', 'failed', or 'no build'."""
    targets, cmd = CHECKS[BY]
    rc, out = run(["ninja", *targets], tree)
    if rc != 0:
        return "no build", out
    if cmd is not None:
        if tests and tests[0] == "--collect-only":
            return "passed", ""
        rc, out = run(["sh", "-c", cmd], tree)
        return ("passed" if rc == 0 else "failed"), out
    rc, out = run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests], tree)
    return ("passed" if rc == 0 else "failed"), out


def why(out):
    """The first error line of a failed test run: what killed the mutant."""
    for line in out.splitlines():
        if line.startswith("E ") and "Error" in line:
            return line[1:].strip()[:100]
    return "(see the test output)"


def try_mutant(tree, mutant, tests):
    name, path, old, new, _ = mutant
    f = os.path.join(tree, path)
    with open(f) as fh:
        text = fh.read()
    if text.count(old) != 1:
        return "does not apply", "%s: the text occurs %d times" % (path, text.count(old))
    try:
        with open(f, "w") as fh:
            fh.write(text.replace(old, new))
        return suite(tree, tests)
    finally:
        with open(f, "w") as fh:
            fh.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--list", action="store_true")
    ap.add_argument("-k", default="")
    ap.add_argument("-j", type=int, default=1)
    ap.add_argument("--tests", default="props/")
    ap.add_argument("-v", action="store_true", help="print the test output of survivors and set-up failures")
    ap.add_argument("--by", choices=sorted(CHECKS), default="props",
                    help="which check faces the mutants: props (pytest props/), sim (the simulator's campaign), c (the C tests), asan (them under ASan+UBSan)")
    args = ap.parse_args()
    global BY
    BY = args.by
    mutants = [m for m in MUTANTS if any(k in m[0] for k in args.k.split(","))]
    if args.list:
        for name, path, _, _, what in mutants:
            print("%-30s %-14s %s" % (name, path, what))
        return 0
    tests = args.tests.split()
    if BY != "c":
        for m in [m for m in mutants if m[0] in INTERLEAVING]:
            print("%-30s %-8s %4s   %s (needs a second thread at a chosen point: the C tests reach it)" % (m[0], "OUT OF REACH", "", m[4]))
        mutants = [m for m in mutants if m[0] not in INTERLEAVING]
        for m in [m for m in mutants if m[0] in LAYOUT]:
            print("%-30s %-8s %4s   %s (needs the large audit ring's block layout: the C tests reach it)" % (m[0], "OUT OF REACH", "", m[4]))
        mutants = [m for m in mutants if m[0] not in LAYOUT]
    trees = [scratch_copy() for _ in range(max(1, args.j))]
    try:
        t0 = time.time()
        verdict, out = suite(trees[0], tests)
        print("baseline (no mutant, --by %s): %s in %.0fs" % (BY, verdict, time.time() - t0), flush=True)
        if verdict != "passed":
            print(out)
            return 2
        for t in trees[1:]:
            suite(t, ["--collect-only", "-q", *tests])      # build the other copies

        def one(i):
            tree = trees[i % len(trees)]
            t = time.time()
            verdict, out = try_mutant(tree, mutants[i], tests)
            return verdict, out, time.time() - t

        results = {}
        with ThreadPoolExecutor(len(trees)) as pool:
            # one tree per worker: mutant i runs in tree i % j, in turn
            lanes = [list(range(k, len(mutants), len(trees))) for k in range(len(trees))]
            def lane(ix):
                for i in ix:
                    results[i] = one(i)
                    v, out, secs = results[i]
                    print("%-30s %-8s %4.0fs  %s" % (mutants[i][0], {"failed": "killed", "passed": "SURVIVED"}.get(v, v.upper()),
                                                   secs, mutants[i][4]), flush=True)
                    if v == "failed":
                        print("%38s by: %s" % ("", why(out)), flush=True)
            list(pool.map(lane, lanes))
        survivors = [mutants[i][0] for i in sorted(results) if results[i][0] == "passed"]
        broken = [mutants[i][0] for i in sorted(results) if results[i][0] not in ("passed", "failed")]
        if args.v:
            for i in sorted(results):
                if results[i][0] != "failed":
                    print("==== %s\n%s" % (mutants[i][0], results[i][1][-4000:]))
        print("%d mutants: %d killed, %d survived%s%s" % (
            len(mutants), len(mutants) - len(survivors) - len(broken), len(survivors),
            (": " + " ".join(survivors)) if survivors else "",
            ("; set-up failures: " + " ".join(broken)) if broken else ""))
        return 2 if broken else 1 if survivors else 0
    finally:
        for t in trees:
            shutil.rmtree(t, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
