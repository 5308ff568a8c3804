"""What reliability/sources.py and reliability/faults.py share: articles to index, running
``vnsearch index`` as a measured child process, and reading what an index holds on disk.

Articles come from the real corpus (``../shared/corpus/news-vi.jsonl.gz``, read only as far as
needed, never copied into the repository) or, where ``../shared`` is missing, are generated
Vietnamese news articles (fixed seed), so both harnesses run anywhere.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "reliability" / "results"
CORPUS = ROOT.parent / "shared" / "corpus" / "news-vi.jsonl.gz"
ENV = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONDONTWRITEBYTECODE="1")
ENV.pop("VNSEARCH_INDEX_DIR", None)

# --- articles ---------------------------------------------------------------------------------

_SYLLABLES = ("ủy ban nhân dân xã tổ chức hội nghị tổng kết công tác năm mặt trận tổ quốc vận động "
              "người dân tham gia xây dựng nông thôn mới đô thị văn minh giá vàng tăng mạnh trong phiên "
              "sáng nay thị trường chứng khoán giảm điểm học sinh trường tiểu học bước vào năm học mới "
              "bệnh viện tỉnh tiếp nhận ca bệnh cơ quan công an khởi tố vụ án giao thông đường bộ cầu "
              "cảng biển xuất khẩu nông sản lúa gạo cà phê hồ tiêu thủy sản du lịch miền trung bão lũ "
              "sạt lở đất cứu hộ cứu nạn đội tuyển bóng đá quốc gia giành chiến thắng").split()


def generated_articles(n: int, seed: int = 19) -> list[dict]:
    """``n`` Vietnamese news-like articles (no ../shared needed), each with a word of its own."""
    rnd = random.Random(seed)
    out = []
    for k in range(n):
        def sentence() -> str:
            words = [rnd.choice(_SYLLABLES) for _ in range(rnd.randint(8, 20))]
            return " ".join(words).capitalize() + "."
        title = " ".join(rnd.choice(_SYLLABLES) for _ in range(rnd.randint(5, 10))).capitalize()
        body = "\n".join(" ".join(sentence() for _ in range(rnd.randint(2, 5))) for _ in range(rnd.randint(3, 8)))
        out.append({"id": f"gen-{k:06d}", "title": f"{title} tinriêng{k}", "date": f"2021-{k % 12 + 1:02d}-"
                    f"{k % 28 + 1:02d}", "body": body + f" tinriêng{k}", "source": "generated"})
    return out


def corpus_articles(n: int, skip: int = 0, corpus: Path = CORPUS) -> tuple[list[dict], str]:
    """The first ``n`` usable articles of the real corpus after ``skip``, or generated ones;
    also says which ("corpus" or "generated")."""
    if not corpus.exists():
        return generated_articles(n + skip)[skip:], "generated"
    out: list[dict] = []
    seen = 0
    with gzip.open(corpus, "rt", encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            if not (record.get("title") or "").strip() or not (record.get("body") or "").strip():
                continue
            seen += 1
            if seen <= skip:
                continue
            out.append({k: record.get(k) for k in ("id", "title", "date", "body", "source")})
            if len(out) >= n:
                break
    return out, "corpus"


def as_json_line(article: dict) -> str:
    return json.dumps(article, ensure_ascii=False)


def as_text_file(article: dict) -> str:
    """An article in the seeds' text format (title, date line, body, signature)."""
    date = article.get("date") or "2021-01-01"
    y, m, d = (date[:10].split("-") + ["01", "01"])[:3]
    return f"{article['title']}\n{d}/{m}/{y}\n{article['body']}\nPhóng viên\n"


# --- running the indexer ----------------------------------------------------------------------

def drop_dac() -> list[str]:
    """A prefix that makes file modes bite: as root, the same user without the capabilities
    that bypass them (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), so mode 000 means denied, as for
    any user, with no need to make the harness's folders world-writable for another uid."""
    if os.geteuid() != 0 or not os.path.exists("/usr/bin/setpriv"):
        return []
    return ["/usr/bin/setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--inh-caps",
            "-dac_override,-dac_read_search"]


def index_command(paths: list[str], ix_dir: str | Path, *extra: str, jobs: int = 2) -> list[str]:
    return [sys.executable, "-m", "indexer.cli", "index", *paths, "--index-dir", str(ix_dir),
            "--jobs", str(jobs), "-q", *extra]


