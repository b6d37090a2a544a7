"""A learner's data as a file for them to keep: one JSON document, or a CSV timeline.

Row ids count every learner's rows; an export numbers this learner's attempts and thumbs 1, 2, ... so
that it tells nothing about other learners."""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import UTC, datetime

from .schema import SCHEMA_VERSION, SCORES

__all__ = ["export_text"]


def export_text(format: str, learner: dict, attempts: list[dict], recommendations: list[dict], thumbs: list[dict],
                policy_state: dict | None) -> str:
    """The learner's records (as LearnerStore reads them, in id order) as "json" or "csv" text."""
    number = {attempt["id"]: i for i, attempt in enumerate(attempts, start=1)}
    attempts = [{**attempt, "id": number[attempt["id"]]} for attempt in attempts]
    recommendations = [{**r, "outcome_attempt_id": number.get(r["outcome_attempt_id"])} for r in recommendations]
    if policy_state:  # the recommender's place in those rows, as counts of this learner's rows
        for key, rows in (("attempt_watermark", number), ("feedback_watermark", [t["id"] for t in thumbs])):
            if key in policy_state:
                policy_state[key] = sum(1 for row_id in rows if row_id <= policy_state[key])
    thumbs = [{**thumb, "id": i} for i, thumb in enumerate(thumbs, start=1)]
    if format == "json":
        return json.dumps({"format": "speaksphere-learner-export", "schema_version": SCHEMA_VERSION,
                           "exported_at": _iso(time.time()), "learner": learner, "attempts": attempts,
                           "recommendations": recommendations, "feedback": thumbs,
                           "policy_state": policy_state}, indent=1)
    return _timeline_csv(attempts, recommendations, thumbs)


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).isoformat(timespec="seconds")


_CSV_COLUMNS = ("record", "id", "time", "task", "language", "accent", "reference_text", "phrase_id", "exercise_id",
                "recommendation_id") + SCORES + ("skill", "explanation", "thumbs_up", "comment")


def _timeline_csv(attempts: list[dict], recommendations: list[dict], thumbs: list[dict]) -> str:
    rows = []
    for attempt in attempts:
        rows.append({"record": "attempt", **{k: v for k, v in attempt.items() if k != "scores"},
                     **attempt["scores"]})
    for recommendation in recommendations:
        rows.append({"record": "recommendation", "id": recommendation["id"],
                     "created_at": recommendation["created_at"], "exercise_id": recommendation["exercise_id"],
                     "skill": recommendation["skill"], "explanation": recommendation["explanation"]})
    for thumb in thumbs:
        rows.append({"record": "feedback", **thumb})
    rows.sort(key=lambda row: (row["created_at"], row["record"] != "recommendation"))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=_CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _inert(v) for k, v in {**row, "time": _iso(row["created_at"])}.items()})
    return buffer.getvalue()


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _inert(value):
    """A cell a spreadsheet shows as text: a string starting like a formula (a learner's typed
    `=HYPERLINK(...)` as the reference text) gets a leading apostrophe (OWASP's CSV injection advice).
    Numbers stay numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value
