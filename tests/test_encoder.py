"""The encoders: wav2vec2 on a log-mel front end gives frames where the teacher has them, ignores
padding, and saves and loads itself; either front end builds from a config dict."""

import librosa
import numpy as np
import pytest
import scipy.signal
import torch

from speaksphere.model.encoder import HOP_SAMPLES, LogMelWav2Vec2Model, build_encoder, load_encoder


def log_mel_backbone(**overrides) -> dict:
    config = dict(model_type="wav2vec2", front_end="log_mel", conv_dim=[32, 32], conv_kernel=[3, 3], conv_stride=[1, 2],
                  feat_extract_norm="layer", do_stable_layer_norm=True, hidden_size=32, num_hidden_layers=2,
                  num_attention_heads=2, intermediate_size=64, num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=4)
    return config | overrides


def encoder(**overrides) -> LogMelWav2Vec2Model:
    torch.manual_seed(0)
    return build_encoder(log_mel_backbone(**overrides)).eval()


@pytest.mark.parametrize("n_samples", [20, 319, 320, 16000, 16159, 16160, 64001])
def test_frame_count_is_the_one_the_masks_use(n_samples):
    model = encoder()
    with torch.no_grad():
        frames = model(torch.randn(1, n_samples)).last_hidden_state.shape[1]
    assert frames == int(model._get_feat_extract_output_lengths(torch.tensor(n_samples)))
    assert abs(frames - n_samples / 320) <= 1  # one frame per 20 ms, as the Whisper teacher's


def test_spectrogram_frame_m_is_centred_on_sample_160_m():
    wave = torch.zeros(1, 16000)
    wave[0, 160 * 37] = 1.0
    log_mel, _ = encoder().feature_extractor.log_mel(wave)
    assert int(log_mel[0].sum(0).argmax()) == 37


@pytest.mark.parametrize("normalisation", ["utterance", "none"])
@pytest.mark.parametrize("length", [32000, 31999, 32100, 400])
def test_padding_in_a_batch_changes_no_frame(normalisation, length):
    model = encoder(mel_normalisation=normalisation)
    torch.manual_seed(1)
    x = torch.randn(2, 48000)
    mask = torch.ones_like(x, dtype=torch.long)
    x[1, length:], mask[1, length:] = 0, 0
    x[1, length - 100 : length] *= 30  # the loudest spectrogram frame straddles the end of the clip
    with torch.no_grad():
        batched = model(x, attention_mask=mask).last_hidden_state[1]
        alone = model(x[1:, :length], attention_mask=mask[1:, :length]).last_hidden_state[0]
    torch.testing.assert_close(batched[: len(alone)], alone, atol=1e-4, rtol=1e-4)


def test_utterance_normalisation_removes_a_fixed_channel_colouring(speech):
    samples, rate = speech
    wave = torch.from_numpy(librosa.resample(samples, orig_sr=rate, target_sr=16000)).float()[None]
    wave = wave / wave.std()
    coloured = torch.from_numpy(scipy.signal.lfilter([1.0, -0.9], [1.0], wave[0].numpy())).float()[None]  # pre-emphasis
    coloured = 0.1 * coloured / coloured.std()
    distance = {}
    for normalisation in ("utterance", "none"):
        front_end = encoder(mel_normalisation=normalisation).feature_extractor
        clean, colour = (front_end.normalised_log_mel(w)[0] for w in (wave, coloured))
        distance[normalisation] = float((clean - colour).abs().mean())
    assert distance["utterance"] < 0.5 * distance["none"]


def test_unknown_normalisation_is_refused():
    with pytest.raises(ValueError, match="mel_normalisation"):
        encoder(mel_normalisation="global")


def test_saved_and_loaded_with_its_front_end(tmp_path):
    model = encoder()
    model.save_pretrained(tmp_path)
    loaded = load_encoder(tmp_path).eval()
    assert isinstance(loaded, LogMelWav2Vec2Model)
    x = torch.randn(1, 8000)
    with torch.no_grad():
        torch.testing.assert_close(model(x).last_hidden_state, loaded(x).last_hidden_state)


def test_waveform_front_end_is_plain_wav2vec2():
    model = build_encoder(log_mel_backbone(front_end="waveform", conv_dim=[32] * 7, conv_kernel=[10, 3, 3, 3, 3, 2, 2],
                                           conv_stride=[5, 2, 2, 2, 2, 2, 2]))
    assert type(model).__name__ == "Wav2Vec2Model"
    assert np.prod(model.config.conv_stride) == 2 * HOP_SAMPLES
