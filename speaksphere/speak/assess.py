"""Assessment of free speech: a learner talks (no text given) and hears how clearly and how fluently.

`assess_speech(audio, language=None)`: the listener (listening.py) gives the language, the transcript
and each word's time and confidence; measures.py turns them, with the voice activity detector's pauses
and the voice's melody, into measures; speaking.json maps those measures to scores an expert would
give (ridge models fitted by benchmarks/fit_speaking.py on speechocean762's train split with the text
withheld; CARD.md beside this file gives the fit and its figures).
"""

from __future__ import annotations

import dataclasses
import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..audio import AudioError, AudioLimits
from ..pronounce.experts import LinearModel
from ..pronounce.features import energy_db, pitch_semitones
from ..pronounce.listener import EncoderStates
from ..pronounce.measures import prosody_measures
from ..pronounce.references import LANGUAGE_NAMES as PRONOUNCE_LANGUAGE_NAMES
from ..pronounce.references import ScoringError
from .listening import Encoded, Listening, encode, listen
from .measures import embedding_measures, runs_and_pauses, speech_measures, word_measures

__all__ = ["check_speech_language", "assessable", "ASSESSED", "MAX_SPEECH_S", "SPEAKING_PATH", "SpeakingModels",
           "speaking_models", "HeardSpeech", "hear_speech", "SpokenWord", "SpeechAssessment", "speech_assessment",
           "assess_speech", "LANGUAGE_NAMES"]

MAX_SPEECH_S = 120.0  # a 2-minute answer: long enough to describe a home, short enough for a CPU
SPEAKING_PATH = Path(__file__).with_name("speaking.json")
OTHER_LANGUAGE_PROBABILITY = 0.9  # another language heard this surely: refused as not the exercise's
ASSESSED = ("en", "es", "fr", "it", "de", "ru")  # languages with prompts and a measured offset from English
MIN_SPEECH_S = 1.0  # seconds of speech (1% of the train split's readings have less)
MIN_WORDS = 2
LANGUAGE_NAMES = {**PRONOUNCE_LANGUAGE_NAMES, "pl": "Polish"}  # every language the listener is asked about
SCORES = ("pronunciation", "fluency", "overall")


@dataclass(frozen=True)
class SpeakingModels:
    """The shipped calibration: one ridge per score (0-100) and one per heard word (0-100)."""

    scores: dict[str, LinearModel]  # pronunciation, fluency, overall
    words: LinearModel
    info: dict  # what it was fitted on, with which figures
    # language -> (512,) how its voices' mean encoder frame differs from English's (measured on synthetic
    # speech, the same voice engine for every language): subtracted, so that the fit on English learners
    # judges the voice, not the language
    language_offsets: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)

    def embedding(self, embedding: np.ndarray, language: str) -> np.ndarray:
        """The listener's mean encoder frame (512,) of speech in `language`, centred on English's."""
        return embedding - self.language_offsets.get(language, 0.0)

    @classmethod
    def load(cls, path: Path = SPEAKING_PATH) -> SpeakingModels:
        spec = json.loads(Path(path).read_text())
        return cls({k: LinearModel.from_dict(v) for k, v in spec["scores"].items()},
                   LinearModel.from_dict(spec["words"]), spec["info"],
                   {k: np.asarray(v, np.float64) for k, v in spec.get("language_offsets", {}).items()})

    def save(self, path: Path = SPEAKING_PATH) -> None:
        spec = {"scores": {k: v.to_dict() for k, v in self.scores.items()}, "words": self.words.to_dict(),
                "info": self.info,
                "language_offsets": {k: np.round(v, 5).tolist() for k, v in self.language_offsets.items()}}
        Path(path).write_text(json.dumps(spec, indent=1) + "\n")


@functools.cache
def speaking_models() -> SpeakingModels:
    return SpeakingModels.load()


@dataclass(frozen=True)
class HeardSpeech:
    """Free speech as the listener heard it, with its measures (the fit's input, and the app's)."""

    listening: Listening
    segments: list[tuple[float, float]]  # speech (VAD), seconds
    words: list[dict]  # {"text", "start", "end", "log_probabilities"} in time order
    measures: dict[str, float]
    word_measures: list[dict[str, float]]


@dataclass(frozen=True)
class SpokenWord:
    """One word heard in free speech: times in seconds of the recording, score 0-100."""

    word: str
    start: float
    end: float
    score: float


