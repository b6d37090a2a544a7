"""The app served on a free loopback port, called with gradio_client like any outside client.

It serves an untrained model of the tiny architecture (conftest.tiny_model_dir): these tests check the
wiring, the messages and the learner database, not the accuracy of predictions.
"""

import sqlite3
import threading
from dataclasses import replace

import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

import app
from launching import serve_app
from speaksphere.coach import ModelMissingError, settings_with_model
from speaksphere.learner.store import StoreConfig
from speaksphere.pronounce.references import LIBRARY_DIR, library
from speaksphere.settings import Settings

SENTENCE = "Please call Stella. Ask her to bring these things with her from the store."  # conftest's `speech`
PHRASE = next(p for p in library("en") if p.id == "en-auth-incorrect")
MAX_UPLOAD_MB = 1.0  # small, so the size limit can be tested with a small file


@pytest.fixture(scope="module")
def client(tiny_model_dir, database):
    settings = settings_with_model(Settings(), tiny_model_dir)
    # one address uploading for many learners: over the per-client upload budget (test_upload_budget's)
    settings = replace(settings, server=replace(settings.server, max_upload_mb=MAX_UPLOAD_MB,
                                                uploads_per_10_min=10_000))
    with serve_app(settings, database) as demo:
        yield Client(demo.local_url, verbose=False)


def rows(database) -> dict[str, int]:
    """Rows per table of the learner database: a refused request must leave these unchanged."""
    with sqlite3.connect(database) as conn:
        return {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("learners", "attempts", "recommendations", "feedback", "policy_states")}


def pronounce(client, attempt, phrase_id="", text="", language="en", reference_audio=None, learner_id="",
              recommendation_id=None):
    return client.predict(attempt, phrase_id, text, language, reference_audio, learner_id, recommendation_id,
                          api_name="/pronounce")


@pytest.fixture
def learner(client):
    return client.predict(api_name="/new_learner")


@pytest.fixture
def native_phrase():
    return handle_file(str(LIBRARY_DIR / PHRASE.file))


def test_the_server_runs_each_request_on_one_blas_thread(client):
    """Two requests at a time on two cores: every BLAS pool uses one thread, in the worker threads that
    run requests too (two BLAS threads per request cost a scoring 10% more CPU, and more under load)."""
    import threadpoolctl

    seen = []
    worker = threading.Thread(target=lambda: seen.extend(
        pool["num_threads"] for pool in threadpoolctl.threadpool_info() if pool["user_api"] == "blas"))
    worker.start()
    worker.join()
    assert seen and set(seen) == {1}


# ---- /analyze ----

def test_analyze_reports_real_facts_and_the_models_predictions(client, speech_with_pause, write):
    wave, rate, planted = speech_with_pause
    facts, summary, predictions, heard = client.predict(
        handle_file(str(write(np.tile(wave, 2), rate))), "", api_name="/analyze")
    figure, predictions_figure = client.predict(api_name="/analysis_figures")  # this session's analysis
    assert facts["duration_s"] == pytest.approx(2 * len(wave) / rate, abs=0.01)
    assert facts["speech_s"] == pytest.approx(2 * sum(end - start for start, end in planted), abs=0.8)
    assert facts["pauses"] >= 2 and facts["sample_rate_hz"] == rate
    assert "pause" in summary and "speech" in summary
    for task in ("language", "accent", "emotion", "command"):
        assert sum(predictions[task].values()) == pytest.approx(1.0, abs=1e-3)
    assert len(predictions["windows"]) >= 2 and predictions["windows"][0]["start"] == 0.0
    assert "Language" in heard and "%" in heard and "tiny-model" in heard
    assert predictions["transcript"] and {"start", "end", "language", "text"} <= set(predictions["transcript"][0])
    assert "What was said" in heard  # the listener's transcript (issue 39)
    # the voice's facts in words beside the emotion (issue 36): measured, each with its word
    assert {"pitch_range_st", "loudness_sd_db"} <= set(facts["voice"])
    assert all(f["word"] in ("flat", "lively", "even", "varied", "slow", "fast", "usual")
               for f in facts["voice"].values())
    assert "Your voice, measured:" in heard and "semitones" in heard
    assert figure is not None and predictions_figure is not None


