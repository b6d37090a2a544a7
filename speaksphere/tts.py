"""Speech synthesis with espeak-ng, loaded from the `espeakng-loader` wheel (no system package).

espeak-ng speaks 131 languages and many dialects of English; SpeakSphere uses it to synthesise a
golden reference for any text a learner types, and tests use it to make real speech on the fly.
The C library is driven through ctypes in synchronous mode: samples arrive in a callback.
espeak-ng keeps global state, so every call holds one process-wide lock. That state also carries from
one call to the next (the same text came out a few samples longer or shorter, in another waveform phase,
depending on what was said before, and espeak_Terminate + espeak_Initialize or espeak_ng_SetRandSeed
did not reset it), so each call loads a private copy of the library afresh and unloads it after, and
seeds espeak-ng's noise generator (the "breath" of voices such as +f2 was seeded differently in every
process): the same arguments give the same samples in every call and every process (about 6 ms a call).

A text is read as words, never as espeak-ng's ``[[phoneme]]`` notation: 212 characters of it
(``[[`` + ``a:`` x 104 + ``]]``) crashed libespeak-ng with a segmentation fault, and took the server with
it. A crash in C code cannot be caught in Python, so `synthesize` runs espeak-ng in a worker process
(``python -m speaksphere.tts``) with a memory and a time limit; a worker that dies or overruns is
replaced, the request gets a SynthesisError, and the server goes on.
"""

from __future__ import annotations

import _ctypes
import atexit
import contextlib
import ctypes
import itertools
import json
import os
import resource
import selectors
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

__all__ = ["SynthesisError", "synthesize", "ESPEAK_SAMPLE_RATE"]

ESPEAK_SAMPLE_RATE = 22050  # Hz: espeak-ng's native output rate

_AUDIO_OUTPUT_SYNCHRONOUS = 2  # samples are delivered to the callback, no sound device is opened
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_PHONEMES = 0x100  # espeakPHONEMES: [[phoneme]] input inside the text (planted mispronunciations only)
_PARAM_RATE, _PARAM_VOLUME, _PARAM_PITCH, _PARAM_RANGE = 1, 2, 3, 4
_EE_OK = 0
_DONT_EXIT = 0x8000  # espeakINITIALIZE_DONT_EXIT: a failed start returns an error instead of exit(1)
_RANDOM_SEED = 1  # espeak-ng's own noise generator, seeded afresh for every call
_FOLDER_VARIABLE = "SPEAKSPHERE_ESPEAK_FOLDER"  # where a worker copies the library (its parent's folder)
WORKER_MEMORY_BYTES = 1 << 30  # the worker's address space: espeak-ng + numpy use ~150 MB for 5 min of speech
WORKER_SECONDS = 20.0  # one synthesis; espeak-ng speaks ~100x faster than real time (5 min of speech in ~2 s)

_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)

_lock = threading.Lock()
_private_path: str | None = None  # this process's own copy of the library file
_chunks: list[np.ndarray] = []


class _Voice(ctypes.Structure):  # espeak_VOICE in speak_lib.h
    _fields_ = [("name", ctypes.c_char_p), ("languages", ctypes.c_void_p), ("identifier", ctypes.c_char_p),
                ("gender", ctypes.c_ubyte), ("age", ctypes.c_ubyte), ("variant", ctypes.c_ubyte),
                ("xx1", ctypes.c_ubyte), ("score", ctypes.c_int), ("spare", ctypes.c_void_p)]


class SynthesisError(RuntimeError):
    """espeak-ng could not speak the text (unknown voice, library missing, empty text)."""


@_CALLBACK
def _collect(samples, n_samples, _events):  # called by espeak-ng, inside synthesize()'s lock
    if n_samples > 0:
        _chunks.append(np.ctypeslib.as_array(samples, shape=(n_samples,)).copy())
    return 0  # 0 = go on synthesising


