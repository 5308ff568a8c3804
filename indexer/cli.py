"""``vnsearch``: the command line, one sub-command per API call.

    vnsearch index PATH... [--index-dir DIR] [--rebuild]     -> Index.update
    vnsearch search QUERY [--limit N] [--page N] [--json]    -> Index.search
    vnsearch show ID                                          -> Index.get
    vnsearch forget PATH...                                   -> Index.forget
    vnsearch stats                                            -> Index.stats
    vnsearch serve [--host H] [--port P]                      -> search_web (server.Server over create_app)
"""

from __future__ import annotations

import html
import json
import re
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn

import click

from . import (
    DEFAULT_INDEX_DIR,
    MAX_PER_PAGE,
    SORTS,
    BadSearchArgument,
    IndexBusyError,
    IndexingFailed,
    NoIndexError,
    Progress,
    open_index,
)

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

index_dir_option = click.option(  # shared with the commands of other packages (search_web.cli)
    "--index-dir", "index_dir", default=DEFAULT_INDEX_DIR, show_default=True,
    type=click.Path(file_okay=False), envvar="VNSEARCH_INDEX_DIR", help="Where the index lives.",
)


class _Commands(click.Group):
    """The engine's commands, and those other packages register under the entry-point group
    ``vnsearch.commands`` (``serve``, from search_web): the engine never imports the web
    layer, which sits above it."""

    def _plugins(self) -> dict[str, EntryPoint]:
        from importlib.metadata import entry_points

        return {ep.name: ep for ep in entry_points(group="vnsearch.commands")}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._plugins()))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if command is None and name in self._plugins():
            command = self._plugins()[name].load()
        return command


@click.group(cls=_Commands)
@click.version_option(package_name="vnsearch")
def main() -> None:
    """Full-text search for Vietnamese news articles."""


# Exit codes of `vnsearch index` (2 is click's, for usage errors).
EXIT_FAILED = 1          # nothing was committed: index busy, disk full, a worker died, a rebuild not published
EXIT_SOURCES_FAILED = 3  # committed what could be read; a source could not be read whole, and kept what it held
EXIT_INTERRUPTED = 130   # Ctrl-C (SIGINT); 143 for SIGTERM: nothing was changed


class _Terminated(KeyboardInterrupt):
    """SIGTERM, turned into an exception so that a run stops as on Ctrl-C: its workers
    stopped, its temporary files removed, the lock released."""


@contextmanager
def _writing(index_dir: str) -> Iterator[None]:
    """Run a command that writes the index: anticipated failures are one line and an exit
    status, never a traceback."""
    def terminate(signum, frame):
        raise _Terminated()

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    except (IndexBusyError, IndexingFailed, NoIndexError) as exc:
        _fail(str(exc), EXIT_FAILED)
    except _Terminated:
        _fail("terminated: nothing was changed", 143)
    except KeyboardInterrupt:
        _fail("interrupted: nothing was changed", EXIT_INTERRUPTED)
    except OSError as exc:  # a read-only filesystem, a folder we may not write to
        _fail(f"could not write the index in {index_dir}: {exc.strerror or exc}"
              + (f" ({exc.filename})" if exc.filename else ""), EXIT_FAILED)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _nonempty(ctx: click.Context, param: click.Parameter, paths: tuple[str, ...]) -> tuple[str, ...]:
    if any(not p.strip() for p in paths):
        raise click.BadParameter("an empty path names no source")
    return paths


@main.command("index")
@click.argument("paths", nargs=-1, required=True, type=click.Path(readable=False),  # unreadable: reported, kept
                callback=_nonempty)
@index_dir_option
@click.option("--rebuild", is_flag=True, help="Build a fresh index beside the live one and swap it in.")
@click.option("--jobs", type=click.IntRange(1, 64), default=None, help="Segmentation processes (default: cores).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option("--problems", "problems_log", type=click.File("w", encoding="utf-8", lazy=False), default=None,
              help="Write every problem to this file as JSON lines (the report lists a few of each kind).")
