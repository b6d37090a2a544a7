"""Score an attempt against a golden reference: VAD trim, features, DTW, words, miscues, five skills.

`assess` scores a loaded attempt against a resolved reference and returns everything (the arrays the figures
draw and the learner-facing result); `assess_file` loads and resolves first;
`score_pronunciation` returns the result dict only (the public contract in docs/ARCHITECTURE.md);
`compare` scores two attempts.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..audio import FRAME_RATE, SAMPLE_RATE
from ..dtw import DtwResult, cost_matrix, dtw, dtw_fast, paired_costs, path_costs, subsequence_dtw
from ..recording import Recording, load_recording
from ..settings import Settings
from ..skills import RESULT_SCORES
from ..tts import synthesize
from ..vad import trim_silence
from ..words import normalise_word
from .align import Repetition, WordSegment, align_english, english_words, repeated_words, unknown_words
from .caches import ScoringCaches, default_caches
from .experts import ExpertModels, expert_models
from .features import FeatureConfig, energy_db, frame_features, pitch_semitones, shared_band_hz
from .listener import MAX_HEARD_S, EncoderStates, Hearing, align_words, hear, relative_intelligibility
from .measures import listener_floored, prosody_measures, utterance_measures, word_measures
from .references import (
    MAX_SCORED_S,
    SYNTHESIS_VOICES,
    Reference,
    ScoringError,
    check_language,
    check_text,
    golden_reference,
    library,
    library_reference,
    uploaded_reference,
)
from .result import Heard, HeardWord, InsertedWord, Phone, PronunciationResult, Segment, WordScore
from .scores import (
    ScoreConfig,
    anchor_score,
    another_sentence_by_anchors,
    coherence_score,
    fluency_score,
    horizontal_runs,
    overall_score,
    prosody_score,
)

__all__ = ["Analysis", "Unit", "Assessment", "NOT_SCORED", "assess", "assess_file", "score_pronunciation", "compare",
           "compare_results", "Comparison", "WordChange", "comparison", "reference_loading",
           "shared_features"]

EXACT_DTW_MAX_CELLS = 6_000_000  # beyond ~25 s x 25 s of frames (48 MB of costs) use fastdtw
# skills a result can leave unscored (None), and why
NOT_SCORED = {"prosody": "The reference is a computer voice: its melody is regular and robotic, not one to copy, "
                         "so melody and loudness are not scored. "
                         "A native recording or a teacher's recording gets a prosody score."}
_CHUNK_S = 0.3  # unit length when the reference's words are unknown: about one syllable and a half
_TRIM_PAD_S = 0.05  # speech kept around VAD's segments when trimming


@dataclass(frozen=True)
class Analysis:
    """One recording, trimmed to its speech and turned into frames (10 ms each)."""

    recording: Recording
    offset_s: float  # where the trimmed wave starts in the recording
    wave: np.ndarray  # float32, shape (n_samples,), 16 kHz, trimmed
    features: np.ndarray  # float32, shape (n_frames, n_dims), speaker-normalised
    pitch: np.ndarray  # float64, shape (n_frames,), semitones re the speaker's median, NaN unvoiced
    energy: np.ndarray  # float64, shape (n_frames,), dB re the loudest frame
    words: list[WordSegment] | None  # English forced alignment (times in the trimmed wave), if any
    repetitions: tuple[Repetition, ...] = ()  # expected English words said twice (attempts only)
    hearing: Hearing | None = None  # what Whisper heard, for a known text (listener.py)


@dataclass(frozen=True)
class Unit:
    """A stretch of the reference scored as one piece: a word, or a chunk when the words are unknown."""

    label: str  # the word, or "#3" for the third chunk
    ref_start: int  # reference frames [ref_start, ref_end)
    ref_end: int


@dataclass(frozen=True)
class Assessment:
    """Everything one scoring produced: the learner-facing result and the arrays behind the figures.
    `scored` is the result typed; `result` its dict view (scored.to_dict(), score_pronunciation's return),
    made once: what the coach, the app and the figures read."""

    result: dict
    scored: PronunciationResult | None  # None in for_figures' copy: the figures read `result`
    reference: Reference
    ref: Analysis
    att: Analysis
    cost: np.ndarray  # shape (n_ref_frames, n_att_frames), cosine frame distances
    alignment: DtwResult  # path of (reference frame, attempt frame)
    units: list[Unit]
    word_measures: list[dict] = dataclasses.field(default_factory=list)  # measures.word_measures per unit

    def for_figures(self, max_cells: int = 250_000) -> Assessment:
        """The same assessment with the distance matrix thinned to at most `max_cells` cells (every k-th
        frame both ways): all the figures need, and what an app keeps between the answer and its figures
        (a whole 60-s x 60-s matrix is 144 MB per learner). The listener's encoder frames (up to 3 MB a
        recording) are left out: no figure draws them."""
        step = max(1, int(np.ceil(np.sqrt(self.cost.size / max_cells))))
        return dataclasses.replace(self, cost=np.ascontiguousarray(self.cost[::step, ::step], dtype=np.float32),
                                   ref=_without_frames(self.ref), att=_without_frames(self.att), scored=None)


def _without_frames(analysis: Analysis) -> Analysis:
    if analysis.hearing is None:
        return analysis
    return dataclasses.replace(analysis, hearing=dataclasses.replace(analysis.hearing, frames=None))


def _analyse(recording: Recording, words: list[str] | None, features: FeatureConfig, attempt: bool = False,
             listen: tuple[str, list[str]] | None = None, states: EncoderStates | None = None) -> Analysis:
    """Trim, featurise and (with `words`, English) force-align a recording; with `listen` (language,
    the expected text's words) the listener hears it too (its encoder states kept in `states`)."""
    wave = trim_silence(recording.wave, recording.segments, pad_s=_TRIM_PAD_S)
    if len(wave) > MAX_SCORED_S * SAMPLE_RATE:
        what = "Your attempt" if attempt else "The reference"
        raise ScoringError(f"{what} holds {len(wave) / SAMPLE_RATE:.0f} s of speech; pronunciation is scored on "
                           f"at most {MAX_SCORED_S:.0f} s at a time. Practise a passage a few sentences at a time.")
    offset_s = max(0.0, recording.segments[0].start - _TRIM_PAD_S) if recording.segments else 0.0
    aligned = align_english(wave, words) if words else None
    repetitions = tuple(repeated_words(wave, words)) if words and attempt else ()
    # Whisper hears 30 s at once: a longer reading is scored without the listener (no transcript, no
    # "another sentence"), rather than judged on its first half
    hearing = hear(wave, *listen, states) if listen is not None and len(wave) <= MAX_HEARD_S * SAMPLE_RATE else None
    return Analysis(recording, offset_s, wave, frame_features(wave, features), pitch_semitones(wave),
                    energy_db(wave), aligned, repetitions, hearing)


def _analyse_reference(reference: Reference, words: list[str] | None, features: FeatureConfig,
                       listen: tuple[str, list[str]] | None, caches: ScoringCaches) -> Analysis:
    """_analyse of a reference, kept in caches.reference_analyses (scoring against it again is free)."""
    key = (id(reference.recording), features, listen[0] if listen else None, tuple(listen[1]) if listen else None)
    hit = caches.reference_analyses.get(key)
    if hit is not None and hit[0] is reference.recording:  # not another recording given the same id since
        return hit[1]
    analysis = _analyse(reference.recording, words, features, listen=listen, states=caches.encoder_states)
    caches.reference_analyses.put(key, (reference.recording, analysis))
    return analysis


@functools.lru_cache(maxsize=4096)
def _spoken_samples(word: str, voice: str) -> int:
    """How many samples espeak-ng takes to say `word` alone (cached: a synthesis costs ~8 ms)."""
    return len(synthesize(word, voice=voice)[0]) if any(c.isalnum() for c in word) else 1


def _word_weights(words: list[str], language: str) -> np.ndarray:
    """Relative spoken length of each word: its duration when espeak-ng says it alone."""
    voice = SYNTHESIS_VOICES.get(language, "en-us")
    return np.array([_spoken_samples(w, voice) for w in words], float)


def _sayings_cost(features: np.ndarray, repetition: Repetition) -> float:
    """Mean cosine DTW cost between the two sayings of a repeated word.

    features: the attempt's frames, shape (n_frames, n_dims), 10 ms each; the sayings' times are in
    the same trimmed wave. About 0.1-0.3 when the same word was said twice, higher when the grammar
    decode took a neighbouring (often mispronounced) word for a second saying."""
    spans = [(repetition.first_start, repetition.first_end), (repetition.start, repetition.end)]
    first, second = [features[max(round(a * FRAME_RATE), 0) : max(round(b * FRAME_RATE), 0)] for a, b in spans]
    if len(first) < 2 or len(second) < 2:
        return float("inf")
    match = dtw(cost_matrix(first, second, "cosine"))
    return match.cost / len(match.path)


def _reference_units(ref: Analysis, text_words: list[str] | None, language: str | None) -> list[Unit]:
    """Split the reference into words (aligned, or spread by their spoken length) or fixed chunks."""
    n = len(ref.features)
    if ref.words:
        starts = [min(max(int(round(w.start * FRAME_RATE)), 0), n - 1) for w in ref.words]
        ends = [min(max(int(round(w.end * FRAME_RATE)), s + 1), n) for w, s in zip(ref.words, starts)]
        return [Unit(w.word, s, e) for w, s, e in zip(ref.words, starts, ends)]
    if text_words:
        # spread the words over the speech (not the pauses) in proportion to their spoken length
        speech = np.zeros(n, bool)
        for seg in ref.recording.segments:
            a = int((seg.start - ref.offset_s) * FRAME_RATE)
            speech[max(a, 0) : max(int((seg.end - ref.offset_s) * FRAME_RATE), 0)] = True
        speech_frames = np.flatnonzero(speech) if speech.any() else np.arange(n)
        cumulative = np.concatenate([[0], np.cumsum(_word_weights(text_words, language or "en"))])
        edges = np.round(cumulative / cumulative[-1] * (len(speech_frames) - 1)).astype(int)
        starts = speech_frames[edges[:-1]]
        ends = np.append(speech_frames[edges[1:-1]], speech_frames[-1] + 1)
        return [Unit(w, int(s), int(max(e, s + 1))) for w, s, e in zip(text_words, starts, ends)]
    width = int(_CHUNK_S * FRAME_RATE)
    return [Unit(f"#{i + 1}", s, min(s + width, n)) for i, s in enumerate(range(0, n, width))
            if min(s + width, n) - s >= 3]


def reference_loading(settings: Settings, caches: ScoringCaches | None = None) -> dict:
    """How references are loaded and kept (the keyword arguments of references.golden_reference,
    library_reference and uploaded_reference): with the attempts' audio limits and VAD, in `caches`."""
    return {"limits": settings.audio, "vad": settings.vad, "caches": caches}


def _checked(text: str | None, language: str | None) -> tuple[str | None, str | None]:
    """A request's text and language checked once: the text with its language (check_text), else a language
    alone as the reference's words are heard in it ("EN-us" is "en"; check_language)."""
    if text is not None:
        return check_text(text, language)
    return None, None if language is None else check_language(language)


def _resolve_reference(reference, text: str | None, language: str | None, settings: Settings,
                       caches: ScoringCaches | None = None) -> Reference:
    """The Reference `reference` names (see score_pronunciation), loaded with the settings' audio and VAD."""
    if isinstance(reference, Reference):
        return reference
    loading = reference_loading(settings, caches)
    if reference is None:
        if text is None:
            raise ScoringError("Please give the text you practised, or a reference recording to compare with.")
        return golden_reference(text, language, **loading)
    if isinstance(reference, str) and any(p.id == reference for p in library()):
        return library_reference(reference, **loading)
    if isinstance(reference, (str, Path, bytes, bytearray, Recording)):
        return uploaded_reference(reference, text, language, **loading)
    raise ScoringError("The reference must be a recording (a file or its bytes) or a built-in phrase id.")


def _align(ref: Analysis, att: Analysis, metric: str) -> tuple[np.ndarray, DtwResult]:
    n, m = len(ref.features), len(att.features)
    if n * m <= EXACT_DTW_MAX_CELLS:
        cost = cost_matrix(ref.features, att.features, metric)
        return cost, dtw(cost)
    # long inputs: fastdtw on unit-length rows (Euclidean distance is then monotone in cosine)
    unit = lambda x: x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)  # noqa: E731
    approx = dtw_fast(unit(ref.features), unit(att.features), radius=2)
    # the path's cells only (a path x path matrix of them once took 22 GB for a 299-s reference)
    on_path = paired_costs(ref.features[approx.path[:, 0]], att.features[approx.path[:, 1]], metric)
    cost = np.full((n, m), np.nan, dtype=np.float32)  # at most 60 s x 60 s: 144 MB (MAX_SCORED_S)
    cost[approx.path[:, 0], approx.path[:, 1]] = on_path
    return cost, DtwResult(float(on_path.sum()), approx.path)


