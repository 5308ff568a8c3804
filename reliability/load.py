"""Rebuild under load: the web server keeps answering while the index changes.

    python reliability/load.py --articles 3000 --clients 8

Builds an index of generated articles, starts ``vnsearch serve`` (waitress)
on 127.0.0.1, and runs ``--clients`` loopback clients that loop over search
pages, /api/search, article pages and /api/suggest.  Meanwhile
``vnsearch index`` first adds ``--added`` articles holding a new word
(incremental update), then rebuilds the whole index.  Every response must be
a 200; the new articles must become findable without restarting the server.
Writes reliability/results/load.json.  Needs no ../shared.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "reliability" / "results"
ENV = dict(os.environ, PYTHONPATH=str(ROOT))
NEW_WORD = "baimớiđến"
WORDS = ["hội nghị", "Mặt trận", "nông thôn mới", "an sinh xã hội", "bầu cử", "hoà giải", "Uỷ ban", "khu dân cư"]
TEXT = "{title}\n{d:02d}/06/2023\n{body}\nPhóng viên {n}\n"
QUERIES = ["mat tran", "Mặt trận Tổ quốc", '"hội nghị"', "UBND", "nông thôn mới", "hoa giai", "bầu cử -hoãn",
           "khu dân cư 2023", "an sinh", "uỷ ban", NEW_WORD, "xây*", "hội nghị~"]


def write_articles(folder: Path, start: int, count: int, rnd: random.Random, extra_word: str = "") -> None:
    for n in range(start, start + count):
        words = rnd.sample(WORDS, 4)
        body = " ".join(f"Bài {n} nói về {w} ở địa phương, {rnd.choice(WORDS)} và đời sống nhân dân." for w in words)
        title = f"Tin {n}: {words[0]} {extra_word}".strip()
        (folder / f"t{n:05d}.txt").write_text(TEXT.format(title=title, d=n % 28 + 1, body=body + " " + extra_word, n=n),
                                              encoding="utf-8")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def run(work: Path, articles: int, clients: int, added: int, settle: float = 2.0, seed: int = 3) -> dict:
    """Run the whole scenario; returns the figures (``failed`` must be 0)."""
    rnd = random.Random(seed)
    folder, ix_dir = work / "articles", work / "ix"
    folder.mkdir(parents=True)
    write_articles(folder, 0, articles, rnd)
    index = [sys.executable, "-m", "indexer.cli", "index", str(folder), "--index-dir", str(ix_dir), "-q", "--json"]
    subprocess.run(index, cwd=ROOT, env=ENV, check=True, stdout=subprocess.DEVNULL)
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "indexer.cli", "serve", "--port", str(port), "--index-dir",
                               str(ix_dir), "--seeds", str(work / "no-seeds")], cwd=work, env=ENV,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"

    def get(path: str, timeout: float = 30) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(base + path, timeout=timeout) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    deadline = time.time() + 60
    while True:
        try:
            get("/healthz", 2)
            break
        except OSError:
            if server.poll() is not None or time.time() > deadline:
                raise RuntimeError("server did not start: " + (server.stderr.read() if server.poll() else "")) from None
            time.sleep(0.2)

    stop = threading.Event()
    lock = threading.Lock()
    latencies: list[float] = []
    failures: list[str] = []
    new_word_seen: list[tuple[float, int]] = []  # (time, total) for the new word

    def client(k: int) -> None:
        crnd = random.Random(k)
        while not stop.is_set():
            q = crnd.choice(QUERIES)
            kind = crnd.random()
            if kind < 0.5:
                path = "/api/search?" + urllib.parse.urlencode({"q": q, "page": crnd.choice([1, 1, 2])})
            elif kind < 0.8:
                path = "/?" + urllib.parse.urlencode({"q": q, "sort": crnd.choice(["relevance", "date"])})
            elif kind < 0.9:
                path = f"/article/t{crnd.randrange(articles):05d}.txt"
            else:
                path = "/api/suggest?" + urllib.parse.urlencode({"q": q[:3]})
            t0 = time.perf_counter()
            try:
                status, body = get(path)
            except Exception as exc:  # a refused or dropped connection is a failure too
                status, body = 0, repr(exc).encode()
            elapsed = time.perf_counter() - t0
            with lock:
                latencies.append(elapsed)
                if status != 200:
                    failures.append(f"{status} {path} {body[:200]!r}")
                elif path.startswith("/api/search") and urllib.parse.quote(NEW_WORD) in path:
                    new_word_seen.append((time.time(), json.loads(body)["total"]))

    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(clients)]
    for t in threads:
        t.start()
    phases = {}

    def probe() -> int:
        """The new word's total, asked once, as a reader would after the change."""
        status, body = get("/api/search?" + urllib.parse.urlencode({"q": NEW_WORD}))
        return json.loads(body)["total"] if status == 200 else -status

    try:
        phases["probe_before_update"] = probe()
        time.sleep(settle)
        write_articles(folder, articles, added, rnd, extra_word=NEW_WORD)
        t0 = update_started = time.time()
        update = subprocess.run(index, cwd=ROOT, env=ENV, capture_output=True, text=True, check=True)
        phases["update_s"] = round(time.time() - t0, 1)
        phases["update_report"] = {k: v for k, v in json.loads(update.stdout).items() if k in ("added", "removed")}
        updated_at = time.time()
        phases["probe_after_update"] = probe()
        time.sleep(settle)
        t0 = time.time()
        subprocess.run(index + ["--rebuild"], cwd=ROOT, env=ENV, check=True, stdout=subprocess.DEVNULL)
        phases["rebuild_s"] = round(time.time() - t0, 1)
        rebuilt_at = time.time()
        phases["probe_after_rebuild"] = probe()
        time.sleep(settle)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
        rss = _peak_rss_mb(server.pid)
        server.terminate()
        server.wait(timeout=30)
    after_update = [total for t, total in new_word_seen if t > updated_at + 0.5]
    before_update = [total for t, total in new_word_seen if t < update_started]
    lat = sorted(latencies)
    return {
        "articles": articles, "clients": clients, "added": added, **phases,
        "requests": len(latencies), "failed": len(failures), "failures": failures[:20],
        "p50_ms": round(statistics.median(lat) * 1000, 1) if lat else None,
        "p95_ms": round(lat[int(0.95 * (len(lat) - 1))] * 1000, 1) if lat else None,
        "max_ms": round(lat[-1] * 1000, 1) if lat else None,
        "new_word_before_update": sorted(set(before_update)),
        "new_word_after_update": sorted(set(after_update)),
        "new_word_after_rebuild": sorted({total for t, total in new_word_seen if t > rebuilt_at + 0.5}),
        "server_peak_rss_mb": round(rss),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=3000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--added", type=int, default=200)
    ap.add_argument("--out", default=str(RESULTS / "load.json"))
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vnsearch-load-"))
    try:
        result = run(work, args.articles, args.clients, args.added)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result["date"] = time.strftime("%Y-%m-%d %H:%M")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n")
    print(json.dumps(result, ensure_ascii=False, indent=1))
    ok = result["failed"] == 0 and result["probe_before_update"] == 0 \
        and result["probe_after_update"] == result["probe_after_rebuild"] == args.added \
        and set(result["new_word_after_update"] + result["new_word_after_rebuild"]) <= {args.added}
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
