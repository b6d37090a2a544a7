"""Real learners as manifest rows (speechocean762's train split), their folds by speaker, and the
language bias fitted on held-out speakers. A small stand-in tree: the corpus is never needed by the tests."""

import numpy as np
import pytest
import soundfile as sf
import torch

from speaksphere.data.manifest import as_recorded, read_manifest, write_manifest
from speaksphere.data.speechocean import learner_rows, main, read_train_split, telephone_band
from speaksphere.training.choose import choose_gate, choose_shift
from speaksphere.training.heads import WindowSet
from speaksphere.training.held_out import folds
from speaksphere.training.out_of_fold import Part
from speaksphere.whisper.language import language_log_probabilities, whisper_languages

RATE = 16000


def _tree(root, speakers=("0001", "0002", "0003"), per_speaker=2):
    """A speechocean762-shaped tree: WAVE/SPEAKERxxxx/*.WAV and Kaldi lists for train and test."""
    rng = np.random.default_rng(0)
    for split, offset in (("train", 0), ("test", 5)):
        lines = {name: [] for name in ("text", "wav.scp", "utt2spk")}
        ages = []
        for s, speaker in enumerate(speakers):
            speaker = f"{int(speaker) + offset:04d}"
            ages.append(f"{speaker}\t{8 + 10 * s}")
            for u in range(per_speaker):
                utt = f"{speaker}{u:05d}"
                path = root / "WAVE" / f"SPEAKER{speaker}" / f"{utt}.WAV"
                path.parent.mkdir(parents=True, exist_ok=True)
                noise = (0.1 * rng.standard_normal(RATE)).astype(np.float32)
                sf.write(path, noise, RATE, subtype="PCM_16")  # full band
                lines["text"].append(f"{utt}\tWE CALL IT BEAR")
                lines["wav.scp"].append(f"{utt}\tWAVE/SPEAKER{speaker}/{utt}.WAV")
                lines["utt2spk"].append(f"{utt} {speaker}")
        (root / split).mkdir(parents=True, exist_ok=True)
        for name, content in lines.items():
            (root / split / name).write_text("\n".join(content) + "\n")
        (root / split / "spk2age").write_text("\n".join(ages) + "\n")
    return root


def test_only_the_train_split_becomes_rows_each_also_through_a_telephone_band(tmp_path):
    root = _tree(tmp_path / "so762")
    utterances = read_train_split(root)
    assert len(utterances) == 6 and {u["speaker"] for u in utterances} == {"0001", "0002", "0003"}  # no test speaker
    rows = learner_rows(utterances, tmp_path / "corpus")
    write_manifest(rows, tmp_path / "corpus" / "manifest.csv")
    rows = read_manifest(tmp_path / "corpus" / "manifest.csv", absolute=True)
    assert len(rows) == 12 and all(as_recorded(r) for r in rows)
    assert {(r["language"], r["accent"], r["emotion"], r["real"]) for r in rows} == {("en", "L1-zh", "neutral", "1")}
    assert {r["augmentation"] for r in rows} == {"", "band:8k"} and rows[0]["text"] == "we call it bear"
    wide, _ = sf.read(rows[0]["audio"])
    narrow, rate = sf.read(rows[1]["audio"])
    assert rate == RATE and len(narrow) == len(wide)

    def above_4k(wave):
        power = np.abs(np.fft.rfft(wave)) ** 2
        return power[np.fft.rfftfreq(len(wave), 1 / RATE) > 4100].sum() / power.sum()

    assert above_4k(wide) > 0.4 and above_4k(narrow) < 1e-3  # white noise vs the telephone band


def test_a_folder_that_is_not_the_corpus_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr("sys.argv", ["speechocean", "--root", str(tmp_path), "--out", str(tmp_path / "out")])
    with pytest.raises(SystemExit, match="not an exported speechocean762 tree"):
        main()
    assert not (tmp_path / "out").exists()


def test_telephone_band_keeps_speech_band_energy():
    t = np.arange(RATE) / RATE
    tone = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    out = telephone_band(tone)
    assert out.shape == tone.shape and abs(np.std(out[1000:-1000]) - np.std(tone)) < 0.01


