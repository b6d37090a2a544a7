"""SpeakSphere's entry point for `python app.py` and Hugging Face Spaces: the app lives in speaksphere.app
(an installed package runs the same app with the `speaksphere` command)."""

from speaksphere.app import build_app, launch, main

__all__ = ["build_app", "launch", "main"]

if __name__ == "__main__":
    main()
