"""Training throughput and peak memory: `pipeline.train.stage` beside a plain transformers `Trainer`, and
its chunked loss beside the full-logits loss it replaced.

Part 1: same student (SmolLM2-135M-Instruct by default), same LoRA settings, same tokenised examples
and collation, same batch (8 samples a step, micro-batches of 4), same number of steps, measured in
the same run, each in its own process (so peak RSS is its own). Data: a build's `data/phase2.jsonl`
(`--data`), else seed examples of ../shared/corpus/taxonomy-2024-08 turned into chat samples.

Part 2 (`--loss-steps`, 0 skips it): `pipeline.train.stage` on pipeline/configs/taxonomy-cpu.yaml's
shape (LoRA, micro-batches of 2 rows cut at 1,536 tokens, SmolLM2's 49,152-token vocabulary) with
the chunked loss (`pipeline.train.loss.token_loss_sum`) and with the full one (`full_token_loss_sum`),
each in its own process, on the same rows: 1,536 tokens each, every token labelled (knowledge rows
train on their user turn too), the worst case for the chunked loss, which skips unlabelled positions.
A third run adds activation checkpointing (`gradient_checkpointing_enable`, set up here, not a
training setting yet): past the logits, a 1,536-token micro-batch's memory is the layers' saved
activations (LoRA's dropout copies of each projection's input among them).

    .venv/bin/python benchmarks/bench_train.py [--steps 6] [--data FILE.jsonl] [--student PATH]
        [--loss-steps 2] [--skip-trainer] [--mmap-threshold 131072]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("TAXONOMIST_CORPUS", REPO.parent / "shared" / "corpus"))
BATCH, MICRO, LR = 8, 4, 2e-4
MAX_LENGTH = 256  # both runs truncate the same way; keeps a CPU run to minutes
LONG_MICRO, LONG_LENGTH = 2, 1536  # pipeline/configs/taxonomy-cpu.yaml's micro-batch


def corpus_samples(limit: int = 96) -> list[dict]:
    """Seed question/answer pairs of the 2024-08 taxonomy as chat samples (the contract's format)."""
    root = CORPUS / "taxonomy-2024-08"
    if not root.is_dir():
        raise SystemExit(f"the corpus is not at {root}; set TAXONOMIST_CORPUS or pass --data")
    samples = []
    for path in sorted(root.rglob("qna.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for seed in data.get("seed_examples") or []:
            if isinstance(seed, dict) and seed.get("question") and seed.get("answer"):
                samples.append({"messages": [{"role": "user", "content": str(seed["question"])},
                                             {"role": "assistant", "content": str(seed["answer"])}],
                                "metadata": {"leaf": str(path.parent.relative_to(root)), "flow": "freeform",
                                             "source": "seed"}})
    return samples[:limit]


def long_samples(rows: int = LONG_MICRO) -> list[dict]:
    """Rows longer than 1,536 tokens built from the corpus's seed texts, as knowledge samples (every
    token labelled); each row starts at another seed so the rows differ."""
    texts = [" ".join(m["content"] for m in s["messages"]) for s in corpus_samples(limit=10_000)]
    out = []
    for row in range(rows):
        words = " ".join(texts[row * 7:] + texts[:row * 7]).split()
        out.append({"messages": [{"role": "user", "content": " ".join(words[:1200])},
                                 {"role": "assistant", "content": " ".join(words[1200:2400])}],
                    "metadata": {"leaf": "knowledge/bench", "flow": "knowledge", "source": "seed"}})
    return out


def run_loss(data: Path, student: str, steps: int, out: Path, loss: str) -> dict:
    """`pipeline.train.stage` at taxonomy-cpu.yaml's micro-batch, with the chunked or the full loss, or the
    chunked loss and activation checkpointing."""
    import pipeline.train.loss
    import pipeline.train.stage
    from pipeline.train.stage import Phase, TrainConfig, train

    if loss == "full":  # train() picks the loss up from pipeline.train.loss when it starts
        pipeline.train.loss.token_loss_sum = pipeline.train.loss.full_token_loss_sum  # type: ignore[assignment]
    if loss == "checkpointed":
        build = pipeline.train.stage.build_model

        def checkpointed(config: TrainConfig) -> tuple:
            model, tokenizer = build(config)
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
            return model, tokenizer

        pipeline.train.stage.build_model = checkpointed  # type: ignore[assignment]
    summary = train(TrainConfig(student=student, output_dir=str(out), phases=(Phase("bench", str(data), steps, LR, 1),),
                                batch_size=LONG_MICRO, micro_batch_size=LONG_MICRO, max_length=LONG_LENGTH,
                                checkpoint_every=10_000, keep_checkpoints=1))
    return {"tokens": summary["tokens"], "seconds": summary["train_seconds"], "final_loss": summary["final_loss"]}


def run_ours(data: Path, student: str, steps: int, out: Path) -> dict:
    from pipeline.train.stage import Phase, TrainConfig, train

    summary = train(TrainConfig(student=student, output_dir=str(out), phases=(Phase("bench", str(data), steps, LR, 2),),
                                batch_size=BATCH, micro_batch_size=MICRO, max_length=MAX_LENGTH,
                                checkpoint_every=10_000, keep_checkpoints=1))
    return {"tokens": summary["tokens"], "seconds": summary["train_seconds"], "final_loss": summary["final_loss"]}


def run_trainer(data: Path, student: str, steps: int, out: Path) -> dict:
    """The baseline: `Trainer` with the same LoRA model, examples and collation."""
    from transformers import Trainer, TrainingArguments

    from pipeline.train.data import collate, load_examples
    from pipeline.train.stage import TrainConfig, build_model

    config = TrainConfig(student=student, output_dir=str(out), phases=(), max_length=MAX_LENGTH)
    model, tokenizer = build_model(config)
    examples = load_examples(data, tokenizer, max_length=config.max_length, unmask_knowledge_user=True)
    seen = {"tokens": 0}

    def collator(batch: list) -> dict:
        tensors = collate(batch, tokenizer.pad_token_id)
        seen["tokens"] += int(tensors["attention_mask"].sum())
        return tensors

    args = TrainingArguments(output_dir=str(out), per_device_train_batch_size=MICRO,
                             gradient_accumulation_steps=BATCH // MICRO, max_steps=steps, learning_rate=LR,
                             warmup_steps=2, lr_scheduler_type="constant_with_warmup", logging_steps=steps,
                             save_strategy="no", report_to=[], use_cpu=True, remove_unused_columns=False,
                             dataloader_num_workers=0, seed=config.seed, disable_tqdm=True)
    trainer = Trainer(model=model, args=args, train_dataset=examples, data_collator=collator)
    started = time.perf_counter()
    result = trainer.train()
    return {"tokens": seen["tokens"], "seconds": time.perf_counter() - started,
            "final_loss": result.training_loss}


def child(kind: str, data: Path, student: str, steps: int) -> None:
    import torch

    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        if kind in ("chunked", "full", "checkpointed"):
            figures = run_loss(data, student, steps, Path(tmp), kind)
        else:
            figures = (run_ours if kind == "ours" else run_trainer)(data, student, steps, Path(tmp))
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(figures))


def measure(kind: str, data: Path, student: str, steps: int, mmap_threshold: int = 0) -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    if mmap_threshold:  # glibc: blocks this big come from mmap and go back to the system when freed
        env["MALLOC_MMAP_THRESHOLD_"] = str(mmap_threshold)
    done = subprocess.run([sys.executable, __file__, "--child", kind, "--data", str(data), "--student", student,
                           "--steps", str(steps)], capture_output=True, text=True, env=env, cwd=REPO, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode or not lines:
        raise SystemExit(f"{kind} run failed:\n{done.stderr[-3000:]}")
    figures = json.loads(lines[-1][len("RESULT "):])
    figures["tokens_per_second"] = figures["tokens"] / figures["seconds"]
    return figures


def main(argv: list[str] | None = None) -> None:
    """`make bench` calls it with no arguments (the defaults); the command line passes its own."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--data", type=Path)
    parser.add_argument("--student", default="default")
    parser.add_argument("--loss-steps", type=int, default=2, help="steps of the chunked/full loss comparison")
    parser.add_argument("--skip-trainer", action="store_true", help="only the chunked/full loss comparison")
    parser.add_argument("--mmap-threshold", type=int, default=0,
                        help="MALLOC_MMAP_THRESHOLD_ for the loss comparison's processes (0: glibc's default)")
    parser.add_argument("--child", choices=("ours", "trainer", "chunked", "full", "checkpointed"))
    args = parser.parse_args(argv or [])
    from pipeline.models import resolve_model_dir

    student = str(resolve_model_dir(args.student))
    if args.child:
        child(args.child, args.data, student, args.steps)
        return
    if not args.skip_trainer:
        compare_trainer(args.data, student, args.steps)
    if args.loss_steps:
        compare_losses(student, args.loss_steps, args.mmap_threshold)


def compare_trainer(data: Path | None, student: str, steps: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        if data is None:
            data = Path(tmp) / "samples.jsonl"
            data.write_text("".join(json.dumps(s) + "\n" for s in corpus_samples()))
        baseline = measure("trainer", data, student, steps)
        ours = measure("ours", data, student, steps)
    print(f"student: {student}; {steps} steps of {BATCH} samples (micro-batch {MICRO}, at most {MAX_LENGTH} "
          "tokens), LoRA r=16, CPU")
    for name, figures in (("transformers Trainer (baseline)", baseline), ("pipeline.train.stage", ours)):
        print(f"{name:34s} {figures['tokens_per_second']:8.1f} tokens/s  {figures['tokens']:7d} tokens  "
              f"{figures['seconds']:7.1f} s  peak RSS {figures['peak_rss_mb']:7.0f} MB  "
              f"final loss {figures['final_loss']:.4f}")
    print(f"throughput ratio ours / Trainer: {ours['tokens_per_second'] / baseline['tokens_per_second']:.2f}")
    print(f"peak memory ratio ours / Trainer: {ours['peak_rss_mb'] / baseline['peak_rss_mb']:.2f}")


def compare_losses(student: str, steps: int, mmap_threshold: int = 0) -> None:
    """The chunked loss beside the full-logits loss, taxonomy-cpu.yaml's micro-batch, one process each."""
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "long.jsonl"
        data.write_text("".join(json.dumps(s) + "\n" for s in long_samples()))
        full, chunked, checkpointed = (measure(kind, data, student, steps, mmap_threshold)
                                       for kind in ("full", "chunked", "checkpointed"))
    print(f"student: {student}; {steps} steps of one micro-batch of {LONG_MICRO} rows x {LONG_LENGTH} tokens "
          f"(taxonomy-cpu.yaml), every token labelled, LoRA r=16, CPU; "
          f"MALLOC_MMAP_THRESHOLD_ {mmap_threshold or 'default'}")
    for name, figures in (("full logits (before)", full), ("chunked loss (pipeline.train.loss)", chunked),
                          ("chunked + activation checkpoints", checkpointed)):
        print(f"{name:34s} {figures['tokens_per_second']:8.1f} tokens/s  {figures['tokens']:7d} tokens  "
              f"{figures['seconds']:7.1f} s  peak RSS {figures['peak_rss_mb']:7.0f} MB  "
              f"final loss {figures['final_loss']:.4f}")
    print(f"throughput ratio chunked / full: {chunked['tokens_per_second'] / full['tokens_per_second']:.2f}")
    print(f"peak memory ratio chunked / full: {chunked['peak_rss_mb'] / full['peak_rss_mb']:.2f}")
    print(f"with activation checkpoints: throughput {checkpointed['tokens_per_second'] / full['tokens_per_second']:.2f}"
          f"x, peak memory {checkpointed['peak_rss_mb'] / full['peak_rss_mb']:.2f}x the full loss's")

if __name__ == "__main__":
    main(sys.argv[1:])
