"""Publishing: the build folder people download: weights, tokenizer, model card, recipe and report.

`publish` refuses a build the gate rejected (or never judged) unless forced, and says why. The
published folder holds `model/` (merged weights, safetensors, with the tokenizer), `adapter/` (the
LoRA adapter, when training used one), `README.md` (the model card: base model, taxonomy commit,
leaves and merged PRs, training settings, scores), `recipe.json`, `build.json` and `report.html`
(self-contained: the plots are inline PNGs, so it opens anywhere, offline).
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import os
import shutil
from pathlib import Path
from typing import Any

from pipeline.files import trained_model_dir, training_dir, write_json_atomic
from pipeline.publish.report import read_report, update_report


class PublishError(RuntimeError):
    """The build may not (or cannot) be published: the message says why and what to do."""


def _copy_tree(source: Path, dest: Path) -> None:
    """Hard links where the file system allows (weights are large), copies otherwise."""
    shutil.copytree(source, dest, copy_function=_link_or_copy)


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode()


def loss_plot(report: dict[str, Any]) -> str | None:
    """Loss per step, one line per phase, as a base64 PNG."""
    losses = report.get("training", {}).get("losses", [])
    if not losses:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 3.2))
    for phase in dict.fromkeys(e["phase"] for e in losses):
        points = [(i + 1, e["loss"]) for i, e in enumerate(losses) if e["phase"] == phase]
        axes.plot([p[0] for p in points], [p[1] for p in points], marker=".", label=phase)
    axes.set(xlabel="step (whole run)", ylabel="loss (assistant tokens)", title="Training loss per phase")
    legend_below(axes)
    axes.grid(alpha=0.3)
    data = _png(figure)
    plt.close(figure)
    return data


def legend_below(axes: Any) -> Any:
    """The legend under the plot, outside it: inside, it covered the longest bars and the last points."""
    return axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2, fontsize=8, frameon=False)


def score_plot(report: dict[str, Any]) -> str | None:
    """Fact recall on the held-out seed answers per leaf, before and after, as a base64 PNG."""
    rows = report.get("evaluation", {}).get("leaves", [])
    if not rows:
        return None
    from matplotlib import pyplot as plt

    figure = score_figure(rows)
    data = _png(figure)
    plt.close(figure)
    return data


def plotted_score(rows: list[dict[str, Any]]) -> tuple[str, str]:
    """Which score the chart shows and its axis: fact recall; similarity for a build.json older than it."""
    if any(r[side].get("facts") is not None for r in rows for side in ("before", "after")):
        return "facts", "fact recall: share of the held-out seed answer's facts held"
    return "similarity", "cosine similarity to the held-out seed answer (a build before fact recall)"


def score_figure(rows: list[dict[str, Any]]) -> Any:
    """The per-leaf score chart (a matplotlib figure)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    names = [r["leaf"].rsplit("/", 2)[-2] + "/" + r["leaf"].rsplit("/", 1)[-1] if "/" in r["leaf"] else r["leaf"]
             for r in rows]
    key, axis = plotted_score(rows)
    before = [r["before"].get(key) or 0 for r in rows]
    after = [r["after"].get(key) or 0 for r in rows]
    height = max(2.5, 0.28 * len(rows) + 1)
    figure, axes = plt.subplots(figsize=(8, height))
    positions = range(len(rows))
    axes.barh([p + 0.2 for p in positions], before, height=0.4, label="before (baseline)", color="#9aa5b1")
    axes.barh([p - 0.2 for p in positions], after, height=0.4, label="after (this build)", color="#2f6fde")
    axes.set_yticks(list(positions), names, fontsize=7)
    axes.invert_yaxis()
    axes.set(xlabel=axis, title="Score per leaf, before and after")
    legend_below(axes)
    return figure


def shown(value: Any) -> str:
    """A value as the report and the model card print it: "none" for nothing, a score to three decimals,
    a machine path (`/root/.cache/...`) by its last part only."""
    if value is None or value == "" or value == []:
        return "none"
    if isinstance(value, float):
        return f"{value:.3f}"
    text = str(value)
    if is_machine_path(text):
        return Path(text).name or text
    return text


def is_machine_path(text: str) -> bool:
    """`/root/.cache/x`, `~/work/t`: rooted, at least two parts deep, no space; not a one-part "/lgtm" answer."""
    return text.startswith(("/", "~")) and "/" in text[1:].rstrip("/") and not any(c.isspace() for c in text)


