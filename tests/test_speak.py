"""Speak freely (speaksphere.speak): free speech heard, timed, measured and scored; its prompts; its refusals.

Real recordings: the built-in native telephone prompts (speaksphere/references/audio) and espeak-ng speech
(conftest); the calibration is the shipped speaking.json."""

import numpy as np
import pytest

from speaksphere.audio import SAMPLE_RATE, AudioError
from speaksphere.pronounce.references import LIBRARY_DIR, ScoringError, library
from speaksphere.recording import load_recording
from speaksphere.speak import LEVELS, assess_speech, prompt, prompts
from speaksphere.speak.listening import MAX_WINDOW_S, listen, speech_windows
from speaksphere.speak.measures import speech_measures, syllables
from speaksphere.speak.timing import TimedToken, words_of
from speaksphere.vad import SpeechSegment
from speaksphere.whisper.decoder import text_tokens

INVALID = next(p for p in library("en") if p.id == "en-conf-invalid")  # "That is not a valid conference number..."


def _phrase_path(phrase_id: str) -> str:
    return str(LIBRARY_DIR / next(p for p in library() if p.id == phrase_id).file)


def test_tokens_become_words_with_their_times_and_whole_letters():
    tokens = text_tokens("Привет, как дела")  # Cyrillic letters split over byte tokens
    timed = [TimedToken("", i * 0.1, i * 0.1 + 0.1, -0.1 * i) for i in range(len(tokens))]
    words = words_of(tokens, timed)
    assert [w.text for w in words] == ["Привет,", "как", "дела"]
    assert words[0].start == 0.0 and all(a.end <= b.start + 1e-9 for a, b in zip(words, words[1:]))
    assert sum(len(w.log_probabilities) for w in words) == len(tokens)


def test_windows_hold_all_speech_once_and_none_is_longer_than_whisper_hears():
    segments = [SpeechSegment(0.5, 10.0), SpeechSegment(10.1, 40.0), SpeechSegment(41.0, 75.0)]
    windows = speech_windows(segments, 80.0)
    assert len(windows) >= 3 and all(end - start <= MAX_WINDOW_S + 1e-9 for start, end in windows)
    covered = lambda t: sum(s <= t < e for s, e in windows)  # noqa: E731
    assert all(covered(t) == 1 for seg in segments for t in np.arange(seg.start, seg.end, 0.05))
    assert all(a[1] <= b[0] + 1e-9 for a, b in zip(windows, windows[1:]))  # no audio heard twice


def test_syllables_are_counted_as_said():
    assert [syllables(w, "en") for w in ("time", "little", "elephants", "the", "351")] == [1, 2, 3, 1, 7]
    assert syllables("parle", "fr") == 1 and syllables("здравствуйте", "ru") == 3 and syllables("casa", "es") == 2


def test_fluency_measures_from_words_and_pauses():
    words = [{"text": t, "start": s, "end": s + 0.4, "log_probabilities": [-0.1]} for t, s in
             [("we", 0.0), ("went", 0.5), ("home", 2.0), ("um", 2.5), ("late", 3.0)]]
    segments = [(0.0, 1.0), (2.0, 3.5)]  # one pause of 1 s
    m = speech_measures(words, segments, "en", 0.99, -0.1, {})
    assert m["speech_rate_wpm"] == pytest.approx(5 / 3.5 * 60)
    assert m["articulation_rate"] == pytest.approx(5 / 2.5)
    assert m["pauses"] == 1 and m["mean_pause_s"] == pytest.approx(1.0)
    assert m["mean_length_of_run_s"] == pytest.approx(1.25) and m["fillers"] == 1
    split = speech_measures(words, [(0.0, 0.5), (0.6, 1.0), (2.0, 3.5)], "en", 0.99, -0.1, {})
    assert split["pauses"] == 1 and split["mean_length_of_run_s"] == pytest.approx(1.25)  # a 0.1-s gap is no pause


@pytest.fixture(scope="module")
def native_answer():
    return assess_speech(_phrase_path(INVALID.id))


