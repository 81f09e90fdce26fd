"""Publishing: refused when the gate rejected the build (unless forced), and the folder it assembles."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pipeline.models import tiny_model
from pipeline.publish.report import read_report, update_report
from pipeline.publish.stage import PublishError, public_copy, publish, shown

ROW = {"leaf": "compositional_skills/writing/words", "status": "new", "n": 1, "delta": 0.1, "verdict": "pass",
       "before": {"facts": 0.25, "similarity": 0.4, "judge": 2.0},
       "after": {"facts": 0.75, "similarity": 0.5, "judge": 3.0}}


@pytest.fixture
def build(tmp_path: Path) -> Path:
    build = tmp_path / "build"
    model = tiny_model(build / "training" / "model")
    shutil.copytree(model, build / "training" / "adapter")  # stands in for an adapter folder
    (build / "data").mkdir()
    (build / "data" / "recipe.json").write_text(json.dumps({"phase1": {"rows": 3}}))
    update_report(build, {
        "taxonomy": {"path": "/t", "commit": "a7db9bdd" + "0" * 32, "prs": [101, 202]},
        "leaves": {"used": [ROW["leaf"]], "hashes": {ROW["leaf"]: "h"}},
        "training": {"settings": {"student": "/models/smollm2", "full": False, "batch_size": 8, "micro_batch_size": 4,
                                  "max_length": 512, "seed": 42,
                                  "phases": [{"name": "knowledge", "data": "data/phase1.jsonl", "steps": 3,
                                              "lr": 2e-4, "warmup_steps": 1}]},
                     "steps": 3, "processes": 1, "tokens_per_second": 100.0, "final_loss": 1.5,
                     "losses": [{"phase": "knowledge", "step": i, "loss": 2.0 - i / 4, "lr": 2e-4} for i in (1, 2, 3)]},
        "evaluation": {"leaves": [ROW]},
        "gate": {"passed": True, "reasons": []},
    })
    return build


def test_a_passed_build_is_published_with_weights_card_recipe_and_report(build: Path) -> None:
    target = publish(build)
    assert target == build / "published"
    for name in ("model/model.safetensors", "model/tokenizer.json", "adapter/config.json", "README.md",
                 "recipe.json", "report.html", "build.json"):
        assert (target / name).is_file(), name
    card = (target / "README.md").read_text()
    assert "a7db9bdd" in card and "#101, #202" in card and "`smollm2`" in card and ROW["leaf"] in card
    page = (target / "report.html").read_text()
    assert page.count("<img alt=") == 2 and "data:image/png;base64," in page and "Gate: passed" in page
    report = read_report(build)
    assert report["published"]["forced"] is False and "model/model.safetensors" in report["published"]["files"]
    assert report["taxonomy"]["prs"] == [101, 202]  # earlier sections are kept


def test_a_rejected_build_is_refused_with_the_reasons_unless_forced(build: Path) -> None:
    update_report(build, {"gate": {"passed": False, "reasons": ["x (new): similarity 0.5 -> 0.4, must improve"]}})
    with pytest.raises(PublishError, match=r"gate rejected this build: x \(new\).*--force"):
        publish(build)
    assert not (build / "published").exists()
    target = publish(build, build / "forced", force=True)
    assert read_report(build)["published"]["forced"] is True
    assert "REJECTED" in (target / "report.html").read_text()


def test_an_unevaluated_build_is_refused(build: Path) -> None:
    report = read_report(build)
    report.pop("gate")
    (build / "build.json").write_text(json.dumps(report))
    with pytest.raises(PublishError, match="never evaluated"):
        publish(build)


def test_the_report_shows_the_interval_zero_kept_and_thin_leaves_and_kept_samples() -> None:
    from pipeline.publish.stage import model_card, report_html

    improvement = {"leaves": 17, "closer": 12, "mean": 0.094, "low": 0.031, "high": 0.16, "confidence": 0.95,
                   "resamples": 2000, "passed": True}
    report = {"gate": {"passed": True, "reasons": [], "improvement": improvement},
              "leaves": {"used": ["compositional_skills/a", "compositional_skills/b"],
                         "zero_kept": ["compositional_skills/b"],
                         "thin": [{"leaf": "compositional_skills/b", "reason": "2 seed examples"}],
                         "skipped": [{"leaf": "knowledge/c", "reason": "not valid under its own schema version 1"}]},
              "samples": {"per_leaf": {"compositional_skills/a": {"kept": 1, "candidates": 3,
                                                                  "filtered": {"low_score": 2}},
                                       "compositional_skills/b": {"kept": 0, "candidates": 2,
                                                                  "malformed": {"answer": 2}}},
                          "shown": {"compositional_skills/a": [{"question": "Q <one>?", "answer": "A one."}]}}}
    page = report_html(report)
    assert ("12 of 17 new or changed leaves closer; mean improvement +0.094, 95% bootstrap interval "
            "[+0.031, +0.160]") in page
    assert "ZERO KEPT" in page and "thin: 2 seed examples" in page and "filtered: low_score 2" in page
    assert "Q &lt;one&gt;?" in page and "not valid under its own schema version 1" in page
    assert "[+0.031, +0.160]" in model_card(report)


def test_only_machine_paths_are_cut_to_their_last_part() -> None:
    assert [shown(v) for v in ("/root/.cache/taxonomist/models/Smol", "~/work/taxonomy", "/lgtm", "/", "a/b")] == [
        "Smol", "taxonomy", "/lgtm", "/", "a/b"]
    assert public_copy({"answer": "/lgtm", "path": ["/tmp/build/data"]}) == {"answer": "/lgtm", "path": ["data"]}


def test_published_files_are_readable_and_name_no_machine_path(build: Path) -> None:
    """Issue 25: build.json and recipe.json were 0600, and the card and report showed `/root/...` paths."""
    update_report(build, {"taxonomy": {"path": "/root/work/taxonomy", "commit": None, "prs": []}})
    target = publish(build)
    for path in target.rglob("*"):
        assert path.stat().st_mode & 0o044 == 0o044, path  # readable by group and others
    for name in ("README.md", "report.html", "build.json"):
        text = (target / name).read_text()
        assert "/root/" not in text and "/models/" not in text and str(build) not in text, name
    card = (target / "README.md").read_text()
    assert "None" not in card and "commit `None`" not in card
    assert "- Taxonomy: `taxonomy`, no commit (a folder, not a git checkout); content hash `" in card
    assert "Merged pull requests: none recorded" in card
    assert "| fact recall before | after | similarity before | after |" in card  # knowledge first, wording beside
    assert "| 0.250 | 0.750 | 0.400 | 0.500 | 2.000 | 3.000 |" in card


def test_empty_tables_say_none_and_zero_kept_leaves_stand_out() -> None:
    from pipeline.publish.stage import model_card, report_html

    report = {"gate": {"passed": True, "reasons": []}, "evaluation": {"leaves": [], "learned": []},
              "leaves": {"used": ["a/b", "c/d", "e/f"], "zero_kept": ["a/b", "c/d"]}}
    page = report_html(report)
    assert page.count("<p>none</p>") == 2  # the per-leaf and learned tables, both empty
    assert "Warning: 2 of 3 leaves kept no synthetic sample and were trained on their seed examples only: a/b, c/d" \
        in page
    card = model_card(report)
    assert "**Warning:** 2 of 3 leaves kept no synthetic sample" in card and card.count("\nnone\n") == 2


def test_the_legend_sits_below_the_bars() -> None:
    """Issue 25: the legend covered the longest bars (similarity close to 1 reaches the right edge)."""
    from pipeline.publish.stage import score_figure

    rows = [{**ROW, "leaf": f"x/leaf{i}", "before": {"facts": 1.0, "similarity": 0.99, "judge": None},
             "after": {"facts": 1.0, "similarity": 0.98, "judge": None}} for i in range(6)]
    figure = score_figure(rows)
    figure.canvas.draw()
    (axes,) = figure.axes
    legend = axes.get_legend().get_window_extent()
    assert legend.y1 <= axes.get_window_extent().y0


def test_the_chart_shows_fact_recall_and_an_older_build_its_similarity() -> None:
    """Issue 21: the per-leaf chart and card show whether the answers are right, not how alike they read."""
    from pipeline.publish.stage import plotted_score, score_figure

    key, axis = plotted_score([ROW])
    assert key == "facts" and axis.startswith("fact recall")
    bars = [patch.get_width() for patch in score_figure([ROW]).axes[0].patches]
    assert sorted(bars) == [0.25, 0.75]
    older = {**ROW, "before": {"similarity": 0.4, "judge": None}, "after": {"similarity": 0.5, "judge": None}}
    assert plotted_score([older])[0] == "similarity"
