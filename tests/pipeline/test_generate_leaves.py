"""Leaves through the structural checks, the taxonomy at a ref, merged PRs, documents and chunks."""

from __future__ import annotations

import pytest

from checks.samples import CONTRIBUTION_DIR, DOCUMENTS_REPO_URL, make_documents_repo
from pipeline.generate.documents import DocumentFetchError, chunk_markdown, document_chunks, fetch
from pipeline.leaves import WORKTREE, TaxonomyError, content_hash, load_taxonomy, split_heldout
from pipeline.models import load_tokenizer, tiny_model
from tests.pipeline.generate_helpers import edit_leaf, run_git, small_taxonomy

ANTONYMS = "compositional_skills/linguistics/antonyms"
SYNONYMS = "compositional_skills/linguistics/synonyms"


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    return load_tokenizer(tiny_model(tmp_path_factory.mktemp("tiny") / "model"))


def test_leaves_that_fail_structural_checks_are_listed_with_findings(tmp_path):
    taxonomy = small_taxonomy(tmp_path / "t", git=False)
    (taxonomy / ANTONYMS).mkdir(parents=True)
    for name in ("qna.yaml", "attribution.txt"):
        (taxonomy / ANTONYMS / name).write_bytes((CONTRIBUTION_DIR / ANTONYMS / name).read_bytes())
    loaded = load_taxonomy(taxonomy, tmp_path / "work")
    assert [leaf.path for leaf in loaded.used] == [
        "compositional_skills/grounded/extraction/meeting_action_items",
        "compositional_skills/linguistics/synonyms",
        "knowledge/science/astronomy/solar_system"]
    assert [s["leaf"] for s in loaded.skipped] == [ANTONYMS]
    checks = {f["check"] for f in loaded.skipped[0]["findings"]}
    assert checks & {"schema", "min-examples"}  # too few seed examples
    assert all(f["severity"] == "error" for f in loaded.skipped[0]["findings"])
    flows = {leaf.path.split("/")[-1]: leaf.flow for leaf in loaded.used}
    assert flows == {"meeting_action_items": "grounded", "synonyms": "freeform", "solar_system": "knowledge"}


def test_taxonomy_at_a_ref_and_the_merged_prs_in_its_history(tmp_path):
    repo = small_taxonomy(tmp_path / "t")
    first = run_git(repo, "rev-parse", "HEAD").strip()
    edit_leaf(repo / "compositional_skills/linguistics/synonyms/qna.yaml", "happy", "joyful")
    run_git(repo, "commit", "-qam", "Merge pull request #34 from someone/joyful")
    at_first = load_taxonomy(repo, tmp_path / "w1", ref=first)
    assert at_first.commit == first and at_first.prs == [12]
    at_head = load_taxonomy(repo, tmp_path / "w2", ref="main")
    assert at_head.prs == [12, 34]
    changed = "compositional_skills/linguistics/synonyms"
    hashes = {leaf.path: leaf.content_hash for leaf in at_first.used}
    assert {leaf.path: leaf.content_hash for leaf in at_head.used}[changed] != hashes[changed]
    with pytest.raises(TaxonomyError, match="no-such-ref"):
        load_taxonomy(repo, tmp_path / "w3", ref="no-such-ref")


def _hashes(taxonomy) -> dict[str, str]:
    return {leaf.path: leaf.content_hash for leaf in taxonomy.used}


