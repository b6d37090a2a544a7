"""SpeakSphere's Gradio app: UI wiring only. The work is done by speaksphere.coach (no speech math here).

Run `python app.py` (or the installed `speaksphere` command) and open http://127.0.0.1:7860. Every tab
is also an API endpoint callable with gradio_client: "/analyze", "/pronounce", "/speak", "/compare",
"/recommend", "/feedback", "/history", plus "/new_learner", "/export" and "/delete_learner" (see the
README for calls).

Learner ids: the browser keeps the learner's id in gr.BrowserState (localStorage, encrypted); the UI copies
it into the `learner_id` input of every endpoint. API callers pass their own id (from "/new_learner") or
an empty string where it is optional ("/analyze", "/pronounce", "/compare": nothing is stored then).
"""

from __future__ import annotations

import logging
import os
import secrets
import sys
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no calls home, also offline

import gradio as gr
import threadpoolctl
import torch

from speaksphere.coach import Coach, ModelMissingError, load_coach
from speaksphere.coach.explain import LANGUAGE_NAMES, language_name
from speaksphere.coach.figures import answer_labels
from speaksphere.learner.recommend import RecommendConfig
from speaksphere.pronounce.references import SYNTHESIS_VOICES, library, library_phrase
from speaksphere.settings import DEFAULT_SETTINGS_PATH, Settings, load_settings
from speaksphere.speak.prompts import LEVELS, prompts

from .api import make_endpoints, trusted_networks, user_error
from .fairness import install_fair_queue
from .guard import allowed_hosts, install_guard
from .memory import limit_arenas
from .quiet import install_quiet_input_errors
from .uploads import UPLOAD_CLEANUP, UploadBudget

log = logging.getLogger("speaksphere.app")

INTRO = """# SpeakSphere
A speaking coach for language learners. Record yourself or upload a recording (WAV, MP3, FLAC or OGG,
up to 5 minutes): **Analyze** tells you what you spoke, **Pronounce** scores an attempt against a golden
reference, **Speak** assesses you talking freely about a topic, **Compare** shows what changed between two
attempts, **Progress** keeps your history and suggests what to practise next. Your progress is kept under
an id stored in this browser only."""
ABOUT = (Path(__file__).resolve().parents[1] / "coach" / "about.md").read_text(encoding="utf-8")
REFERENCE_KINDS = ["Built-in phrase", "Type a text", "Teacher's recording"]


def plot(caption: str) -> gr.Plot:
    """A figure with its caption above it (gr.Plot's own label would cover the figure's title)."""
    gr.Markdown(f"**{caption}**")
    return gr.Plot(label=caption, show_label=False)


def picture(caption: str) -> gr.Image:
    """A picture drawn from arrays (speaksphere.figures), with its caption above it."""
    gr.Markdown(f"**{caption}**")
    return gr.Image(label=caption, show_label=False, interactive=False, type="pil", format="jpeg")  # 3 ms, PNG 60


ANSWER_LABELS = {"language": "Language", "accent": "Accent (English speech; experimental)",
                 "emotion": "Emotion in the voice (experimental)", "command": "Voice command (single words)"}


def browser_secret(coach: Coach) -> str:
    """The key that encrypts the learner id in the browser: $SPEAKSPHERE_BROWSER_SECRET, else one kept
    next to the learner database, so ids survive a restart of the app."""
    if os.environ.get("SPEAKSPHERE_BROWSER_SECRET"):
        return os.environ["SPEAKSPHERE_BROWSER_SECRET"]
    if coach.store.path is None:  # a database server: every replica must encrypt ids with the same key
        raise RuntimeError("SpeakSphere cannot start: with the learner store on a database server, set "
                           "SPEAKSPHERE_BROWSER_SECRET to one secret that every replica shares.")
    path = coach.store.path.parent / "browser-secret"
    try:  # created private (0600) in one step: never readable by others, not even for a moment
        with os.fdopen(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600), "w") as file:
            file.write(secrets.token_urlsafe(32))
    except FileExistsError:
        pass
    return path.read_text().strip()


ALL = ""  # a filter left open
LEVEL_FILTERS = [("All levels", ALL), *((level, level) for level in ("A1", "A2", "B1", "B2")),
                 ("Native telephone prompts", "telephone")]


