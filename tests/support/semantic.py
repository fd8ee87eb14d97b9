"""The embedding model for the tests of search by meaning: a real one, from a local folder.

The folder is ``MEMORY_LIFECYCLE_TEST_EMBEDDING_MODEL_PATH``, else where
``scripts/build-embedding-model.py`` puts it by default. Without it (or without
the semantic extra) these tests skip, saying how to get it; when CI sets
``MEMORY_LIFECYCLE_REQUIRE_SEMANTIC=1`` they fail instead, so they cannot vanish
silently. No test fetches a model from a hub (``HF_HUB_OFFLINE`` is set for
every test).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lifecycle.search.semantic.source import ENV_MODEL_PATH, folder_problem, missing_extra

ENV_TEST_MODEL = "MEMORY_LIFECYCLE_TEST_EMBEDDING_MODEL_PATH"
ENV_REQUIRE = "MEMORY_LIFECYCLE_REQUIRE_SEMANTIC"
DEFAULT_FOLDER = Path.home() / ".cache" / "memory-lifecycle" / "models" / "all-MiniLM-L6-v2"
HOW = "run python scripts/build-embedding-model.py (or set " + ENV_TEST_MODEL + ")"


def model_folder() -> Path:
    """The test model's folder; skips (or fails, when required) without one."""
    folder = Path(os.environ.get(ENV_TEST_MODEL, "").strip() or DEFAULT_FOLDER)
    why = missing_extra() or folder_problem(folder)
    if why is not None:
        message = f"no embedding model for the tests: {why}; {HOW}"
        if os.environ.get(ENV_REQUIRE, "").strip() not in ("", "0", "false", "no"):
            pytest.fail(message)
        pytest.skip(message)
    return folder


@pytest.fixture(name="embedding_model")
def embedding_model_fixture(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Search by meaning on, with the real model (set for this test and its children)."""
    folder = model_folder()
    monkeypatch.setenv(ENV_MODEL_PATH, str(folder))
    return folder
