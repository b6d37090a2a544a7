"""Plain-language text for learners: every number the app shows comes with what it means.

Pure functions from result dicts to Markdown; no gradio, no speech math.
"""

from __future__ import annotations

from ..audio import CLIPPED_DISTORTED
from ..learner.progress import points, weakest_skill
from ..pronounce.figures import MISCUE_NAMES
from ..pronounce.references import LANGUAGE_NAMES, library_phrase
from ..skills import RESULT_SCORES, SKILLS
from ..words import normalise_word
from .voice import describe_voice

__all__ = ["SKILL_MEANINGS", "language_name", "accent_name", "command_name", "accent_applies", "describe_speech",
           "describe_predictions", "describe_pronunciation", "describe_comparison", "describe_recommendation",
           "describe_progress"]

SKILL_MEANINGS = {  # each as fitted to experts' ratings of real learners (pronounce/experts.py)
    "overall": "the experts' overall rating of a reading like yours",
    "accuracy": "how clearly and correctly your words are pronounced",
    "fluency": "your pace, pauses and hesitations",
    "prosody": "your melody, stress and rhythm",
    "completeness": "how many of the expected words you said",
    "coherence": "whether you said them in order, with nothing extra",
}
SKILL_TIPS = {
    "accuracy": "Listen to the reference again and repeat the words marked below slowly, then at normal speed.",
    "fluency": "Read the sentence through a few times before recording, then say it without stopping between words.",
    "prosody": "Copy the reference's melody: where the voice rises and falls, and which words are louder.",
    "completeness": "Say every word of the sentence; check the words marked 'left out' below.",
    "coherence": "Say the words in the order written, with nothing added in between.",
}
_NATIVE_ACCENTS = {"en-US": "American English", "en-GB": "British English", "en-scotland": "Scottish English",
                   "en-caribbean": "Caribbean English", "en-GB-lancashire": "English from Lancashire",
                   "en-GB-west-midlands": "English from the West Midlands"}
# every language a model answer or an accent label can name (ISO 639-1), beyond those practised
_NAMES = {**LANGUAGE_NAMES, "pl": "Polish", "hu": "Hungarian", "el": "Greek", "ro": "Romanian", "sv": "Swedish",
          "af": "Afrikaans", "ja": "Japanese", "zh": "Chinese", "ar": "Arabic", "tr": "Turkish", "ko": "Korean"}
_ACCENT_LANGUAGES = {"zh": "Mandarin"}  # the first language an L1 label's learners speak, where not the code's name
_EMOTIONS = {"neutral": "neutral", "happy": "happy", "sad": "sad", "angry": "angry"}
_UNSURE = 0.5  # below this probability the app says the model is not sure
ABSTAINING = ("accent", "emotion")  # tasks that answer "not sure" below _UNSURE instead of naming a guess
_GOOD = 85  # every skill at or above this: praise instead of a tip


def language_name(code: str) -> str:
    """'fr' -> 'French (fr)'; unknown codes stay as they are."""
    return f"{_NAMES[code]} ({code})" if code in _NAMES else code


def accent_name(label: str) -> str:
    """'L1-zh' -> 'English with a Mandarin accent'; 'L1-de' -> 'English with a German accent';
    'en-GB' -> 'British English'."""
    if label in _NATIVE_ACCENTS:
        return _NATIVE_ACCENTS[label]
    first = label[3:] if label.startswith("L1-") else None
    if first in _ACCENT_LANGUAGES or first in _NAMES:
        return f"English with a {_ACCENT_LANGUAGES.get(first) or _NAMES[first]} accent"
    return label


def command_name(label: str) -> str:
    """'_unknown_' -> 'not a command word'; 'yes' -> '"yes"'."""
    return {"_unknown_": "not a command word", "_silence_": "silence"}.get(label, f'"{label}"')


def _percent(p: float) -> str:
    return f"{100 * p:.0f}%"