def phrase_choices(language: str = ALL, level: str = ALL) -> list[tuple[str, str]]:
    """The built-in phrases as (label, id) for the dropdown, of one language and level (ALL: any; level
    "telephone": the native recordings). Learners' phrases first, by language and level; each label says
    whether a computer voice or a person reads it: "French: Salut, ça va ? (A1, greetings; synthetic voice)"."""
    phrases = [p for p in library(language or None) if level in (ALL, p.level or p.topic)]
    # learners' first, English first; a stable sort: topics keep their order within a level
    phrases.sort(key=lambda p: (not p.synthetic, p.language != "en", p.language, p.level or ""))
    return [(f"{LANGUAGE_NAMES.get(p.language, p.language)}: {p.text} "
             + (f"({p.level}, {p.topic.replace('_', ' ')}; synthetic voice)" if p.synthetic else
                "(telephone prompt; native recording)"), p.id) for p in phrases]


def _phrase_filters():
    """Language and level dropdowns that narrow the built-in phrase list."""
    languages = dict.fromkeys(p.language for p in library())
    with gr.Row() as row:
        language = gr.Dropdown([("All languages", ALL), *((LANGUAGE_NAMES.get(c, c), c) for c in languages)], value=ALL,
                               label="Phrases in")
        level = gr.Dropdown(LEVEL_FILTERS, value=ALL, label="Level (CEFR)")
    return row, language, level


def reference_inputs(tab: str):
    """The three ways to give a golden reference in `tab` ("pronounce" or "compare": the elements' ids); only the
    chosen one's fields are shown and sent."""
    kind = gr.Radio(REFERENCE_KINDS, value=REFERENCE_KINDS[0], label="Reference to compare with")
    filters, phrase_language, phrase_level = _phrase_filters()
    phrases = phrase_choices()
    phrase = gr.Dropdown(phrases, value=phrases[0][1] if phrases else None, label="Built-in phrase",
                         allow_custom_value=True)  # an unknown id reaches the coach, which explains it

    def narrow(language, level):  # the first phrase of the narrowed list is chosen
        choices = phrase_choices(language, level)
        return gr.Dropdown(choices=choices, value=choices[0][1] if choices else None)

    def follow(phrase_id, language, level):  # a phrase set from elsewhere (a recommendation) that they hide opens them
        chosen = library_phrase(phrase_id)
        if chosen is None or (language in (ALL, chosen.language) and level in (ALL, chosen.level or chosen.topic)):
            return gr.skip(), gr.skip(), gr.skip()
        return ALL, ALL, gr.Dropdown(choices=phrase_choices())

    for field in (phrase_language, phrase_level):
        field.input(narrow, [phrase_language, phrase_level], phrase, api_visibility="private", queue=False)
    phrase.change(follow, [phrase, phrase_language, phrase_level], [phrase_language, phrase_level, phrase],
                  api_visibility="private", queue=False)
    kind.change(lambda k: gr.Row(visible=k == REFERENCE_KINDS[0]), kind, filters, api_visibility="private", queue=False)
    text = gr.Textbox(label="Text", placeholder="Type the sentence you practise", visible=False)
    language = gr.Dropdown([(language_name(c), c) for c in SYNTHESIS_VOICES if c in LANGUAGE_NAMES], value="en",
                           label="Language of the text", visible=False,
                           allow_custom_value=True)
    teacher = gr.Audio(sources=["upload", "microphone"], type="filepath", label="Teacher's recording", visible=False,
                       elem_id=f"{tab}-teacher")

    def choose(selected):  # hide and clear the fields of the other kinds, so they are not sent
        typed, upload = selected == REFERENCE_KINDS[1], selected == REFERENCE_KINDS[2]
        return (gr.Dropdown(visible=not typed and not upload, value=None if typed or upload else phrase.value),
                gr.Textbox(visible=typed or upload, value="",
                           label="Text (optional: else the words the listener hears in it)" if upload else "Text"),
                gr.Dropdown(visible=typed or upload), gr.Audio(visible=upload, value=None))

    kind.input(choose, kind, [phrase, text, language, teacher], api_visibility="private", queue=False)
    return kind, phrase, text, language, teacher


