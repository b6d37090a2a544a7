"""Gradio's own input errors answered in one plain sentence (no speech here).

A value gradio cannot read for its component (a learner id in the audio slot, a file path nobody
uploaded, text where a number goes) fails in gradio's preprocessing, before any SpeakSphere function
runs: gradio printed 19-36 lines of traceback, and its message echoed the value (a learner id sent in
the wrong slot) or named the server's working folder ("Cannot move /.../x.wav"). Every function the app
wires already answers with gr.Error, so anything else out of `Blocks.process_api` is such an input
error: it is logged in one line (its kind, never its text) and answered with INPUT_MESSAGE.
"""

from __future__ import annotations

import functools
import logging

import gradio as gr
from gradio.exceptions import Error

__all__ = ["INPUT_MESSAGE", "install_quiet_input_errors"]

INPUT_MESSAGE = ("This request's inputs are not what this endpoint takes (a recording where a recording goes, "
                 "text where text goes); see the app's API page for each endpoint's inputs.")
log = logging.getLogger("speaksphere.app")


def install_quiet_input_errors(blocks: gr.Blocks) -> None:
    """Wrap `blocks.process_api` (called for every event, queued or not) so that an error gradio raises
    reading or writing a component's value becomes a gr.Error with INPUT_MESSAGE, without a traceback."""
    process_api = blocks.process_api

    @functools.wraps(process_api)
    async def quiet(*args, **kwargs):
        try:
            return await process_api(*args, **kwargs)
        except Error:  # ours (user_error), already plain
            raise
        except Exception as error:
            fn = kwargs.get("block_fn", args[0] if args else None)
            log.info("refused %s: gradio could not read its inputs (%s)", getattr(fn, "api_name", None) or "a call",
                     type(error).__name__)
            raise gr.Error(INPUT_MESSAGE, print_exception=False) from None

    blocks.process_api = quiet
