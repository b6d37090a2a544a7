"""Macro-averaged F1 as an `evaluate` metric kept in the project (loaded by path, works offline).

Every class present in the references or predictions counts equally, so a rare class weighs as much
as a common one. Load with evaluate.load("speaksphere/training/metrics/macro_f1.py").
"""

import datasets
import evaluate
from sklearn.metrics import f1_score

_DESCRIPTION = "Macro F1: the unweighted mean over classes of the harmonic mean of precision and recall."


class MacroF1(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION, citation="", inputs_description="predictions, references: int class ids",
            features=datasets.Features({"predictions": datasets.Value("int64"), "references": datasets.Value("int64")}),
        )

    def _compute(self, predictions, references):
        if not len(references):
            return {"macro_f1": float("nan")}
        return {"macro_f1": float(f1_score(references, predictions, average="macro", zero_division=0))}
