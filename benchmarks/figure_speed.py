"""How long the app's figures take, as the app serves them: drawn, then encoded by gradio's component.

    python benchmarks/figure_speed.py [--runs 9]

At one thread (torch and BLAS), for a 10-s analysis (3 library recordings cut to 10 s) and a 4.9-s
espeak-ng attempt scored against a built-in phrase: each figure built and post-processed by the gradio
component that shows it (gr.Image as JPEG, gr.HTML, gr.Label), median of --runs after one
warm-up. The reference, measured in the same run: a bare matplotlib figure of the same 10-s
spectrogram (imshow, colour bar, axis labels) rendered to PNG, as the app drew it before (issue 22).
Issue 22's target: each figure <= 100 ms.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing

import gradio as gr  # noqa: E402
import soundfile as sf  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from bench import spoken_attempt  # noqa: E402
from speaksphere.audio import log_mel_spectrogram  # noqa: E402
from speaksphere.coach.figures import answer_labels, plot_predictions  # noqa: E402
from speaksphere.figures import plot_recording  # noqa: E402
from speaksphere.model import DEFAULT_MODEL_DIR, load_model  # noqa: E402
from speaksphere.pronounce import figures as plots  # noqa: E402
from speaksphere.pronounce.assess import assess  # noqa: E402
from speaksphere.pronounce.references import LIBRARY_DIR, library, library_reference  # noqa: E402
from speaksphere.recording import load_recording  # noqa: E402

TARGET_MS = 100.0


def median_ms(draw, show, runs: int) -> float:
    """Median milliseconds of draw() then show(result) (the component's postprocess), after a warm-up."""
    show(draw())
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        show(draw())
        times.append(1000 * (time.perf_counter() - started))
    return statistics.median(times)


def reference_figure(wave: np.ndarray) -> Figure:
    """The same spectrogram as a bare matplotlib figure (what the app drew before)."""
    mel = log_mel_spectrogram(wave)
    figure = Figure(figsize=(10, 4.6), dpi=72)
    axis = figure.subplots()
    image = axis.imshow(mel, origin="lower", aspect="auto", cmap="magma", vmin=-80, vmax=0, interpolation="nearest",
                        extent=(0, mel.shape[1] / 100, 0, mel.shape[0]))
    axis.set_xlabel("time (s)")
    axis.set_ylabel("mel band")
    figure.colorbar(image, ax=axis, label="level (dB)")
    return figure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    torch.set_num_threads(1)
    clips = [load_recording(str(LIBRARY_DIR / p.file)).wave for p in library("en")[:3]]
    ten = np.concatenate(clips * 4)[: 10 * 16000]
    buffer = io.BytesIO()
    sf.write(buffer, ten, 16000, format="WAV")
    recording = load_recording(buffer.getvalue())
    predictions = load_model(DEFAULT_MODEL_DIR).analyze_recording(recording)
    attempt_bytes, attempt_s = spoken_attempt()
    attempt = load_recording(attempt_bytes)
    reference = library_reference("en-auth-incorrect")
    assessment = assess(attempt, reference, reference.text, reference.language).for_figures()
    image, plot, html, label = gr.Image(type="pil", format="jpeg"), gr.Plot(), gr.HTML(), gr.Label()  # as app.py

    rows = [
        ("reference: matplotlib spectrogram figure, 10 s", lambda: reference_figure(ten), plot.postprocess),
        ("analysis: recording (waveform + spectrogram), 10 s", lambda: plot_recording(recording), image.postprocess),
        ("analysis: language over time, 10 s", lambda: plot_predictions(predictions, recording.duration_s),
         image.postprocess),
        ("analysis: the four answers (gr.Label)", lambda: answer_labels(predictions),
         lambda answers: [label.postprocess(v) for v in answers.values()]),
        (f"pronounce: spectrograms, {attempt_s:.1f}-s attempt", lambda: plots.spectrograms(assessment),
         image.postprocess),
        ("pronounce: word table (HTML)", lambda: plots.word_table(assessment), html.postprocess),
        ("pronounce: pitch", lambda: plots.pitch(assessment), image.postprocess),
        ("pronounce: alignment path", lambda: plots.dtw_path(assessment), image.postprocess),
    ]
    results = [(name, median_ms(draw, show, args.runs)) for name, draw, show in rows]
    reference_ms = results[0][1]
    print(f"| figure (drawn + encoded by its gradio component, 1 thread) | median ms | vs reference "
          f"| <= {TARGET_MS:.0f} ms |")
    print("|---|---:|---:|---|")
    for name, ms in results:
        print(f"| {name} | {ms:.1f} | {ms / reference_ms:.2f} | {'yes' if ms <= TARGET_MS else 'no'} |")


if __name__ == "__main__":
    main()