def describe_speech(facts: dict) -> str:
    """A few sentences about a recording's timing and level."""
    lines = [
        f"**{facts['speech_s']:.1f} s of speech** in a {facts['duration_s']:.1f} s recording, "
        f"in {facts['speech_segments']} stretch(es).",
        f"**{facts['pauses']} pause(s)** of a quarter second or more"
        + (f", {facts['pause_total_s']:.1f} s in all, the longest {facts['longest_pause_s']:.1f} s."
           if facts["pauses"] else "."),
    ]
    level = facts["speech_level_dbfs"]
    if facts.get("clipped_fraction", 0.0) >= CLIPPED_DISTORTED:
        lines.append(f"**Level {level:.0f} dBFS** (decibels below the loudest a file can hold): the recording is "
                     f"clipped ({100 * facts['clipped_fraction']:.1f}% of it flattened at the loudest a file can hold) "
                     "and may be distorted; move a little away from the microphone or turn its gain down.")
    elif level < -40:
        lines.append(f"**Level {level:.0f} dBFS** (decibels below the loudest a file can hold): very quiet; "
                     "speak closer to the microphone.")
    else:
        lines.append(f"**Level {level:.0f} dBFS** (decibels below the loudest a file can hold): a good level.")
    return "\n\n".join(lines)


def top_label(probabilities: dict[str, float]) -> tuple[str, float]:
    """The most probable label and its probability."""
    label = max(probabilities, key=probabilities.get)
    return label, probabilities[label]


def accent_applies(predictions: dict) -> bool:
    """Whether an accent answer is shown or kept: the model gave one and heard the speech as English
    (every accent it names is an accent of English: none is read into French speech)."""
    return "accent" in predictions and "language" in predictions and top_label(predictions["language"])[0] == "en"


def sure_label(probabilities: dict[str, float]) -> str | None:
    """The most probable label if its probability reaches _UNSURE, else None ("not sure")."""
    label, p = top_label(probabilities)
    return label if p >= _UNSURE else None


def _guess(probabilities: dict[str, float], name, abstain: bool = False) -> str:
    """The top answer with its probability and the next two; with `abstain`, "not sure" instead of an
    answer below _UNSURE (the probabilities still shown)."""
    label, p = top_label(probabilities)
    others = [f"{name(other)} {_percent(q)}" for other, q in sorted(probabilities.items(), key=lambda x: -x[1])[1:3]]
    if abstain and p < _UNSURE:
        return (f"**not sure** (no answer reaches {_percent(_UNSURE)}: {name(label)} {_percent(p)}"
                + (f", {', '.join(others)}" if others else "") + ")")
    sure = "" if p >= _UNSURE else " (the model is not sure)"
    return f"**{name(label)}**, {_percent(p)} likely{sure}" + (f"; then {', '.join(others)}" if others else "")


def _said(transcript: list[dict]) -> list[str]:
    """The listener's transcript as list lines: one stretch plainly, several with their times and language."""
    if not transcript:
        return []
    if len(transcript) == 1:
        return [f"- **What was said** (as Whisper base heard it): *{transcript[0]['text'] or '(nothing clear)'}*"]
    return ["- **What was said**, per language (as Whisper base heard it):"] + [
        f"  - {s['start']:.0f}-{s['end']:.0f} s, {language_name(s['language'])}: *{s['text'] or '(nothing clear)'}*"
        for s in transcript]


