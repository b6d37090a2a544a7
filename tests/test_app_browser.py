"""End to end in a real browser: Debian's chromium, driven by Python playwright, uploads a recording in
each tab and checks what renders. Screenshots land in test-artifacts/browser/ (ignored by git)."""

import re
import shutil
from pathlib import Path

import pytest

from launching import serve_app
from speaksphere.app.ui import phrase_choices
from speaksphere.coach import settings_with_model
from speaksphere.pronounce.references import LANGUAGE_NAMES, LIBRARY_DIR, library
from speaksphere.settings import Settings

playwright = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
# flags from shared/DATA.md: headless, no sandbox (root in a container), nothing that calls out
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "browser"
PHRASE = next(p for p in library("en") if p.id == "en-auth-incorrect")  # the phrase the test reads
WAIT_MS = 120_000  # a slow shared CI core can take a while for the first scoring

pytestmark = pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason=f"{CHROMIUM} is not installed")


@pytest.fixture(scope="module")
def url(tiny_model_dir, database):
    settings = settings_with_model(Settings(), tiny_model_dir)
    with serve_app(settings, database) as demo:
        yield demo.local_url


@pytest.fixture(scope="module")
def page(url):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        page.goto(url)
        yield page
        browser.close()


def shoot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def upload(page, elem_id: str, path: Path) -> None:
    page.locator(f"#{elem_id} input[type=file]").set_input_files(str(path))
    page.locator(f"#{elem_id} audio, #{elem_id} .waveform-container").first.wait_for(state="attached")


def shown_learner_id(page) -> str:
    """The id in Progress > My data (tabs and accordions render when first opened)."""
    tab(page, "Progress")
    field = page.locator("#learner-id textarea")
    if not field.is_visible():
        page.get_by_text("My data: export or delete").click()
    page.wait_for_function("() => document.querySelector('#learner-id textarea')?.value.length === 32")
    return field.input_value()


def test_1_learner_id_is_kept_in_the_browser(page):
    first = shown_learner_id(page)
    page.reload()
    assert shown_learner_id(page) == first  # the same learner after a reload: gr.BrowserState kept it
    shoot(page, "0-learner-id")


FIGURES = ".gradio-plot img, [data-testid='matplotlib'] img, img[src*='data:image']"  # a drawn matplotlib figure


def test_2_analyze(page, speech_with_pause, tmp_path):
    import soundfile as sf

    wave, rate, _ = speech_with_pause
    path = tmp_path / "my-recording.wav"
    sf.write(path, wave, rate)
    tab(page, "Analyze")
    upload(page, "analyze-audio", path)
    page.get_by_role("button", name="Analyze", exact=True).click()
    page.get_by_text("s of speech").wait_for()
    page.get_by_text("What the model").first.wait_for()
    page.get_by_text("What was said").first.wait_for()  # the listener's transcript (issue 39)
    assert page.get_by_text("pause(s)").count() >= 1
    page.locator(FIGURES).nth(1).wait_for()  # the figures follow the text (/analysis_figures)
    shoot(page, "1-analyze")


def test_3_pronounce(page):
    tab(page, "Pronounce")
    phrase_input = page.locator("input[aria-label^='Built-in phrase']").first
    phrase_input.click()
    phrase_input.fill("")
    phrase_input.press_sequentially(PHRASE.text[:20])  # typed, so that the list filters (it shows 100 at most)
    page.get_by_role("option", name=f"English: {PHRASE.text}").click()
    page.get_by_role("button", name="Listen to the reference").click()
    upload(page, "pronounce-attempt", LIBRARY_DIR / PHRASE.file)
    page.get_by_role("button", name="Score my attempt").click()
    page.get_by_text("Overall", exact=False).first.wait_for()
    page.get_by_text(re.compile(r"^(Tip \(|Well done)")).wait_for()
    for word in ("accuracy", "fluency", "prosody", "completeness", "coherence"):
        assert page.get_by_text(word, exact=True).count() >= 1
    page.locator(FIGURES).nth(4).wait_for()  # 2 of Analyze + word table, spectrograms, pitch (/pronunciation_figures)
    shoot(page, "2-pronounce")


def test_3b_pronounce_lists_phrases_by_language_and_level(page):
    """A learner narrows the built-in phrases to one language and level (issue 39); each label names its voice."""
    page.reload()
    tab(page, "Pronounce")
    for label, choice in (("Phrases in", "French"), ("Level (CEFR)", "B1")):
        field = page.locator(f"input[aria-label='{label}']").first
        field.click()
        page.get_by_role("option", name=choice, exact=True).click()
        page.get_by_role("option", name=choice, exact=True).wait_for(state="detached")  # the list has closed
    wanted = {text for text, _ in phrase_choices("fr", "B1")}
    phrase_input = page.locator("input[aria-label^='Built-in phrase']").first
    page.wait_for_function("t => document.querySelector(\"input[aria-label^='Built-in phrase']\").value === t",
                           arg=phrase_choices("fr", "B1")[0][0])
    phrase_input.click()
    options = page.get_by_role("option")
    page.get_by_role("option", name=phrase_choices("fr", "B1")[-1][0]).wait_for()
    shown = {text.removeprefix("✓").strip() for text in options.all_inner_texts()}  # the chosen one is ticked
    assert shown == wanted and all("(B1, " in text and "synthetic voice" in text for text in shown)
    shoot(page, "2b-library-french-b1")
    page.keyboard.press("Escape")


