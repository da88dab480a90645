"""tools/sweep against a real Dask cluster on 127.0.0.1: a dask-scheduler and two
dask-worker processes on free loopback ports, stopped at the end whatever happens.

    /usr/bin/python3 -m pytest -q tools/test_sweep.py      (tools/test runs it; about a minute)

Seeds are small (--procs 16 --heap 1m --events 500) so a few hundred run in seconds; the
digest they must give is computed here by `pebblesim sweep`, never written down.
"""

import importlib.machinery
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SWEEP = os.path.join(ROOT, "tools", "sweep")
SIM = os.path.join(ROOT, "build", "pebblesim")
OPTS = ["--procs", "16", "--heap", "1m", "--events", "500"]
SEEDS = (1, 300)


def loadsweep():
    loader = importlib.machinery.SourceFileLoader("sweeptool", SWEEP)
    spec = importlib.util.spec_from_loader("sweeptool", loader)
    m = importlib.util.module_from_spec(spec)
    loader.exec_module(m)
    return m


sweeptool = loadsweep()


def freeport():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(argv, env=None):
    # its own process group, so stopping it also stops the pebblesim it runs
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            env=dict(os.environ, **(env or {})))


def stop(p):
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    p.wait()


class Cluster:
    def __init__(self):
        self.procs = []
        self.workers = {}
        self.url = "tcp://127.0.0.1:%d" % freeport()
        self.procs.append(start(["dask-scheduler", "--host", "127.0.0.1", "--port", self.url.rsplit(":", 1)[1],
                                 "--no-dashboard", "--idle-timeout", "300"]))

    def worker(self, name, env=None):
        p = start(["dask-worker", self.url, "--host", "127.0.0.1", "--nthreads", "1", "--no-nanny", "--no-dashboard",
                   "--name", name, "--death-timeout", "30"], env)
        self.procs.append(p)
        self.workers[name] = p
        return p

    def wait(self, n):
        from distributed import Client
        with Client(self.url, timeout=60) as c:
            c.wait_for_workers(n, timeout=60)
            return {w["name"]: a for a, w in c.scheduler_info()["workers"].items()}

    def kill(self, name):
        stop(self.workers.pop(name))

    def close(self):
        for p in reversed(self.procs):
            stop(p)


@pytest.fixture(scope="module")
def cluster():
    c = Cluster()
    try:
        c.worker("w1")
        c.worker("w2")
        c.wait(2)
        yield c
    finally:
        c.close()


