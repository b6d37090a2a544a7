"""What train.py needs beyond the model: the one training loop (loop.py) and its resumable checkpoints
(checkpoint.py), encodings of every analysis window cached once (encodings.py) and the heads trained on
them (heads.py), scores and test reports with the local `evaluate` metrics (evaluation.py, metrics/),
the leave-one-voice-out folds that give honest figures (held_out.py), and the export of a trained
model into its shipped shape (export.py). Imports the model and the data code; neither imports it."""