def _library_path() -> str:
    """This process's private copy of the wheel's libespeak-ng.so (made once, removed at exit).

    A copy, so that no other user of the wheel's file in this process can keep the library loaded
    (and its state alive) when synthesize() unloads it."""
    global _private_path
    if _private_path is None:
        try:
            import espeakng_loader
        except ImportError as error:  # pragma: no cover - a broken install
            raise SynthesisError("espeak-ng is not installed: pip install espeakng-loader") from error
        folder = os.environ.get(_FOLDER_VARIABLE)  # a worker: its parent removes the folder
        if folder is None:
            folder = tempfile.mkdtemp(prefix="speaksphere-espeak-")
            atexit.register(_remove_copy, folder, os.getpid())
        _private_path = shutil.copy(espeakng_loader.get_library_path(), os.path.join(folder, "libespeak-ng.so"))
    return _private_path


def _remove_copy(folder: str, owner: int) -> None:
    """At exit, remove the copy, in the process that made it only: a forked child inherits the exit
    handler, and must not delete the file its parent goes on loading."""
    if os.getpid() == owner:
        shutil.rmtree(folder, ignore_errors=True)


def _forget_copy() -> None:
    """In a forked child: make a copy of its own when needed (the parent removes its copy at exit)."""
    global _private_path
    _private_path = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_copy)


def _declare(library: ctypes.CDLL) -> None:
    """Give ctypes the C signatures of the espeak-ng functions synthesize() calls."""
    library.espeak_Initialize.restype = ctypes.c_int
    library.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    library.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    library.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    library.espeak_Synth.argtypes = [
        ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
        ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
    ]
    library.espeak_SetSynthCallback.argtypes = [_CALLBACK]
    library.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_Voice))
    library.espeak_ListVoices.argtypes = [ctypes.c_void_p]
    library.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]


@contextmanager
def _fresh_library() -> Iterator[ctypes.CDLL]:
    """espeak-ng loaded and initialised from scratch, unloaded on exit (call with _lock held)."""
    path = _library_path()  # first: it turns a missing wheel into a SynthesisError
    import espeakng_loader

    library = ctypes.CDLL(path, mode=ctypes.RTLD_LOCAL)
    try:
        _declare(library)
        # espeak_Initialize wants the folder that *contains* espeak-ng-data.
        data_parent = espeakng_loader.get_data_path().rsplit("/espeak-ng-data", 1)[0]
        rate = library.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_parent.encode(), _DONT_EXIT)
        if rate != ESPEAK_SAMPLE_RATE:
            raise SynthesisError(f"espeak-ng failed to start (it answered {rate})")
        try:
            library.espeak_ng_SetRandSeed(_RANDOM_SEED)  # the "breath" noise of voices such as +f2
            library.espeak_SetSynthCallback(_collect)
            yield library
        finally:
            library.espeak_Terminate()
    finally:
        _ctypes.dlclose(library._handle)  # the last reference: the next load starts from zero


def _languages(voice: _Voice) -> list[str]:
    """Decode espeak_VOICE.languages: (priority byte, name, NUL) repeated, ended by a 0 byte."""
    names, address = [], voice.languages
    while address and ctypes.c_ubyte.from_address(address).value:
        name = ctypes.string_at(address + 1)
        names.append(name.decode().lower())
        address += len(name) + 2
    return names


def _voice_by_language(library: ctypes.CDLL) -> dict[str, str]:
    """Language code (e.g. "en-gb") -> voice identifier (e.g. "gmw/en"), from the installed voices."""
    table: dict[str, str] = {}
    voices = library.espeak_ListVoices(None)
    for i in itertools.count():
        if not voices[i]:
            break
        for language in _languages(voices[i].contents):
            table.setdefault(language, voices[i].contents.identifier.decode())
    return table


