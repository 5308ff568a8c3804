"""`vnsearch serve` as a reader starts it: a real waitress process on 127.0.0.1."""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

from .conftest import ROOT, SEEDS


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