def taxonomy_version(report: dict[str, Any]) -> str:
    """The taxonomy's commit; a folder that is not a git checkout has none, so its content hash instead."""
    taxonomy = report.get("taxonomy", {})
    if taxonomy.get("commit"):
        return f"commit `{taxonomy['commit']}`"
    hashes = report.get("leaves", {}).get("hashes", {})
    digest = hashlib.sha256("\n".join(f"{k} {v}" for k, v in sorted(hashes.items())).encode()).hexdigest()[:12]
    return f"no commit (a folder, not a git checkout); content hash `{digest}`"


def zero_kept_note(report: dict[str, Any]) -> str:
    """"2 of 3 leaves kept no synthetic sample (...)": the gate passes such leaves on their seeds alone."""
    leaves = report.get("leaves", {})
    zero, used = leaves.get("zero_kept", []), leaves.get("used", [])
    if not zero:
        return ""
    return (f"{len(zero)} of {len(used)} leaves kept no synthetic sample and were trained on their seed "
            f"examples only: {', '.join(zero)}")


def _table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<p>none</p>"

    def fmt(value: Any) -> str:
        return html.escape(shown(value))

    head = ("<tr><th>leaf</th><th>status</th><th>n</th><th>fact recall before</th><th>after</th>"
            "<th>similarity before</th><th>after</th>"
            "<th>judge before</th><th>after</th><th>delta</th><th>verdict</th></tr>")
    body = "".join(
        f"<tr class='{html.escape(r.get('verdict', ''))}'><td>{html.escape(r['leaf'])}</td><td>{r['status']}</td>"
        f"<td>{r['n']}</td><td>{fmt(r['before'].get('facts'))}</td><td>{fmt(r['after'].get('facts'))}</td>"
        f"<td>{fmt(r['before']['similarity'])}</td><td>{fmt(r['after']['similarity'])}</td>"
        f"<td>{fmt(r['before']['judge'])}</td><td>{fmt(r['after']['judge'])}</td><td>{fmt(r.get('delta'))}</td>"
        f"<td>{html.escape(r.get('verdict', ''))}</td></tr>" for r in rows)
    return f"<table>{head}{body}</table>"


def improvement_text(improvement: dict[str, Any] | None) -> str | None:
    """The gate's group interval in words, for the report and the model card."""
    if not improvement:
        return None
    return (f"{improvement['closer']} of {improvement['leaves']} new or changed leaves closer; mean improvement "
            f"{improvement['mean']:+.3f}, {improvement['confidence']:.0%} bootstrap interval "
            f"[{improvement['low']:+.3f}, {improvement['high']:+.3f}] ({improvement['resamples']} resamples)")


def _data_section(report: dict[str, Any]) -> str:
    """What went into training, leaf by leaf: kept samples shown, drop reasons, skipped and thin leaves."""
    leaves, samples = report.get("leaves", {}), report.get("samples", {})
    per_leaf, shown = samples.get("per_leaf", {}), samples.get("shown", {})
    zero, thin = set(leaves.get("zero_kept", [])), {t["leaf"]: t["reason"] for t in leaves.get("thin", [])}
    skipped = "".join(f"<li><code>{html.escape(s['leaf'])}</code>: {html.escape(s.get('reason', ''))}</li>"
                      for s in leaves.get("skipped", []))
    blocks = []
    for leaf in leaves.get("used", []):
        stats = per_leaf.get(leaf, {})
        dropped = {f"{kind}: {why}": count for kind in ("failed", "malformed", "filtered")
                   for why, count in (stats.get(kind) or {}).items()}
        notes = [f"kept {stats.get('kept', 0)} of {stats.get('candidates', 0)}"]
        if leaf in zero:
            notes.append("ZERO KEPT")
        if leaf in thin:
            notes.append(f"thin: {thin[leaf]}")
        examples = "".join(f"<li><b>Q</b> {html.escape(x.get('question', ''))}<br><b>A</b> "
                           f"{html.escape(x.get('answer', ''))}</li>" for x in shown.get(leaf, []))
        drops = ", ".join(f"{html.escape(k)} {v}" for k, v in dropped.items()) or "none"
        blocks.append(f"<details><summary><code>{html.escape(leaf)}</code> ({html.escape('; '.join(notes))})"
                      f"</summary><p>Dropped: {drops}</p><ul>{examples}</ul></details>")
    return (f"<h2>Data</h2><p>Skipped leaves:</p><ul>{skipped or '<li>none</li>'}</ul>{''.join(blocks)}")


GENERATION_PARTS = ("leaves", "documents", "teacher", "mix")  # generation times its parts (pipeline.generate.stage)


