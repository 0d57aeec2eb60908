"""Fixtures shared by the whole suite: isolation from the developer's files, and the reference
data in ../shared (tests that need it skip with a clear reason where it is absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
SHARED = PROJECT.parent / "shared"


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's configuration or colours its output."""
    monkeypatch.delenv("UWVCLI_CONFIG", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("TZ", "Europe/Amsterdam")


@pytest.fixture
def shared() -> Path:
    """The workspace's ../shared folder (specs and reference data)."""
    if not (SHARED / "reference").is_dir():
        pytest.skip("../shared/reference is not here (a clone outside the workspace)")
    return SHARED
