"""Issue 41, finding 2: one client filled the disk through gradio's upload route (16 parts of 60 MiB in
13 s, kept an hour). Each client's uploads are budgeted, the upload folder is capped, and uploads leave
within 15 minutes."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import gradio as gr
import httpx
import pytest

import app
from launching import serve_app
from speaksphere.app.ui import ABOUT
from speaksphere.app.uploads import UPLOAD_CLEANUP, UploadBudget, folder_bytes
from speaksphere.coach import settings_with_model
from speaksphere.learner.store import StoreConfig
from speaksphere.settings import Settings

UPLOADS = 3


@pytest.fixture(scope="module")
def served(tiny_model_dir, database):
    settings = settings_with_model(Settings(), tiny_model_dir)
    server = replace(settings.server, uploads_per_10_min=UPLOADS, trusted_proxies=("127.0.0.1",))
    with serve_app(replace(settings, server=server), database) as demo:
        yield demo


def upload(url: str, address: str, payload: bytes) -> httpx.Response:
    return httpx.post(f"{url}gradio_api/upload", files={"files": ("a.wav", payload)},
                      headers={"X-Forwarded-For": address})


def stored(folder: Path, payload: bytes) -> int:
    return sum(1 for p in folder.rglob("a.wav") if p.read_bytes() == payload)


def test_a_client_over_its_upload_budget_stores_nothing(served):
    folder = Path(gr.utils.get_upload_folder())
    payload = b"RIFF" + b"budget-test" * 1000
    answers = [upload(served.local_url, "198.51.100.7", payload + bytes([i])) for i in range(UPLOADS + 2)]
    assert [a.status_code for a in answers] == [200] * UPLOADS + [429, 429]
    assert f"uploaded {UPLOADS} recordings in the last 10 minutes" in answers[-1].json()["error"]
    assert stored(folder, payload + bytes([UPLOADS])) == 0 and stored(folder, payload + bytes([UPLOADS + 1])) == 0
    assert upload(served.local_url, "198.51.100.8", payload).status_code == 200  # another client has its own


def test_budgets_count_bytes_per_client_and_cap_the_folder(tmp_path):
    (tmp_path / "kept").mkdir()
    (tmp_path / "kept" / "old.wav").write_bytes(b"x" * 600_000)
    assert folder_bytes(tmp_path) == 600_000
    budget = UploadBudget(tmp_path, count=10, megabytes=1.0, folder_mb=1.0)
    assert budget.refusal("a", 300_000) is None
    status, message = budget.refusal("a", 500_000)
    assert status == 503 and "as many recordings as it can" in message  # 600 kB + 500 kB > 1 MiB
    budget = UploadBudget(tmp_path, count=10, megabytes=0.5, folder_mb=100.0)
    assert budget.refusal("a", 400_000) is None
    status, message = budget.refusal("a", 200_000)
    assert status == 429 and "uploaded 0.5 MB in the last 10 minutes" in message
    assert budget.refusal("b", 200_000) is None  # per client


def test_uploads_leave_within_fifteen_minutes_as_the_about_page_says(tiny_model_dir, database):
    demo = app.build_app(settings_with_model(Settings(store=StoreConfig(path=str(database))), tiny_model_dir))
    every_s, age_s = demo.delete_cache
    assert (every_s, age_s) == UPLOAD_CLEANUP and every_s + age_s <= 15 * 60  # was (3600, 3600): up to 2 h
    assert "uploads are deleted within fifteen minutes" in ABOUT