def test_analyze_stores_the_detected_language_for_a_learner(client, learner, speech, write, database):
    before = rows(database)
    _, _, predictions, _ = client.predict(handle_file(str(write(*speech))), learner, api_name="/analyze")
    assert rows(database)["attempts"] == before["attempts"] + 1


@pytest.mark.parametrize("payload, words", [
    (b"this is a text file, not audio" * 20, "not a recording"),
    (b"", "empty"),
], ids=["not-audio", "empty"])
def test_bad_upload_gets_a_clear_message(client, tmp_path, payload, words):
    path = tmp_path / "upload.wav"
    path.write_bytes(payload)
    with pytest.raises(AppError, match=words):
        client.predict(handle_file(str(path)), "", api_name="/analyze")


def test_silent_upload_gets_a_clear_message(client, write):
    with pytest.raises(AppError, match="could not hear any speech"):
        client.predict(handle_file(str(write(np.zeros(32000), 16000))), "", api_name="/analyze")


def test_missing_upload_gets_a_clear_message(client):
    with pytest.raises(AppError, match="record or upload"):
        client.predict(None, "", api_name="/analyze")


def test_upload_over_the_size_limit_is_refused(client, tmp_path):
    path = tmp_path / "big.wav"
    path.write_bytes(b"\0" * int(1.5 * MAX_UPLOAD_MB * 2**20))
    with pytest.raises(Exception, match="(?i)too large|size|limit"):
        client.predict(handle_file(str(path)), "", api_name="/analyze")


@pytest.mark.parametrize("learner_id, words", [("not-an-id", "not valid"), ("A" * 32, "No progress is stored")])
def test_bad_learner_id_is_refused_before_any_work(client, speech, write, database, learner_id, words):
    before = rows(database)
    with pytest.raises(AppError, match=words):
        client.predict(handle_file(str(write(*speech))), learner_id, api_name="/analyze")
    assert rows(database) == before


@pytest.mark.parametrize("endpoint, words", [("/analysis_figures", "Analyze a recording first"),
                                             ("/pronunciation_figures", "Score an attempt first")])
def test_figures_before_any_result_get_a_clear_message(client, endpoint, words):
    fresh = Client(client.src, verbose=False)  # a new session: nothing analysed or scored yet
    with pytest.raises(AppError, match=words):
        fresh.predict(api_name=endpoint)


# ---- /pronounce ----

def test_pronounce_a_builtin_phrase(client, learner, native_phrase, database):
    before = rows(database)
    result, feedback, reference_audio = pronounce(client, native_phrase, phrase_id=PHRASE.id, learner_id=learner)
    figures = client.predict(api_name="/pronunciation_figures")
    assert result["overall"] >= 80  # the native recording read against itself
    assert {w["word"] for w in result["words"] if w["word"]} >= {"password", "incorrect"}
    assert "Overall" in feedback and "accuracy" in feedback and "Well done" in feedback  # all scores high
    assert reference_audio.endswith(".ogg") and all(f is not None for f in figures) and len(figures) == 4
    assert rows(database)["attempts"] == before["attempts"] + 1


def test_pronounce_typed_text_and_a_teachers_upload(client, speech, write):
    attempt = handle_file(str(write(*speech)))
    typed, feedback, reference_audio, *_ = pronounce(client, attempt, text=SENTENCE)  # what `speech` says
    assert typed["details"]["reference"].startswith("synthesised") and "computer voice" in feedback
    assert reference_audio.endswith(".wav")
    teacher, advice, *_ = pronounce(client, attempt, reference_audio=handle_file(str(LIBRARY_DIR / PHRASE.file)),
                                    text=PHRASE.text)
    assert teacher["details"]["reference"] == "upload" and "your teacher's recording" in advice
    # another sentence than the teacher's: said plainly, with what was heard, and no tip on melody or timing
    assert teacher["another_sentence"] and "another sentence" in advice and "Tip (" not in advice
    assert typed["overall"] > teacher["overall"]  # the right text beats the wrong one


