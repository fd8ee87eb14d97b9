"""The search tool: find entries by their words, without knowing the key.

A tool of its own module, built by ``build_tools`` with the others: a
few lines calling the engine's ``search``, returning the models below.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from pydantic import BaseModel, Field

from .errors import tool_errors
from .lifespan_state import manager_of
from .tool_hints import READ_ONLY, ToolTable


class SearchResult(BaseModel):
    key: str
    score: float = Field(description="Relevance, higher is better; compare within one search.")
    snippet: str = Field(
        description="Text of the value around the first match, matched words **marked**."
    )
    policy: str = Field(description="The retention policy pattern that governs the key.")
    revision: int = Field(
        description="The store revision of the entry's last change: pass it to memory_store "
        "/ memory_delete as if_revision for a compare-and-set."
    )
    updated_at: float = Field(description="Epoch seconds of the last write.")
    tags: list[str] = Field(description="The entry's tags, sorted.")
    # claude-flow 3's result fields
    value: Any = Field(default=None, description="The value (multi_value: the newest sibling).")
    similarity: float | None = Field(
        default=None,
        description="Cosine similarity to the query (0-1; semantic and hybrid modes); "
        "null for a keyword-only match.",
    )
    provenance_type: str | None = Field(
        default=None, description="Who or what produced the value; null when never given."
    )
    matched: Literal["keyword", "semantic", "both"] = Field(
        default="keyword", description="Which ranking found the entry."
    )


class SearchOutput(BaseModel):
    results: list[SearchResult] = Field(description="Best match first; ties in key order.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` (with the same query and filters) for the next page; "
        "null on the last page."
    )
    mode: Literal["keyword", "semantic", "hybrid"] = Field(
        default="keyword", description="The mode that ran."
    )
    pending: int = Field(
        default=0,
        description="Live entries not embedded yet (matched by keywords only until the "
        "background indexer or `memory-lifecycle index` embeds them); 0 when search by "
        "meaning is off.",
    )
    cut_off: bool = Field(
        default=False,
        description="True when the query matched too many entries to rank them all: the "
        "matches were ranked newest first in windows, by relevance within each window. Add a "
        "rarer word, a prefix or tags for a ranking by relevance alone.",
    )


@tool_errors
def memory_search(
    query: Annotated[
        str,
        Field(
            description="Words that must all match (case and accents ignored), "
            '"quoted phrases", and prefix* words, e.g. \'auth "use JWT" deploy*\'. '
            "No operators: AND, OR, NOT and -word are refused."
        ),
    ],
    ctx: Context,
    prefix: Annotated[
        str, Field(description="Only keys starting with this text, e.g. 'knowledge/'.")
    ] = "",
    tags: Annotated[
        list[str] | None, Field(description="Only entries carrying all of these tags.")
    ] = None,
    limit: Annotated[int, Field(description="Results per page, 1-100.")] = 10,
    cursor: Annotated[
        str | None, Field(description="The next_cursor of the previous page, unchanged.")
    ] = None,
    namespace: Annotated[
        str | None,
        Field(
            description="Only keys under '<namespace>/' (claude-flow's namespace; 'default' "
            "= the whole store)."
        ),
    ] = None,
    provenance_filter: Annotated[
        list[str] | None,
        Field(
            description="Only entries whose provenance_type is one of these (an entry stored "
            "without one counts as 'unknown')."
        ),
    ] = None,
    mode: Annotated[
        Literal["keyword", "semantic", "hybrid"] | None,
        Field(
            description="keyword: words must match; semantic: by meaning (cosine similarity "
            "of embeddings); hybrid: both rankings fused. Default: hybrid when an embedding "
            "model is available, else keyword. Wins over smart."
        ),
    ] = None,
    threshold: Annotated[
        float | None,
        Field(
            ge=0,
            le=1,
            description="Minimum similarity (0-1) of a semantic match (default 0); keyword "
            "matches are not bounded by it.",
        ),
    ] = None,
    smart: Annotated[
        bool | None,
        Field(
            description="claude-flow's flag: true = hybrid where a model is available, "
            "else keyword (never an error)."
        ),
    ] = None,
) -> SearchOutput:
    found = manager_of(ctx).search(
        query,
        prefix,
        tags,
        limit,
        cursor,
        namespace,
        provenance_filter=provenance_filter,
        mode=mode,
        threshold=threshold,
        smart=smart,
    )
    return SearchOutput.model_validate(found)


SEARCH_TOOLS: ToolTable = {
    "memory_search": (
        memory_search,
        "Search memory entries",
        READ_ONLY,
        "Search every live entry: the words of its key and of every string in its value "
        "(nested ones, every multi_value sibling, compressed values), and, where an "
        "embedding model is available, their meaning: 'how do we log users in' finds "
        "'we use JWT tokens for API authentication'. Use it to find what other agents "
        "wrote without knowing the key. Results are ranked best first with a snippet and "
        "the value; narrow with prefix, namespace, tags or provenance_filter; page with "
        "next_cursor; mode picks keyword, semantic or hybrid (the default when a model is "
        "available).",
    ),
}
