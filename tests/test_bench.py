"""`python benchmarks/bench.py` runs and writes its report (a few cheap sections; the figures themselves are
measured by the benchmark, never asserted here)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench.py"), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)


def test_quick_run_writes_the_report(tiny_model_dir, tmp_path):
    out = tmp_path / "BENCHMARKS.md"
    result = bench("--quick", "--model", str(tiny_model_dir), "--out", str(out), "--sections", "load,dtw")
    assert result.returncode == 0, result.stderr[-3000:]
    report = out.read_text()
    for expected in ("## Machine", "| CPU |", "| torch |", "| transformers |", "| python |",
                     "model load (load_model from disk) | 1 |", "model load (load_model from disk) | 2 |",
                     "exact DTW (numba) 300x350", "fastdtw radius 1 (pure Python) 1000x1000",
                     "ratio fastdtw / exact DTW 1000x1000", "python benchmarks/bench.py", "IQR"):
        assert expected in report, expected
    assert "## Results" in result.stdout  # the table is printed too


def test_a_missing_model_is_a_clear_error(tmp_path):
    result = bench("--quick", "--model", str(tmp_path / "nowhere"), "--out", str(tmp_path / "B.md"))
    assert result.returncode == 2
    assert "no SpeakSphere model" in result.stderr and "--model" in result.stderr
    assert not (tmp_path / "B.md").exists()


def test_validity_errors_change_only_the_injected_words():
    """The validity set's error readings keep the text's punctuation and case (commas shape the phrasing
    that the native readings and the references have); only the injected word changes."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench import repository_module

    inject = repository_module("benchmarks/pronunciation_validity.py").inject
    text = "Please enter your phone number, starting with the area code."
    assert inject(text, {4: ""}) == "Please enter your phone, starting with the area code."
    assert inject(text, {1: "enter enter"}) == "Please enter enter your phone number, starting with the area code."
    assert inject(text, {}, pause_after=4) == "Please enter your phone number, <pause> starting with the area code."
    assert inject(text, {}, pause_after=3) == "Please enter your phone <pause> number, starting with the area code."
    assert inject(text, {2: "[[j0r]]", 5: ""}) == "Please enter [[j0r]] phone number, with the area code."