@pytest.fixture(scope="module")
def sequential():
    p = subprocess.run([SIM, "sweep", "--seeds", "%d-%d" % SEEDS] + OPTS + ["--json"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def sweep(args, **kw):
    return subprocess.run([SWEEP] + args, capture_output=True, text=True, timeout=300, **kw)


def summary(out):
    with open(os.path.join(out, "summary.json")) as f:
        return json.load(f)


def lines_of(out, seed):
    return [r for r in lines(out) if r["seed"] == seed][0]


def lines(out):
    rs = []
    with open(os.path.join(out, "seeds.jsonl")) as f:
        for line in f:
            try:
                rs.append(json.loads(line))
            except ValueError:
                pass
    return rs


def waitlines(out, n, proc):
    path = os.path.join(out, "seeds.jsonl")
    t = time.monotonic() + 120
    while time.monotonic() < t and proc.poll() is None:
        if os.path.exists(path) and len(lines(out)) >= n:
            return
        time.sleep(0.05)
    pytest.fail("the sweep never wrote %d seeds (exit %s)" % (n, proc.poll()))


def test_combiner_sums_any_coverage_field():
    a = {"seed": 1, "events": 10, "exit": 0, "digest": "0000000000000001", "peak": 5, "ops": {"alloc": 3},
         "matrix": {"alloc": {"OK": 2, "NOMEM": 1}}, "worker": "x", "wall": 1.0}
    b = {"seed": 2, "events": 5, "exit": 4, "digest": "0000000000000002", "peak": 9, "ops": {"alloc": 1, "free": 2, "exit": 1},
         "matrix": {"alloc": {"OK": 1}, "free": {"PERM": 4}}, "worker": "y", "wall": 0.5}
    s = sweeptool.combine([b, a])
    assert s["events"] == 15 and s["counts"]["peak"] == 9 and s["failed"] == [2]
    assert s["counts"]["ops"] == {"alloc": 4, "free": 2, "exit": 1}
    assert s["counts"]["matrix"] == {"alloc": {"OK": 3, "NOMEM": 1}, "free": {"PERM": 4}}
    assert s["digest"] == sweeptool.combinedigest(["0000000000000001", "0000000000000002"])
    assert s["digest"] != sweeptool.combinedigest(["0000000000000002", "0000000000000001"])
    assert "".join(sweeptool.fmtmatrix("matrix", s["counts"]["matrix"])).count("PERM") == 1


def test_digest_equals_sequential(cluster, sequential, tmp_path):
    out = str(tmp_path / "a")
    p = sweep(["--scheduler", cluster.url, "--seeds", "%d-%d" % SEEDS, "--out", out] + OPTS)
    assert p.returncode == 0, p.stderr
    s = summary(out)
    assert s["seeds"] == SEEDS[1] - SEEDS[0] + 1 and s["contiguous"] and not s["failed"]
    assert s["digest"] == sequential["digest"]
    assert s["events"] == sequential["events"]
    assert s["counts"]["ops"] == sequential["ops"] and s["counts"]["results"] == sequential["results"]
    assert len(s["this_run"]["workers"]) == 2, "both workers ran seeds"
    assert "digest %s" % s["digest"] in p.stdout
    assert sorted(r["seed"] for r in lines(out)) == list(range(SEEDS[0], SEEDS[1] + 1))


def test_worker_killed_loses_no_seed(cluster, sequential, tmp_path):
    out = str(tmp_path / "k")
    names = cluster.wait(2)
    p = subprocess.Popen([SWEEP, "--scheduler", cluster.url, "--seeds", "%d-%d" % SEEDS, "--out", out, "--chunk", "4"] + OPTS,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        waitlines(out, 40, p)
        cluster.kill("w2")
        so, se = p.communicate(timeout=240)
    finally:
        stop(p)
        cluster.worker("w2b")
    assert p.returncode == 0, se
    s = summary(out)
    assert s["digest"] == sequential["digest"] and s["seeds"] == SEEDS[1] - SEEDS[0] + 1
    rs = lines(out)
    assert sorted(r["seed"] for r in rs) == list(range(SEEDS[0], SEEDS[1] + 1)), "every seed exactly once"
    assert any(r["worker"] == names["w2"] for r in rs), "the killed worker had run seeds before"
    assert any(r["worker"] == names["w1"] for r in rs[-20:]), "the survivor finished the sweep"


def test_resume_runs_only_what_was_left(cluster, sequential, tmp_path):
    out = str(tmp_path / "r")
    cluster.wait(2)
    p = subprocess.Popen([SWEEP, "--scheduler", cluster.url, "--seeds", "%d-%d" % SEEDS, "--out", out, "--chunk", "4"] + OPTS,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        waitlines(out, 60, p)
    finally:
        stop(p)
    done = {r["seed"] for r in lines(out)}
    assert 60 <= len(done) < SEEDS[1] - SEEDS[0] + 1, "the client was killed mid-way"
    r = sweep(["--scheduler", cluster.url, "--resume", out])
    assert r.returncode == 0, r.stderr
    s = summary(out)
    assert s["this_run"]["seeds"] == SEEDS[1] - SEEDS[0] + 1 - len(done)
    assert s["digest"] == sequential["digest"] and s["seeds"] == SEEDS[1] - SEEDS[0] + 1
    assert sorted(x["seed"] for x in lines(out)) == list(range(SEEDS[0], SEEDS[1] + 1))
    again = sweep(["--scheduler", cluster.url, "--resume", out])
    assert again.returncode == 0 and summary(out)["this_run"]["seeds"] == 0


def test_worker_with_another_build_is_refused(cluster, tmp_path):
    other = str(tmp_path / "pebblesim")
    shutil.copy(SIM, other)
    with open(other, "ab") as f:
        f.write(b"another build")
    cluster.worker("stale", {"PEBBLESIM": other})
    names = cluster.wait(3)
    try:
        out = str(tmp_path / "b")
        p = sweep(["--scheduler", cluster.url, "--seeds", "1-20", "--out", out] + OPTS)
        assert p.returncode == 0, p.stderr
        assert "worker %s refused: %s has build id" % (names["stale"], other) in p.stderr
        assert "rebuild it" in p.stderr
        assert not any(r["worker"] == names["stale"] for r in lines(out))
        assert names["stale"] in summary(out)["refused"]
    finally:
        cluster.kill("stale")


def test_planted_bug_found_and_shrunk(cluster, tmp_path):
    inj = subprocess.run(["sh", "sim/injectbug.sh"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert inj.returncode == 0, inj.stdout + inj.stderr
    mut = os.path.join(ROOT, "build", "mut", "pebblesim")
    out = str(tmp_path / "bug")
    # small runs (4 MiB heap, 1,000 events): the shrinker replays a candidate per step, and a big
    # heap or a long trace makes a step slow; most seeds here shrink in about ten seconds, and one
    # that takes longer than the bound is stopped, which the failure's folder must then say
    p = sweep(["--scheduler", cluster.url, "--pebblesim", mut, "--seeds", "2-4", "--heap", "4m", "--events", "1000",
               "--shrink-timeout", "60", "--out", out])
    assert p.returncode == 4, p.stdout + p.stderr
    s = summary(out)
    assert s["failed"], "the checker fired on the mutant"
    assert len(lines(out)) == 3, "the sweep kept going past the failures"
    shrunk = 0
    for seed in s["failed"]:
        d = os.path.join(out, "failures", "seed-%d" % seed)
        with open(os.path.join(d, "reproduce")) as f:
            rep = f.read()
        assert "build/mut/pebblesim run --seed %d" % seed in rep
        report = open(os.path.join(d, "report.txt")).read()
        # the mutant's stale grant is caught by a check, or it corrupts the core's metadata first
        # and the core crashes: pebblesim reports a crash as it reports a violation, with a trace
        if lines_of(out, seed)["exit"] != 4:
            assert "CRASHED seed %d event" % seed in report
        else:
            assert "CHECK FAILED seed %d" % seed in report
        assert "FAILED seed %d" % seed in p.stdout
        full = os.path.join(d, "seed-%d.trace" % seed)
        small = os.path.join(d, "seed-%d.min.trace" % seed)
        nfull = sum(1 for l in open(full) if l[:1].isdigit())
        if not os.path.exists(small):
            assert "was stopped" in open(os.path.join(d, "shrink.txt")).read()
            continue
        nsmall = sum(1 for l in open(small) if l[:1].isdigit())
        assert 0 < nsmall < nfull, "the trace was shrunk"
        r = subprocess.run([mut, "replay", small], capture_output=True, text=True)
        assert r.returncode == lines_of(out, seed)["exit"], "the shrunk trace still fails on the mutant, the same way"
        shrunk += 1
    assert shrunk >= 1, "a shrunk trace was written"
