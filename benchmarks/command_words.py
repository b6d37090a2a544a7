"""Voice commands on voices the model never heard: real Asterisk prompts and synthetic voices.

    python benchmarks/command_words.py                  # every figure (about 12 min on 2 cores)
    python benchmarks/command_words.py --limit 20       # a quick look
    python benchmarks/command_words.py --no-keyword-prompt  # Whisper not told the keywords

The shipped model answers commands with Whisper's decoder (speaksphere.model.command): nothing of it was
trained on our data, so every voice is held out. The temperature is fitted on the dev voices only
(espeak-ng variants) and reported on the others:
- real: every English Asterisk prompt labelled for the command task (Allison: the digits and other
  single words, which are _unknown_; Debian's asterisk-core-sounds-en-wav),
- test: mbrola, pico, flite and festival voices saying the 35 keywords and other words,
A recording without speech never reaches the model: the app refuses it ("We could not hear any
speech"), so _silence_ is answered only by the API's classify calls on windows.
Prints accuracy, and expected calibration error before and after the temperature, per set.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing

from speaksphere.audio import SAMPLE_RATE, AudioError  # noqa: E402
from speaksphere.config import load_config  # noqa: E402
from speaksphere.data.corpus_config import CorpusConfig  # noqa: E402
from speaksphere.data.engines import render  # noqa: E402
from speaksphere.data.labels import COMMAND_WORDS, COMMANDS, UNKNOWN  # noqa: E402
from speaksphere.data.sources import asterisk_prompts  # noqa: E402
from speaksphere.model import command, load_model  # noqa: E402
from speaksphere.model.command import first_speech_window  # noqa: E402
from speaksphere.recording import load_recording  # noqa: E402
from speaksphere.training.heads import expected_calibration_error, fit_temperature  # noqa: E402

DEV_VOICES = [("espeak", v) for v in ("en-us+m1", "en-gb+f2", "en-029+m4", "en-us-nyc+f4", "en-gb-x-rp+m2")]
TEST_VOICES = [("mbrola", v) for v in ("mb-us1", "mb-us2", "mb-us3", "mb-en1")] + \
              [("pico", "en-US"), ("pico", "en-GB"), ("flite", "slt"), ("flite", "rms"), ("flite", "awb"),
               ("festival", "kal_diphone")]
# other words, as Speech Commands' _unknown_: common, short, none a keyword or a keyword's homophone
OTHER_WORDS = ["hello", "water", "music", "paper", "yellow", "morning", "garden", "window", "table", "number",
               "little", "open", "please", "coffee", "sister"]


def _padded(wave: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A keyword clip as Speech Commands holds them: about 1 s, the word somewhere inside, soft room noise."""
    before = int(rng.uniform(0.05, 0.3) * SAMPLE_RATE)
    clip = np.concatenate([np.zeros(before, np.float32), wave, np.zeros(int(0.25 * SAMPLE_RATE), np.float32)])
    return (clip + rng.normal(0, 10 ** (-60 / 20), len(clip))).astype(np.float32)


def _wav_bytes(wave: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, wave, SAMPLE_RATE, format="WAV", subtype="FLOAT")
    return buffer.getvalue()


def synthetic_items(voices, rng: np.random.Generator, limit: int | None) -> list[tuple[bytes, str]]:
    """(wav bytes, label) for every keyword and other word in each voice."""
    words = [(w, w) for w in COMMAND_WORDS] + [(w, UNKNOWN) for w in OTHER_WORDS]
    items = []
    for engine, voice in voices:
        for word, label in words[:limit]:
            items.append((_wav_bytes(_padded(render(engine, voice, word), rng)), label))
    return items


def real_items(limit: int | None) -> list[tuple[bytes | str, str]]:
    """Every English Asterisk prompt with a command label (the installed Debian package)."""
    prompts = [p for p in asterisk_prompts(Path("/"), load_config("configs/corpus.yaml", CorpusConfig)) if p.command]
    return [(str(p.path), p.command) for p in prompts[:limit]]


def command_logits(predictor, items) -> tuple[torch.Tensor, torch.Tensor]:
    """The model's command logits (before its temperature) for each item, and the labels."""
    logits, labels = [], []
    for source, label in items:
        try:
            recording = load_recording(source)
        except AudioError:  # the app refuses it ("We could not hear any speech"): not the model's answer
            continue  # (mbrola's us2 and us3 say nothing for "off", "on" and "coffee": 4 of 500)
        windows, speech = predictor.speech_windows(recording)
        first = first_speech_window(speech)
        _, _, states = predictor.encode_windows(windows, states_of=first)
        logits.append(predictor.model.whisper_command(states, float(speech[first])))
        labels.append(COMMANDS.index(label))
    return torch.stack(logits), torch.tensor(labels)


def report(name: str, logits: torch.Tensor, labels: torch.Tensor, temperature: float) -> dict:
    raw = torch.softmax(logits, -1).numpy()
    calibrated = torch.softmax(logits / temperature, -1).numpy()
    right = raw.argmax(-1) == labels.numpy()
    keywords = labels.numpy() < len(COMMAND_WORDS)
    row = {"set": name, "n": len(labels), "accuracy": float(right.mean()),
           "keywords_n": int(keywords.sum()),
           "keywords_accuracy": float(right[keywords].mean()) if keywords.any() else None,
           "ece_before": expected_calibration_error(raw, labels.numpy()),
           "ece_after": expected_calibration_error(calibrated, labels.numpy())}
    print(f"{name:8s} n={row['n']:4d} accuracy {row['accuracy']:.3f} (keywords {row['keywords_accuracy'] or 0:.3f}, "
          f"n={row['keywords_n']})  ECE {row['ece_before']:.3f} -> {row['ece_after']:.3f}", flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=None, help="model folder (default: the shipped model)")
    parser.add_argument("--limit", type=int, default=None, help="at most this many words per voice (a quick look)")
    parser.add_argument("--no-keyword-prompt", action="store_true",
                        help="don't tell Whisper the keywords as text said before (the answer before 2026-12-03)")
    args = parser.parse_args()
    if args.no_keyword_prompt:
        command.keyword_prompt = lambda words: None  # whisper_command_logits then prompts without a text said before
    torch.set_num_threads(1)
    predictor = load_model(args.model)
    rng = np.random.default_rng(0)
    start = time.time()
    sets = {
        "dev": synthetic_items(DEV_VOICES, rng, args.limit),
        "real": real_items(args.limit and args.limit * 4),
        "test": synthetic_items(TEST_VOICES, rng, args.limit),
    }
    found = {name: command_logits(predictor, items) for name, items in sets.items()}
    temperature = fit_temperature(*found["dev"])
    shipped = predictor.model.config.temperatures.get("command", 1.0)
    print(f"temperature fitted on dev: {temperature:.3f} (shipped: {shipped:.3f})")
    for name, (logits, labels) in found.items():
        report(name, logits, labels, temperature)
    print(f"{time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