def test_a_git_checkout_defaults_to_its_default_branch_not_the_working_tree(tmp_path):
    repo = small_taxonomy(tmp_path / "t")
    main = run_git(repo, "rev-parse", "HEAD").strip()
    run_git(repo, "checkout", "-q", "-b", "feature")
    edit_leaf(repo / SYNONYMS / "qna.yaml", "happy", "joyful")
    run_git(repo, "commit", "-qam", "Joyful (#40)")
    edit_leaf(repo / SYNONYMS / "qna.yaml", '"buy"', '"sell"')  # uncommitted
    default = load_taxonomy(repo, tmp_path / "w1")
    assert (default.source, default.ref, default.commit, default.prs) == ("default-branch", "main", main, [12])
    worktree = load_taxonomy(repo, tmp_path / "w2", ref=WORKTREE)
    assert (worktree.source, worktree.ref, worktree.prs) == ("worktree", WORKTREE, [12, 40])
    feature = load_taxonomy(repo, tmp_path / "w3", ref="feature")
    assert (feature.source, feature.ref) == ("ref", "feature")
    hashes = {name: _hashes(t)[SYNONYMS] for name, t in
              (("main", default), ("worktree", worktree), ("feature", feature))}
    assert len(set(hashes.values())) == 3  # each read its own content


def test_the_default_branch_is_the_remotes_head_then_main_or_master_then_head(tmp_path):
    origin = small_taxonomy(tmp_path / "origin")
    pushed = run_git(origin, "rev-parse", "HEAD").strip()
    clone = tmp_path / "clone"
    run_git(tmp_path, "clone", "-q", str(origin), str(clone))
    edit_leaf(clone / SYNONYMS / "qna.yaml", "happy", "joyful")
    run_git(clone, "commit", "-qam", "not pushed yet")
    at_remote = load_taxonomy(clone, tmp_path / "w1")
    assert (at_remote.ref, at_remote.commit) == ("origin/main", pushed)

    master = small_taxonomy(tmp_path / "m")
    run_git(master, "branch", "-m", "main", "master")
    run_git(master, "checkout", "-q", "-b", "topic")
    assert load_taxonomy(master, tmp_path / "w2").ref == "master"

    trunk = small_taxonomy(tmp_path / "trunk")
    run_git(trunk, "branch", "-m", "main", "trunk")
    only = load_taxonomy(trunk, tmp_path / "w3")
    assert (only.ref, only.commit) == ("HEAD", run_git(trunk, "rev-parse", "HEAD").strip())


def test_a_plain_folder_is_read_as_it_is_and_says_so(tmp_path):
    folder = small_taxonomy(tmp_path / "t", git=False)
    for ref in (None, WORKTREE):
        loaded = load_taxonomy(folder, tmp_path / "w", ref=ref)
        assert (loaded.source, loaded.ref, loaded.commit, loaded.prs) == ("folder", None, None, [])
        assert len(loaded.used) == 3
    empty = tmp_path / "empty"
    empty.mkdir()
    run_git(empty, "init", "-q")
    with pytest.raises(TaxonomyError, match=f"no commit.*--ref {WORKTREE}"):
        load_taxonomy(empty, tmp_path / "w")


def test_the_content_hash_ignores_cosmetic_edits_and_sees_real_ones(tmp_path):
    folder = small_taxonomy(tmp_path / "t", git=False)
    qna = folder / SYNONYMS / "qna.yaml"
    before = _hashes(load_taxonomy(folder, tmp_path / "w"))
    original = qna.read_text()
    cosmetic = ("# a comment on top\n" + original.replace("version: 3\ncreated_by: sample-contributor",
                                                          "created_by:   'sample-contributor'  # who\nversion: 3")
                .replace("seed_examples:\n", "seed_examples:\n\n", 1))
    assert cosmetic != original
    qna.write_text(cosmetic)
    assert _hashes(load_taxonomy(folder, tmp_path / "w")) == before
    edit_leaf(qna, "happy", "glad")
    after = _hashes(load_taxonomy(folder, tmp_path / "w"))
    assert after[SYNONYMS] != before[SYNONYMS]
    assert {k: v for k, v in after.items() if k != SYNONYMS} == {k: v for k, v in before.items() if k != SYNONYMS}
    assert content_hash({"a": 1, "b": ["x "]}) == content_hash({"b": ["x"], "a": 1})
    assert content_hash({"a": 1}) != content_hash({"a": "1"})