@dataclass(frozen=True)
class SpeechAssessment:
    """assess_speech's result, typed; `to_dict()` is its public JSON (fields in this order)."""

    language: str  # ISO 639-1 heard (or the exercise's)
    language_probabilities: dict[str, float]
    transcript: str
    words: list[SpokenWord]
    pronunciation: float  # 0-100, rounded to 0.1
    fluency: float
    overall: float
    speech_rate_wpm: float | None
    articulation_rate: float | None  # syllables per second of speech
    pauses: int  # silences of 250 ms or more
    pause_spans: list[list[float]]  # [start, end] seconds
    mean_length_of_run_s: float | None
    fillers: int
    duration_s: float
    complete: bool  # False where the listener's decoding stopped early
    measures: dict[str, float | None]
    tip: str

    def to_dict(self) -> dict:
        """The public JSON: every field in order, the words as {"word", "start", "end", "score"}."""
        return dataclasses.asdict(self)


def hear_speech(recording, language: str | None = None, encoded: Encoded | None = None,
                states: EncoderStates | None = None) -> HeardSpeech:
    """Listen to a loaded Recording (speaksphere.recording) and measure it. language: ISO 639-1 to
    transcribe in, or None for the language heard; encoded: listening.encode's of it, if done; states:
    the encoder states kept (default: listening's own)."""
    from ..recording import speech_samples

    listening = listen(recording.wave, recording.segments, language, encoded, states)
    segments = [(float(s.start), float(s.end)) for s in recording.segments]
    words = [{"text": w.text, "start": w.start, "end": w.end, "log_probabilities": list(w.log_probabilities)}
             for w in listening.words]
    speech = speech_samples(recording)
    prosody = prosody_measures(pitch_semitones(speech), energy_db(speech))
    measures = speech_measures(words, segments, listening.language,
                               listening.language_probabilities.get(listening.language, 0.0),
                               listening.mean_log_probability, prosody)
    return HeardSpeech(listening, segments, words, measures, [word_measures(w) for w in words])


def assessable(heard: HeardSpeech) -> str | None:
    """Why free speech this short cannot be assessed (a message for the learner), or None: at least
    MIN_SPEECH_S of speech and MIN_WORDS words heard (the fit leaves shorter readings out alike)."""
    speech_s = heard.measures["speech_s"]
    if speech_s < MIN_SPEECH_S or len(heard.words) < MIN_WORDS:
        return (f"We heard only {speech_s:.1f} s of speech ({len(heard.words)} word(s)): too little to judge how "
                "you speak. Answer with a sentence or more and try again.")
    return None


def _score(model: LinearModel, measures: dict) -> float:
    return float(np.clip(model.predict([measures])[0], 0.0, 100.0))


def check_speech_language(language: str | None) -> str | None:
    """`language` if free speech can be assessed in it (ASSESSED) or None; ScoringError otherwise."""
    if language is None:
        return None
    if not isinstance(language, str) or language not in ASSESSED:
        raise ScoringError(f"We cannot assess speech in {language!r}: choose one of {', '.join(ASSESSED)}.")
    return language


def _tip(words: list[SpokenWord], scores: dict[str, float], heard: HeardSpeech) -> str:
    """One thing to work on: the weaker of pronunciation and fluency (`scores`, rounded as the learner
    sees them), said with what it was measured on."""
    m = heard.measures
    unclear = [w.word for w in sorted(words, key=lambda w: w.score)[:3] if w.score < 60]
    if scores["pronunciation"] <= scores["fluency"] and unclear:
        return (f"Work on the words the listener was least sure of: {', '.join(unclear)}. Say each slowly, "
                "then in its sentence.")
    if m["pauses_per_minute"] > 12:
        return (f"You stopped {m['pauses']:.0f} times ({m['pauses_per_minute']:.0f} a minute). Plan your next "
                "idea while you finish the sentence, and link words into longer runs.")
    if m["pauses"] and m["mean_length_of_run_s"] < 1.5:
        return (f"You spoke in short bursts ({m['mean_length_of_run_s']:.1f} s between pauses on average). Link "
                "the words of a phrase together and pause between ideas, not between words.")
    if m["speech_rate_wpm"] < 90:
        return (f"You spoke {m['speech_rate_wpm']:.0f} words a minute. Practise the answer again and aim for "
                "a steadier, slightly faster pace.")
    if unclear:
        return f"Good flow. Polish the words the listener was least sure of: {', '.join(unclear)}."
    return "Clear and fluent. Try a harder prompt, or speak for longer with more detail."


