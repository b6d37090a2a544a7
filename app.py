"""SpeakSphere's entry point for `python app.py` and Hugging Face Spaces: the app lives in speaksphere.app
(an installed package runs the same app with the `speaksphere` command). Only `main` is imported up
front, so that the app says what it is doing before gradio and torch load."""

from speaksphere.app import main

__all__ = ["main"]  # and build_app, launch: see __getattr__


def __getattr__(name: str):
    """build_app and launch, loaded on first use (they import gradio and torch)."""
    import speaksphere.app

    return getattr(speaksphere.app, name)


if __name__ == "__main__":
    main()
