"""`duplicate` and the embedding index: near-copies, same-task leaves, incremental builds, storage."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import checks.index as index_module
from checks.config import ChecksConfig
from checks.content.duplicate import check_duplicate, is_copy
from checks.content.texts import Example, examples
from checks.context import CheckContext
from checks.document import Document
from checks.embeddings import DIMENSIONS, embed
from checks.findings import Severity
from checks.index import EmbeddingIndex, IndexFileError, centroid
from checks.sources import MemorySource
from tests.content.conftest import DATA, qna, skill_yaml

pytestmark = pytest.mark.slow

RHYMES = [("Give me three words that rhyme with cat.", "Hat, bat and mat rhyme with cat."),
          ("Which words rhyme with light?", "Night, kite, bright and sight rhyme with light."),
          ("Name a word that rhymes with moon.", "Spoon rhymes with moon."),
          ("List words that rhyme with cake.", "Lake, make, bake and take rhyme with cake."),
          ("What rhymes with house?", "Mouse and blouse rhyme with house.")]
RIVERS = [("Which is the longest river in Europe?", "The Volga, at about 3,530 km."),
          ("Into which sea does the Danube flow?", "The Danube flows into the Black Sea."),
          ("Which river flows through Paris?", "The Seine flows through Paris."),
          ("Where does the Rhine begin?", "The Rhine rises in the Swiss Alps."),
          ("Which river flows through London?", "The Thames flows through London.")]
RHYME_LEAF = "compositional_skills/linguistics/rhymes"


def source(leaf: str, pairs: list[tuple[str, str]]) -> MemorySource:
    return MemorySource(f"{leaf}/qna.yaml", skill_yaml(pairs).encode())


@pytest.fixture(scope="module")
def index() -> EmbeddingIndex:
    built = EmbeddingIndex()
    assert built.update([source(RHYME_LEAF, RHYMES),
                         source("compositional_skills/geography/rivers", RIVERS)]) == []
    return built


def run(path: str, pairs: list[tuple[str, str]], index: EmbeddingIndex | None):
    return run_file(path, skill_yaml(pairs), index)


def test_embed_rows_are_normalised() -> None:
    rows = embed(["a cat", "a dog"])
    assert rows.shape == (2, DIMENSIONS) and rows.dtype == np.float32
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)
    assert embed([]).shape == (0, DIMENSIONS)


def test_copied_example_is_an_error_naming_leaf_pair_and_score(index: EmbeddingIndex) -> None:
    pairs = [RHYMES[0], ("What is 2 plus 2?", "4")]
    found = run("compositional_skills/new/leaf/qna.yaml", pairs, index)
    copy = [f for f in found if f.severity is Severity.ERROR]
    assert len(copy) == 1
    assert RHYME_LEAF in copy[0].message and ".seed_examples[0]" in copy[0].message
    assert "similarity 1.00" in copy[0].message and copy[0].yaml_path == ".seed_examples[0]"


def test_paraphrase_warns(index: EmbeddingIndex) -> None:
    pairs = [("Which three words rhyme with cat?", "Hat, bat and mat all rhyme with cat."),
             ("What is 2 plus 2?", "4")]
    found = [f for f in run("compositional_skills/new/leaf/qna.yaml", pairs, index) if "near-duplicate" in f.message]
    assert [f.severity for f in found] == [Severity.WARNING]


def test_same_task_new_examples_get_a_leaf_warning(index: EmbeddingIndex) -> None:
    pairs = [("Give me two words that rhyme with dog.", "Log and fog rhyme with dog."),
             ("Which words rhyme with rain?", "Train, main and chain rhyme with rain."),
             ("Name a rhyme for star.", "Car rhymes with star."),
             ("List words that rhyme with bell.", "Shell, tell and well rhyme with bell."),
             ("What rhymes with sun?", "Fun, run and bun rhyme with sun.")]
    found = run("compositional_skills/new/leaf/qna.yaml", pairs, index)
    assert not [f for f in found if "near-duplicate" in f.message]
    leaf = [f for f in found if "teaches the task" in f.message]
    assert len(leaf) == 1 and RHYME_LEAF in leaf[0].message and leaf[0].severity is Severity.WARNING


def test_own_leaf_and_other_tasks_are_not_duplicates(index: EmbeddingIndex) -> None:
    assert run(f"{RHYME_LEAF}/qna.yaml", RHYMES, index) == []
    unrelated = [("How do I sort a list in Python?", "Use sorted(items)."),
                 ("What is a prime number?", "A number with exactly two divisors.")]
    assert run("compositional_skills/new/leaf/qna.yaml", unrelated, index) == []


def test_near_identical_examples_in_one_file() -> None:
    pairs = [RHYMES[0], RHYMES[0], ("Convert 5 km to miles.", "About 3.1 miles."),
             ("Convert 8 km to miles.", "About 5 miles.")]
    found = run("compositional_skills/new/leaf/qna.yaml", pairs, None)
    assert [(f.severity, f.yaml_path) for f in found] == [(Severity.INFO, ".seed_examples[1]")]


def test_is_copy_is_character_level() -> None:
    assert is_copy("Convert 5 km to miles.\n3.1", "convert 5 km to  miles.\n3.1")
    assert not is_copy("a,b,c\n1,2,3", "| a | b | c |\n| 1 | 2 | 3 |")


def test_save_load_round_trip_without_pickle(index: EmbeddingIndex, tmp_path: Path) -> None:
    path = tmp_path / "idx.npz"
    index.save(path)
    loaded = EmbeddingIndex.load(path)
    assert loaded.leaves() == index.leaves()
    query = embed([Example((), *RHYMES[1]).text])
    assert [m.leaf for m in loaded.nearest(query)[0]] == [RHYME_LEAF]
    with np.load(path, allow_pickle=False) as npz:
        assert set(npz.files) == {"hashes", "vectors", "meta"}


def test_load_refuses_foreign_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.npz"
    bad.write_text("not an index")
    with pytest.raises(IndexFileError, match="not a taxonomist index"):
        EmbeddingIndex.load(bad)


def test_rebuild_embeds_only_changed_texts(index: EmbeddingIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    real = index_module.embed

    def counting(texts):
        seen.extend(texts)
        return real(texts)

    monkeypatch.setattr(index_module, "embed", counting)
    copy = EmbeddingIndex().merged(index)
    changed = [*RHYMES[:4], ("What rhymes with tree?", "Bee and sea rhyme with tree.")]
    copy.update([source(RHYME_LEAF, changed)])
    assert seen == [Example((), *changed[4]).text]


def test_excluding_and_merging_origins(index: EmbeddingIndex) -> None:
    prs = EmbeddingIndex()
    prs.add_leaf("compositional_skills/pr/leaf", [Example(("seed_examples", 0), "Pr question?", "Pr answer.")],
                 origin="pr/7")
    both = index.merged(prs)
    assert ("pr/7", "compositional_skills/pr/leaf") in both.leaves()
    assert ("pr/7", "compositional_skills/pr/leaf") not in both.excluding("pr/7").leaves()
    both.remove_leaf(RHYME_LEAF)
    assert all(leaf != RHYME_LEAF for _, leaf in both.leaves())
    assert any(leaf == RHYME_LEAF for _, leaf in index.leaves())  # copies do not share leaves


@pytest.mark.corpus
def test_paraphrases_of_merged_examples_are_found(corpus: Path) -> None:
    """The labelled paraphrases (tests/content/data/paraphrases.json) against the real merged leaves."""
    cases = json.loads((DATA / "paraphrases.json").read_text(encoding="utf-8"))
    root = corpus / "taxonomy-2024-08"
    leaves = sorted({c["leaf"] for c in cases})
    built = EmbeddingIndex()
    built.update([MemorySource(f"{leaf}/qna.yaml", (root / leaf / "qna.yaml").read_bytes()) for leaf in leaves])
    texts = []
    for case in cases:
        original = {e.at[1]: e for e in examples(Document.parse((root / case["leaf"] / "qna.yaml").read_text()).data)}
        texts.append(Example((), case["question"], original[case["example"]].answer).text)
    matches = built.nearest(embed(texts), exclude_leaf="new/leaf")
    found = sum(1 for (m,), c in zip(matches, cases, strict=True)
                if m.leaf == c["leaf"] and m.score >= ChecksConfig().duplicates.warn_at)
    assert found / len(cases) >= 0.9


def test_centroid_is_unit_length() -> None:
    assert np.isclose(np.linalg.norm(centroid(embed(["a", "b", "c"]))), 1.0, atol=1e-5)


def test_alike_examples_in_one_file_are_a_quality_note_without_the_duplicate_label() -> None:
    from bot.comment.labels import wanted_labels
    from checks.findings import FileReport, Report

    path = "compositional_skills/new/leaf/qna.yaml"
    pairs = [RHYMES[0], RHYMES[0], ("Which three words rhyme with cat?", "Hat, bat and mat all rhyme with cat."),
             RIVERS[0], RIVERS[1]]
    found = run(path, pairs, None)
    assert found and all(f.severity is Severity.INFO and f.message.startswith("quality note:") for f in found)
    assert "are a copy of each other" in found[0].message and "teach something different" in found[0].message
    assert not any("extend that leaf" in f.message for f in found)
    report = Report(files=[FileReport(path=path, source=path, kind="skill", findings=found)])
    assert "possible-duplicate" not in wanted_labels(report, [path])


def test_a_copy_of_another_leaf_still_raises_the_duplicate_label(index: EmbeddingIndex) -> None:
    from bot.comment.labels import wanted_labels
    from checks.findings import FileReport, Report

    path = "compositional_skills/new/leaf/qna.yaml"
    found = run(path, [RHYMES[0], ("What is 2 plus 2?", "4")], index)
    assert [f.severity for f in found if "near-duplicate of" in f.message] == [Severity.ERROR]
    report = Report(files=[FileReport(path=path, source=path, kind="skill", findings=found)])
    assert "possible-duplicate" in wanted_labels(report, [path])


def test_a_whole_leaf_copied_is_one_error_naming_that_leaf(index: EmbeddingIndex) -> None:
    found = run("compositional_skills/new/leaf/qna.yaml", RHYMES, index)
    assert [(f.severity, f.yaml_path) for f in found] == [(Severity.ERROR, ".seed_examples")]
    (copy,) = found
    assert f"this whole leaf is a copy of {RHYME_LEAF} in the merged taxonomy" in copy.message
    assert "extend that leaf" in copy.message and "close" in copy.message
    (similar,) = copy.similar
    assert (similar.leaf, similar.matched_leaf, similar.merged) == ("compositional_skills/new/leaf", RHYME_LEAF, True)
    assert similar.examples == tuple((f".seed_examples[{i}]", f".seed_examples[{i}]") for i in range(5))


def test_a_tie_with_a_merged_leaf_never_hides_an_open_pr(index: EmbeddingIndex) -> None:
    prs = EmbeddingIndex()
    prs.add_leaf("compositional_skills/pr/rhymes", [Example(("seed_examples", 0), *RHYMES[0])], origin="pr/7")
    found = run("compositional_skills/new/leaf/qna.yaml", [RHYMES[0], ("What is 2 plus 2?", "4")], index.merged(prs))
    (copy,) = [f for f in found if f.similar and f.similar[0].examples]
    assert [(s.origin, s.matched_leaf, s.score) for s in copy.similar] == [
        ("base", RHYME_LEAF, 1.0), ("pr/7", "compositional_skills/pr/rhymes", 1.0)]
    assert "open pr/7" in copy.message and "the merged taxonomy" in copy.message
    assert copy.to_dict()["similar"][1]["origin"] == "pr/7"


def test_nearest_breaks_ties_by_the_sorted_leaf_on_any_blas_kernel() -> None:
    built = EmbeddingIndex()
    for leaf in ("b/leaf", "a/leaf"):
        built.add_leaf(leaf, [Example(("seed_examples", 0), *RHYMES[0])], origin="pr/1")
    noise = embed([Example((), *RHYMES[0]).text]) * np.float32(1 + 3e-7)  # a kernel's last-bit difference
    assert [(m.leaf, m.score) for m in built.nearest(noise)[0]] == [("a/leaf", 1.0)]


def test_scores_are_compared_rounded() -> None:
    from checks.embeddings import comparable

    assert comparable(np.array([0.94999999, 1.0000001], dtype=np.float32)).tolist() == [0.95, 1.0]
    assert float(comparable(np.float32(0.95))) >= ChecksConfig().duplicates.block_at


def test_minimal_pairs_in_one_file_are_not_called_copies() -> None:
    pairs = [("David is the brother to three sisters. Each of the sisters has one brother. How many brothers "
              "does David have?", "David is their one brother. So, David has no brothers."),
             ("David is the brother to three sisters. Each of the sisters has two brothers. How many brothers "
              "does David have?", "David is one of their brothers. So, David has one brother."),
             *RIVERS[:3]]
    assert run("compositional_skills/new/leaf/qna.yaml", pairs, None) == []
    copied = run("compositional_skills/new/leaf/qna.yaml", [pairs[0], pairs[0], *RIVERS[:3]], None)
    assert len(copied) == 1 and "a copy of each other" in copied[0].message


def test_numbers_in_words_make_a_new_example() -> None:
    from checks.content.duplicate import numbers, same_example

    assert numbers("Three sisters and 2 brothers") == ["2", "three"]
    assert not same_example("Each of the sisters has one brother.", "Each of the sisters has two brothers.", "", "")


@pytest.mark.corpus
def test_upstream_copies_and_minimal_pairs(corpus: Path) -> None:
    """PR 1267 copies the merged `bullet_lists` whole: one error naming it. PR 736's examples are minimal
    pairs (one brother, two brothers): no note at all."""
    leaf = "compositional_skills/linguistics/bullet_lists"
    built = EmbeddingIndex()
    built.update([MemorySource(f"{leaf}/qna.yaml", (corpus / "taxonomy-2024-08" / leaf / "qna.yaml").read_bytes())])
    prs = corpus / "taxonomy-prs"
    copied = "compositional_skills/linguistics/Important_items/qna.yaml"
    found = run_file(copied, (prs / "1267" / copied).read_text(encoding="utf-8"), built)
    assert [(f.severity, f.yaml_path) for f in found] == [(Severity.ERROR, ".seed_examples")]
    assert f"whole leaf is a copy of {leaf}" in found[0].message
    pairs = "compositional_skills/philosophy/logic/inductive_reasoning/siblings/qna.yaml"
    assert run_file(pairs, (prs / "736" / pairs).read_text(encoding="utf-8"), built) == []


def run_file(path: str, text: str, index: EmbeddingIndex | None):
    return list(check_duplicate(qna(path, text), CheckContext(ChecksConfig(), index=index)))