def describe_predictions(predictions: dict, model_name: str, voice: dict | None = None) -> str:
    """What the model heard, in words, with each probability explained; `voice` (coach.voice.voice_facts)
    adds the voice's measured facts beside the emotion. Accent and emotion say "not sure" below 50%."""
    lines = [f"What the model *{model_name}* heard. A percentage is how likely the model thinks each answer is; "
             "they add up to 100% for each question."]
    if "language" in predictions:
        lines.append("- **Language:** " + _guess(predictions["language"], language_name))
        windows = predictions.get("windows", [])
        if len(windows) > 1:
            parts = [f"{w['start']:.0f}-{w['end']:.0f} s: {language_name(top_label(w['language'])[0])}"
                     for w in windows if "language" in w]
            lines.append(f"  - judged over {len(windows)} windows of about 4 s, weighted by their speech: "
                         + "; ".join(parts))
    lines.extend(_said(predictions.get("transcript", [])))
    experimental = set(predictions.get("experimental", []))

    def caveat(task: str) -> str:
        return (" *(experimental: no real speakers it never heard confirm it yet, so read it as a hint, not a verdict)*"
                if task in experimental else "")

    if accent_applies(predictions):
        lines.append("- **Accent:** " + _guess(predictions["accent"], accent_name, abstain="accent" in ABSTAINING)
                     + caveat("accent"))
    if "emotion" in predictions:
        lines.append("- **Emotion in the voice:** " + _guess(predictions["emotion"], lambda e: _EMOTIONS.get(e, e),
                                                              abstain="emotion" in ABSTAINING) + caveat("emotion"))
    if voice:
        lines.append(describe_voice(voice))
    if "command" in predictions:
        lines.append("- **Voice command** (for single words such as *yes*, *stop*, *left*): "
                     + _guess(predictions["command"], command_name) + caveat("command"))
    note = "Skill scores (accuracy, fluency, ...) need a reference to compare with: use the **Pronounce** tab."
    return lines[0] + "\n\n" + "\n".join(lines[1:]) + "\n\n" + note


def _skill_table(result: dict) -> str:
    rows = ["| score | 0-100 | what it measures |", "| --- | ---: | --- |"]
    for skill in RESULT_SCORES:
        value = "not scored" if result[skill] is None else f"**{result[skill]:.0f}**"
        rows.append(f"| {skill} | {value} | {SKILL_MEANINGS[skill]} |")
    table = "\n".join(rows)
    reasons = [f"*{skill.capitalize()} is not scored:* {why}" for skill, why in result.get("not_scored", {}).items()]
    return "\n\n".join([table, *reasons])


def _points(value: float | None, sign: bool = False) -> str:
    """A score (or a change, with its sign) as the tables show it; "-" when it is not scored."""
    if value is None:
        return "-"
    points = int(round(value))  # an int has no -0: a change of -0.4 reads "+0", never "-0"
    return f"{points:+d}" if sign else f"{points:d}"


def _reference_label(source: str) -> str:
    if source.startswith("library:"):
        phrase = library_phrase(source.split(":", 1)[1])
        if phrase is not None and phrase.synthetic:
            voice = phrase.voice.removesuffix(" (synthetic)")
            return f"the built-in phrase read by a computer voice ({voice}, synthetic)"
        return "a native speaker's recording from the built-in library"
    if source.startswith("synthesised"):
        return "a computer voice reading your text (espeak-ng)"
    return "your teacher's recording"


