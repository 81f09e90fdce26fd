"""Multi-phase training (LAB): phase 1 on knowledge, phase 2 from its result on skills plus replay.

Read top to bottom: the settings, the learning-rate schedule, checkpoints, the loop, the
final save, and the launcher. One code path serves one CPU process, several gloo processes and
several CUDA/NCCL processes or machines: the loop runs under an `accelerate.Accelerator`, and
`launch(nproc=N)` starts it through `accelerate launch` with a config the project ships
(`pipeline/configs/`), never a home-made launcher.

Exact resume. The data order of each phase is a pure function of (seed, phase) (`plan_batches`);
a checkpoint holds the model, the optimizer, the scheduler and every process's RNG states
(`Accelerator.save_state`) plus the phase, the step and the loss history. A run killed anywhere
restarts from its last checkpoint, skips the batches already seen, and ends where an uninterrupted
run with the same seed ends.

Equal losses on 1 or N processes. A step's global batch is split over the processes; each process
sums its token losses and divides by the token count of the *whole* global batch (known to every
process from the plan), times the world size because data parallelism averages gradients. So the
gradient is the one of the single-process step, up to float rounding.

LAB's lessons: a long linear warm-up per phase, then a constant rate (no decay to zero between
phases); phase 2 starts with fresh optimizer moments from phase 1's weights.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from pipeline.memory import freed_memory_returned, memory_limit
from pipeline.progress import time_left
from pipeline.settings import TrainSettings
from pipeline.train.data import collate, load_examples, micro_batches, plan_batches, used_length

CONFIGS_DIR = Path(__file__).resolve().parent / "configs"
STATE_FILE = "trainer_state.json"


class TrainError(RuntimeError):
    """Training cannot start or go on: the message says what to change."""


@dataclass(frozen=True)
class Phase:
    """One training phase: its data file and its own learning rate and warm-up."""

    name: str
    data: str
    steps: int
    lr: float
    warmup_steps: int


@dataclass(frozen=True)
class TrainConfig(TrainSettings):
    """A run: the training settings (`pipeline.settings.TrainSettings`, every field of the `train:`
    section) plus the resolved student folder, where the run writes and its phases. Saved beside the
    checkpoints so a resume uses the same settings."""

    output_dir: str = ""
    phases: tuple[Phase, ...] = ()
    stop_after_steps: int = 0  # for tests and drills: exit (as if killed) after this many steps of the run

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> TrainConfig:
        raw = json.loads(text)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise TrainError(f"unknown training settings: {', '.join(unknown)}")
        raw["phases"] = tuple(Phase(**p) for p in raw["phases"])
        raw["lora_targets"] = tuple(raw.get("lora_targets", TrainSettings.lora_targets))
        return cls(**raw)

    def fingerprint(self) -> str:
        """What a checkpoint must match to be resumed: the settings that shape the run, and the data."""
        settings = asdict(self)
        for volatile in ("stop_after_steps", "threads", "checkpoint_every", "keep_checkpoints", "nproc",
                         "select_checkpoint"):
            settings.pop(volatile)
        digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
        for phase in self.phases:
            digest.update(Path(phase.data).read_bytes())
        return digest.hexdigest()[:16]

    def validate(self, world_size: int) -> None:
        if not self.phases:
            raise TrainError("no training phase configured")
        for phase in self.phases:
            if phase.steps < 1 or phase.lr <= 0 or phase.warmup_steps < 0:
                raise TrainError(f"phase {phase.name}: steps must be >= 1, lr > 0, warmup_steps >= 0")
            if not Path(phase.data).is_file():
                raise TrainError(f"phase {phase.name}: data file {phase.data} does not exist")
        if self.batch_size % world_size:
            raise TrainError(f"batch_size {self.batch_size} must be a multiple of the {world_size} processes")


def learning_rate(config: TrainConfig, global_step: int) -> float:
    """The absolute rate at a step of the whole run: per-phase linear warm-up, then constant."""
    offset = 0
    for phase in config.phases:
        if global_step < offset + phase.steps:
            local = global_step - offset
            return phase.lr * min(1.0, (local + 1) / phase.warmup_steps) if phase.warmup_steps else phase.lr
        offset += phase.steps
    return config.phases[-1].lr


def checkpoints(output_dir: Path) -> list[Path]:
    """Complete checkpoints, oldest first (a checkpoint is complete once its state file exists)."""
    root = output_dir / "checkpoints"
    found = [p for p in root.glob("ckpt-*") if (p / STATE_FILE).is_file()] if root.is_dir() else []
    return sorted(found, key=lambda p: json.loads((p / STATE_FILE).read_text())["global_step"])


def build_model(config: TrainConfig) -> tuple[Any, Any]:
    """The student, wrapped with a LoRA adapter unless full fine-tuning is asked for."""
    from pipeline.models import load_student

    model, tokenizer = load_student(config.student)
    if config.activation_checkpointing:  # before the adapter wraps it; non-reentrant needs no input gradients
        if hasattr(model, "activation_checkpointing_enable"):  # its name from transformers 5 on
            model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
        else:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.config.use_cache = False
    if config.lora:
        from peft import LoraConfig, get_peft_model

        present = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
        targets = [t for t in config.lora_targets if t in present]
        if not targets:
            raise TrainError(f"none of the LoRA target modules {config.lora_targets} is in the student")
        model = get_peft_model(model, LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha,
                                                 lora_dropout=config.lora_dropout, target_modules=targets,
                                                 task_type="CAUSAL_LM"))
    return model, tokenizer


ACTIVATION_CEILING = 768 * 1024 * 1024  # bytes a forward pass's saved activations may take, however much memory
ACTIVATION_SHARE = 8  # ... and at most this fraction (1/8) of the machine's memory limit


def activation_budget(limit_bytes: int) -> int:
    return min(ACTIVATION_CEILING, limit_bytes // ACTIVATION_SHARE)


def activation_bytes_per_token(model_config: Any, *, checkpointing: bool, dropout: bool = False) -> int:
    """What autograd keeps per token for backward. Without checkpointing, every layer's intermediates,
    about 8 floats per unit of hidden plus MLP width (measured on SmolLM2-135M with LoRA dropout: 2.0 MB
    a token over 30 layers); with it, each layer's input (twice with LoRA dropout: its masked copy) and
    one layer's intermediates, recomputed in backward."""
    layers, hidden = model_config.num_hidden_layers, model_config.hidden_size
    layer = 8 * (hidden + getattr(model_config, "intermediate_size", 4 * hidden)) * 4
    inputs = layers * (2 if dropout else 1) * hidden * 4
    return inputs + layer if checkpointing else layers * layer