def _stages_section(report: dict[str, Any]) -> str:
    """Each stage's wall time and peak resident memory (children counted), and the limit it ran under."""
    seconds, memory = report.get("stages", {}), report.get("memory", {})
    peaks = memory.get("stages_mb", {})
    parts = [seconds[p] for p in GENERATION_PARTS if p in seconds]
    times = {"generate": sum(parts) if parts else None, **{s: seconds.get(s) for s in ("train", "evaluate", "publish")}}
    rows = "".join(f"<tr><td>{stage}</td><td>{'none' if times[stage] is None else f'{times[stage]:.0f} s'}</td>"
                   f"<td>{'none' if stage not in peaks else f'{peaks[stage]} MB'}</td></tr>" for stage in times
                   if times[stage] is not None or stage in peaks)
    limit = (f"<p>Peak {memory['peak_mb']} MB of the {memory['limit_mb']} MB allowed "
             f"({html.escape(str(memory.get('limit_source', '')))}).</p>") if "peak_mb" in memory else ""
    return (f"<h2>Stages</h2><table><tr><th>stage</th><th>time</th><th>peak memory</th></tr>"
            f"{rows or '<tr><td colspan=3>none</td></tr>'}</table>{limit}")


def report_html(report: dict[str, Any]) -> str:
    """The build report as one self-contained page."""
    gate = report.get("gate", {})
    training = report.get("training", {})
    taxonomy = report.get("taxonomy", {})
    verdict = "passed" if gate.get("passed") else "REJECTED" if gate else "not evaluated"
    zero_note = zero_kept_note(report)
    plots = "".join(f"<figure><img alt='{alt}' src='data:image/png;base64,{data}'></figure>"
                    for alt, data in (("loss per phase", loss_plot(report)), ("score per leaf", score_plot(report)))
                    if data)
    reasons = "".join(f"<li>{html.escape(r)}</li>" for r in gate.get("reasons", []))
    facts = {
        "taxonomy": f"{shown(taxonomy.get('path'))}, {taxonomy_version(report).replace('`', '')}",
        "merged PRs": ", ".join(f"#{n}" for n in taxonomy.get("prs", [])) or "none",
        "leaves used": len(report.get("leaves", {}).get("used", [])),
        "base model": shown(training.get("settings", {}).get("student")),
        "training": f"{training.get('steps')} steps on {training.get('processes')} process(es), "
                    f"{training.get('tokens_per_second')} tokens/s" if training else None,
        "gate": verdict,
        "new and changed leaves": improvement_text(gate.get("improvement")),
        "thin leaves (used)": len(report.get("leaves", {}).get("thin", [])),
        "leaves with zero kept samples": ", ".join(report.get("leaves", {}).get("zero_kept", [])) or "none",
    }
    items = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
                    for k, v in facts.items() if v not in (None, ""))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Taxonomist build report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 980px; color: #1f2328; }}
