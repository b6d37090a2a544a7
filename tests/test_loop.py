"""The one training loop (speaksphere.training.loop): best epoch, early stopping, no validation, steps."""

import json
from types import SimpleNamespace

import torch

from speaksphere.training.checkpoint import load_checkpoint
from speaksphere.training.loop import TrainingState, mean_macro_f1, run_epochs, train_epoch


def scores(f1: float) -> dict:
    return {"language": {"n": 10, "accuracy": f1, "macro_f1": f1}}


def test_keeps_the_best_epoch_and_stops_after_patience():
    curve = iter([0.5, 0.7, 0.6, 0.65, 0.69, 0.9])  # best at epoch 2, then three without a better one
    trained, kept, saved = [], [], []
    state = run_epochs(TrainingState(), epochs=6, patience=3, train=lambda epoch: trained.append(epoch) or False,
                       validate=lambda: scores(next(curve)), keep_best=lambda: kept.append(len(trained)),
                       save=lambda s: saved.append(s.epoch), report=lambda line: None)
    assert trained == [0, 1, 2, 3, 4] and kept == [1, 2] and saved == [1, 2, 3, 4, 5]
    assert state.best == 0.7 and state.stale == 3 and [h["epoch"] for h in state.history] == [1, 2, 3, 4, 5]


def test_without_validation_scores_the_last_epoch_is_kept():
    for validate in (None, lambda: {}):
        kept = []
        state = run_epochs(TrainingState(), epochs=4, patience=1, train=lambda epoch: False, validate=validate,
                           keep_best=lambda kept=kept: kept.append(1), report=lambda line: None)
        assert len(kept) == 4 and state.epoch == 4


def test_a_spent_step_budget_ends_training_and_resuming_starts_after_the_saved_epoch():
    state = TrainingState(epoch=2, best=0.4, stale=1, history=[{"epoch": 1}, {"epoch": 2}])
    trained = []
    run_epochs(state, epochs=10, patience=5, train=lambda epoch: trained.append(epoch) or epoch == 3,
               validate=lambda: scores(0.3), keep_best=lambda: None, report=lambda line: None)
    assert trained == [2, 3] and state.epoch == 4 and state.stale == 3 and state.best == 0.4


class _Regression(torch.nn.Module):
    """A model as the loop expects one: keyword arguments in, an output with its loss."""

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(2, 1)

    def forward(self, x, y):
        return SimpleNamespace(loss=torch.nn.functional.mse_loss(self.linear(x), y))


def test_train_epoch_counts_steps_and_stops_at_max_steps():
    model = _Regression()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    batches = [{"x": torch.randn(4, 2), "y": torch.randn(4, 1)} for _ in range(5)]
    losses = []
    state = TrainingState(step=1)
    assert train_epoch(model, batches, optimizer, scheduler, state, max_steps=4, on_step=losses.append)
    assert state.step == 4 and len(losses) == 3
    assert not train_epoch(model, batches[:2], optimizer, scheduler, state)
    assert state.step == 6


def test_mean_macro_f1_leaves_out_tasks_without_labelled_rows():
    assert mean_macro_f1({"a": {"n": 5, "macro_f1": 0.5}, "b": {"n": 0, "macro_f1": float("nan")},
                          "c": {"n": 3, "macro_f1": 1.0}}) == 0.75
    assert mean_macro_f1({}) == 0.0


class _Accelerator:
    def __init__(self):
        self.loaded = []

    def load_state(self, folder):
        self.loaded.append(folder)


def test_a_checkpoint_written_before_training_state_was_named_still_resumes(tmp_path):
    saved = {"epoch": 3, "step": 30, "best": 0.8, "stale": 1, "history": [{"epoch": 1}, {"epoch": 2}, {"epoch": 3}]}
    (tmp_path / "progress.json").write_text(json.dumps(saved))
    accelerator = _Accelerator()
    assert load_checkpoint(accelerator, tmp_path, resume=False) is None and not accelerator.loaded
    state = load_checkpoint(accelerator, tmp_path, resume=True)
    assert state == TrainingState(**saved) and accelerator.loaded == [str(tmp_path)]
    assert load_checkpoint(accelerator, tmp_path / "none", resume=True) is None