def test_4_compare(page, speech, tmp_path):
    import soundfile as sf

    other = tmp_path / "another-sentence.wav"
    sf.write(other, *speech)
    tab(page, "Compare")
    phrase_input = page.locator("input[aria-label^='Built-in phrase']").nth(1)
    phrase_input.click()
    phrase_input.fill("")
    phrase_input.press_sequentially(PHRASE.text[:20])  # typed, so that the list filters (it shows 100 at most)
    page.get_by_role("option", name=f"English: {PHRASE.text}").click()
    upload(page, "compare-a", other)
    upload(page, "compare-b", LIBRARY_DIR / PHRASE.file)
    page.get_by_role("button", name="Compare", exact=True).click()
    page.get_by_text("Attempt B is better overall").wait_for()
    page.get_by_text(re.compile("What the listener heard: attempt A .*; attempt B")).wait_for()  # both (issue 39)
    shoot(page, "3-compare")


def test_5_progress_recommendation_and_thumbs(page):
    tab(page, "Progress")
    page.get_by_role("button", name="Show my progress").click()
    page.get_by_text("attempt(s)").first.wait_for()
    page.get_by_role("button", name="Suggest an exercise").click()
    page.get_by_text("Why:").wait_for()
    page.get_by_role("button", name="Thumbs up: helpful").click()
    page.get_by_text("Thanks: the coach will suggest more").wait_for()
    page.get_by_role("button", name="Suggest an exercise").click()  # not practised yet: the same one stays
    page.get_by_text("You have not practised this one yet").wait_for()
    shoot(page, "4-progress")
    # the sentence after "Say:" (whatever its last mark: "." picked another line's words when it ended in "?")
    exercise_text = page.locator("p").filter(has_text="Say:").last.locator("em").first.inner_text()
    page.get_by_role("button", name="Practise it on Pronounce").click()
    page.get_by_role("button", name="Score my attempt").wait_for(state="visible")
    page.wait_for_function("(t) => [...document.querySelectorAll('textarea, input')].some(a => a.value.includes(t))",
                           arg=exercise_text)  # the exercise's sentence is now the reference (typed or built-in)
    shoot(page, "4b-practise-on-pronounce")


def test_6_about(page):
    tab(page, "About")
    page.get_by_text("Limits, honestly").wait_for()
    page.get_by_text("Model card").first.wait_for()
    shoot(page, "5-about")


def test_7_progress_after_many_attempts(page, database):
    """The charts read with 100 attempts as with 1 (issue 22): a learner's history written straight into
    the app's store, then shown as the learner would ask for it."""
    import numpy as np

    from speaksphere.learner.store import SKILLS, LearnerStore

    learner_id = shown_learner_id(page)
    store = LearnerStore(database)
    before = sum(1 for a in store.history(learner_id) if a["scores"])  # as the Progress text counts them
    rng = np.random.default_rng(7)
    for n in range(100):  # a learner who improves, with the spread of real readings
        level = 45 + 40 * n / 99
        scores = {skill: float(np.clip(level + rng.normal(0, 8), 0, 100)) for skill in SKILLS}
        scores["prosody"] = None if n % 3 == 0 else scores["prosody"]  # typed texts leave prosody unscored
        scores["overall"] = float(np.mean([v for v in scores.values() if v is not None]))
        store.record_attempt(learner_id, "pronounce", scores, language="en", created_at=1.7e9 + 3600 * n)
    tab(page, "Progress")
    page.get_by_role("button", name="Show my progress").click()
    page.get_by_text(f"{before + 100} attempt(s)").first.wait_for()
    page.locator(FIGURES).last.wait_for()
    shoot(page, "6-progress-100-attempts")