@pytest.mark.parametrize("kwargs, words", [
    ({"attempt": None, "phrase_id": PHRASE.id}, "record or upload your attempt"),
    ({"phrase_id": "no-such-phrase"}, "no built-in phrase"),
    ({}, "Choose a built-in phrase, type"),
    ({"text": "   "}, "Choose a built-in phrase, type"),
    ({"text": "Der Hund und die Katze sind nicht hier.", "language": "en"}, "looks like German"),
    ({"text": "Hello there.", "language": "xx"}, "does not support the language"),
    ({"phrase_id": PHRASE.id, "learner_id": "B" * 32}, "No progress is stored"),
    ({"phrase_id": PHRASE.id, "recommendation_id": 5}, "belongs to a learner"),
], ids=["no-attempt", "unknown-phrase", "no-reference", "empty-text", "wrong-language", "unsupported-language",
        "unknown-learner", "recommendation-without-learner"])
def test_pronounce_bad_inputs_get_clear_messages(client, native_phrase, database, kwargs, words):
    before = rows(database)
    attempt = kwargs.pop("attempt", native_phrase)
    with pytest.raises(AppError, match=words):
        pronounce(client, attempt, **{"phrase_id": "", **kwargs})
    assert rows(database) == before


def test_pronounce_bad_audio_names_which_recording(client, learner, native_phrase, tmp_path, database):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio at all" * 50)
    before = rows(database)
    with pytest.raises(AppError, match="Your attempt: .*not a recording"):
        pronounce(client, handle_file(str(bad)), phrase_id=PHRASE.id, learner_id=learner)
    with pytest.raises(AppError, match="teacher's reference recording: .*not a recording"):
        pronounce(client, native_phrase, reference_audio=handle_file(str(bad)), learner_id=learner)
    assert rows(database) == before


# ---- /compare ----

def test_compare_two_attempts(client, learner, speech, write, native_phrase, database):
    before = rows(database)
    wrong = handle_file(str(write(*speech)))
    comparison, summary, figure, spectrograms_a, spectrograms_b = client.predict(
        wrong, native_phrase, PHRASE.id, "", "en", None, learner, api_name="/compare")
    assert comparison["difference"]["overall"] > 20  # B (the native reading) beats A (another sentence)
    assert "Attempt B is better" in summary
    # A reads another sentence: its words are not compared with B's (issue 22)
    assert comparison["another_sentence"] == ["A"] and comparison["words"] == []
    assert "Attempt A sounds like another sentence" in summary
    assert None not in (figure, spectrograms_a, spectrograms_b)
    assert rows(database)["attempts"] == before["attempts"] + 1  # attempt B only


def test_compare_needs_both_attempts(client, native_phrase, database):
    before = rows(database)
    with pytest.raises(AppError, match="attempt B"):
        client.predict(native_phrase, None, PHRASE.id, "", "en", None, "", api_name="/compare")
    assert rows(database) == before


# ---- /recommend, /feedback, /history, export and delete ----

def test_learner_journey(client, learner, native_phrase, database, tmp_path):
    summary, text, figure = client.predict(learner, api_name="/history")
    assert "No scored attempts yet" in text
    recommendation, explanation = client.predict(learner, "en", api_name="/recommend")
    assert "Why:" in explanation and recommendation["exercise"]["language"] == "en"
    rec_id = recommendation["recommendation_id"]
    result, message = client.predict(learner, rec_id, True, api_name="/feedback")
    assert result["thumbs_up"] is True and "Thanks" in message
    pronounce(client, native_phrase, phrase_id=PHRASE.id, learner_id=learner, recommendation_id=rec_id)
    summary, text, figure = client.predict(learner, api_name="/history")
    assert {row["skill"]: row["attempts"] for row in summary}["overall"] == 1 and "1 attempt" in text
    assert "English (en), every phrase" in text
    summary, text, figure = client.predict(learner, "en", PHRASE.text, api_name="/history")  # that phrase alone
    assert {row["skill"]: row["attempts"] for row in summary}["overall"] == 1 and PHRASE.text[:20] in text
    exported = client.predict(learner, "json", api_name="/export")
    content = open(exported, encoding="utf-8").read()
    assert learner in content and '"thumbs_up": true' in content and f'"recommendation_id": {rec_id}' in content
    assert "attempt" in open(client.predict(learner, "csv", api_name="/export"), encoding="utf-8").read()

    before = rows(database)
    with pytest.raises(AppError, match="Tick the box"):
        client.predict(learner, False, api_name="/delete_learner")
    assert rows(database) == before
    message = client.predict(learner, True, api_name="/delete_learner")
    assert "Deleted: 1 practice attempt(s), 0 analysis(es), 1 recommendation(s) and 1 thumb(s)" in message
    assert rows(database)["learners"] == before["learners"] - 1
    with pytest.raises(AppError, match="No progress is stored"):
        client.predict(learner, api_name="/history")


