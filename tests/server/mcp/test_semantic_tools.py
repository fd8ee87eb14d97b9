"""Search by meaning through the server: the background indexer embeds what agents store
(over real stdio, as an editor runs it), ``memory_search`` offers the modes, ``memory_stats``
says what is embedded; and without a model, one clear error. The CLI's ``index`` and
``search --mode`` as real subprocesses."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from server.background.indexing import BackgroundIndexer
from server.commands.search import ProgressBar
from server.mcp.server import build_server
from tests.support.cli import assert_one_line_error, one_json, open_store, run_cli
from tests.support.semantic import model_folder
from tests.support.server import bounded, error_text, stdio_params, structured

QUESTION = "how do we log users in"


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    return structured(await client.call_tool(tool, arguments))


@pytest.mark.anyio
@pytest.mark.slow
async def test_the_server_embeds_in_the_background_and_searches_by_meaning(
    tmp_path: Path,
) -> None:
    env = {
        "MEMORY_LIFECYCLE_EMBEDDING_MODEL_PATH": str(model_folder()),
        "MEMORY_LIFECYCLE_INDEX_SECONDS": "0.2",
    }
    with bounded(60):
        async with Client(stdio_params(tmp_path / "memory", **env), mode="legacy") as client:
            await call(client, "memory_store", key="notes/auth", value="We use JWT tokens "
                       "for authentication of API users")  # fmt: skip
            await call(client, "memory_store", key="notes/lunch", value="Lunch is at noon")
            stats = await call(client, "memory_stats")
            while stats["pending_embeddings"]:
                await anyio.sleep(0.1)
                stats = await call(client, "memory_stats")
            default = await call(client, "memory_search", query=QUESTION, limit=1)
            keyword = await call(client, "memory_search", query=QUESTION, mode="keyword")
            smart = await call(client, "memory_search", query=QUESTION, smart=True, limit=1)
            bounded_ = await call(
                client, "memory_search", query=QUESTION, mode="semantic", threshold=0.9
            )
    assert stats["embedded_entries"] == 2 and stats["embedding_error"] is None
    assert stats["embedding_model"] == env["MEMORY_LIFECYCLE_EMBEDDING_MODEL_PATH"]
    assert default["mode"] == "hybrid" and default["pending"] == 0
    (hit,) = default["results"]
    assert hit["key"] == "notes/auth" and hit["matched"] == "semantic"
    assert 0 < hit["similarity"] <= 1
    assert keyword["mode"] == "keyword" and keyword["results"] == []
    assert smart["mode"] == "hybrid" and smart["results"][0]["key"] == "notes/auth"
    assert bounded_["results"] == []


@pytest.mark.anyio
async def test_without_a_model_semantic_is_an_error_saying_how_to_enable_it(
    tmp_path: Path,
) -> None:
    server = build_server(memory_dir=tmp_path / "memory", maintenance_interval=0)
    with bounded():
        async with Client(server, mode="legacy") as client:
            await call(client, "memory_store", key="notes/auth", value="We use JWT")
            refused = await client.call_tool(
                "memory_search", {"query": QUESTION, "mode": "semantic"}
            )
            smart = await call(client, "memory_search", query="JWT", smart=True)
            out_of_range = await client.call_tool(
                "memory_search", {"query": "JWT", "threshold": 1.5}
            )
            stats = await call(client, "memory_stats")
    assert refused.is_error
    message = error_text(refused)
    assert "search by meaning is off" in message and "mode 'keyword'" in message
    assert "\n" not in message.strip()
    assert smart["mode"] == "keyword" and smart["results"][0]["key"] == "notes/auth"
    assert smart["results"][0]["similarity"] is None and smart["pending"] == 0
    assert out_of_range.is_error and "threshold" in error_text(out_of_range)
    assert stats["embedding_model"] is None and stats["embedding_error"]
    assert stats["pending_embeddings"] == 0


@pytest.mark.slow
def test_the_cli_indexes_with_a_report_and_searches_in_each_mode(project: Path) -> None:
    env = {"MEMORY_LIFECYCLE_EMBEDDING_MODEL_PATH": str(model_folder())}
    with open_store(project) as m:
        m.store("notes/auth", "We decided to use JWT tokens for authentication of API users")
        m.store("notes/ci", "Builds run on GitHub Actions")

    indexed = one_json(run_cli("index", "--output", "json", **env).stdout)
    semantic = one_json(
        run_cli("search", QUESTION, "--mode", "semantic", "--limit", "1", "--output", "json",
                **env).stdout
    )  # fmt: skip
    table = run_cli("search", QUESTION, "--threshold", "0.2", **env)
    bad = run_cli("search", QUESTION, "--mode", "fuzzy", **env)

    assert indexed["indexed"] == 2 and indexed["embedded"] == 2 and indexed["pending"] == 0
    assert indexed["model"] == env["MEMORY_LIFECYCLE_EMBEDDING_MODEL_PATH"]
    assert semantic["mode"] == "semantic" and semantic["results"][0]["key"] == "notes/auth"
    assert table.returncode == 0 and "notes/auth" in table.stdout
    assert "(hybrid)" in table.stdout and "notes/ci" not in table.stdout
    assert bad.returncode == 2 and "fuzzy" in bad.stderr


@pytest.mark.slow
def test_the_cli_index_without_a_model_is_one_clear_line(project: Path) -> None:
    done = run_cli("index", MEMORY_LIFECYCLE_EMBEDDING_MODEL_PATH=str(project / "none"))
    assert_one_line_error(done, "search by meaning is off", "none does not exist")


def test_one_server_embeds_at_a_time_and_the_others_only_read_its_vectors(
    make_manager: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEMORY_LIFECYCLE_EMBEDDING_MODEL_PATH", str(model_folder()))
    first, second = make_manager("shared"), make_manager("shared")
    for i in range(70):
        first.store(f"notes/{i:02}", f"note {i} about the deploy")
    one, two = BackgroundIndexer(first, batch=64), BackgroundIndexer(second, batch=64)

    assert one.run_once() == 64  # one bounded batch
    assert two.run_once() == 0  # the indexer's turn is the first server's
    assert one.run_once() == 6 and one.run_once() == 0  # the rest, then nothing to do
    found = second.search("deploy note", mode="semantic", limit=100)
    assert found["pending"] == 0 and len(found["results"]) == 70


def test_without_a_model_the_background_indexer_does_nothing(make_manager: Any) -> None:
    m = make_manager()
    m.store("notes/a", "text")
    indexer = BackgroundIndexer(m)
    assert indexer.run_once() == 0 and indexer.run_once() == 0
    assert m.get_stats()["embedding_error"] is not None


def test_index_reports_progress_and_the_bar_draws_it_on_one_line(
    make_manager: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEMORY_LIFECYCLE_EMBEDDING_MODEL_PATH", str(model_folder()))
    m = make_manager()
    for i in range(70):
        m.store(f"notes/{i:02}", f"note {i}")
    seen: list[tuple[int, int]] = []
    m.index(progress=lambda done, total: seen.append((done, total)))
    assert seen == [(64, 70), (70, 70)]

    out = io.StringIO()
    bar = ProgressBar(out, width=10)
    bar.update(3, 10)
    bar.update(10, 10)
    bar.close()
    assert out.getvalue().endswith("\rembedding [##########] 10/10\n")
    assert "\n" not in out.getvalue()[:-1]  # redrawn in place
