"""The store is found from the project root, not the working directory alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifecycle import MemoryLifecycleManager
from lifecycle.errors import ConfigurationError
from lifecycle.paths import resolve


def test_nearest_ancestor_with_a_marker_is_the_root(project: Path, monkeypatch) -> None:
    deep = project / "src" / "pkg"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert resolve().store_url == str(project / ".claude-flow" / "memory" / "memory.db")
    assert resolve().policy_file == project / ".claude" / "memory-retention-policies.yaml"


def test_claude_project_dir_wins_over_the_working_directory(tmp_path: Path, monkeypatch) -> None:
    other = tmp_path / "elsewhere"
    other.mkdir()
    monkeypatch.setenv("CLAUDE_PROJECT_DIR", str(other))
    assert resolve().store_url == str(other / ".claude-flow" / "memory" / "memory.db")


def test_environment_then_explicit_arguments(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MEMORY_LIFECYCLE_DIR", str(tmp_path / "env-dir"))
    monkeypatch.setenv("MEMORY_LIFECYCLE_POLICY_FILE", str(tmp_path / "env.yaml"))
    r = resolve()
    assert r.store_url == str(tmp_path / "env-dir" / "memory.db")
    assert r.policy_file == tmp_path / "env.yaml" and r.policy_explicit
    r = resolve(memory_dir=tmp_path / "arg-dir", policy_file=tmp_path / "arg.yaml")
    assert r.store_url == str(tmp_path / "arg-dir" / "memory.db")
    assert r.policy_file == tmp_path / "arg.yaml"
    monkeypatch.setenv("MEMORY_LIFECYCLE_STORE", f"sqlite:///{tmp_path}/s.db")
    assert resolve().store_url == f"sqlite:///{tmp_path}/s.db"


def test_two_working_directories_reach_one_store(project: Path, monkeypatch) -> None:
    (project / "a").mkdir()
    (project / "b" / "c").mkdir(parents=True)
    monkeypatch.chdir(project / "a")
    with MemoryLifecycleManager() as m:
        m.store("knowledge/shared", "yes")
    monkeypatch.chdir(project / "b" / "c")
    with MemoryLifecycleManager() as m:
        assert m.retrieve("knowledge/shared") == "yes"


def test_sqlite_url_forms(tmp_path: Path) -> None:
    with MemoryLifecycleManager(store=f"sqlite:///{tmp_path}/via-url.db") as m:
        m.store("k/v", 1)
    assert (tmp_path / "via-url.db").exists()
    with MemoryLifecycleManager(store=str(tmp_path / "plain.db")) as m:
        assert m.store_url.endswith("plain.db")


def test_unknown_store_scheme_is_a_clear_error() -> None:
    with pytest.raises(ConfigurationError, match="unknown scheme"):
        MemoryLifecycleManager(store="redis://localhost/0")