def resume_point(config: TrainConfig, state: dict[str, Any]) -> str:
    """Where a resumed run picks up, in the words of the build: "skills, phase 2 of 2, from step 1 of 20"."""
    if state["phase"] >= len(config.phases):
        return "every phase done; saving the result"
    phase = config.phases[state["phase"]]
    return f"{phase.name}, phase {state['phase'] + 1} of {len(config.phases)}, from step {state['step'] + 1} of " \
           f"{phase.steps}"


def train(config: TrainConfig) -> dict[str, Any]:
    """Run (or resume) every phase; returns the summary that goes into build.json's `training`."""
    with freed_memory_returned():
        return _train(config)


def _train(config: TrainConfig) -> dict[str, Any]:
    import torch
    from accelerate import Accelerator
    from accelerate.utils import set_seed
    from torch.optim.lr_scheduler import LambdaLR

    from pipeline.train.loss import token_loss_sum  # chunked: the full logits tensor never exists

    if config.threads:
        torch.set_num_threads(config.threads)
    accelerator = Accelerator(mixed_precision=config.mixed_precision, cpu=not torch.cuda.is_available())
    world, rank = accelerator.num_processes, accelerator.process_index
    config.validate(world)
    out = Path(config.output_dir)
    set_seed(config.seed)
    model, tokenizer = build_model(config)
    window = getattr(getattr(model, "config", None), "max_position_embeddings", None)
    phase_examples = [load_examples(Path(p.data), tokenizer, max_length=config.max_length,
                                    unmask_knowledge_user=config.unmask_knowledge_user,
                                    window=window if isinstance(window, int) else None) for p in config.phases]

    pass_tokens = activation_budget(memory_limit().bytes) // activation_bytes_per_token(
        model.config, checkpointing=config.activation_checkpointing, dropout=config.lora and config.lora_dropout > 0)
    model = accelerator.prepare(model)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = accelerator.prepare(torch.optim.AdamW(params, lr=1.0, weight_decay=config.weight_decay))
    scheduler = LambdaLR(optimizer.optimizer, lambda step: learning_rate(config, step))
    accelerator.register_for_checkpointing(scheduler)

    state: dict[str, Any] = {"global_step": 0, "phase": 0, "step": 0, "losses": [], "tokens": 0,
                             "train_seconds": 0.0, "fingerprint": config.fingerprint()}
    saved = checkpoints(out)
    if not saved and accelerator.is_main_process:
        shutil.rmtree(candidates_dir(out), ignore_errors=True)  # a fresh run: no candidate of an earlier one
    if saved:
        found = json.loads((saved[-1] / STATE_FILE).read_text()).get("fingerprint")
        if found != state["fingerprint"]:
            raise TrainError(f"{saved[-1]}: this checkpoint was made with other settings or data; resume with the "
                             f"same ones, or delete {out / 'checkpoints'} to start over")
        accelerator.load_state(str(saved[-1]))
        state = json.loads((saved[-1] / STATE_FILE).read_text())
        accelerator.print(f"resuming from {saved[-1].name} ({resume_point(config, state)})")

    model.train()
    pad_id = tokenizer.pad_token_id
    started = time.perf_counter()
    total_steps, first_step = sum(p.steps for p in config.phases), state["global_step"]
    while state["phase"] < len(config.phases):
        index, phase, examples = state["phase"], config.phases[state["phase"]], phase_examples[state["phase"]]
        if state["step"] == 0 and index > 0:
            optimizer.optimizer.state.clear()  # phase 2 starts from phase 1's weights, not its moments
        plan = plan_batches([len(e.input_ids) for e in examples], batch_size=config.batch_size,
                            steps=phase.steps, seed=config.seed, phase=index, name=phase.name)
        while state["phase"] == index:
            tick = time.perf_counter()
            batch = [examples[i] for i in plan[state["step"]]]
            total_tokens = sum(e.trained_tokens for e in batch)
            mine = batch[rank::world]
            micro = micro_batches(mine, config.micro_batch_size, pass_tokens)
            step_totals = torch.zeros(2, device=accelerator.device)  # loss, tokens seen by this process
            for position, part in enumerate(micro):
                tensors = {k: v.to(accelerator.device) for k, v in collate(part, pad_id).items()}
                last = position == len(micro) - 1
                context = accelerator.no_sync(model) if not last and world > 1 else nullcontext()
                with context:
                    loss = token_loss_sum(model, tensors) / total_tokens
                    accelerator.backward(loss * world)
                step_totals += torch.stack([loss.detach().float(), tensors["attention_mask"].sum().float()])
            if config.max_grad_norm:
                accelerator.clip_grad_norm_(params, config.max_grad_norm)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            loss_sum, tokens = accelerator.reduce(step_totals, reduction="sum").tolist()
            loss_value = float(loss_sum)
            state["tokens"] += int(tokens)
            state["step"] += 1
            state["global_step"] += 1
            state["train_seconds"] += time.perf_counter() - tick
            state["losses"].append({"phase": phase.name, "step": state["step"], "loss": loss_value,
                                    "lr": scheduler.get_last_lr()[0]})
            left = time_left(state["global_step"] - first_step, total_steps - first_step, time.perf_counter() - started)
            accelerator.print(f"{phase.name} step {state['step']}/{phase.steps} loss {loss_value:.4f}"
                              + (f", {left}" if left else ""))
            phase_done = state["step"] == phase.steps
            if phase_done:
                state["phase"] += 1
                state["step"] = 0
            if phase_done or state["global_step"] % config.checkpoint_every == 0:
                save_checkpoint(accelerator, config, state)
                if config.lora and index == len(config.phases) - 1:
                    save_candidate(accelerator, model, config, state["global_step"])
            if config.stop_after_steps and state["global_step"] >= config.stop_after_steps:
                accelerator.wait_for_everyone()
                raise SystemExit(f"stopped after {state['global_step']} steps as asked (stop_after_steps)")

    wall = time.perf_counter() - started
    save_final(accelerator, model, tokenizer, config)
    summary = {
        "settings": json.loads(config.to_json()),
        "processes": world,
        "device": str(accelerator.device),
        "steps": state["global_step"],
        "losses": state["losses"],
        "final_loss": state["losses"][-1]["loss"] if state["losses"] else None,
        "tokens": state["tokens"],
        "train_seconds": round(state["train_seconds"], 3),
        "tokens_per_second": round(state["tokens"] / state["train_seconds"], 1) if state["train_seconds"] else None,
        "wall_seconds_this_run": round(wall, 3),
        "samples": {p.name: len(e) for p, e in zip(config.phases, phase_examples, strict=True)},
        "max_length_used": {p.name: used_length(e) for p, e in zip(config.phases, phase_examples, strict=True)},
        "pass_tokens": pass_tokens,
        "model": str(out / "model"),
        "adapter": str(out / "adapter") if config.lora else None,
    }
    if accelerator.is_main_process:
        (out / "training.json").write_text(json.dumps(summary, indent=2))
    accelerator.wait_for_everyone()
    accelerator.end_training()
    return summary


