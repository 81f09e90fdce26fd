"""What the weekly build may read (issue 11 items 6 and 7, build side): a merged leaf is hostile.

Only the document repository's own tracked regular files, from the remote schemes the settings
allow, reach the teacher; a local repository only through an explicit mirror; links and submodules
are never followed, in the document repository or in the taxonomy itself.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from checks.samples import DOCUMENTS_REPO_URL
from pipeline.generate.documents import DocumentFetchError, document_chunks, fetch
from pipeline.generate.stage import generate
from pipeline.leaves import load_taxonomy
from pipeline.models import load_tokenizer, tiny_model
from pipeline.settings import GenerateSettings, SettingsError
from tests.pipeline.generate_helpers import (
    ScriptedBackend,
    edit_leaf,
    fast_settings,
    run_git,
    scripted_teacher,
    small_taxonomy,
)

SECRET = "BUILD-MACHINE-SECRET-7f3a"
KNOWLEDGE = "knowledge/science/astronomy/solar_system"
SYNONYMS = "compositional_skills/linguistics/synonyms"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return tiny_model(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(scope="module")
def tokenizer(tiny):
    return load_tokenizer(tiny)


@pytest.fixture
def hostile(tmp_path: Path) -> tuple[Path, str]:
    """A documents repository with a real Markdown file and links to files of the build machine."""
    secret = tmp_path / "machine" / "credentials.md"
    secret.parent.mkdir()
    secret.write_text(f"# Credentials\n\n{SECRET}\n")
    repo = tmp_path / "docs"
    repo.mkdir()
    run_git(repo, "init", "-q", "-b", "main")
    (repo / "solar_system.md").write_text("# The Sun\n\nThe Sun is a star at the centre of the Solar System.\n")
    os.symlink(secret, repo / "absolute.md")
    os.symlink("../machine/credentials.md", repo / "relative.md")
    run_git(repo, "add", "-A")
    run_git(repo, "commit", "-q", "-m", "docs")
    return repo, run_git(repo, "rev-parse", "HEAD").strip()


def test_links_in_a_document_repository_are_never_followed(hostile, tmp_path, tokenizer):
    repo, commit = hostile
    document = {"repo": DOCUMENTS_REPO_URL, "commit": commit, "patterns": ["*.md"]}
    documents = document_chunks(document, tmp_path / "cache", tokenizer, 64, mirrors=((DOCUMENTS_REPO_URL, str(repo)),))
    assert documents.files == ["solar_system.md"]
    assert all(SECRET not in chunk for chunk in documents.chunks) and "Sun" in documents.chunks[0]
    assert {s["path"]: s["reason"] for s in documents.skipped} == {
        "absolute.md": "a symbolic link: never followed", "relative.md": "a symbolic link: never followed"}


def test_patterns_cannot_leave_the_repository(hostile, tmp_path, tokenizer):
    repo, commit = hostile
    outside = ["../machine/credentials.md", str(tmp_path / "machine" / "credentials.md"), "~/credentials.md"]
    document = {"repo": DOCUMENTS_REPO_URL, "commit": commit, "patterns": outside}
    with pytest.raises(DocumentFetchError, match="no tracked regular file matches") as caught:
        document_chunks(document, tmp_path / "cache", tokenizer, 64, mirrors=((DOCUMENTS_REPO_URL, str(repo)),))
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize("scheme", ["file://", "", "ssh://git@localhost", "ext::sh -c touch% /tmp/pwned%"])
def test_a_local_or_unallowed_repository_is_refused_without_a_mirror(hostile, tmp_path, scheme):
    repo, commit = hostile
    url = scheme + str(repo) if scheme in ("file://", "") else scheme + "/docs"
    with pytest.raises(DocumentFetchError, match="--mirror"):
        fetch(url, commit, tmp_path / "cache")
    assert not (tmp_path / "cache").exists()  # git was never started


def test_file_is_not_a_remote_scheme_a_setting_may_allow():
    with pytest.raises(SettingsError, match="mirror"):
        GenerateSettings(document_schemes=("https", "file"))


def test_the_teacher_never_sees_a_byte_from_outside_the_repositorys_regular_files(hostile, tmp_path, tiny):
    repo, commit = hostile
    taxonomy = small_taxonomy(tmp_path / "taxonomy", git=False)
    qna = taxonomy / KNOWLEDGE / "qna.yaml"
    edit_leaf(qna, "f44dc930b0d761c21d79c045630fcd5ce5296a04", commit)
    edit_leaf(qna, "    - solar_system.md", "    - '*.md'")
    backend = ScriptedBackend()
    settings = fast_settings(tiny, ((DOCUMENTS_REPO_URL, str(repo)),))
    sections = generate(taxonomy, tmp_path / "build", tmp_path / "cache", settings,
                        teacher=scripted_teacher(backend), progress=False)
    assert backend.calls and not any(SECRET in text for _, text in backend.calls)
    assert KNOWLEDGE in sections["leaves"]["used"]
    assert [s["path"] for s in sections["leaves"]["documents"][KNOWLEDGE]["skipped"]] == ["absolute.md", "relative.md"]
    assert SECRET not in (tmp_path / "build" / "data" / "phase1.jsonl").read_text()
    report = json.loads((tmp_path / "build" / "build.json").read_text())
    assert report["leaves"]["documents"][KNOWLEDGE]["files"] == ["solar_system.md"]


def test_a_leaf_naming_a_local_repository_is_skipped_with_the_reason(hostile, tmp_path, tiny):
    repo, commit = hostile
    taxonomy = small_taxonomy(tmp_path / "taxonomy", git=False)
    qna = taxonomy / KNOWLEDGE / "qna.yaml"
    edit_leaf(qna, "https://github.com/taxonomist-samples/solar-system-notes", f"file://{repo}")
    edit_leaf(qna, "f44dc930b0d761c21d79c045630fcd5ce5296a04", commit)
    backend = ScriptedBackend()
    sections = generate(taxonomy, tmp_path / "build", tmp_path / "cache", fast_settings(tiny),
                        teacher=scripted_teacher(backend), progress=False)
    assert KNOWLEDGE not in sections["leaves"]["used"] and SYNONYMS in sections["leaves"]["used"]
    (skipped,) = [s for s in sections["leaves"]["skipped"] if s["leaf"] == KNOWLEDGE]
    assert "--mirror" in skipped["reason"]
    assert not any(SECRET in text or "solar_system" in text for _, text in backend.calls if "Document:" in text)


@pytest.mark.parametrize("name", ["qna.yaml", "attribution.txt"])
def test_a_merged_leaf_file_that_is_a_link_is_skipped_with_a_reason_not_a_crash(tmp_path, name):
    repo = small_taxonomy(tmp_path / "taxonomy")
    target = repo / SYNONYMS / name
    target.unlink()
    os.symlink("/etc/hostname" if name == "qna.yaml" else "/etc/passwd", target)  # absolute: AbsoluteLinkError before
    run_git(repo, "add", "-A")
    run_git(repo, "commit", "-q", "-m", "link")
    loaded = load_taxonomy(repo, tmp_path / "work")
    assert SYNONYMS not in [leaf.path for leaf in loaded.used] and KNOWLEDGE in [leaf.path for leaf in loaded.used]
    (skipped,) = [s for s in loaded.skipped if s["leaf"] == SYNONYMS]
    assert skipped["reason"] == f"{name} is a symbolic link; the build reads only regular files"
    on_disk = load_taxonomy(repo, tmp_path / "work2", ref="WORKTREE")  # the files as they are: same rule
    assert [s["reason"] for s in on_disk.skipped if s["leaf"] == SYNONYMS] == [skipped["reason"]]


def test_a_merged_leaf_file_that_is_a_submodule_is_skipped_with_a_reason(tmp_path):
    repo = small_taxonomy(tmp_path / "taxonomy")
    (repo / SYNONYMS / "qna.yaml").unlink()
    commit = run_git(repo, "rev-parse", "HEAD").strip()
    run_git(repo, "update-index", "--add", "--cacheinfo", f"160000,{commit},{SYNONYMS}/qna.yaml")
    run_git(repo, "commit", "-q", "-m", "submodule")
    loaded = load_taxonomy(repo, tmp_path / "work")
    (skipped,) = [s for s in loaded.skipped if s["leaf"] == SYNONYMS]
    assert skipped["reason"] == "qna.yaml is a submodule; the build reads only regular files"
