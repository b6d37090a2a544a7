"""Malformed requests through the app's API, as an outside gradio_client caller sends them: every one is
refused with a clear message (never the "something went wrong on our side" of an unexpected error), and
refused requests leave the learner database exactly as it was, although each names a real learner.

One server for the module (an untrained model of the tiny architecture, conftest.tiny_model_dir). About
150 requests: each malformed recording of tests/test_fuzz_audio.py's kinds in every audio input of
"/analyze", "/pronounce" and "/compare", random bytes, and bad learner and recommendation ids. Select
these tests alone with `python -m pytest tests/test_fuzz_api.py`.
"""

from __future__ import annotations

import io
import sqlite3
import struct
from dataclasses import replace

import httpx
import numpy as np
import pytest
import soundfile as sf
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from launching import serve_app
from speaksphere.coach import settings_with_model
from speaksphere.settings import Settings

TEXT = "Good morning."
OUR_FAULT = "went wrong on our side"  # the app's message for an exception it did not expect: a bug
TABLES = ("learners", "attempts", "recommendations", "feedback", "policy_states")


@pytest.fixture(scope="module")
def client(tiny_model_dir, database):
    settings = settings_with_model(Settings(), tiny_model_dir)
    # one client uploading hundreds of files in minutes: over the per-client budget (test_upload_budget's)
    settings = replace(settings, server=replace(settings.server, uploads_per_10_min=10_000, upload_mb_per_10_min=1e6))
    with serve_app(settings, database) as demo:
        yield Client(demo.local_url, verbose=False)


@pytest.fixture(scope="module")
def learner(client):
    return client.predict(api_name="/new_learner")


@pytest.fixture(scope="module")
def good(speech, tmp_path_factory):
    """A usable recording, for the other audio input of a request."""
    path = tmp_path_factory.mktemp("good") / "good.wav"
    sf.write(path, *speech)
    return path


def contents(database) -> dict[str, list]:
    """Every row of every table: a refused request must leave all of them unchanged."""
    with sqlite3.connect(database) as conn:
        return {table: conn.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall() for table in TABLES}


def encode(samples: np.ndarray, rate: int, fmt: str = "WAV", subtype: str | None = None) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format=fmt, subtype=subtype)
    return buffer.getvalue()


