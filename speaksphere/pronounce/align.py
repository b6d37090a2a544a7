"""English forced alignment and goodness of pronunciation with pocketsphinx (model ships in the wheel).

Forced alignment (two passes: words, then phones inside the words) finds where each expected word and
phone was said. A free phone loop over the same audio gives the best any phone sequence can do; the
goodness of pronunciation (GOP, Witt & Young 2000) of a phone is the difference of the two acoustic
log-likelihoods per frame: about 0 when the expected phone is the most likely one, strongly negative
when another sound was made. Scores are in pocketsphinx's log units (base 1.0001) per 10 ms frame.
Decoders keep state and take 0.1 s to build: a pool of sets, each used by one request at a time.
"""

from __future__ import annotations

import contextlib
import re
import threading
from dataclasses import dataclass, field

import numpy as np

from ..audio import SAMPLE_RATE

__all__ = ["PhoneSegment", "WordSegment", "Repetition", "english_words", "unknown_words", "align_english",
           "repeated_words"]

FRAME_S = 0.01  # pocketsphinx frames are 10 ms
_PAD_S = 0.1  # silence added on both sides: the alignment grammar starts and ends with silence
_BEAMS = (1e-80, 1e-200)  # tried in turn: a narrow beam is fast, a wide one rescues hard audio
_LOOP_BEAM = 1e-10  # phone-loop pruning: measured for speed in benchmarks/dtw_speed.py
# Gaussians scored per senone by the aligner and the phone loop (pocketsphinx's default is 4). One is
# ~30% faster (word + phone passes 125 vs 173 ms for 4.9 s); validity tune split Spearman -0.785 vs
# -0.781, AUC 1.0 either way. Both use the same, so a GOP stays a difference of like with like. The
# repetition grammar keeps 4: with fewer, or every second frame (ds=2), it missed repetitions of short
# fast words (tests/test_pronounce.py).
_TOPN = 1
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


@dataclass(frozen=True)
class Repetition:
    """An expected word said a second time straight after itself (a repetition: an insertion miscue)."""

    index: int  # which expected word (position in the words given to repeated_words)
    word: str
    start: float  # seconds from the start of the wave: the second saying
    end: float
    first_start: float  # seconds: the first saying, which the second should sound like
    first_end: float


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


class _DecoderSet:
    """One decoder of each kind. A pocketsphinx decoder keeps the state of its utterance and search,
    so a set serves one request at a time."""

    def __init__(self) -> None:
        self.aligners: dict[float, object] = {}  # by beam
        self.phone_loop = None
        self.grammar = None  # the repetition-grammar decoder, and how many grammars it has seen
        self.n_grammars = 0
        self.broken = False  # a decode or search failed: its state is unknown, so the set is not used again


_IDLE: list[_DecoderSet] = []  # sets no request is using
_IDLE_LOCK = threading.Lock()


@contextlib.contextmanager
def _decoders():
    """A decoder set no other call is using: an idle one, else a new one (its decoders are built when
    first asked for), handed back afterwards unless it failed (an exception inside, or `broken` set),
    so there are at most as many sets as calls ever ran at once. Gradio runs requests on worker threads
    that come and go: sets kept per thread were rebuilt for every new thread (0.3 s of CPU, holding
    the GIL)."""
    with _IDLE_LOCK:
        found = _IDLE.pop() if _IDLE else _DecoderSet()
    yield found  # an exception inside leaves the set out of the pool
    if not found.broken:
        with _IDLE_LOCK:
            _IDLE.append(found)


def _aligner(decoders: _DecoderSet, beam: float):
    from pocketsphinx import Decoder

    if beam not in decoders.aligners:
        decoders.aligners[beam] = Decoder(lm=None, beam=beam, wbeam=beam * 1e30, pbeam=beam,
                                          bestpath=False, topn=_TOPN, loglevel="FATAL")
    return decoders.aligners[beam]