def shared_features(reference: Reference, *attempts: Recording,
                    features: FeatureConfig = FeatureConfig()) -> FeatureConfig:
    """`features` on the band the reference and every attempt hold (a telephone reference and a wideband
    attempt: below 3.8 kHz). Attempts that are compared with each other are given the same band."""
    return dataclasses.replace(features, fmax=shared_band_hz(reference.recording.wave, *(a.wave for a in attempts),
                                                             config=features))


def assess(attempt: Recording, reference: Reference, text: str | None = None, language: str | None = None,
           config: ScoreConfig = ScoreConfig(), features: FeatureConfig = FeatureConfig(),
           caches: ScoringCaches | None = None) -> Assessment:
    """Score a loaded attempt against a resolved reference: the core (as SpeechBrain's classify_batch;
    `assess_file` loads and resolves first, as its classify_file).

    attempt: the learner's Recording; reference: the golden Reference; text: what should be said, already
    checked (references.check_text), None for the reference's own; language: ISO 639-1 as
    references.check_language gives it, None for the reference's (else "en"); caches: what is kept between
    requests (a coach's own, else default_caches()).
    Returns the full Assessment; its `result` is score_pronunciation's dict.
    """
    if not isinstance(attempt, Recording) or not isinstance(reference, Reference):
        raise TypeError("assess takes a loaded Recording and a resolved Reference; assess_file and "
                        "score_pronunciation take paths, bytes, phrase ids and texts")
    golden = reference
    text = text if text is not None else golden.text
    language = language or golden.language or "en"
    text_words = None
    aligner_words = None
    if text is not None:
        text_words = english_words(text) if language == "en" else text.split()
        if language == "en" and text_words and not unknown_words(text_words):
            aligner_words = text_words
    listen = (language, text_words) if text_words else None  # every language we teach is one Whisper knows
    features = shared_features(golden, attempt, features=features)
    caches = caches or default_caches()
    ref = _analyse_reference(golden, aligner_words, features, listen, caches)
    att = _analyse(attempt, aligner_words, features, attempt=True, listen=listen, states=caches.encoder_states)
    cost, alignment = _align(ref, att, features.metric)
    units = _reference_units(ref, text_words, language)
    scored, word_rows = _score(ref, att, cost, alignment, units, golden, text_words, aligner_words is not None, config)
    # the band both recordings hold
    scored = dataclasses.replace(scored, details={**scored.details, "compared_below_hz": features.fmax})
    return Assessment(scored.to_dict(), scored, golden, ref, att, cost, alignment, units, word_rows)


