"""Crash safety: kill -9 the indexer at random moments, then check the index.

    python reliability/crash.py --trials 20

Builds a base index of generated articles.  Then, for a full rebuild, an
incremental update (200 changed, 100 added, 100 deleted) and a large one (5 in
12 changed, so the commit also rewrites segments left with more than a third of
their articles deleted, see ``writer.RECLAIM_SHARE``), it repeatedly
starts ``vnsearch index`` (two writer processes) and SIGKILLs it after a
random delay (alternately the indexer alone, leaving its workers orphaned,
and its whole process group) until ``--trials`` kills per mode have landed
before the run finished.  After each kill it checks that

* the index opens and answers, and is wholly in the old or the new state
  (document count and which version of the changed articles is found);
* the next run completes with no manual cleanup and gives the new state;
* no segment is left with more than ``RECLAIM_SHARE`` of its articles deleted;
* no abandoned generation or temporary folder is left behind, and no
  orphaned worker process is still running half a second after the kill.

Writes reliability/results/crash.json.  Needs no ../shared.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from whoosh import index as whoosh_index

from indexer import open_index
from indexer.store.generations import current_generation
from indexer.store.schema import INDEX_NAME
from indexer.store.segment_writer import RECLAIM_SHARE

RESULTS = ROOT / "reliability" / "results"
TEXT = ("Tin {n}: hội nghị Mặt trận xã số {n}\n{d:02d}/05/2022\n"
        "Ủy ban Mặt trận Tổ quốc xã tổ chức hội nghị {word} lần thứ {n} tại nhà văn hoá thôn. "
        "Đại biểu thảo luận về công tác vận động nhân dân, xây dựng nông thôn mới và đô thị văn minh. " * 3
        + "\nPhóng viên\n")
BASE = 1200


def write(folder: Path, n: int, word: str) -> None:
    (folder / f"a{n:05d}.txt").write_text(TEXT.format(n=n, d=n % 28 + 1, word=word), encoding="utf-8")


def state(ix) -> tuple[int, int, int]:
    """(documents, articles with the old word, articles with the new word)."""
    return ix.count(), ix.search("cũxưa", per_page=1).total, ix.search("mớitinh", per_page=1).total


ENV = dict(os.environ, PYTHONPATH=str(ROOT))


def indexer_command(folder: Path, ix_dir: Path, rebuild: bool) -> list[str]:
    cmd = [sys.executable, "-m", "indexer.cli", "index", str(folder), "--index-dir", str(ix_dir), "--jobs", "2", "-q"]
    return cmd + ["--rebuild"] if rebuild else cmd


MODES = ("rebuild", "incremental", "reclaim")


def changed_count(mode: str, base: int) -> int:
    """Articles an update of ``mode`` changes (it also adds 100 and deletes 100)."""
    return base * 5 // 12 if mode == "reclaim" else 200


def prepare_incremental(folder: Path, ix_dir: Path, base: int, changed: int = 200, rebuild: bool = False) -> None:
    """Back to the base state (indexed; ``rebuild``: in fresh segments, so that the change
    deletes a share of them instead of whole segments), then write the change an
    incremental run will apply."""
    ix = open_index(ix_dir)
    for k in range(base + 100):
        (folder / f"a{k:05d}.txt").unlink(missing_ok=True)
    for k in range(base):
        write(folder, k, "cũxưa" if k < changed else "thường")
    report = ix.update([folder], jobs=2, rebuild=rebuild)
    assert state(ix) == (base, changed, 0), (report.summary(), state(ix))
    for k in range(changed):
        write(folder, k, "mớitinh")
    for k in range(base - 100, base):
        (folder / f"a{k:05d}.txt").unlink()
    for k in range(base, base + 100):
        write(folder, k, "thường")


def trial(work: Path, mode: str, n: int, rnd: random.Random, seconds: float, base: int) -> dict:
    folder, ix_dir = work / "articles", work / "ix"
    ix = open_index(ix_dir)
    if mode != "rebuild":
        changed = changed_count(mode, base)
        prepare_incremental(folder, ix_dir, base, changed, rebuild=mode == "reclaim")
        old, new = (base, changed, 0), (base, 0, changed)
    else:
        old = new = state(ix)
    before = current_generation(ix_dir).name
    delay = rnd.uniform(0.2, seconds * 1.3)  # anywhere from start-up to just after the commit
    whole_group = n % 2 == 1
    proc = subprocess.Popen(indexer_command(folder, ix_dir, rebuild=mode == "rebuild"), cwd=ROOT, env=ENV,
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    finished_before_kill = proc.poll() is not None
    if not finished_before_kill:
        if whole_group:
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.send_signal(signal.SIGKILL)
    proc.wait()
    time.sleep(0.5)  # orphaned workers (if any) have POLL_SECONDS to notice and exit
    orphans = subprocess.run(["pgrep", "-f", str(folder)], capture_output=True, text=True).stdout.split()
    ix = open_index(ix_dir)
    after_kill = state(ix)
    gen_after_kill = current_generation(ix_dir).name
    consistent = after_kill in (old, new)
    if mode == "rebuild":  # same documents either way: the generation tells old from new
        label = "old" if gen_after_kill == before else "new"
    else:
        label = "old" if after_kill == old else "new"
    if not consistent:
        label = f"BROKEN {after_kill}"
    # Recovery: the next run, straight away, with no cleanup by hand.
    started = time.perf_counter()
    recovery = subprocess.run(indexer_command(folder, ix_dir, rebuild=False), cwd=ROOT, env=ENV,
                              capture_output=True, text=True)
    recovered = state(ix)
    raw = whoosh_index.open_dir(str(current_generation(ix_dir)), indexname=INDEX_NAME)
    shares = [seg.deleted_count() / seg.doc_count_all() for seg in raw._segments() if seg.doc_count_all()]
    leftovers = [p.name for p in ix_dir.iterdir() if p.name.startswith("gen-")]
    # "x.tmp" (Whoosh's, the CURRENT pointer's) and "x.tmp<pid>" (posting arrays, line cache)
    temp = [str(p.relative_to(ix_dir)) for p in ix_dir.rglob("*") if re.search(r"\.tmp\d*$", p.name)]
    return {
        "mode": mode, "trial": n, "kill_after_s": round(delay, 2),
        "killed": "process group" if whole_group else "indexer only (workers orphaned)",
        "finished_before_kill": finished_before_kill,
        "state_after_kill": label,
        "generation_after_kill": gen_after_kill,
        "consistent": consistent,
        "recovery_exit": recovery.returncode, "recovery_error": recovery.stderr[-500:] if recovery.returncode else "",
        "recovery_s": round(time.perf_counter() - started, 1),
        "recovered_state_ok": recovered == new if mode != "rebuild" else recovered[0] == old[0],
        "most_deleted_share": round(max(shares, default=0.0), 3),
        "generations_left": len(leftovers), "temp_files_left": temp, "orphans_left_after_0_5_s": len(orphans),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=20, help="kills landing mid-run, per mode")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--articles", type=int, default=BASE)
    ap.add_argument("--out", default=str(RESULTS / "crash.json"))
    args = ap.parse_args(argv)
    base = args.articles
    rnd = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="vnsearch-crash-"))
    try:
        folder = work / "articles"
        folder.mkdir()
        for k in range(base):
            write(folder, k, "cũxưa" if k < 200 else "thường")
        t0 = time.perf_counter()
        subprocess.run(indexer_command(folder, work / "ix", rebuild=True), cwd=ROOT, env=ENV, check=True,
                       stdout=subprocess.DEVNULL)
        full_seconds = time.perf_counter() - t0
        print(f"base build of {base} articles: {full_seconds:.1f}s", flush=True)
        timings = {"rebuild": full_seconds}
        for mode in MODES[1:]:
            prepare_incremental(folder, work / "ix", base, changed_count(mode, base), rebuild=mode == "reclaim")
            t0 = time.perf_counter()
            subprocess.run(indexer_command(folder, work / "ix", rebuild=False), cwd=ROOT, env=ENV, check=True,
                           stdout=subprocess.DEVNULL)
            timings[mode] = time.perf_counter() - t0
            print(f"{mode} update ({changed_count(mode, base) + 200} touched): {timings[mode]:.1f}s", flush=True)
        trials = []
        for mode, seconds in timings.items():
            # Until --trials kills have landed mid-run (some land after the commit, which is
            # checked too), at most 3x as many attempts.
            n = 0
            while sum(t["mode"] == mode and not t["finished_before_kill"] for t in trials) < args.trials \
                    and n < 3 * args.trials:
                row = trial(work, mode, n, rnd, seconds, base)
                if row["finished_before_kill"]:  # runs are quicker than the first timing: aim lower
                    seconds = max(1.0, min(seconds, row["kill_after_s"]))
                trials.append(row)
                print(json.dumps(row, ensure_ascii=False), flush=True)
                n += 1
        ok = [t for t in trials if t["consistent"] and t["recovery_exit"] == 0 and t["recovered_state_ok"]
              and t["most_deleted_share"] <= RECLAIM_SHARE and t["generations_left"] <= 2 and not t["temp_files_left"] and not t["orphans_left_after_0_5_s"]]
        summary = {
            "trials": len(trials), "passed": len(ok),
            "killed_mid_run": sum(not t["finished_before_kill"] for t in trials),
            "by_mode": {m: {"trials": sum(t["mode"] == m for t in trials),
                            "killed_mid_run": sum(t["mode"] == m and not t["finished_before_kill"] for t in trials),
                            "passed": sum(t["mode"] == m for t in ok),
                            "old_state_seen": sum(t["mode"] == m and t["state_after_kill"] == "old" for t in trials),
                            "new_state_seen": sum(t["mode"] == m and t["state_after_kill"] == "new" for t in trials)}
                        for m in MODES},
            "base_articles": base, **{f"{m}_s": round(t, 1) for m, t in timings.items()},
        }
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps({"date": time.strftime("%Y-%m-%d %H:%M"), "summary": summary,
                                              "trials": trials}, ensure_ascii=False, indent=1) + "\n")
        print(json.dumps(summary, indent=1))
        sys.exit(0 if len(ok) == len(trials) else 1)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