def _phone_loop(decoders: _DecoderSet):
    import pocketsphinx
    from pocketsphinx import Decoder

    if decoders.phone_loop is None:
        # a narrow beam (1e-10) makes the loop 10x faster (26 vs 300 ms for 5 s); GOP stays a
        # difference of two best-path scores, the loop's now a little pessimistic
        decoders.phone_loop = Decoder(allphone=pocketsphinx.get_model_path("en-us/en-us-phone.lm.bin"),
                                      lm=None, bestpath=False, beam=_LOOP_BEAM, pbeam=_LOOP_BEAM, topn=_TOPN,
                                      loglevel="FATAL")
    return decoders.phone_loop


def unknown_words(words: list[str]) -> list[str]:
    """The words the pronunciation dictionary does not know (they cannot be force-aligned)."""
    with _decoders() as decoders:
        decoder = _aligner(decoders, _BEAMS[0])
        return [w for w in words if decoder.lookup_word(w) is None]


def _pcm(wave: np.ndarray) -> bytes:
    """16-bit PCM of the wave with _PAD_S of silence on both sides (the grammars start and end in silence)."""
    pad = np.zeros(int(_PAD_S * SAMPLE_RATE), dtype=np.float32)
    return (np.clip(np.concatenate([pad, wave, pad]), -1, 1) * 32767).astype(np.int16).tobytes()


def _seconds(frame: int) -> float:
    """A pocketsphinx frame index as seconds in the wave given (the _PAD_S of silence taken off)."""
    return frame * FRAME_S - _PAD_S


def _decode(decoder, pcm: bytes) -> None:
    """Decode one utterance from a fresh front end: pocketsphinx carries its noise estimate and
    cepstral mean over from the previous utterance, so without reinit_feat (0.04 ms) a word's GOP
    moved by up to 20 units with whatever the same decoder had scored before."""
    decoder.reinit_feat()
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()


def _loop_score_per_frame(decoders: _DecoderSet, pcm: bytes, n_frames: int) -> np.ndarray:
    """Free phone-loop acoustic log-likelihood, spread evenly over each decoded phone's frames."""
    decoder = _phone_loop(decoders)
    _decode(decoder, pcm)
    logmath = decoder.get_logmath()
    per_frame = np.zeros(n_frames + 1)
    for seg in decoder.seg() or []:
        start, end = seg.start_frame, min(seg.end_frame, n_frames)
        if end >= start:
            per_frame[start : end + 1] = logmath.log(seg.ascore) / (end - start + 1)
    return per_frame


def _alignment(decoders: _DecoderSet, pcm: bytes, words: list[str]) -> list[tuple] | None:
    """Word and phone alignment of `words` to `pcm` (from _pcm), tried with each beam in turn: per word
    (name, start frame, frames, score, [(phone, start frame, frames, score)]); None when no beam aligns."""
    for beam in _BEAMS:
        decoder = _aligner(decoders, beam)
        decoder.set_align_text(" ".join(words))
        _decode(decoder, pcm)
        if decoder.hyp() is None:
            continue
        try:
            decoder.set_alignment()
            _decode(decoder, pcm)
            # copy out at once: the entries point into the decoder's alignment, freed with it
            return [(w.name, w.start, w.duration, w.score, [(p.name, p.start, p.duration, p.score) for p in w])
                    for w in decoder.get_alignment()]
        except RuntimeError:  # sub-word alignment failed: try a wider beam (this decoder may be mid-utterance)
            decoders.broken = True
            continue
    return None


