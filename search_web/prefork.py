"""``vnsearch serve --workers N``: N processes, so that a query's Python work uses every core.

One process holds the GIL while it ranks a query: with eight waitress threads the
second core idled (27.5 requests/s at 8 clients).  Gunicorn's arbiter pre-forks the
workers, restarts one that dies, replaces them all on SIGHUP and stops them gracefully
on SIGTERM; each worker runs the guarded waitress server of ``server.py`` (slow-client
limits, bounded tables) on the listening sockets the arbiter hands it, which this
process bound first, so that a taken port fails before any work, in one line.

The index is opened and warmed up (its type-ahead table built) before the fork, and
every worker shares those pages with it; the posting arrays are read from files, so
the page cache holds one copy for all of them.  A new generation published by
``vnsearch index`` is seen by every worker at its next query, with no reload.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable

from gunicorn.app.base import BaseApplication
from gunicorn.workers.base import Worker
from waitress.adjustments import Adjustments

from .server import Limits, Server

__all__ = ["bind", "serve"]

BACKLOG = 1024


def bind(host: str, port: int) -> list[socket.socket]:
    """Listening sockets on every address ``host`` resolves to (as waitress resolves it);
    OSError if the port is taken."""
    out: list[socket.socket] = []
    try:
        for family, kind, proto, address in Adjustments(host=host, port=port).listen:
            sock = socket.socket(family, kind, proto)
            out.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(BACKLOG)
            sock.set_inheritable(True)
    except OSError:
        for sock in out:
            sock.close()
        raise
    return out


class GuardedWorker(Worker):
    """A gunicorn worker that serves with the guarded waitress server."""

    def run(self) -> None:
        options: _Application = self.app
        server = Server(self.wsgi, threads=options.threads, limits=options.limits,
                        sockets=[s.sock for s in self.sockets])
        server.listen()
        parent = self.ppid

        def tick() -> bool:
            self.notify()  # the arbiter restarts a worker silent for ``timeout`` seconds
            return self.alive and os.getppid() == parent

        server.run(tick)


class _Application(BaseApplication):
    def __init__(self, app, sockets: list[socket.socket], workers: int, threads: int, limits: Limits,
                 ready: Callable[[], None]):
        self.app, self.threads, self.limits = app, threads, limits
        self.options = {
            "bind": [f"fd://{s.fileno()}" for s in sockets],
            "workers": workers,
            "worker_class": f"{GuardedWorker.__module__}.{GuardedWorker.__qualname__}",
            "timeout": 60,           # a worker whose loop is silent this long is restarted
            "graceful_timeout": 10,  # requests in flight finish within this on SIGTERM or SIGHUP
            "loglevel": "warning",
            "errorlog": "-",
            "when_ready": lambda arbiter: ready(),
            "proc_name": "vnsearch",
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return self.app


def serve(app, sockets: list[socket.socket], workers: int, threads: int, limits: Limits,
          ready: Callable[[], None]) -> None:
    """Serve ``app`` on ``sockets`` (from :func:`bind`) with ``workers`` processes until
    SIGTERM or SIGINT; ``ready()`` once the arbiter runs."""
    _Application(app, sockets, workers, threads, limits, ready).run()
