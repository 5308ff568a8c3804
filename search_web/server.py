"""The production HTTP server: waitress, guarded against slow and idle clients.

Waitress closes a connection only after ``channel_timeout`` of *inactivity*, and at
``connection_limit`` (100) it stops accepting: 110 clients each sending one header byte
a second locked every reader out.  Here, on top of waitress (a channel and a server
subclass, no fork):

- a connection must send a complete request, headers and body, within
  ``request_timeout`` seconds of connecting or of its previous response, or it is closed
  (Apache's reqtimeout and KeepAliveTimeout, nginx's client_header_timeout);
- when the table is full, or one client address holds ``max_per_client`` connections
  waiting for their request, the connection that has waited longest is closed to make
  room: a reader's request arrives within milliseconds of connecting, so the slowest
  client pays, never the newest;
- the table holds 1000 connections, with the open-file limit raised to match and poll()
  instead of select() (which fails past descriptor 1024);
- a client that takes nothing of its response for ``send_timeout`` is dropped (waitress's
  inactivity timeout never closed a connection whose send buffer was full);
- request bodies are capped (no route takes one), and headers at 64 KB: a table full of
  connections each sending waitress's 256 KB allowance would hold 256 MB.

When every connection is busy with a request being served, new ones wait in the
kernel's backlog, as in plain waitress.  ``reliability/slowclients.py`` measures it.
"""

from __future__ import annotations

import resource
import socket
import threading
import time
from dataclasses import dataclass, replace

from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher

__all__ = ["Limits", "Server", "fit_open_files"]

FD_MARGIN = 256  # open files beside the connections: index segments, spilled bodies, logs


@dataclass(frozen=True)
class Limits:
    connection_limit: int = 1000
    max_per_client: int = 50       # connections waiting for their request, per address; 0: no cap
    request_timeout: float = 10.0  # seconds to send a complete request
    send_timeout: float = 30.0     # a response the client reads nothing of for this long is dropped
    max_body_bytes: int = 64 * 1024
    max_header_bytes: int = 64 * 1024  # a 1,000-character query is at most 9 KB encoded; waitress allows 256 KB


class _Channel(HTTPChannel):
    """A connection that knows since when it has been waiting for its client."""

    def __init__(self, server, sock, addr, adj, map=None):
        super().__init__(server, sock, addr, adj, map)
        self.waiting_since = self.creation_time
        server.guard.admit(self)

    def waiting(self) -> bool:
        """Nothing of ours in flight: the next move is the client's (a request, or the rest of one)."""
        return not (self.requests or self.total_outbufs_len or self.will_close or self.close_when_flushed)

    def quiet(self) -> bool:
        """``waiting()``, and nothing the client sent is left unread: under load the loop
        falls behind, and a request sitting in the kernel is not the client's delay."""
        if not self.waiting():
            return False
        try:
            return not self.socket.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)  # b"": closed by the client
        except OSError:  # BlockingIOError: nothing sent; other errors: a broken connection
            return True

    def service(self):
        super().service()
        self.waiting_since = time.time()

    def del_channel(self, map=None):
        self.server.guard.release(self)
        super().del_channel(map)