def test_a_native_speaker_is_heard_timed_and_scored_high(native_answer):
    r = native_answer
    assert r["language"] == "en" and r["language_probabilities"]["en"] > 0.9
    heard = " ".join(w["word"] for w in r["words"]).lower()
    assert "valid conference number" in heard and "try again" in heard
    starts = [w["start"] for w in r["words"]]
    assert starts == sorted(starts) and 0 <= starts[0] and r["words"][-1]["end"] <= r["duration_s"] + 0.01
    assert all(0 <= w["score"] <= 100 for w in r["words"])
    from speaksphere.speak.measures import runs_and_pauses

    runs, _ = runs_and_pauses([(s.start, s.end) for s in load_recording(_phrase_path(INVALID.id)).segments])
    assert all(any(a - 1e-3 <= w["start"] < w["end"] <= b + 1e-3 for a, b in runs) for w in r["words"])
    assert r["pronunciation"] >= 75 and r["fluency"] >= 70 and r["overall"] >= 70
    assert r["tip"] and r["speech_rate_wpm"] > 100


def test_the_result_is_typed_and_its_json_keeps_its_keys_in_order(native_answer):
    from speaksphere.speak.assess import SpeechAssessment, SpokenWord, speech_assessment

    typed = speech_assessment(load_recording(_phrase_path(INVALID.id)))
    assert isinstance(typed, SpeechAssessment) and all(isinstance(w, SpokenWord) for w in typed.words)
    assert typed.to_dict() == native_answer
    assert list(native_answer) == ["language", "language_probabilities", "transcript", "words", "pronunciation",
                                   "fluency", "overall", "speech_rate_wpm", "articulation_rate", "pauses",
                                   "pause_spans", "mean_length_of_run_s", "fillers", "duration_s", "complete",
                                   "measures", "tip"]
    assert all(list(w) == ["word", "start", "end", "score"] for w in native_answer["words"])


def test_long_pauses_lower_fluency(native_answer):
    """The same native speech with a second of silence after every word: slower, halting, less fluent."""
    recording = load_recording(_phrase_path(INVALID.id))
    pieces = []
    for w in native_answer["words"]:
        pieces += [recording.wave[int(w["start"] * SAMPLE_RATE) : int(w["end"] * SAMPLE_RATE)],
                   np.zeros(SAMPLE_RATE, np.float32)]
    halting = assess_speech(_wav_bytes(np.concatenate(pieces)))
    assert halting["pauses"] >= len(native_answer["words"]) - 2
    assert halting["speech_rate_wpm"] < native_answer["speech_rate_wpm"] / 2
    assert halting["fluency"] < native_answer["fluency"] - 10


def _wav_bytes(wave: np.ndarray) -> bytes:
    import io

    import soundfile as sf

    buffer = io.BytesIO()
    sf.write(buffer, wave, SAMPLE_RATE, format="WAV")
    return buffer.getvalue()


def test_another_language_than_the_exercise_is_refused():
    french = next(p for p in library("fr", topic="telephone"))
    with pytest.raises(ScoringError, match="You spoke French; the exercise is English"):
        assess_speech(str(LIBRARY_DIR / french.file), language="en")
    assert assess_speech(str(LIBRARY_DIR / french.file), language="fr")["language"] == "fr"


@pytest.mark.parametrize("language", ["xx", "", 3, "zh", "pt"])
def test_a_language_we_cannot_assess_is_refused(language):
    with pytest.raises(ScoringError):
        assess_speech(_phrase_path(INVALID.id), language=language)


def test_silence_noise_and_overlong_answers_are_refused():
    with pytest.raises(AudioError, match="speech"):
        assess_speech(_wav_bytes(np.zeros(2 * SAMPLE_RATE, np.float32)))
    with pytest.raises(AudioError, match="limit is 2 min"):
        assess_speech(_wav_bytes(np.zeros(121 * SAMPLE_RATE, np.float32)))
    with pytest.raises(AudioError):
        assess_speech(b"not audio at all")


def test_listening_transcribes_each_window_of_a_long_answer():
    """Different native phrases with pauses, joined to more than 60 s: several windows, each phrase heard.
    (The same phrase said again and again is not a fair test: the decoder stops a stretch said twice in a
    row, as Whisper loops on padded audio.)"""
    from speaksphere.pronounce.listener import normalise_word

    phrases = library("en", topic="telephone")
    waves = [load_recording(str(LIBRARY_DIR / p.file)).wave for p in phrases]
    pause = np.zeros(SAMPLE_RATE, np.float32)
    wave = np.concatenate([piece for w in waves for piece in (w, pause)])
    recording = load_recording(_wav_bytes(wave))
    assert recording.duration_s > 60 and len(speech_windows(recording.segments, recording.duration_s)) >= 3
    heard = listen(recording.wave, recording.segments, "en")
    said = {normalise_word(w.text) for w in heard.words}
    longest = [max((normalise_word(w) for w in p.text.split()), key=len) for p in phrases]
    assert np.mean([word in said for word in longest]) >= 0.8  # each phrase's longest word
    assert all(a.start <= b.start for a, b in zip(heard.words, heard.words[1:]))
    assert heard.words[-1].end > recording.duration_s - 10  # the last window heard too