def test_learners_are_held_out_in_folds_by_speaker_and_real_voices_alone():
    rows = [{"voice": f"speechocean762:{s:04d}", "source": "speechocean762", "real": "1"}
            for s in range(12) for _ in range(2)]
    rows += [{"voice": "asterisk:June", "source": "asterisk", "real": "1"},
             {"voice": "espeak:en", "source": "espeak", "real": "0"}]
    found = folds(rows, learner_folds=5)
    assert set(found) == {f"speechocean762/{k}" for k in range(1, 6)} | {"asterisk:June"}
    speakers = [{rows[i]["voice"] for i in found[f"speechocean762/{k}"]} for k in range(1, 6)]
    assert sum(len(s) for s in speakers) == 12 and not set.intersection(*speakers[:2])  # a speaker in one fold only
    assert list(found["asterisk:June"]) == [24]


def test_accented_english_weight_is_chosen_keeping_the_natives_and_answering_the_learners():
    labels = ["en", "fr"]
    known = list(whisper_languages())
    en, fr, zh = known.index("en"), known.index("fr"), known.index("zh")

    def whisper(rows):  # (n, 99) logits: the named languages' probabilities, the rest near nothing
        logits = torch.full((len(rows), 99), -30.0)
        for i, (p_en, p_fr, p_zh) in enumerate(rows):
            logits[i, [en, fr, zh]] = torch.log(torch.tensor([p_en, p_fr, p_zh]))
        return logits

    # learners: half of them heard as French over English, with much Mandarin; French natives: little Mandarin
    learners = whisper([(0.2, 0.3, 0.5)] * 10 + [(0.6, 0.1, 0.3)] * 10)
    natives = whisper([(0.3, 0.65, 0.05)] * 10)

    def part(name, logits, label):
        data = WindowSet(torch.zeros(len(logits), 1, 1), logits, {"language": torch.full((len(logits),), label)},
                         np.arange(len(logits)))
        return Part(name, name, "language", data, language_log_probabilities(logits, labels), labels)

    class Encodings:  # one window a recording, 2 s of speech each
        clip = np.arange(20)
        speech_s = np.full(20, 2.0)

    parts = [part("speechocean762/1", learners, 0), part("asterisk:june", natives, 1)]
    weight, table = choose_shift(parts, Encodings, "zh", grid=(0.0, 1.0, 20.0))
    assert [row["learners"] for row in table] == [0.5, 1.0, 1.0] and table[2]["natives"] < 1.0 == table[0]["natives"]
    assert weight == 1.0  # 20 answers every learner English too, but turns a French native into English


def test_what_held_out_people_are_told_is_pooled_per_group_label_and_band():
    from speaksphere.training.out_of_fold import people, shares

    labels = ["neutral", "sad", "happy"]
    rows = [{"emotion": "neutral", "augmentation": a} for a in ("", "band:8k", "", "")]

    class Encodings:
        clip = np.array([0, 1, 2, 2, 3])  # clip 2 has two windows: the vote weighs them by speech
        speech_s = np.array([2.0, 2.0, 3.0, 1.0, 2.0])

    # clip 0 sure neutral; clip 1 (8 kHz) sure sad; clip 2 leans sad over its speech ((3 x 0.7 + 0.1) / 4 = 0.55);
    # clip 3 neutral but unsure (0.45): every probability here is after calibration (temperature 1)
    probabilities = np.array([[0.9, 0.05, 0.05], [0.1, 0.8, 0.1], [0.2, 0.7, 0.1], [0.8, 0.1, 0.1], [0.45, 0.3, 0.25]])
    data = WindowSet(torch.zeros(5, 1, 1), None, {"emotion": torch.zeros(5, dtype=torch.long)}, np.arange(5))
    part = Part("speechocean762/1", "speechocean762/1", "emotion", data, torch.log(torch.tensor(probabilities)), labels)
    found = shares([part], {"speechocean762/1": (1.0, 1.0)}, Encodings, rows)["speechocean762/1"]["neutral"]
    assert found["8k"] == {"recordings": 1, "answers": {"sad": 1.0}, "sure": {"sad": 1.0}}
    recorded = found["as recorded"]
    assert recorded["recordings"] == 3 and recorded["answers"] == {"neutral": 0.6667, "sad": 0.3333}
    assert recorded["sure"] == {"neutral": 0.3333, "sad": 0.3333}  # clip 3's neutral (0.45) is not sure
    pooled = people({"head/emotion": {"speechocean762/1": {"neutral": found}, "asterisk:June": {"neutral": found}}})
    assert pooled["head/emotion"]["learners"]["neutral"]["8k"]["recordings"] == 1
    assert pooled["head/emotion"]["natives"]["neutral"]["as recorded"]["answers"]["sad"] == 0.3333