def index_command(paths, index_dir, rebuild, jobs, as_json, quiet, problems_log):
    """Add new, re-index changed and remove deleted articles under PATHS.

    PATHS are folders of article .txt files (the seeds' format) or JSON-lines
    files (.jsonl, .jsonl.gz, .ndjson) with id, title, date, body.  Exit status:
    0 done; 1 failed, nothing changed; 2 usage error; 3 done, but a source could
    not be read whole (what it held was kept); 130/143 interrupted/terminated.
    """
    from tqdm import tqdm

    ix = open_index(index_dir)
    bar: tqdm | None = None  # made when the sources' size is known

    def on_progress(where: Progress) -> None:
        """Bytes of the sources read, of their size on disk (a percentage, the time left), and the
        articles written; then the commit, seconds on a large index, said when it starts."""
        nonlocal bar
        if where.stage == "committing":
            if bar is not None:
                bar.close()
            click.echo(f"committing {where.articles:,} new or changed article{'' if where.articles == 1 else 's'}…",
                       err=True)
            return
        if bar is None:
            bar = tqdm(desc="indexing", total=where.bytes_total or None, unit="B", unit_scale=True,
                       unit_divisor=1024, file=sys.stderr, dynamic_ncols=True,
                       bar_format="{l_bar}{bar}| {n_fmt}B/{total_fmt}B [{elapsed}<{remaining}{postfix}]")
        elapsed = bar.format_dict["elapsed"]
        rate = f", {where.articles / elapsed:,.0f} articles/s" if elapsed > 0 and where.articles else ""
        bar.set_postfix_str(f"{where.articles:,} articles{rate}", refresh=False)
        bar.update(where.bytes_read - bar.n)

    def on_problem(problem) -> None:
        if problems_log is not None:
            problems_log.write(json.dumps({"where": problem.where, "reason": problem.reason, "skipped": problem.skipped,
                                           "id": problem.id, "source": problem.origin}, ensure_ascii=False) + "\n")

    try:
        with _writing(index_dir):
            report = ix.update(list(paths), rebuild=rebuild, jobs=jobs, on_problem=on_problem,
                               on_progress=None if quiet else on_progress)
    finally:
        if bar is not None:
            bar.close()
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(report.summary())
    if report.failed_sources:
        n = len(report.failed_sources)
        _fail(f"{n} source{'s' if n > 1 else ''} could not be read whole; nothing {'they' if n > 1 else 'it'} "
              "held was removed", EXIT_SOURCES_FAILED)


@main.command("forget")
@click.argument("paths", nargs=-1, required=True, type=click.Path(readable=False), callback=_nonempty)
@index_dir_option
def forget_command(paths, index_dir):
    """Remove every article indexed from PATHS (which need not exist any more).

    How to drop a source, or one that was moved: a source that cannot be read keeps
    its articles, so `vnsearch index` never removes them.  An article another source
    also holds is kept, and that source's version replaces it when it is next read.
    """
    with _writing(index_dir):
        report = open_index(index_dir).forget(list(paths))
    named = ", ".join(paths)
    if report.removed:
        click.echo(f"removed {report.removed:,} article{'' if report.removed == 1 else 's'} indexed from {named}")
    elif not report.warnings:
        click.echo(f"no article was indexed from {named}")
    for problem in report.warnings:
        click.echo(f"  kept {problem}")


def _fail(message: str, code: int, label: str = "Error") -> NoReturn:
    click.echo(f"{label}: {message}", err=True)
    sys.exit(code)


def _fail_vi(message: str, code: int) -> NoReturn:
    """A reader-facing command's failure (search, show), in Vietnamese as its output is."""
    _fail(message, code, "Lỗi")


def _no_index_vi(index_dir: str) -> NoReturn:
    _fail_vi(f"chưa có chỉ mục trong {index_dir}; hãy chạy: vnsearch index PATH --index-dir {index_dir}", 1)


_MARK_RE = re.compile(r"<mark>(.*?)</mark>", re.S)


def _terminal(snippet_html: str, color: bool) -> str:
    marked = _MARK_RE.sub(lambda m: click.style(m.group(1), bold=True, fg="yellow") if color else f"[{m.group(1)}]",
                          snippet_html)
    return html.unescape(marked)


@main.command("search")
@click.argument("query")
@index_dir_option
@click.option("--limit", "-n", default=10, show_default=True, type=int,
              help=f"Hits per page, at most {MAX_PER_PAGE} (as the web API's per_page).")
