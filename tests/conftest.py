"""Shared fixtures: small generated corpora with planted structure, the shared data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from helpers import planted_sentences

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("W2V_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture
def planted_file(tmp_path: Path) -> Path:
    path = tmp_path / "planted.txt"
    path.write_text("\n".join(" ".join(s) for s in planted_sentences()) + "\n")
    return path


@pytest.fixture
def shared_data() -> Path:
    if not (SHARED_DATA / "text8_prefix.gz").exists():
        pytest.skip(f"the shared data is not at {SHARED_DATA} (set W2V_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Tests never write the user's ~/.cache."""
    monkeypatch.setenv("W2V_CACHE_DIR", str(tmp_path_factory.mktemp("w2v-cache")))
