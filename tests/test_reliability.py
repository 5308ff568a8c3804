"""Issue 5: the reliability scripts in reliability/, run small in the normal suite.

The full runs (20+ kill -9 trials per mode, 8 clients over 3,000 articles)
are ``python reliability/crash.py`` and ``python reliability/load.py``;
``--run-slow`` runs them here too.  Figures: RELIABILITY.md.
"""

import importlib.util
import json

import pytest

from .conftest import ROOT


def _script(name):
    spec = importlib.util.spec_from_file_location(f"reliability_{name}", ROOT / "reliability" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_server_keeps_answering_while_the_index_is_updated_and_rebuilt(tmp_path):
    load = _script("load")
    result = load.run(tmp_path, articles=150, clients=4, added=10, settle=1.0)
    assert result["failed"] == 0, result["failures"]
    assert result["requests"] > 50
    assert result["probe_before_update"] == 0 and result["new_word_before_update"] in ([], [0])
    # Found as soon as the update is committed, and still after the rebuild: no restart.
    assert result["probe_after_update"] == result["probe_after_rebuild"] == 10
    assert set(result["new_word_after_update"] + result["new_word_after_rebuild"]) <= {10}


def _crash_trials(tmp_path, trials: int, articles: int) -> dict:
    out = tmp_path / "crash.json"
    with pytest.raises(SystemExit) as exit_:
        _script("crash").main(["--trials", str(trials), "--articles", str(articles), "--out", str(out)])
    data = json.loads(out.read_text())
    assert exit_.value.code == 0, [t for t in data["trials"] if not t["consistent"] or t["recovery_exit"]]
    return data["summary"]


def test_kill_9_trials_small(tmp_path):
    summary = _crash_trials(tmp_path, trials=2, articles=300)
    assert summary["trials"] == summary["passed"] >= 4


@pytest.mark.slow
def test_full_crash_trials(tmp_path):
    summary = _crash_trials(tmp_path, trials=20, articles=1200)
    assert summary["passed"] == summary["trials"] and summary["killed_mid_run"] >= 40


@pytest.mark.slow
def test_full_load(tmp_path):
    load = _script("load")
    result = load.run(tmp_path, articles=3000, clients=8, added=200)
    assert result["failed"] == 0 and result["probe_after_update"] == result["probe_after_rebuild"] == 200
