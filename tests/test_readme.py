"""The README keeps its promises to a new user (issues 37 and 39): short, the quickstart on its first screen
with the commands .ci/run runs, no paragraph too long to read, links that resolve, and a library snippet
that runs as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import soundfile as sf

from speaksphere.tts import synthesize

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
LINES = README.splitlines()
FIRST_SCREEN_LINES = 60  # what a visitor sees without scrolling far (the front matter's 13 lines included)
MAX_LINES = 220  # issue 37's target for the whole README
MAX_PARAGRAPH_WORDS = 150
CI_PROGRAM = ("/<!-- test command/ {found=1; next} found && /^```/ {if (inblock) exit; inblock=1; next} "
              "inblock {print; exit}")  # .ci/run's own


def _code_after(heading: str, language: str) -> str:
    part = README[README.index(heading):]
    return re.search(rf"```{language}\n(.*?)```", part, re.DOTALL).group(1)


def _prose_paragraphs() -> list[str]:
    """The README's paragraphs outside the front matter and code blocks: blank-line separated blocks,
    each list item and each table row counted on its own."""
    body = README.split("---\n", 2)[2]
    body = re.sub(r"```.*?```", "", body, flags=re.DOTALL)
    paragraphs = []
    for block in re.split(r"\n\s*\n", body):
        items = re.split(r"\n(?=- |\| )", block)
        paragraphs += [item for item in items if item.strip()]
    return paragraphs


def test_the_readme_is_short_with_short_paragraphs():
    assert len(LINES) <= MAX_LINES, f"README.md has {len(LINES)} lines (at most {MAX_LINES})"
    longest = max(_prose_paragraphs(), key=lambda p: len(p.split()))
    assert len(longest.split()) <= MAX_PARAGRAPH_WORDS, longest[:200]


def test_the_front_matter_makes_it_a_gradio_space():
    front = README.split("---\n", 2)[1]
    assert README.startswith("---\n")
    for key in ("sdk: gradio", "app_file: app.py", 'python_version: "3.11"', "license: mit"):
        assert key in front, key


def test_the_quickstart_is_on_the_first_screen_with_both_commands():
    first_screen = "\n".join(LINES[:FIRST_SCREEN_LINES])
    assert "## Quickstart" in first_screen
    assert "python3.11 -m venv .venv" in first_screen  # a virtual environment
    assert "--index-url https://download.pytorch.org/whl/cpu" in first_screen  # torch's CPU wheel
    first_install = next(i for i, line in enumerate(LINES) if line.startswith("pip install"))
    assert first_install < FIRST_SCREEN_LINES
    assert "pip install -r requirements.txt && python app.py" in first_screen
    assert "<!-- test command: .ci/run reads and runs the line below; keep it one line -->" in first_screen
    ci_line = subprocess.run(["awk", CI_PROGRAM, "README.md"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.strip()
    assert ci_line and ci_line in first_screen  # the very line .ci/run runs
    assert ci_line.endswith("pip install -r requirements.txt -r requirements-train.txt -r requirements-dev.txt"
                            " && python -m pytest")
    assert "`.ci/run` runs exactly this line" in first_screen
    assert README.index("pip install .") < README.index("## The Python API")


def test_the_torch_pin_of_the_quickstart_is_the_requirements_pin():
    pinned = re.search(r"^torch==(\S+)", (ROOT / "requirements.txt").read_text(), re.MULTILINE).group(1)
    assert f"pip install torch=={pinned} --index-url" in README


def test_every_relative_link_resolves_inside_the_repository():
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README)
    relative = [link for link in links if not re.match(r"[a-z]+://", link)]
    assert relative  # the README links to its docs
    for link in relative:
        target = (ROOT / link).resolve()
        assert target.is_relative_to(ROOT) and target.exists(), link
    assert "shared/DATA.md" not in README  # not in the repository


def test_the_readme_links_the_documents_a_newcomer_needs():
    for document in ("docs/ARCHITECTURE.md", "docs/VALIDITY.md", "BENCHMARKS.md", "CHANGELOG.md",
                     "speaksphere/model/speaksphere-small/MODEL_CARD.md", "speaksphere/pronounce/EXPERTS.md"):
        assert f"]({document})" in README, document


def test_the_library_snippet_runs_as_written(tmp_path):
    snippet = _code_after("## The Python API", "python")
    for name in ("load_audio", "load_model", "score_pronunciation", "compare", "assess_speech"):
        assert f"speaksphere.{name}(" in snippet, name
    wave, rate = synthesize("Good morning. How are you today?", voice="en-us")
    sf.write(tmp_path / "my_recording.mp3", wave, rate, format="MP3")
    sf.write(tmp_path / "my_answer.wav", wave, rate)  # the free-speech example's answer, compared too
    # from another folder, as an installed package is used (tests/test_package.py installs it for real)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-c", snippet], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=300, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    printed = run.stdout.lower().splitlines()
    assert printed[1].startswith("en ")  # the language heard, then the first window
    assert "('morning'," in printed[2]  # a score for each expected word
    assert "'overall':" in printed[3]  # compare's differences
    assert "morning" in printed[4]  # the free-speech answer heard