def _set_voice(library: ctypes.CDLL, voice: str) -> None:
    """Select a voice by name or file ("en-us", "gmw/en"), else by language ("en-gb"); "+f3" picks a variant."""
    if library.espeak_SetVoiceByName(voice.encode()) == _EE_OK:
        return
    base, plus, variant = voice.partition("+")
    identifier = _voice_by_language(library).get(base.lower())
    if identifier is None or library.espeak_SetVoiceByName(f"{identifier}{plus}{variant}".encode()) != _EE_OK:
        raise SynthesisError(f"espeak-ng has no voice called {voice!r}")


def _speak(text: str, voice: str, rate_wpm: int, pitch: int, pitch_range: int, volume: int,
           phonemes: bool) -> np.ndarray:
    """Speak `text` in this process (the worker's side of `synthesize`, same arguments).

    Returns int16 samples at 22050 Hz, shape (n_samples,)."""
    if not text or not text.strip():
        raise SynthesisError("there is no text to speak")
    with _lock, _fresh_library() as library:
        _set_voice(library, voice)
        for parameter, value in ((_PARAM_RATE, rate_wpm), (_PARAM_PITCH, pitch),
                                 (_PARAM_RANGE, pitch_range), (_PARAM_VOLUME, volume)):
            library.espeak_SetParameter(parameter, int(value), 0)
        encoded = text.encode("utf-8") + b"\0"
        _chunks.clear()
        status = library.espeak_Synth(encoded, len(encoded), 0, _POS_CHARACTER, 0,
                                      _CHARS_UTF8 | (_PHONEMES if phonemes else 0), None, None)
        library.espeak_Synchronize()
        pcm = np.concatenate(_chunks) if _chunks else np.zeros(0, dtype=np.int16)
        _chunks.clear()
    if status != _EE_OK or pcm.size == 0:
        raise SynthesisError(f"espeak-ng produced no audio for {text!r}")
    return pcm


def synthesize(
    text: str,
    voice: str = "en-us",
    rate_wpm: int = 160,
    pitch: int = 50,
    pitch_range: int = 50,
    volume: int = 100,
    *,
    phonemes: bool = False,
) -> tuple[np.ndarray, int]:
    """Speak `text` with an espeak-ng voice, in the worker process (a crash there is a SynthesisError here).

    Parameters
    ----------
    text: the words, read as written (brackets included: never espeak-ng's phoneme notation).
    voice: an espeak-ng voice name, e.g. "en-us", "en-gb-scotland", "fr", "de", "en-us+f3".
    rate_wpm: speaking rate in words per minute (80-450).
    pitch, pitch_range: base pitch and pitch range, 0-100 (50 is the voice's default).
    volume: amplitude, 0-200 (100 is normal).
    phonemes: read ``[[...]]`` as espeak-ng's phoneme notation: for mispronunciations the tests and
        benchmarks plant, never for a user's text (such input has crashed libespeak-ng).

    Returns
    -------
    (samples, sample_rate): float32 mono samples in [-1, 1], shape (n_samples,), at 22050 Hz.
    """
    if not isinstance(text, str) or not text.strip():
        raise SynthesisError("there is no text to speak")
    request = {"text": text, "voice": voice, "rate_wpm": int(rate_wpm), "pitch": int(pitch),
               "pitch_range": int(pitch_range), "volume": int(volume), "phonemes": bool(phonemes)}
    with _worker_lock:
        pcm = _worker.ask(request)
    return pcm.astype(np.float32) / 32768.0, ESPEAK_SAMPLE_RATE