def build_app(settings: Settings | None = None, recommend_config: RecommendConfig | None = None) -> gr.Blocks:
    """The SpeakSphere Blocks app, not yet launched; loads the model once (ModelMissingError if absent).
    Each tab is laid out by its own function and wired by another; they share the learner id."""
    settings = settings or load_settings()
    if settings.server.release_memory:
        limit_arenas(2)  # before the model and the serving threads allocate
    coach = load_coach(settings, recommend_config)
    api = make_endpoints(coach)
    with gr.Blocks(title="SpeakSphere", delete_cache=UPLOAD_CLEANUP) as demo:  # uploads leave within 15 min
        gr.Markdown(INTRO)
        # the token of what the figure steps draw (coach.drawings keeps it, bounded in bytes), per session
        analysis_drawing, pronunciation_drawing = gr.State(None, time_to_live=900), gr.State(None, time_to_live=900)
        speech_drawing = gr.State(None, time_to_live=900)
        learner_state = gr.BrowserState("", storage_key="speaksphere-learner", secret=browser_secret(coach))
        with gr.Tabs() as tabs:
            with gr.Tab("Analyze", id="analyze"):
                analyze = _analyze_tab()
            with gr.Tab("Pronounce", id="pronounce"):
                pronounce = _pronounce_tab()
            with gr.Tab("Speak", id="speak"):
                speak = _speak_tab()
            with gr.Tab("Compare", id="compare"):
                compare = _compare_tab()
            with gr.Tab("Progress", id="progress"):
                progress = _progress_tab(coach)
            with gr.Tab("About", id="about"):
                _about_tab(coach)
        learner_id = progress.learner_id
        _wire_learner(api, demo, learner_state, progress)
        _wire_analyze(api, analyze, learner_id, analysis_drawing)
        _wire_pronounce(api, coach, pronounce, learner_id, pronunciation_drawing)
        _wire_speak(api, speak, learner_id, speech_drawing)
        _wire_compare(api, compare, learner_id)
        _wire_progress(api, progress, pronounce, tabs, learner_id)
    return demo


def _audio_input(label: str, elem_id: str) -> gr.Audio:
    return gr.Audio(sources=["upload", "microphone"], type="filepath", label=label, elem_id=elem_id)


def _analyze_tab() -> SimpleNamespace:
    """The Analyze tab's components: a recording in; summary, the four answers, two pictures, the numbers out."""
    with gr.Row():
        with gr.Column(scale=1):
            audio = _audio_input("Your recording", "analyze-audio")
            button = gr.Button("Analyze", variant="primary")
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
    return SimpleNamespace(audio=audio, button=button, summary=summary, heard=heard, answers=answers,
                           predictions_figure=predictions_figure, figure=figure, facts=facts, predictions=predictions)


def _pronounce_tab() -> SimpleNamespace:
    """The Pronounce tab's components: a reference and an attempt in; feedback, word table, pictures out."""
    with gr.Row():
        with gr.Column(scale=1):
            kind, phrase, text, language, teacher = reference_inputs("pronounce")
            listen_button = gr.Button("Listen to the reference")
            reference_audio = gr.Audio(label="Reference", type="filepath", interactive=False)
            attempt = _audio_input("Your attempt", "pronounce-attempt")
            recommendation_id = gr.Number(value=None, visible=False, precision=0)
            button = gr.Button("Score my attempt", variant="primary")
        with gr.Column(scale=2):
            feedback_text = gr.Markdown(label="Feedback")
    gr.Markdown("**Your words, coloured by score (red 0 to green 100)**")
    word_table = gr.HTML()
    spectrograms = picture("Reference (top) and your attempt (bottom); the weakest words shaded")
    pitch = picture("Your melody (pitch) against the reference's")
    with gr.Accordion("Alignment and all numbers", open=False):
        dtw_path = picture("How your attempt was aligned with the reference (dynamic time warping)")
        result = gr.JSON(label="Scores and details")
    return SimpleNamespace(kind=kind, phrase=phrase, text=text, language=language, teacher=teacher,
                           listen_button=listen_button, reference_audio=reference_audio, attempt=attempt,
                           recommendation_id=recommendation_id, button=button, feedback_text=feedback_text,
                           word_table=word_table, spectrograms=spectrograms, pitch=pitch, dtw_path=dtw_path,
                           result=result)


