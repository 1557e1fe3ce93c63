"""Audit artifacts: audit.parquet, audit.json, report.md, audit.png, and the exports that act on it.

Exports: `exclude/suspicious_ids.parquet` (an `id` column: a recipe lists the folder under `exclude:` to leave those
documents out of a mixture) and `relabel.jsonl` (id, text, tag, routed domain, suspicion: the input of
`tracemix classifier label` to have them relabelled).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tracemix.artifacts import begin, write_manifest
from tracemix.atomic import atomic_path, write_json, write_text
from tracemix.plots import pyplot, save_png

if TYPE_CHECKING:  # annotations only: probes.audit imports this module to write its report
    from probes.audit import DocumentRouting

SNIPPET_CHARS = 160


def _texts(docs: dict, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """A second streaming pass over the data for the few documents the report and exports show."""
    found: dict[tuple[str, str], str] = {}
    for domain in {d for d, _ in wanted}:
        for doc_id, text in docs[domain]:
            if (domain, doc_id) in wanted:
                found[(domain, doc_id)] = text
                if len(found) == len(wanted):
                    return found
    return found


def snippet(text: str, n: int = SNIPPET_CHARS) -> str:
    """One Markdown-table-safe line: whitespace folded, pipes escaped, cut at `n` characters."""
    flat = " ".join(text[: n * 4].split())
    flat = flat if len(flat) <= n else flat[: n - 1] + "…"
    return flat.replace("|", "\\|")


def audit_table(routing: DocumentRouting, scores: dict[str, np.ndarray]) -> pa.Table:
    """One row per document, most suspicious first (ties by id, so the order is deterministic)."""
    names = np.asarray(routing.domain_names, dtype=object)
    order = np.lexsort((np.asarray(routing.ids, dtype=object), -scores["suspicion"]))
    return pa.table({
        "id": [routing.ids[i] for i in order],
        "domain": names[routing.domains[order]].tolist(),
        "routed_domain": names[scores["routed"][order]].tolist(),
        "suspicion": scores["suspicion"][order],
        "llr_total": scores["llr_total"][order],
        "n_tokens": scores["n_tokens"][order].astype(np.int64),
        "rank": np.arange(1, len(order) + 1, dtype=np.int64),
        "layer_margin": pa.array(scores["layer_margin"][order].tolist(), pa.list_(pa.float64())),
        "layer_routed": pa.array(names[scores["layer_routed"][order]].tolist(), pa.list_(pa.string())),
    })


def confusion(table: pa.Table, domains: list[str]) -> dict[str, dict[str, int]]:
    """tag -> routed domain -> documents."""
    out = {d: dict.fromkeys(domains, 0) for d in domains}
    for tag, routed in zip(table["domain"].to_pylist(), table["routed_domain"].to_pylist(), strict=True):
        out[tag][routed] += 1
    return {d: row for d, row in out.items() if sum(row.values())}


def plot_audit(table: pa.Table, layers: list[int], domains: list[str], path: Path) -> None:
    """Suspicion by tag (histogram) and the per-layer margin by tag (mean with standard-error bars)."""
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
    tags = np.asarray(table["domain"].to_pylist())
    susp = table["suspicion"].to_numpy()
    margins = np.asarray(table["layer_margin"].to_pylist(), dtype=np.float64).reshape(len(tags), len(layers))
    bins = np.linspace(susp.min(), max(susp.max(), susp.min() + 1e-9), 30)
    for d in domains:
        sel = tags == d
        if not sel.any():
            continue
        left.hist(susp[sel], bins=bins, alpha=0.5, label=f"{d} ({int(sel.sum())})")
        m = margins[sel]
        err = m.std(0, ddof=1) / np.sqrt(len(m)) if len(m) > 1 else np.zeros(len(layers))
        right.errorbar(layers, m.mean(0), yerr=err, marker="o", capsize=3, label=d)
    left.axvline(0, color="k", lw=0.8, ls="--")
    left.set_xlabel("suspicion (nats/token; > 0: routes like another domain)")
    left.set_ylabel("documents")
    left.set_title("Suspicion by tag")
    left.legend(fontsize=7)
    right.axhline(0, color="k", lw=0.8, ls="--")
    right.set_xlabel("layer")
    right.xaxis.get_major_locator().set_params(integer=True)
    right.set_ylabel("margin (nats/token), mean ± s.e.")
    right.set_title("Per-layer margin by tag")
    right.legend(fontsize=7)
    save_png(fig, path, dpi=110, bbox_inches="tight")


def render_report(model: str, table: pa.Table, conf: dict, texts: dict, top: int, summary: dict) -> str:
    domains = list(conf)
    routed_cols = [d for d in summary["domains"] if any(conf[t].get(d) for t in conf)]
    lines = [f"# Routing audit: {model}", "",
             f"{summary['n_documents']:,} documents; {summary['n_disagree']:,} route more like another domain "
             f"than their tag (suspicion > 0). Suspicion is the per-token log-likelihood ratio of the best other "
             "domain's routing profile against the tag's (profiles leave the document out; layers summed).", "",
             "## Tag × routed domain", "",
             "| tag \\ routed | " + " | ".join(routed_cols) + " | agree |",
             "|---|" + "---|" * (len(routed_cols) + 1)]
    for tag in domains:
        row = conf[tag]
        total = sum(row.values())
        lines.append(f"| {tag} | " + " | ".join(str(row.get(c, 0)) for c in routed_cols)
                     + f" | {row.get(tag, 0) / total:.0%} |")
    lines += ["", f"## The {min(top, table.num_rows)} most suspicious documents", "",
              "| rank | id | tag | routed | suspicion | tokens | text |", "|---|---|---|---|---|---|---|"]
    for r in table.slice(0, top).to_pylist():
        text = texts.get((r["domain"], r["id"]), "")
        lines.append(f"| {r['rank']} | `{r['id']}` | {r['domain']} | {r['routed_domain']} | {r['suspicion']:.3f} "
                     f"| {r['n_tokens']} | {snippet(text)} |")
    lines += ["", "![suspicion by tag and per-layer margin](audit.png)", "",
              "Files: `audit.parquet` (per document: id, domain, routed_domain, suspicion, llr_total, n_tokens, rank, "
              "per-layer `layer_margin` and `layer_routed`), `audit.json`."]
    if summary.get("exported"):
        ex = summary["exported"]
        lines += [f"Exported {ex['n']:,} documents ({ex['rule']}): `exclude/` (add the folder to a recipe's "
                  "`exclude:` list to leave them out of a mixture) and `relabel.jsonl` (relabel them with "
                  "`tracemix classifier label --input relabel.jsonl ...`)."]
    return "\n".join(lines) + "\n"


def export_suspicious(out: Path, table: pa.Table, texts: dict) -> None:
    """exclude/suspicious_ids.parquet (for a recipe's `exclude:`) and relabel.jsonl (for `classifier label`)."""
    import orjson

    (out / "exclude").mkdir(exist_ok=True)  # its own folder: a recipe may list the folder
    with atomic_path(out / "exclude" / "suspicious_ids.parquet") as tmp:
        pq.write_table(table.select(["id", "domain", "routed_domain", "suspicion"]), tmp)
    with atomic_path(out / "relabel.jsonl") as tmp, open(tmp, "wb") as f:
        for r in table.select(["id", "domain", "routed_domain", "suspicion"]).to_pylist():
            row = {"id": r["id"], "text": texts.get((r["domain"], r["id"]), ""), "domain": r["domain"],
                   "routed_domain": r["routed_domain"], "suspicion": round(r["suspicion"], 6)}
            f.write(orjson.dumps(row) + b"\n")


def write_audit(out: Path, routing: DocumentRouting, scores: dict[str, np.ndarray], docs: dict,
                config: dict[str, Any], parents: list[dict], *, top: int = 20, export: bool = False,
                export_top: int | None = None) -> dict[str, Any]:
    """Write every audit artifact, manifest.json last; returns the summary (also in audit.json)."""
    begin(out, "probe")
    table = audit_table(routing, scores)
    elsewhere = pc.not_equal(table["routed_domain"], table["domain"])  # routing fits another domain better
    flagged = table.slice(0, export_top) if export_top else table.filter(elsewhere)
    shown = table.slice(0, top)
    wanted = {(d, i) for d, i in zip(shown["domain"].to_pylist(), shown["id"].to_pylist(), strict=True)}
    if export:
        wanted |= {(d, i) for d, i in zip(flagged["domain"].to_pylist(), flagged["id"].to_pylist(), strict=True)}
    texts = _texts(docs, wanted)
    with atomic_path(out / "audit.parquet") as tmp:
        pq.write_table(table, tmp)
    conf = confusion(table, routing.domain_names)
    susp = table["suspicion"].to_numpy()
    summary: dict[str, Any] = {
        "model": config["model"], "n_documents": table.num_rows, "n_disagree": int(pc.sum(elsewhere).as_py() or 0),
        "domains": routing.domain_names, "layers": routing.layers, "confusion": conf,
        "mean_suspicion": {d: float(np.mean(susp[np.asarray(table["domain"].to_pylist()) == d])) for d in conf},
        "top": shown.select(["id", "domain", "routed_domain", "suspicion"]).to_pylist()}
    if export:
        export_suspicious(out, flagged, texts)
        summary["exported"] = {"n": flagged.num_rows, "rule": f"the top {export_top}" if export_top
                               else "routed to another domain, suspicion > 0"}
    plot_audit(table, routing.layers, routing.domain_names, out / "audit.png")
    write_json(out / "audit.json", summary)
    write_text(out / "report.md", render_report(config["model"], table, conf, texts, top, summary))
    write_manifest(out, "probe", config, parents, extra={"model": config["model"], "family": config.get("family"),
                                                         "audit": True})
    return summary
