"""The settings of a SpeakSphere deployment, read from speaksphere/settings.yaml (package data)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .audio import AudioLimits
from .config import load_config
from .learner.store import StoreConfig
from .recording import WindowConfig
from .vad import VadConfig

__all__ = ["CacheSettings", "ModelSettings", "ServerConfig", "Settings", "StoreConfig",
           "load_settings", "DEFAULT_SETTINGS_PATH"]

DEFAULT_SETTINGS_PATH = Path(__file__).resolve().with_name("settings.yaml")  # package data


@dataclass(frozen=True)
class ServerConfig:
    """How the Gradio app serves requests."""

    host: str = "127.0.0.1"  # loopback: only this computer can connect unless you choose otherwise
    port: int = 7860  # Gradio's usual port
    max_upload_mb: float = 64.0  # refused before decoding; 5 min of 48 kHz stereo 16-bit WAV is 58 MB
    concurrency: int = 2  # requests processed at once: one per CPU core on a small machine
    max_queue: int = 64  # waiting requests beyond this are told to retry later
    # queued or running requests per client address (0: no cap): one client's 70 queued analyses made
    # another's 1.4-s clip wait 69 s; a learner in the browser has at most 2 (a scoring, then its figures)
    max_waiting_per_client: int = 4
    # uploads per client address in any 10 minutes (one learner scoring and comparing uploads a few a minute;
    # gradio alone stored 960 MiB from one request), and the most the upload folder may hold in all
    uploads_per_10_min: int = 120
    upload_mb_per_10_min: float = 1024.0
    upload_folder_mb: float = 4096.0
    # two malloc arenas and malloc_trim(0) after each request (glibc): freed arrays go back to the system
    release_memory: bool = True
    allowed_origins: tuple[str, ...] = ()  # other websites whose pages may call the app (a Space's own is added)
    # further host names an app on loopback answers to (those a reverse proxy in front passes on); other
    # names are refused (DNS rebinding), beside localhost, 127.0.0.1, ::1 and a Space's own
    allowed_hosts: tuple[str, ...] = ()
    new_learners_per_minute: int = 30  # learner ids handed out per minute per client address
    # proxies (addresses or networks, "10.0.0.0/8") whose X-Forwarded-For names the caller; none by default,
    # so no caller can claim another address. On a Hugging Face Space (SPACE_ID set) its proxy, on a
    # private address, is trusted when this is empty
    trusted_proxies: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelSettings:
    """Which trained model the app serves."""

    path: str | None = None  # None: the embedded speaksphere/model/speaksphere-small;
                             # relative paths start at the current folder


@dataclass(frozen=True)
class CacheSettings:
    """How much the scorer keeps between requests (pronounce.caches.ScoringCaches, one per coach)."""

    reference_analyses: int = 64  # references trimmed, featurised and heard: scoring again against one is free
    library_references: int = 128  # built-in phrases loaded (of the 403 the library holds today)
    synthesised_reference_mb: float = 128.0  # typed texts read by espeak-ng: ~20 min of 16-kHz speech
    teacher_transcripts: int = 64  # what the listener heard in a teacher's upload given without its text
    # Whisper encoder states: a recording heard again (Compare after Pronounce, a retry) costs no second
    # pass; 64 MB is about 20 recordings of 30 s (3 MB each), 115 of 5 s
    encoder_state_mb: float = 64.0
    speech_state_mb: float = 32.0  # Speak's encoder states of its windows of free speech (up to 28 s each)


@dataclass(frozen=True)
class Settings:
    """Everything configurable about analysing recordings and serving the app."""

    audio: AudioLimits = field(default_factory=AudioLimits)
    vad: VadConfig = field(default_factory=VadConfig)
    windows: WindowConfig = field(default_factory=WindowConfig)
    server: ServerConfig = field(default_factory=ServerConfig)
    model: ModelSettings = field(default_factory=ModelSettings)
    caches: CacheSettings = field(default_factory=CacheSettings)
    store: StoreConfig = field(default_factory=StoreConfig)  # the learner database (learner.store)


def load_settings(path: str | Path = DEFAULT_SETTINGS_PATH) -> Settings:
    """Read the settings YAML; a missing file means the defaults."""
    path = Path(path)
    return load_config(path, Settings) if path.exists() else Settings()