def test_a_missing_taxonomy_is_a_clear_error(tmp_path):
    with pytest.raises(TaxonomyError, match="no such taxonomy folder"):
        load_taxonomy(tmp_path / "nope", tmp_path / "w")


def test_heldout_split_is_fixed_per_leaf_and_keeps_one_for_training():
    seeds = list(range(6))
    kept, held = split_heldout("a/b", seeds, 2, seed=0)
    assert len(held) == 2 and sorted(kept + held) == seeds
    assert split_heldout("a/b", seeds, 2, seed=0) == (kept, held)
    assert split_heldout("a/b", [1], 3, seed=0) == ([1], [])


def test_documents_fetched_once_through_a_mirror(tmp_path, tokenizer):
    commit = make_documents_repo(tmp_path / "docs")
    mirrors = ((DOCUMENTS_REPO_URL, f"file://{tmp_path / 'docs'}"),)
    repository = fetch(DOCUMENTS_REPO_URL, commit, tmp_path / "cache", mirrors)
    assert fetch(DOCUMENTS_REPO_URL, commit, tmp_path / "cache", mirrors) == repository
    document = {"repo": DOCUMENTS_REPO_URL, "commit": commit, "patterns": ["*.md"]}
    documents = document_chunks(document, tmp_path / "cache", tokenizer, 64, mirrors=mirrors)
    assert len(documents.chunks) > 1 and "Sun" in documents.chunks[0]
    assert documents.files == ["solar_system.md"] and documents.skipped == []


def test_a_missing_commit_or_pattern_is_a_clear_error(tmp_path, tokenizer):
    commit = make_documents_repo(tmp_path / "docs")
    mirrors = ((DOCUMENTS_REPO_URL, str(tmp_path / "docs")),)
    with pytest.raises(DocumentFetchError, match=r"0{40}"):
        fetch(DOCUMENTS_REPO_URL, "0" * 40, tmp_path / "cache", mirrors)
    with pytest.raises(DocumentFetchError, match="no tracked regular file matches"):
        document_chunks({"repo": DOCUMENTS_REPO_URL, "commit": commit, "patterns": ["*.pdf"]}, tmp_path / "cache",
                        tokenizer, 64, mirrors)


def test_chunks_are_bounded_by_the_students_tokens(tokenizer):
    text = "\n\n".join(f"Paragraph {i} " + "word " * (5 + i * 7) for i in range(12))
    chunks = chunk_markdown(text, tokenizer, 80)
    assert len(chunks) > 2
    for chunk in chunks:
        assert len(tokenizer(chunk, add_special_tokens=False)["input_ids"]) <= 80
    assert "Paragraph 0" in chunks[0]
    assert [i for i in range(12) if any(f"Paragraph {i} " in c for c in chunks)] == list(range(12))


def test_markdown_is_split_at_headings_and_each_chunk_carries_its_heading_path(tokenizer):
    text = ("# Guide\n\nIntro words here.\n\n## Setup\n\nInstall it first.\n\n```\n# not a heading\n```\n\n"
            "### Linux\n\nUse the package manager.\n\n## Use\n\n" + "\n\n".join(f"Step {i} " + "word " * 12
                                                                          for i in range(6)))
    chunks = chunk_markdown(text, tokenizer, 60)
    assert chunks[0] == "# Guide\n\nIntro words here."
    assert chunks[1].startswith("# Guide\n## Setup\n\nInstall it first.") and "# not a heading" in chunks[1]
    assert chunks[2] == "# Guide\n## Setup\n### Linux\n\nUse the package manager."
    use = chunks[3:]
    assert len(use) > 1 and all(c.startswith("# Guide\n## Use\n\nStep") for c in use)
    assert not any("Install" in c for c in use)  # a chunk never crosses a heading
    for chunk in chunks:
        assert len(tokenizer(chunk, add_special_tokens=False)["input_ids"]) <= 60
