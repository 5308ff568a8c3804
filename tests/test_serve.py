"""`vnsearch serve` as a reader starts it: a real waitress process on 127.0.0.1, and its
guard against slow and idle clients (search_web.server) on real loopback sockets."""

import contextlib
import http.client
import json
import os
import resource
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from search_web.server import Limits, Server

from .conftest import ROOT, SEEDS, emptied_index


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_builds_index_from_seeds_then_answers(tmp_path):
    shutil.copytree(SEEDS, tmp_path / "seeds")
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "indexer.cli", "serve", "--port", str(port),
                             "--index-dir", str(tmp_path / "index_dir")],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as r:
                    health = json.load(r)
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read()
                assert time.time() < deadline, "server did not start"
                time.sleep(0.2)
        assert health["articles"] == 5
        with urllib.request.urlopen(base + "/api/search?q=mat%20tran%20to%20quoc", timeout=10) as r:
            assert r.headers["Server"] == "vnsearch"  # waitress, not Flask's dev server
            assert json.load(r)["total"] == 5
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert "indexing" in proc.stderr.read()


# --- the guarded server (search_web.server) on real loopback sockets ----------------------
TCP_ESTABLISHED = 1


def _hello(environ, start_response):
    if environ["PATH_INFO"] == "/slow":
        time.sleep(float(environ["QUERY_STRING"] or 1))
    if environ["PATH_INFO"] == "/big":
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(8 * 2**20))])
        return [b"x" * 2**20] * 8
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]


@contextlib.contextmanager
def _running(app=_hello, **limits):
    server = Server(app, "127.0.0.1", 0, threads=4, limits=Limits(**limits))
    server.listen()
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield server, server.addresses[0][1]
    finally:
        server.stop()
        thread.join(timeout=10)
        assert not thread.is_alive()


def _connect(port: int, source: str = "127.0.0.1") -> socket.socket:
    sock = socket.socket()
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", port))
    return sock


def _closed_by_server(sock: socket.socket, within: float) -> bool:
    """True once the server has closed ``sock`` (EOF or reset), False if still open after ``within``."""
    sock.settimeout(within)
    try:
        while sock.recv(65536):
            pass
        return True
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def _open(sock: socket.socket) -> bool:
    return struct.unpack("B", sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1))[0] == TCP_ESTABLISHED


def _get(port: int, path: str = "/", timeout: float = 5) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    finally:
        conn.close()


def test_a_connection_must_send_its_request_within_the_deadline():
    """Waitress alone keeps a connection sending a byte a second for ever (channel_timeout is
    inactivity); here it has request_timeout to send a complete request."""
    with _running(request_timeout=1.0) as (server, port):
        slow, idle = _connect(port), _connect(port)
        keepalive = _connect(port)
        keepalive.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert keepalive.recv(4096).startswith(b"HTTP/1.1 200")
        started = time.time()
        for byte in b"GET / HTTP/1.1\r\nHost: x\r\n":
            try:
                slow.send(bytes([byte]))
            except OSError:
                break
            if time.time() - started > 4:
                break
            time.sleep(0.2)
        assert _closed_by_server(slow, 0.1) and time.time() - started < 3.5
        assert _closed_by_server(idle, 1) and _closed_by_server(keepalive, 1)
        assert _get(port) == 200 and server.guard.timed_out >= 3


def test_a_request_being_served_is_never_cut():
    with _running(request_timeout=1.0, connection_limit=16) as (_, port):
        busy = _connect(port)
        busy.sendall(b"GET /slow?2.5 HTTP/1.1\r\nHost: x\r\n\r\n")  # longer than the deadline
        flood = [_connect(port, f"127.0.0.{2 + n % 5}") for n in range(30)]  # over the limit
        busy.settimeout(5)
        assert busy.recv(4096).startswith(b"HTTP/1.1 200")
        for sock in flood:
            sock.close()


