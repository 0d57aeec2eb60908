"""Fixtures shared by the whole suite: isolation from the developer's files, the reference
data in ../shared (tests that need it skip with a clear reason where it is absent), and the
real servers end-to-end tests talk to (a test PKI for the simulator, an SMTP server)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.run_support import SmtpServer, make_test_pki, running_smtp

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


@pytest.fixture(scope="session")
def test_pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One throwaway PKI for the whole suite, copied into each state folder that needs one:
    generating RSA keys per test (or per module) is slow."""
    return make_test_pki(tmp_path_factory)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server on loopback, its mailbox empty."""
    with running_smtp() as server:
        yield server
