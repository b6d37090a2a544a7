"""The self-describing configuration of a SpeakSphere multi-task model.

Saved as config.json beside the weights by save_pretrained: the backbone's own config, the tasks with
their label lists, pooling and loss settings. Inference rebuilds the model from this file alone.
"""

from __future__ import annotations

from transformers import PretrainedConfig

__all__ = ["SpeakSphereConfig"]


class SpeakSphereConfig(PretrainedConfig):
    """Configuration of SpeakSphereModel.

    Parameters
    ----------
    backbone: the audio encoder's config as a dict with its "model_type" (e.g. a Wav2Vec2Config
        dict); any transformers AutoModel audio encoder that returns hidden states works.
    tasks: task name -> its label list, e.g. {"language": ["de", "en", ...], "emotion": [...]}.
        Order matters: logits column i is label i.
    head_hidden: width of each task head's hidden layer (0 = a single linear layer).
    head_dropout: dropout before each head's layers, during training only.
    use_weighted_layer_sum: pool a learned softmax-weighted sum of all backbone layers instead of
        the last one (lower layers carry more speaker and prosody, upper ones more phonetics).
    pooling: "mean" (average of the frames) or "mean_std" (their average and standard deviation,
        statistics pooling as in x-vectors), computed per layer before the layers are mixed.
    loss_weights: task -> weight of its cross-entropy in the total loss (default 1 each).
    class_weights: task -> one weight per label, for imbalanced classes (default uniform).
    label_smoothing: cross-entropy label smoothing, 0-1.
    language_prior: add Whisper's own language identification (log-probabilities over the language
        labels, times a learned weight) to the language head's logits; needs the Whisper encoder.
    temperatures: task -> the temperature its logits are divided by for calibrated probabilities,
        fitted on held-out voices after training (default 1).
    experimental: tasks whose answers held-out real speech does not support (trained on synthetic
        voices only): shown to learners as experimental, never as a plain verdict.
    """

    model_type = "speaksphere"

    def __init__(
        self,
        backbone: dict | None = None,
        tasks: dict[str, list[str]] | None = None,
        head_hidden: int = 256,
        head_dropout: float = 0.1,
        use_weighted_layer_sum: bool = True,
        pooling: str = "mean",
        loss_weights: dict[str, float] | None = None,
        class_weights: dict[str, list[float]] | None = None,
        label_smoothing: float = 0.0,
        language_prior: bool = False,
        temperatures: dict[str, float] | None = None,
        experimental: list[str] | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.backbone = dict(backbone or {"model_type": "wav2vec2"})
        self.tasks = {task: list(labels) for task, labels in (tasks or {}).items()}
        self.head_hidden = head_hidden
        self.head_dropout = head_dropout
        self.use_weighted_layer_sum = use_weighted_layer_sum
        if pooling not in ("mean", "mean_std"):
            raise ValueError(f"pooling must be 'mean' or 'mean_std', not {pooling!r}")
        self.pooling = pooling
        self.loss_weights = dict(loss_weights or {})
        self.class_weights = {task: list(w) for task, w in (class_weights or {}).items()}
        self.label_smoothing = label_smoothing
        self.language_prior = language_prior
        self.temperatures = {task: float(t) for task, t in (temperatures or {}).items()}
        self.experimental = list(experimental or [])
        for task, weights in self.class_weights.items():
            if task not in self.tasks or len(weights) != len(self.tasks[task]):
                raise ValueError(f"class_weights[{task!r}] needs one weight per label of that task")
