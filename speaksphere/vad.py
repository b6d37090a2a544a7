"""Voice activity detection with Silero VAD (its weights ship inside the silero-vad wheel).

Speech segments in seconds, trimming of leading and trailing silence, and the pause statistics that
fluency scoring uses (pauses are silences between speech segments, as in de Jong & Wempe 2009,
who count silent pauses of 250 ms or more).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import torch

from .audio import SAMPLE_RATE

__all__ = ["VadConfig", "SpeechSegment", "PauseStats", "speech_segments", "trim_silence", "pause_statistics"]


@dataclass(frozen=True)
class VadConfig:
    """Silero VAD settings."""

    threshold: float = 0.5  # speech probability above which a 32 ms chunk is speech (Silero's default)
    min_speech_s: float = 0.1  # shorter bursts are clicks or breaths, not speech; 0.1 s keeps a short "yes"
    min_silence_s: float = 0.1  # shorter gaps are stop closures inside words, not pauses
    speech_pad_s: float = 0.03  # padding on each side of a segment so plosive onsets are not cut
    min_pause_s: float = 0.25  # a silent pause counts for fluency from 250 ms (de Jong & Wempe 2009)


@dataclass(frozen=True)
class SpeechSegment:
    """One stretch of speech, in seconds from the start of the recording."""

    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class PauseStats:
    """Timing facts of a recording, from its speech segments. All durations in seconds."""

    duration_s: float  # the whole recording
    speech_s: float  # total time inside speech segments
    leading_silence_s: float  # before the first speech
    trailing_silence_s: float  # after the last speech
    n_pauses: int  # silent pauses of at least VadConfig.min_pause_s between speech segments
    pause_total_s: float  # their summed length
    mean_pause_s: float  # their mean length (0 when there are none)
    longest_pause_s: float  # the longest one (0 when there are none)
    phonation_ratio: float  # speech time / time from first speech onset to last speech offset, 0-1


_CHUNK = 512  # samples: Silero judges 32 ms at a time at 16 kHz
_CONTEXT = 64  # samples of the previous chunk that Silero's 16-kHz network sees with each chunk
_BLOCK = 2048  # chunks (65 s) put through the network at once: bounds memory on long recordings


class _SileroNetwork:
    """Silero VAD's 16-kHz network run over a whole recording at once.

    Silero's own loop (`audio_forward`) calls the network once per 32-ms chunk. Only its LSTM carries
    anything from one chunk to the next: the STFT and convolutions see each chunk with the 64 samples
    before it. So those run on all chunks as one batch, and the LSTM cell's weights run as one
    torch.nn.LSTM over the sequence. The probabilities are Silero's own (tests/test_vad.py, to 1e-5);
    8x faster (8 vs 67 ms for 4.9 s at 1 thread), and a few large calls instead of one small call per
    chunk, so a busy server's other Python threads cannot stall it between chunks.
    """

    def __init__(self) -> None:
        from silero_vad import load_silero_vad

        self.net = load_silero_vad(onnx=False)._model  # the 16-kHz network: stft, encoder, decoder
        cell = self.net.decoder.rnn  # an LSTMCell
        self.lstm = torch.nn.LSTM(cell.weight_ih.shape[1], cell.weight_hh.shape[1])
        with torch.no_grad():
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(self.lstm, f"{name}_l0").copy_(getattr(cell, name))
        self.lstm.eval()

    def probabilities(self, audio: torch.Tensor) -> torch.Tensor:
        """audio: float32, shape (n_samples,), 16 kHz, n_samples >= 1. Returns the speech probability
        of each 32-ms chunk, shape (ceil(n_samples / 512),); the last chunk is zero-padded."""
        n_chunks = -(-len(audio) // _CHUNK)
        padded = torch.nn.functional.pad(audio, (_CONTEXT, n_chunks * _CHUNK - len(audio)))
        chunks = padded.unfold(0, _CONTEXT + _CHUNK, _CHUNK)  # (n_chunks, 576): context + chunk
        state, out = None, []
        with torch.inference_mode():
            for first in range(0, n_chunks, _BLOCK):
                features = self.net.encoder(self.net.stft(chunks[first : first + _BLOCK]))  # (b, 128, 1)
                hidden, state = self.lstm(features.squeeze(-1).unsqueeze(1), state)  # (b, 1, 128)
                speech = self.net.decoder.decoder(hidden.squeeze(1).unsqueeze(-1))  # (b, 1, 1)
                out.append(speech.squeeze(1).mean(dim=1))
        return torch.cat(out)


_network: _SileroNetwork | None = None
_network_lock = threading.Lock()


def _silero() -> _SileroNetwork:
    """The shared network (it keeps no state between calls), loaded on first need."""
    global _network
    with _network_lock:
        if _network is None:
            _network = _SileroNetwork()
    return _network


def speech_segments(wave: np.ndarray, config: VadConfig = VadConfig()) -> list[SpeechSegment]:
    """Find speech in a recording.

    wave: float32, shape (n_samples,), 16 kHz.
    Returns the speech segments in time order, in seconds; an empty list when there is no speech.
    """
    from silero_vad import get_speech_timestamps_from_probs

    audio = torch.from_numpy(np.ascontiguousarray(wave, dtype=np.float32))
    if len(audio) == 0:
        return []
    probabilities = _silero().probabilities(audio).tolist()  # one per 32 ms chunk
    stamps = get_speech_timestamps_from_probs(
        probabilities, threshold=config.threshold, sampling_rate=SAMPLE_RATE,
        min_speech_duration_ms=int(config.min_speech_s * 1000),
        min_silence_duration_ms=int(config.min_silence_s * 1000),
        speech_pad_ms=int(config.speech_pad_s * 1000), audio_length_samples=len(audio),
    )
    return [SpeechSegment(s["start"] / SAMPLE_RATE, s["end"] / SAMPLE_RATE) for s in stamps]


def trim_silence(wave: np.ndarray, segments: list[SpeechSegment], pad_s: float = 0.05) -> np.ndarray:
    """Cut leading and trailing silence, keeping `pad_s` seconds around the speech.

    wave: shape (n_samples,), 16 kHz. Returns a view, shape (n_trimmed,); the input when no speech.
    """
    if not segments:
        return wave
    start = max(0, int((segments[0].start - pad_s) * SAMPLE_RATE))
    end = min(len(wave), int(np.ceil((segments[-1].end + pad_s) * SAMPLE_RATE)))
    return wave[start:end]


def pause_statistics(segments: list[SpeechSegment], duration_s: float, config: VadConfig = VadConfig()) -> PauseStats:
    """Speech time and silent pauses of a recording of `duration_s` seconds with these segments."""
    if not segments:
        return PauseStats(duration_s, 0.0, duration_s, 0.0, 0, 0.0, 0.0, 0.0, 0.0)
    gaps = [b.start - a.end for a, b in zip(segments, segments[1:])]
    pauses = [gap for gap in gaps if gap >= config.min_pause_s]
    speech_s = sum(s.duration for s in segments)
    span_s = segments[-1].end - segments[0].start
    return PauseStats(
        duration_s=duration_s,
        speech_s=speech_s,
        leading_silence_s=segments[0].start,
        trailing_silence_s=max(0.0, duration_s - segments[-1].end),
        n_pauses=len(pauses),
        pause_total_s=float(sum(pauses)),
        mean_pause_s=float(np.mean(pauses)) if pauses else 0.0,
        longest_pause_s=max(pauses, default=0.0),
        phonation_ratio=speech_s / span_s if span_s > 0 else 0.0,
    )
