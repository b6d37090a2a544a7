"""Text-to-speech engines that exist offline, behind one call: `render(engine, voice, text, prosody)`.

espeak-ng comes from the espeakng-loader wheel (speaksphere.tts); pico2wave, flite and the mbrola
voices (spoken through the Debian espeak-ng program, which knows the mb-* voices) are Debian programs
run in a subprocess. Each engine gets the tempo and, where it has one, the pitch natively; pitch,
range and voice quality it cannot do are added afterwards by WORLD resynthesis (emotion.py).
All output is float32 mono 16 kHz, silence trimmed, peak at -3 dBFS.
"""

from __future__ import annotations

import io
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

__all__ = ["ENGINES", "DEBIAN_PACKAGES", "Prosody", "render", "available", "EngineError"]

ENGINES = ("espeak", "pico", "flite", "mbrola")
# what each engine needs from Debian (mbrola voices add their own mbrola-XX package)
DEBIAN_PACKAGES = {"espeak": [], "pico": ["libttspico-utils"], "flite": ["flite"], "mbrola": ["mbrola", "espeak-ng"]}
_PROGRAMS = {"pico": "pico2wave", "flite": "flite", "mbrola": "espeak-ng"}
_ESPEAK_WPM = 175  # espeak-ng's default rate: tempo 1.0
_PEAK = 10 ** (-3 / 20)


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

    @classmethod
    def of(cls, profile: EmotionProfile) -> "Prosody":
        return cls(profile.tempo, profile.pitch_semitones, profile.pitch_range, profile.gain_db, profile.tilt_db)

    def profile(self) -> EmotionProfile:
        return EmotionProfile(self.pitch_semitones, self.pitch_range, self.tempo, self.gain_db, self.tilt_db)


def available(engine: str) -> bool:
    """True when the engine's program is installed (espeak always is, through the wheel)."""
    return engine == "espeak" or shutil.which(_PROGRAMS[engine]) is not None


def _run_to_wave(command: list[str], path: Path | None = None) -> tuple[np.ndarray, int]:
    result = subprocess.run(command, capture_output=True, timeout=60)
    if result.returncode != 0:
        raise EngineError(f"{command[0]} failed: {result.stderr.decode(errors='replace')[-300:]}")
    data = path.read_bytes() if path else result.stdout
    if len(data) < 100:
        raise EngineError(f"{command[0]} produced no audio")
    wave, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    return wave.mean(axis=1), rate


def _native(engine: str, voice: str, text: str, prosody: Prosody, folder: Path) -> tuple[np.ndarray, int, bool]:
    """Render with the engine; returns (wave, rate, pitch_done) where pitch_done says pitch/range were applied."""
    if engine == "espeak":
        pitch = int(np.clip(50 + 4 * prosody.pitch_semitones, 0, 99))  # ~4 espeak pitch units a semitone
        range_ = int(np.clip(50 * prosody.pitch_range, 0, 100))
        wave, rate = synthesize(text, voice, rate_wpm=int(round(_ESPEAK_WPM * prosody.tempo)), pitch=pitch,
                                pitch_range=range_)
        return wave, rate, True
    if engine == "mbrola":
        pitch = int(np.clip(50 + 4 * prosody.pitch_semitones, 0, 99))
        command = ["espeak-ng", "-v", voice, "-s", str(int(round(_ESPEAK_WPM * prosody.tempo))), "-p", str(pitch),
                   "--stdout", text]
        wave, rate = _run_to_wave(command)
        return wave, rate, abs(prosody.pitch_range - 1.0) < 1e-3
    if engine == "pico":
        path = folder / "pico.wav"
        markup = f"<speed level='{int(round(100 * prosody.tempo))}'>{text}</speed>"
        if abs(prosody.pitch_semitones) > 0.05:
            markup = f"<pitch level='{int(round(100 * 2 ** (prosody.pitch_semitones / 12)))}'>{markup}</pitch>"
        wave, rate = _run_to_wave(["pico2wave", "-l", voice, "-w", str(path), markup], path)
        return wave, rate, abs(prosody.pitch_range - 1.0) < 1e-3
    if engine == "flite":
        path = folder / "flite.wav"
        command = ["flite", "-voice", voice, "--setf", f"duration_stretch={1 / prosody.tempo:.3f}",
                   "-t", text, "-o", str(path)]
        wave, rate = _run_to_wave(command, path)
        return wave, rate, abs(prosody.pitch_semitones) < 0.05 and abs(prosody.pitch_range - 1.0) < 1e-3
    raise EngineError(f"unknown engine {engine!r}; known: {ENGINES}")


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
    """Speak `text` with `engine`'s `voice` ("en-gb-scotland+f3", "en-GB", "awb", "mb-de1-en").

    Returns float32 (n_samples,), 16 kHz, trimmed, peak -3 dBFS before the prosody's gain.
    """
    with tempfile.TemporaryDirectory(prefix="speaksphere-tts-") as folder:
        wave, rate, pitch_done = _native(engine, voice, text, prosody, Path(folder))
    wave = finish(wave, rate)
    if pitch_done:
        return apply_level_and_quality(wave, prosody.profile())
    # the engine did the tempo; WORLD does the pitch level and range it could not
    rest = EmotionProfile(prosody.pitch_semitones if engine == "flite" else 0.0, prosody.pitch_range, 1.0,
                          prosody.gain_db, prosody.tilt_db)
    return resynthesise(wave, rest)