def _prompt_choices(language: str, level: str) -> list[tuple[str, str]]:
    return [(p.text, p.id) for p in prompts(language, level or None)]


def _speak_tab() -> SimpleNamespace:
    """The Speak tab's components: a prompt (language, level) and a spoken answer in; scores, the words
    coloured by score on a timeline, and one tip out."""
    languages = sorted({p.language for p in prompts()}, key=lambda c: (c != "en", language_name(c)))
    with gr.Row():
        with gr.Column(scale=1):
            with gr.Row():
                language = gr.Dropdown([(language_name(c), c) for c in languages], value="en", label="Language",
                                       allow_custom_value=True, elem_id="speak-language")  # other codes reach the coach
                level = gr.Dropdown([("Any level", "")] + [(lv, lv) for lv in LEVELS], value="A1", label="Level (CEFR)",
                                    elem_id="speak-level")
            choices = _prompt_choices("en", "A1")
            prompt = gr.Dropdown(choices, value=choices[0][1], label="Talk about", allow_custom_value=True)
            audio = gr.Audio(sources=["upload", "microphone"], type="filepath", elem_id="speak-audio",
                             label="Your answer (speak freely, up to 2 minutes)")
            button = gr.Button("Assess my speaking", variant="primary")
        with gr.Column(scale=2):
            feedback_text = gr.Markdown(label="Feedback")
    gr.Markdown("**The words the listener heard, coloured by how clearly they came across (red 0 to green 100)**")
    word_table = gr.HTML()
    timeline = picture("Your answer over time: the words, your pauses and your speech rate")
    with gr.Accordion("All numbers", open=False):
        result = gr.JSON(label="Scores and measures")
    return SimpleNamespace(language=language, level=level, prompt=prompt, audio=audio, button=button,
                           feedback_text=feedback_text, word_table=word_table, timeline=timeline, result=result)


def _compare_tab() -> SimpleNamespace:
    """The Compare tab's components: a reference and two attempts in; what changed out."""
    with gr.Row():
        with gr.Column(scale=1):
            kind, phrase, text, language, teacher = reference_inputs("compare")
            attempt_a = _audio_input("Attempt A (earlier)", "compare-a")
            attempt_b = _audio_input("Attempt B (later)", "compare-b")
            button = gr.Button("Compare", variant="primary")
        with gr.Column(scale=2):
            summary = gr.Markdown(label="Summary")
    figure = plot("Scores of A and B, and each word")
    spectrograms_a = picture("Attempt A against the reference")
    spectrograms_b = picture("Attempt B against the reference")
    with gr.Accordion("All numbers", open=False):
        comparison = gr.JSON(label="Both results and their differences")
    return SimpleNamespace(kind=kind, phrase=phrase, text=text, language=language, teacher=teacher,
                           attempt_a=attempt_a, attempt_b=attempt_b, button=button, summary=summary, figure=figure,
                           spectrograms_a=spectrograms_a, spectrograms_b=spectrograms_b, comparison=comparison)


