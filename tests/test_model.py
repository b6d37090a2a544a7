"""The multi-task model: shapes, -100 skipping, loss weights, freezing, self-describing checkpoints."""

import numpy as np
import pytest
import torch
from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor

from speaksphere.model import IGNORE_INDEX, SpeakSphereConfig, SpeakSphereModel, load_model
from test_encoder import tiny_whisper_backbone

TASKS = {"language": ["de", "en", "fr"], "emotion": ["neutral", "happy", "sad", "angry"]}


def tiny_backbone(front_end: str = "waveform") -> dict:
    if front_end == "whisper":  # every input padded to 2 s, as the served windows are all padded to 4 s
        return tiny_whisper_backbone(min_input_s=2.0)
    # layer-normalised front end: unlike wav2vec2-base's group norm, it lets padded batches match
    return Wav2Vec2Config(feat_extract_norm="layer", do_stable_layer_norm=True, hidden_size=32, num_hidden_layers=2,
                          num_attention_heads=2, intermediate_size=64, conv_dim=(32,) * 7,
                          num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=4).to_dict()


def tiny_model(front_end: str = "waveform", **overrides) -> SpeakSphereModel:
    torch.manual_seed(0)
    config = SpeakSphereConfig(backbone=tiny_backbone(front_end), tasks=TASKS, head_hidden=16, **overrides)
    return SpeakSphereModel(config)


def batch(n: int = 3, seconds: float = 1.0):
    x = torch.randn(n, int(16000 * seconds))
    mask = torch.ones_like(x, dtype=torch.long)
    mask[0, x.shape[1] // 2 :] = 0
    return x, mask


def test_logits_per_task_with_the_label_count():
    out = tiny_model()(*batch())
    assert {task: tuple(logits.shape) for task, logits in out.logits.items()} == {"language": (3, 3), "emotion": (3, 4)}
    assert out.loss is None and out.pooled.shape == (3, 32)


def test_ignore_index_skips_a_task():
    model = tiny_model()
    x, mask = batch()
    out = model(x, mask, labels={"language": torch.tensor([0, 1, 2]), "emotion": torch.full((3,), IGNORE_INDEX)})
    assert set(out.task_losses) == {"language"}
    assert torch.allclose(out.loss, out.task_losses["language"])
    out.loss.backward()
    assert all(p.grad is None or not p.grad.abs().sum() for p in model.heads["emotion"].parameters())


def test_unlabelled_batch_gives_a_zero_loss_that_still_backpropagates():
    model = tiny_model()
    out = model(*batch(), labels={"language": torch.full((3,), IGNORE_INDEX)})
    assert out.loss.item() == 0.0
    out.loss.backward()


def test_loss_weights_scale_each_task():
    x, mask = batch()
    labels = {"language": torch.tensor([0, 1, 2]), "emotion": torch.tensor([0, 1, IGNORE_INDEX])}
    plain = tiny_model().eval()(x, mask, labels=labels)
    weighted = tiny_model(loss_weights={"emotion": 3.0}).eval()(x, mask, labels=labels)
    expected = plain.task_losses["language"] + 3.0 * plain.task_losses["emotion"]
    assert torch.allclose(weighted.loss, expected, atol=1e-5)


@pytest.mark.parametrize("front_end", ["waveform", "whisper"])
@pytest.mark.parametrize("pooling", ["mean", "mean_std"])
def test_padding_does_not_change_an_utterance_embedding(pooling, front_end):
    model = tiny_model(front_end, pooling=pooling).eval()
    x = torch.randn(1, 16000)
    padded = torch.cat([x, torch.zeros(1, 8000)], dim=1)
    mask = torch.cat([torch.ones(1, 16000), torch.zeros(1, 8000)], dim=1).long()
    alone = model(x, torch.ones_like(x, dtype=torch.long)).pooled
    assert torch.allclose(alone, model(padded, mask).pooled, atol=1e-4)


@pytest.mark.parametrize("front_end", ["waveform", "whisper"])
def test_freezing(front_end):
    model = tiny_model(front_end)
    model.freeze_feature_encoder()
    stem = model.backbone.feature_extractor if front_end == "waveform" else [model.backbone.conv1, model.backbone.conv2]
    layers = model.backbone.encoder if front_end == "waveform" else model.backbone.layers
    stem = stem.parameters() if front_end == "waveform" else [p for m in stem for p in m.parameters()]
    assert not any(p.requires_grad for p in stem)
    assert all(p.requires_grad for p in layers.parameters())
    model.freeze_backbone()
    assert not any(p.requires_grad for p in model.backbone.parameters())
    assert all(p.requires_grad for p in model.heads.parameters())


def test_class_weights_must_match_the_labels():
    with pytest.raises(ValueError, match="one weight per label"):
        SpeakSphereConfig(backbone=tiny_backbone(), tasks=TASKS, class_weights={"language": [1.0]})


@pytest.mark.parametrize("front_end", ["waveform", "whisper"])
def test_checkpoint_describes_itself(tmp_path, front_end):
    model = tiny_model(front_end, class_weights={"language": [1.0, 2.0, 0.5]}).eval()
    model.save_pretrained(tmp_path)
    Wav2Vec2FeatureExtractor(return_attention_mask=True).save_pretrained(tmp_path)
    predictor = load_model(tmp_path)
    assert predictor.tasks == TASKS
    x, mask = batch()
    torch.testing.assert_close(model(x, mask).logits["language"], predictor.model(x, mask).logits["language"])


def test_predictor_analyzes_a_recording(tmp_path, speech, write):
    tiny_model().save_pretrained(tmp_path)
    Wav2Vec2FeatureExtractor(return_attention_mask=True).save_pretrained(tmp_path)
    samples, rate = speech
    result = load_model(tmp_path).analyze(write(np.tile(samples, 2), rate))
    for task, labels in TASKS.items():
        assert set(result[task]) == set(labels)
        assert sum(result[task].values()) == pytest.approx(1.0, abs=1e-3)
    assert len(result["windows"]) >= 2
    first = result["windows"][0]
    assert first["start"] == 0.0 and sum(first["language"].values()) == pytest.approx(1, abs=1e-3)


def test_missing_model_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="No SpeakSphere model"):
        load_model(tmp_path)


