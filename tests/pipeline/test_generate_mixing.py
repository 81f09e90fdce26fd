"""Mixing: phases, replay of phase 1 and of earlier builds, held-out seeds, the recipe."""

from __future__ import annotations

import json

import pytest

from pipeline.generate.mixing import mix, read_jsonl
from pipeline.leaves import Leaf, Seed

FLOWS = {"knowledge", "freeform", "grounded", "seed"}


def leaves() -> list[Leaf]:
    know = Leaf("knowledge/a", "knowledge", "A", "h", [Seed(f"kq{i}", f"ka{i}", "ctx") for i in range(10)],
                heldout=[Seed("kheld", "kans", "ctx")])
    skill = Leaf("compositional_skills/b", "freeform", "B", "h", [Seed(f"sq{i}", f"sa{i}") for i in range(4)],
                 heldout=[Seed("sheld", "sans")])
    return [know, skill]


GENERATED = {"knowledge/a": [{"question": f"gq{i}", "answer": "x", "context": "ctx"} for i in range(10)],
             "compositional_skills/b": [{"question": "gs", "answer": "y"}]}


def test_phases_rows_and_metadata(tmp_path):
    recipe = mix(tmp_path, leaves(), GENERATED, replay_phase1=0.25, replay_previous=0.0)
    phase1 = read_jsonl(tmp_path / "data/phase1.jsonl")
    phase2 = read_jsonl(tmp_path / "data/phase2.jsonl")
    assert len(phase1) == 20 and {r["metadata"]["leaf"] for r in phase1} == {"knowledge/a"}
    assert phase1[0]["messages"] == [{"role": "user", "content": "ctx\n\nkq0"}, {"role": "assistant", "content": "ka0"}]
    sources = [r["metadata"]["source"] for r in phase2]
    assert sources.count("seed") == 4 and sources.count("generated") == 1 and sources.count("replay:phase1") == 5
    for row in phase1 + phase2:
        assert row["metadata"]["flow"] in FLOWS
        assert [m["role"] for m in row["messages"]] == ["user", "assistant"]
    assert recipe["phase2"]["by_source"] == {"seed": 4, "generated": 1, "replay:phase1": 5}
    assert recipe["replay"]["phase1_rows"] == 5
    assert json.loads((tmp_path / "data/recipe.json").read_text()) == recipe


def test_heldout_seeds_are_written_apart_and_never_trained_on(tmp_path):
    mix(tmp_path, leaves(), GENERATED, replay_phase1=1.0, replay_previous=0.0)
    heldout = read_jsonl(tmp_path / "data/heldout.jsonl")
    assert heldout == [{"leaf": "knowledge/a", "origin": "seed", "question": "kheld", "answer": "kans",
                        "context": "ctx"},
                       {"leaf": "compositional_skills/b", "origin": "seed", "question": "sheld", "answer": "sans"}]
    training = (tmp_path / "data/phase1.jsonl").read_text() + (tmp_path / "data/phase2.jsonl").read_text()
    assert "kheld" not in training and "sheld" not in training


def test_replay_from_earlier_builds_skips_their_replays_and_removed_leaves(tmp_path):
    old = tmp_path / "build-2024-08-01"
    mix(old, leaves(), GENERATED, replay_phase1=0.5, replay_previous=0.0)
    with (old / "data/phase2.jsonl").open("a") as fh:
        fh.write(json.dumps({"messages": [], "metadata": {"leaf": "compositional_skills/gone", "flow": "seed",
                                                          "source": "seed"}}) + "\n")
    new = tmp_path / "new"
    recipe = mix(new, leaves(), GENERATED, replay_phase1=0.0, replay_previous=0.5, previous=[old])
    phase2 = read_jsonl(new / "data/phase2.jsonl")
    replayed = [r for r in phase2 if r["metadata"]["source"] == "replay:build:build-2024-08-01"]
    # the old build's own rows: 20 (phase 1) + 5 (phase 2); its 5 phase-1 replays and the removed leaf are not
    assert len(replayed) == round(25 * 0.5) == recipe["replay"]["previous_builds"]["build-2024-08-01"]
    assert all(r["metadata"]["leaf"] != "compositional_skills/gone" for r in replayed)


def test_same_inputs_mix_the_same_way(tmp_path):
    mix(tmp_path / "a", leaves(), GENERATED, replay_phase1=0.3, replay_previous=0.0, seed=7)
    mix(tmp_path / "b", leaves(), GENERATED, replay_phase1=0.3, replay_previous=0.0, seed=7)
    assert (tmp_path / "a/data/phase2.jsonl").read_bytes() == (tmp_path / "b/data/phase2.jsonl").read_bytes()


def test_a_folder_that_is_not_a_build_is_refused(tmp_path):
    with pytest.raises(ValueError, match="not a build folder"):
        mix(tmp_path / "new", leaves(), GENERATED, replay_phase1=0.0, replay_previous=0.5, previous=[tmp_path / "x"])
