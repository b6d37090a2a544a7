"""The app served on a free loopback port, called with gradio_client like any outside client."""

import socket

import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

import app
from speaksphere.settings import Settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def client():
    settings = Settings()
    demo = app.build_app(settings)
    app.launch(demo, settings, server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True)
    try:
        yield Client(demo.local_url, verbose=False)
    finally:
        demo.close()


def test_analyze_reports_real_facts(client, speech_with_pause, write):
    wave, rate, planted = speech_with_pause
    facts, summary, figure = client.predict(handle_file(str(write(wave, rate))), api_name="/analyze")
    assert facts["duration_s"] == pytest.approx(len(wave) / rate, abs=0.01)
    assert facts["speech_s"] == pytest.approx(sum(end - start for start, end in planted), abs=0.4)
    assert facts["pauses"] >= 1 and facts["sample_rate_hz"] == rate
    assert "pause" in summary and "speech" in summary
    assert figure is not None


@pytest.mark.parametrize("payload, words", [
    (b"this is a text file, not audio" * 20, "not a recording"),
    (b"", "empty"),
], ids=["not-audio", "empty"])
def test_bad_upload_gets_a_clear_message(client, tmp_path, payload, words):
    path = tmp_path / "upload.wav"
    path.write_bytes(payload)
    with pytest.raises(AppError, match=words):
        client.predict(handle_file(str(path)), api_name="/analyze")


def test_silent_upload_gets_a_clear_message(client, write):
    with pytest.raises(AppError, match="could not hear any speech"):
        client.predict(handle_file(str(write(np.zeros(32000), 16000))), api_name="/analyze")


def test_missing_upload_gets_a_clear_message(client):
    with pytest.raises(AppError, match="record or upload"):
        client.predict(None, api_name="/analyze")