def test_8_a_long_recording(page, speech_with_pause, tmp_path):
    """Two minutes of speech: the analysis answers, its pictures' labels and time axis stay readable."""
    import numpy as np
    import soundfile as sf

    wave, rate, _ = speech_with_pause
    long = np.tile(np.concatenate([wave, np.zeros(rate // 2, wave.dtype)]), int(np.ceil(120 * rate / len(wave))))
    path = tmp_path / "two-minutes.wav"
    sf.write(path, long[: 120 * rate], rate)
    page.reload()  # an empty recorder again: test_1 left its recording in the Analyze tab
    tab(page, "Analyze")
    upload(page, "analyze-audio", path)
    page.get_by_role("button", name="Analyze", exact=True).click()
    page.get_by_text("in a 120.0 s recording").first.wait_for()
    page.locator(FIGURES).nth(1).wait_for()
    shoot(page, "7-analyze-two-minutes")


@pytest.mark.parametrize("language", ["es", "fr", "it", "ru"])
def test_9_pronounce_in_each_language(page, language):
    """A native reading of a built-in phrase in each language the library has: names, accents and the
    listener's transcript render (issue 22: texts exactly as spoken)."""
    native = library(language, topic="telephone")
    phrase = sorted(native, key=lambda p: len(p.text))[len(native) // 2]
    page.reload()  # an empty recorder and no earlier scores
    tab(page, "Pronounce")
    phrase_input = page.locator("input[aria-label^='Built-in phrase']").first
    phrase_input.click()
    phrase_input.fill("")
    phrase_input.press_sequentially(phrase.text[:12])  # typed, so that the list filters (it shows 100 at most)
    page.get_by_role("option", name=f"{LANGUAGE_NAMES[language]}: {phrase.text}").click()
    upload(page, "pronounce-attempt", LIBRARY_DIR / phrase.file)
    page.get_by_role("button", name="Score my attempt").click()
    page.get_by_text(f'"{phrase.text}"').first.wait_for()  # "Compared with ...: *text*" of this phrase
    page.get_by_text("What the listener heard").first.wait_for()
    page.locator(FIGURES).nth(4).wait_for()
    shoot(page, f"8-pronounce-{language}")


def test_10_progress_of_two_languages(page):
    """After the readings in es, fr, it and ru: Progress shows one language at a time, chosen in a list."""
    tab(page, "Progress")
    page.get_by_role("button", name="Show my progress").click()
    page.get_by_text("Russian (ru), every phrase").first.wait_for()  # the latest language practised
    chooser = page.locator("input[aria-label='Language']").first
    chooser.click()
    page.get_by_role("option", name="French (fr)").click()
    page.get_by_text("French (fr), every phrase").first.wait_for()
    page.get_by_text("1 attempt(s)").first.wait_for()
    page.get_by_text("is your weakest skill here").first.wait_for()
    shoot(page, "9-progress-french")
    chooser.click()
    page.get_by_role("option", name="English (en)").click()
    page.get_by_text("English (en), every phrase").first.wait_for()
    shoot(page, "9b-progress-english")


def test_11_a_teachers_upload_without_text(page):
    """The words of a teacher's recording given without its text are the words the listener hears in it."""
    page.reload()
    tab(page, "Pronounce")
    page.get_by_text("Teacher's recording", exact=True).first.click()
    upload(page, "pronounce-teacher", LIBRARY_DIR / PHRASE.file)
    upload(page, "pronounce-attempt", LIBRARY_DIR / PHRASE.file)
    page.get_by_role("button", name="Score my attempt").click()
    page.get_by_text("words the listener heard in your teacher's recording").first.wait_for()
    assert page.get_by_text(re.compile(r"#\d")).count() == 0  # words, not "#3, #6"
    page.locator(FIGURES).nth(2).wait_for()
    shoot(page, "10-teacher-without-text")


def test_12_deleting_clears_the_screen(page):
    tab(page, "Progress")
    page.get_by_role("button", name="Suggest an exercise").click()
    page.get_by_text("Why:").wait_for()
    if not page.locator("#learner-id textarea").is_visible():
        page.get_by_text("My data: export or delete").click()
    page.get_by_role("button", name="Export my data").click()
    page.get_by_text(re.compile(r"speaksphere-my-data-.*\.json")).first.wait_for()
    page.get_by_label("I understand that deleting removes all my progress for good").check()
    page.get_by_role("button", name="Delete my data").click()
    page.get_by_text("Deleted:").first.wait_for()
    page.wait_for_function("() => !document.body.innerText.includes('Why:')")  # the old recommendation is gone
    assert page.get_by_text(re.compile(r"speaksphere-my-data-.*\.json")).count() == 0  # and its dead link
    shoot(page, "11-after-deletion")


def test_13_speak_freely(page):
    """A learner picks French at B1, talks (a native French recording stands in), and sees the scores, what
    the listener heard, the words coloured by score and the timeline (issue 35)."""

    french = next(p for p in library("fr", topic="telephone"))
    tab(page, "Speak")
    page.locator("#speak-language input").click()  # other tabs have a "Language" and a "Level" too
    page.get_by_role("option", name="French (fr)").click()
    page.locator("#speak-level input").click()
    page.get_by_role("option", name="B1", exact=True).click()
    page.wait_for_function("() => [...document.querySelectorAll('input')].some(a => a.value.includes('voyage'))")
    upload(page, "speak-audio", LIBRARY_DIR / french.file)
    page.get_by_role("button", name="Assess my speaking").click()
    page.get_by_text("What the listener heard (French").wait_for()
    page.get_by_text("Tip:").first.wait_for()
    page.locator(FIGURES).last.wait_for()  # the timeline follows the answer (/speech_figures)
    shoot(page, "13-speak-french-b1")
