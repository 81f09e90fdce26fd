"""Deduplication: exact after normalising, and near duplicates by MiniLM embeddings."""

from __future__ import annotations

import pytest
import torch

from pipeline.generate.dedup import deduplicate

torch.set_num_threads(1)


def pair(question: str, answer: str = "Eight planets orbit the Sun.") -> dict[str, str]:
    return {"question": question, "answer": answer}


def test_exact_duplicates_ignore_case_and_spacing():
    samples = [pair("How many planets are there?"), pair("how many  planets are there?"), pair("What is Pluto?")]
    kept, dropped = deduplicate(samples, [pair("What is Pluto?")], near=1.0)
    assert kept == [samples[0]]
    assert dropped == {"duplicate_exact": 2}


@pytest.mark.slow
def test_near_duplicates_by_embedding_keep_distinct_samples():
    samples = [pair("How many planets are there in the Solar System?"),
               pair("How many planets are there in the solar system ?!"),
               pair("Which word means the opposite of hot?", "Cold.")]
    reference = [pair("How many planets does the Solar System have?")]
    kept, dropped = deduplicate(samples, reference, near=0.9)
    assert kept == [samples[2]]
    assert dropped == {"duplicate_near": 2}
    kept, dropped = deduplicate(samples, [], near=0.999)
    assert len(kept) == 3 and not dropped