def test_a_client_that_never_reads_is_dropped_after_the_send_timeout():
    """A response still being sent is not cut by the request deadline, but a reader that takes
    nothing for send_timeout is dropped (its buffered response freed)."""
    with _running(request_timeout=1.0, send_timeout=2.5) as (server, port):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", port))
        sock.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        started = time.time()
        time.sleep(1.8)  # past the request deadline: still open, the response is ours to send
        assert _open(sock) and len(server.guard.channels) == 1
        while time.time() - started < 6 and server.guard.channels:
            time.sleep(0.1)
        assert not server.guard.channels and 2.5 <= time.time() - started < 5
        sock.close()


def test_request_bodies_and_headers_over_their_caps_are_refused():
    with _running(max_body_bytes=1000) as (_, port):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("POST", "/", body=b"x" * 5000)
        assert conn.getresponse().status == 413
        conn.close()
        assert _get(port, "/?q=" + "m%E1%BA%B7t+" * 4000) == 200  # 48 KB: a long query still gets its page
        assert _get(port, "/?q=" + "m%E1%BA%B7t+" * 6000) == 431  # 72 KB


def test_one_address_cannot_hold_more_than_its_share_of_waiting_connections():
    with _running(max_per_client=3, request_timeout=30) as (_, port):
        mine = [_connect(port, "127.0.0.2") for _ in range(5)]
        other = _connect(port, "127.0.0.3")
        time.sleep(0.3)
        assert [_closed_by_server(s, 0.5) for s in mine[:2]] == [True, True]  # the oldest two
        assert all(_open(s) for s in mine[2:]) and _open(other)
        # A reader from the same address still gets in: the oldest waiting one makes room.
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5, source_address=("127.0.0.2", 0))
        conn.request("GET", "/")
        assert conn.getresponse().status == 200
        conn.close()
        assert _closed_by_server(mine[2], 1) and _open(mine[4])
        for s in mine + [other]:
            s.close()


def test_a_full_table_closes_the_connection_waiting_longest():
    """At waitress's limit new readers waited in the backlog; now the slowest client pays."""
    with _running(connection_limit=16, max_per_client=0, request_timeout=30) as (server, port):
        held = [_connect(port, f"127.0.0.{2 + n % 7}") for n in range(40)]
        time.sleep(0.3)
        assert len(server.guard.channels) <= 16
        assert _get(port, timeout=3) == 200
        assert _closed_by_server(held[0], 1) and _open(held[-1])
        for s in held:
            s.close()


def test_the_open_file_limit_is_raised_for_the_connection_limit(tmp_path):
    """poll() and a raised RLIMIT_NOFILE: 1,000 connections need more than the usual 1,024 descriptors."""
    def low_limits():
        resource.setrlimit(resource.RLIMIT_NOFILE, (512, 4096))

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)  # this process holds 1,100 connections
    if soft != resource.RLIM_INFINITY and soft < 1500:
        resource.setrlimit(resource.RLIMIT_NOFILE, (1500 if hard == resource.RLIM_INFINITY else min(1500, hard), hard))
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "indexer.cli", "serve", "--port", str(port), "--index-dir",
                             str(emptied_index(tmp_path)), "--connection-limit", "1000"], preexec_fn=low_limits,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(proc, port)
        soft = next(line.split()[3] for line in Path(f"/proc/{proc.pid}/limits").read_text().splitlines()
                    if line.startswith("Max open files"))
        assert int(soft) >= 1000 + 256
        held = [_connect(port, f"127.0.0.{2 + n % 50}") for n in range(1100)]  # past descriptor 1024
        assert _get(port, "/healthz", timeout=5) == 200
        for s in held:
            s.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_hard_open_file_limit_lowers_the_connection_limit_with_a_warning(tmp_path):
    def low_limits():
        resource.setrlimit(resource.RLIMIT_NOFILE, (600, 600))

    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "indexer.cli", "serve", "--port", str(port), "--index-dir",
                             str(emptied_index(tmp_path))], preexec_fn=low_limits,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(proc, port)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert "--connection-limit lowered to 344" in err