def save_checkpoint(accelerator: Any, config: TrainConfig, state: dict[str, Any]) -> None:
    """Write every process's state, then the state file last (that marks it complete); prune old ones."""
    out = Path(config.output_dir) / "checkpoints"
    target = out / f"ckpt-{state['global_step']:07d}"
    accelerator.save_state(str(target))
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        (target / STATE_FILE).write_text(json.dumps(state))
        for old in checkpoints(Path(config.output_dir))[:-config.keep_checkpoints]:
            shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()


def save_candidate(accelerator: Any, model: Any, config: TrainConfig, global_step: int) -> None:
    """The adapter at a checkpoint of the last phase, kept (unlike pruned checkpoints) so the build can
    pick the checkpoint whose answers to the held-out branch questions are best (`pipeline.train.selection`)."""
    state_dict = accelerator.get_state_dict(model)
    if accelerator.is_main_process:
        accelerator.unwrap_model(model).save_pretrained(candidates_dir(Path(config.output_dir)) /
                                                        f"step-{global_step:07d}", state_dict=state_dict)
    accelerator.wait_for_everyone()


def candidates_dir(output_dir: Path) -> Path:
    return output_dir / "candidates"


def save_final(accelerator: Any, model: Any, tokenizer: Any, config: TrainConfig) -> None:
    """`adapter/` (LoRA) and `model/` (merged, a plain folder any tool loads), with the tokenizer."""
    out = Path(config.output_dir)
    state_dict = accelerator.get_state_dict(model)
    if not accelerator.is_main_process:
        accelerator.wait_for_everyone()
        return
    unwrapped = accelerator.unwrap_model(model)
    for folder in ("adapter", "model"):
        shutil.rmtree(out / folder, ignore_errors=True)
    if config.lora:
        unwrapped.save_pretrained(out / "adapter", state_dict=state_dict)
        tokenizer.save_pretrained(out / "adapter")
        merged = merge_adapter(config.student, out / "adapter")
    else:
        merged = unwrapped
    merged.save_pretrained(out / "model", state_dict=None if config.lora else state_dict)
    tokenizer.save_pretrained(out / "model")
    accelerator.wait_for_everyone()


