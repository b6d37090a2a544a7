"""SpeakSphere's API endpoints: thin gradio functions over speaksphere.coach, one per api_name.

Each function's docstring gives its inputs and outputs in order (the README shows calls with
gradio_client). Errors meant for the learner become gr.Error with the same message; anything else is
logged and reported plainly, never as a traceback.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import os
import secrets
import threading
import time
import weakref
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no calls home, also offline

import gradio as gr

from speaksphere import AudioError, LearnerError, ScoringError
from speaksphere.coach import Coach, CoachError
from speaksphere.coach.served import EXPORT_NAME, EXPORT_TTL_S, export_stem

from .memory import release_after

__all__ = ["LEARNER_ERRORS", "make_endpoints", "user_error"]

log = logging.getLogger("speaksphere.app")
LEARNER_ERRORS = (AudioError, ScoringError, LearnerError, CoachError)


def user_error(function):
    """Turn our errors into a message for the learner; never show a raw traceback."""

    @functools.wraps(function)
    def handler(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except gr.Error:
            raise
        except LEARNER_ERRORS as error:  # an expected refusal: one log line, no traceback
            log.info("refused %s: %s", function.__name__, str(error)[:200])
            raise gr.Error(str(error), print_exception=False) from None
        except Exception:  # a bug of ours: log it (traceback included), tell the learner plainly
            log.exception("unexpected error in %s", function.__name__)
            raise gr.Error("Something went wrong on our side with this request. Please try again; if it keeps "
                           "happening, try another recording.", print_exception=False) from None

    return handler


def _reporter(progress: gr.Progress):
    return lambda fraction, message: progress(fraction, desc=message)


def _remove_served_copies(stem: str, older_than_s: float = 0.0) -> int:
    """Delete gradio's served copies of exports whose names start with `stem` (gradio copies each
    returned file into its cache folder, <cache>/<hash>/<name>, and serves it from there); only files
    named as exports are touched. Returns how many."""
    removed = 0
    for path in Path(gr.utils.get_upload_folder()).glob(f"*/{stem}*"):
        try:
            if EXPORT_NAME.fullmatch(path.name) and time.time() - path.stat().st_mtime >= older_than_s:
                path.unlink()
                removed += 1
                path.parent.rmdir()  # gradio's per-file folder, when nothing else is in it
        except OSError:
            continue
    return removed


_SWEPT: weakref.WeakValueDictionary[int, Coach] = weakref.WeakValueDictionary()  # coaches the sweeper serves
_SWEEPER: list[threading.Thread] = []


def _expire_exports(coach: Coach, every_s: float = 60.0) -> None:
    """Every `every_s`, delete exports past EXPORT_TTL_S: each coach's and gradio's served copies (one
    daemon thread for the process, however many apps it builds)."""
    _SWEPT[id(coach)] = coach

    def sweep():
        while True:
            time.sleep(every_s)
            try:
                for each in list(_SWEPT.values()):
                    each.served.expire_exports()
                _remove_served_copies("speaksphere-my-data-", older_than_s=EXPORT_TTL_S)
            except Exception:  # never let the sweeper die: the next round tries again
                log.exception("sweeping expired exports failed")

    if not _SWEEPER:
        _SWEEPER.append(threading.Thread(target=sweep, name="speaksphere-export-sweeper", daemon=True))
        _SWEEPER[0].start()


def _own_file(picture):
    """The picture with a random JPEG comment, so that its bytes, and the cache file gradio names by their
    hash, are this response's own. Gradio writes a picture's cache file in place (not renamed into
    place): two requests drawing the same picture (the same recording, twice) rewrote one file while it
    was being sent, and a client received a truncated image (seen once in 80 in the load test)."""
    if hasattr(picture, "info"):
        picture.info["comment"] = secrets.token_hex(8).encode()
    return picture


def trusted_networks(proxies: tuple[str, ...]) -> tuple:
    """The networks whose X-Forwarded-For is believed: `proxies` (settings.server.trusted_proxies), or on a
    Hugging Face Space (SPACE_ID set) with none named, the private ranges its proxy connects from."""
    if not proxies and os.environ.get("SPACE_ID"):
        proxies = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "fc00::/7", "::1/128")
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _client(request: gr.Request | None, proxies: tuple = ()) -> str:
    """The caller's address, the key of per-client limits ("" when unknown). Behind a trusted proxy (a
    Space's; `proxies` from trusted_networks) the connection comes from the proxy: then the last address
    the proxies appended to X-Forwarded-For that is not a trusted proxy is the caller (earlier entries are
    the caller's own claims). From anyone else the header is a claim and is ignored (rotating it minted
    400 ids in 35 s on loopback). An IPv6 caller is keyed by its /64 network (one household or host can
    hold all of it)."""
    host = str(getattr(getattr(request, "client", None), "host", "") or "")
    forwarded = (getattr(request, "headers", None) or {}).get("x-forwarded-for", "")
    if forwarded and _within(host, proxies):
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        outside = [h for h in hops if not _within(h, proxies)]
        host = outside[-1] if outside else host
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    address = getattr(address, "ipv4_mapped", None) or address  # ::ffff:1.2.3.4 is 1.2.3.4, not one /64 for all
    return str(ipaddress.ip_network(f"{address}/64", strict=False)) if address.version == 6 else str(address)


def _within(host: str, networks: tuple) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    address = getattr(address, "ipv4_mapped", None) or address  # a proxy seen as ::ffff:10.0.0.5 is 10.0.0.5
    return any(address in network for network in networks if network.version == address.version)


def make_endpoints(coach: Coach) -> dict:
    """The API endpoints, by api_name. Each docstring gives its inputs and outputs in order. Starts the
    sweeper that deletes expired exports."""
    _expire_exports(coach)
    proxies = trusted_networks(coach.settings.server.trusted_proxies)
    endpoints = {**_analysis_endpoints(coach, proxies), **_pronunciation_endpoints(coach, proxies),
                 **_speech_endpoints(coach, proxies), **_progress_endpoints(coach),
                 **_learner_endpoints(coach, proxies)}
    released = release_after if coach.settings.server.release_memory else (lambda fn: fn)
    return {name: released(user_error(fn)) for name, fn in endpoints.items()}


def _analysis_endpoints(coach: Coach, proxies: tuple) -> dict:
    """What was spoken: the model's analysis and its figures."""

    def analyze(audio: str | None, learner_id: str = "", request: gr.Request = None, progress=gr.Progress()):
        """What was spoken. Inputs: audio (file), learner_id ("" = store nothing). Outputs: facts
        (dict: seconds, dBFS), summary (Markdown), predictions (dict {"language", "accent", "emotion",
        "command": {label: probability}, "windows": [...], "transcript": [{"start", "end", "language", "text"}]: what
        was said, per language stretch}), predictions summary (Markdown). The figures
        come from "/analysis_figures" next, in the same client session."""
        r = coach.analyze(audio, learner_id, _reporter(progress), figures=False, client=_client(request, proxies))
        return r["facts"], r["summary"], r["predictions"], r["predictions_summary"], r["drawing"]

    def analysis_figures(drawing):
        """The figures of this session's latest "/analyze" (no inputs: the session keeps the analysis).
        Outputs: waveform + spectrogram figure, predictions figure."""
        r = coach.draw_analysis(drawing)
        return _own_file(r["figure"]), _own_file(r["predictions_figure"])

    return dict(analyze=analyze, analysis_figures=analysis_figures)