def test_accent_gate_is_the_loosest_that_keeps_native_english_from_a_learners_accent():
    labels = ["en-US", "L1-zh"]
    zh = list(whisper_languages()).index("zh")

    def part(name, truth, head, log_zh):  # head: the accent head's logits; log_zh: Whisper's log p(zh) a window
        whisper = torch.zeros(len(head), 99)
        for i, value in enumerate(log_zh):  # put exp(value) on zh, the rest spread over the other 98
            p = np.exp(value)
            whisper[i] = float(np.log((1 - p) / 98))
            whisper[i, zh] = float(value)
        data = WindowSet(torch.zeros(len(head), 1, 1), whisper, {"accent": torch.full((len(head),), truth)},
                         np.arange(len(head)))
        return Part(name, name, "accent", data, torch.tensor(head), labels)

    class Encodings:
        clip = np.arange(10)
        speech_s = np.full(10, 2.0)

    # learners: the head says L1-zh; Whisper hears Mandarin at log p -1 (6 of them) or -5 (4)
    learners = part("speechocean762/1", 1, [[0.0, 3.0]] * 10, [-1.0] * 6 + [-5.0] * 4)
    # a native voice the head takes for a learner half the time; Whisper hears little Mandarin (-9), once -4
    natives = part("asterisk:allison", 0, [[0.0, 3.0]] * 5 + [[3.0, 0.0]] * 5, [-9.0] * 4 + [-4.0] + [-9.0] * 5)
    grid = (-np.inf, -6.0, -4.5, -2.0)
    threshold, table = choose_gate([learners, natives], Encodings, "L1-zh", "zh", "en-US", grid=grid)
    by = {row["threshold"]: row for row in table}
    # no gate: half the native taken for a learner
    assert by[-np.inf]["natives"] == 0.5 and by[-np.inf]["learners"] == 1.0
    assert by[-6.0]["natives"] == 0.1 and by[-6.0]["learners"] == 1.0
    assert threshold == -6.0 and by[-2.0]["learners"] == 0.6  # the loosest gate with at most 10% of natives


def test_a_closed_gate_gives_probability_zero_at_any_temperature_and_no_evidence_no_gate():
    from speaksphere.whisper.language import gated

    zh = list(whisper_languages()).index("zh")
    whisper = torch.zeros(2, 99)
    whisper[0, zh] = 10.0  # Whisper sure of Mandarin: the gate stays open
    logits = torch.tensor([[0.0, 3.0], [0.0, 3.0]])
    out = gated(logits, ["en-US", "L1-zh"], whisper, {"L1-zh": ["zh", -4.0]})
    assert out[0, 1] == 3.0 and out[1, 1] == float("-inf") and logits[1, 1] == 3.0  # the input is left as it was
    for temperature in (0.1, 1.0, 20.0):
        assert torch.softmax(out / temperature, -1)[1, 1] == 0.0
    assert torch.equal(gated(logits, ["en-US", "en-GB"], whisper, {"L1-zh": ["zh", -4.0]}), logits)  # no such label

    class Encodings:
        clip = np.arange(2)
        speech_s = np.full(2, 2.0)

    data = WindowSet(torch.zeros(2, 1, 1), whisper, {"accent": torch.tensor([1, 1])}, np.arange(2))
    learners = Part("speechocean762/1", "speechocean762/1", "accent", data, logits, ["en-US", "L1-zh"])
    threshold, table = choose_gate([learners], Encodings, "L1-zh", "zh", "en-US", grid=(-np.inf, -4.0))
    assert threshold == -np.inf and np.isnan(table[0]["natives"])  # no native English held out: the gate stays open