def _progress_tab(coach: Coach) -> SimpleNamespace:
    """The Progress tab's components: history, a recommended exercise with thumbs, the learner's data."""
    ui = SimpleNamespace()
    with gr.Row():  # one language and one phrase (or all of its phrases) at a time: scores of different texts differ
        ui.progress_language = gr.Dropdown([], value="", label="Language", allow_custom_value=True)
        ui.progress_item = gr.Dropdown([("Every phrase", "")], value="", label="Phrase or exercise",
                                       allow_custom_value=True)
        ui.history_button = gr.Button("Show my progress", variant="primary")
    ui.text = gr.Markdown(label="Progress")
    ui.figure = plot("Your scores, attempt by attempt")
    with gr.Row():
        ui.language = gr.Dropdown([("My latest language", "")] + [(language_name(c), c) for c in
                                  coach.recommender.catalogue.languages()], value="",
                                  label="Practise in", allow_custom_value=True)
        ui.recommend_button = gr.Button("Suggest an exercise")
    ui.recommendation_text = gr.Markdown(label="Exercise")
    with gr.Row():
        ui.up_button = gr.Button("Thumbs up: helpful", size="sm")
        ui.down_button = gr.Button("Thumbs down: not for me", size="sm")
        ui.practise_button = gr.Button("Practise it on Pronounce", size="sm", variant="primary")
    ui.thumb_text = gr.Markdown(label="Message")
    with gr.Accordion("My data: export or delete", open=False):
        ui.learner_id = gr.Textbox(elem_id="learner-id", label="Your learner id (kept in this browser; it is the only "
                                   "key to your progress)", interactive=False)
        with gr.Row():
            ui.export_format = gr.Radio(["json", "csv"], value="json", label="Export format")
            ui.export_button = gr.Button("Export my data")
        ui.export_file = gr.File(label="Your data")
        ui.confirm = gr.Checkbox(label="I understand that deleting removes all my progress for good")
        ui.delete_button = gr.Button("Delete my data", variant="stop")
        ui.delete_text = gr.Markdown(label="Deleted")
    ui.summary_rows, ui.recommendation, ui.thumb_result = (gr.JSON(visible=False), gr.JSON(visible=False),
                                                           gr.JSON(visible=False))
    ui.thumb, ui.new_id_button = gr.Checkbox(visible=False), gr.Button(visible=False)
    ui.shown_id = gr.Number(value=None, visible=False, precision=0)  # the shown recommendation's id
    return ui


def _about_tab(coach: Coach) -> None:
    gr.Markdown(ABOUT.replace("{model}", coach.model_name))
    with gr.Accordion("The model card: how the model was trained and measured (for developers)", open=False):
        gr.Markdown(_model_card(coach))


def _wire_learner(api: dict, demo: gr.Blocks, learner_state, progress: SimpleNamespace) -> None:
    """The learner id: from the browser, checked against the store (a new one if unknown)."""
    demo.load(api["ensure_learner"], learner_state, progress.learner_id, api_visibility="private", queue=False)
    progress.learner_id.change(lambda x: x, progress.learner_id, learner_state, api_visibility="private", queue=False)
    progress.new_id_button.click(api["new_learner"], None, progress.learner_id, api_name="new_learner")


def _wire_analyze(api: dict, ui: SimpleNamespace, learner_id, drawing) -> None:
    """Scores and text first, figures next: drawing costs more than the analysis, so the answer never
    waits for it (and API clients that need no figures never pay for them)."""
    analysed = ui.button.click(
        lambda: (None,) * 6, None, [ui.figure, ui.predictions_figure, *ui.answers], api_visibility="private",
        queue=False).then(
        api["analyze"], [ui.audio, learner_id], [ui.facts, ui.summary, ui.predictions, ui.heard, drawing],
        api_name="analyze", concurrency_id="speech")
    analysed.success(_show_answers, ui.predictions, ui.answers, api_visibility="private", queue=False)
    analysed.success(api["analysis_figures"], drawing, [ui.figure, ui.predictions_figure],
                     api_name="analysis_figures", concurrency_id="figures", concurrency_limit=1)


def _wire_pronounce(api: dict, coach: Coach, ui: SimpleNamespace, learner_id, drawing) -> None:
    """Listen to the reference; score an attempt, then draw its figures; a new reference clears old results."""
    ui.listen_button.click(user_error(lambda *a: coach.reference_preview(*a)["audio"]),
                           [ui.phrase, ui.text, ui.language, ui.teacher], ui.reference_audio, api_visibility="private")
    figures = [ui.spectrograms, ui.pitch, ui.word_table, ui.dtw_path]
    ui.button.click(lambda: (None,) * 4, None, figures, api_visibility="private", queue=False).then(
        api["pronounce"], [ui.attempt, ui.phrase, ui.text, ui.language, ui.teacher, learner_id, ui.recommendation_id],
        [ui.result, ui.feedback_text, ui.reference_audio, drawing], api_name="pronounce",
        concurrency_id="speech").success(
        api["pronunciation_figures"], drawing, figures,
        api_name="pronunciation_figures", concurrency_id="figures", concurrency_limit=1)
    # a new reference makes the old results wrong: they leave the screen as soon as the learner changes it
    stale = [ui.reference_audio, ui.feedback_text, ui.word_table, ui.spectrograms, ui.pitch, ui.dtw_path, ui.result,
             drawing, ui.recommendation_id]  # an attempt at another reference does not answer the recommendation
    for field in (ui.kind, ui.phrase, ui.text, ui.language, ui.teacher):
        field.input(lambda: (None,) * len(stale), None, stale, api_visibility="private", queue=False)


