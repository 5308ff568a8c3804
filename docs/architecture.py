"""Draw docs/architecture.svg: the engine's layers, their modules, and the two flows.

    python docs/architecture.py          # needs graphviz's ``dot`` (Debian: graphviz)

The modules come from the package itself and every arrow of the two flows is checked
against the import graph (grimp, import-linter's own), so the picture cannot silently
go stale: a flow step whose import disappeared stops the script.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

HERE = Path(__file__).resolve().parent
LAYERS = [  # top to bottom, as setup.cfg's import-linter contract lists them
    ("web (search_web)", "search_web"),
    ("cli", "indexer.cli"),
    ("search", "indexer.search"),
    ("build", "indexer.build"),
    ("store", "indexer.store"),
    ("ingest", "indexer.ingest"),
    ("text", "indexer.text"),
    ("config, errors", "indexer.config|indexer.errors"),
]
# (caller, callee): each step imports the next.
QUERY_FLOW = [
    ("search_web.views", "indexer"), ("indexer", "indexer.search.engine"),
    ("indexer.search.engine", "indexer.search.request"), ("indexer.search.engine", "indexer.search.snapshot"),
    ("indexer.search.engine", "indexer.search.parser"), ("indexer.search.engine", "indexer.search.plan"),
    ("indexer.search.plan", "indexer.text.analysis"), ("indexer.search.engine", "indexer.search.evaluate"),
    ("indexer.search.evaluate", "indexer.search.bm25"), ("indexer.search.evaluate", "indexer.store.arrays_read"),
    ("indexer.search.engine", "indexer.search.collect"), ("indexer.search.engine", "indexer.search.rescore"),
    ("indexer.search.engine", "indexer.search.highlight"), ("indexer.search.engine", "indexer.search.suggest"),
    ("indexer.search.engine", "indexer.search.results"),
]
INDEX_FLOW = [
    ("indexer.cli", "indexer"), ("indexer", "indexer.build"), ("indexer.build", "indexer.build.update"),
    ("indexer.build.update", "indexer.ingest"), ("indexer.ingest", "indexer.ingest.sources"),
    ("indexer.ingest.sources", "indexer.ingest.jsonl"), ("indexer.ingest.sources", "indexer.ingest.articlefile"),
    ("indexer.build.update", "indexer.build.workers"), ("indexer.build.update", "indexer.store.documents"),
    ("indexer.store.documents", "indexer.text.analysis"), ("indexer.build.workers", "indexer.store.segment_writer"),
    ("indexer.store.segment_writer", "indexer.store.arrays_write"), ("indexer.build.update", "indexer.build.merge"),
    ("indexer.build.update", "indexer.store.generations"),
]


def layer_of(module: str) -> int:
    for i, (_, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes.split("|")):
            return i
    return -1


def dot_source() -> str:
    graph = grimp.build_graph("indexer", "search_web")
    for caller, callee in QUERY_FLOW + INDEX_FLOW:
        if not graph.direct_import_exists(importer=caller, imported=callee):
            raise SystemExit(f"stale flow: {caller} no longer imports {callee}")
    in_flows = {m for step in QUERY_FLOW + INDEX_FLOW for m in step}
    packages = {m for m in graph.modules if any(o.startswith(m + ".") for o in graph.modules)}
    modules = sorted(m for m in graph.modules if layer_of(m) >= 0 and not m.endswith(".data")
                     and (m not in packages or m in in_flows))
    lines = ['digraph layers {', '  rankdir=TB; compound=true; newrank=true; nodesep=0.12; ranksep=0.55;',
             '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", fontname="Helvetica", fontsize=10];',
             '  edge [arrowsize=0.6];', '  graph [fontname="Helvetica", fontsize=12];']
    for i, (label, _) in enumerate(LAYERS):
        members = [m for m in modules if layer_of(m) == i]
        lines.append(f'  subgraph cluster_{i} {{ label="{label}"; style="filled"; fillcolor="#f3f5f8"; '
                     'color="#9aa5b1"; labeljust="l";')
        lines += [f'    "{m}" [label="{m.rsplit(".", 1)[-1] if m.count(".") > 1 or m.startswith("search_web.") else m}"];'
                  for m in members]
        lines.append("    {rank=same; " + " ".join(f'"{m}";' for m in members) + "}")
        lines.append("  }")
    for i in range(len(LAYERS) - 1):  # keep the layers stacked
        a = next(m for m in modules if layer_of(m) == i)
        b = next(m for m in modules if layer_of(m) == i + 1)
        lines.append(f'  "{a}" -> "{b}" [style=invis, weight=10];')
    for flow, colour, name in ((QUERY_FLOW, "#1f6feb", "a query"), (INDEX_FLOW, "#c2410c", "an indexing run")):
        for n, (caller, callee) in enumerate(flow, 1):
            lines.append(f'  "{caller}" -> "{callee}" [color="{colour}", penwidth=1.6, fontcolor="{colour}", '
                         f'fontsize=8, label="{n}", tooltip="{name}, step {n}"];')
    lines.append('  legend [shape=plaintext, fillcolor="#ffffff", label=<<font color="#1f6feb">blue: a query</font>'
                 '<br/><font color="#c2410c">orange: an indexing run</font><br/>boxes: layers, '
                 'each importing only those below>];')
    lines.append("}")
    return "\n".join(lines)


def main() -> None:
    source = dot_source()
    (HERE / "architecture.dot").write_text(source + "\n", encoding="utf-8")
    subprocess.run(["dot", "-Tsvg", "-o", str(HERE / "architecture.svg"), str(HERE / "architecture.dot")], check=True)
    subprocess.run(["dot", "-Tpng", "-Gdpi=110", "-o", str(HERE / "architecture.png"), str(HERE / "architecture.dot")],
                   check=True)
    print(f"wrote {HERE / 'architecture.svg'} and .png", file=sys.stderr)


if __name__ == "__main__":
    main()
