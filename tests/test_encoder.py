"""The encoders: Whisper's encoder on waveforms gives one frame per 20 ms, pads as Whisper pads, and
saves and loads itself; a wav2vec2 config builds plain wav2vec2."""

import numpy as np
import pytest
import torch

from speaksphere.model.encoder import build_encoder, load_encoder
from speaksphere.whisper.constants import FRAME_SAMPLES
from speaksphere.whisper.encoder import WhisperAudioEncoder, whisper_log_mel


def tiny_whisper_backbone(**overrides) -> dict:
    """Whisper's architecture at toy size, random weights: for wiring tests, not accuracy."""
    config = dict(model_type="whisper", d_model=32, encoder_layers=2, decoder_layers=1, encoder_attention_heads=2,
                  decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64, num_mel_bins=80,
                  max_source_positions=1500, vocab_size=51865, min_input_s=1.0)
    return config | overrides


def encoder(**overrides) -> WhisperAudioEncoder:
    torch.manual_seed(0)
    return build_encoder(tiny_whisper_backbone(**overrides)).eval()


@pytest.mark.parametrize("n_samples", [20, 319, 320, 16000, 16159, 16161, 64001])
def test_inputs_are_padded_to_the_minimum_and_frames_counted_as_the_masks_count(n_samples):
    model = encoder()
    with torch.no_grad():
        frames = model(torch.randn(1, n_samples)).last_hidden_state.shape[1]
    assert frames == max(50, -(-n_samples // FRAME_SAMPLES))  # min_input_s 1.0: at least 50 frames of 20 ms
    valid = int(model._get_feat_extract_output_lengths(torch.tensor(n_samples)))
    assert valid == max(1, -(-n_samples // FRAME_SAMPLES)) and abs(valid - n_samples / 320) <= 1


def test_log_mel_frame_m_is_centred_on_sample_160_m():
    wave = torch.zeros(1, 16000)
    wave[0, 160 * 37] = 1.0
    assert int(whisper_log_mel(wave)[0].sum(0).argmax()) == 37


def test_masked_samples_are_zeros_as_whisper_pads():
    model = encoder()
    torch.manual_seed(1)
    x = torch.randn(2, 24000)
    mask = torch.ones_like(x, dtype=torch.long)
    mask[1, 9000:] = 0  # garbage after the clip must not leak in
    with torch.no_grad():
        batched = model(x, attention_mask=mask).last_hidden_state[1]
        alone = model(torch.nn.functional.pad(x[1:, :9000], (0, 15000))).last_hidden_state[0]
    # the same clip padded with zeros to the same length: Whisper attends over its padding too, so
    # the served path pads every window to the same 4 s (min_input_s)
    torch.testing.assert_close(batched, alone, atol=1e-4, rtol=1e-4)


def test_more_than_30_seconds_is_refused():
    with pytest.raises(ValueError, match="30 s"):
        encoder()(torch.zeros(1, 16000 * 31))


def test_saved_and_loaded(tmp_path):
    model = encoder()
    model.save_pretrained(tmp_path)
    loaded = load_encoder(tmp_path).eval()
    assert isinstance(loaded, WhisperAudioEncoder)
    x = torch.randn(1, 8000)
    with torch.no_grad():
        torch.testing.assert_close(model(x).last_hidden_state, loaded(x).last_hidden_state)


def test_a_wav2vec2_config_is_plain_wav2vec2():
    model = build_encoder(dict(model_type="wav2vec2", hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                               intermediate_size=64, conv_dim=[32] * 7, num_conv_pos_embeddings=16,
                               num_conv_pos_embedding_groups=4))
    assert type(model).__name__ == "Wav2Vec2Model"
    assert np.prod(model.config.conv_stride) == FRAME_SAMPLES