def _wire_speak(api: dict, ui: SimpleNamespace, learner_id, drawing) -> None:
    """A new language or level lists its prompts; an answer is assessed, then its figures are drawn."""
    def choose(language, level):
        choices = _prompt_choices(language, level)
        return gr.Dropdown(choices=choices, value=choices[0][1] if choices else None)

    stale = [ui.feedback_text, ui.word_table, ui.timeline, ui.result, drawing]
    for field in (ui.language, ui.level):
        field.input(choose, [ui.language, ui.level], ui.prompt, api_visibility="private", queue=False)
    for field in (ui.language, ui.level, ui.prompt):
        field.input(lambda: (None,) * len(stale), None, stale, api_visibility="private", queue=False)
    ui.button.click(lambda: (None,) * 2, None, [ui.word_table, ui.timeline], api_visibility="private",
                    queue=False).then(
        api["speak"], [ui.audio, ui.prompt, ui.language, learner_id], [ui.result, ui.feedback_text, drawing],
        api_name="speak", concurrency_id="speech").success(
        api["speech_figures"], drawing, [ui.timeline, ui.word_table], api_name="speech_figures",
        concurrency_id="figures", concurrency_limit=1)


def _wire_compare(api: dict, ui: SimpleNamespace, learner_id) -> None:
    """Compare two attempts; a new reference clears the old comparison."""
    stale = [ui.comparison, ui.summary, ui.figure, ui.spectrograms_a, ui.spectrograms_b]
    for field in (ui.kind, ui.phrase, ui.text, ui.language, ui.teacher):
        field.input(lambda: (None,) * len(stale), None, stale, api_visibility="private", queue=False)
    ui.button.click(api["compare"],
                    [ui.attempt_a, ui.attempt_b, ui.phrase, ui.text, ui.language, ui.teacher, learner_id],
                    stale, api_name="compare", concurrency_id="speech")


def _wire_progress(api: dict, ui: SimpleNamespace, pronounce: SimpleNamespace, tabs: gr.Tabs, learner_id) -> None:
    """History, recommendations and thumbs, the "practise it" jump to Pronounce, export and delete."""
    selection = [learner_id, ui.progress_language, ui.progress_item]
    shown = [ui.summary_rows, ui.text, ui.figure]
    ui.history_button.click(api["progress_choices"], selection, [ui.progress_language, ui.progress_item],
                            api_visibility="private").success(api["history"], selection, shown, api_name="history")
    ui.progress_language.input(lambda: "", None, ui.progress_item, api_visibility="private", queue=False).then(
        api["progress_choices"], selection, [ui.progress_language, ui.progress_item], api_visibility="private").success(
        api["history"], selection, shown, api_visibility="private")
    ui.progress_item.input(api["history"], selection, shown, api_visibility="private")
    ui.recommend_button.click(api["recommend"], [learner_id, ui.language], [ui.recommendation, ui.recommendation_text],
                              api_name="recommend")
    ui.recommendation.change(lambda r: (r or {}).get("recommendation_id"), ui.recommendation, ui.shown_id,
                             api_visibility="private", queue=False)
    ui.up_button.click(lambda: True, None, ui.thumb, api_visibility="private", queue=False).then(
        api["feedback"], [learner_id, ui.shown_id, ui.thumb], [ui.thumb_result, ui.thumb_text], api_name="feedback")
    ui.down_button.click(lambda: False, None, ui.thumb, api_visibility="private", queue=False).then(
        api["feedback"], [learner_id, ui.shown_id, ui.thumb], [ui.thumb_result, ui.thumb_text],
        api_visibility="private")
    p = pronounce
    ui.practise_button.click(_practise, ui.recommendation, [tabs, p.kind, p.phrase, p.text, p.language,
                                                            p.recommendation_id, p.reference_audio, p.attempt,
                                                            p.feedback_text, p.word_table, p.spectrograms, p.pitch,
                                                            p.dtw_path, p.result],
                             api_visibility="private").then(
        lambda kind, text, language: (gr.Dropdown(visible=kind == REFERENCE_KINDS[0]),
                                      gr.Textbox(visible=kind != REFERENCE_KINDS[0], value=text),
                                      gr.Dropdown(visible=kind != REFERENCE_KINDS[0], value=language)),
        [p.kind, p.text, p.language], [p.phrase, p.text, p.language], api_visibility="private")
    ui.export_button.click(api["export"], [learner_id, ui.export_format], ui.export_file, api_name="export")
    # after deletion nothing of the old learner stays on screen: no recommendation to rate, no dead export link
    cleared = [ui.confirm, ui.recommendation, ui.recommendation_text, ui.shown_id, ui.thumb_text, ui.thumb_result,
               ui.text, ui.figure, ui.summary_rows, ui.export_file, ui.progress_language, ui.progress_item,
               p.recommendation_id]
    ui.delete_button.click(api["delete_learner"], [learner_id, ui.confirm], ui.delete_text,
                           api_name="delete_learner").success(
        api["new_learner"], None, learner_id, api_visibility="private").then(
        lambda: (False, None, "", None, "", None, "", None, None, None, gr.Dropdown(choices=[], value=""),
                 gr.Dropdown(choices=[("Every phrase", "")], value=""), None),
        None, cleared, api_visibility="private")


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


