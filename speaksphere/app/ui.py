"""SpeakSphere's Gradio app: UI wiring only. The work is done by speaksphere.coach (no speech math here).

Run `python app.py` (or the installed `speaksphere` command) and open http://127.0.0.1:7860. Every tab is also an API endpoint callable with
gradio_client: "/analyze", "/pronounce", "/compare", "/recommend", "/feedback", "/history", plus
"/new_learner", "/export" and "/delete_learner" (see the README for calls).

Learner ids: the browser keeps the learner's id in gr.BrowserState (localStorage, encrypted); the UI copies
it into the `learner_id` input of every endpoint. API callers pass their own id (from "/new_learner") or
an empty string where it is optional ("/analyze", "/pronounce", "/compare": nothing is stored then).
"""

from __future__ import annotations

import functools
import logging
import os
import secrets
import sys
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no calls home, also offline

import gradio as gr

from .api import make_endpoints, user_error
from .guard import install_guard
from speaksphere.coach import Coach, ModelMissingError, load_coach
from speaksphere.coach.explain import LANGUAGE_NAMES, language_name
from speaksphere.coach.figures import answer_labels
from speaksphere.pronounce.references import SYNTHESIS_VOICES, library
from speaksphere.learner.recommend import RecommendConfig
from speaksphere.settings import Settings, load_settings

log = logging.getLogger("speaksphere.app")

INTRO = """# SpeakSphere
A speaking coach for language learners. Record yourself or upload a recording (WAV, MP3, FLAC or OGG,
up to 5 minutes): **Analyze** tells you what you spoke, **Pronounce** scores an attempt against a golden
reference, **Compare** shows what changed between two attempts, **Progress** keeps your history and suggests
what to practise next. Your progress is kept under an id stored in this browser only."""
ABOUT = (Path(__file__).resolve().parents[1] / "coach" / "about.md").read_text(encoding="utf-8")
REFERENCE_KINDS = ["Built-in phrase", "Type a text", "Teacher's recording"]


def plot(caption: str) -> gr.Plot:
    """A figure with its caption above it (gr.Plot's own label would cover the figure's title)."""
    gr.Markdown(f"**{caption}**")
    return gr.Plot(label=caption, show_label=False)


def picture(caption: str) -> gr.Image:
    """A picture drawn from arrays (speaksphere.pictures), with its caption above it."""
    gr.Markdown(f"**{caption}**")
    return gr.Image(label=caption, show_label=False, interactive=False, type="pil", format="jpeg")  # 3 ms, PNG 60


ANSWER_LABELS = {"language": "Language", "accent": "Accent (English speech; experimental)",
                 "emotion": "Emotion in the voice (experimental)", "command": "Voice command (single words)"}


def browser_secret(coach: Coach) -> str:
    """The key that encrypts the learner id in the browser: $SPEAKSPHERE_BROWSER_SECRET, else one kept
    next to the learner database, so ids survive a restart of the app."""
    if os.environ.get("SPEAKSPHERE_BROWSER_SECRET"):
        return os.environ["SPEAKSPHERE_BROWSER_SECRET"]
    path = coach.store.path.parent / "browser-secret"
    try:  # created private (0600) in one step: never readable by others, not even for a moment
        with os.fdopen(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600), "w") as file:
            file.write(secrets.token_urlsafe(32))
    except FileExistsError:
        pass
    return path.read_text().strip()


def reference_inputs():
    """The three ways to give a golden reference; only the chosen one's fields are shown and sent."""
    kind = gr.Radio(REFERENCE_KINDS, value=REFERENCE_KINDS[0], label="Reference to compare with")
    phrases = [(f"{LANGUAGE_NAMES.get(p.language, p.language)}: {p.text}", p.id) for p in library()]  # "French: ..."
    phrase = gr.Dropdown(phrases, value=phrases[0][1] if phrases else None, label="Built-in phrase (native speakers)",
                         allow_custom_value=True)  # an unknown id reaches the coach, which explains it
    text = gr.Textbox(label="Text", placeholder="Type the sentence you practise", visible=False)
    language = gr.Dropdown([(language_name(c), c) for c in SYNTHESIS_VOICES if c in LANGUAGE_NAMES], value="en",
                           label="Language of the text", visible=False,
                           allow_custom_value=True)
    teacher = gr.Audio(sources=["upload", "microphone"], type="filepath", label="Teacher's recording", visible=False)

    def choose(selected):  # hide and clear the fields of the other kinds, so they are not sent
        typed, upload = selected == REFERENCE_KINDS[1], selected == REFERENCE_KINDS[2]
        return (gr.Dropdown(visible=not typed and not upload, value=None if typed or upload else phrase.value),
                gr.Textbox(visible=typed or upload, value="",
                           label="Text (optional: enables word scores)" if upload else "Text"),
                gr.Dropdown(visible=typed or upload), gr.Audio(visible=upload, value=None))

    kind.input(choose, kind, [phrase, text, language, teacher], api_visibility="private", queue=False)
    return kind, phrase, text, language, teacher