@click.option("--page", default=1, show_default=True, type=int)
@click.option("--sort", type=click.Choice(SORTS), default="relevance", show_default=True)
@click.option("--from", "date_from", default=None, help="Earliest date: YYYY, YYYY-MM or YYYY-MM-DD.")
@click.option("--to", "date_to", default=None, help="Latest date: YYYY, YYYY-MM or YYYY-MM-DD.")
@click.option("--any", "any_terms", is_flag=True, help="Rank by any word instead of requiring all.")
@click.option("--as-typed", is_flag=True, help="Words typed without diacritics: do not rank them as the index "
              "most often writes them.")
@click.option("--explain", is_flag=True, help="Show how each hit's score was made (each term, phrase and bonus).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def search_command(query, index_dir, limit, page, sort, date_from, date_to, any_terms, as_typed, explain, as_json):
    """Search the index.  QUERY supports "phrases", -exclusion, OR, title:, date:2020."""
    ix = open_index(index_dir)
    try:
        results = ix.search(query, page=page, per_page=limit, sort=sort, date_from=date_from,
                            date_to=date_to, mode="any" if any_terms else "all", as_typed=as_typed, explain=explain)
    except NoIndexError:
        _no_index_vi(index_dir)
    except BadSearchArgument as exc:  # a usage error, said in Vietnamese as the page says it
        _fail_vi(exc.message_vi, 2)
    if as_json:
        click.echo(json.dumps(results.to_dict(), ensure_ascii=False, indent=2))
        return
    color = sys.stdout.isatty()
    found = f"{results.total_text} kết quả ({results.took_ms:.0f} ms)"
    if results.page > results.pages:  # no hit to show: say why, not "trang 2/1"
        click.echo(f"{found}: trang {results.page} vượt quá số trang ({results.pages})")
    else:
        click.echo(f"{found}, trang {results.page}/{results.pages}")
    if results.reading:
        click.echo(f"Kết quả cho: {results.reading} (--as-typed: tìm đúng như đã gõ)")
    if results.notice:
        click.echo(f"! {results.notice}")
    if results.suggestion:
        click.echo(f"Có phải bạn muốn tìm: {results.suggestion}")
    for alt in results.alternatives:  # nothing found: the searches without what emptied it
        dropped = "".join(f" (bỏ --{'from' if d == 'date_from' else 'to' if d == 'date_to' else d})"
                          for d in alt.dropped)
        more = " (có một số từ)" if alt.some_words else ""
        total = f"{alt.total:,}".replace(",", ".")
        click.echo(f"Thử: {alt.query}{dropped} — {alt.label}: {total} kết quả{more}")
    for n, hit in enumerate(results.hits, (results.page - 1) * results.per_page + 1):
        click.echo("")
        click.echo(f"{n}. {click.style(hit.title, bold=True) if color else hit.title}")
        click.echo(f"   {hit.date or 'không rõ ngày'} · {hit.id}" + (f" · {hit.url}" if hit.url else ""))
        click.echo("   " + _terminal(hit.snippet, color).replace("\n", " "))
        for line in (hit.explanation or {}).get("details", []):
            click.echo(f"   = {line['value']:9.3f}  {line['description']}")


@main.command("show")
@click.argument("doc_id")
@index_dir_option
@click.option("--json", "as_json", is_flag=True)
def show_command(doc_id, index_dir, as_json):
    """Print one article as written."""
    try:
        article = open_index(index_dir).get(doc_id)
    except NoIndexError:
        _no_index_vi(index_dir)
    if article is None:
        _fail_vi(f"không có bài viết nào mang mã {doc_id!r}", 1)
    if as_json:
        click.echo(json.dumps(article.to_dict(), ensure_ascii=False, indent=2))
        return
    click.echo(article.title)
    click.echo(" · ".join(x for x in (article.date, article.author, article.source) if x))
    click.echo("")
    click.echo("\n\n".join(article.paragraphs))


@main.command("stats")
@index_dir_option
@click.option("--json", "as_json", is_flag=True)
def stats_command(index_dir, as_json):
    """Print what the index holds (articles, deleted copies still counted, segments, size on disk)."""
    stats = open_index(index_dir).stats()
    if as_json:
        click.echo(json.dumps(stats, ensure_ascii=False))
        return
    for key, value in stats.items():
        click.echo(f"{key}: {value}")


if __name__ == "__main__":  # pragma: no cover
    main()