@pytest.mark.parametrize("call, words", [
    (lambda c, me, other_rec: c.predict("", "en", api_name="/recommend"), "learner id is needed"),
    (lambda c, me, other_rec: c.predict(me, "xx", api_name="/recommend"), "no exercises"),
    (lambda c, me, other_rec: c.predict("", api_name="/history"), "learner id is needed"),
    (lambda c, me, other_rec: c.predict("C" * 32, api_name="/history"), "No progress is stored"),
    (lambda c, me, other_rec: c.predict(me, other_rec, True, api_name="/feedback"), "not found for this learner"),
    (lambda c, me, other_rec: c.predict(me, None, True, api_name="/feedback"), "recommendation first"),
    (lambda c, me, other_rec: c.predict(me, -3, True, api_name="/feedback"), "not a recommendation id"),
    (lambda c, me, other_rec: c.predict("", other_rec, True, api_name="/feedback"), "learner id is needed"),
    (lambda c, me, other_rec: c.predict(me, "xml", api_name="/export"), "(?i)json.*csv"),
], ids=["recommend-no-learner", "recommend-unknown-language", "history-no-learner", "history-unknown-learner",
        "feedback-other-learners", "feedback-no-recommendation", "feedback-bad-id", "feedback-no-learner",
        "export-bad-format"])
def test_learner_endpoints_refuse_bad_requests_without_writing(client, learner, database, call, words):
    other = client.predict(api_name="/new_learner")
    other_rec = client.predict(other, "en", api_name="/recommend")[0]["recommendation_id"]
    before = rows(database)
    with pytest.raises(AppError, match=words):
        call(client, learner, other_rec)
    assert rows(database) == before


def test_a_missing_model_stops_the_app_at_start(tmp_path):
    settings = settings_with_model(Settings(), tmp_path / "no-model-here")
    with pytest.raises(ModelMissingError, match="no trained model in .*no-model-here.*SPEAKSPHERE_MODEL"):
        app.build_app(replace(settings, store=StoreConfig(path=str(tmp_path / "db.sqlite3"))))


# ---- /speak ----

def test_speak_assesses_free_speech_and_keeps_it_apart(client, learner, native_phrase, database):
    before = rows(database)
    result, feedback = client.predict(native_phrase, "home-a1", "en", learner, api_name="/speak")
    timeline, words = client.predict(api_name="/speech_figures")
    assert result["language"] == "en" and "password" in result["transcript"].lower()
    assert 0 <= result["pronunciation"] <= 100 and result["prompt"]["id"] == "home-a1"
    assert "Overall" in feedback and "Tip" in feedback and timeline is not None and "<span" in words
    assert rows(database)["attempts"] == before["attempts"] + 1
    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT task, reference_text FROM attempts ORDER BY id DESC LIMIT 1").fetchone() == (
            "speak", "Describe your home.")


@pytest.mark.parametrize("prompt_id, language, words", [("no-such-prompt", "en", "no such prompt"),
                                                         ("home-a1", "xx", "cannot assess"),
                                                         ("home-a1", "fr", "You spoke English"),
                                                         ("home-a1", "", "Say which language")])
def test_speak_bad_inputs_get_clear_messages(client, learner, native_phrase, database, prompt_id, language, words):
    before = rows(database)
    with pytest.raises(AppError, match=words):
        client.predict(native_phrase, prompt_id, language, learner, api_name="/speak")
    assert rows(database) == before
