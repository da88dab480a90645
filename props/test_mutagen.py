"""The generated-mutant tool itself (props/mutagen.py): what it makes, and that it leaves no trace."""

import os
import shutil
import tempfile

import mutagen


def test_every_kind_is_made_and_each_changes_one_line():
    muts = mutagen.generate()
    assert muts == mutagen.generate(), "generation must not depend on anything but the tree"
    assert [m[0] for m in muts] == list(range(1, len(muts) + 1))
    assert {m[1] for m in muts} == {"ROR", "LCR", "NEG", "AOR", "SDL", "ERR", "RET"}
    seen = set()
    for n, kind, rel, ln, old, new in muts:
        assert rel.startswith("core/") and rel.endswith(".c") and rel not in mutagen.SKIP
        assert "/host/" not in rel and "/test/" not in rel
        assert old != new and "\n" not in new
        with open(os.path.join(mutagen.ROOT, rel)) as fh:
            assert fh.read().split("\n")[ln - 1] == old
        assert (rel, ln, new) not in seen, "mutant %d made twice" % n
        seen.add((rel, ln, new))


def test_no_mutant_inside_a_comment_or_a_string():
    for n, kind, rel, ln, old, new in mutagen.generate():
        i = next(k for k in range(len(old)) if old[k] != new[k])
        code = mutagen.codeof(old)
        assert code[i] == old[i], "mutant %d (%s:%d) changes a comment or a string" % (n, rel, ln)


def test_apply_changes_one_line_and_the_caller_restores_it():
    muts = mutagen.generate()
    tree = tempfile.mkdtemp(prefix="pebble-mutagen-test-")
    try:
        shutil.copytree(os.path.join(mutagen.ROOT, "core"), os.path.join(tree, "core"))
        for mut in (muts[0], muts[len(muts) // 2], muts[-1]):
            _, _, rel, ln, old, new = mut
            f, text = mutagen.apply(tree, mut)
            with open(f) as fh:
                after = fh.read().split("\n")
            before = text.split("\n")
            assert [k for k in range(len(before)) if before[k] != after[k]] == [ln - 1]
            assert after[ln - 1] == new
            with open(f, "w") as fh:
                fh.write(text)
            with open(f) as fh, open(os.path.join(mutagen.ROOT, rel)) as orig:
                assert fh.read() == orig.read()
    finally:
        shutil.rmtree(tree)
