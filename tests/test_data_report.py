"""The data report counts clips, hours and voices per task, class and split, and draws its figures."""

import json

import librosa
import soundfile as sf

from speaksphere.data.manifest import new_row, write_manifest
from speaksphere.data.report import write_report
from speaksphere.tts import synthesize


def test_report_counts_and_figures(tmp_path):
    rows = []
    plan = [("espeak:f3", "train", "en-us+f3", "happy"), ("espeak:f3", "train", "en-gb+f3", "sad"),
            ("espeak:m3", "test", "en-us+m3", "happy"), ("asterisk:allison", "val", "en-us+f2", "")]
    for i, (voice, split, engine_voice, emotion) in enumerate(plan):
        wave, rate = synthesize("Good morning to you.", engine_voice)
        sf.write(tmp_path / f"{i}.flac", librosa.resample(wave, orig_sr=rate, target_sr=16000), 16000)
        rows.append(new_row(audio=f"{i}.flac", voice=voice, source=voice.split(":")[0], real=int("asterisk" in voice),
                            text="Good morning to you.", language="en", accent="en-GB" if "gb" in engine_voice else
                            "en-US", emotion=emotion, split=split, duration_s=len(wave) / rate))
    write_manifest(rows, tmp_path / "manifest.csv")
    summary = write_report(tmp_path / "manifest.csv", tmp_path / "report")
    assert summary["clips"] == 4 and summary["voices"] == 3 and summary["real_voices"] == ["asterisk:allison"]
    happy = summary["tasks"]["emotion"]["happy"]
    assert happy["train"]["clips"] == 1 and happy["test"]["voices"] == 1 and happy["val"]["clips"] == 0
    assert summary["tasks"]["language"]["en"]["train"]["voices"] == 1
    assert summary["tasks"]["command"] == {} and summary["voices_in_two_splits"] == []
    assert json.loads((tmp_path / "report" / "summary.json").read_text())["per_voice"]["espeak:f3"] == {"train": 2}
    for name in ("README.md", "durations.png", "balance_emotion.png", "sources_accent.png", "spectrograms_emotion.png"):
        assert (tmp_path / "report" / name).stat().st_size > 0
    assert "| happy | 1 / 1 /" in (tmp_path / "report" / "README.md").read_text()
