"""A worker killed, a disk filled: a failing run must fail fast and clean.

    python reliability/faults.py                  # 20 worker kills, 20 full disks (~8 min on 2 cores)
    python reliability/faults.py --kills 4 --disks 4 --articles 600

Worker kills: ``vnsearch index --jobs 2`` builds (``--rebuild``, beside a live index) or updates
(adding to a live index) a few thousand real corpus articles (generated ones where ``../shared``
is missing), or edits 5/12 of the live articles (its commit then rewrites the segments left over
a third deleted, in worker processes too); at a random moment one of its worker processes,
whichever are alive, gets SIGKILL.

Full disks: the index lives on a small tmpfs (``mount -t tmpfs -o size=...``; skipped with the
reason when mounting is not allowed).  A first build into an empty index folder, or an update
of a live index, runs while, at a random moment, another process takes all the free space but
a random remainder under 1 MB (``posix_fallocate``): the disk fills mid-run.  Two more trials
per run check the pre-check: a first build on a disk too small for it, and an update on a full
disk.

After each fault it checks that

* the run exits within ``--bound`` seconds of the fault, with exit code 1 and one line on stderr
  starting ``Error:`` (no traceback); no process of the run is left;
* the locks are released (ours and Whoosh's) and the next run starts at once;
* nothing is left over: no temporary files or folders, no unreferenced segment files, no
  generation that was not there before;
* the previous generation is still the live one and answers a search with the same count;
* the next run (the disk freed) completes with the expected articles.

A kill that lands after the worker handed back all its work may let the run complete: counted
apart ("completed"), checked for the complete new state.  Writes reliability/results/faults.json
and .log.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    RESULTS,
    Run,
    as_json_line,
    code_version,
    corpus_articles,
    deleted_but_open,
    descendants,
    generations,
    index_command,
    leftovers,
    locks_free,
    main_pid,
    run_measured,
    running,
    write_results,
)

PROBE = "ủy ban nhân dân"
EDIT = "sửađổimới"  # a word only the edited articles hold (the "rewrite" mode)
REWRITE_SHARE = 5 / 12  # of the live articles edited: each segment left over a third deleted, so rewritten
# Found by this harness and reported (RELIABILITY.md, "Worker failures and full disks").
KNOWN_SHORT_WRITE = "known defect J: a short write on a full disk (NumPy's 'N requested and M written', no errno) " \
    "is reported as 'an index writer failed'"


def _feed(path: Path, articles: list[dict]) -> None:
    path.write_text("".join(as_json_line(a) + "\n" for a in articles), "utf-8")


def _state(ix_dir: Path) -> dict:
    from indexer import open_index
    from indexer.store.generations import current_generation

    live = current_generation(ix_dir)
    if live is None:
        return {"generation": None, "count": 0, "probe": 0, "edited": 0, "generations": generations(ix_dir)}
    ix = open_index(ix_dir)
    try:
        return {"generation": live.name, "count": ix.count(), "probe": ix.search(PROBE, per_page=1).total,
                "edited": ix.search(EDIT, per_page=1).total, "generations": generations(ix_dir)}
    finally:
        ix.close()
        del ix
        gc.collect()  # Index.close() leaves the posting arrays' files to the collector: on the small
        # disk, files the next run deletes would otherwise keep their space while this process runs


def _copy_index(src: Path, dst: Path) -> None:
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)


def _after_fault(run: Run, fault_at: float | None, before: dict, ix_dir: Path, bound: float) -> tuple[dict, list]:
    """What the run did after its fault, and what is wrong with it."""
    failures = []
    held = locks_free(ix_dir)  # at once, before anything else runs
    after = _state(ix_dir)
    since_fault = None if fault_at is None else round(run.ended - fault_at, 2)
    if run.timed_out:
        failures.append(f"still running {run.seconds:.0f} s after start: killed")
    elif since_fault is not None and since_fault > bound:
        failures.append(f"exited {since_fault} s after the fault (bound {bound:.0f} s)")
    if run.rc != 1:
        failures.append(f"exit {run.rc}, expected 1")
    message = run.message_problem()
    if message:
        failures.append(message)
    if run.survivors:
        failures.append(f"{len(run.survivors)} processes of the run still alive after it exited")
    if held:
        failures.append(f"locks still held: {held}")
    left = leftovers(ix_dir)
    if left:
        failures.append(f"leftovers: {left[:4]}")
    if after["generations"] != before["generations"]:
        failures.append(f"generations {before['generations']} -> {after['generations']}")
    for key in ("generation", "count", "probe", "edited"):
        if after[key] != before[key]:
            failures.append(f"live {key} {before[key]} -> {after[key]}")
    row = {"exit": run.rc, "exited_after_fault_s": since_fault, "error": (run.error_lines() or [""])[-1][:300],
           "stderr_lines": len(run.error_lines()), "locks_held": held, "leftovers": left[:10],
           "state_before": {k: before[k] for k in ("generation", "count", "probe", "edited")},
           "state_after": {k: after[k] for k in ("generation", "count", "probe", "edited")}}
    return row, failures


def _next_run(cmd: list[str], cwd: Path, ix_dir: Path, expected: int, timeout: float, edited: int | None = None
              ) -> tuple[dict, list]:
    free_mb = round(shutil.disk_usage(ix_dir).free / 2**20, 1)
    held = deleted_but_open(ix_dir.parent)
    run = run_measured(cmd, cwd, timeout)
    failures = []
    state = _state(ix_dir)
    if run.rc != 0:
        failures.append(f"next run: exit {run.rc}: {(run.error_lines() or [''])[-1][:200]}")
    if state["count"] != expected:
        failures.append(f"next run: {state['count']} articles, {expected} expected")
    if edited is not None and state["edited"] != edited:
        failures.append(f"next run: {state['edited']} edited articles found, {edited} expected")
    left = leftovers(ix_dir)
    if left:
        failures.append(f"next run leftovers: {left[:3]}")
    return {"next_exit": run.rc, "next_s": round(run.seconds, 1), "next_count": state["count"],
            "free_mb_before_next": free_mb, "deleted_files_held_open": held}, failures


def _started_after(pid: int, parent: int) -> float | None:
    """Seconds between ``parent``'s start and ``pid``'s (from /proc, in clock ticks)."""
    def start(p: int) -> int | None:
        try:
            with open(f"/proc/{p}/stat", "rb") as fh:
                data = fh.read().decode("utf-8", "replace")
            return int(data[data.rindex(")") + 2:].split()[19])
        except (OSError, ValueError, IndexError):
            return None
    a, b = start(pid), start(parent)
    return None if a is None or b is None else round((a - b) / os.sysconf("SC_CLK_TCK"), 2)


# --- worker kills ------------------------------------------------------------------------

def kill_trials(work: Path, base: list[dict], extra: list[dict], trials: int, bound: float, rnd: random.Random,
                say, modes: tuple[str, ...] = ("update", "rebuild", "rewrite"), aim: float | None = None
                ) -> list[dict]:
    src = work / "src"
    src.mkdir()
    _feed(src / "base.jsonl", base)
    _feed(src / "more.jsonl", extra)
    every = round(1 / REWRITE_SHARE * 1000)
    edited = [dict(a, body=a["body"] + f" {EDIT}.") if (k * 1000) % every < 1000 else a for k, a in enumerate(base)]
    n_edited = sum(1 for a, b in zip(base, edited) if a is not b)
    template = work / "ix-base"
    first = run_measured(index_command(["src/base.jsonl"], template), work, 900)
    assert first.rc == 0, first.stderr

    def setup(mode: str) -> tuple[list[str], tuple[str, ...], int, int | None]:
        """Paths, extra arguments, articles and edited articles expected once the run completes."""
        _feed(src / "base.jsonl", edited if mode == "rewrite" else base)
        if mode == "rewrite":  # the live articles edited: segments over a third deleted are rewritten
            return ["src/base.jsonl"], (), len(base), n_edited
        args = ("--rebuild",) if mode == "rebuild" else ()
        return ["src/base.jsonl", "src/more.jsonl"], args, len(base) + len(extra), 0

    # How long each mode takes without a fault, to aim the kills.
    timings = {}
    ix = work / "ix"
    for mode in modes:
        if aim:  # told how long a run takes: no timing run
            timings[mode] = aim
            continue
        _copy_index(template, ix)
        paths, extra_args, _, _ = setup(mode)
        clean = run_measured(index_command(paths, ix, *extra_args), work, 900)
        assert clean.rc == 0, clean.stderr
        timings[mode] = clean.seconds
        what = {"rebuild": f"rebuild of {len(base) + len(extra)}", "update": f"update adding {len(extra)}",
                "rewrite": f"update editing {n_edited}"}[mode]
        say(f"clean {what} articles (live index {len(base)}): {clean.seconds:.1f} s")
    rows = []
    attempts = 0
    while sum(r["landed"] for r in rows) < trials and attempts < 3 * trials:
        mode = modes[attempts % len(modes)]
        attempts += 1
        _copy_index(template, ix)
        paths, extra_args, expected, expected_edited = setup(mode)
        before = _state(ix)
        delay = rnd.uniform(0.3, timings[mode] * 0.95)

        def during(proc, delay=delay) -> dict:
            indexer = main_pid(proc.pid)
            time.sleep(delay)
            while indexer is not None and running(proc):
                workers = descendants(indexer)
                if workers:
                    victim = rnd.choice(workers)
                    started = _started_after(victim, indexer)
                    try:
                        os.kill(victim, signal.SIGKILL)
                    except ProcessLookupError:
                        continue
                    return {"fault_at": time.perf_counter(), "victim_of": len(workers),
                            "victim_started_after_s": started}
                time.sleep(0.01)
            return {}

        run = run_measured(index_command(paths, ix, *extra_args), work, bound * 4 + timings[mode] * 2, during=during)
        fault_at = run.events.get("fault_at")
        row = {"mode": mode, "trial": attempts, "aimed_at_s": round(delay, 2),
               "killed_at_s": None if fault_at is None else round(fault_at - run.started, 2),
               "workers_alive": run.events.get("victim_of"), "landed": fault_at is not None,
               # segment writers start with the run; rewriting workers at its commit
               "victim_started_after_s": run.events.get("victim_started_after_s")}
        failures: list[str] = []
        if fault_at is None:
            row["outcome"] = "finished before a worker could be killed"
        elif run.rc == 0:
            # The worker had handed back its work: the run may complete, wholly.
            state = _state(ix)
            row.update(outcome="completed", exit=0,
                       state_after={k: state[k] for k in ("generation", "count", "probe", "edited")})
            if state["count"] != expected or state["edited"] != expected_edited:
                failures.append(f"completed with {state['count']} articles ({state['edited']} edited), {expected} "
                                f"({expected_edited}) expected")
            left = leftovers(ix)
            if left:
                failures.append(f"leftovers: {left[:3]}")
            if run.survivors:
                failures.append(f"{len(run.survivors)} processes of the run still alive after it exited")
        else:
            info, failures = _after_fault(run, fault_at, before, ix, bound)
            row.update(outcome="failed cleanly" if not failures else "failed", **info)
        if fault_at is not None:
            info, more = _next_run(index_command(paths, ix), work, ix, expected, 900, expected_edited)
            row.update(info)
            failures += more
        row["failures"] = failures
        row["passed"] = not failures
        rows.append(row)
        say(f"kill  {mode:8} at {row['killed_at_s']!s:>5} s  {row['outcome']:16} exit {row.get('exit')!s:4} "
            f"after {row.get('exited_after_fault_s')!s:>5} s  next {row.get('next_exit')!s:4} "
            + ("ok" if not failures else "; ".join(failures)) + (f"  [{row['error'][:120]}]" if row.get("error") else ""))
    return rows


# --- full disks ------------------------------------------------------------------------------

def mount_tmpfs(where: Path, size_mb: int) -> str | None:
    """Mount a tmpfs of ``size_mb`` at ``where``; the reason it cannot be done, or None."""
    where.mkdir(parents=True, exist_ok=True)
    try:
        out = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0755", "tmpfs", str(where)],
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"mount failed: {exc}"
    if out.returncode != 0:
        return f"mount -t tmpfs not allowed here: {out.stderr.strip() or out.returncode}"
    return None


def umount(where: Path) -> None:
    subprocess.run(["umount", "-l", str(where)], capture_output=True, timeout=30)


def _clear(disk: Path) -> None:
    for p in disk.iterdir():
        shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()


def _fill(disk: Path, leave: int) -> int:
    """Take all free space on ``disk`` but ``leave`` bytes (another process filling it)."""
    free = shutil.disk_usage(disk).free
    size = max(0, free - leave)
    fd = os.open(disk / "filler", os.O_CREAT | os.O_WRONLY, 0o644)
    try:
        if size:
            os.posix_fallocate(fd, 0, size)
    finally:
        os.close(fd)
    return size


def disk_trials(work: Path, base: list[dict], extra: list[dict], trials: int, bound: float, size_mb: int,
                rnd: random.Random, say, modes: tuple[str, ...] = ("build", "update"), prechecks: bool = True,
                aim: float | None = None) -> tuple[list[dict], str | None]:
    disk = work / "disk"
    reason = mount_tmpfs(disk, size_mb)
    if reason:
        say(f"full-disk trials skipped: {reason}")
        return [], reason
    rows = []
    try:
        src = work / "dsrc"
        src.mkdir()
        _feed(src / "base.jsonl", base)
        _feed(src / "more.jsonl", extra)
        build_paths = ["dsrc/base.jsonl"]
        update_paths = ["dsrc/base.jsonl", "dsrc/more.jsonl"]
        ix = disk / "ix"
        # The live index an update starts from, kept off the small disk and copied in per trial.
        template = work / "ix-disk-base"
        first = run_measured(index_command(build_paths, template), work, 900)
        assert first.rc == 0, first.stderr
        timings = {}
        for mode in modes:
            if aim:
                timings[mode] = aim
                continue
            _clear(disk)
            if mode == "update":
                _copy_index(template, ix)
            clean = run_measured(index_command(build_paths if mode == "build" else update_paths, ix), work, 900)
            assert clean.rc == 0, f"{mode} does not fit on a {size_mb} MB disk: {clean.stderr}"
            timings[mode] = clean.seconds
            say(f"clean {mode} on the {size_mb} MB tmpfs: {clean.seconds:.1f} s, "
                f"{(shutil.disk_usage(disk).used) / 2**20:.0f} MB used")
        attempts = 0
        while sum(r["landed"] for r in rows) < trials and attempts < 3 * trials:
            mode = modes[attempts % len(modes)]
            attempts += 1
            _clear(disk)
            if mode == "update":
                _copy_index(template, ix)
            else:
                ix.mkdir()
            before = _state(ix)
            delay = rnd.uniform(0.2, timings[mode] * 0.9)
            leave = rnd.randrange(0, 2**20)
            paths = build_paths if mode == "build" else update_paths

            def during(proc, delay=delay, leave=leave) -> dict:
                time.sleep(delay)
                if not running(proc):
                    return {}
                taken = _fill(disk, leave)
                return {"fault_at": time.perf_counter(), "filled_mb": round(taken / 2**20, 1)}

            run = run_measured(index_command(paths, ix), work, bound * 4 + timings[mode] * 2, during=during)
            expected = len(base) + (len(extra) if mode == "update" else 0)
            row, failures = _disk_row(run, mode, attempts, delay, leave, before, ix, bound, expected)
            (disk / "filler").unlink(missing_ok=True)
            if row["landed"]:
                info, more = _next_run(index_command(paths, ix), work, ix, expected, 900)
                row.update(info)
                failures += more
            row["failures"] = failures
            row["passed"] = not failures
            rows.append(row)
            _say_disk(say, row)
        # The pre-checks: a first build that cannot fit (its estimate checked before writing);
        # an update with the disk already full.
        from indexer.build.disk import needed_bytes as _needed_bytes

        for mode in ("build-too-big", "update-on-full-disk") if prechecks else ():
            _clear(disk)
            if mode == "build-too-big":
                ix.mkdir()
                _fill(disk, _needed_bytes([work / p for p in update_paths]) // 2)
            else:
                _copy_index(template, ix)
                _fill(disk, 0)
            before = _state(ix)
            run = run_measured(index_command(update_paths, ix), work, bound * 4 + 60)
            run.events["fault_at"] = run.started  # the disk was full before the run
            row, failures = _disk_row(run, mode, 0, 0.0, 0, before, ix, bound)
            (disk / "filler").unlink(missing_ok=True)
            info, more = _next_run(index_command(update_paths, ix), work, ix, len(base) + len(extra), 900)
            row.update(info)
            failures += more
            row["failures"] = failures
            row["passed"] = not failures
            rows.append(row)
            _say_disk(say, row)
    finally:
        umount(disk)
    return rows, None


def _disk_row(run: Run, mode: str, trial: int, delay: float, leave: int, before: dict, ix: Path,
              bound: float, expected: int | None = None) -> tuple[dict, list]:
    fault_at = run.events.get("fault_at")
    row = {"mode": mode, "trial": trial, "fill_at_s": None if fault_at is None else round(fault_at - run.started, 2),
           "left_free_kb": leave // 1024, "filled_mb": run.events.get("filled_mb"), "landed": False}
    if fault_at is None:
        row["outcome"] = "finished before the disk was filled"
        return row, []
    if run.rc == 0:
        # The run had written all it needed (or only what may fail after the commit): it must
        # have completed wholly, left nothing behind, and said so in one clean report.
        state = _state(ix)
        row.update(outcome="completed", exit=0, landed=True, leftovers=leftovers(ix),
                   state_after={k: state[k] for k in ("generation", "count", "probe")},
                   warnings=[line.strip() for line in run.stdout.splitlines() if "warning" in line][:3])
        failures = []
        if expected is not None and state["count"] != expected:
            failures.append(f"completed with {state['count']} articles, {expected} expected")
        if row["leftovers"]:
            failures.append(f"completed, but left {row['leftovers'][:3]}")
        if run.message_problem():
            failures.append(run.message_problem())
        return row, failures
    row["landed"] = True
    info, failures = _after_fault(run, fault_at, before, ix, bound)
    if run.rc == 1 and not any(w in info["error"].lower() for w in ("disk", "space")):
        failures.append(f"the error does not say the disk is full ({KNOWN_SHORT_WRITE})")
    row.update(outcome="failed cleanly" if not failures else "failed", **info)
    return row, failures


def _say_disk(say, row: dict) -> None:
    failures = row.get("failures", [])
    say(f"disk  {row['mode']:19} fill at {row['fill_at_s']!s:>5} s  {row['outcome']:16} exit {row.get('exit')!s:4} "
        f"after {row.get('exited_after_fault_s')!s:>5} s  next {row.get('next_exit')!s:4} "
        + ("ok" if not failures else "; ".join(failures)) + (f"  [{row['error'][:150]}]" if row.get("error") else ""))


# --- main ------------------------------------------------------------------------------------

def _summary(rows: list[dict], key: str) -> dict:
    landed = [r for r in rows if r["landed"]]
    exits = sorted(r["exited_after_fault_s"] for r in landed if r.get("exited_after_fault_s") is not None)
    nexts = sorted(r["next_s"] for r in landed if r.get("next_s") is not None)
    return {
        "attempts": len(rows), "landed": len(landed), "passed": sum(r["passed"] for r in landed),
        "failed_cleanly": sum(r.get("outcome") == "failed cleanly" for r in landed),
        "completed_despite_fault": sum(r.get("outcome", "").startswith("completed") for r in landed),
        "by_mode": {m: {"landed": sum(r[key] == m for r in landed), "passed": sum(r[key] == m and r["passed"]
                                                                                  for r in landed)}
                    for m in sorted({r[key] for r in rows})},
        "exit_after_fault_s": {"median": exits[len(exits) // 2] if exits else None, "max": max(exits, default=None)},
        "next_run_s": {"median": nexts[len(nexts) // 2] if nexts else None, "max": max(nexts, default=None)},
        "leftovers_seen": sum(bool(r.get("leftovers")) for r in landed),
        "locks_held_seen": sum(bool(r.get("locks_held")) for r in landed),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kills", type=int, default=20, help="worker kills landing mid-run")
    ap.add_argument("--disks", type=int, default=20, help="full disks landing mid-run")
    ap.add_argument("--articles", type=int, default=700, help="articles in the live index (twice as many added)")
    ap.add_argument("--disk-mb", type=int, default=0, help="tmpfs size (default: about 3x the update's need)")
    ap.add_argument("--bound", type=float, default=5.0, help="seconds from the fault to the exit")
    ap.add_argument("--seed", type=int, default=19)
    ap.add_argument("--kill-modes", default="update,rebuild,rewrite",
                    help="what the killed run does: update (adds articles), rebuild, rewrite (edits 5/12 of the "
                         "live articles, so its commit rewrites segments in worker processes too)")
    ap.add_argument("--disk-modes", default="build,update", help="what the run on the filling disk does")
    ap.add_argument("--aim", type=float, default=None,
                    help="seconds a faultless run takes (default: timed first); faults land within 0.9x of it")
    ap.add_argument("--no-prechecks", action="store_true", help="leave out the two full-before-the-run trials")
    ap.add_argument("--out", default=str(RESULTS / "faults.json"))
    args = ap.parse_args(argv)
    rnd = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="vnsearch-faults-"))
    log: list[str] = []

    def say(line: str) -> None:
        print(line, flush=True)
        log.append(line)

    try:
        articles, origin = corpus_articles(3 * args.articles)
        base, extra = articles[:args.articles], articles[args.articles:]
        say(f"{len(base)} {origin} articles live, {len(extra)} more to add")
        kills = kill_trials(work, base, extra, args.kills, args.bound, rnd, say,
                            tuple(args.kill_modes.split(",")), args.aim) if args.kills else []
        text_mb = sum(len(a["body"].encode()) + len(a["title"].encode()) for a in articles) / 2**20
        disk_mb = args.disk_mb or max(32, int(text_mb * 6))
        disks, skipped = disk_trials(work, base, extra, args.disks, args.bound, disk_mb, rnd, say,
                                     tuple(args.disk_modes.split(",")), not args.no_prechecks, args.aim) \
            if args.disks else ([], "not asked for")
        summary = {"worker_kills": _summary(kills, "mode"), "full_disks": _summary(disks, "mode"),
                   "full_disks_skipped": skipped, "disk_mb": disk_mb, "articles_live": len(base),
                   "articles_added": len(extra), "articles_from": origin, "bound_s": args.bound, **code_version()}
        say(json.dumps(summary, ensure_ascii=False))
        write_results("faults", {"date": time.strftime("%Y-%m-%d %H:%M"), "summary": summary,
                                 "worker_kills": kills, "full_disks": disks}, log, Path(args.out))
        failed = [r for r in kills + disks if r["landed"] and not r["passed"]]
        return 1 if failed else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up (unmount) when stopped
    sys.exit(main())
