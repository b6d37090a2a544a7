"""Knowledge distillation for the embedded model: a Whisper teacher's encoder frames, cached once,
teach a compact wav2vec2 student (see distill.py at the repository root). Training-time only: the app
never imports this package, and its extra dependencies live in requirements-train.txt."""