def _pronunciation_endpoints(coach: Coach, proxies: tuple) -> dict:
    """Pronunciation against a reference: one attempt and its figures, two compared."""

    def pronounce(attempt: str | None, phrase_id: str = "", text: str = "", language: str = "",
                  reference_audio: str | None = None, learner_id: str = "", recommendation_id: float | None = None,
                  request: gr.Request = None, progress=gr.Progress()):
        """Score an attempt. Inputs: attempt (file); the reference: reference_audio (a teacher's file,
        with `text` if known) wins over text (synthesised, or the library's recording of that text) which
        wins over phrase_id (a built-in phrase id, see the dropdown);
        language (ISO 639-1, "" = en); learner_id ("" = store nothing); recommendation_id (the exercise
        this attempt answers, or None). Outputs: result (dict: overall, accuracy, fluency, prosody,
        completeness, coherence 0-100, as fitted to experts' ratings where the text is known (a skill left
        unscored is null and "not_scored" says why), segments, words, phones, details), feedback (Markdown),
        reference audio (file). The figures come from "/pronunciation_figures" next, in the same session."""
        r = coach.pronounce(attempt, phrase_id, text, language, reference_audio, learner_id, recommendation_id,
                            _reporter(progress), figures=False, client=_client(request, proxies))
        return r["result"], r["feedback"], r["reference_audio"], r["drawing"]

    def pronunciation_figures(drawing):
        """The figures of this session's latest "/pronounce" (no inputs: the session keeps the scoring).
        Outputs: spectrograms, pitch, word table and DTW path figures."""
        r = coach.draw_pronunciation(drawing)
        return _own_file(r["spectrograms"]), _own_file(r["pitch"]), r["word_table"], _own_file(r["dtw_path"])

    def compare(attempt_a: str | None, attempt_b: str | None, phrase_id: str = "", text: str = "",
                language: str = "", reference_audio: str | None = None, learner_id: str = "",
                progress=gr.Progress()):
        """Two attempts at the same reference (chosen as in /pronounce). Outputs: comparison (dict: "a",
        "b" results, "difference" per score = B - A, "words" [{word, a, b, difference}]), summary
        (Markdown), scores figure, spectrograms of A, spectrograms of B. Stores attempt B for a learner."""
        r = coach.compare(attempt_a, attempt_b, phrase_id, text, language, reference_audio, learner_id,
                          _reporter(progress))
        return (r["comparison"], r["summary"], r["figure"], _own_file(r["spectrograms_a"]),
                _own_file(r["spectrograms_b"]))

    return dict(pronounce=pronounce, pronunciation_figures=pronunciation_figures, compare=compare)