def _serving_threads() -> None:
    """One thread per request: the server runs `concurrency` requests at once, one per core, so torch
    and BLAS (numpy's and scipy's OpenBLAS, one thread per core by default) each get one: more only fight
    over the cores. Gradio summarises its queue events with pandas, holding the GIL, after every event:
    here every 100 events, unless set otherwise (measured: docs/ARCHITECTURE.md, "Serving threads and
    figures").
    These are the process's settings: whatever else runs in it (tests that launch the app) keeps them."""
    torch.set_num_threads(1)
    threadpoolctl.threadpool_limits(limits=1)
    os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "100")  # read when the queue is made


def launch(demo: gr.Blocks, settings: Settings, **overrides):
    """Queue and launch behind speaksphere.app.guard; Hugging Face Spaces set GRADIO_SERVER_NAME/PORT, which
    win over the YAML. Blocks until the server stops unless prevent_thread_lock=True."""
    server = settings.server
    _serving_threads()
    demo.queue(default_concurrency_limit=server.concurrency, max_size=server.max_queue)
    install_fair_queue(demo, server.max_waiting_per_client, trusted_networks(server.trusted_proxies))
    install_quiet_input_errors(demo)
    options = dict(
        server_name=os.environ.get("GRADIO_SERVER_NAME", server.host),
        server_port=int(os.environ.get("GRADIO_SERVER_PORT", server.port)),
        max_file_size=f"{int(server.max_upload_mb * 1024)}kb",
        show_error=True,
    )
    options.update(overrides)
    keep_thread = options.pop("prevent_thread_lock", False)
    launched = demo.launch(**options, prevent_thread_lock=True)
    uploads = UploadBudget(gr.utils.get_upload_folder(), server.uploads_per_10_min, server.upload_mb_per_10_min,
                           server.upload_folder_mb)
    install_guard(demo.app, server.allowed_origins, int(server.max_upload_mb * (1 << 20)), uploads,
                  trusted_networks(server.trusted_proxies), allowed_hosts(options["server_name"], server.allowed_hosts))
    if not keep_thread:
        demo.block_thread()
    return launched


def main() -> None:
    """`python app.py` or the `speaksphere` command: the app on the settings of speaksphere/settings.yaml (or
    of the file $SPEAKSPHERE_SETTINGS names)."""
    logging.basicConfig(level=logging.INFO)
    app_settings = load_settings(os.environ.get("SPEAKSPHERE_SETTINGS") or DEFAULT_SETTINGS_PATH)
    try:
        demo = build_app(app_settings)
    except ModelMissingError as missing:
        sys.exit(str(missing))
    launch(demo, app_settings)


if __name__ == "__main__":
    main()
