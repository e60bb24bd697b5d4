"""The results table (Markdown, printed and written), results.json and the plots."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from bench.common import Row, Section


def _number(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def table(rows: list[Row]) -> str:
    """One Markdown table of every row."""
    lines = [
        "| benchmark | measurement | unit | median | p99 | baseline | baseline median | ratio | target | met | note |",
        "|---|---|---|--:|--:|---|--:|--:|---|:-:|---|",
    ]
    for row in rows:
        ratio = row.ratio
        met = "" if row.met is None else ("yes" if row.met else "**no**")
        lines.append(
            f"| {row.section} | {row.name} | {row.unit} | {_number(row.median)} | {_number(row.p99)} | "
            f"{row.baseline} | {_number(row.baseline_median)} | {'' if ratio is None else f'{ratio:.2f}x'} | "
            f"{row.target} | {met} | {row.note} |"
        )
    return "\n".join(lines)


def write(sections: list[Section], machine: dict[str, Any], out: Path, *, command: str, seconds: float) -> str:
    """Write results.md, results.json and the plots to ``out``; the Markdown text."""
    out.mkdir(parents=True, exist_ok=True)
    rows = [row for section in sections for row in section.rows]
    notes = [f"- {s.name}: {s.skipped}" for s in sections if s.skipped]
    header = [
        "# Benchmark results",
        "",
        f"Command: `{command}`; whole run {seconds:.0f} s.",
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gb']} GB, "
        f"Python {machine['python']}, {machine['system']}; load average at start {machine['load_average']}.",
        "Median and p99 are over the samples counted in each row; ratio = median / baseline median.",
        "",
    ]
    text = "\n".join([*header, table(rows), "", *(["Not measured in this run:", *notes, ""] if notes else [])])
    (out / "results.md").write_text(text, "utf-8")
    data = {
        "command": command,
        "seconds": seconds,
        "machine": machine,
        "rows": [row.to_json() for row in rows],
        "sections": {
            s.name: {"seconds": s.seconds, "skipped": s.skipped, "series": _summary(s.series)} for s in sections
        },
    }
    (out / "results.json").write_text(json.dumps(data, indent=2), "utf-8")
    plots(sections, out)
    return text


def _summary(series: dict[str, Any]) -> dict[str, Any]:
    """Series as stored in results.json: long sample lists are left out (the rows have their stats)."""
    return {
        key: value
        for key, value in series.items()
        if not (isinstance(value, list) and len(value) > 50 and isinstance(value[0], float))
    }


def plots(sections: list[Section], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def _save(fig: Any, path: Path) -> None:
        """Lay out one figure, write it as PNG and free it."""
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)

    by_name = {s.name: s for s in sections}

    scale = by_name.get("scale")
    if scale and scale.series.get("points"):
        points = scale.series["points"]
        sizes = [p["vectors"] for p in points]
        fig, ax = plt.subplots(figsize=(7, 4.5))
        ax.plot(sizes, [p["exact_p50_ms"] for p in points], "o-", label="exact (IndexFlatIP), p50")
        ax.plot(
            sizes, [p["approx_p50_ms"] for p in points], "s-", label="approximate (the engine's kind at that size), p50"
        )
        ax.plot(
            sizes,
            [p["engine_p50_ms"] for p in points],
            "^--",
            color="black",
            label="engine's choice (exact below the switch), p50",
        )
        for p in points:
            ax.annotate(
                f"{p['approx_kind'].split(' ')[0]}\nrecall@3 {p['recall_at_3']:.3f}",
                (p["vectors"], p["approx_p50_ms"]),
                textcoords="offset points",
                xytext=(6, 6),
                fontsize=8,
            )
        switch = scale.series.get("approximate_from")
        if switch:
            ax.axvline(switch, color="grey", linestyle=":", label=f"switch to approximate at {switch:,}")
        ax.axhline(5, color="red", linestyle="--", linewidth=0.8, label="target at 1M: 5 ms")
        latency = by_name.get("latency")
        if latency and latency.rows:
            ax.plot(
                [19],
                [latency.rows[0].median],
                "*",
                markersize=12,
                color="green",
                label=f"full answer on the article (19 sentences): {latency.rows[0].median:.1f} ms",
            )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("stored sentence vectors (512-d)")
        ax.set_ylabel("search latency, one query (ms)")
        ax.set_title("Dense search latency against corpus size (2 cores)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
        _save(fig, out / "latency_vs_corpus.png")

    latency = by_name.get("latency")
    if latency and latency.series.get("answer_ms"):
        fig, ax = plt.subplots(figsize=(7, 4))
        for key, label in (
            ("bm25_ms", "BM25 alone"),
            ("cached_ms", "ask, cache hit"),
            ("floor_ms", "encode one question (floor)"),
            ("answer_ms", "ask (cache off)"),
        ):
            values = sorted(latency.series[key])
            ax.plot(values, [(i + 1) / len(values) for i in range(len(values))], label=label)
        ax.set_xscale("log")
        ax.set_xlabel("latency (ms)")
        ax.set_ylabel("fraction of questions")
        ax.set_title("Answer latency on the article: distribution")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        _save(fig, out / "answer_latency.png")

    build = by_name.get("build")
    if build and build.series.get("points"):
        points = build.series["points"]
        fig, ax1 = plt.subplots(figsize=(7, 4))
        sizes = [p["size"] for p in points]
        ax1.plot(sizes, [p["paragraphs_per_s"] for p in points], "o-", label="build (reindex), paragraphs/s")
        ax1.plot(sizes, [p["encode_paragraphs_per_s"] for p in points], "s--", label="encode floor")
        ax1.set_xscale("log")
        ax1.set_ylim(bottom=0)
        ax1.set_xlabel("paragraphs in the corpus")
        ax1.set_ylabel("paragraphs/s")
        ax2 = ax1.twinx()
        ax2.plot(sizes, [p["peak_mb"] for p in points], "^:", color="grey", label="peak RSS (MB)")
        ax2.set_ylabel("peak RSS (MB)")
        ax1.legend(fontsize=8, loc="lower left")
        ax2.legend(fontsize=8, loc="lower right")
        ax1.set_title("Index build throughput, default model")
        ax1.grid(True, alpha=0.3)
        _save(fig, out / "build.png")

    bot = by_name.get("bot")
    if bot and bot.series.get("throughput"):
        points = bot.series["throughput"]
        fig, ax = plt.subplots(figsize=(7, 4))
        ax.plot([p["senders"] for p in points], [p["updates_per_s"] for p in points], "o-", label="measured")
        ax.axhline(30, color="grey", linestyle=":", label="rate limiter: Telegram's ~30 messages/s")
        ax.set_ylim(0, max(40.0, 1.2 * max(p["updates_per_s"] for p in points)))
        ax.legend(fontsize=8, loc="lower right")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("concurrent senders")
        ax.set_ylabel("updates answered per second")
        ax.set_title("Webhook throughput (stub Bot API on loopback)")
        ax.grid(True, alpha=0.3)
        _save(fig, out / "webhook_throughput.png")
