"""English forced alignment and goodness of pronunciation with pocketsphinx (model ships in the wheel).

Forced alignment (two passes: words, then phones inside the words) finds where each expected word and
phone was said. A free phone loop over the same audio gives the best any phone sequence can do; the
goodness of pronunciation (GOP, Witt & Young 2000) of a phone is the difference of the two acoustic
log-likelihoods per frame: about 0 when the expected phone is the most likely one, strongly negative
when another sound was made. Scores are in pocketsphinx's log units (base 1.0001) per 10 ms frame.
Decoders keep state and take 0.1 s to build: one set per thread, reused.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

import numpy as np

from ..audio import SAMPLE_RATE

__all__ = ["PhoneSegment", "WordSegment", "english_words", "unknown_words", "align_english"]

FRAME_S = 0.01  # pocketsphinx frames are 10 ms
_PAD_S = 0.1  # silence added on both sides: the alignment grammar starts and ends with silence
_BEAMS = (1e-80, 1e-200)  # tried in turn: a narrow beam is fast, a wide one rescues hard audio
_LOOP_BEAM = 1e-10  # phone-loop pruning: measured for speed in benchmarks/dtw_speed.py
_DIGITS = "zero one two three four five six seven eight nine".split()


@dataclass(frozen=True)
class PhoneSegment:
    """One expected phone where the alignment put it."""

    phone: str  # CMU/ARPAbet symbol, e.g. "AH"
    start: float  # seconds from the start of the wave that was aligned
    end: float
    score: float  # aligned acoustic log-likelihood per frame (<= 0)
    gop: float  # aligned minus free phone loop, per frame (about 0 = as good as any phone)


@dataclass(frozen=True)
class WordSegment:
    """One expected word where the alignment put it."""

    word: str  # as in the dictionary (lower case)
    start: float  # seconds
    end: float
    score: float  # aligned acoustic log-likelihood per frame
    gop: float  # duration-weighted mean of its phones' GOP
    phones: list[PhoneSegment] = field(default_factory=list)


def english_words(text: str) -> list[str]:
    """Lower-case dictionary words of a text: punctuation dropped, single digits spelled out."""
    tokens = re.findall(r"[a-z0-9']+", text.lower().replace("’", "'"))
    words = []
    for token in tokens:
        token = token.strip("'")
        if token.isdigit():
            words.extend(_DIGITS[int(d)] for d in token)
        elif token:
            words.append(token)
    return words


class _Decoders(threading.local):
    def __init__(self) -> None:
        self.aligners: dict[float, object] = {}
        self.phone_loop = None


_local = _Decoders()


def _aligner(beam: float):
    from pocketsphinx import Decoder

    if beam not in _local.aligners:
        _local.aligners[beam] = Decoder(lm=None, beam=beam, wbeam=beam * 1e30, pbeam=beam,
                                        bestpath=False, loglevel="FATAL")
    return _local.aligners[beam]


def _phone_loop():
    import pocketsphinx
    from pocketsphinx import Decoder

    if _local.phone_loop is None:
        # a narrow beam (1e-10) makes the loop 10x faster (26 vs 300 ms for 5 s); GOP stays a
        # difference of two best-path scores, the loop's now a little pessimistic
        _local.phone_loop = Decoder(allphone=pocketsphinx.get_model_path("en-us/en-us-phone.lm.bin"),
                                    lm=None, bestpath=False, beam=_LOOP_BEAM, pbeam=_LOOP_BEAM, loglevel="FATAL")
    return _local.phone_loop


def unknown_words(words: list[str]) -> list[str]:
    """The words the pronunciation dictionary does not know (they cannot be force-aligned)."""
    decoder = _aligner(_BEAMS[0])
    return [w for w in words if decoder.lookup_word(w) is None]


def _decode(decoder, pcm: bytes) -> None:
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()


def _loop_score_per_frame(pcm: bytes, n_frames: int) -> np.ndarray:
    """Free phone-loop acoustic log-likelihood, spread evenly over each decoded phone's frames."""
    decoder = _phone_loop()
    _decode(decoder, pcm)
    logmath = decoder.get_logmath()
    per_frame = np.zeros(n_frames + 1)
    for seg in decoder.seg() or []:
        start, end = seg.start_frame, min(seg.end_frame, n_frames)
        if end >= start:
            per_frame[start : end + 1] = logmath.log(seg.ascore) / (end - start + 1)
    return per_frame


def align_english(wave: np.ndarray, words: list[str], with_gop: bool = True) -> list[WordSegment] | None:
    """Force-align expected English words to speech.

    wave: float32, shape (n_samples,), 16 kHz, trimmed to the speech.
    words: dictionary words (english_words(text)); all must be known (see unknown_words).
    Returns one WordSegment per expected word, in order (silences dropped), times in seconds in
    `wave`; None when the words cannot be aligned to this audio at all (e.g. another text was said).
    """
    pad = np.zeros(int(_PAD_S * SAMPLE_RATE), dtype=np.float32)
    pcm = (np.clip(np.concatenate([pad, wave, pad]), -1, 1) * 32767).astype(np.int16).tobytes()
    alignment = None
    for beam in _BEAMS:
        decoder = _aligner(beam)
        decoder.set_align_text(" ".join(words))
        _decode(decoder, pcm)
        if decoder.hyp() is None:
            continue
        try:
            decoder.set_alignment()
            _decode(decoder, pcm)
            # copy out at once: the entries point into the decoder's alignment, freed with it
            alignment = [(w.name, w.start, w.duration, w.score, [(p.name, p.start, p.duration, p.score) for p in w])
                         for w in decoder.get_alignment()]
            break
        except RuntimeError:  # sub-word alignment failed: try a wider beam
            continue
    if alignment is None:
        return None
    n_frames = len(pcm) // 2 // int(FRAME_S * SAMPLE_RATE)
    loop = _loop_score_per_frame(pcm, n_frames) if with_gop else np.zeros(n_frames + 1)
    result = []
    for name, word_start, word_frames, word_score, entry_phones in alignment:
        if name.startswith("<") or name.startswith("["):  # <sil>, <s>, [NOISE]
            continue
        phones = []
        for phone, start, duration, score in entry_phones:
            frames = max(duration, 1)
            loop_score = loop[start : start + frames].sum() if with_gop else score
            phones.append(PhoneSegment(
                phone=phone, start=start * FRAME_S - _PAD_S, end=(start + frames) * FRAME_S - _PAD_S,
                score=score / frames, gop=min((score - loop_score) / frames, 0.0),
            ))
        frames = max(word_frames, 1)
        durations = np.array([p.end - p.start for p in phones]) if phones else np.ones(1)
        gop = float(np.average([p.gop for p in phones], weights=durations)) if phones else 0.0
        result.append(WordSegment(
            word=re.sub(r"\(\d+\)$", "", name), start=word_start * FRAME_S - _PAD_S,
            end=(word_start + frames) * FRAME_S - _PAD_S, score=word_score / frames, gop=gop, phones=phones,
        ))
    return result