class _Guard:
    """The connection table shared by the listening sockets; used by the loop thread only."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.channels: dict[_Channel, None] = {}  # insertion-ordered sets
        self.by_client: dict[str, dict[_Channel, None]] = {}
        self.timed_out = self.stalled = self.shed = 0  # closed: no request in time, not reading, to make room

    def admit(self, channel: _Channel) -> None:
        self.channels[channel] = None
        mine = self.by_client.setdefault(_client(channel.addr), {})
        mine[channel] = None
        cap = self.limits.max_per_client
        if cap and len(mine) > cap and sum(c.waiting() for c in mine) > cap:
            self._shed_oldest(mine, channel)
        if len(self.channels) > self.limits.connection_limit:
            self._shed_oldest(self.channels, channel)

    def release(self, channel: _Channel) -> None:
        self.channels.pop(channel, None)
        client = _client(channel.addr)
        mine = self.by_client.get(client)
        if mine is not None:
            mine.pop(channel, None)
            if not mine:
                del self.by_client[client]

    def _shed_oldest(self, channels: dict, newcomer: _Channel) -> None:
        waiting = [c for c in channels if c is not newcomer and c.waiting()]
        while waiting:  # none: all are being served, and waitress stops accepting for now
            oldest = min(waiting, key=lambda c: c.waiting_since)
            if oldest.quiet():
                self.shed += _close_soon(oldest)
                return
            waiting.remove(oldest)

    def sweep(self, now: float) -> None:
        """Close connections past their deadlines (run every second by the loop).

        Waitress's own inactivity sweep only flags ``will_close``, which a channel acts on
        once its socket is writable: a client that stopped reading kept its connection and
        its buffered response for ever.  See ``_close_soon``.
        """
        for channel in list(self.channels):
            if channel.requests:  # a thread is serving it: never cut
                channel.waiting_since = now
            elif channel.total_outbufs_len or channel.will_close or channel.close_when_flushed:
                channel.waiting_since = now  # ours to send: the client must take some of it
                if now - channel.last_activity > self.limits.send_timeout:
                    self.stalled += _close_soon(channel)
            elif now - channel.waiting_since > self.limits.request_timeout and channel.quiet():
                self.timed_out += _close_soon(channel)


def _close_soon(channel: _Channel) -> int:
    """Have the loop close ``channel`` on its own next event (1 if not already closing).

    Not at once: a socket closed while the loop registers sockets for poll() or handles
    its events can hand its stale event to a connection accepted later in the same pass
    with the same descriptor (a reader's connection was reset that way).  Shut down, the
    socket reports POLLHUP even to a client that reads nothing.
    """
    new = not channel.will_close
    channel.will_close = True
    try:
        channel.socket.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    return int(new)


def _client(addr) -> str:
    return addr[0] if isinstance(addr, tuple) and addr else str(addr)


class _Listener(TcpWSGIServer):
    channel_class = _Channel

    def __init__(self, *args, guard: _Guard, **kw):
        self.guard = guard
        super().__init__(*args, **kw)

    def maintenance(self, now):
        self.guard.sweep(now)  # instead of waitress's inactivity sweep (see _Guard.sweep)


class Server:
    """``app`` on every address ``host`` resolves to: one loop, one thread pool, one table.

    The sockets are bound on construction (OSError if the port is taken) and accept
    connections from ``listen()``: a server can fail fast, then load its index, then listen.
    """

    def __init__(self, app, host: str = "127.0.0.1", port: int = 5000, threads: int = 8,
                 limits: Limits = Limits(), sockets: list[socket.socket] | None = None):
        self.limits = limits = fit_open_files(limits)
        self.adj = Adjustments(host=host, port=port, threads=threads, ident="vnsearch", cleanup_interval=1,
                               asyncore_use_poll=True, max_request_body_size=limits.max_body_bytes,
                               max_request_header_size=limits.max_header_bytes)
        # Waitress's own limit also counts the listening sockets, their wake-up pipes and the
        # connections closing in this pass: it stops accepting only when nothing waiting
        # could be closed to make room.
        self.adj.connection_limit = limits.connection_limit + 2 * len(self.adj.listen) + 16
        self.map: dict = {}
        self.guard = _Guard(limits)
        self.dispatcher = ThreadedTaskDispatcher()
        self.listeners: list[_Listener] = []
        self._stop = threading.Event()
        try:
            for sockinfo in self.adj.listen if sockets is None else []:
                self.listeners.append(_Listener(app, self.map, _start=False, dispatcher=self.dispatcher,
                                                adj=self.adj, sockinfo=sockinfo, guard=self.guard))
            for sock in sockets or []:  # bound and listening already (a pre-forked worker's)
                info = (sock.family, sock.type, sock.proto, sock.getsockname())
                self.listeners.append(_Listener(app, self.map, _start=False, _sock=sock, bind_socket=False,
                                                dispatcher=self.dispatcher, adj=self.adj, sockinfo=info,
                                                guard=self.guard))
        except OSError:
            self.close()
            raise
        self.dispatcher.set_thread_count(threads)

    @property
    def addresses(self) -> list[tuple[str, int]]:
        return [(s.effective_host, int(s.effective_port)) for s in self.listeners]

    def listen(self) -> None:
        for listener in self.listeners:
            listener.accept_connections()

    def run(self, tick=None) -> None:
        """Serve until ``stop()``, SIGINT or SystemExit; ``tick()`` (a pre-forked worker's
        heartbeat, returning False to stop) is called at least once a second."""
        try:
            while not self._stop.is_set() and (tick is None or tick()):
                wasyncore.poll2(self.adj.asyncore_loop_timeout, self.map)
        except (SystemExit, KeyboardInterrupt):
            pass
        finally:
            self.close()

    def stop(self) -> None:
        """Make ``run()`` return (from another thread)."""
        self._stop.set()
        if self.listeners:
            self.listeners[0].pull_trigger()

    def close(self) -> None:
        """Stop the threads, then close every socket (the loop thread's job once ``run()`` started)."""
        self.dispatcher.shutdown(timeout=2)  # first: a finishing request still wakes the loop's pipe
        for fd, obj in list(self.map.items()):
            if fd in self.map:  # a listener closes its wake-up pipe with it
                obj.handle_close() if isinstance(obj, HTTPChannel) else obj.close()


def fit_open_files(limits: Limits) -> Limits:
    """``limits`` with the open-file limit raised for its connections, or its connection limit
    lowered to what the hard open-file limit allows (a process's limit is its workers')."""
    fd_limit = _raise_open_files(limits.connection_limit + FD_MARGIN)
    if fd_limit < limits.connection_limit + FD_MARGIN:
        limits = replace(limits, connection_limit=max(16, fd_limit - FD_MARGIN))
    return limits


def _raise_open_files(wanted: int) -> int:
    """Raise the soft limit on open files towards ``wanted`` (as far as the hard limit
    allows); the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return wanted if soft == resource.RLIM_INFINITY else soft
    new = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    return new