@dataclass
class Run:
    rc: int | None
    seconds: float
    maxrss_mb: float
    stdout: str
    stderr: str
    timed_out: bool = False
    pid: int = 0
    events: dict = field(default_factory=dict)
    started: float = 0.0   # time.perf_counter() at the start
    ended: float = 0.0     # and when the process was reaped
    survivors: list[int] = field(default_factory=list)  # its processes still alive after it exited

    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]

    def message_problem(self) -> str | None:
        """Why the run's message is not one clear line, or None if it is."""
        lines = self.error_lines()
        if "Traceback (most recent call last)" in self.stderr:
            return "traceback in stderr"
        if self.rc in (0, None):
            return "unexpected stderr output" if lines else None
        if len(lines) != 1:
            return f"{len(lines)} lines on stderr, one expected"
        if not lines[0].startswith("Error: "):
            return "stderr line does not start with 'Error: '"
        if len(lines[0]) > 600:
            return f"error line of {len(lines[0])} characters"
        return None


# The measured command runs under this launcher, forked from it rather than from the harness:
# the kernel's peak-RSS counter of a process starts from its parent's at fork (and survives exec),
# so a child forked from a harness that has grown would report the harness's size.
_LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as fh:
    fh.write(f"{os.waitstatus_to_exitcode(status)} {usage.ru_maxrss}")
"""


def run_measured(cmd: list[str], cwd: str | Path, timeout: float, during: Callable[[subprocess.Popen], dict] | None
                 = None, env: dict | None = None) -> Run:
    """Run ``cmd`` in its own session; kill its group at ``timeout``.  ``maxrss_mb`` is the
    kernel's peak resident set of the command or any child it waited for (wait4's rusage:
    the indexer and its worker processes, each on its own, the largest counted).
    ``during(proc)`` runs in this thread right after the start (a fault to inject; the
    command's own pid is :func:`main_pid` of ``proc.pid``); what it returns is kept as ``events``."""
    out_path = Path(cwd) / f".run-{os.getpid()}-{time.time_ns()}.out"
    err_path = out_path.with_suffix(".err")
    rc_path = out_path.with_suffix(".rc")
    started = time.perf_counter()
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-c", _LAUNCHER, str(rc_path), *cmd], cwd=cwd, env=env or ENV,
                                stdout=out, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True)
    events: dict = {}
    if during is not None:
        try:
            events = during(proc) or {}
        except Exception as exc:  # a harness fault must show, not kill the run
            events = {"during_error": f"{type(exc).__name__}: {exc}"}
    timed_out = False
    while True:
        try:
            pid, _, _ = os.wait4(proc.pid, os.WNOHANG)
        except ChildProcessError:  # reaped by a proc.poll() in ``during``
            break
        if pid:
            break
        if time.perf_counter() - started > timeout:
            timed_out = True
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                os.wait4(proc.pid, 0)
            except ChildProcessError:
                pass
            break
        time.sleep(0.02)
    try:
        rc_text, rss_text = rc_path.read_text().split()
        rc, maxrss_kb = int(rc_text), int(rss_text)
        rc_path.unlink()
    except (OSError, ValueError):
        rc, maxrss_kb = None, 0
    ended = time.perf_counter()
    seconds = ended - started
    proc.returncode = rc
    # Whatever the group left running (a worker outliving the indexer) is noted, then ended.
    survivors = group_members(proc.pid)
    if survivors and not timed_out:
        time.sleep(0.5)  # an orphaned worker's watchdog has 0.2 s to notice
        survivors = group_members(proc.pid)
        events["group_left_running"] = survivors
    for pid in survivors:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    stdout = out_path.read_text("utf-8", "replace")
    stderr = err_path.read_text("utf-8", "replace")
    out_path.unlink()
    err_path.unlink()
    return Run(None if timed_out else rc, seconds, maxrss_kb / 1024, stdout, stderr,
               timed_out, proc.pid, events, started, ended, survivors)


def running(proc: subprocess.Popen) -> bool:
    """Whether the launched command is still running (without reaping it, unlike ``proc.poll()``)."""
    st = _stat(str(proc.pid))
    return st is not None and st[0] not in ("Z", "X")


