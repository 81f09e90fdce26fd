"""Incremental generation on a small taxonomy: reuse, one changed leaf, a removed leaf, resume."""

from __future__ import annotations

import dataclasses
import json
import shutil

import pytest

from pipeline.generate.stage import generate
from pipeline.generate.teacher import Teacher
from pipeline.leaves import WORKTREE
from pipeline.models import tiny_model
from tests.pipeline.generate_helpers import (
    ScriptedBackend,
    documents_mirror,
    edit_leaf,
    fast_settings,
    run_git,
    scripted_teacher,
    small_taxonomy,
)

SYNONYMS = "compositional_skills/linguistics/synonyms"
KNOWLEDGE = "knowledge/science/astronomy/solar_system"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return tiny_model(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture
def setup(tmp_path, tiny):
    taxonomy = small_taxonomy(tmp_path / "taxonomy", git=False)
    settings = fast_settings(tiny, documents_mirror(tmp_path / "docs"))
    return taxonomy, settings, tmp_path / "cache"


def run(taxonomy, build, cache, settings, backend=None):
    teacher = scripted_teacher(backend or ScriptedBackend())
    sections = generate(taxonomy, build, cache, settings, teacher=teacher, progress=False)
    return sections, teacher


def test_rebuilds_regenerate_only_what_changed(setup, tmp_path):
    taxonomy, settings, cache = setup
    first, teacher1 = run(taxonomy, tmp_path / "b1", cache, settings)
    assert len(first["leaves"]["regenerated"]) == 3 and first["leaves"]["reused"] == []
    assert teacher1.counters.requests > 0 == teacher1.counters.failed
    assert first["teacher"]["requests"] == teacher1.counters.requests

    second, teacher2 = run(taxonomy, tmp_path / "b2", cache, settings)
    assert teacher2.counters.requests == 0
    assert second["teacher"]["requests"] == 0
    assert second["leaves"]["regenerated"] == [] and len(second["leaves"]["reused"]) == 3
    assert (tmp_path / "b1/data/phase2.jsonl").read_text() == (tmp_path / "b2/data/phase2.jsonl").read_text()

    edit_leaf(taxonomy / SYNONYMS / "qna.yaml", "happy", "joyful")
    backend = ScriptedBackend()
    third, teacher3 = run(taxonomy, tmp_path / "b3", cache, settings, backend)
    assert third["leaves"]["regenerated"] == [SYNONYMS]
    assert teacher3.counters.requests == len(backend.calls) > 0
    assert all("joyful" in text or kind != "questions" for kind, text in backend.calls)
    assert third["leaves"]["hashes"][SYNONYMS] != first["leaves"]["hashes"][SYNONYMS]

    shutil.rmtree(taxonomy / KNOWLEDGE)
    fourth, teacher4 = run(taxonomy, tmp_path / "b4", cache, settings)
    assert teacher4.counters.requests == 0
    assert KNOWLEDGE not in fourth["leaves"]["used"]
    rows = (tmp_path / "b4/data/phase1.jsonl").read_text()
    assert rows == ""
    assert KNOWLEDGE not in (tmp_path / "b4/data/phase2.jsonl").read_text()


def test_changed_settings_or_teacher_regenerate(setup, tmp_path):
    taxonomy, settings, cache = setup
    run(taxonomy, tmp_path / "b1", cache, settings)
    more = dataclasses.replace(settings, questions_per_leaf=2)
    sections, _ = run(taxonomy, tmp_path / "b2", cache, more)
    assert len(sections["leaves"]["regenerated"]) == 3
    other = ScriptedBackend(identity="scripted:2")
    sections, _ = run(taxonomy, tmp_path / "b3", cache, settings, other)
    assert len(sections["leaves"]["regenerated"]) == 3
    # settings that only change how requests are sent keep the cache
    wider = dataclasses.replace(settings, teacher=dataclasses.replace(settings.teacher, concurrency=8))
    sections, _ = run(taxonomy, tmp_path / "b4", cache, wider)
    assert sections["leaves"]["regenerated"] == []


class Interrupt(BaseException):
    """Stands for Ctrl-C in the middle of the run."""


def test_an_interrupted_run_resumes_without_redoing_finished_leaves(setup, tmp_path):
    taxonomy, settings, cache = setup

    def override(kind, request):
        if kind == "questions" and "synonym" in request.messages[-1]["content"].lower():
            raise Interrupt  # Ctrl-C while the synonyms leaf is being generated
        return None

    with pytest.raises(Interrupt):
        generate(taxonomy, tmp_path / "b1", cache, settings,
                 teacher=Teacher(ScriptedBackend(override=override), retries=0, concurrency=1), progress=False)
    backend = ScriptedBackend()
    resumed, teacher = run(taxonomy, tmp_path / "b1", cache, settings, backend)
    # one leaf at a time: the first finished and was cached; the third may have started before the stop
    reused, regenerated = resumed["leaves"]["reused"], resumed["leaves"]["regenerated"]
    assert reused[0] == "compositional_skills/grounded/extraction/meeting_action_items"
    assert SYNONYMS in regenerated and SYNONYMS not in reused
    assert sorted(reused + regenerated) == sorted(resumed["leaves"]["used"])
    assert teacher.counters.requests == len(backend.calls) > 0
    assert all("action items" not in text for _, text in backend.calls)


def test_build_json_sections_and_other_stages_kept(setup, tmp_path):
    taxonomy, settings, cache = setup
    build = tmp_path / "b1"
    build.mkdir()
    (build / "build.json").write_text(json.dumps({"training": {"steps": 3}}))
    run(taxonomy, build, cache, settings)
    report = json.loads((build / "build.json").read_text())
    assert report["training"] == {"steps": 3}
    for section in ("taxonomy", "leaves", "teacher", "samples", "stages"):
        assert section in report
    assert set(report["leaves"]) >= {"used", "skipped", "regenerated", "reused", "hashes"}
    assert set(report["teacher"]) >= {"requests", "failed", "retried"}
    per_leaf = report["samples"]["per_leaf"][SYNONYMS]
    assert per_leaf["kept"] == 3 and per_leaf["seed"] >= 4 and per_leaf["heldout"] == 1
    assert report["samples"]["per_phase"]["phase1"]["leaves"] == 1
    assert {"leaves", "teacher", "documents", "mix"} <= set(report["stages"])


def test_a_cosmetic_edit_reuses_the_cache_and_a_real_one_does_not(setup, tmp_path):
    taxonomy, settings, cache = setup
    first, _ = run(taxonomy, tmp_path / "b1", cache, settings)
    qna = taxonomy / SYNONYMS / "qna.yaml"
    qna.write_text("# reviewed\n" + qna.read_text().replace("seed_examples:\n", "seed_examples:\n\n", 1))
    cosmetic, teacher = run(taxonomy, tmp_path / "b2", cache, settings)
    assert teacher.counters.requests == 0 and cosmetic["leaves"]["regenerated"] == []
    assert cosmetic["leaves"]["hashes"] == first["leaves"]["hashes"]
    edit_leaf(qna, "happy", "glad")
    real, _ = run(taxonomy, tmp_path / "b3", cache, settings)
    assert real["leaves"]["regenerated"] == [SYNONYMS]


def test_a_git_taxonomy_builds_its_default_branch_and_records_it(tmp_path, tiny):
    taxonomy = small_taxonomy(tmp_path / "taxonomy")
    commit = run_git(taxonomy, "rev-parse", "HEAD").strip()
    settings = fast_settings(tiny, documents_mirror(tmp_path / "docs"))
    cache = tmp_path / "cache"
    first, _ = run(taxonomy, tmp_path / "b1", cache, settings)
    assert first["taxonomy"] == {"path": str(taxonomy.resolve()), "source": "default-branch", "ref": "main",
                                 "commit": commit, "prs": [12],
                                 "commits": {commit: sorted(first["leaves"]["used"])}}  # GitHub credits these
    edit_leaf(taxonomy / SYNONYMS / "qna.yaml", "happy", "glad")  # not committed: not in the build
    again, teacher = run(taxonomy, tmp_path / "b2", cache, settings)
    assert teacher.counters.requests == 0 and again["leaves"]["hashes"] == first["leaves"]["hashes"]
    teacher = scripted_teacher(ScriptedBackend())
    worktree = generate(taxonomy, tmp_path / "b3", cache, settings, ref=WORKTREE, teacher=teacher, progress=False)
    assert worktree["leaves"]["regenerated"] == [SYNONYMS]
    assert (worktree["taxonomy"]["source"], worktree["taxonomy"]["ref"]) == ("worktree", WORKTREE)