def _wait_for(proc, port: int, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            assert proc.poll() is None, proc.communicate()[1]
            assert time.time() < deadline, "server did not start"
            time.sleep(0.1)


def _serve(index_dir, port: int, *options: str, cwd=None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "indexer.cli", "serve", "--port", str(port), "--index-dir",
                             str(index_dir), *options], cwd=cwd, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_serve_starts_on_an_index_with_no_articles(tmp_path):
    """Issue 19: warm_up raised on an empty index, so `serve` did not start; every page was a 500."""
    port = _free_port()
    proc = _serve(emptied_index(tmp_path), port, "--seeds", str(tmp_path / "no-seeds"))
    try:
        _wait_for(proc, port)
        base = f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(base + "/healthz", timeout=5) as r:
            assert json.load(r) | {"time": None, "worker": None} == {
                "status": "ok", "articles": 0, "index": True, "time": None, "worker": None}
        for path in ("/", "/?q=mat+tran&sort=date&from=2019", "/?category=x"):
            with urllib.request.urlopen(base + path, timeout=5) as r:
                assert r.status == 200 and "Chỉ mục chưa có bài viết nào" in r.read().decode()
        with urllib.request.urlopen(base + "/api/search?q=x&mode=any", timeout=5) as r:
            assert json.load(r)["total"] == 0
        with urllib.request.urlopen(base + "/api/suggest?q=m%E1%BA%B7", timeout=5) as r:
            assert json.load(r)["suggestions"] == []
        assert _get(port, "/article/x") == 404
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert "Traceback" not in err and "serving on" in err


def test_a_taken_port_is_one_clear_line(tmp_path):
    """It printed "serving on …" and then a 35-line OSError traceback."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = _serve(emptied_index(tmp_path), port)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert err.strip().splitlines() == [(f"Error: cannot listen on 127.0.0.1:{port}: Address already in use "
                                         "(choose another --port)")]


def test_no_redirect_to_the_host_header_over_a_real_socket(tmp_path):
    port = _free_port()
    proc = _serve(emptied_index(tmp_path), port)
    try:
        _wait_for(proc, port)
        for path in ("/article//x", "//", "/api//search?q=x", "/static//style.css"):
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                sock.sendall(f"GET {path} HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n".encode())
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    head += chunk
            assert head.startswith(b"HTTP/1.1 "), head
            assert b"evil.example" not in head and b"Location: //" not in head, (path, head)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_slow_and_idle_clients_do_not_starve_readers(tmp_path):
    """reliability/slowclients.py, small: every phase's reader requests succeed."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("slowclients", ROOT / "reliability" / "slowclients.py")
    slowclients = sys.modules["slowclients"] = importlib.util.module_from_spec(spec)  # for its dataclasses
    spec.loader.exec_module(slowclients)
    result = slowclients.run(tmp_path, articles=30, seconds=2.5, readers=2, slowloris=40, idle=20, slow_readers=10,
                             half_bodies=10, flood=120, log=lambda line: None,
                             server_args=("--connection-limit", "48", "--max-per-client", "8",
                                          "--request-timeout", "1", "--workers", "1"))
    phases = {p["phase"]: p for p in result["phases"]}
    assert result["ok"], (result["recovered"], result["server_alive"], result["idle_sockets"],
                          [(p["phase"], p["errors"], p["error_examples"], p["server_sockets_max"]) for p in phases.values()])
    assert all(p["requests"] >= 5 and p["errors"] == 0 for p in phases.values()), phases
    assert phases["mixed"]["closed_by_server"] >= 40 and phases["mixed"]["kept_max_s"] <= 2.5
    assert phases["flood"]["server_sockets_max"] <= 48 + 8


def test_a_second_serve_on_a_port_the_first_listens_on_is_one_line_naming_port(tmp_path):
    """Issue 22: the second `vnsearch serve` on a busy port prints one line naming --port (no traceback,
    no "serving on") and exits non-zero; the first one keeps serving."""
    port = _free_port()
    index_dir = emptied_index(tmp_path)
    first = _serve(index_dir, port)
    try:
        _wait_for(first, port)
        second = _serve(index_dir, port)
        _, err = second.communicate(timeout=60)
        assert second.returncode == 1, err
        assert len(err.strip().splitlines()) == 1, err
        assert "--port" in err and str(port) in err and "Traceback" not in err and "serving on" not in err
        assert _get(port, "/healthz") == 200  # the first server is untouched
    finally:
        first.terminate()
        _, first_err = first.communicate(timeout=10)
    assert first_err.count("serving on") == 1


def test_a_port_bound_but_not_listening_is_also_one_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))  # bound, never listening: the bind fails, before any work
        port = taken.getsockname()[1]
        proc = _serve(emptied_index(tmp_path), port)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and out == ""
    assert err.splitlines() == [f"Error: cannot listen on 127.0.0.1:{port}: Address already in use (choose another --port)"]