def assess_file(attempt, reference=None, text: str | None = None, language: str | None = None,
                config: ScoreConfig = ScoreConfig(), features: FeatureConfig = FeatureConfig(),
                settings: Settings = Settings()) -> Assessment:
    """Check the text, resolve the reference and load the attempt, then `assess`; see score_pronunciation
    for the arguments. Returns the full Assessment."""
    text, language = _checked(text, language)
    golden = _resolve_reference(reference, text, language, settings)
    attempt_recording = _loaded(attempt, settings)
    return assess(attempt_recording, golden, text, language, config, features)


@dataclass(frozen=True)
class Listened:
    """What the listener adds to a scoring: per expected word its intelligibility (0-100) and the heard
    word it aligns with, the transcript's miscues, and whether this is another sentence altogether."""

    intelligibility: np.ndarray  # (n_expected_words,), 0-100
    heard_as: list[str | None]  # per expected word: the transcript's word aligned with it, None if left out
    alignment: list[HeardWord]  # expected and heard words side by side, with the miscue
    word_error_rate: float  # (substitutions + omissions + insertions) / expected words
    relative: float  # mean log-probability per token of the expected text, attempt minus reference (nats)
    another_sentence: bool


def _listened(ref: Analysis, att: Analysis, text_words: list[str], config: ScoreConfig,
              encoder_costs: np.ndarray | None = None) -> Listened | None:
    """What the listener heard, set against the expected words; `encoder_costs` (n_words,): each word's
    distance in Whisper's encoder frames (_encoder_costs), None where not both were heard."""
    if att.hearing is None or ref.hearing is None:
        return None
    expected = [normalise_word(w) for w in text_words]
    pairs = align_words(expected, att.hearing.transcript_words)
    heard_as: list[str | None] = [None] * len(expected)
    rows, errors = [], 0
    for i, j in pairs:
        said = att.hearing.transcript_words[j] if j is not None else None
        if i is not None:
            heard_as[i] = said
        miscue = ("omission" if j is None else "insertion" if i is None
                  else "none" if expected[i] == said else "substitution")
        errors += miscue != "none"
        rows.append(HeardWord(text_words[i] if i is not None else None, said, miscue))
    wer = errors / max(len(expected), 1)
    relative = att.hearing.mean_log_probability - ref.hearing.mean_log_probability
    intelligibility = relative_intelligibility(att.hearing.word_log_probabilities, ref.hearing.word_log_probabilities,
                                              config.intelligibility_drop)
    floored = listener_floored(att.hearing.mean_log_probability, relative, config.reference_log_probability_floor)
    encoder_cost = float(encoder_costs.mean()) if encoder_costs is not None and encoder_costs.size else None
    another = another_sentence_by_anchors(wer, floored, encoder_cost, config)
    return Listened(intelligibility, heard_as, rows, wer, relative, another)