def main_pid(launcher: int, timeout: float = 10.0) -> int | None:
    """The measured command's pid (the launcher's child), once it exists."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                st = _stat(pid)
                if st is not None and st[1] == launcher and st[0] not in ("Z", "X"):
                    return int(pid)
        if _stat(str(launcher)) is None or _stat(str(launcher))[0] in ("Z", "X"):
            return None
        time.sleep(0.005)
    return None


def _stat(pid: str) -> tuple[str, int, int] | None:
    """(state, parent pid, process group) of a process, from /proc."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read().decode("utf-8", "replace")
    except OSError:
        return None
    fields = data[data.rindex(")") + 2:].split()
    return fields[0], int(fields[1]), int(fields[2])


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of process group ``pgid``."""
    out = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            st = _stat(pid)
            if st is not None and st[2] == pgid and st[0] not in ("Z", "X"):
                out.append(int(pid))
    return out


def descendants(pid: int) -> list[int]:
    """Live processes below ``pid`` (its workers, theirs)."""
    parents: dict[int, list[int]] = {}
    for p in os.listdir("/proc"):
        if p.isdigit():
            st = _stat(p)
            if st is not None and st[0] not in ("Z", "X"):
                parents.setdefault(st[1], []).append(int(p))
    out, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def deleted_but_open(folder: str | Path) -> dict[int, int]:
    """pid -> how many files under ``folder`` it holds open although they were deleted (their
    space is not given back until they are closed)."""
    folder = str(Path(folder).resolve())
    out: dict[int, int] = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith(folder) and target.endswith(" (deleted)"):
                out[int(pid)] = out.get(int(pid), 0) + 1
    return out


def locks_free(ix_dir: str | Path) -> list[str]:
    """The index's write locks that another process still holds (empty: all free)."""
    import fcntl

    held = []
    ix_dir = Path(ix_dir)
    for path in [ix_dir / ".writer.lock", *ix_dir.glob("gen-*/MAIN_WRITELOCK")]:
        if not path.exists():
            continue
        fd = os.open(path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(fd, fcntl.LOCK_UN)
        except OSError:
            held.append(str(path.relative_to(ix_dir)))
        finally:
            os.close(fd)
    return held


# --- what an index holds --------------------------------------------------------------------

def live_manifest(ix_dir: str | Path) -> dict[str, tuple[str, str]]:
    """id -> (hash, origin) of every live article, read from the index files."""
    from whoosh import index as whoosh_index

    from indexer.store.documents import read_manifest
    from indexer.store.generations import current_generation
    from indexer.store.schema import INDEX_NAME

    generation = current_generation(ix_dir)
    if generation is None:
        return {}
    ix = whoosh_index.open_dir(str(generation), indexname=INDEX_NAME)
    try:
        return read_manifest(ix)
    finally:
        ix.close()


def generations(ix_dir: str | Path) -> list[str]:
    return sorted(p.name for p in Path(ix_dir).glob("gen-*") if p.is_dir())


def leftovers(ix_dir: str | Path) -> list[str]:
    """What a failed or killed run must not leave: temporary files or folders anywhere, files
    of segments (and their posting arrays) that the live table of contents does not list,
    stale tables of contents, stray entries beside the generations."""
    from whoosh.filedb.filestore import FileStorage
    from whoosh.index import TOC

    from indexer.store.generations import current_generation
    from indexer.store.schema import INDEX_NAME

    ix_dir = Path(ix_dir)
    found = [str(p.relative_to(ix_dir)) for p in ix_dir.rglob("*") if re.search(r"\.tmp(\d*|$)", p.name)]
    found += [p.name for p in ix_dir.iterdir()
              if not (p.name in (".writer.lock", "CURRENT") or (p.name.startswith("gen-") and p.is_dir()))]
    live = current_generation(ix_dir)
    if live is None:
        return found
    toc = TOC.read(FileStorage(str(live)), INDEX_NAME)
    segids = {seg.segid for seg in toc.segments}
    for p in live.iterdir():
        m = re.match(rf"{INDEX_NAME}_(\w+)\.", p.name)
        if m and m.group(1) not in segids:
            found.append(f"{live.name}/{p.name} (unreferenced segment file)")
        m = re.match(r"vec_(\w+)$", p.name)
        if m and m.group(1) not in segids:
            found.append(f"{live.name}/{p.name} (arrays of no live segment)")
        m = re.match(rf"_{INDEX_NAME}_(\d+)\.toc$", p.name)
        if m and int(m.group(1)) != toc.generation:
            found.append(f"{live.name}/{p.name} (stale table of contents)")
    return found


def code_version() -> dict:
    """The commit the engine ran from, and whether its code differed from it (a digest of the diff)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    diff = git("diff", "HEAD", "--", "indexer")
    return {"commit": git("rev-parse", "--short", "HEAD"),
            "engine_uncommitted_changes": hashlib.sha1(diff.encode()).hexdigest()[:10] if diff else None}


def write_results(name: str, data: dict, log_lines: list[str], out: Path | None = None) -> Path:
    out = out or RESULTS / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    out.with_suffix(".log").write_text("\n".join(log_lines) + "\n", encoding="utf-8")
    return out
