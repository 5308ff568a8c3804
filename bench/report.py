"""Write BENCHMARKS.md (and bench/results/latency.png) from bench/results/*.json.

    python bench/report.py

Only measured numbers appear; a benchmark that has not been run yet is listed as such.
"""

from __future__ import annotations

import json

from common import RESULTS, ROOT

TARGETS = {  # no regression (issue 21 withdrew vietnews-title's 0.85)
    "vietnews-title": 0.834,
    "vicov19qa": 0.366,
}
INDEXING_TARGET = 400  # articles/s, full corpus, 2 cores


def ran(result) -> str:
    """Where a number came from: the command, when, and the commit that ran."""
    if result.get("parts"):  # parts run in parallel, merged (relevance.py --merge)
        return "Commands (run in parallel, then `" + result["command"] + "`): " + "; ".join(
            f"`{p['command']}` — {p['machine']['date']}, commit {p['machine']['commit']}" for p in result["parts"]) + "."
    m = result["machine"]
    return f"Command: `{result['command']}` — {m['date']}, commit {m['commit']}."


def load(name):
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def relevance_section(rel) -> list[str]:
    if not rel:
        return ["Not run yet: `python bench/relevance.py`.", ""]
    out = [ran(rel), "",
           "Engine = any-term ranked search through `Index.search(mode=\"any\")`; FTS5 = SQLite FTS5 "
           "(`unicode61`, diacritics kept, bm25) on the same documents in the same run. "
           "\"stripped\" = the same queries with every diacritic removed, as readers type.", "",
           "| collection | split | system | MRR@10 | nDCG@10 | R@10 | R@100 | MRR@10 stripped | kept |",
           "|---|---|---|---:|---:|---:|---:|---:|---:|"]
    for coll, data in rel["collections"].items():
        for split, r in data["splits"].items():
            for system in ("engine", "fts5"):
                x, s = r[system], r[system + "_no_diacritics"]
                kept = s["mrr@10"] / x["mrr@10"] if x["mrr@10"] else 0
                out.append(f"| {coll} | {split} | {system} | {x['mrr@10']:.3f} | {x['ndcg@10']:.3f} | "
                           f"{x['recall@10']:.3f} | {x['recall@100']:.3f} | {s['mrr@10']:.3f} | {kept:.0%} |")
    out += ["", "Targets (test split): " + ", ".join(
        f"{c} MRR@10 ≥ {t}: " + (f"{rel['collections'][c]['splits']['test']['engine']['mrr@10']:.3f} "
                                 f"({'met' if rel['collections'][c]['splits']['test']['engine']['mrr@10'] >= t else 'NOT met'})"
                                 if c in rel["collections"] and "test" in rel["collections"][c]["splits"] else "not run")
        for c, t in TARGETS.items()) + f"; stripped queries keep ≥ 90% of MRR@10: {kept_text(rel)}.", ""]
    for coll, data in rel["collections"].items():
        for split, r in data["splits"].items():
            out.append(f"- {coll} {split}: {r['queries']} queries, engine {r['engine_ms_per_query']} ms/query, "
                       f"FTS5 {r['fts5_ms_per_query']} ms/query; {data['documents']} documents.")
    return out + [""]


def kept_text(rel) -> str:
    kept = {c: d["splits"]["test"]["engine_no_diacritics"]["mrr@10"] / d["splits"]["test"]["engine"]["mrr@10"]
            for c, d in rel["collections"].items() if "test" in d["splits"] and d["splits"]["test"]["engine"]["mrr@10"]}
    if not kept:
        return "not run"
    low = min(kept.values())
    return f"at least {low:.0%} on every test split ({'met' if low >= 0.9 else 'NOT met'})"


