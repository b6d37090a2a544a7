"""Build the built-in golden-reference library from the Asterisk core sounds (Debian, CC-BY-SA-3.0).

    python -m speaksphere.pronounce.build_references [--per-language 24]

Fetches the packages itself with `apt-get download` and unpacks them with `dpkg -x` into a temporary
folder (no system change), picks short whole-sentence prompts, and writes them as 8 kHz mono Ogg
Vorbis (the recordings are 8 kHz telephone prompts) plus speaksphere/references/phrases.yaml.
The pick is deterministic: the same packages give the same library.
"""

from __future__ import annotations

import argparse
import gzip
import re
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
import yaml

from .references import LIBRARY_DIR

SOURCES = {  # language -> (package suffix, voice folder, speaker as Asterisk names it)
    "en": ("en", "en_US_f_Allison", "Allison (en-US, female)"),
    "es": ("es", "es_MX_f_Allison", "Allison (es-MX, female)"),
    "fr": ("fr", "fr_CA_f_June", "June (fr-CA, female)"),
    "it": ("it", "it_IT_m_Carlo", "Carlo (it-IT, male)"),
    "ru": ("ru", "ru_RU_f_IvrvoiceRU", "IvrvoiceRU (ru-RU, female)"),
}
LICENCE = "CC-BY-SA-3.0 (Asterisk core sounds, Digium / Sangoma)"
MIN_WORDS, MAX_WORDS = 4, 11  # a phrase a learner can say in one breath, long enough to score


def _fetch(package: str, into: Path) -> None:
    subprocess.run(["apt-get", "download", package], cwd=into, check=True, capture_output=True)
    for deb in into.glob(f"{package}_*.deb"):
        subprocess.run(["dpkg", "-x", str(deb), str(into / "root")], check=True)


# Asterisk's transcripts as the recordings say them (issue 22): accents they lack, misspellings and a stray
# quote, each checked against Whisper base's transcript of the recording (speaksphere.pronounce.listener).
CORRECTIONS = {
    "es-agent-pass": "Por favor ingrese su contraseña seguida por la tecla de número",
    "es-conf-hasjoin": "Ya está en la conferencia.",
    "es-conf-muted": "Está usted ahora en modo mudo.",
    "es-queue-thereare": "Usted es el cliente número",
    "es-vm-from-phonenumber": "Mensaje del número de teléfono",
    "es-vm-num-i-have": "El número que tengo es el",
    "es-vm-sorry": "Lo siento, no comprendí su respuesta.",
    "es-vm-then-pound": "luego presione la tecla de número",
    "fr-conf-lockednow": "Cette conférence est maintenant verrouillée.",
    "fr-confbridge-lock-in": "pour verrouiller ou déverrouiller la conférence.",
    "fr-confbridge-begin-glorious-c": "La conférence débutera dès l'arrivée du responsable.",
    "fr-confbridge-pin": "Entrez votre code d'identification personnel, suivi du dièse.",
    "fr-enter-num-blacklist": "Veuillez entrer le numéro à bannir",
    "fr-pbx-parkingfailed": "La tentative de placement d'appel a échoué.",
    "fr-vm-pls-try-again": "Veuillez essayer de nouveau.",
    "it-at-tone-time-exactly": "Al segnale acustico, il tempo sarà esattamente.",
    "it-conf-full": "La conferenza è piena.",
    "it-enter-num-blacklist": "Per piacere inserire il numero da aggiungere alla lista nera.",
    "it-pls-hold-while-try": "Per piacere attendi mentre proviamo a connetterti.",
    "ru-to-rerecord-it": "Чтобы его перезаписать.",
}
NOT_SPEECH = {"it-confbridge-leave"}  # its transcript describes a beep ("un suono di beep discendente")
# acronyms spelled letter by letter ("Radio U S B", "Эм Ай Эс Ди Эн"): not a sentence to practise, and the
# listener writes the acronym ("USB"), so a native reading looked like another sentence (issue 20)
SPELLED = {"fr-spy-usbradio", "ru-spy-misdn"}


def _transcripts(root: Path, code: str) -> dict[str, str]:
    """Prompt name -> text; lines in UTF-8, or Latin-1 where a file mixes them (Italian's "sar\xe0")."""
    path = root / f"usr/share/doc/asterisk-core-sounds-{code}/core-sounds-{code}.txt.gz"
    prompts = {}
    for raw in gzip.open(path, "rb"):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            line = raw.decode("latin-1")
        if ":" not in line or line.startswith(";"):
            continue
        name, text = line.split(":", 1)
        prompts[name.strip()] = " ".join(text.split())
    return prompts


def _usable(name: str, text: str, language: str) -> bool:
    """A whole sentence of ordinary words: no digits, no ellipses, no bracketed notes, no sub-folders."""
    if "/" in name or re.search(r"[0-9\[\]()<>*#@&]|\.\.\.|…", text):
        return False
    n_words = len(text.split())
    if not MIN_WORDS <= n_words <= MAX_WORDS:
        return False
    if language == "en":
        from .align import english_words, unknown_words

        return not unknown_words(english_words(text))
    return True


def build(per_language: int = 24, languages: tuple[str, ...] = tuple(SOURCES)) -> list[dict]:
    """Fetch, pick and write the library; returns the index entries."""
    audio_dir = LIBRARY_DIR / "audio"
    audio_dir.mkdir(parents=True, exist_ok=True)
    entries = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        for language in languages:
            code, folder, speaker = SOURCES[language]
            for package in (f"asterisk-core-sounds-{code}-wav", f"asterisk-core-sounds-{code}"):
                _fetch(package, tmp_path)
            sounds = tmp_path / "root/usr/share/asterisk/sounds" / folder
            prompts = _transcripts(tmp_path / "root", code)
            names = sorted(n for n, t in prompts.items() if (sounds / f"{n}.wav").is_file() and _usable(n, t, language))
            step = max(1, len(names) // per_language)
            for name in names[::step][:per_language]:
                phrase_id = f"{language}-{name}"
                if phrase_id in NOT_SPEECH | SPELLED:
                    continue
                wave, rate = sf.read(sounds / f"{name}.wav", dtype="float32")
                keep = np.flatnonzero(np.abs(wave) > 0.005)  # trim digital silence; VAD does the rest
                wave = wave[max(0, keep[0] - rate // 10) : keep[-1] + rate // 10] if keep.size else wave
                sf.write(audio_dir / f"{phrase_id}.ogg", wave, rate, format="OGG", subtype="VORBIS")
                entries.append({
                    "id": phrase_id, "language": language, "text": CORRECTIONS.get(phrase_id, prompts[name]),
                    "file": f"audio/{phrase_id}.ogg", "voice": speaker,
                    "source": f"Debian asterisk-core-sounds-{code}-wav: {folder}/{name}.wav", "licence": LICENCE,
                })
    header = ("# Built-in golden references: native recordings with their text.\n"
              "# Written by `python -m speaksphere.pronounce.build_references`; do not edit by hand.\n")
    (LIBRARY_DIR / "phrases.yaml").write_text(
        header + yaml.safe_dump({"phrases": entries}, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return entries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-language", type=int, default=24, help="phrases per language")
    parser.add_argument("--languages", nargs="*", default=list(SOURCES), help="ISO 639-1 codes")
    args = parser.parse_args()
    entries = build(args.per_language, tuple(args.languages))
    size = sum(f.stat().st_size for f in (LIBRARY_DIR / "audio").glob("*.ogg"))
    print(f"{len(entries)} phrases, {size / 1e6:.2f} MB in {LIBRARY_DIR}")


if __name__ == "__main__":
    main()
