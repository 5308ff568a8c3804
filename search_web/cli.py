"""``vnsearch serve``: the search page served by the guarded waitress server.

Registered with the engine's CLI through the ``vnsearch.commands`` entry point (setup.cfg),
so that the engine package never imports the web package.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from indexer import IndexBusyError, IndexingFailed
from indexer.cli import index_dir_option

__all__ = ["serve_command"]

DEFAULT_WORKERS = min(os.cpu_count() or 1, 8)  # a query's Python work holds one core: one process each


@click.command("serve")
@index_dir_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--seeds", default="seeds", show_default=True, type=click.Path(),
              help="Indexed first when there is no index yet.")
@click.option("--workers", default=DEFAULT_WORKERS, show_default="the number of cores", type=click.IntRange(1, 64),
              help="Processes serving (pre-forked by gunicorn; 1: one waitress process).")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64), help="Threads per process.")
@click.option("--connection-limit", default=1000, show_default=True, type=click.IntRange(16, 100_000),
              help="Open connections per process; when full, the one waiting longest for its request is closed.")
@click.option("--max-per-client", default=50, show_default=True, type=click.IntRange(0, None),
              help="Connections one client address may hold waiting for their request (0: no cap).")
@click.option("--request-timeout", default=10.0, show_default=True, type=click.FloatRange(1, 3600),
              help="Seconds a connection has to send a complete request, from connecting or its previous response.")
def serve_command(index_dir, host, port, seeds, workers, threads, connection_limit, max_per_client, request_timeout):
    """Serve the search page: waitress (a production WSGI server) guarded against slow clients, in
    ``--workers`` processes pre-forked by gunicorn."""
    from . import create_app
    from .server import Limits, Server, fit_open_files

    app = create_app(index_dir=index_dir)
    limits = fit_open_files(Limits(connection_limit=connection_limit, max_per_client=max_per_client,
                                   request_timeout=request_timeout))
    if limits.connection_limit < connection_limit:
        click.echo(f"warning: --connection-limit lowered to {limits.connection_limit} "
                   "by the open-file limit (ulimit -n)", err=True)
    prefork = _prefork() if workers > 1 else None
    try:  # bound now, listening once the index is loaded: a taken port fails before any work
        if prefork:
            sockets = prefork.bind(host, port)
        else:
            server = Server(app, host=host, port=port, threads=threads, limits=limits)
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {host}:{port}: {exc.strerror or exc} (choose another --port)") from None
    ix = app.extensions["vnsearch"]
    if not ix.exists():
        if Path(seeds).exists():
            click.echo(f"no index yet: indexing {seeds} into {index_dir} …", err=True)
            try:
                click.echo(ix.update([seeds]).summary(), err=True)
            except (IndexBusyError, IndexingFailed) as exc:
                click.echo(f"warning: {exc}; serving what is there", err=True)
        else:
            click.echo(f"warning: no index in {index_dir} and no {seeds}/ to build one from", err=True)
    if prefork:  # warmed up before the fork: the workers share the model and the type-ahead table
        ix.warm_up(background=False)
        where = ", ".join(f"http://{_host(s.getsockname()[0])}:{s.getsockname()[1]}/" for s in sockets)
        prefork.serve(app, sockets, workers, threads, limits, ready=lambda: click.echo(
            f"serving on {where} (index: {index_dir}; {workers} processes of {threads} threads)", err=True))
        return
    ix.warm_up()
    try:
        server.listen()
    except OSError as exc:  # another server bound the same port first (SO_REUSEADDR lets both bind)
        server.close()
        raise click.ClickException(
            f"cannot listen on {host}:{port}: {exc.strerror or exc} (choose another --port)") from None
    where = ", ".join(f"http://{_host(h)}:{p}/" for h, p in server.addresses)
    click.echo(f"serving on {where} (index: {index_dir})", err=True)
    server.run()




def _host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _prefork():
    """The pre-forking server, or None where it cannot run (no fork, no gunicorn): then one
    waitress process serves, with a warning."""
    try:
        if not hasattr(os, "fork"):
            raise ImportError("no fork() on this system")
        from . import prefork
    except ImportError as exc:
        click.echo(f"warning: one process serves ({exc}); --workers needs gunicorn on a POSIX system", err=True)
        return None
    return prefork