# --- several processes (search_web.prefork) ------------------------------------------------
def _health(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as r:
        return json.load(r)


def _workers(pid: int) -> set[int]:
    return {int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}


def _answering(port: int, requests: int = 60) -> set[int]:
    """The worker pids that answered ``requests`` concurrent health checks."""
    seen: set[int] = set()
    lock = threading.Lock()

    def ask():
        for _ in range(requests // 6):
            worker = _health(port)["worker"]
            with lock:
                seen.add(worker)

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return seen


def _until(check, seconds: float = 30):
    deadline = time.time() + seconds
    while True:
        value = check()
        if value or time.time() > deadline:
            return value
        time.sleep(0.2)


def test_workers_share_the_port_and_a_dead_one_is_replaced(tmp_path):
    """--workers 2: two processes answer on one port; kill -9 of one is replaced by the arbiter
    while the other keeps answering; SIGTERM stops all of them, exit status 0."""
    port = _free_port()
    proc = _serve(emptied_index(tmp_path), port, "--workers", "2", "--seeds", str(tmp_path / "no-seeds"))
    try:
        _wait_for(proc, port)
        workers = _until(lambda: len(_workers(proc.pid)) == 2 and _workers(proc.pid))
        assert len(workers) == 2 and proc.pid not in workers
        assert _until(lambda: _answering(port) == workers), "both workers answer"
        victim = min(workers)
        os.kill(victim, 9)
        assert _health(port)["status"] == "ok"  # the other one, meanwhile
        replaced = _until(lambda: len(_workers(proc.pid)) == 2 and victim not in _workers(proc.pid)
                          and _workers(proc.pid))
        assert replaced and victim not in replaced and max(workers) in replaced
        assert _until(lambda: _answering(port) == replaced)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert all(not Path(f"/proc/{w}").exists() for w in workers | replaced)
    assert "serving on" in err and "2 processes" in err and "Traceback" not in err


def test_every_worker_sees_a_new_generation_and_sighup_replaces_them(tmp_path):
    """An update published while serving is seen by every worker at its next request, with no
    reload; SIGHUP (a code upgrade) replaces every worker and the port keeps answering."""
    import signal

    from indexer import open_index

    shutil.copytree(SEEDS, tmp_path / "seeds")
    ix = open_index(tmp_path / "ix")
    ix.update([tmp_path / "seeds"])
    port = _free_port()
    proc = _serve(tmp_path / "ix", port, "--workers", "2")
    try:
        _wait_for(proc, port)
        workers = _until(lambda: len(_workers(proc.pid)) == 2 and _workers(proc.pid))
        assert _until(lambda: _answering(port) == workers)
        (tmp_path / "seeds" / "new.txt").write_text("Bài mới về tập huấn\n01/02/2024\nNội dung bài mới về tập huấn "
                                                    "cán bộ Mặt trận.\nTác giả\n", encoding="utf-8")
        ix.update([tmp_path / "seeds"])
        counts: dict[int, int] = {}
        for _ in range(40):
            health = _health(port)
            counts[health["worker"]] = health["articles"]
        assert set(counts) == workers and set(counts.values()) == {6}
        os.kill(proc.pid, signal.SIGHUP)
        fresh = _until(lambda: len(_workers(proc.pid)) == 2 and not (_workers(proc.pid) & workers)
                       and _workers(proc.pid))
        assert fresh and _until(lambda: _answering(port) == fresh)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "Traceback" not in err, err