def describe_pronunciation(result: dict) -> str:
    """Overall and per-skill scores with their meaning, the words to work on, timing and one tip."""
    details = result["details"]
    text = details.get("reference_text")
    lines = [f"### Overall {result['overall']:.0f} / 100",
             f"Compared with {_reference_label(details['reference'])}" + (f': *"{text}"*' if text else "") + "."]
    if details.get("reference_text_heard"):
        lines.append("These are the words the listener heard in your teacher's recording; type its text for word "
                     "scores against exactly what the teacher said.")
    heard = result.get("heard")
    if result.get("another_sentence"):
        lines.append(f"**This sounds like another sentence.** We heard *\"{heard['transcript']}\"*, not the text "
                     "you chose, so the scores below say little. Read the sentence shown, then try again.")
        lines.append(_skill_table(result))
        return "\n\n".join(lines)
    if heard is not None:
        lines.append(f"What the listener heard: *\"{heard['transcript']}\"*.")
    lines.append(_skill_table(result))
    units = result.get("words") or result["segments"]
    flagged = [u for u in units if u.get("miscue", "none") != "none"]
    if flagged:
        named = [f"**{u.get('word') or u.get('label') or 'extra sound'}** ({MISCUE_NAMES.get(u['miscue'], u['miscue'])}"
                 + (f", heard as *{u['heard_as']}*"
                    if u.get("heard_as") and u["heard_as"] != normalise_word(u.get("word") or "") else "")
                 + f", {u['start']:.1f}-{u['end']:.1f} s)" for u in flagged[:6]]
        lines.append("Work on: " + "; ".join(named) + ".")
    else:
        lines.append("No word stood out as unclear.")
    timing = (f"You spoke for {details['speech_s']:.1f} s (reference {details['reference_speech_s']:.1f} s) with "
              f"{details['pauses']} pause(s) (reference {details['reference_pauses']}).")
    if details.get("speech_rate_wpm"):
        timing += f" That is {details['speech_rate_wpm']:.0f} words a minute."
    lines.append(timing)
    weakest = min((s for s in SKILLS if result[s] is not None), key=lambda s: result[s])
    if result[weakest] < _GOOD:
        lines.append(f"**Tip ({weakest}, your lowest score):** {SKILL_TIPS[weakest]}")
    else:
        lines.append(f"**Well done:** every score is {_GOOD} or more. Try a longer phrase, or say it a little faster.")
    return "\n\n".join(lines)


def describe_comparison(comparison: dict) -> str:
    """Both attempts' scores side by side, the change per skill, and the words that changed most."""
    a, b, difference = comparison["a"], comparison["b"], comparison["difference"]
    rows = ["| score | attempt A | attempt B | change |", "| --- | ---: | ---: | ---: |"]
    for skill in RESULT_SCORES:
        rows.append(f"| {skill} | {_points(a[skill])} | {_points(b[skill])} | "
                    f"{_points(difference[skill], sign=True)} |")
    change = difference["overall"]
    verdict = ("Attempt B is better overall." if change >= 3 else "Attempt A is better overall." if change <= -3
               else "The two attempts are about as good overall (within 3 points).")
    lines = [f"### {verdict}", "A positive change means attempt B scored higher. Scores are 0-100.", "\n".join(rows)]
    for skill, why in {**a.get("not_scored", {}), **b.get("not_scored", {})}.items():
        lines.append(f"*{skill.capitalize()} is not scored:* {why}")
    heard = {name: result["heard"]["transcript"] for name, result in (("A", a), ("B", b)) if result.get("heard")}
    if heard:
        lines.append("What the listener heard: "
                     + "; ".join(f'attempt {name} *"{text}"*' for name, text in heard.items()) + ".")
    another = comparison.get("another_sentence") or []
    if another:
        which = "Both attempts sound" if len(another) == 2 else f"Attempt {another[0]} sounds"
        lines.append(f"**{which} like another sentence than the reference**, so their words are not compared.")
    words = sorted(comparison["words"], key=lambda w: w["difference"])
    if words:
        worse = [f"**{w['word']}** ({w['difference']:+.0f})" for w in words[:3] if w["difference"] <= -5]
        better = [f"**{w['word']}** ({w['difference']:+.0f})" for w in words[::-1][:3] if w["difference"] >= 5]
        lines.append("Words that improved: " + (", ".join(better) if better else "none by 5 points or more") + ".")
        lines.append("Words that got worse: " + (", ".join(worse) if worse else "none by 5 points or more") + ".")
    return "\n\n".join(lines)