def assess_speech(audio, language: str | None = None, limits: AudioLimits | None = None,
                  states: EncoderStates | None = None) -> dict:
    """Assess unscripted speech (no text to read).

    audio: a path, the bytes of an audio file, or a loaded Recording; language: ISO 639-1 of the
    exercise (the speech is checked against it), or None for the language heard.

    Returns {"language", "language_probabilities", "transcript", "words": [{"word", "start", "end" (s),
    "score" 0-100}], "pronunciation", "fluency", "overall" (0-100), "speech_rate_wpm",
    "articulation_rate" (syllables per second of speech), "pauses" (count of silences >= 250 ms),
    "pause_spans" [[start, end] s], "mean_length_of_run_s", "fillers", "duration_s", "tip", "complete"
    (False where the listener's decoding stopped early), "measures"}.

    states: the Whisper encoder states kept between calls (a coach's own; default: the process's).

    Raises AudioError (not usable audio, no speech, longer than 2 minutes) and ScoringError (a language
    we cannot assess, or speech in another language than the exercise's).
    """
    language = check_speech_language(language)
    recording = _speech_recording(audio, limits or AudioLimits(max_seconds=MAX_SPEECH_S))
    return speech_assessment(recording, language, states).to_dict()


def _speech_recording(audio, limits: AudioLimits):
    """`audio` loaded with `limits` (a Recording as it is, refused when longer than limits.max_seconds)."""
    from ..recording import Recording, load_recording

    if not isinstance(audio, Recording):
        return load_recording(audio, limits)
    if audio.duration_s > limits.max_seconds:
        raise AudioError(f"This recording is {audio.duration_s:.0f} s long; speak for at most "
                         f"{limits.max_seconds:.0f} s.")
    return audio


def _check_language_heard(encoded: Encoded, language: str | None) -> None:
    """ScoringError when the speech is surely in another language than the exercise's, or (no language
    given) in one Speak cannot assess."""
    heard_language = encoded.language_probabilities()
    other = max(heard_language, key=heard_language.get)
    if language is not None and other != language and heard_language[other] >= OTHER_LANGUAGE_PROBABILITY:
        raise ScoringError(f"You spoke {LANGUAGE_NAMES[other]}; the exercise is {LANGUAGE_NAMES[language]}. "
                           f"Answer in {LANGUAGE_NAMES[language]} and try again.")
    if language is None and other not in ASSESSED:
        raise ScoringError(f"We heard {LANGUAGE_NAMES[other]}, which Speak cannot assess yet. Choose one of "
                           f"{', '.join(LANGUAGE_NAMES[c] for c in ASSESSED)}.")


def speech_assessment(recording, language: str | None = None, states: EncoderStates | None = None) -> SpeechAssessment:
    """Assess a loaded Recording of free speech; language: checked (check_speech_language), or None for the
    language heard. The core of assess_speech, which loads and checks first (raises as it does)."""
    encoded = encode(recording.wave, recording.segments, states)
    _check_language_heard(encoded, language)
    heard = hear_speech(recording, language, encoded, states)
    too_little = assessable(heard)
    if too_little:
        raise AudioError(too_little)
    models = speaking_models()
    inputs = {**heard.measures,
              **embedding_measures(models.embedding(heard.listening.embedding, heard.listening.language))}
    scores = {name: round(_score(model, inputs), 1) for name, model in models.scores.items()}
    word_scores = np.clip(models.words.predict(heard.word_measures), 0.0, 100.0) if heard.words else []
    words = [SpokenWord(w["text"], w["start"], w["end"], round(float(s), 1)) for w, s in zip(heard.words, word_scores)]
    m = heard.measures
    return SpeechAssessment(
        heard.listening.language, {k: round(v, 4) for k, v in heard.listening.language_probabilities.items()},
        heard.listening.transcript, words, scores["pronunciation"], scores["fluency"], scores["overall"],
        _rounded(m["speech_rate_wpm"], 1), _rounded(m["articulation_rate"], 2), int(m["pauses"]),
        [[round(a, 2), round(b, 2)] for a, b in runs_and_pauses(heard.segments)[1]],
        _rounded(m["mean_length_of_run_s"], 2), int(m["fillers"]), round(recording.duration_s, 2),
        heard.listening.complete, {k: _rounded(v, 4) for k, v in m.items()}, _tip(words, scores, heard))


def _rounded(value: float, digits: int):
    return None if value is None or not np.isfinite(value) else round(float(value), digits)