def build_app(settings: Settings | None = None, recommend_config: RecommendConfig | None = None) -> gr.Blocks:
    """The SpeakSphere Blocks app, not yet launched; loads the model once (ModelMissingError if absent)."""
    settings = settings or load_settings()
    coach = load_coach(settings, recommend_config)
    api = make_endpoints(coach)
    audio_input = functools.partial(gr.Audio, sources=["upload", "microphone"], type="filepath")
    with gr.Blocks(title="SpeakSphere", delete_cache=(3600, 3600)) as demo:  # uploads leave within 2 h
        gr.Markdown(INTRO)
        # what the figure steps draw (a recording and its scoring, ~1 MB): kept 15 minutes per session
        analysis_drawing, pronunciation_drawing = gr.State(None, time_to_live=900), gr.State(None, time_to_live=900)
        learner_state = gr.BrowserState("", storage_key="speaksphere-learner", secret=browser_secret(coach))
        with gr.Tabs() as tabs:
            with gr.Tab("Analyze", id="analyze"):
                with gr.Row():
                    with gr.Column(scale=1):
                        audio = audio_input(label="Your recording", elem_id="analyze-audio")
                        analyze_button = gr.Button("Analyze", variant="primary")
                    with gr.Column(scale=2):
                        summary = gr.Markdown(label="Summary")
                        heard = gr.Markdown(label="What the model heard")
                with gr.Row():
                    answers = [gr.Label(label=title, num_top_classes=5) for title in ANSWER_LABELS.values()]
                predictions_figure = picture("The language over time")
                figure = picture("Your recording: waveform and spectrogram (speech shaded)")
                with gr.Accordion("All numbers (as the API returns them)", open=False):
                    facts = gr.JSON(label="Speech facts (seconds, dBFS)")
                    predictions = gr.JSON(label="Model predictions (probabilities 0-1)")
            with gr.Tab("Pronounce", id="pronounce"):
                with gr.Row():
                    with gr.Column(scale=1):
                        kind, phrase, text, language, teacher = reference_inputs()
                        listen_button = gr.Button("Listen to the reference")
                        reference_audio = gr.Audio(label="Reference", type="filepath", interactive=False)
                        attempt = audio_input(label="Your attempt", elem_id="pronounce-attempt")
                        recommendation_id = gr.Number(value=None, visible=False, precision=0)
                        pronounce_button = gr.Button("Score my attempt", variant="primary")
                    with gr.Column(scale=2):
                        feedback_text = gr.Markdown(label="Feedback")
                gr.Markdown("**Your words, coloured by score (red 0 to green 100)**")
                word_table = gr.HTML()
                spectrograms = picture("Reference (top) and your attempt (bottom); the weakest words shaded")
                pitch = picture("Your melody (pitch) against the reference's")
                with gr.Accordion("Alignment and all numbers", open=False):
                    dtw_path = picture("How your attempt was aligned with the reference (dynamic time warping)")
                    result = gr.JSON(label="Scores and details")
            with gr.Tab("Compare", id="compare"):
                with gr.Row():
                    with gr.Column(scale=1):
                        c_kind, c_phrase, c_text, c_language, c_teacher = reference_inputs()
                        attempt_a = audio_input(label="Attempt A (earlier)", elem_id="compare-a")
                        attempt_b = audio_input(label="Attempt B (later)", elem_id="compare-b")
                        compare_button = gr.Button("Compare", variant="primary")
                    with gr.Column(scale=2):
                        comparison_text = gr.Markdown(label="Summary")
                comparison_figure = plot("Scores of A and B, and each word")
                spectrograms_a = picture("Attempt A against the reference")
                spectrograms_b = picture("Attempt B against the reference")
                with gr.Accordion("All numbers", open=False):
                    comparison = gr.JSON(label="Both results and their differences")
            with gr.Tab("Progress", id="progress"):
                history_button = gr.Button("Show my progress", variant="primary")
                progress_text = gr.Markdown(label="Progress")
                progress_figure = plot("Your scores, attempt by attempt")
                with gr.Row():
                    rec_language = gr.Dropdown([("My latest language", "")] + [(language_name(c), c) for c in
                                               coach.recommender.catalogue.languages()], value="",
                                               label="Practise in", allow_custom_value=True)
                    recommend_button = gr.Button("Suggest an exercise")
                recommendation_text = gr.Markdown(label="Exercise")
                with gr.Row():
                    up_button = gr.Button("Thumbs up: helpful", size="sm")
                    down_button = gr.Button("Thumbs down: not for me", size="sm")
                    practise_button = gr.Button("Practise it on Pronounce", size="sm", variant="primary")
                thumb_text = gr.Markdown(label="Message")
                with gr.Accordion("My data: export or delete", open=False):
                    learner_id = gr.Textbox(elem_id="learner-id", label="Your learner id (kept in this browser; it is the only key to "
                                                  "your progress)", interactive=False)
                    with gr.Row():
                        export_format = gr.Radio(["json", "csv"], value="json", label="Export format")
                        export_button = gr.Button("Export my data")
                    export_file = gr.File(label="Your data")
                    confirm = gr.Checkbox(label="I understand that deleting removes all my progress for good")
                    delete_button = gr.Button("Delete my data", variant="stop")
                    delete_text = gr.Markdown(label="Deleted")
                summary_rows, recommendation, thumb_result = gr.JSON(visible=False), gr.JSON(visible=False), gr.JSON(visible=False)
                thumb, new_id_button = gr.Checkbox(visible=False), gr.Button(visible=False)
                shown_id = gr.Number(value=None, visible=False, precision=0)  # the shown recommendation's id
            with gr.Tab("About", id="about"):
                gr.Markdown(ABOUT.replace("{model}", coach.model_name))
                with gr.Accordion("The model card: how the model was trained and measured (for developers)",
                                  open=False):
                    gr.Markdown(_model_card(coach))

        # learner id: from the browser, checked against the store (a new one if unknown)
        demo.load(api["ensure_learner"], learner_state, learner_id, api_visibility="private", queue=False)
        learner_id.change(lambda x: x, learner_id, learner_state, api_visibility="private", queue=False)
        new_id_button.click(api["new_learner"], None, learner_id, api_name="new_learner")

        # scores and text first, figures next: drawing costs more than the analysis, so the answer never
        # waits for it (and API clients that need no figures never pay for them)
        analysed = analyze_button.click(
            lambda: (None,) * 6, None, [figure, predictions_figure, *answers], api_visibility="private",
            queue=False).then(
            api["analyze"], [audio, learner_id], [facts, summary, predictions, heard, analysis_drawing],
            api_name="analyze", concurrency_id="speech")
        analysed.success(_show_answers, predictions, answers, api_visibility="private", queue=False)
        analysed.success(api["analysis_figures"], analysis_drawing, [figure, predictions_figure],
                         api_name="analysis_figures", concurrency_id="figures", concurrency_limit=1)
        listen_button.click(user_error(lambda *a: coach.reference_preview(*a)["audio"]),
                            [phrase, text, language, teacher], reference_audio, api_visibility="private")
        pronounce_button.click(lambda: (None,) * 4, None, [spectrograms, pitch, word_table, dtw_path],
                               api_visibility="private", queue=False).then(
            api["pronounce"], [attempt, phrase, text, language, teacher, learner_id, recommendation_id],
            [result, feedback_text, reference_audio, pronunciation_drawing], api_name="pronounce",
            concurrency_id="speech").success(
            api["pronunciation_figures"], pronunciation_drawing, [spectrograms, pitch, word_table, dtw_path],
            api_name="pronunciation_figures", concurrency_id="figures", concurrency_limit=1)
        # a new reference makes the old results wrong: they leave the screen as soon as the learner changes it
        stale = [reference_audio, feedback_text, word_table, spectrograms, pitch, dtw_path, result, pronunciation_drawing,
                 recommendation_id]  # an attempt at another reference does not answer the recommendation
        for field in (kind, phrase, text, language, teacher):
            field.input(lambda: (None,) * len(stale), None, stale, api_visibility="private", queue=False)
        c_stale = [comparison, comparison_text, comparison_figure, spectrograms_a, spectrograms_b]
        for field in (c_kind, c_phrase, c_text, c_language, c_teacher):
            field.input(lambda: (None,) * len(c_stale), None, c_stale, api_visibility="private", queue=False)
        compare_button.click(api["compare"], [attempt_a, attempt_b, c_phrase, c_text, c_language, c_teacher, learner_id],
                             [comparison, comparison_text, comparison_figure, spectrograms_a, spectrograms_b],
                             api_name="compare", concurrency_id="speech")
        history_button.click(api["history"], learner_id, [summary_rows, progress_text, progress_figure],
                             api_name="history")
        recommend_button.click(api["recommend"], [learner_id, rec_language], [recommendation, recommendation_text],
                               api_name="recommend")
        recommendation.change(lambda r: (r or {}).get("recommendation_id"), recommendation, shown_id,
                              api_visibility="private", queue=False)
        up_button.click(lambda: True, None, thumb, api_visibility="private", queue=False).then(
            api["feedback"], [learner_id, shown_id, thumb], [thumb_result, thumb_text], api_name="feedback")
        down_button.click(lambda: False, None, thumb, api_visibility="private", queue=False).then(
            api["feedback"], [learner_id, shown_id, thumb], [thumb_result, thumb_text], api_visibility="private")
        practise_button.click(_practise, recommendation, [tabs, kind, phrase, text, language, recommendation_id,
                                                          reference_audio, attempt, feedback_text, word_table,
                                                          spectrograms, pitch, dtw_path, result],
                              api_visibility="private").then(
            lambda k, t, l: (gr.Dropdown(visible=k == REFERENCE_KINDS[0]), gr.Textbox(visible=k != REFERENCE_KINDS[0], value=t),
                             gr.Dropdown(visible=k != REFERENCE_KINDS[0], value=l)),
            [kind, text, language], [phrase, text, language], api_visibility="private")
        export_button.click(api["export"], [learner_id, export_format], export_file, api_name="export")
        delete_button.click(api["delete_learner"], [learner_id, confirm], delete_text, api_name="delete_learner").success(
            api["new_learner"], None, learner_id, api_visibility="private").then(
            lambda: (False, None, "", None), None, [confirm, recommendation, progress_text, progress_figure],
            api_visibility="private")
    return demo