def test_prompts_for_every_language_and_level():
    for language in ("en", "es", "fr", "it", "de", "ru"):
        these = prompts(language)
        assert len(these) >= 15 and {p.level for p in these} == set(LEVELS)
        assert len({p.id for p in these}) == len(these)
    assert prompt("fr", "home-a1").text == "Décrivez votre logement." and prompt("fr", "nope") is None


def test_speak_attempts_are_their_own_kind_in_progress(tmp_path):
    """Stored as "speak" attempts, shown in Progress with series and chart lines of their own."""
    from speaksphere.learner.progress import history_from_attempts, plot_progress, progress_summary, select_practice
    from speaksphere.learner.store import LearnerStore

    store = LearnerStore(tmp_path / "learners.sqlite3", synchronous="NORMAL")
    learner = store.new_learner()
    store.record_attempt(learner, "pronounce", {"accuracy": 60.0, "fluency": 70.0, "overall": 65.0}, language="en",
                         reference_text="Good morning.")
    for overall in (50.0, 58.0):
        store.record_attempt(learner, "speak", {"accuracy": overall + 5, "fluency": overall, "overall": overall},
                             language="en", reference_text="Describe your home.")
    selection = select_practice(store.history(learner), "en")
    history = history_from_attempts(selection.attempts)
    assert list(history["overall"].scores) == [65.0] and list(history["speaking: overall"].scores) == [50.0, 58.0]
    rows = {row["skill"]: row for row in progress_summary(history)}
    assert rows["speaking: fluency"]["attempts"] == 2 and rows["fluency"]["attempts"] == 1
    labels = {line.get_label() for ax in plot_progress(history).axes for line in ax.get_lines()}
    assert "speaking freely (Speak)" in labels


def test_too_little_speech_is_refused():
    wave = load_recording(_phrase_path(INVALID.id)).wave
    first_word = wave[int(0.05 * SAMPLE_RATE) : int(0.5 * SAMPLE_RATE)]  # "That"
    padded = np.concatenate([np.zeros(SAMPLE_RATE // 2, np.float32), first_word,
                             np.zeros(SAMPLE_RATE // 2, np.float32)])
    with pytest.raises(AudioError, match="too little to judge"):
        assess_speech(_wav_bytes(padded))


def test_speak_scores_do_not_steer_the_reading_exercises():
    from speaksphere.learner.recommend.context import learner_context

    reading = {"task": "pronounce", "language": "en", "accent": None, "scores": {"fluency": 40.0}}
    speaking = {"task": "speak", "language": "en", "accent": None, "scores": {"fluency": 95.0}}
    assert learner_context([reading, speaking, speaking], "en").level["fluency"] == 40.0


def test_the_alignment_hooks_are_registered_once_whoever_asks_first():
    import threading

    from speaksphere.speak import timing

    threads = [threading.Thread(target=timing._hooked_decoder) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    decoder, _ = timing._hooked_decoder()
    assert [len(decoder.layers[layer].encoder_attn._forward_hooks) for layer in (3, 4, 5)] == [1, 1, 1]


def test_words_keep_a_stop_closure_inside_them():
    """A word spanning a 0.15-s gap of the detector (a stop's closure) stays whole: it is kept inside its
    run of speech (pauses of 250 ms or more), not cut to one of the detector's segments."""
    from speaksphere.speak.listening import _on_speech
    from speaksphere.speak.measures import runs_and_pauses

    runs, pauses = runs_and_pauses([(1.0, 1.2), (1.35, 1.8), (2.4, 3.0)])
    assert runs == [(1.0, 1.8), (2.4, 3.0)] and pauses == [(1.8, 2.4)]
    assert _on_speech(1.0, 1.8, runs) == (1.0, 1.8)
    assert _on_speech(1.5, 2.3, runs) == (1.5, 1.8)  # runs on into the pause: cut at the run's end