def align_english(wave: np.ndarray, words: list[str], with_gop: bool = True) -> list[WordSegment] | None:
    """Force-align expected English words to speech.

    wave: float32, shape (n_samples,), 16 kHz, trimmed to the speech.
    words: dictionary words (english_words(text)); all must be known (see unknown_words).
    Returns one WordSegment per expected word, in order (silences dropped), times in seconds in
    `wave`; None when the words cannot be aligned to this audio at all (e.g. another text was said).
    """
    pcm = _pcm(wave)
    n_frames = len(pcm) // 2 // int(FRAME_S * SAMPLE_RATE)
    with _decoders() as decoders:
        alignment = _alignment(decoders, pcm, words)
        if alignment is None:
            return None
        loop = _loop_score_per_frame(decoders, pcm, n_frames) if with_gop else np.zeros(n_frames + 1)
    result = []
    for name, word_start, word_frames, word_score, entry_phones in alignment:
        if name.startswith("<") or name.startswith("["):  # <sil>, <s>, [NOISE]
            continue
        phones = []
        for phone, start, duration, score in entry_phones:
            frames = max(duration, 1)
            loop_score = loop[start : start + frames].sum() if with_gop else score
            phones.append(PhoneSegment(
                phone=phone, start=_seconds(start), end=_seconds(start + frames),
                score=score / frames, gop=min((score - loop_score) / frames, 0.0),
            ))
        frames = max(word_frames, 1)
        durations = np.array([p.end - p.start for p in phones]) if phones else np.ones(1)
        gop = float(np.average([p.gop for p in phones], weights=durations)) if phones else 0.0
        result.append(WordSegment(
            word=re.sub(r"\(\d+\)$", "", name), start=_seconds(word_start),
            end=_seconds(word_start + frames), score=word_score / frames, gop=gop, phones=phones,
        ))
    return result


def _grammar_decoder(decoders: _DecoderSet, words: list[str]):
    """The set's grammar decoder, searching "w1 [w1] w2 [w2] ...": each word may be said twice.

    Each text gets a search of its own name (re-adding a grammar under a used name kept stale state:
    the same audio decoded differently), and the previous one is removed."""
    from pocketsphinx import Decoder

    if decoders.grammar is None:
        beam = _BEAMS[0]
        decoders.grammar = Decoder(lm=None, beam=beam, wbeam=beam * 1e30, pbeam=beam, bestpath=False, loglevel="FATAL")
    decoder = decoders.grammar
    decoders.n_grammars += 1
    name = f"repeats{decoders.n_grammars}"
    rule = " ".join(f"{w} [{w}]" for w in words)
    decoder.add_jsgf_string(name, f"#JSGF V1.0;\ngrammar repeats;\npublic <said> = {rule};\n")
    decoder.activate_search(name)
    if decoders.n_grammars > 1:
        decoder.remove_search(f"repeats{decoders.n_grammars - 1}")
    return decoder


def repeated_words(wave: np.ndarray, words: list[str]) -> list[Repetition]:
    """Expected English words said twice in a row ("tell tell me"), as a reading tutor finds them:
    decode with a grammar in which every expected word may be repeated once.

    wave: float32, shape (n_samples,), 16 kHz, trimmed to the speech; words: dictionary words, all
    known (see unknown_words). Returns the repetitions in time order (times in seconds in `wave`); an
    empty list also when the grammar's decode does not reach the last word, which is no evidence
    either way. On the validity set's dev phrases (benchmarks/pronunciation_validity.py --split tune)
    it found 20 of 24 injected repetitions at the right word, and 1 in 54 native readings.
    """
    with _decoders() as decoders:
        try:
            decoder = _grammar_decoder(decoders, words)
            _decode(decoder, _pcm(wave))
        except (ValueError, RuntimeError, KeyError):  # a grammar pocketsphinx will not build or search: no evidence
            decoders.broken = True
            return []
        said = [(re.sub(r"\(\d+\)$", "", seg.word), seg.start_frame, seg.end_frame) for seg in decoder.seg() or []]
    said = [entry for entry in said if not entry[0].startswith(("<", "[", "("))]  # silences, noises, (NULL)
    if len(said) < len(words) or said[-1][0] != words[-1]:
        return []
    repetitions, expected, first = [], 0, (0, 0)  # expected: how many of `words` have been matched
    for word, start, end in said:
        if expected < len(words) and word == words[expected]:
            expected, first = expected + 1, (start, end)
        elif expected > 0 and word == words[expected - 1]:
            repetitions.append(Repetition(expected - 1, word, _seconds(start), _seconds(end + 1),
                                          _seconds(first[0]), _seconds(first[1] + 1)))
    return repetitions if expected == len(words) else []