@pytest.mark.parametrize("pooling", ["mean", "mean_std"])
def test_pooled_statistics_reproduce_the_full_forward(pooling):
    """Heads trained on cached per-layer statistics see exactly what the model computes from audio."""
    model = tiny_model(pooling=pooling).eval()
    x, mask = batch()
    with torch.no_grad():
        full = model(x, mask)
        statistics = model.layer_statistics(x, mask)
        cached = model(layer_statistics=statistics)
    assert statistics.shape == (3, 3, 32 * (2 if pooling == "mean_std" else 1))  # 2 layers + embeddings
    assert full.pooled.shape == (3, statistics.shape[-1])
    for task in full.logits:
        assert torch.allclose(full.logits[task], cached.logits[task], atol=1e-5)


def test_unknown_pooling_is_refused():
    with pytest.raises(ValueError, match="pooling"):
        SpeakSphereConfig(backbone=tiny_backbone(), tasks=TASKS, pooling="max")


def test_export_halves_the_weights_and_serves_the_same_answers(tmp_path, speech, write):
    from speaksphere.training.export import export

    source = tmp_path / "trained"
    model = tiny_model(pooling="mean_std")
    model.save_pretrained(source)
    Wav2Vec2FeatureExtractor(return_attention_mask=True).save_pretrained(source)
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "metrics.json").write_text("{}")
    size = export(source, tmp_path / "shipped", tmp_path / "report")
    full = sum(f.stat().st_size for f in source.glob("*.safetensors"))
    assert size < 0.6 * full and (tmp_path / "shipped" / "test" / "metrics.json").is_file()
    path = write(*speech)
    a, b = load_model(source).analyze(path), load_model(tmp_path / "shipped").analyze(path)
    for task in ("language", "emotion"):
        for label, p in a[task].items():
            assert abs(p - b[task][label]) < 0.02


