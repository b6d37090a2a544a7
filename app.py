"""SpeakSphere's Gradio app. It wires the UI to speaksphere functions and holds no speech math.

Run `python app.py` and open http://127.0.0.1:7860. Every tab is also an API endpoint
(api_name "/analyze", ...) callable with gradio_client.
"""

from __future__ import annotations

import logging
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no calls home, also offline

import gradio as gr

from speaksphere import AudioError, load_recording, speech_facts, warm_up
from speaksphere.plots import plot_recording
from speaksphere.settings import Settings, load_settings

log = logging.getLogger("speaksphere.app")

INTRO = """# SpeakSphere
A speaking coach for language learners. Record yourself or upload a recording (WAV, MP3, FLAC or OGG,
up to 5 minutes) to see how you spoke."""


def _user_error(function):
    """Turn our errors into a message for the learner; never show a raw traceback."""

    def handler(*args):
        try:
            return function(*args)
        except gr.Error:
            raise
        except AudioError as error:
            raise gr.Error(str(error)) from error
        except Exception as error:  # a bug of ours: log it, tell the learner plainly
            log.exception("unexpected error in %s", function.__name__)
            raise gr.Error("Something went wrong on our side while analysing this recording. "
                           "Please try again; if it keeps happening, try another recording.") from error

    handler.__name__ = function.__name__
    handler.__doc__ = function.__doc__
    return handler


def describe_speech(facts: dict) -> str:
    """A few sentences a learner can read about their recording's timing and level."""
    lines = [
        f"**{facts['speech_s']:.1f} s of speech** in a {facts['duration_s']:.1f} s recording, "
        f"in {facts['speech_segments']} stretch(es).",
        f"**{facts['pauses']} pause(s)** of a quarter second or more"
        + (f", {facts['pause_total_s']:.1f} s in all, the longest {facts['longest_pause_s']:.1f} s." if facts["pauses"] else "."),
    ]
    level = facts["speech_level_dbfs"]
    if facts["peak_level_dbfs"] > -0.1:
        lines.append(f"**Level {level:.0f} dBFS:** the recording reaches full scale and may be distorted; "
                     "move a little away from the microphone.")
    elif level < -40:
        lines.append(f"**Level {level:.0f} dBFS:** very quiet; speak closer to the microphone.")
    else:
        lines.append(f"**Level {level:.0f} dBFS:** a good recording level.")
    return "\n\n".join(lines)


def make_analyze(settings: Settings):
    @_user_error
    def analyze(audio_path: str | None):
        """Facts about a recording: durations, pauses, level, and a spectrogram with speech marked."""
        if not audio_path:
            raise gr.Error("Please record or upload a recording first.")
        recording = load_recording(audio_path, settings.audio, settings.vad)
        facts = speech_facts(recording)
        return facts, describe_speech(facts), plot_recording(recording)

    return analyze


def build_app(settings: Settings | None = None) -> gr.Blocks:
    """The SpeakSphere Blocks app, not yet launched."""
    settings = settings or load_settings()
    warm_up()
    with gr.Blocks(title="SpeakSphere") as demo:
        gr.Markdown(INTRO)
        with gr.Tab("Analyze"):
            with gr.Row():
                with gr.Column(scale=1):
                    audio = gr.Audio(sources=["upload", "microphone"], type="filepath", label="Your recording")
                    button = gr.Button("Analyze", variant="primary")
                with gr.Column(scale=2):
                    summary = gr.Markdown(label="Summary")
                    facts = gr.JSON(label="Speech facts (seconds, dBFS)")
            figure = gr.Plot(label="Waveform and spectrogram (speech shaded)")
            button.click(make_analyze(settings), inputs=audio, outputs=[facts, summary, figure], api_name="analyze")
    return demo


def launch(demo: gr.Blocks, settings: Settings, **overrides):
    """Queue and launch; Hugging Face Spaces set GRADIO_SERVER_NAME/PORT, which win over the YAML."""
    server = settings.server
    demo.queue(default_concurrency_limit=server.concurrency, max_size=server.max_queue)
    options = dict(
        server_name=os.environ.get("GRADIO_SERVER_NAME", server.host),
        server_port=int(os.environ.get("GRADIO_SERVER_PORT", server.port)),
        max_file_size=f"{int(server.max_upload_mb)}mb",
        show_error=True,
    )
    options.update(overrides)
    return demo.launch(**options)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    app_settings = load_settings()
    launch(build_app(app_settings), app_settings)