class _Worker:
    """One `python -m speaksphere.tts` process: a JSON request a line in, a reply out (call with _worker_lock).

    A reply is a 4-byte length then either int16 samples (length >= 0) or, after a negative length's
    absolute value in bytes, a UTF-8 error message. The worker's copy of the library lies in a folder
    this process makes and removes (a crashed or killed worker cannot remove its own)."""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.folder: str | None = None
        self.owner = os.getpid()  # the process that started the worker: only it may stop it

    def _start(self) -> None:
        self.owner = os.getpid()
        package_parent = str(Path(__file__).resolve().parents[1])
        self.folder = tempfile.mkdtemp(prefix="speaksphere-espeak-")
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
                   **{_FOLDER_VARIABLE: self.folder})
        if Path(package_parent).name not in ("site-packages", "dist-packages"):  # a source tree, not installed
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_parent, os.environ.get("PYTHONPATH")]))
        try:
            self.process = subprocess.Popen([sys.executable, "-m", "speaksphere.tts"], stdin=subprocess.PIPE,
                                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
                                            cwd=package_parent)
        except OSError as error:
            self.stop()
            raise SynthesisError(f"espeak-ng's worker could not start ({error})") from error

    def stop(self) -> None:
        """End the worker (it is started again by the next request): told to stop by the end of its input,
        killed if it does not within a second; its folder removed. In a forked child (not the owner) the
        parent's worker is only forgotten."""
        if os.getpid() != self.owner:
            self.process, self.folder = None, None
            return
        if self.process is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
            try:
                self.process.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            with contextlib.suppress(OSError):
                self.process.stdout.close()
            self.process = None
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def ask(self, request: dict) -> np.ndarray:
        """Send one request; return its int16 samples, shape (n,), or raise SynthesisError."""
        if self.process is None or self.process.poll() is not None:
            self.stop()
            self._start()
        try:
            self.process.stdin.write(json.dumps(request).encode() + b"\n")
            self.process.stdin.flush()
            deadline = time.monotonic() + WORKER_SECONDS
            (size,) = struct.unpack("<i", self._read(4, deadline))
            payload = self._read(abs(size), deadline)
        except (OSError, EOFError, TimeoutError) as error:
            self.stop()  # crashed, killed by its memory limit, or too slow: the next call starts afresh
            raise SynthesisError(f"espeak-ng could not speak this text ({type(error).__name__})") from error
        if size < 0:
            raise SynthesisError(payload.decode())
        return np.frombuffer(payload, dtype=np.int16)

    def _read(self, n: int, deadline: float) -> bytes:
        """Exactly n bytes of the worker's reply, before `deadline` (time.monotonic())."""
        stream, chunks = self.process.stdout, []
        with selectors.DefaultSelector() as selector:
            selector.register(stream, selectors.EVENT_READ)
            while n > 0:
                if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
                    raise TimeoutError
                chunk = os.read(stream.fileno(), min(n, 1 << 20))  # the raw pipe: nothing waits in a buffer
                if not chunk:
                    raise EOFError
                chunks.append(chunk)
                n -= len(chunk)
        return b"".join(chunks)


_worker = _Worker()
_worker_lock = threading.Lock()
atexit.register(lambda: _worker.stop())  # the worker of this process at exit (a forked child has its own)


def _forget_worker() -> None:
    """In a forked child: a worker and a lock of its own. The parent's pipes are closed here, so the parent
    can still end its worker by closing their input (the child's copy kept it open)."""
    global _worker, _worker_lock
    inherited = _worker.process
    if inherited is not None:
        for stream in (inherited.stdin, inherited.stdout):
            with contextlib.suppress(OSError, ValueError):
                os.close(stream.fileno())
    _worker, _worker_lock = _Worker(), threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_worker)


def _serve() -> None:
    """The worker's loop: read a JSON request a line from stdin, write a reply to stdout (see _Worker)."""
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = WORKER_MEMORY_BYTES if hard == resource.RLIM_INFINITY else min(WORKER_MEMORY_BYTES, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    out = sys.stdout.buffer
    for line in sys.stdin.buffer:
        try:
            reply = _speak(**json.loads(line)).astype("<i2").tobytes()
            out.write(struct.pack("<i", len(reply)) + reply)
        except (SynthesisError, MemoryError, TypeError, ValueError) as error:
            message = str(error).encode()
            out.write(struct.pack("<i", -len(message)) + message)
        out.flush()


if __name__ == "__main__":
    _serve()