def test_accented_english_moves_whispers_doubt_towards_english_and_must_name_an_unanswered_language():
    from speaksphere.model import SpeakSphereConfig, load_model
    from speaksphere.whisper.language import whisper_languages

    predictor = load_model()
    config = predictor.model.config
    n_layers, dim = len(predictor.model.layer_weights), 2 * predictor.model.backbone.config.hidden_size
    statistics, whisper = torch.zeros(1, n_layers, dim), torch.full((1, 99), -30.0)
    known = list(whisper_languages())
    whisper[0, [known.index("en"), known.index("pt"), known.index("zh")]] = torch.log(torch.tensor([0.3, 0.4, 0.3]))
    saved = dict(config.accented_english)
    try:
        config.accented_english = {}
        before = predictor.classify_encodings(statistics, whisper)["language"][0]
        config.accented_english = {"zh": 4.0}
        after = predictor.classify_encodings(statistics, whisper)["language"][0]
    finally:
        config.accented_english = saved
    labels = config.tasks["language"]
    assert labels[int(np.argmax(before))] == "pt" and labels[int(np.argmax(after))] == "en"  # 0.3 x e^(4 x 0.3) > 0.4
    with pytest.raises(ValueError, match="accented_english names languages the model answers"):
        SpeakSphereConfig(tasks={"language": ["en", "zh"]}, accented_english={"zh": 1.0})


def test_the_shipped_model_gives_a_mandarin_accent_only_where_whisper_hears_mandarin():
    from speaksphere.whisper.language import whisper_languages

    predictor = load_model()
    config = predictor.model.config
    assert "L1-zh" in config.tasks["accent"] and config.accent_gates["L1-zh"][0] == "zh"
    assert set(config.temperatures) == {"language", "accent", "emotion"}  # calibrated on real people held out
    n_layers, dim = len(predictor.model.layer_weights), 2 * predictor.model.backbone.config.hidden_size
    statistics = torch.randn(4, n_layers, dim, generator=torch.Generator().manual_seed(0))
    known = list(whisper_languages())
    whisper = torch.zeros(4, 99)
    whisper[:, known.index("en")] = 8.0
    whisper[2:, known.index("zh")] = 8.0  # windows 2-3: Whisper hears as much Mandarin as English
    accent = predictor.classify_encodings(statistics, whisper)["accent"]
    l1_zh = config.tasks["accent"].index("L1-zh")
    assert np.all(accent[:2, l1_zh] == 0.0) and np.allclose(accent.sum(-1), 1.0, atol=1e-5)
    assert np.all(accent[2:, l1_zh] > 0.0)  # open: the head's own answer


def test_the_answer_source_follows_the_encoder_and_a_pruned_arm_is_refused():
    import json
    import re

    from speaksphere.model import DEFAULT_MODEL_DIR

    # Whisper base from the wheels answers language and command itself; any other encoder has heads for them
    shipped = json.loads((DEFAULT_MODEL_DIR / "config.json").read_text())
    assert SpeakSphereConfig(**shipped).whisper_tasks == ["language", "command"]
    assert tiny_model().config.whisper_tasks == [] and set(tiny_model().heads) == set(TASKS)
    assert set(tiny_model("whisper").heads) == set(TASKS)  # Whisper's architecture, not its weights: heads
    # a checkpoint of version 6 or before names its source: the one its encoder implies still loads
    legacy = SpeakSphereConfig(**shipped, language_source="whisper", command_source="whisper")
    assert legacy.whisper_tasks == ["language", "command"] and "language_source" not in legacy.to_dict()
    for name, source in (("language_source", "head+whisper"), ("language_source", "head"), ("command_source", "head")):
        with pytest.raises(ValueError, match=re.escape(f"{name} '{source}' is no longer served")):
            SpeakSphereConfig(**shipped, **{name: source})
    with pytest.raises(ValueError, match="language_source 'whisper' is no longer served"):
        SpeakSphereConfig(tasks=TASKS, language_source="whisper")  # wav2vec2 has no Whisper language ID