table {{ border-collapse: collapse; margin: 1rem 0; font-size: 0.85rem; }}
th, td {{ border: 1px solid #d0d7de; padding: 0.3rem 0.5rem; text-align: left; }}
tr.fail td {{ background: #ffebe9; }} tr.pass td {{ background: #eef9ee; }}
.warn {{ background: #fff8c5; border: 1px solid #d4a72c; padding: 0.5rem; }}
figure {{ margin: 1rem 0; }} img {{ max-width: 100%; }}
.verdict {{ font-weight: bold; }}
</style></head><body>
<h1>Taxonomist build report</h1>
<p class="verdict">Gate: {verdict}</p>
{f'<p class="warn">Warning: {html.escape(zero_note)}.</p>' if zero_note else ''}
<ul>{reasons}</ul>
<table>{items}</table>
{plots}
<h2>Per-leaf scores</h2>
{_table(report.get("evaluation", {}).get("leaves", []))}
<h2>Learned (thin leaves' seeds, trained on; not gated)</h2>
{_table(report.get("evaluation", {}).get("learned", []))}
{_data_section(report)}
{_stages_section(report)}
</body></html>
"""


def model_card(report: dict[str, Any]) -> str:
    """README.md for the published folder: what went in, how it was trained, how it scored."""
    training, taxonomy, leaves = report.get("training", {}), report.get("taxonomy", {}), report.get("leaves", {})
    settings = training.get("settings", {})
    gate = report.get("gate", {})
    lines = [
        "# Taxonomist community build", "",
        f"- Base model: `{shown(settings.get('student'))}`",
        f"- Taxonomy: `{shown(taxonomy.get('path'))}`, {taxonomy_version(report)}",
        f"- Merged pull requests: {', '.join(f'#{n}' for n in taxonomy.get('prs', [])) or 'none recorded'}",
        f"- Method: {'full fine-tuning' if settings.get('full') else 'LoRA'}, "
        f"{len(settings.get('phases', []))} phase(s), loss on assistant turns only",
        f"- Gate: {'passed' if gate.get('passed') else 'rejected' if gate else 'not evaluated'}"
        + (f" ({improvement_text(gate.get('improvement'))})" if gate.get("improvement") else ""),
        *([f"- **Warning:** {zero_kept_note(report)}"] if zero_kept_note(report) else []), "",
        "## Training settings", "",
        *markdown_table(["phase", "data", "steps", "lr", "warm-up"],
                        [[p["name"], f"`{Path(p['data']).name}`", p["steps"], f"{p['lr']:g}", p["warmup_steps"]]
                         for p in settings.get("phases", [])]), "",
        f"Batch {shown(settings.get('batch_size'))} (micro {shown(settings.get('micro_batch_size'))}), max length "
        f"{shown(settings.get('max_length'))}, seed {shown(settings.get('seed'))}; final loss "
        f"{shown(training.get('final_loss'))}.", "",
        "## Scores", "",
        "Fact recall: the share of the held-out seed answers' facts (numbers, names, terms) that the model's "
        "answers hold, before (the baseline) and after this build; the gate decides on it. Similarity (embedding "
        "cosine to the seed answer) is shown beside it and is no measure of knowledge: a wrong number in the "
        "question's words scores high. Judge: 1..5 where one was configured.", "",
        *markdown_table(["leaf", "status", "fact recall before", "after", "similarity before", "after",
                         "judge before", "after", "verdict"],
                        [[r["leaf"], r["status"], r["before"].get("facts"), r["after"].get("facts"),
                          r["before"]["similarity"], r["after"]["similarity"],
                          r["before"]["judge"], r["after"]["judge"], r.get("verdict")]
                         for r in report.get("evaluation", {}).get("leaves", [])]), "",
        "## Leaves", "", *(f"- `{leaf}`" for leaf in leaves.get("used", [])), *([] if leaves.get("used") else
                                                                                ["none"]), "",
        "Data recipe: `recipe.json`. Full report: `report.html` and `build.json`.", "",
    ]
    return "\n".join(lines)


def markdown_table(header: list[str], rows: list[list[Any]]) -> list[str]:
    """A Markdown table of `shown` values, or "none" when there is no row."""
    if not rows:
        return ["none"]
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(shown(v) for v in row) + " |" for row in rows)]


def public_copy(value: Any) -> Any:
    """build.json as published: every machine path (`/root/...`, `/tmp/...`) cut to its last part."""
    if isinstance(value, dict):
        return {k: public_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [public_copy(v) for v in value]
    if isinstance(value, str) and is_machine_path(value):
        return shown(value)
    return value


def publish(build_dir: Path, dest: Path | None = None, *, force: bool = False) -> Path:
    """Assemble the published folder (default BUILD_DIR/published); returns its path. BUILD_DIR/report.html
    is written either way, also when the gate rejects the build (then nothing else is published)."""
    build_dir = Path(build_dir)
    report = read_report(build_dir)
    gate = report.get("gate")
    if not (gate or {}).get("passed") and not force:  # people read why it did not go out
        (build_dir / "report.html").write_text(report_html(report), encoding="utf-8")
    if gate is None and not force:
        raise PublishError(f"{build_dir}: the build was never evaluated; run `taxonomist build evaluate` "
                           "(or pass --force to publish it anyway)")
    if gate is not None and not gate.get("passed") and not force:
        raise PublishError("the gate rejected this build: " + "; ".join(gate.get("reasons", []))
                           + " (pass --force to publish it anyway)")
    model = trained_model_dir(build_dir)
    if not (model / "config.json").is_file():
        raise PublishError(f"{model}: no trained model; run `taxonomist build train` first")
    target = Path(dest) if dest else build_dir / "published"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    _copy_tree(model, target / "model")
    if (training_dir(build_dir) / "adapter").is_dir():
        _copy_tree(training_dir(build_dir) / "adapter", target / "adapter")
    recipe = build_dir / "data" / "recipe.json"
    if recipe.is_file():
        shutil.copy2(recipe, target / "recipe.json")
    published = {"path": str(target.resolve()), "forced": bool(force and not (gate or {}).get("passed")),
                 "files": []}
    report = {**report, "published": published}
    (target / "README.md").write_text(model_card(report), encoding="utf-8")
    (target / "report.html").write_text(report_html(report), encoding="utf-8")
    published["files"] = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
    update_report(build_dir, {"published": published})
    write_json_atomic(target / "build.json", public_copy(read_report(build_dir)))
    shutil.copy2(target / "report.html", build_dir / "report.html")  # where the workflow uploads it from, always
    for path in target.rglob("*"):  # copies keep their source's mode: the published folder is for everyone
        path.chmod(0o755 if path.is_dir() else 0o644)
    return target
