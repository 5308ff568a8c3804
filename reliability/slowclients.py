"""Slow and hostile clients against ``vnsearch serve``: readers must keep being served.

    python reliability/slowclients.py                  # the full run (about 3 minutes)
    python reliability/slowclients.py --server plain   # the same against plain waitress.serve (before issue 19)

Starts ``vnsearch serve`` (127.0.0.1) on a small generated index, then runs five phases of
``--seconds`` each while ``--readers`` loopback readers load search pages, API results,
articles and /healthz, a fresh connection per request (10 s timeout):

  baseline   no attack
  slowloris  ``--slowloris`` connections from the readers' own address, each sending one
             header byte a second (issue 19: 110 of them locked every reader out)
  mixed      slowloris, idle (connect, never send), slow readers (a complete request whose
             response is never read, 4 KB receive buffer) and half-sent bodies, from 100
             other loopback addresses (127.0.0.2-101)
  flood      ``--flood`` idle connections from those 100 addresses, more than the server's
             connection limit
  recovery   the attackers gone

A closed attack connection is reopened a second later, as slowloris tools do.  Reported per
phase: reader requests, errors, p50/p95/max latency; the sockets the server held; how long
it kept the attack connections it closed; its memory.  Exits non-zero if a reader request
failed or the server's sockets did not drop back to their idle count afterwards.  Writes
reliability/results/slowclients.json and slowclients.log.  Loopback only; every loop runs
on the phase clock.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import resource
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import descendants

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "reliability" / "results"
ENV = dict(os.environ, PYTHONPATH=str(ROOT))
HOST = "127.0.0.1"  # the server's address, and the readers'
ATTACKERS = [f"127.0.0.{n}" for n in range(2, 102)]
WORDS = ["hội nghị", "Mặt trận", "nông thôn mới", "an sinh xã hội", "bầu cử", "hoà giải", "Uỷ ban", "khu dân cư"]
QUERIES = ["mat tran", "Mặt trận Tổ quốc", '"hội nghị"', "UBND", "nông thôn mới", "hoa giai", "bầu cử -hoãn", "uỷ ban"]
SLOW_HEAD = b"GET /?q=mat+tran HTTP/1.1\r\nHost: vnsearch\r\nUser-Agent: slowloris\r\n"
BODY_HEAD = (b"POST /api/search HTTP/1.1\r\nHost: vnsearch\r\nContent-Type: application/octet-stream\r\n"
             b"Content-Length: 20000\r\n\r\n")
TCP_CLOSE, TCP_CLOSE_WAIT, TCP_SYN_SENT = 7, 8, 2
PLAIN_SERVER = """import sys
from waitress import serve
from search_web import create_app
app = create_app(index_dir=sys.argv[1])
app.extensions["vnsearch"].warm_up()
print("serving", file=sys.stderr, flush=True)
serve(app, host="127.0.0.1", port=int(sys.argv[2]), threads=8, ident="vnsearch")
"""


def write_articles(folder: Path, count: int, seed: int = 5) -> None:
    rnd = random.Random(seed)
    folder.mkdir(parents=True)
    for n in range(count):
        words = rnd.sample(WORDS, 4)
        body = " ".join(f"Bài {n} nói về {w} ở địa phương, {rnd.choice(WORDS)} và đời sống nhân dân." for w in words)
        (folder / f"t{n:05d}.txt").write_text(f"Tin {n}: {words[0]}\n{n % 28 + 1:02d}/06/2023\n{body}\nPV {n}\n",
                                              encoding="utf-8")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _tcp_state(sock: socket.socket) -> int:
    return struct.unpack("B", sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1))[0]


# --- attack connections ---------------------------------------------------------------
@dataclass
class _Slot:
    kind: str      # slowloris | idle | slow_reader | half_body
    source: str
    sock: socket.socket | None = None
    opened: float = 0.0
    reopen_at: float = 0.0
    sent: int = 0
    next_send: float = 0.0


@dataclass
class AttackStats:
    opened: int = 0
    closed_by_server: int = 0
    kept_s: list[float] = field(default_factory=list)  # how long the server kept each one it closed
    connect_errors: int = 0


class Attack:
    """Attack connections held from one thread on non-blocking sockets, each reopened a
    second after the server closes it."""

    def __init__(self, port: int, slots: list[_Slot], read_path: str, reopen_after: float = 1.0):
        self.port, self.slots, self.reopen_after = port, slots, reopen_after
        self.slow_request = f"GET {read_path} HTTP/1.1\r\nHost: vnsearch\r\n\r\n".encode()
        self.stats = AttackStats()

    def _open(self, slot: _Slot, now: float) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            if slot.kind == "slow_reader":
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.bind((slot.source, 0))
            sock.setblocking(False)
            sock.connect_ex((HOST, self.port))
        except OSError:
            sock.close()
            self.stats.connect_errors += 1
            slot.reopen_at = now + self.reopen_after
            return
        slot.sock, slot.opened, slot.sent, slot.next_send = sock, now, 0, now
        self.stats.opened += 1

    def _send(self, slot: _Slot, now: float) -> None:
        if slot.kind == "idle" or now < slot.next_send:
            return
        if slot.kind == "slowloris":
            stream = SLOW_HEAD + b"X-Pad: a\r\n" * (slot.sent // 10 + 1)
            data, slot.next_send = stream[slot.sent:slot.sent + 1], now + 1.0
        elif slot.kind == "slow_reader":
            data, slot.next_send = (self.slow_request if not slot.sent else b""), now + 3600
        else:  # half_body: the headers and half the body at once, then a byte a second
            data = BODY_HEAD + b"x" * 10_000 if not slot.sent else b"x"
            slot.next_send = now + 1.0
        try:
            slot.sent += slot.sock.send(data) if data else 0
        except (BlockingIOError, InterruptedError):
            slot.next_send = now  # still connecting (the server's backlog): try again
        except OSError:
            pass  # reset by the server: seen as closed below

    def tick(self, now: float) -> None:
        for slot in self.slots:
            if slot.sock is None:
                if now >= slot.reopen_at:
                    self._open(slot, now)
                continue
            try:
                state = _tcp_state(slot.sock)
            except OSError:
                state = TCP_CLOSE
            if state in (TCP_CLOSE, TCP_CLOSE_WAIT):
                self.stats.closed_by_server += 1
                self.stats.kept_s.append(now - slot.opened)
                slot.sock.close()
                slot.sock, slot.reopen_at = None, now + self.reopen_after
            elif state != TCP_SYN_SENT:
                self._send(slot, now)

    def run(self, until: float) -> None:
        while (now := time.time()) < until:
            self.tick(now)
            time.sleep(0.05)

    def close(self) -> int:
        """Close every connection; how many were still open."""
        still = 0
        for slot in self.slots:
            if slot.sock is not None:
                still += 1
                slot.sock.close()
                slot.sock = None
        return still


def spread(kind: str, count: int, sources: list[str]) -> list[list[str]]:
    return [[kind, sources[n % len(sources)]] for n in range(count)]


def attack(port: int, slots: list[list[str]], seconds: float, read_path: str) -> dict:
    """One phase's attack, in a process of its own: in the readers' process its loop held
    the GIL between a reader's connect and its request, which a real client does not wait for."""
    if not slots:
        time.sleep(seconds)
        return {"opened": 0, "closed_by_server": 0, "still_open_at_end": 0, "kept_s": [], "connect_errors": 0}
    child = subprocess.run([sys.executable, __file__, "--attack", str(port), str(seconds), read_path],
                           input=json.dumps(slots), capture_output=True, text=True, timeout=seconds + 60, check=False)
    if child.returncode:
        raise RuntimeError("attack process failed: " + child.stderr[-2000:])
    return json.loads(child.stdout)


