"""Voice commands from Whisper's decoder: the shipped model hears the keyword a synthetic voice says,
calls any other word _unknown_, answers _silence_ without speech, and names labels as the data does."""

import io

import librosa
import numpy as np
import soundfile as sf
import torch

from speaksphere.data import labels
from speaksphere.model import command, load_model
from speaksphere.tts import synthesize


def _clip(word: str) -> bytes:
    wave, rate = synthesize(word, voice="en-us")
    wave = librosa.resample(wave, orig_sr=rate, target_sr=16000).astype(np.float32)
    wave = np.concatenate([np.zeros(3200, np.float32), wave, np.zeros(4000, np.float32)])
    buffer = io.BytesIO()
    sf.write(buffer, wave, 16000, format="WAV")
    return buffer.getvalue()


def test_special_labels_close_the_command_vocabulary():
    assert labels.COMMANDS[-2:] == (command.UNKNOWN, command.SILENCE)
    assert command.spellings("seven") == [" seven", " Seven", " 7"]


def test_the_shipped_model_hears_keywords_and_other_words():
    predictor = load_model()
    assert "command" in predictor.model.whisper_tasks and "command" not in predictor.model.heads
    for word, expected in (("yes", "yes"), ("left", "left"), ("coffee", labels.UNKNOWN)):
        answer = predictor.analyze(_clip(word))["command"]
        assert next(iter(answer)) == expected, (word, answer)
        assert abs(sum(answer.values()) - 1) < 1e-3


def test_no_speech_is_silence_without_asking_whisper():
    logits = command.whisper_command_logits(torch.zeros(1, 200, 512), list(labels.COMMANDS), speech_s=0.0)
    assert labels.COMMANDS[int(logits.argmax())] == labels.SILENCE


def test_a_sentence_is_no_command_word_without_asking_whisper(monkeypatch):
    """More speech in the command's window than a word takes (the longest of 236 real single words:
    1.5 s) is _unknown_ without the decoder; a single word still goes to the decoder."""
    asked, decoder = [], command.first_word_log_probabilities
    monkeypatch.setattr(command, "first_word_log_probabilities",
                        lambda *args, **kwargs: asked.append(kwargs) or decoder(*args, **kwargs))
    logits = command.whisper_command_logits(torch.zeros(1, 200, 512), list(labels.COMMANDS), speech_s=2.6)
    assert labels.COMMANDS[int(logits.argmax())] == labels.UNKNOWN and logits.max() - logits.min() > 20
    predictor = load_model()
    sentence = predictor.analyze(_clip("could you please tell me the way to the railway station"))["command"]
    assert next(iter(sentence)) == labels.UNKNOWN and sentence[labels.UNKNOWN] > 0.99 and not asked
    assert next(iter(predictor.analyze(_clip("stop"))["command"])) == "stop" and len(asked) == 1
    # Whisper is told the keywords were said before the audio: "Backward. Bed. ... Zero."
    assert asked[0]["previous"].split(". ")[:2] == ["Backward", "Bed"] and "Stop" in asked[0]["previous"]


def test_the_command_is_heard_in_the_first_window_with_speech():
    assert command.first_speech_window([0.0, 0.05, 1.2, 3.0]) == 2
    assert command.first_speech_window([0.0, 0.0]) == 0  # no speech anywhere: the first window


def test_words_whose_first_token_is_unlikely_are_not_read_and_nothing_shown_changes(monkeypatch):
    """Only the spellings whose first token could start the transcript are read (with the keywords told):
    every command probability stays within 0.1 percentage point of reading them all."""
    from speaksphere.whisper import decoder as whisper_decoder
    from speaksphere.whisper.encoder import pretrained_whisper_encoder

    words = [w for w in labels.COMMANDS if w not in (labels.UNKNOWN, labels.SILENCE)]
    for said in ("seven", "please enter your password"):
        wave, _ = sf.read(io.BytesIO(_clip(said)), dtype="float32")
        with torch.inference_mode():
            states = pretrained_whisper_encoder()(torch.from_numpy(wave)[None]).last_hidden_state
        spelled, told = [command.spellings(w) for w in words], command.keyword_prompt(words)
        pruned = whisper_decoder.first_word_log_probabilities(states, "en", spelled, previous=told)
        monkeypatch.setattr(whisper_decoder, "UNLIKELY_FIRST_TOKEN", -np.inf)
        everything = whisper_decoder.first_word_log_probabilities(states, "en", spelled, previous=told)
        monkeypatch.undo()
        assert np.isinf(pruned).sum() >= len(words) // 3  # a third of the words or more were not read
        np.testing.assert_allclose(np.exp(pruned), np.exp(everything), atol=1e-3)
