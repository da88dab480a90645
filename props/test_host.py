"""The POSIX host's promise (DESIGN.md, Encryption): the arena is locked in
RAM or the subsystem does not start, unless the caller chose to run
unlocked, and then the statistics say so.

build/pebblemlock runs on the real POSIX host under a 64 KiB
RLIMIT_MEMLOCK (core/test/mlock.sh drops root to nobody for that, since
root is exempt from the limit)."""

import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_refuses_to_start_unlocked_unless_chosen():
    subprocess.run(["ninja", "build/pebblemlock"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    done = subprocess.run(["sh", "core/test/mlock.sh", "build/pebblemlock"], cwd=ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert "SKIPPED" not in done.stdout, done.stdout
    assert done.returncode == 0, done.stdout
    assert "1 passed, 0 failed" in done.stdout, done.stdout