def _speech_endpoints(coach: Coach, proxies: tuple) -> dict:
    """Free speech assessed, and its figures."""

    def speak(audio: str | None, prompt_id: str = "", language: str = "", learner_id: str = "",
              request: gr.Request = None, progress=gr.Progress()):
        """Assess free speech (an answer to a prompt; no text to read). Inputs: audio (file, up to 2
        minutes), prompt_id (a prompt of the Speak tab, "" = none), language (ISO 639-1 of the exercise,
        "" = the language heard; required with a prompt), learner_id ("" = store nothing). Outputs: result (dict:
        language, transcript, words [{word, start, end, score}], pronunciation, fluency, overall 0-100,
        speech_rate_wpm, articulation_rate, pauses, mean_length_of_run_s, fillers, tip, ...), feedback
        (Markdown). The figures come from "/speech_figures" next, in the same session."""
        r = coach.speak(audio, prompt_id, language, learner_id, _reporter(progress), figures=False,
                        client=_client(request, proxies))
        return r["result"], r["feedback"], r["drawing"]

    def speech_figures(drawing):
        """The figures of this session's latest "/speak". Outputs: timeline picture, words (HTML)."""
        r = coach.draw_speech(drawing)
        return _own_file(r["timeline"]), r["words"]

    return dict(speak=speak, speech_figures=speech_figures)


def _progress_endpoints(coach: Coach) -> dict:
    """The recommender's next exercise, thumbs on it, and the learner's progress."""

    def recommend(learner_id: str, language: str = ""):
        """The next exercise. Inputs: learner_id (required), language ("" = that of the latest attempt).
        Outputs: recommendation (dict: recommendation_id, explanation, explored, expected_gain, pending, exercise),
        summary (Markdown). The same recommendation comes back (pending: true) until an attempt answers it
        or a thumbs down dismisses it."""
        r = coach.recommend(learner_id, language)
        return r["recommendation"], r["summary"]

    def feedback(learner_id: str, recommendation_id: float, thumbs_up: bool):
        """Thumbs up (true) or down (false) on one of the learner's recommendations; the recommender learns
        from it (one thumb per recommendation: the latest wins). Outputs: result (dict: recommendation_id,
        thumbs_up, message), message (Markdown)."""
        r = coach.feedback(learner_id, recommendation_id, thumbs_up)
        return r, r["message"]

    def history(learner_id: str, language: str = "", phrase: str = ""):
        """The learner's progress in one language and phrase. Inputs: learner_id, language (ISO 639-1, "" = the
        latest practised), phrase (a practised phrase's text, "" = every phrase). Outputs: summary (list of
        {skill, attempts, first, latest, best, change, trend}), text (Markdown: the table and a tip on its
        weakest skill), figure (score per attempt for each skill); all three of the same attempts."""
        r = coach.history(learner_id, language, phrase)
        return r["summary"], r["text"], r["figure"]

    def progress_choices(learner_id: str, language: str = "", phrase: str = ""):
        """The languages and phrases Progress can show (the browser's dropdowns, not an API)."""
        r = coach.progress_choices(learner_id, language, phrase)
        return (gr.Dropdown(choices=r["languages"], value=r["language"]),
                gr.Dropdown(choices=r["items"], value=r["item"]))

    return dict(recommend=recommend, feedback=feedback, history=history, progress_choices=progress_choices)


def _learner_endpoints(coach: Coach, proxies: tuple) -> dict:
    """Learner ids, and the learner's data exported or deleted."""

    def new_learner(request: gr.Request):
        """A new learner id (32 characters); keep it, it is the only key to that learner's progress. At most
        server.new_learners_per_minute a minute from one address."""
        return coach.new_learner(_client(request, proxies))

    def ensure_learner(stored: str | None, request: gr.Request):
        """The browser's stored learner id if known, else a new one (the page's load event, not an API)."""
        return coach.ensure_learner(stored, _client(request, proxies))

    def export(learner_id: str, format: str = "json"):
        """Everything stored about the learner as a file. Inputs: learner_id, format "json" or "csv". The
        file can be downloaded for ten minutes."""
        return coach.export(learner_id, format)

    def delete_learner(learner_id: str, confirm: bool):
        """Delete everything stored about the learner, exports included; confirm must be true. Output: Markdown."""
        counts = coach.delete(learner_id, confirm)
        _remove_served_copies(export_stem(learner_id.strip()))
        return (f"Deleted: {counts['attempts']} practice attempt(s), {counts['analyses']} analysis(es), "
                f"{counts['recommendations']} recommendation(s) and {counts['feedback']} thumb(s). A new, empty "
                "learner id now replaces the old one in this browser.")

    return dict(new_learner=new_learner, ensure_learner=ensure_learner, export=export, delete_learner=delete_learner)