def malformed(speech) -> dict[str, bytes]:
    """One of each kind of bad recording (all must be refused, none decodes to usable speech)."""
    samples, rate = speech
    wav, flac = encode(samples, rate), encode(samples, rate, "FLAC")
    ogg, mp3 = encode(samples, rate, "OGG", "VORBIS"), encode(samples, rate, "MP3", "MPEG_LAYER_III")
    huge = bytearray(wav)
    huge[40:44] = struct.pack("<I", 2**31)  # the data chunk claims 2 GB
    nan = samples.copy()
    nan[1000:1010] = np.nan
    return {
        "random-bytes": np.random.default_rng(0).integers(0, 256, 3000, dtype=np.uint8).tobytes(),
        "text": b"not audio at all\n" * 100,
        "zero-length": b"",
        "wav-header-only": wav[:44],
        "wav-truncated": wav[: len(wav) // 2],
        "flac-truncated": flac[: len(flac) // 2],
        "ogg-truncated": ogg[: len(ogg) // 2],
        "mp3-truncated": mp3[:200],
        "huge-declared-size": bytes(huge),
        "nan-samples": encode(nan, rate, subtype="FLOAT"),
        "rate-1000-hz": encode(samples[:2000], 1000, subtype="FLOAT"),
        "rate-768-khz": encode(samples, 768000, subtype="FLOAT"),
        "40-channels": encode(np.repeat(samples[: rate // 2, None], 40, axis=1), rate, subtype="PCM_16"),
        "too-short": encode(samples[: rate // 10], rate),
        "silence": encode(np.zeros(2 * rate, dtype=np.float32), rate),
    }


def refused_cleanly(call, database) -> str:
    """The call is refused with a short, clear message and the database is unchanged. A refusal is an
    AppError, or for an overlong value the HTTP guard's 413 (speaksphere/app/guard.py) before gradio reads it."""
    before = contents(database)
    with pytest.raises((AppError, httpx.HTTPStatusError)) as caught:
        call()
    if isinstance(caught.value, httpx.HTTPStatusError):
        assert caught.value.response.status_code == 413
        message = caught.value.response.json()["error"]
    else:
        message = str(caught.value)
    assert OUR_FAULT not in message and "Traceback" not in message, message
    assert 10 < len(message) < 400, message
    assert contents(database) == before, f"a refused request changed the learner database ({message})"
    return message


# the audio inputs of each endpoint: (name, how to call it with the bad file in that input)
INPUTS = {
    "analyze": lambda c, bad, good, who: c.predict(bad, who, api_name="/analyze"),
    "pronounce-attempt": lambda c, bad, good, who: c.predict(bad, "", TEXT, "en", None, who, None,
                                                             api_name="/pronounce"),
    "pronounce-reference": lambda c, bad, good, who: c.predict(good, "", TEXT, "en", bad, who, None,
                                                               api_name="/pronounce"),
    "compare-a": lambda c, bad, good, who: c.predict(bad, good, "", TEXT, "en", None, who, api_name="/compare"),
    "compare-b": lambda c, bad, good, who: c.predict(good, bad, "", TEXT, "en", None, who, api_name="/compare"),
}


@pytest.mark.parametrize("endpoint", sorted(INPUTS))
def test_every_malformed_recording_in_every_audio_input(client, learner, database, speech, good, tmp_path, endpoint):
    send = INPUTS[endpoint]
    for kind, payload in malformed(speech).items():
        path = tmp_path / f"{kind}.wav"
        path.write_bytes(payload)
        refused_cleanly(lambda path=path: send(client, handle_file(str(path)), handle_file(str(good)), learner),
                        database)


@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(payload=st.binary(min_size=1, max_size=2048), suffix=st.sampled_from(["wav", "mp3", "ogg", "flac", "bin"]))
def test_random_bytes_to_analyze(client, learner, database, tmp_path_factory, payload, suffix):
    path = tmp_path_factory.mktemp("fuzz") / f"upload.{suffix}"
    path.write_bytes(payload)
    refused_cleanly(lambda: client.predict(handle_file(str(path)), learner, api_name="/analyze"), database)


BAD_IDS = ["", " ", "x", "A" * 31, "A" * 33, "A" * 32, "' OR 1=1 --" + "A" * 21, "../../etc/passwd" + "A" * 16,
           "\x00" * 32, "é" * 32, "A" * 10_000]


@pytest.mark.parametrize("learner_id", BAD_IDS, ids=range(len(BAD_IDS)))
def test_bad_learner_ids(client, database, learner_id):
    refused_cleanly(lambda: client.predict(learner_id, api_name="/history"), database)
    refused_cleanly(lambda: client.predict(learner_id, "", api_name="/recommend"), database)
    refused_cleanly(lambda: client.predict(learner_id, 1, True, api_name="/feedback"), database)


# JSON has no NaN or inf
@pytest.mark.parametrize("recommendation_id", [-1, 0, 10**12, 2**63, 1.5, None, "7; DROP TABLE feedback"])
def test_bad_recommendation_ids(client, learner, database, recommendation_id):
    refused_cleanly(lambda: client.predict(learner, recommendation_id, True, api_name="/feedback"), database)


@pytest.mark.parametrize("answer", ["false", "False", "no", "0", "maybe", 0, 1, None, "true"])
def test_booleans_must_be_booleans(client, learner, database, answer):
    """confirm="false" once deleted a learner's data, and thumbs_up="no" stored a thumbs up."""
    recommendation = client.predict(learner, "en", api_name="/recommend")[0]["recommendation_id"]
    message = refused_cleanly(lambda: client.predict(learner, recommendation, answer, api_name="/feedback"), database)
    assert "true" in message and "false" in message
    refused_cleanly(lambda: client.predict(learner, answer, api_name="/delete_learner"), database)
    assert client.predict(learner, api_name="/history")  # the learner is still there


@pytest.mark.parametrize("text", ["[[" + "a:" * 104 + "]]", "[[S'i:p]] [[", "]] [[a:"])
def test_phoneme_brackets_are_read_as_letters_and_the_server_goes_on(client, good, text):
    """`[[` + `a:` x 104 + `]]` typed as the text once crashed libespeak-ng (it was read as phonemes) and
    took the server down: the text is now read as written, in espeak-ng's worker process."""
    try:
        client.predict(handle_file(str(good)), "", text, "en", None, "", None, api_name="/pronounce")
    except AppError as refusal:  # a refusal is fine, as long as it is a clear one
        assert OUR_FAULT not in str(refusal) and "Traceback" not in str(refusal)
    answer = client.predict(handle_file(str(good)), "", TEXT, "en", None, "", None, api_name="/pronounce")
    assert answer, "the server stopped answering after the bracket text"