def _show_answers(predictions: dict | None) -> list[gr.Label]:
    """Each question's answers as bars; a question the model did not answer (the accent of speech that is
    not English) is hidden rather than shown empty."""
    labels = answer_labels(predictions or {})
    return [gr.Label(value=labels.get(task), visible=task in labels) for task in ANSWER_LABELS]


def _practise(recommendation: dict | None):
    """Open the Pronounce tab on the recommended exercise's reference, linked to the recommendation."""
    if not recommendation:
        raise gr.Error("Ask for an exercise first (Suggest an exercise).", print_exception=False)
    reference = recommendation["exercise"]["reference"]
    kind = REFERENCE_KINDS[0] if reference.get("phrase_id") else REFERENCE_KINDS[1]
    phrase_id = reference.get("phrase_id")
    exercise = recommendation["exercise"]
    brief = (f"### Exercise: {exercise['title']}\n\n{exercise['instructions']}\n\nListen to the reference, then "
             "record your attempt and score it: it tells the coach how much this exercise helped.")
    return (gr.Tabs(selected="pronounce"), kind, phrase_id, "" if phrase_id else reference["text"],
            reference["language"], recommendation["recommendation_id"], None, None, brief, None, None, None, None, None)


def _model_card(coach: Coach) -> str:
    card = coach.model_dir / "MODEL_CARD.md"
    if card.is_file():
        return card.read_text(encoding="utf-8")
    return (f"The served model ({coach.model_name}) has no MODEL_CARD.md: its accuracy has not "
            "been measured on voices it never saw, so treat its answers with care.")


