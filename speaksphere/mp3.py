"""MP3 decoded to its real end (FFmpeg's decoder, through PyAV).

libsndfile reads an MP3 only as far as the length it estimates: from the Xing/Info (or VBRI) tag where
the encoder wrote one, else from the first frame's bitrate and the file's size. A variable-bitrate file
without the tag is then misjudged: a 29-s recording that opens loudly was read as 13.7 s (the rest
dropped), one that opens with a second of silence (low bitrate) was estimated longer than it is and
refused as "cut off". Here every frame is decoded, however long the header says the file is, and the
decoding stops once it passes the caller's bound.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np

__all__ = ["has_length_tag", "mp3_blocks", "Mp3Error", "Mp3TooLong"]

_TAGS = (b"Xing", b"Info", b"VBRI")  # the encoder's own count of frames, in the first frame


class Mp3Error(ValueError):
    """FFmpeg could not decode the file (damaged, or not MP3)."""


class Mp3TooLong(ValueError):
    """More frames came out than the caller allows."""


def has_length_tag(head: bytes) -> bool:
    """Whether the file's first bytes (its ID3 tag skipped: give ~64 kB) hold a Xing/Info/VBRI frame count,
    so the length libsndfile reports is the encoder's, not an estimate."""
    return any(tag in head for tag in _TAGS)


def mp3_blocks(source: str | io.BytesIO, max_frames: int) -> Iterator[np.ndarray]:
    """The file's samples, float32 (frames, channels) a decoded frame at a time, to the end of the stream.

    Raises Mp3Error when it cannot be decoded, and Mp3TooLong once more than `max_frames` frames per
    channel came out (decoding stops there)."""
    import av  # here: only MP3 uploads need FFmpeg

    if isinstance(source, io.BytesIO):
        source.seek(0)
    decoded = 0
    try:
        with av.open(source, format="mp3") as container:
            for frame in container.decode(audio=0):
                block = frame.to_ndarray()  # (channels, n) when planar, (1, n * channels) when packed
                block = block.T if frame.format.is_planar else block.reshape(-1, len(frame.layout.channels))
                decoded += len(block)
                if decoded > max_frames:
                    raise Mp3TooLong(f"over {max_frames} frames")
                yield np.ascontiguousarray(block, dtype=np.float32)
    except av.error.FFmpegError as error:
        raise Mp3Error(str(error)) from error