def merge_adapter(student: str, adapter: Path) -> Any:
    """A fresh copy of the base with the adapter folded in (the trained wrapper stays untouched)."""
    from peft import PeftModel

    from pipeline.models import load_student

    base, _ = load_student(student)
    return PeftModel.from_pretrained(base, str(adapter)).merge_and_unload()


def launch(config: TrainConfig, *, nproc: int = 1, accelerate_config: Path | None = None,
           env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run the training: in this process for one, or through `accelerate launch` for several."""
    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    config_path = out / "train_config.json"
    config_path.write_text(config.to_json())
    if nproc <= 1 and accelerate_config is None:
        return train(config)
    import torch

    if torch.cuda.is_available() or accelerate_config is not None:
        launcher = [sys.executable, "-m", "accelerate.commands.launch",
                    "--config_file", str(accelerate_config or CONFIGS_DIR / "fsdp-gpu.yaml"),
                    "--num_processes", str(nproc), "-m", "pipeline.train.stage", str(config_path)]
    else:  # accelerate's own launcher needs MPI for several CPU processes; torchrun starts gloo ones
        launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(nproc),
                    "-m", "pipeline.train.stage", str(config_path)]
    from pipeline.models import offline_env

    offline_env()  # the launched processes inherit it
    run_env = {**os.environ, **(env or {})}
    result = subprocess.run(launcher, env=run_env, check=False)
    if result.returncode:
        raise TrainError(f"the {nproc}-process training exited with status {result.returncode} "
                         f"(command: {' '.join(launcher)})")
    return json.loads((out / "training.json").read_text())


def main(argv: list[str] | None = None) -> None:
    """Entry point of each launched process: `python -m pipeline.train.stage CONFIG.json`."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        raise SystemExit("usage: python -m pipeline.train.stage TRAIN_CONFIG.json")
    train(TrainConfig.from_json(Path(args[0]).read_text()))


if __name__ == "__main__":
    main()
