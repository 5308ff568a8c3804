"""Issue 5.1: a generated set of 100+ bad inputs mixed with good articles."""

import os

from indexer import open_index

from .badinput import make_bad_input_set


def _key(where: str, folder) -> str:
    return os.path.relpath(where, folder) if where.startswith(str(folder)) else where


def test_generated_bad_inputs_are_reported_and_good_ones_searchable(tmp_path):
    folder = tmp_path / "in"
    expects = make_bad_input_set(folder)
    assert sum(e.outcome != "indexed" for e in expects) >= 100
    ix = open_index(tmp_path / "ix")
    every: list = []
    report = ix.update([folder], jobs=2, on_problem=every.append)
    assert len(every) > len(report.problems)  # the report lists a few of each kind; on_problem has all
    assert sum(report.problem_counts.values()) == len(every)

    reported: dict[str, list] = {}
    for p in every:
        reported.setdefault(_key(p.where, folder), []).append(p)
    expected_keys = set()
    for e in expects:
        key = e.name.encode("utf-8", "backslashreplace").decode("utf-8")
        expected_keys.add(key)
        got = reported.get(key, [])
        if e.outcome == "indexed":
            assert got == [], f"{key}: unexpected report {got}"
        elif e.outcome == "warning":
            assert any(e.reason in p.reason and not p.skipped for p in got), f"{key}: expected warning {e.reason!r}, got {got}"
            assert not any(p.skipped for p in got), f"{key}: skipped {got}"
        else:
            assert any(e.reason in p.reason and p.skipped for p in got), f"{key}: expected skip {e.reason!r}, got {got}"
    assert set(reported) <= expected_keys, f"reports nobody expected: {set(reported) - expected_keys}"

    found = [e for e in expects if e.outcome != "skipped" and e.token]
    assert report.added == len(found) == ix.count()
    for e in found:
        hits = ix.search(e.token).hits
        assert [h.id for h in hits] == [e.doc_id], f"{e.token} should find {e.doc_id}, found {[h.id for h in hits]}"
    assert ix.get("cp1258_0.txt").title.startswith(("Hội nghị", "Tin hoạt động", "Ngày hội", "Hoà giải"))
    assert ix.search("hoi nghi mat tran").total >= 1

    again = ix.update([folder], jobs=2)  # nothing changed: nothing re-done, the same reports
    assert again.added == again.updated == again.removed == 0 and again.unchanged == len(found)
    assert again.problem_counts == report.problem_counts