def indexing_section(idx) -> list[str]:
    if not idx:
        return ["Not run yet: `python bench/indexing.py`.", ""]
    out = [ran(idx), "",
           "| articles | engine articles/s | MB/s | peak RSS MB | index MB | FTS5 articles/s | pyvi alone articles/s (1 core) | engine segmenter articles/s (1 core) | engine/pyvi throughput |",
           "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n, r in idx["sizes"].items():
        e, s = r["engine"], r["segmentation"]
        out.append(f"| {int(n):,} | {e['articles_per_s']} | {e['mb_text_per_s']} | {e['peak_rss_mb']} | {e['index_mb']} | "
                   f"{r['fts5']['articles_per_s']} | {s['pyvi_articles_per_s']} | {s['engine_segmenter_articles_per_s']} | "
                   f"{r['engine_vs_pyvi_throughput']}× |")
    full = idx["sizes"].get("111828")
    if full:
        rate = full["engine"]["articles_per_s"]
        out += ["", f"Target: ≥ {INDEXING_TARGET} articles/s end to end on the full corpus: {rate} "
                    f"({'met' if rate >= INDEXING_TARGET else 'NOT met'})."]
    return out + [""]


def segmentation_section(seg) -> list[str]:
    """The proof behind the faster segmenter: identical output to pyvi on a corpus sample."""
    if not seg:
        return ["Not run yet: `python bench/segmentation.py`.", ""]
    differ = seg["differ"]
    return [ran(seg), "",
            f"Every {seg['every']}th corpus article, {seg['articles']:,} in all ({seg['tokens']:,} syllables), "
            f"segmented by `pyvi.ViTokenizer.tokenize` and by the engine: **{seg['identical']:,} identical**"
            + (f", {len(differ)} differ ({', '.join(differ[:10])})" if differ else "")
            + (f"; the indexer's path without offsets gives the same tokens and words for "
               f"**{seg['identical_without_offsets']:,}**" if "identical_without_offsets" in seg else "")
            + f". CPU per article (same processes): pyvi {seg['pyvi_cpu_ms_per_article']} ms, engine "
            f"{seg['engine_cpu_ms_per_article']} ms ({seg['engine_speedup']}× pyvi).", ""]


def incremental_section(inc) -> list[str]:
    if not inc:
        return ["Not run yet: `python bench/incremental.py`.", ""]
    t = inc["touched"]
    return [ran(inc), "",
            f"Index of {inc['size']:,} articles; {t['added']} added, {t['updated']} changed, {t['removed']} deleted "
            f"({t['unchanged']:,} unchanged): incremental update {inc['incremental_seconds']} s against a full "
            f"rebuild of the same input {inc['full_rebuild_seconds']} s in the same run = "
            f"**{inc['incremental_over_rebuild']:.1%}** of a rebuild (target ≤ 3%).", ""]


def acronyms_section(acr) -> list[str]:
    if not acr:
        return ["Not run yet: `python bench/acronyms.py`.", ""]
    e, a = acr["engine"], acr["forms_weighted_alike"]
    rows = ["| query | top 10 titles about the concept: forms weighted alike | engine |", "|---|---:|---:|"]
    rows += [f"| {q} | {a['queries'][q]} | {n} |" for q, n in e["queries"].items()]
    return [ran(acr), "",
            f"Index of the first {acr['size']:,} corpus articles; every form of {len(acr['groups'])} acronym groups "
            f"searched as typed (and without diacritics). A hit counts when its title names the concept in some form. "
            f"Mean per query: **{e['mean_title_about_at_10']}** of 10 for the engine, "
            f"{a['mean_title_about_at_10']} in the same run with every form weighted alike.", ""] + rows + [""]


def topics_section(top, base) -> list[str]:
    if not top:
        return ["Not run yet: `python bench/topics.py`.", ""]
    t = top["vi_topics_dev"]
    rows = ["| mode | nDCG@10 | P@10 | judged@10 | before (nDCG@10 / P@10) |", "|---|---:|---:|---:|---|"]
    for mode, m in t["modes"].items():
        b = (base or {}).get("vi_topics_dev", {}).get("modes", {}).get(mode)
        rows.append(f"| {mode} | {m['ndcg@10']:.3f} | {m['p@10']:.3f} | {m['judged@10']:.3f} | "
                    + (f"{b['ndcg@10']:.3f} / {b['p@10']:.3f} |" if b else "– |"))
    worst = sorted(t["modes"]["all"]["per_query"].values(), key=lambda r: r["ndcg@10"])[:5]
    out = [ran(top), "",
           f"../shared/ir/vi-topics dev: {t['queries']} short topical queries (a third without diacritics) over "
           f"{t['documents']:,} articles, {t['judgments']} graded judgments (the collection's and the project's blind "
           "ones in `bench/data/`); nDCG@10 with gain 2^grade − 1. \"before\" is the engine before shingles "
           "(`topics-baseline.json`, scored with the judgments of its day: later blind judgments raise the ideal, "
           "so it would score lower today). Targets (issue 21): nDCG@10 ≥ 0.93 and P@10 ≥ 0.95 (default mode: "
           f"{t['modes']['all']['ndcg@10']:.3f} "
           f"({'met' if t['modes']['all']['ndcg@10'] >= 0.93 else 'NOT met'}) and {t['modes']['all']['p@10']:.3f} "
           f"({'met' if t['modes']['all']['p@10'] >= 0.95 else 'NOT met'})).", ""] + rows
    out += ["", "Weakest (default mode): " + ", ".join(f"{r['text']} {r['ndcg@10']:.2f}" for r in worst) + "."]
    for check in top.get("slice_5000", []):
        out.append(f"- 5,000-article slice, `{check['query']}`: {check['concept_in_top']} of the top {check['depth']} "
                   f"name the concept (phrase or acronym){'' if check['met'] else ' (NOT met)'}.")
    return out + [""]


def completion_section(com) -> list[str]:
    if not com:
        return ["Not run yet: `python bench/completion.py`.", ""]
    rows = ["| typed | next word in the top 5 | `Index.complete` p50 / p95 ms | `/api/suggest` (in process) "
            "p50 / p95 ms |", "|---|---:|---:|---:|"]
    for label in ("accented", "unaccented"):
        r = com[label]
        rows.append(f"| {label} | {r['next_word_in_top5']:.1%} | {r['api_ms']['p50']} / {r['api_ms']['p95']} | "
                    f"{r['app_ms']['p50']} / {r['app_ms']['p95']} |")
    ok = all(com[k]["next_word_in_top5"] >= 0.8 and com[k]["app_ms"]["p95"] <= 20 for k in ("accented", "unaccented"))
    return [ran(com), "",
            f"{com['prefixes']} random corpus titles, typed as their first syllable and 1–3 letters of the next, with "
            f"and without diacritics, over {com['documents']:,} articles: is the title's second syllable the next "
            "syllable of one of the top 5 completions? Targets (issue 22): ≥ 80% and p95 ≤ 20 ms "
            f"({'met' if ok else 'NOT met'}). The phrase table is built once per generation and process "
            f"({com['table_build_s']} s; `vnsearch serve` builds it behind, at start).", ""] + rows + [""]


def suggest_section(runs: list) -> list[str]:
    """Did-you-mean at each index size (bench/suggest.py: suggest-seeds, suggest-5k, suggest)."""
    runs = [r for r in runs if r]
    if not runs:
        return ["Not run yet: `python bench/suggest.py`.", ""]
    rows = ["| index | suggester | clean queries with a suggestion (false alarms) | typos fixed | typos given a wrong "
            "suggestion | typos with none | search with a typo, p50 / p95 ms |", "|---|---|---:|---:|---:|---:|---:|"]
    names = {"spelling": "engine", "frequency_only": "frequency and marks only (before)"}
    lines = []
    for sug in runs:
        for key, label in names.items():
            r = sug["rows"][key]
            rows.append(f"| {sug['documents']:,} articles | {label} | {r['false_alarm_share']:.1%} | "
                        f"{r['fixed_share']:.1%} | {r['wrong_share']:.1%} | {r['missed_share']:.1%} | "
                        f"{r['typo_search_ms_p50']} / {r['typo_search_ms_p95']} |")
        lines.append(f"- {sug['documents']:,} articles, {sug['queries_per_set']} queries a set: {ran(sug)}")
    ok = all(s["rows"]["spelling"]["false_alarm_share"] <= 0.05 and s["rows"]["spelling"]["fixed_share"] >= 0.8
             for s in runs)
    return lines + ["",
                    "Runs of 2-3 words from the index's titles (for the five seed articles, titles and paragraphs: "
                    "queries repeat) holding a rare word, searched as written and with one typo (a tone mark dropped, "
                    "a letter deleted, doubled, swapped or replaced by a neighbouring key, past the first letter, "
                    "making a word no article holds). Both suggesters in the same run. Target (issue 22): false "
                    f"alarms ≤ 5% and typos fixed ≥ 80% at every size ({'met' if ok else 'NOT met'}). A typo search "
                    "costs more than others: the close words are counted beside the typed neighbours.", ""] + rows + [""]


def keystrokes_section(key) -> list[str]:
    if not key:
        return ["Not run yet: `python bench/keystrokes.py`.", ""]
    r = key["rows"]
    rows = ["| typed | article in the top 10 |", "|---|---:|",
            f"| as written | {r['as_written']['found_at_10']:.1%} |",
            f"| without diacritics | {r['without_diacritics']['found_at_10']:.1%} |",
            f"| keyboard off (Telex / VNI keys), engine | **{r['keyboard_off']['found_at_10']:.1%}** "
            f"(Telex {r['keyboard_off_telex']['found_at_10']:.1%}, VNI {r['keyboard_off_vni']['found_at_10']:.1%}) |",
            f"| keyboard off, keystrokes not decoded (before) | {r['keyboard_off_not_decoded']['found_at_10']:.1%} |"]
    ex = "; ".join(f"“{a}” → `{b}`" for a, b in key["examples"][:2])
    return [ran(key), "",
            f"{key['runs']} runs of 3-5 words from titles of the {key['documents']:,}-article index, each with at least two "
            f"accented words, typed as the keys pressed with the Vietnamese keyboard off ({ex}). All rows in the same run.",
            ""] + rows + [""]


def reclaim_section(rec) -> list[str]:
    if not rec:
        return ["Not run yet: `python bench/reclaim.py`.", ""]
    on, off = rec["reclaim"], rec["no_reclaim"]
    return [ran(rec), "",
            f"Index of {rec['size']:,} articles, {rec['changed']:,} of them changed in one update. Rewriting the "
            f"segments left more than a third deleted (as the engine does): {on['seconds']} s = "
            f"**{on['over_rebuild']:.0%}** of a full rebuild of the same input in the same run "
            f"({rec['full_rebuild_seconds']} s), {on['deleted_left']:,} deleted copies left; without the rewrite "
            f"(Whoosh's policy): {off['seconds']} s = {off['over_rebuild']:.0%}, but {off['deleted_left']:,} "
            f"deleted copies left counting in document frequencies and lengths.", ""]


def latency_section(runs) -> list[str]:
    if not runs:
        return ["Not run yet: `python bench/latency.py`.", ""]
    out = ["| index | documents | engine p50 / p95 / p99 ms | FTS5 p50 / p95 / p99 ms | p50 ratio | HTTP clients | HTTP p50 / p95 / p99 ms | errors | req/s | server RSS MB |",
           "|---|---:|---|---|---:|---:|---|---:|---:|---:|"]
    for name, r in runs:
        e, f, h = r["python_api"], r["fts5"], r.get("http")
        http = (f"{h['clients']} | {h['p50_ms']} / {h['p95_ms']} / {h['p99_ms']} | {h['errors']} | {h['requests_per_s']} | "
                f"{h['server_peak_rss_mb']}") if h else "– | – | – | – | –"
        out.append(f"| {name} | {r['documents']:,} | {e['p50_ms']} / {e['p95_ms']} / {e['p99_ms']} | "
                   f"{f['p50_ms']} / {f['p95_ms']} / {f['p99_ms']} | {r['p50_ratio_engine_over_fts5']}× | {http} |")
    # Targets and query kinds: the latest run on the largest index.
    name, big = max(runs, key=lambda nr: (nr[1]["documents"], nr[1]["machine"]["date"]))
    out += ["", f"Targets on `{name}` ({big['documents']:,} documents): " + "; ".join(
        f"{what}: {value} ({'met' if ok else 'NOT met'})" for what, value, ok in latency_targets(big)) + "."]
    if big.get("by_kind"):
        out += ["", f"By query kind on `{name}` ({big['documents']:,} documents), p50 / p95 ms:", "",
                "| kind | engine | FTS5 | p50 ratio |", "|---|---|---|---:|"]
        for kind, k in big["by_kind"].items():
            e, f = k["engine"], k["fts5"]
            ratio = e["p50_ms"] / f["p50_ms"] if f["p50_ms"] else 0
            out.append(f"| {kind} | {e['p50_ms']} / {e['p95_ms']} | {f['p50_ms']} / {f['p95_ms']} | {ratio:.1f}× |")
    if big.get("related"):
        rel = big["related"]
        e, w = rel["engine"], rel["whoosh_more_like"]
        out += ["", f"Related articles (the article page), `{name}`: engine p50 / p95 {e['p50_ms']} / {e['p95_ms']} ms "
                f"over {e['n']} random articles; Whoosh's own more-like-this, the same query, {w['p50_ms']} / "
                f"{w['p95_ms']} ms over {w['n']} of them in the same run ({rel['p50_ratio_whoosh_over_engine']}× at p50)."]
    if big.get("http_runs"):
        out += ["", f"HTTP on `{name}`, one server process against several (`vnsearch serve --workers N`), the same "
                "queries in the same run; memory summed over the server's processes (peak RSS counts the pages the "
                "workers share once per process, PSS splits them):", "",
                "| processes | clients | p50 / p95 / p99 ms | errors | req/s | peak RSS MB (sum) | PSS MB (sum) |",
                "|---:|---:|---|---:|---:|---:|---:|"]
        for h in big["http_runs"]:
            out.append(f"| {h['workers']} | {h['clients']} | {h['p50_ms']} / {h['p95_ms']} / {h['p99_ms']} | "
                       f"{h['errors']} | {h['requests_per_s']} | {h['server_peak_rss_mb']} | {h.get('server_pss_mb', '–')} |")
        many = [h for h in big["http_runs"] if h["workers"] > 1]
        eight = next((h for h in many if h["clients"] == 8), None)
        more = next((h for h in many if h["clients"] >= 32), None)
        goals = []
        if eight:
            goals += [("8 clients ≥ 60 req/s", f"{eight['requests_per_s']}", eight["requests_per_s"] >= 60),
                      ("8 clients p95 ≤ 300 ms", f"{eight['p95_ms']} ms", eight["p95_ms"] <= 300),
                      ("8 clients 0 errors", f"{eight['errors']}", eight["errors"] == 0),
                      ("all workers ≤ 800 MB (PSS)", f"{eight.get('server_pss_mb')} MB",
                       (eight.get("server_pss_mb") or 10**9) <= 800)]
        if more:
            goals.append((f"{more['clients']} clients 0 errors", f"{more['errors']}", more["errors"] == 0))
        if goals:
            out += ["", "Issue 23's HTTP targets: " + "; ".join(
                f"{what}: {value} ({'met' if ok else 'NOT met'})" for what, value, ok in goals) + "."]
    cmds = "; ".join(f"`{r['command']}` ({r['machine']['date']}, commit {r['machine']['commit']})" for _, r in runs)
    out += ["", f"Commands: {cmds}.", "", "![latency against index size](bench/results/latency.png)", ""]
    return out


def latency_targets(r) -> list[tuple[str, str, bool]]:
    e, h = r["python_api"], r.get("http")
    out = [("p50 ≤ 3× FTS5's", f"{r['p50_ratio_engine_over_fts5']}×", r["p50_ratio_engine_over_fts5"] <= 3),
           ("p95 ≤ 50 ms", f"{e['p95_ms']} ms", e["p95_ms"] <= 50)]
    if h:
        out += [(f"{h['clients']} concurrent clients without errors", f"{h['errors']} errors",
                 h["clients"] >= 8 and h["errors"] == 0),
                ("server memory ≤ 800 MB (PSS summed over its processes, issue 23)",
                 f"{h.get('server_pss_mb', h['server_peak_rss_mb'])} MB (peak RSS summed: {h['server_peak_rss_mb']} MB)",
                 h.get("server_pss_mb", h["server_peak_rss_mb"]) <= 800)]
    return out


def plot(runs) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed (pip install -e '.[bench]'): no plot")
        return
    runs = sorted(runs, key=lambda nr: nr[1]["documents"])
    docs = [r["documents"] for _, r in runs]
    fig, ax = plt.subplots(figsize=(6, 4), dpi=110)
    for key, label in (("python_api", "engine (Python API)"), ("fts5", "SQLite FTS5")):
        for pct, style in (("p50_ms", "-o"), ("p95_ms", "--s")):
            ax.plot(docs, [r[key][pct] for _, r in runs], style, label=f"{label} {pct[:3]}")
    points = sorted((json.loads(p.read_text(encoding="utf-8")) for p in RESULTS.glob("scale-*.json")),
                    key=lambda r: r["documents"])
    points = [p for p in points if p.get("python_api")]
    if points:  # the engine past the corpus (bench/scale.py), joined to its runs above
        for pct, style in (("p50_ms", "-o"), ("p95_ms", "--s")):
            ax.plot([docs[-1]] + [p["documents"] for p in points],
                    [runs[-1][1]["python_api"][pct]] + [p["python_api"][pct] for p in points], style, color="grey",
                    label=f"engine, corpus repeated {pct[:3]}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("documents in index")
    ax.set_ylabel("latency (ms)")
    ax.set_title("Query latency against index size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(RESULTS / "latency.png")


def scale_section(points: list[dict], runs) -> list[str]:
    """Where one machine stops (bench/scale.py), beside the latency runs at smaller sizes."""
    if not points:
        return ["Not run yet: `python bench/scale.py --sizes 1000000`.", ""]
    out = ["| articles | build articles/s | build peak RSS MB | index KB/article | API p50 / p95 / p99 ms | "
           "HTTP (2 processes) clients: req/s, p95 ms, errors | server PSS MB |", "|---:|---:|---:|---:|---|---|---:|"]
    idx = load("indexing") or {}
    corpus_runs = [(n, r) for n, r in runs if not n.startswith(("xquad", "vicov"))]  # slices of the corpus only
    latest = {r["documents"]: r for _, r in sorted(corpus_runs, key=lambda nr: nr[1]["machine"]["date"])}
    for r in (latest[n] for n in sorted(latest)):  # the latest latency run at each size
        b = (idx.get("sizes") or {}).get(str(r["documents"]), {}).get("engine")
        e = r["python_api"]
        h = [x for x in r.get("http_runs", []) if x["workers"] > 1] or ([r["http"]] if r.get("http") else [])
        out.append(f"| {r['documents']:,} | {b['articles_per_s'] if b else '–'} | {b['peak_rss_mb'] if b else '–'} | "
                   f"{round(b['index_mb'] * 1024 / r['documents'], 2) if b else '–'} | "
                   f"{e['p50_ms']} / {e['p95_ms']} / {e['p99_ms']} | "
                   + "; ".join(f"{x['clients']}: {x['requests_per_s']}, {x['p95_ms']}, {x['errors']}" for x in h)
                   + f" | {max((x['server_pss_mb'] for x in h if x.get('server_pss_mb')), default='–')} |")
    for p in sorted(points, key=lambda r: r["documents"]):
        b, e, h = p["build"], p.get("python_api"), p.get("http_runs", [])
        api = f"{e['p50_ms']} / {e['p95_ms']} / {e['p99_ms']}" if e else "–"
        out.append(f"| {p['documents']:,} | {b['articles_per_s']} | {b['peak_rss_mb']} | {b['kb_per_article']} | {api} | "
                   + "; ".join(f"{x['clients']}: {x['requests_per_s']}, {x['p95_ms']}, {x['errors']}" for x in h)
                   + f" | {max((x.get('server_pss_mb') or 0 for x in h), default='–')} |")
    big = max(points, key=lambda r: r["documents"])
    fits = [p["documents"] for p in points if p.get("python_api") and p["python_api"]["p95_ms"] <= 100]
    fits += [r["documents"] for _, r in corpus_runs if r["python_api"]["p95_ms"] <= 100]
    out += ["", f"Sizes past the corpus (111,828) are the corpus repeated with varied copies (ids `<id>~k`, "
            "paragraphs rotated, digits shifted: see bench/scale.py). The largest index measured whose query mix "
            f"keeps p95 ≤ 100 ms through the API: {max(fits):,} articles." if fits else "",
            "", "Issue 23's targets at 1,000,000 articles: " + "; ".join(
                f"{what}: {value} ({'met' if ok else 'NOT met'})" for what, value, ok in scale_targets(big)) + ".",
            "", "Commands: " + "; ".join(f"`{p['command']}` ({p['machine']['date']}, commit {p['machine']['commit']})"
                                         for p in points) + ".", ""]
    return out


def scale_targets(p: dict) -> list[tuple[str, str, bool]]:
    b, e = p["build"], p.get("python_api")
    eight = next((x for x in p.get("http_runs", []) if x["clients"] == 8), None)
    return [("build ≥ 450 articles/s", f"{b['articles_per_s']}", b["articles_per_s"] >= 450),
            ("index ≤ 8 KB/article", f"{b['kb_per_article']} KB", b["kb_per_article"] <= 8),
            ("API p95 ≤ 100 ms", f"{e['p95_ms']} ms" if e else "not measured", bool(e) and e["p95_ms"] <= 100),
            ("HTTP 8 clients 0 errors", f"{eight['errors']}" if eight else "not measured",
             bool(eight) and eight["errors"] == 0)]


def main():
    rel, idx, inc, seg = load("relevance"), load("indexing"), load("incremental"), load("segmentation")
    rec, acr, sug, key = load("reclaim"), load("acronyms"), load("suggest"), load("keystrokes")
    runs = sorted(((p.stem.removeprefix("latency-"), json.loads(p.read_text(encoding="utf-8")))
                   for p in RESULTS.glob("latency-*.json")), key=lambda nr: nr[1]["documents"])
    machine = next((d["machine"] for d in (rel, idx, inc, *(r for _, r in runs)) if d), None)
    lines = ["# Benchmarks", "",
             "Generated by `python bench/report.py` from `bench/results/*.json`; every number below was measured "
             "by the command shown. Speeds are quoted beside a baseline measured in the same run: the machine is a "
             "shared 2-core box and absolute times drift.", ""]
    if machine:
        lines += [f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory']}, Python {machine['python']}.", ""]
    lines += ["## Relevance", ""] + relevance_section(rel)
    lines += ["### Short topical queries", ""] + topics_section(load("topics"), load("topics-baseline"))
    lines += ["### Acronyms and their full forms", ""] + acronyms_section(acr)
    lines += ["### Type-ahead", ""] + completion_section(load("completion"))
    lines += ["### Did-you-mean", ""] + suggest_section([load("suggest-seeds"), load("suggest-5k"), sug])
    lines += ["### Typed with the Vietnamese keyboard off", ""] + keystrokes_section(key)
    lines += ["## Indexing", ""] + indexing_section(idx)
    lines += ["### Segmentation identical to pyvi", ""] + segmentation_section(seg)
    lines += ["## Incremental update", ""] + incremental_section(inc)
    lines += ["### An update that replaces half the index", ""] + reclaim_section(rec)
    lines += ["## Query latency", ""] + latency_section(runs)
    points = [json.loads(p.read_text(encoding="utf-8")) for p in RESULTS.glob("scale-*.json")]
    lines += ["### Up to a million articles", ""] + scale_section(points, runs)
    lines += ["## History", "", "What each session changed and measured: [bench/HISTORY.md](bench/HISTORY.md); "
              "superseded runs are in `bench/results/history/`.", ""]
    if runs:
        plot(runs)
    (ROOT / "BENCHMARKS.md").write_text("\n".join(lines), encoding="utf-8")
    print("wrote BENCHMARKS.md")


if __name__ == "__main__":
    main()
