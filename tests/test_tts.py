"""espeak-ng synthesis from the espeakng-loader wheel."""

import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from speaksphere.tts import ESPEAK_SAMPLE_RATE, SynthesisError, synthesize


@pytest.mark.parametrize("voice", ["en-us", "en-gb", "en-gb-scotland", "fr", "de", "es", "it", "en-us+f3"])
def test_voices_speak(voice):
    samples, rate = synthesize("One, two, three.", voice=voice)
    assert rate == ESPEAK_SAMPLE_RATE and samples.dtype == np.float32
    assert 0.4 < len(samples) / rate < 4.0
    assert 0.05 < np.max(np.abs(samples)) <= 1.0


def test_slower_rate_gives_longer_speech():
    fast, _ = synthesize("This sentence is spoken at two speeds.", rate_wpm=220)
    slow, _ = synthesize("This sentence is spoken at two speeds.", rate_wpm=110)
    assert len(slow) > 1.5 * len(fast)


def test_phoneme_brackets_are_read_as_text():
    """espeak-ng's [[phoneme]] input is off: 212 characters of it crashed libespeak-ng (a segfault)."""
    crashed_once, _ = synthesize("[[" + "a:" * 104 + "]]")
    assert len(crashed_once) / ESPEAK_SAMPLE_RATE > 10  # "a colon a colon ...", read out as written
    sheep, _ = synthesize("[[S'i:p]]")  # as phonemes this is "sheep", ~0.5 s
    assert len(sheep) / ESPEAK_SAMPLE_RATE > 1.0
    planted, _ = synthesize("[[S'i:p]]", phonemes=True)  # the tests' planted mispronunciations
    assert len(planted) < 0.6 * len(sheep)


def test_a_worker_that_crashes_mid_request_is_replaced():
    """A crash in espeak-ng's C code (SIGSEGV) ends only its worker process: the request in flight gets a
    SynthesisError, the next one a fresh worker."""
    from speaksphere import tts

    synthesize("Before.")
    worker, folder = tts._worker.process, tts._worker.folder
    threading.Timer(0.2, worker.send_signal, args=(signal.SIGSEGV,)).start()
    with pytest.raises(SynthesisError):  # ~5 minutes of speech: ~2 s of synthesis, killed at 0.2 s
        synthesize("A long text that is still being spoken when its worker dies. " * 60)
    assert worker.poll() == -signal.SIGSEGV
    assert not Path(folder).exists()  # its copy of the library: removed by this process, not left in /tmp
    assert len(synthesize("After.")[0]) > 0 and tts._worker.process is not worker


def test_a_worker_gone_between_requests_is_replaced():
    from speaksphere import tts

    synthesize("Before.")
    tts._worker.process.kill()
    tts._worker.process.wait()
    assert len(synthesize("After.")[0]) > 0


def test_an_overlong_synthesis_is_stopped(monkeypatch):
    from speaksphere import tts

    monkeypatch.setattr(tts, "WORKER_SECONDS", 0.001)
    with pytest.raises(SynthesisError):
        synthesize("This text takes longer than a millisecond to speak. " * 20)
    monkeypatch.undo()
    assert len(synthesize("Back to normal.")[0]) > 0


@pytest.mark.parametrize("text, voice", [("", "en-us"), ("   ", "en-us"), ("hello", "xx-nowhere")])
def test_bad_requests_raise(text, voice):
    with pytest.raises(SynthesisError):
        synthesize(text, voice=voice)


@pytest.mark.parametrize("voice", ["en-us", "en-gb+f2"])  # +f2 adds "breath" noise
def test_same_arguments_give_the_same_samples(voice):
    """espeak-ng's state used to carry from call to call (the same text a few samples longer or
    shorter), and its breath noise was random, so a typed text's reference changed between app
    restarts and scores with it."""
    first, _ = synthesize("The same words, twice.", voice=voice)
    synthesize("Something else in between.", voice="fr", rate_wpm=220)
    second, _ = synthesize("The same words, twice.", voice=voice)
    assert np.array_equal(first, second)


def test_breath_noise_is_the_same_in_every_process():
    """espeak-ng seeds the noise of its "breath" voices differently in every process unless told."""
    code = ("import hashlib; from speaksphere.tts import synthesize; "
            "print(hashlib.md5(synthesize('Breath noise.', voice='en-gb+f2')[0].tobytes()).hexdigest())")
    root = Path(__file__).resolve().parents[1]
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root).stdout
            for _ in range(2)}
    assert len(runs) == 1


def test_a_forked_child_leaves_the_parents_worker_alone():
    """Review: a forked child's exit stopped the parent's worker object and removed the folder its library
    copy lives in; the parent's next request failed."""
    import os

    from speaksphere import tts

    synthesize("Before the fork.")
    folder = tts._worker.folder
    child = os.fork()
    if child == 0:  # the child exits at once, running its exit handlers as an exiting interpreter does
        import atexit

        atexit._run_exitfuncs()
        os._exit(0)
    os.waitpid(child, 0)
    assert Path(folder).exists()
    assert len(synthesize("After the fork.")[0]) > 0