def _attack_main(port: int, seconds: float, read_path: str) -> None:
    slots = [_Slot(kind, source) for kind, source in json.load(sys.stdin)]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = len(slots) + 64
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted if hard == resource.RLIM_INFINITY else min(wanted, hard),
                                                    hard))
    held = Attack(port, slots, read_path)
    held.run(time.time() + seconds)
    still_open = held.close()
    print(json.dumps({**held.stats.__dict__, "still_open_at_end": still_open}))


# --- the server and its readers ---------------------------------------------------------
def _proc_status(pid: int, key: str) -> float:
    """``key`` of /proc/PID/status (kB, as MB) summed over the server's processes."""
    total = 0.0
    for p in [pid, *descendants(pid)]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith(key + ":"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            pass
    return total


def _sockets(pid: int) -> int:
    """Sockets open in the server's processes (one socket's descriptors in several count once)."""
    seen = set()
    for p in [pid, *descendants(pid)]:
        try:
            for fd in os.scandir(f"/proc/{p}/fd"):
                try:
                    link = os.readlink(fd.path)
                except OSError:
                    continue
                if link.startswith("socket:"):
                    seen.add(link)
        except OSError:
            pass
    return len(seen)


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[int(q * (len(values) - 1))] * 1000, 1)


def run(work: Path, articles: int = 300, seconds: float = 30, readers: int = 4, slowloris: int = 150,
        idle: int = 150, slow_readers: int = 50, half_bodies: int = 50, flood: int = 1500,
        server: str = "guarded", server_args: tuple[str, ...] = (), log=print) -> dict:
    """The whole scenario; returns the figures (``ok`` says whether it held)."""
    write_articles(work / "articles", articles)
    ix = work / "ix"
    subprocess.run([sys.executable, "-m", "indexer.cli", "index", str(work / "articles"), "--index-dir", str(ix), "-q"],
                   cwd=ROOT, env=ENV, check=True, stdout=subprocess.DEVNULL)
    port = _free_port()
    if server == "plain":
        cmd = [sys.executable, "-c", PLAIN_SERVER, str(ix), str(port)]
    else:
        cmd = [sys.executable, "-m", "indexer.cli", "serve", "--port", str(port), "--index-dir", str(ix),
               "--seeds", str(work / "no-seeds"), *server_args]
    errlog = open(work / "server.log", "w+")
    proc = subprocess.Popen(cmd, cwd=work, env=ENV, stdout=subprocess.DEVNULL, stderr=errlog)
    started = time.time()
    while True:
        try:
            with socket.create_connection((HOST, port), timeout=1):
                break
        except OSError:
            if proc.poll() is not None or time.time() - started > 60:
                errlog.seek(0)
                raise RuntimeError("server did not start: " + errlog.read()[-2000:]) from None
            time.sleep(0.1)
    log(f"server ({server}) listening on {HOST}:{port}, pid {proc.pid}, after {time.time() - started:.1f} s")

    phase = ["baseline"]
    stop = threading.Event()
    lock = threading.Lock()
    requests: dict[str, list[tuple[float, int, str]]] = {}
    samples: dict[str, list[tuple[float, float]]] = {}  # phase -> (sockets, rss MB)

    def reader(k: int) -> None:
        rnd = random.Random(k)
        while not stop.is_set():
            q = urllib.parse.quote_plus(rnd.choice(QUERIES))
            path = rnd.choice([f"/?q={q}", f"/api/search?q={q}", f"/article/t{rnd.randrange(articles):05d}.txt",
                               "/healthz"])
            label, t0 = phase[0], time.perf_counter()
            try:
                conn = http.client.HTTPConnection(HOST, port, timeout=10)
                conn.request("GET", path)
                resp = conn.getresponse()
                resp.read()
                status, error = resp.status, ""
                conn.close()
            except Exception as exc:  # a refused, reset or timed-out request is a failure
                status, error = 0, f"{type(exc).__name__}: {exc}"
            with lock:
                requests.setdefault(label, []).append((time.perf_counter() - t0, status, error or path))

    def sampler() -> None:
        while not stop.is_set():
            samples.setdefault(phase[0], []).append((_sockets(proc.pid), _proc_status(proc.pid, "VmRSS")))
            time.sleep(0.25)

    # Listening: the count to come back to, once the server answers (with --workers N the port
    # accepts before gunicorn's arbiter and its workers are up, and the arbiter opens sockets of its own).
    with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=60) as r:
        r.read()
    time.sleep(1)
    idle_sockets = _sockets(proc.pid)
    threads = [threading.Thread(target=reader, args=(k,), daemon=True) for k in range(readers)]
    threads.append(threading.Thread(target=sampler, daemon=True))
    for t in threads:
        t.start()

    plans = [
        ("baseline", []),
        ("slowloris", spread("slowloris", slowloris, [HOST])),
        ("mixed", spread("slowloris", slowloris, ATTACKERS) + spread("idle", idle, ATTACKERS)
         + spread("slow_reader", slow_readers, ATTACKERS) + spread("half_body", half_bodies, ATTACKERS)),
        ("flood", spread("idle", flood, ATTACKERS)),
        ("recovery", []),
    ]
    phases = []
    try:
        for name, slots in plans:
            phase[0] = name
            stats = attack(port, slots, seconds, read_path="/?q=mat+tran&per_page=50")
            kept = stats.pop("kept_s")
            phases.append({"phase": name, "attack_connections": len(slots), **stats,
                           "kept_p50_s": round(statistics.median(kept), 1) if kept else None,
                           "kept_max_s": round(max(kept), 1) if kept else None})
            log(f"phase {name}: {len(slots)} attack connections, {stats['opened']} opened, "
                f"{stats['closed_by_server']} closed by the server")
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=15)
        peak_rss = _proc_status(proc.pid, "VmHWM")
        alive = proc.poll() is None
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        errlog.seek(0)
        server_log = errlog.read()
        errlog.close()
    for row in phases:
        done = requests.get(row["phase"], [])
        ok = [t for t, status, _ in done if status == 200]
        failed = [(status, what) for _, status, what in done if status != 200]
        sampled = samples.get(row["phase"], [])
        row.update({"requests": len(done), "errors": len(failed), "error_examples": failed[:5],
                    "p50_ms": _percentile(ok, 0.5), "p95_ms": _percentile(ok, 0.95), "max_ms": _percentile(ok, 1.0),
                    "server_sockets_max": max((s for s, _ in sampled), default=None),
                    "server_rss_mb_max": round(max((r for _, r in sampled), default=0))})
    recovery = samples.get("recovery", [])
    # Back to listening plus the readers' own connections (one each, and one closing), for
    # the second half of the phase.
    settled = [s for s, _ in recovery[len(recovery) // 2:]]
    recovered = alive and bool(settled) and max(settled) <= idle_sockets + 2 * readers
    log(f"server sockets: {idle_sockets} listening; at most {max(settled, default=None)} in the second half of "
        f"the recovery ({readers} readers)")
    errors = sum(row["errors"] for row in phases)
    return {"server": server, "server_args": list(server_args), "articles": articles, "seconds": seconds,
            "readers": readers, "phases": phases, "idle_sockets": idle_sockets, "server_alive": alive,
            "recovered": recovered, "reader_errors": errors, "server_peak_rss_mb": round(peak_rss),
            "ok": errors == 0 and recovered, "server_log_tail": "".join(line for line in server_log.splitlines(keepends=True)
                                        if "Task queue depth" not in line)[-1500:]}


def table(result: dict) -> str:
    """The figures as a Markdown table (RELIABILITY.md)."""
    head = ("| phase | attack connections | reader requests | errors | p50 ms | p95 ms | max ms | "
            "server sockets (max) | attack conns closed by server | kept (median / max s) | server RSS MB |")
    lines = [head, "|" + "---|" * 11]
    for r in result["phases"]:
        kept = f"{r['kept_p50_s']} / {r['kept_max_s']}" if r["kept_p50_s"] is not None else "–"
        lines.append(f"| {r['phase']} | {r['attack_connections']} | {r['requests']} | {r['errors']} | {r['p50_ms']} | "
                     f"{r['p95_ms']} | {r['max_ms']} | {r['server_sockets_max']} | {r['closed_by_server']} | {kept} | "
                     f"{r['server_rss_mb_max']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--attack"]:  # one phase's attackers (see attack())
        return _attack_main(int(argv[1]), float(argv[2]), argv[3])
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", choices=("guarded", "plain"), default="guarded")
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--articles", type=int, default=300)
    ap.add_argument("--readers", type=int, default=4)
    ap.add_argument("--slowloris", type=int, default=150)
    ap.add_argument("--idle", type=int, default=150)
    ap.add_argument("--slow-readers", type=int, default=50)
    ap.add_argument("--half-bodies", type=int, default=50)
    ap.add_argument("--flood", type=int, default=1500)
    ap.add_argument("--out", default=None, help="default: reliability/results/slowclients[-plain].json")
    ap.add_argument("server_args", nargs="*", help="after --: options for vnsearch serve")
    args = ap.parse_args(argv)
    out = Path(args.out or RESULTS / f"slowclients{'-plain' if args.server == 'plain' else ''}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    logfile = open(out.with_suffix(".log"), "w", encoding="utf-8")

    def log(line: str) -> None:
        line = f"{time.strftime('%H:%M:%S')} {line}"
        print(line, flush=True)
        logfile.write(line + "\n")

    with tempfile.TemporaryDirectory(prefix="vnsearch-slow-") as work:
        result = run(Path(work), args.articles, args.seconds, args.readers, args.slowloris, args.idle,
                     args.slow_readers, args.half_bodies, args.flood, args.server, tuple(args.server_args), log)
    result["date"] = time.strftime("%Y-%m-%d %H:%M")
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n")
    log("\n" + table(result))
    log(f"reader errors {result['reader_errors']}, recovered {result['recovered']}, "
        f"server peak RSS {result['server_peak_rss_mb']} MB")
    log("server log (tail):\n" + result["server_log_tail"])
    logfile.close()
    sys.exit(0 if result["ok"] else 1)


if __name__ == "__main__":
    main()
