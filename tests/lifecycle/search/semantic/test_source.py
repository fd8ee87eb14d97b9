"""Which model, from where, and why search by meaning is off: told by ``stats`` without
loading anything, and one clear error when it is asked for anyway."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lifecycle import MemoryLifecycleManager
from lifecycle.search.semantic.engine import SemanticUnavailableError
from lifecycle.search.semantic.source import DEFAULT_MODEL, ENV_MODEL, ENV_MODEL_PATH
from tests.support.env import PYTHON, child_env


def fake_model(folder: Path) -> Path:
    """A folder of the right layout (stats looks, never loads)."""
    folder.mkdir(parents=True)
    (folder / "model.onnx").write_bytes(b"not really a model")
    (folder / "tokenizer.json").write_text("{}")
    return folder


def test_without_the_extra_stats_say_so_and_keyword_search_is_unchanged(
    make_manager: object, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if not installed
    monkeypatch.setenv(ENV_MODEL_PATH, str(fake_model(tmp_path / "model")))
    m: MemoryLifecycleManager = make_manager()  # type: ignore[operator]
    m.store("notes/auth", "We use JWT")

    stats = m.get_stats()
    assert stats["embedding_model"] is None and stats["pending_embeddings"] == 0
    assert "semantic extra is not installed" in stats["embedding_error"]
    assert "pipx install 'memory-lifecycle[semantic]'" in stats["embedding_error"]
    found = m.search("JWT")
    assert found["mode"] == "keyword" and found["pending"] == 0
    assert [r["key"] for r in found["results"]] == ["notes/auth"]
    for mode in ("semantic", "hybrid"):
        with pytest.raises(SemanticUnavailableError, match="semantic extra is not installed"):
            m.search("JWT", mode=mode)
    with pytest.raises(SemanticUnavailableError, match="search by meaning is off"):
        m.index()


def test_the_policy_files_model_path_is_relative_to_it_and_the_environment_wins(
    make_manager: object, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    here = fake_model(tmp_path / "models" / "mini")
    policies = "settings:\n  embedding_model_path: models/mini\n"
    m: MemoryLifecycleManager = make_manager("store", policies)  # type: ignore[operator]
    m.store("notes/a", "text")
    stats = m.get_stats()
    assert stats["embedding_model"] == str(here.resolve()) and stats["embedding_error"] is None
    assert stats["pending_embeddings"] == 1 and stats["embedded_entries"] == 0

    other = fake_model(tmp_path / "elsewhere")
    monkeypatch.setenv(ENV_MODEL_PATH, str(other))
    assert m.get_stats()["embedding_model"] == str(other.resolve())


def test_a_hub_model_not_downloaded_yet_leaves_search_by_words_and_says_how(
    make_manager: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_MODEL, "someone/some-model")
    m: MemoryLifecycleManager = make_manager()  # type: ignore[operator]
    m.store("notes/a", "text")
    stats = m.get_stats()
    assert stats["embedding_model"] is None
    assert "someone/some-model is not downloaded yet" in stats["embedding_error"]
    assert ENV_MODEL_PATH in stats["embedding_error"]
    assert m.search("text")["mode"] == "keyword"  # the default never downloads
    with pytest.raises(SemanticUnavailableError, match="HF_HUB_OFFLINE is set"):
        m.search("text", mode="semantic")  # asked for: offline in tests, so it says why
    assert "HF_HUB_OFFLINE" in m.get_stats()["embedding_error"]


def test_offline_a_missing_hub_model_is_refused_without_loading_the_model_stack(
    tmp_path: Path,
) -> None:
    """A server's background indexer asks at every start: offline, with the default model
    not downloaded, the answer must not cost the numpy / ONNX Runtime / hub imports."""
    script = (
        "import sys\n"
        "from lifecycle import MemoryLifecycleManager\n"
        "from lifecycle.search.semantic.engine import SemanticUnavailableError\n"
        f"m = MemoryLifecycleManager(memory_dir={str(tmp_path / 'memory')!r})\n"
        "try:\n"
        "    m.index()\n"
        "except SemanticUnavailableError as exc:\n"
        "    print('refused:', exc)\n"
        "heavy = ('numpy', 'onnxruntime', 'huggingface_hub')\n"
        "print(sorted(n for n in heavy if n in sys.modules))\n"
    )
    env = child_env(HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path / "hf"))
    env.pop(ENV_MODEL_PATH, None)
    env.pop(ENV_MODEL, None)
    done = subprocess.run(
        [PYTHON, "-c", script], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    assert "refused:" in done.stdout and "HF_HUB_OFFLINE is set" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout


def test_an_invalid_model_path_setting_names_the_field(make_manager: object) -> None:
    from lifecycle import PolicyError

    with pytest.raises(PolicyError, match="embedding_model_path"):
        make_manager("store", "settings:\n  embedding_model_path: 7\n")  # type: ignore[operator]


def test_the_default_model_is_all_minilm() -> None:
    assert DEFAULT_MODEL == "sentence-transformers/all-MiniLM-L6-v2"


def test_a_hub_model_cached_meanwhile_is_seen_at_the_next_look(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``cached_folder`` keeps its answer per process (every search asks), and trusts it
    only while the hub's ``refs/main`` is unchanged: a download, a new revision or a
    removal is seen at the next call."""
    from lifecycle.search.semantic.source import cached_folder

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    repo = tmp_path / "hub" / "models--someone--cached-model"
    assert cached_folder("someone/cached-model") is None
    first = fake_model(repo / "snapshots" / "rev1")
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("rev1")
    assert cached_folder("someone/cached-model") == first
    assert cached_folder("someone/cached-model") == first
    second = fake_model(repo / "snapshots" / "rev22")
    (repo / "refs" / "main").write_text("rev22")  # another size: seen whatever the clock
    assert cached_folder("someone/cached-model") == second
    (repo / "refs" / "main").unlink()
    assert cached_folder("someone/cached-model") is None


def test_keyword_searchs_pending_follows_every_write_with_the_model_not_loaded(
    make_manager: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a model available but not loaded here, ``pending`` is a count over every
    entry, kept between searches only while the store's revision is unchanged."""
    monkeypatch.setenv(ENV_MODEL_PATH, str(fake_model(tmp_path / "model")))
    m: MemoryLifecycleManager = make_manager()  # type: ignore[operator]
    m.store("notes/a", "text")
    assert m.search("text", mode="keyword")["pending"] == 1
    assert m.search("text", mode="keyword")["pending"] == 1
    m.store("notes/b", "more text")
    assert m.search("text", mode="keyword")["pending"] == 2
    m.delete("notes/a")
    assert m.search("text", mode="keyword")["pending"] == 1
