"""The coach: everything one app request does, as plain Python (no gradio).

A `Coach` holds the loaded model, the learner store and the recommender. Each public method checks
its inputs first (audio given, phrase known, learner known, recommendation the learner's own) and
only then works and writes, so a refused request never changes the learner database. Errors carry
a message for the learner: AudioError, ScoringError, LearnerError or CoachError.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import soundfile as sf

from ..audio import SAMPLE_RATE, AudioError
from ..figures import plot_recording
from ..learner.progress import Selection, history_from_attempts, plot_progress, progress_summary, select_practice
from ..learner.recommend import RecommendConfig, Recommender, load_recommend_config
from ..learner.store import SKILLS, LearnerStore
from ..model import DEFAULT_MODEL_DIR, Predictor, load_model
from ..pronounce import figures as pronounce_figures
from ..pronounce.assess import assess, compare_results, reference_loading, shared_features
from ..pronounce.caches import ScoringCaches
from ..pronounce.references import (
    LIBRARY_DIR,
    Reference,
    check_language,
    golden_reference,
    library,
    library_phrase,
    library_reference,
    uploaded_reference,
)
from ..recording import Recording, load_recording, speech_facts, warm_up
from ..settings import Settings
from ..speak import figures as speak_figures
from ..speak.assess import MAX_SPEECH_S, assess_speech, check_speech_language
from ..speak.prompts import prompt as speak_prompt
from ..vad import VadConfig
from . import explain
from .deadline import FIGURES_LIMIT_S, within
from .drawings import Drawings
from .figures import plot_comparison, plot_predictions
from .limits import RateLimit
from .served import ServedFiles
from .transcript import what_was_said
from .voice import voice_facts

__all__ = ["Coach", "CoachError", "ModelMissingError", "Reporter", "model_path", "load_coach", "settings_with_model"]

MODEL_ENV = "SPEAKSPHERE_MODEL"  # a model folder that wins over speaksphere/settings.yaml
Reporter = Callable[[float, str], None]  # report(fraction done 0-1, what is happening) during a request


def _quiet(fraction: float, message: str) -> None:
    pass


class CoachError(ValueError):
    """A request the coach cannot serve (nothing uploaded, unknown phrase, ...): the message is for the learner."""


class ModelMissingError(FileNotFoundError):
    """The configured model folder does not exist: the app refuses to start rather than guess."""


def model_path(settings: Settings) -> Path:
    """The model folder: $SPEAKSPHERE_MODEL, else settings.model.path (a relative path starts at the current
    folder), else the embedded speaksphere/model/speaksphere-small."""
    chosen = os.environ.get(MODEL_ENV) or settings.model.path
    if not chosen:
        return DEFAULT_MODEL_DIR
    path = Path(chosen).expanduser()
    return path.resolve()


def load_coach(settings: Settings, recommend_config: RecommendConfig | None = None) -> Coach:
    """Load the model once, open the learner store and warm everything up, so the first learner does not wait.

    Raises ModelMissingError (with what to do) when the model folder is missing.
    """
    folder = model_path(settings)
    if not (folder / "config.json").is_file():
        raise ModelMissingError(
            f"SpeakSphere cannot start: there is no trained model in {folder} (config.json and weights are missing). "
            f"Train one with `accelerate launch train.py --config configs/tiny.yaml --manifest DIR/manifest.csv`, "
            f"then point the app at its model folder with {MODEL_ENV}=PATH "
            f"or `model.path` in speaksphere/settings.yaml.")
    predictor = load_model(folder)
    predictor.windows = settings.windows
    recommender = Recommender.from_config(recommend_config or load_recommend_config(),
                                          LearnerStore.from_config(settings.store))
    coach = Coach(settings, predictor, recommender, folder)
    coach.warm_up()
    return coach


def _require_audio(source, message: str):
    if source is None or (isinstance(source, (str, bytes)) and not source):
        raise CoachError(message)
    return source


@dataclass
class Coach:
    """The loaded model, learner store and recommender behind every endpoint."""

    settings: Settings
    predictor: Predictor
    recommender: Recommender
    model_dir: Path  # the model folder; its name is shown to learners with every prediction
    served: ServedFiles = field(default_factory=ServedFiles)  # exports and synthesised references to download
    # learner ids per minute per client, asked for or handed to a browser on its first visit (one budget:
    # the page-load event, with 10 times this budget of its own, minted 300 ids a minute); None: settings'
    new_learners: RateLimit | None = None
    drawings: Drawings = field(default_factory=Drawings)  # what figure calls draw from, bounded in bytes
    figures_limit_s: float = FIGURES_LIMIT_S  # an answer's figures come within this, counted from the answer
    caches: ScoringCaches | None = None  # what scoring keeps between requests; None: sized by settings.caches

    def __post_init__(self):
        self.new_learners = self.new_learners or RateLimit(self.settings.server.new_learners_per_minute)
        self.caches = self.caches or ScoringCaches.from_settings(self.settings.caches)

    @property
    def model_name(self) -> str:
        return self.model_dir.name

    @property
    def store(self) -> LearnerStore:
        return self.recommender.store

    def warm_up(self) -> None:
        """Run the VAD, the model and the scorer once (model weights, numba, pocketsphinx load lazily)."""
        warm_up()
        self.predictor.classify_batch([np.zeros(SAMPLE_RATE, dtype=np.float32)])
        phrases = library("en")
        if phrases:
            reference = library_reference(phrases[0].id, **self._loading())
            assess(reference.recording, reference, caches=self.caches)
            # Speak's calibration, its hooks on the decoder, the DTW's compilation
            assess_speech(reference.recording, states=self.caches.speech_states)

    # ---- checks that come before any work ----

    def _learner(self, learner_id: str | None, required: bool) -> str | None:
        """A stored learner's id, None when none was given and none is required; LearnerError otherwise."""
        learner_id = _text(learner_id, "The learner id", 64) or ""
        if not learner_id:
            if required:
                raise CoachError("A learner id is needed for this. The app keeps one in your browser; API callers "
                                 "get one from /new_learner.")
            return None
        self.store.history(learner_id, limit=0)  # raises LearnerError for a malformed or unknown id
        return learner_id

    def _recommendation(self, learner_id: str | None, recommendation_id) -> dict | None:
        if recommendation_id in (None, "", 0):
            return None
        if learner_id is None:
            raise CoachError("A recommendation belongs to a learner: give your learner id with it.")
        number = _whole_number(recommendation_id)
        found = next((r for r in self.store.recommendations(learner_id) if r["id"] == number), None)
        if found is None:
            raise CoachError("This recommendation was not found for this learner.")
        return found

    def _reference(self, phrase_id: str | None, text: str | None, language: str | None,
                   reference_audio) -> Reference:
        """The golden reference: a teacher's upload, else the typed text, else a built-in phrase."""
        text = _text(text, "The text", 1000)  # references.py explains its own, shorter limit
        language = _text(language, "The language", 16)
        phrase_id = _text(phrase_id, "The built-in phrase", 80)
        if language and not text:  # as score_pronunciation: "EN-us" is "en", an unsupported one a ScoringError
            language = check_language(language)
        if reference_audio:
            recording = self._load(reference_audio, "The teacher's reference recording")
            return uploaded_reference(recording, text, language, caches=self.caches)  # loaded as attempts are
        if text:
            return golden_reference(text, language, **self._loading())
        if phrase_id:
            if not any(p.id == phrase_id for p in library()):
                raise CoachError(f"There is no built-in phrase called {phrase_id!r}. Choose one from the list.")
            return library_reference(phrase_id, **self._loading())
        raise CoachError("Choose a built-in phrase, type the text you want to practise, or upload a teacher's "
                         "recording to compare with.")

    def _loading(self) -> dict:
        """How references are loaded and kept: with the attempts' audio limits and VAD, in this coach's caches."""
        return reference_loading(self.settings, self.caches)

    def _load(self, source, what: str, limits=None, vad: VadConfig | None = None) -> Recording:
        try:
            return load_recording(source, limits or self.settings.audio, vad or self.settings.vad)
        except AudioError as error:
            raise AudioError(f"{what}: {error}") from error

    # ---- endpoints ----

    def analyze(self, audio, learner_id: str | None = None, report: Reporter = _quiet, figures: bool = True,
                client: str = "") -> dict:
        """Speech facts and the model's predictions for one recording; stores the detected language and
        accent for a given learner (no scores: those need a reference).

        With figures=False the two figures are left out (drawing them costs more than the analysis) and
        "drawing" is the token under which `draw_analysis` finds what it needs to draw them afterwards,
        kept within `client`'s share of the drawings (its address)."""
        learner_id = self._learner(learner_id, required=False)
        audio = _require_audio(audio, "Please record or upload a recording first.")
        report(0.1, "Reading your recording")
        recording = load_recording(audio, self.settings.audio, self.settings.vad)
        facts = speech_facts(recording)
        report(0.4, "Listening for language, accent, emotion and command")
        predictions = self.predictor.analyze_recording(recording)
        report(0.6, "Writing down what was said")
        predictions["transcript"] = what_was_said(recording, predictions.get("windows", []), self.caches.encoder_states)
        voice = facts["voice"] = voice_facts(recording, predictions["transcript"])
        if learner_id:
            language = explain.top_label(predictions["language"])[0] if "language" in predictions else None
            accent = explain.sure_label(predictions["accent"]) if explain.accent_applies(predictions) else None
            self.store.record_attempt(learner_id, "analyze", {}, language=language, accent=accent,
                                      request_digest=_digest("analyze", recording.wave))
        drawing = {"kind": "analysis", "recording": recording, "predictions": predictions, "made_at": time.monotonic()}
        out = {"facts": facts, "summary": explain.describe_speech(facts), "predictions": predictions,
               "model": self.model_name, "drawing": drawing if figures else self.drawings.keep(drawing, client),
               "predictions_summary": explain.describe_predictions(predictions, self.model_name, voice)}
        if figures:
            report(0.8, "Drawing")
            out.update(self.draw_analysis(drawing))
        return out

    def draw_analysis(self, drawing: dict | str | None) -> dict:
        """The figures of an analysis ("drawing" of `analyze`, or its token): "figure" (waveform and
        spectrogram) and "predictions_figure"."""
        drawing = self._drawing(drawing)
        if not drawing or drawing.get("kind") != "analysis":
            raise CoachError("Analyze a recording first; its figures are drawn from that analysis.")
        recording = drawing["recording"]
        return self._in_time(drawing, lambda: {
            "figure": plot_recording(recording),
            "predictions_figure": plot_predictions(drawing["predictions"], recording.duration_s)})

    def _in_time(self, drawing: dict, draw: Callable[[], dict]) -> dict:
        """`draw()` within figures_limit_s of the answer (drawing["made_at"]), else CoachError."""
        try:
            return within(draw, self.figures_limit_s, drawing.get("made_at"))
        except TimeoutError:
            raise CoachError(f"The figures could not be drawn within {self.figures_limit_s:g} s of the answer "
                             "(the server is busy), so they are left out this time; the answer above is complete. "
                             "Send your recording again to see them.") from None

    def reference_preview(self, phrase_id: str | None, text: str | None, language: str | None,
                          reference_audio=None) -> dict:
        """The reference to listen to before an attempt: an audio file path and what it says."""
        reference = self._reference(phrase_id, text, language, reference_audio)
        return {"audio": self._reference_audio(reference, reference_audio),
                "text": reference.text, "language": reference.language, "source": reference.source}

    def _reference_audio(self, reference: Reference, uploaded) -> str:
        if reference.kind == "teacher" and isinstance(uploaded, (str, Path)):
            return str(uploaded)
        if reference.kind == "library":
            return str(LIBRARY_DIR / library_phrase(reference.phrase_id).file)
        digest = hashlib.sha1(f"{reference.source}|{reference.language}|{reference.text}".encode()).hexdigest()[:16]
        wave = reference.recording.wave
        return str(self.served.reference(digest, lambda path: sf.write(path, wave, SAMPLE_RATE, subtype="PCM_16")))

    def pronounce(self, attempt, phrase_id: str | None = None, text: str | None = None, language: str | None = None,
                  reference_audio=None, learner_id: str | None = None, recommendation_id=None,
                  report: Reporter = _quiet, figures: bool = True, client: str = "") -> dict:
        """Score one attempt against its golden reference; stores the scores for a given learner.

        With figures=False the four figures are left out and "drawing" is the token under which
        `draw_pronunciation` finds what it needs to draw them afterwards (kept for `client`, as in `analyze`)."""
        learner_id = self._learner(learner_id, required=False)
        recommendation = self._recommendation(learner_id, recommendation_id)
        attempt = _require_audio(attempt, "Please record or upload your attempt first.")
        report(0.05, "Preparing the reference")
        reference = self._reference(phrase_id, text, language, reference_audio)
        report(0.2, "Reading your attempt")
        recording = self._load(attempt, "Your attempt")
        report(0.35, "Aligning your attempt with the reference and scoring it")
        assessment = assess(recording, reference, caches=self.caches)
        result = _with_reference_facts(assessment.result, reference)
        if learner_id:
            self._record(learner_id, "pronounce", result, reference, recommendation, recording)
        out = {"result": result, "feedback": explain.describe_pronunciation(result),
               "reference_audio": self._reference_audio(reference, reference_audio),
               "drawing": {"kind": "pronunciation", "assessment": assessment.for_figures(),
                           "made_at": time.monotonic()}}
        if figures:
            report(0.8, "Drawing the figures")
            out.update(self.draw_pronunciation(out["drawing"]))
        else:
            out["drawing"] = self.drawings.keep(out["drawing"], client)
        return out

    def draw_pronunciation(self, drawing: dict | str | None) -> dict:
        """The four figures of a scored attempt ("drawing" of `pronounce`, or its token): "spectrograms",
        "dtw_path", "pitch" and "word_table"."""
        drawing = self._drawing(drawing)
        if not drawing or drawing.get("kind") != "pronunciation":
            raise CoachError("Score an attempt first; its figures are drawn from that scoring.")
        return self._in_time(drawing, lambda: pronounce_figures.all_figures(drawing["assessment"]))

    def _drawing(self, drawing: dict | str | None) -> dict | None:
        """A drawing given itself or by its token (refused once it has left the server's store)."""
        if not isinstance(drawing, str) or not drawing:
            return drawing
        kept = self.drawings.take(drawing)
        if kept is None:
            raise CoachError("The figures of this request are no longer kept on the server (they are drawn once, "
                             "within 20 s of the answer); please send it again to see them.")
        return kept

    def _record(self, learner_id: str, request: str, result: dict, reference: Reference, recommendation: dict | None,
                attempt: Recording):
        """Store a scored attempt; the same recording scored against the same reference is stored once."""
        digest = _digest(request, attempt.wave, reference.recording.wave, reference.source, reference.language,
                         reference.text, recommendation["id"] if recommendation else None)
        self.store.record_attempt(
            learner_id, request, {k: result[k] for k in SKILLS + ("overall",)}, language=reference.language,
            reference_text=reference.text, phrase_id=reference.phrase_id,
            exercise_id=recommendation["exercise_id"] if recommendation else None,
            recommendation_id=recommendation["id"] if recommendation else None, request_digest=digest)

    def compare(self, attempt_a, attempt_b, phrase_id: str | None = None, text: str | None = None,
                language: str | None = None, reference_audio=None, learner_id: str | None = None,
                report: Reporter = _quiet) -> dict:
        """Score two attempts at the same reference and show what changed; stores attempt B (the later
        one) for a given learner."""
        learner_id = self._learner(learner_id, required=False)
        attempt_a = _require_audio(attempt_a, "Please record or upload attempt A.")
        attempt_b = _require_audio(attempt_b, "Please record or upload attempt B.")
        report(0.05, "Preparing the reference")
        reference = self._reference(phrase_id, text, language, reference_audio)
        recording_a = self._load(attempt_a, "Attempt A")
        recording_b = self._load(attempt_b, "Attempt B")
        features = shared_features(reference, recording_a, recording_b)  # one band for both, whatever their microphones
        report(0.2, "Scoring attempt A")
        first = assess(recording_a, reference, features=features, caches=self.caches)
        report(0.5, "Scoring attempt B")
        second = assess(recording_b, reference, features=features, caches=self.caches)
        report(0.8, "Drawing the figures")
        comparison = compare_results(_with_reference_facts(first.result, reference),
                                     _with_reference_facts(second.result, reference))
        if learner_id:
            self._record(learner_id, "compare", second.result, reference, None, recording_b)
        return {"comparison": comparison, "summary": explain.describe_comparison(comparison),
                "figure": plot_comparison(comparison), "spectrograms_a": pronounce_figures.spectrograms(first),
                "spectrograms_b": pronounce_figures.spectrograms(second)}

    def speak(self, audio, prompt_id: str | None = None, language: str | None = None, learner_id: str | None = None,
              report: Reporter = _quiet, figures: bool = True, client: str = "") -> dict:
        """Assess free speech (an answer to a prompt, no text to read); stores its scores for a given
        learner as an attempt of its own kind ("speak": pronunciation kept as accuracy).

        prompt_id: a prompt of speak.prompts in `language` (optional; with it the language is required);
        language: the exercise's (ISO 639-1; None: the language heard). The speech is found with the VAD's
        default settings, as the calibration's readings were (not the app's `vad` settings). With
        figures=False the timeline is left out and "drawing" is the token under which `draw_speech` finds
        what it needs (kept for `client`, as in `analyze`)."""
        learner_id = self._learner(learner_id, required=False)
        language = check_speech_language(_text(language, "The language", 16))
        prompt_id = _text(prompt_id, "The prompt", 64)
        chosen = None
        if prompt_id and language is None:
            raise CoachError("Say which language the prompt is in (the Language list), or leave the prompt out.")
        if prompt_id:
            chosen = speak_prompt(language, prompt_id)
            if chosen is None:
                raise CoachError("There is no such prompt in this language. "
                                 "Choose a language, then a prompt from the list.")
        audio = _require_audio(audio, "Please record or upload your answer first.")
        report(0.1, "Reading your answer")
        limits = replace(self.settings.audio, max_seconds=min(self.settings.audio.max_seconds, MAX_SPEECH_S))
        recording = self._load(audio, "Your answer", limits, VadConfig())
        report(0.3, "Listening to what you said")
        result = assess_speech(recording, language, states=self.caches.speech_states)
        result["prompt"] = None if chosen is None else {"id": chosen.id, "level": chosen.level, "text": chosen.text}
        if learner_id:
            self.store.record_attempt(
                learner_id, "speak", {"accuracy": result["pronunciation"], "fluency": result["fluency"],
                                      "overall": result["overall"]},
                language=result["language"], reference_text=chosen.text if chosen else None,
                request_digest=_digest("speak", recording.wave, prompt_id, language))
        out = {"result": result, "feedback": explain.describe_speaking(result),
               "drawing": {"kind": "speech", "wave": recording.wave, "result": result, "made_at": time.monotonic()}}
        if figures:
            report(0.9, "Drawing")
            out.update(self.draw_speech(out["drawing"]))
        else:
            out["drawing"] = self.drawings.keep(out["drawing"], client)
        return out

    def draw_speech(self, drawing: dict | str | None) -> dict:
        """The figures of an assessed answer ("drawing" of `speak`, or its token): "timeline" (a picture)
        and "words" (HTML)."""
        drawing = self._drawing(drawing)
        if not drawing or drawing.get("kind") != "speech":
            raise CoachError("Assess an answer first; its figures are drawn from that assessment.")
        return self._in_time(drawing, lambda: {"timeline": speak_figures.timeline(drawing["wave"], drawing["result"]),
                                               "words": speak_figures.word_html(drawing["result"])})

    def new_learner(self, client: str = "") -> str:
        """A new learner id (keep it: it is the only key to the learner's progress). `client` is the
        caller's address: each gets at most server.new_learners_per_minute ids a minute."""
        if not self.new_learners.admit(client):
            raise CoachError("Too many new learner ids were asked for from your address in the last minute; "
                             "please wait a minute. Keep your id: it is the key to your progress.")
        return self.store.new_learner()

    def ensure_learner(self, stored: str | None, client: str = "") -> str:
        """The browser's stored id if this store knows it, else a new learner's id."""
        if isinstance(stored, str) and self.store.learner_exists(stored):
            return stored
        return self.new_learner(client)

    def recommend(self, learner_id: str | None, language: str | None = None) -> dict:
        """The next exercise for the learner, with why it was chosen."""
        learner_id = self._learner(learner_id, required=True)
        language = _text(language, "The language", 16)
        if language is not None and language not in self.recommender.catalogue.languages():
            names = ", ".join(explain.language_name(c) for c in self.recommender.catalogue.languages())
            raise CoachError(f"There are no exercises for {explain.language_name(language)} yet; "
                             f"choose one of {names}.")
        recommendation = self.recommender.recommend(learner_id, language).to_dict()
        return {"recommendation": recommendation, "summary": explain.describe_recommendation(recommendation)}

    def feedback(self, learner_id: str | None, recommendation_id, thumbs_up: bool) -> dict:
        """Store a thumbs up (True) or down (False) on one of the learner's recommendations; the bandit learns
        from it."""
        learner_id = self._learner(learner_id, required=True)
        thumbs_up = _boolean(thumbs_up, "Say whether the exercise helped: thumbs up (true) or down (false).")
        recommendation = self._recommendation(learner_id, recommendation_id)
        if recommendation is None:
            raise CoachError("Get a recommendation first, then rate it.")
        self.recommender.feedback(learner_id, recommendation["id"], bool(thumbs_up))
        message = ("Thanks: the coach will suggest more exercises like this one." if thumbs_up else
                   "Thanks: the coach will suggest this kind of exercise less often, and sets this one aside: "
                   "Suggest gives another.")
        return {"recommendation_id": recommendation["id"], "thumbs_up": bool(thumbs_up),
                "message": message}

    def progress_choices(self, learner_id: str | None, language: str | None = None, item: str | None = None) -> dict:
        """What Progress can show: "languages" practised and "items" (phrases practised in the chosen
        language), each as (label, value) pairs, with the "language" and "item" chosen ("" = every phrase)."""
        selection = self._selection(learner_id, language, item)
        # the labels from every attempt of the language, not only the chosen phrase's
        practised = select_practice(self.store.history(learner_id), selection.language, None).attempts
        spoken = {a["reference_text"] for a in practised if a["task"] == "speak"}
        items = [(("Speak: " if text in spoken else "") + explain.phrase_label(text, self._exercise_titles(
                 practised, text)), text) for text in selection.items]
        return {"languages": [(explain.language_name(c), c) for c in selection.languages],
                "language": selection.language or "", "items": [("Every phrase", "")] + items, "item": selection.item}

    def _selection(self, learner_id: str | None, language: str | None, item: str | None) -> Selection:
        learner_id = self._learner(learner_id, required=True)
        language = _text(language, "The language", 16)
        item = _text(item, "The phrase", 1000)
        return select_practice(self.store.history(learner_id), language, item)

    def _exercise_titles(self, attempts: list[dict], text: str) -> list[str]:
        ids = dict.fromkeys(a["exercise_id"] for a in attempts if a["reference_text"] == text and a["exercise_id"])
        return [self.recommender.catalogue[i].title for i in ids if i in self.recommender.catalogue]

    def history(self, learner_id: str | None, language: str | None = None, item: str | None = None) -> dict:
        """The learner's practice attempts in one language ("" or None: the latest practised) and for one
        phrase (its text; "" or None: every phrase), a summary per score, and the progress figure: the
        table, the tip and the chart are drawn from the same attempts and show the same numbers.
        Analyses (Analyze) are not practice and are left out."""
        selection = self._selection(learner_id, language, item)
        series = history_from_attempts(selection.attempts)
        summary = progress_summary(series)
        named = explain.selection_name(selection.language, selection.item)
        return {"attempts": selection.attempts, "summary": summary, "language": selection.language or "",
                "item": selection.item, "text": explain.describe_progress(summary, len(selection.attempts), named),
                "figure": plot_progress(series, title=f"Your progress: {named}" if named else "Your progress")}

    def export(self, learner_id: str | None, format: str = "json") -> str:
        """Everything stored about the learner in a file (JSON or CSV); returns its path. The file is
        deleted after served.EXPORT_TTL_S, or at once when the learner is deleted."""
        learner_id = self._learner(learner_id, required=True)
        format = (_text(format, "The export format", 8) or "json").lower()
        if format not in ("json", "csv"):
            raise CoachError("Choose JSON or CSV for the export.")
        path = self.served.new_export(learner_id, self.store.export(learner_id, format), format)
        if not self.store.learner_exists(learner_id):  # deleted meanwhile: its exports go with it
            self.served.forget_learner(learner_id)
            raise CoachError("This learner was deleted; there is nothing to export.")
        return str(path)

    def delete(self, learner_id: str | None, confirm: bool) -> dict:
        """Delete everything stored about the learner (only when `confirm` is true), exports included;
        returns the rows deleted ("attempts" of practice and "analyses" apart) and "exports", the export
        files deleted."""
        learner_id = self._learner(learner_id, required=True)
        if not _boolean(confirm, "confirm must be true or false (a JSON boolean); nothing was deleted."):
            raise CoachError("Tick the box to confirm that you want to delete all your progress; nothing was deleted.")
        analyses = sum(1 for a in self.store.history(learner_id) if a["task"] == "analyze")
        counts = self.store.delete_learner(learner_id)
        counts["analyses"] = min(analyses, counts["attempts"])  # stored in one table, told apart by their task
        counts["attempts"] -= counts["analyses"]
        return {**counts, "exports": self.served.forget_learner(learner_id)}


