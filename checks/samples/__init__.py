"""Sample data written for this project: a small taxonomy, a contribution and a source document."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

SAMPLES_DIR = Path(__file__).resolve().parent
TAXONOMY_DIR = SAMPLES_DIR / "taxonomy"
CONTRIBUTION_DIR = SAMPLES_DIR / "contribution"
DOCUMENTS_DIR = SAMPLES_DIR / "documents"
DOCUMENTS_REPO_URL = "https://github.com/taxonomist-samples/solar-system-notes"

# Fixed identity and dates make the documents commit reproducible: the sample knowledge leaf names it.
_FIXED_GIT_ENV = {
    "GIT_AUTHOR_NAME": "Taxonomist Samples",
    "GIT_AUTHOR_EMAIL": "samples@example.org",
    "GIT_AUTHOR_DATE": "2024-01-01T00:00:00+0000",
    "GIT_COMMITTER_NAME": "Taxonomist Samples",
    "GIT_COMMITTER_EMAIL": "samples@example.org",
    "GIT_COMMITTER_DATE": "2024-01-01T00:00:00+0000",
    "GIT_CONFIG_NOSYSTEM": "1",
    "HOME": os.devnull,
}


def make_documents_repo(dest: Path) -> str:
    """A git repository at `dest` holding the sample document; returns its (fixed) commit SHA."""
    env = {**os.environ, **_FIXED_GIT_ENV}

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=dest, env=env, check=True,
                              capture_output=True, text=True).stdout.strip()

    dest.mkdir(parents=True, exist_ok=True)
    git("init", "-q", "-b", "main")
    for doc in sorted(DOCUMENTS_DIR.glob("*.md")):
        (dest / doc.name).write_bytes(doc.read_bytes())
    git("add", "-A")
    git("commit", "-q", "-m", "Sample documents")
    return git("rev-parse", "HEAD")
