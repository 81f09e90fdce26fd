"""Leaf selection for the build: every leaf valid under its own schema version, thin leaves used and
listed, unusable ones skipped with a reason; held-out rows for every used leaf (issue 13 items 1, 2, 4)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline.generate.mixing import mix, read_jsonl
from pipeline.leaves import Leaf, Seed, collect, heldout_count

CORPUS = Path(os.environ.get("TAXONOMIST_CORPUS", "../shared/corpus"))


def v1_skill(count: int, task: str = "Answer short questions about words.") -> str:
    seeds = "".join(f"  - question: What is word number {i} in the list?\n    answer: It is word {i}.\n"
                    for i in range(count))
    return f"created_by: someone\ntask_description: {task}\nseed_examples:\n{seeds}"


V1_KNOWLEDGE = ("created_by: someone\ndomain: astronomy\ntask_description: Facts about stars.\n"
                "document:\n  repo: https://github.com/org/docs\n  commit: " + "a" * 40 + "\n  patterns: ['*.md']\n"
                "seed_examples:\n" + "".join(f"  - question: Star question {i}?\n    answer: Star answer {i}.\n"
                                             for i in range(5)))


def write(root: Path, leaf: str, text: str) -> None:
    (root / leaf).mkdir(parents=True, exist_ok=True)
    (root / leaf / "qna.yaml").write_text(text)


@pytest.fixture()
def taxonomy(tmp_path: Path) -> Path:
    root = tmp_path / "taxonomy"
    write(root, "compositional_skills/words/thin", v1_skill(3))
    write(root, "compositional_skills/words/five", v1_skill(5))
    write(root, "compositional_skills/words/eight", v1_skill(8))
    write(root, "compositional_skills/words/broken", "created_by: x\nseed_examples: [unclosed\n")
    write(root, "knowledge/astronomy/stars", V1_KNOWLEDGE)
    return root


def test_every_leaf_valid_under_its_own_version_is_used_and_thin_ones_are_listed(taxonomy):
    used, skipped = collect(taxonomy)
    assert [leaf.path for leaf in used] == ["compositional_skills/words/eight", "compositional_skills/words/five",
                                            "compositional_skills/words/thin"]
    thin = {leaf.path: leaf.thin for leaf in used}
    assert thin["compositional_skills/words/thin"] and "3 seed examples" in thin["compositional_skills/words/thin"]
    assert thin["compositional_skills/words/five"] is None and thin["compositional_skills/words/eight"] is None
    reasons = {s["leaf"]: s["reason"] for s in skipped}
    assert set(reasons) == {"compositional_skills/words/broken", "knowledge/astronomy/stars"}
    assert reasons["compositional_skills/words/broken"].startswith("not valid under its own schema version")
    assert "yaml-syntax" in reasons["compositional_skills/words/broken"]
    assert "schema: " in reasons["knowledge/astronomy/stars"]  # knowledge below v3 is refused, as upstream does


def test_the_latest_version_rule_is_still_available_on_request(taxonomy):
    used, skipped = collect(taxonomy, schema_version="latest")
    assert used == [] and len(skipped) == 5


def test_two_held_out_seeds_from_seven_one_below_none_for_a_thin_leaf(taxonomy):
    used = {leaf.path.rsplit("/", 1)[-1]: leaf for leaf in collect(taxonomy)[0]}
    assert (len(used["eight"].heldout), len(used["eight"].seeds)) == (2, 6)
    assert (len(used["five"].heldout), len(used["five"].seeds)) == (1, 4)
    assert (len(used["thin"].heldout), len(used["thin"].seeds)) == (0, 3)
    assert heldout_count(7, thin=False, per_leaf=2, full_from=7) == 2
    assert heldout_count(6, thin=False, per_leaf=2, full_from=7) == 1
    assert heldout_count(20, thin=True, per_leaf=2, full_from=7) == 0


def test_a_thin_leaf_is_evaluated_on_a_generated_sample_it_never_trains_on(tmp_path):
    thin = Leaf("compositional_skills/t", "freeform", "T", "h", [Seed(f"q{i}", f"a{i}") for i in range(2)],
                thin="2 seed examples")
    empty = Leaf("compositional_skills/e", "freeform", "E", "h", [Seed("eq", "ea")], thin="1 seed example")
    generated = {thin.path: [{"question": f"gen{i}", "answer": f"ans{i}"} for i in range(4)], empty.path: []}
    recipe = mix(tmp_path, [thin, empty], generated, replay_phase1=0.0, replay_previous=0.0)
    held = read_jsonl(tmp_path / "data/heldout.jsonl")
    origins = [(h["leaf"], h["origin"]) for h in held]
    assert origins == [(thin.path, "generated"), (thin.path, "learned"), (thin.path, "learned"),
                       (empty.path, "learned")]
    trained = (tmp_path / "data/phase2.jsonl").read_text()
    assert held[0]["question"] not in trained and trained.count('"source": "generated"') == 3
    assert recipe["heldout"]["by_origin"] == {"generated": 1, "learned": 3}


@pytest.mark.skipif(not (CORPUS / "taxonomy-2024-08").is_dir(), reason="the real corpus is not at TAXONOMIST_CORPUS")
def test_the_real_merged_taxonomy_uses_every_leaf_upstream_considers_valid():
    used, skipped = collect(CORPUS / "taxonomy-2024-08")
    assert (len(used), len(skipped)) == (135, 1)  # upstream's checker: 135 of 136 valid under their own version
    assert "schema" in skipped[0]["reason"]
    assert sum(1 for leaf in used if leaf.thin) == 118


def test_a_leaf_with_zero_kept_samples_is_flagged_and_kept_samples_are_shown(tmp_path):
    from pipeline.generate.stage import generate
    from pipeline.models import tiny_model
    from tests.pipeline.generate_helpers import (
        ScriptedBackend,
        documents_mirror,
        fast_settings,
        scripted_teacher,
        small_taxonomy,
    )

    synonyms = "compositional_skills/linguistics/synonyms"

    def junk_for_synonyms(kind, request):
        return "no list here" if kind == "questions" and "synonym" in request.messages[-1]["content"].lower() else None

    taxonomy = small_taxonomy(tmp_path / "t", git=False)
    settings = fast_settings(tiny_model(tmp_path / "tiny"), documents_mirror(tmp_path / "docs"))
    sections = generate(taxonomy, tmp_path / "b", tmp_path / "cache", settings,
                        teacher=scripted_teacher(ScriptedBackend(override=junk_for_synonyms)), progress=False)
    assert sections["leaves"]["zero_kept"] == [synonyms]
    assert sections["samples"]["per_leaf"][synonyms]["malformed"] == {"questions": 1}
    shown = sections["samples"]["shown"]
    assert shown[synonyms] == [] and all(1 <= len(shown[leaf]) <= 3 for leaf in sections["leaves"]["used"]
                                         if leaf != synonyms)
    assert set(shown["knowledge/science/astronomy/solar_system"][0]) == {"question", "answer"}  # no context