@dataclass
class _Words:
    """The expected words scored along the path: the rows a learner sees, and what the skills need."""

    words: list[WordScore]  # per expected word (when the text is known)
    segments: list[Segment]  # per reference unit (word or stretch), the same in every case
    phones: list[Phone]  # English: per phone of the forced-aligned attempt
    best_positions: np.ndarray  # (n_units,) attempt frame where each unit is, for the order
    present: np.ndarray  # (n_units,) bool: said (scored well enough and not skipped)
    covered_frames: int  # attempt frames taken by the expected words that were said


def _encoder_costs(ref: Analysis, att: Analysis, path: np.ndarray, units: list[Unit]) -> np.ndarray | None:
    """Each unit's mean cosine distance of Whisper's encoder frames (the listener's, 20 ms) along the DTW
    path (path: (n_steps, 2) of 10-ms reference and attempt frames), (n_units,); None without both hearings."""
    if ref.hearing is None or att.hearing is None or ref.hearing.frames is None or att.hearing.frames is None:
        return None
    rows = np.minimum(path[:, 0] // 2, len(ref.hearing.frames) - 1)
    cols = np.minimum(path[:, 1] // 2, len(att.hearing.frames) - 1)
    cells = 1.0 - np.einsum("ij,ij->i", ref.hearing.frames[rows], att.hearing.frames[cols])
    costs = []
    for unit in units:
        on_unit = (path[:, 0] >= unit.ref_start) & (path[:, 0] < unit.ref_end)
        costs.append(float(cells[on_unit].mean()) if on_unit.any() else float(cells.max()))
    return np.array(costs)


def _unit_score(i: int, unit_cost: float, ref: Analysis, att: Analysis, alignable: bool, words_aligned: bool,
                intelligibility: float | None, encoder_cost: float | None,
                config: ScoreConfig) -> tuple[float, float | None, float | None]:
    """One unit's accuracy 0-100 from its DTW cost (spectral, and on Whisper's encoder frames where the
    listener heard both), in English pocketsphinx's GOP relative to the reference's own, and the
    listener's intelligibility; with the GOP and relative GOP (or None)."""
    dtw_part = anchor_score(unit_cost, config.cost_native, config.cost_wrong)
    if encoder_cost is not None and config.encoder_weight > 0:
        heard_part = anchor_score(encoder_cost, config.encoder_cost_native, config.encoder_cost_wrong)
        dtw_part = config.encoder_weight * heard_part + (1 - config.encoder_weight) * dtw_part
    score, gop, relative_gop = dtw_part, None, None
    if alignable:
        if words_aligned:
            gop = att.words[i].gop
            # relative to the reference's own GOP for this word: some words score low for everyone
            if ref.words is not None and len(ref.words) == len(att.words):
                relative_gop = min(0.0, gop - ref.words[i].gop)
            else:
                relative_gop = gop
        gop_part = anchor_score(relative_gop if gop is not None else config.gop_wrong, config.gop_native,
                                config.gop_wrong)
        score = config.gop_weight * gop_part + (1 - config.gop_weight) * dtw_part
    if intelligibility is not None:
        score = config.listener_weight * intelligibility + (1 - config.listener_weight) * score
    return score, gop, relative_gop


def _position(unit: Unit, unit_cost: float, on_path: float, cost: np.ndarray, config: ScoreConfig) -> float:
    """Where the unit is in the attempt (frames), for the order: on the path, unless it matches clearly
    better elsewhere (short words match anywhere, so they stay on the path)."""
    long_enough = unit.ref_end - unit.ref_start >= config.relocate_min_s * FRAME_RATE
    if long_enough and np.isfinite(cost[unit.ref_start]).all():
        match = subsequence_dtw(cost[unit.ref_start : unit.ref_end])
        if match.cost / len(match.path) < unit_cost - config.elsewhere_margin:
            return float(match.path[:, 1].mean())
    return on_path


def _score_words(ref: Analysis, att: Analysis, cost: np.ndarray, path: np.ndarray, units: list[Unit],
                 text_words: list[str] | None, alignable: bool, listened: Listened | None,
                 encoder_costs: np.ndarray | None, config: ScoreConfig) -> _Words:
    """Each reference unit along the DTW path (path: (n_steps, 2) reference and attempt frames);
    encoder_costs: _encoder_costs's (n_units,), or None."""
    cells = cost[path[:, 0], path[:, 1]]
    words_aligned = alignable and att.words is not None and len(att.words) == len(units)
    by_word = listened is not None and len(units) == len(text_words)
    words, segments, phones = [], [], []
    best_positions, present = np.zeros(len(units)), np.zeros(len(units), bool)
    covered_frames = 0
    for i, unit in enumerate(units):
        on_unit = (path[:, 0] >= unit.ref_start) & (path[:, 0] < unit.ref_end)
        unit_cost = float(cells[on_unit].mean()) if on_unit.any() else float(cells.max())
        encoder_cost = None if encoder_costs is None else float(encoder_costs[i])
        a0, a1 = int(path[on_unit, 1].min()), int(path[on_unit, 1].max()) + 1
        ratio = (a1 - a0) / max(unit.ref_end - unit.ref_start, 1)  # attempt time / reference time
        if words_aligned:
            word = att.words[i]
            a0, a1 = int(round(word.start * FRAME_RATE)), max(int(round(word.end * FRAME_RATE)), a0 + 1)
        intelligibility = float(listened.intelligibility[i]) if by_word else None
        score, gop, relative_gop = _unit_score(i, unit_cost, ref, att, alignable, words_aligned, intelligibility,
                                               encoder_cost, config)
        best_positions[i] = _position(unit, unit_cost, (a0 + a1) / 2, cost, config)
        skipped = ratio < config.omission_ratio and score < config.omission_score
        present[i] = score >= config.said_score and not skipped
        covered_frames += (a1 - a0) if present[i] else 0
        miscue = ("omission" if skipped else "mispronunciation" if not present[i]
                  else "mispronunciation" if score < config.flag_below else "none")
        start, end = att.offset_s + a0 / FRAME_RATE, att.offset_s + a1 / FRAME_RATE
        segments.append(Segment(unit.label, i, round(start, 3), round(end, 3), round(unit_cost, 4), round(score, 1),
                                bool(score < config.flag_below), miscue))
        if text_words is not None:
            heard = intelligibility is not None
            words.append(WordScore(unit.label, i, round(start, 3), round(end, 3), round(score, 1), round(unit_cost, 4),
                                   miscue, heard_cost=None if encoder_cost is None else round(encoder_cost, 4),
                                   intelligibility=round(intelligibility, 1) if heard else None,
                                   heard_as=listened.heard_as[i] if heard else None,
                                   gop=None if gop is None else round(gop, 2),
                                   gop_relative=None if gop is None else round(relative_gop, 2)))
        if words_aligned:
            for ph in att.words[i].phones:
                phones.append(Phone(ph.phone, unit.label, round(att.offset_s + ph.start, 3),
                                    round(att.offset_s + ph.end, 3), round(ph.gop, 2),
                                    round(anchor_score(ph.gop, config.gop_native, config.gop_wrong), 1)))
    return _Words(words, segments, phones, best_positions, present, covered_frames)


def _insertions(att: Analysis, path: np.ndarray, att_frame_cost: np.ndarray, known_text: bool,
                config: ScoreConfig) -> tuple[list[Segment], list[InsertedWord], float, float]:
    """Speech that is not the expected words: expected words said twice (English grammar decode), then
    attempt speech matched to no new reference frame and unlike what it was matched to.
    att_frame_cost: (n_attempt_frames,) DTW cost along the path. Returns the segments and word rows
    (when the text is known) of each insertion, the seconds inserted, and the seconds of repetitions
    (inside the forced-aligned words' spans: coherence takes them out of them)."""
    segments, words = [], []
    inserted_s = 0.0
    repetitions = [r for r in att.repetitions if _sayings_cost(att.features, r) <= config.repetition_cost]
    for repeat in repetitions:
        start, end = round(att.offset_s + repeat.start, 3), round(att.offset_s + repeat.end, 3)
        inserted_s += repeat.end - repeat.start
        first = int(repeat.start * FRAME_RATE)
        frames = np.arange(first, max(int(repeat.end * FRAME_RATE), first + 1))
        run_cost = round(float(att_frame_cost[np.clip(frames, 0, len(att_frame_cost) - 1)].mean()), 4)
        segments.append(Segment(f"{repeat.word} (again)", None, start, end, run_cost, 0.0, True, "insertion"))
        if known_text:
            words.append(InsertedWord(start, end, run_cost, repeats=repeat.index))
    repeated_s = inserted_s
    # attempt frames of both sayings of each repeated word: DTW may take either copy for the extra one
    repeated = [((att.words[r.index].start if att.words and r.index < len(att.words) else r.start) * FRAME_RATE,
                 r.end * FRAME_RATE) for r in repetitions]
    loud = att.energy > config.insertion_loud_db
    for first, last in horizontal_runs(path, int(config.insertion_s * FRAME_RATE)):
        if any(first < end and last >= start for start, end in repeated):
            continue  # already reported as a repetition
        frames = np.arange(first, last + 1)
        frames = frames[loud[np.minimum(frames, len(loud) - 1)]]
        if len(frames) < config.insertion_s * FRAME_RATE or att_frame_cost[frames].mean() < config.insertion_cost:
            continue
        inserted_s += len(frames) / FRAME_RATE
        run_cost = float(att_frame_cost[frames].mean())
        start, end = att.offset_s + first / FRAME_RATE, att.offset_s + (last + 1) / FRAME_RATE
        segments.append(Segment("(inserted)", None, round(start, 3), round(end, 3), round(run_cost, 4),
                                round(anchor_score(run_cost, config.cost_native, config.cost_wrong), 1), True,
                                "insertion"))
        if known_text:
            words.append(InsertedWord(round(start, 3), round(end, 3), round(run_cost, 4)))
    return segments, words, inserted_s, repeated_s


def _skills(ref: Analysis, att: Analysis, path: np.ndarray, golden: Reference, scored: _Words, n_units: int,
            repeated_s: float, config: ScoreConfig) -> tuple[dict[str, float | None], float, float]:
    """The five skills 0-100 (prosody None against a synthesised reference), with the pitch and energy
    correlations along the path."""
    # scored.segments and scored.present: one per unit, both in reference order (the time-sorted list of
    # all segments agreed only because DTW's path and the forced alignment both run in order)
    said = np.sort([s.score for s, p in zip(scored.segments, scored.present) if p])
    # the mean of the words said, and the mean of their weakest quarter (a phrase is as clear as its worst words)
    weakest = config.accuracy_weakest_share
    accuracy = (float((1 - weakest) * said.mean() + weakest * said[: max(1, len(said) // 4)].mean())
                if said.size else 0.0)
    completeness = 100.0 * float(scored.present.mean()) if n_units else 0.0
    r_pauses, a_pauses = ref.recording.pauses, att.recording.pauses
    fluency = fluency_score(a_pauses.speech_s, r_pauses.speech_s, a_pauses.pause_total_s, r_pauses.pause_total_s,
                            a_pauses.n_pauses, r_pauses.n_pauses, config)
    prosody, pitch_r, energy_r = prosody_score(ref.pitch, att.pitch, ref.energy, att.energy, path, config)
    if golden.synthetic:  # a computer voice's melody is no model to copy (README);
                          # the experts' prosody is reference-free
        prosody = None
    coherence = coherence_score(scored.best_positions / FRAME_RATE, scored.present,
                                max(0.0, scored.covered_frames / FRAME_RATE - repeated_s), a_pauses.speech_s)
    skills = {"accuracy": accuracy, "fluency": fluency, "prosody": prosody, "completeness": completeness,
              "coherence": coherence}
    return skills, pitch_r, energy_r


def _score(ref: Analysis, att: Analysis, cost: np.ndarray, alignment: DtwResult, units: list[Unit],
           golden: Reference, text_words: list[str] | None, alignable: bool,
           config: ScoreConfig) -> tuple[PronunciationResult, list[dict]]:
    """score_pronunciation's result (words, insertions, skills, overall and details; its details without
    compared_below_hz), and measures.word_measures of each unit."""
    path = alignment.path
    att_frame_cost = path_costs(np.nan_to_num(cost, nan=0.0), path, axis=1)
    encoder_costs = _encoder_costs(ref, att, path, units)
    listened = _listened(ref, att, text_words, config, encoder_costs) if text_words else None
    scored = _score_words(ref, att, cost, path, units, text_words, alignable, listened, encoder_costs, config)
    extra_segments, extra_words, inserted_s, repeated_s = _insertions(att, path, att_frame_cost,
                                                                      text_words is not None, config)
    skills, pitch_r, energy_r = _skills(ref, att, path, golden, scored, len(units), repeated_s, config)
    measures, word_rows = _measures(ref, att, units, scored, skills, listened, extra_segments, inserted_s)
    # a wrong or unintelligible reading caps the rest: fluent delivery of other words is not a good attempt
    gate = min(1.0, (0.5 * skills["accuracy"] + 0.5 * skills["completeness"]) / config.gate_points)
    overall = overall_score(skills, config) * gate
    # what experts would say, fitted to their ratings of real learners (experts.py): where the text is known
    # and the listener heard the reading, as in every reading it was fitted on
    models = expert_models() if config.experts and listened is not None else None
    if models is not None:
        scored, listened, fitted = _as_experts_would(models, measures, word_rows, scored, listened, config)
        skills.update({k: fitted[k] for k in ("accuracy", "fluency", "prosody")})
        overall = fitted["overall"] * gate
    if listened is not None and listened.another_sentence:
        overall = min(overall, config.another_sentence_cap)
    details = _details(ref, att, golden, alignment, cost, text_words, pitch_r, energy_r, inserted_s)
    details["measures"] = {k: None if not np.isfinite(v) else round(v, 4) for k, v in measures.items()}
    heard = None
    if listened is not None:
        heard = Heard(att.hearing.transcript, listened.alignment, round(listened.word_error_rate, 3))
        details["listener_relative"] = round(listened.relative, 3)
    rounded = {k: None if v is None else round(v, 1) for k, v in skills.items()}
    result = PronunciationResult(
        round(overall, 1), **rounded, not_scored={k: NOT_SCORED[k] for k, v in skills.items() if v is None},
        segments=sorted(scored.segments + extra_segments, key=lambda s: s.start), details=details,
        another_sentence=listened.another_sentence if listened is not None else None, heard=heard,
        words=sorted(scored.words + extra_words, key=lambda w: w.start) if text_words is not None else None,
        phones=scored.phones if alignable else None)
    return result, word_rows


def _as_experts_would(models: ExpertModels, measures: dict, word_rows: list[dict], scored: _Words,
                      listened: Listened, config: ScoreConfig) -> tuple[_Words, Listened, dict[str, float]]:
    """The calibration's skills (accuracy, fluency, prosody, overall), its word scores written into the
    rows the learner sees of the words said (and their flags and miscues; a word left out or not
    recognisably said keeps the anchors' score, flag and miscue), and its verdict on another sentence:
    its fitted rule, or the anchors' one on a voice the listener hears clearly."""
    fitted = models.skill_scores(measures)
    words, segments = list(scored.words), list(scored.segments)
    for i, present, score in zip(range(len(segments)), scored.present, models.word_scores(word_rows)):
        if not present:
            continue
        rewritten = {"score": round(float(score), 1),
                     "miscue": "mispronunciation" if score < config.flag_below else "none"}
        # word rows carry no flag: their miscue says it
        segments[i] = dataclasses.replace(segments[i], flag=bool(score < config.flag_below), **rewritten)
        if words:
            words[i] = dataclasses.replace(words[i], **rewritten)
    clear = measures["listener_transcript"] >= config.another_sentence_clear_transcript
    another = models.is_another_sentence(measures) or (listened.another_sentence and clear)
    scored = dataclasses.replace(scored, words=words, segments=segments)
    return scored, dataclasses.replace(listened, another_sentence=another), fitted


def _measures(ref: Analysis, att: Analysis, units: list[Unit], scored: _Words, skills: dict,
              listened: Listened | None, extra_segments: list[Segment],
              inserted_s: float) -> tuple[dict, list[dict]]:
    """measures.utterance_measures of this scoring, and measures.word_measures of each unit (from its row:
    the word's, where the text is known)."""
    rows = scored.words if len(scored.words) == len(units) else scored.segments
    by_word = listened is not None and len(rows) == len(att.hearing.word_log_probabilities)
    words = []
    for i, (unit, row) in enumerate(zip(units, rows)):
        row = {**row.to_dict(), "heard_expected": normalise_word(unit.label)}
        log_probabilities = ((att.hearing.word_log_probabilities[i], ref.hearing.word_log_probabilities[i])
                             if by_word else ())
        words.append(word_measures(row, (unit.ref_end - unit.ref_start) / FRAME_RATE, *log_probabilities))
    pauses = att.recording.pauses
    timing = {"speech_s": pauses.speech_s, "span_s": pauses.speech_s + pauses.pause_total_s,
              "n_pauses": pauses.n_pauses, "pause_total_s": pauses.pause_total_s,
              "longest_pause_s": pauses.longest_pause_s, "reference_speech_s": ref.recording.pauses.speech_s,
              "inserted_s": inserted_s, "repetitions": sum(s.label.endswith(" (again)") for s in extra_segments)}
    listener = None if listened is None else {
        "word_error_rate": listened.word_error_rate, "relative": listened.relative,
        "attempt": att.hearing.mean_log_probability, "transcript": att.hearing.transcript_log_probability}
    prosody = prosody_measures(att.pitch, att.energy)
    return utterance_measures(words, skills, timing, listener, prosody, len(units)), words


def _details(ref: Analysis, att: Analysis, golden: Reference, alignment: DtwResult, cost: np.ndarray,
             text_words: list[str] | None, pitch_r: float, energy_r: float, inserted_s: float) -> dict:
    """The measurements behind the scores: costs, correlations, pauses (s), rates (words a minute)."""
    path = alignment.path
    r_pauses, a_pauses = ref.recording.pauses, att.recording.pauses
    span_s = (a_pauses.speech_s + a_pauses.pause_total_s) or 1e-3
    # words said: what the listener heard (a reading of 3 words of 8 is not 8 words a minute's worth)
    n_words = len(att.hearing.transcript_words) if att.hearing is not None else len(text_words) if text_words else None
    return {
        "reference": golden.source, "reference_text": golden.text,
        "dtw_cost": round(float(cost[path[:, 0], path[:, 1]].mean()), 4),
        "pitch_correlation": round(pitch_r, 3), "energy_correlation": round(energy_r, 3),
        "speech_s": round(a_pauses.speech_s, 2), "reference_speech_s": round(r_pauses.speech_s, 2),
        "pauses": a_pauses.n_pauses, "reference_pauses": r_pauses.n_pauses,
        "pause_total_s": round(a_pauses.pause_total_s, 2), "longest_pause_s": round(a_pauses.longest_pause_s, 2),
        "speech_rate_wpm": round(60 * n_words / span_s, 1) if n_words else None,
        "articulation_rate_wpm": round(60 * n_words / max(a_pauses.speech_s, 1e-3), 1) if n_words else None,
        "inserted_s": round(inserted_s, 2),
    }


def _loaded(attempt, settings: Settings) -> Recording:
    """`attempt` loaded with the settings' audio limits and VAD (as is, when already a Recording)."""
    return attempt if isinstance(attempt, Recording) else load_recording(attempt, settings.audio, settings.vad)


def score_pronunciation(attempt, reference=None, text: str | None = None, language: str | None = None, *,
                        settings: Settings = Settings()) -> dict:
    """Score a learner's attempt against a golden reference.

    Parameters
    ----------
    attempt: the learner's recording: a path, the bytes of an audio file, or a loaded Recording.
    reference: None (use the built-in library's native recording of `text` if it has one, else
        synthesise `text`), a built-in phrase id (see pronounce.library()), or a teacher's recording
        (path, bytes or Recording).
    text: what should be said; enables word scores (and phone scores and miscues for English).
    language: ISO 639-1 code of the text ("en" when not given).
    settings: the audio limits and VAD settings the attempt and the reference are loaded with.

    Returns
    -------
    dict with "overall", "accuracy", "fluency", "prosody", "completeness", "coherence" (0-100; prosody is
    None against a synthesised reference, and "not_scored" maps each skill left unscored to why),
    "segments" (label, start, end in seconds of the attempt, cost, score, flag, miscue), "details"
    (timing and measurements), and with a known text "words" (and "phones" for English).

    Raises
    ------
    AudioError: an attempt or reference that is not usable audio. ScoringError: no text and no
    reference, empty text, unsupported language, text in another language than the one chosen.
    """
    return assess_file(attempt, reference, text, language, settings=settings).result


def compare(a, b, text: str | None = None, language: str | None = None, reference=None, *,
            settings: Settings = Settings()) -> dict:
    """Score two attempts at the same text or reference and show what changed.

    Returns {"a": result, "b": result, "difference": {skill: b - a, None where a skill is not scored},
    "words": [{word, a, b, difference}]}:
    positive differences mean attempt b did better.
    """
    text, language = _checked(text, language)
    golden = _resolve_reference(reference, text, language, settings)
    first, second = (_loaded(x, settings) for x in (a, b))
    features = shared_features(golden, first, second)  # both attempts on one band, whatever their microphones
    return compare_results(assess(first, golden, text, language, features=features).result,
                           assess(second, golden, text, language, features=features).result)


@dataclass(frozen=True)
class WordChange:
    """One word said in both attempts: its score in each (0-100) and b - a."""

    word: str
    a: float
    b: float
    difference: float


@dataclass(frozen=True)
class Comparison:
    """compare's result, typed; `to_dict()` is its public JSON (fields in this order)."""

    a: dict  # score_pronunciation's result of attempt a
    b: dict
    difference: dict[str, float | None]  # per skill and overall: b - a, None where a skill is not scored
    words: list[WordChange]  # empty when either attempt is another sentence or the text is unknown
    another_sentence: list[str]  # "A", "B": the attempts that read another sentence

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def comparison(first: dict, second: dict) -> Comparison:
    """What changed between two results of score_pronunciation for the same text or reference."""
    difference = {k: None if first[k] is None or second[k] is None else round(second[k] - first[k], 1)
                  for k in RESULT_SCORES}
    words = []
    another = [name for name, result in (("A", first), ("B", second)) if result.get("another_sentence")]
    if "words" in first and "words" in second and not another:  # words of another sentence are not comparable
        said_a = [w for w in first["words"] if w["word"] is not None]
        said_b = [w for w in second["words"] if w["word"] is not None]
        for wa, wb in zip(said_a, said_b):
            words.append(WordChange(wa["word"], wa["score"], wb["score"], round(wb["score"] - wa["score"], 1)))
    return Comparison(first, second, difference, words, another)


def compare_results(first: dict, second: dict) -> dict:
    """What changed between two results of score_pronunciation for the same text or reference
    (the return value of `compare`; the app uses it with results it has already scored): `comparison`'s
    to_dict()."""
    return comparison(first, second).to_dict()
