"""Postcheck: what each merged pull request taught the new build, for `taxonomist bot announce-build`.

After the evaluation, each merged PR of the build (`taxonomy.prs`, found in the leaves' git history)
gets its leaves' questions, held-out and seed, answered by the previous model (the evaluation's
baseline) and by the new build, each scored by its fact recall (`pipeline.evaluate.correctness`) and its
similarity to the contributor's answer, with the leaf's
status and verdict in the gate. The result is `build.json`'s `postcheck` section; the bot reads the
file (it never imports `pipeline`) and shows each PR its own table.

    {"postcheck": {"baseline": ..., "candidate": ...,
                   "prs": {"123": [{"leaf", "status", "verdict", "questions": [
                       {"question", "answer", "heldout", "before", "after", "before_facts", "after_facts",
                        "before_similarity", "after_similarity"}]}]}}}
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

from pipeline.evaluate.stage import answer_all, fact_scores, model_of_build, read_jsonl, similarities
from pipeline.leaves import TaxonomyError, make_leaf, merged_prs
from pipeline.publish.report import read_report

MAX_QUESTIONS_PER_LEAF = 10  # a comment stays readable; the held-out questions come first


def _leaf_seeds(repo: Path, commit: str, leaf: str) -> list[dict[str, str]]:
    """The leaf's seed questions as merged at `commit` (read from git, never from a working tree)."""
    done = subprocess.run(["git", "show", f"{commit}:{leaf}/qna.yaml"], cwd=repo, capture_output=True, check=False)
    if done.returncode != 0:
        return []
    data = yaml.safe_load(done.stdout)  # merged and validated by the build's own structural checks
    kind = "knowledge" if leaf.startswith("knowledge/") else "skill"
    return [s.to_dict() for s in make_leaf(leaf, kind, data, 0, 0).seeds]


def pr_leaves(repo: Path, commit: str, leaves: list[str], prs: list[int]) -> dict[int, list[str]]:
    """Each merged PR's leaves, from the leaves' own git history (the build's `merged_prs` rule)."""
    out: dict[int, list[str]] = {}
    for leaf in leaves:
        for number in merged_prs(repo, commit, [leaf]):
            if number in prs:
                out.setdefault(number, []).append(leaf)
    return out


def postcheck(build_dir: Path, *, max_new_tokens: int = 64) -> dict[str, Any]:
    """The `postcheck` section for an evaluated build (empty `prs` when no PR is known)."""
    report = read_report(build_dir)
    taxonomy, evaluation = report.get("taxonomy", {}), report.get("evaluation", {})
    rows = {r["leaf"]: r for r in evaluation.get("leaves", [])}
    section: dict[str, Any] = {"baseline": evaluation.get("baseline"), "candidate": evaluation.get("candidate"),
                               "prs": {}}
    repo, commit, prs = taxonomy.get("path"), taxonomy.get("commit"), taxonomy.get("prs") or []
    if not (repo and commit and prs and evaluation):
        return section
    try:
        by_pr = pr_leaves(Path(repo), commit, [leaf for leaf in rows if "/" in leaf], prs)
    except TaxonomyError:
        return section  # the taxonomy checkout moved away since the build: nothing to announce with
    heldout = {(h["leaf"], h["question"]) for h in read_jsonl(Path(build_dir) / "data" / "heldout.jsonl")}
    items: list[dict[str, Any]] = []
    for leaf in sorted({leaf for leaves in by_pr.values() for leaf in leaves}):
        seeds = sorted(_leaf_seeds(Path(repo), commit, leaf), key=lambda s: (leaf, s["question"]) not in heldout)
        items += [{**s, "leaf": leaf, "heldout": (leaf, s["question"]) in heldout}
                  for s in seeds[:MAX_QUESTIONS_PER_LEAF]]
    if not items:
        return section
    before = answer_all(evaluation["baseline"], items, max_new_tokens=max_new_tokens)
    after = answer_all(model_of_build(build_dir), items, max_new_tokens=max_new_tokens)
    references = [i["answer"] for i in items]
    before_sim, after_sim = similarities(before, references), similarities(after, references)
    before_facts, after_facts = fact_scores(items, before), fact_scores(items, after)
    answered: dict[str, list[dict[str, Any]]] = {}
    for i, item in enumerate(items):
        answered.setdefault(item["leaf"], []).append(
            {"question": item["question"], "answer": item["answer"], "heldout": item["heldout"],
             "before": before[i], "after": after[i], "before_facts": before_facts[i], "after_facts": after_facts[i],
             "before_similarity": round(before_sim[i], 4),
             "after_similarity": round(after_sim[i], 4)})
    section["prs"] = {str(number): [{"leaf": leaf, "status": rows[leaf].get("status"),
                                     "verdict": rows[leaf].get("verdict"), "questions": answered.get(leaf, [])}
                                    for leaf in leaves] for number, leaves in sorted(by_pr.items())}
    return section