def _with_reference_facts(result: dict, reference: Reference) -> dict:
    """`result` with details["reference_text_heard"]: whether the words scored are the listener's
    transcript of a teacher's upload given without its text."""
    result["details"]["reference_text_heard"] = reference.text_heard
    return result


def _boolean(value, message: str) -> bool:
    """A yes/no from an API caller: only a real boolean counts. The strings "false", "no" or "0" are
    truthy in Python; taking them as yes once deleted a learner's data on confirm="false"."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise CoachError(message)


def _digest(*parts) -> str:
    """SHA-256 of a request's parts (arrays by their bytes, the rest by repr): what makes it the same request."""
    sha = hashlib.sha256()
    for part in parts:
        sha.update(part.tobytes() if isinstance(part, np.ndarray) else repr(part).encode())
        sha.update(b"\x00")
    return sha.hexdigest()


def _text(value, what: str, max_chars: int) -> str | None:
    """A text input from an API caller, stripped; None when empty. Other types and values over max_chars
    are refused with a message that names the input, never quoting the value back."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise CoachError(f"{what} must be text (a string).")
    if len(value) > max_chars:
        raise CoachError(f"{what} is longer than {max_chars} characters; nothing was done.")
    return value.strip() or None


def _whole_number(value) -> int:
    """A recommendation id from an API caller: 7, 7.0 or "7" -> 7."""
    try:
        number = float("nan") if isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not np.isfinite(number) or number != int(number) or number < 1:
        raise CoachError("This is not a recommendation id (a whole number from /recommend).")
    return int(number)


def settings_with_model(settings: Settings, path: str | Path) -> Settings:
    """`settings` serving the model in `path` (tests and benchmarks)."""
    return replace(settings, model=replace(settings.model, path=str(path)))