def describe_recommendation(recommendation: dict) -> str:
    """The exercise, why it was chosen, and what to do."""
    exercise = recommendation["exercise"]
    reference = exercise["reference"]
    lines = [f"### {exercise['title']}",
             f"**Why:** {recommendation['explanation']}",
             f"**What to do:** {exercise['instructions']}",
             f"**Say:** *{reference['text']}* ({language_name(reference['language'])})",
             f"Trains **{exercise['skill']}** ({SKILL_MEANINGS[exercise['skill']]})."]
    if recommendation.get("explored"):
        lines.append("This one is partly a try-out: your thumbs up or down teach the coach what helps you.")
    if recommendation.get("pending"):
        lines.append("You have not practised this one yet: it stays until you do. A thumbs down sets it aside "
                     "for another.")
    return "\n\n".join(lines)


def phrase_label(text: str, exercises: list[str] = ()) -> str:
    """A practised phrase as a choice: its text (cut at 70 characters) and the exercises that read it."""
    short = text if len(text) <= 70 else text[:69] + "…"
    return short + (f" (exercise: {', '.join(exercises)})" if exercises else "")


def selection_name(language: str | None, item: str) -> str:
    """What Progress shows, in words: "English, every phrase" or 'English: "Good morning."'; "" for nothing."""
    if not language:
        return ""
    return f'{language_name(language)}: "{phrase_label(item)}"' if item else f"{language_name(language)}, every phrase"


def describe_progress(summary: list[dict], attempts: int, selection: str = "") -> str:
    """The progress table of one selection (`selection`, e.g. "English, every phrase"): first, latest and
    best per skill, with the columns explained, and a tip on the weakest skill by the table's own numbers."""
    if attempts == 0:
        return ("No scored attempts yet" + (f" for {selection}" if selection else "") + ". Practise on the "
                "**Pronounce** tab and your scores will appear here, kept under the learner id stored in this browser.")
    rows = ["| score | attempts | first | latest | best | change |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for row in summary:
        if row["attempts"]:
            rows.append(f"| {row['skill']} | {row['attempts']} | {_points(row['first'])} | {_points(row['latest'])} | "
                        f"{_points(row['best'])} | {_points(row['change'], sign=True)} |")
    lines = [(f"### {selection}\n\n" if selection else "") +
             f"**{attempts} attempt(s)** stored. Scores are 0-100. *First* is the mean of your first three attempts, "
             "*latest* the mean of your last three (one reading varies by several points), *change* = latest - first.",
             "\n".join(rows)]
    weakest = weakest_skill(summary)
    if weakest is not None:
        lines.append(f"**Tip:** your {weakest['skill']} ({points(weakest['latest'])}/100 latest) is your weakest "
                     f"skill here. {SKILL_TIPS[weakest['skill']]}")
    return "\n\n".join(lines)


def describe_speaking(result: dict) -> str:
    """A free-speech assessment (speak.assess_speech) for the learner: scores, what was heard, the
    fluency facts and the one tip."""
    prompt = result.get("prompt")
    lines = [f"### Overall {result['overall']:.0f} / 100"]
    if prompt:
        lines.append(f"Your answer to *\"{prompt['text']}\"* ({prompt['level']}).")
    lines.append(f"| Pronunciation | Fluency |\n|---|---|\n| {result['pronunciation']:.0f} | {result['fluency']:.0f} |")
    lines.append(f"What the listener heard ({language_name(result['language'])}): *\"{result['transcript']}\"*")
    rate = result["speech_rate_wpm"]
    facts = [f"{rate:.0f} words a minute" if rate is not None else None,
             f"{result['articulation_rate']:.1f} syllables a second while speaking"
             if result["articulation_rate"] else None,
             f"{result['pauses']} pause(s) of 250 ms or more",
             f"{result['mean_length_of_run_s']:.1f} s of speech between pauses on average"
             if result["mean_length_of_run_s"] is not None else None]
    if result["fillers"]:
        facts.append(f"{result['fillers']} hesitation(s) like \"um\"")
    lines.append("You spoke " + "; ".join(f for f in facts if f) + ".")
    if not result.get("complete", True):
        lines.append("The listener lost track in part of the recording: the transcript may be incomplete.")
    lines.append(f"**Tip:** {result['tip']}")
    return "\n\n".join(lines)