def launch(demo: gr.Blocks, settings: Settings, **overrides):
    """Queue and launch behind speaksphere.app.guard; Hugging Face Spaces set GRADIO_SERVER_NAME/PORT, which
    win over the YAML. Blocks until the server stops unless prevent_thread_lock=True."""
    server = settings.server
    demo.queue(default_concurrency_limit=server.concurrency, max_size=server.max_queue)
    options = dict(
        server_name=os.environ.get("GRADIO_SERVER_NAME", server.host),
        server_port=int(os.environ.get("GRADIO_SERVER_PORT", server.port)),
        max_file_size=f"{int(server.max_upload_mb * 1024)}kb",
        show_error=True,
    )
    options.update(overrides)
    keep_thread = options.pop("prevent_thread_lock", False)
    launched = demo.launch(**options, prevent_thread_lock=True)
    install_guard(demo.app, server.allowed_origins)
    if not keep_thread:
        demo.block_thread()
    return launched


def main() -> None:
    """`python app.py` or the `speaksphere` command: the app on the settings of speaksphere/settings.yaml."""
    logging.basicConfig(level=logging.INFO)
    app_settings = load_settings()
    try:
        demo = build_app(app_settings)
    except ModelMissingError as missing:
        sys.exit(str(missing))
    launch(demo, app_settings)


if __name__ == "__main__":
    main()
