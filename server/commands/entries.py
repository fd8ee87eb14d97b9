"""``get``, ``put``, ``list`` and ``delete``: one entry by hand, from a shell or a script.

With ``--output json`` each prints the object its MCP tool returns
(``memory_retrieve``, ``memory_store``, ``memory_list``, ``memory_delete``),
built from the same models in ``server.mcp.models``. Those import pydantic and the
engine but not ``mcp``, and only inside the handlers, so these commands start
as quickly as a hook and the hook path does not pay for pydantic.

A key that is not there is exit code 1 for ``get`` and ``delete``, so a
script can test for it, with the tool's object (``found``/``deleted``
false) still on stdout for ``--output json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import typing
from collections.abc import Mapping, Sequence
from types import NoneType
from typing import Any

from .. import output
from ..program import PROG
from .common import emit, open_existing, open_manager, output_option

DEFAULT_LIST_LIMIT = 100


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    get = sub.add_parser("get", help="print one entry's value (exit 1 if it is not there)")
    get.add_argument("key")
    output_option(get)
    get.set_defaults(handler=cmd_get)

    put = sub.add_parser("put", help="store one value (JSON, else the text as a string)")
    put.add_argument("key")
    put.add_argument("value", help="a JSON value; anything that is not JSON is a string")
    write_field_flags(put)
    put.add_argument(
        "--keep-siblings",
        action="store_true",
        help="on a multi-value key, add this value beside the current ones instead of "
        "replacing them",
    )
    output_option(put)
    put.set_defaults(handler=cmd_put)

    ls = sub.add_parser("list", help="live entries in key order")
    ls.add_argument("prefix", nargs="?", default="", help="only keys starting with this")
    ls.add_argument("--limit", type=int, default=DEFAULT_LIST_LIMIT, help="page size (1-1000)")
    ls.add_argument("--cursor", help="next_cursor of the previous page")
    ls.add_argument(
        "--tag",
        action="append",
        dest="tags",
        metavar="T",
        help="only entries tagged T (repeat: entries carrying all of them)",
    )
    output_option(ls)
    ls.set_defaults(handler=cmd_list)

    delete = sub.add_parser("delete", help="delete one entry (exit 1 if it is not there)")
    delete.add_argument("key")
    output_option(delete)
    delete.set_defaults(handler=cmd_delete)


# The write fields ``put`` takes as flags, each named after its field unless given here,
# with the field's type and description (``lifecycle.entries.write_fields``); a list
# field is a repeated flag.
PUT_FLAGS: dict[str, dict[str, Any]] = {
    "ttl_seconds": {"metavar": "S"},
    "tags": {"flag": "--tag", "metavar": "T", "note": "repeat --tag for several"},
}


def write_field_flags(parser: argparse.ArgumentParser) -> None:
    """``PUT_FLAGS`` on ``parser``, typed and described as the declared write fields."""
    from lifecycle.entries.write_fields import write_fields

    declared = write_fields()
    for name, settings in PUT_FLAGS.items():
        field = declared[name]
        options = dict(settings)
        flag = options.pop("flag", "--" + name.replace("_", "-"))
        note = options.pop("note", None)
        (kind,) = (t for t in typing.get_args(field.type) or (field.type,) if t is not NoneType)
        if typing.get_origin(kind) is Sequence:
            options.update(action="append", type=typing.get_args(kind)[0])
        else:
            options.update(type=kind)
        description = field.description.replace("%", "%%")
        help_text = f"{description} ({note})" if note else description
        parser.add_argument(flag, dest=name, help=help_text, **options)


def parse_value(text: str) -> Any:
    """The JSON value ``text`` spells, else ``text`` itself (``NaN`` stays a string)."""
    try:
        return json.loads(text, parse_constant=_not_json)
    except ValueError:
        return text


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _json_text(value: Any) -> str:
    indent = 2 if isinstance(value, (dict, list)) and value else None
    return json.dumps(value, indent=indent, ensure_ascii=False)


def _missing(args: argparse.Namespace, result: Mapping[str, Any], what: str) -> int:
    if args.output == "json":
        output.dump_json(result, sys.stdout)
    print(f"{PROG}: error: {what}", file=sys.stderr)
    return 1


def cmd_get(args: argparse.Namespace) -> int:
    from ..mcp.models import RetrieveOutput

    with open_existing(args) as manager:
        entry = manager.retrieve_entry(args.key)
    result = RetrieveOutput.from_entry(args.key, entry).model_dump(mode="json")
    if entry is None:
        return _missing(args, result, f"no entry {args.key!r}: not stored, deleted or expired")
    emit(args, result, lambda r: _json_text(r["value"]))
    if args.output != "json" and result["conflicts"]:
        n = len(result["conflicts"])
        print(
            f"{PROG}: note: {args.key!r} has {n} more concurrent "
            f"value{'s' if n > 1 else ''} (multi_value); --output json shows them",
            file=sys.stderr,
        )
    return 0


def cmd_put(args: argparse.Namespace) -> int:
    """A person's write: on a multi-value key it replaces the values it has seen (it reads
    the key's context first), so two ``put``s in a row leave one value. Each command is a
    new actor, so without the context every ``put`` would pile up one more sibling."""
    from ..mcp.models import StoreOutput

    with open_manager(args) as manager:
        seen = None if args.keep_siblings else manager.retrieve_entry(args.key)
        stored = manager.put(
            args.key,
            parse_value(args.value),
            ttl_seconds=args.ttl_seconds,
            tags=args.tags,
            context=seen.context if seen is not None else None,
        )
    emit(args, StoreOutput.from_result(stored).model_dump(mode="json"), format_put)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from ..mcp.models import ListOutput

    with open_existing(args) as manager:
        page = manager.list(
            prefix=args.prefix, limit=args.limit, cursor=args.cursor, tags=args.tags
        )
    emit(args, ListOutput.model_validate(page).model_dump(mode="json"), format_list)
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    from ..mcp.models import DeleteOutput

    with open_manager(args) as manager:
        deleted = manager.delete(args.key)
    result = DeleteOutput(deleted=deleted, key=args.key).model_dump(mode="json")
    if not deleted:
        return _missing(args, result, f"no entry {args.key!r} to delete: not stored or expired")
    emit(args, result, lambda r: f"deleted {r['key']}")
    return 0


def format_put(result: Mapping[str, Any]) -> str:
    where = f"policy {result['policy']}, {result['strategy']}"
    expiry = output.human_when(result["expires_at"]) if result["expires_at"] else "never"
    if result["duplicate"]:
        return f"unchanged {result['key']}: op_id already applied ({where})"
    if not result["stored"]:
        return (
            f"not stored {result['key']}: a newer write already won ({where}); "
            f"value: {_json_text(result['value'])}"
        )
    return f"stored {result['key']} ({where}; expires {expiry})"


_LIST_COLUMNS = ("key", "policy", "tags", "size", "expires")


def format_list(page: Mapping[str, Any]) -> str:
    """A table of the page, then how to get the next one."""
    if not page["entries"]:
        return "no entries"
    rows = [
        (
            e["key"],
            e["policy"],
            ",".join(e["tags"]) or "-",
            output.human_bytes(e["size_bytes"]),
            _expiry(e["expires_at"]),
        )
        for e in page["entries"]
    ]
    widths = [max(len(r[i]) for r in (_LIST_COLUMNS, *rows)) for i in range(len(_LIST_COLUMNS))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
        for r in (_LIST_COLUMNS, tuple("-" * w for w in widths), *rows)
    ]
    if page["next_cursor"]:
        lines.append(f"more: add --cursor={page['next_cursor']}")
    return "\n".join(lines)


def _expiry(expires_at: float | None) -> str:
    return "never" if expires_at is None else output.human_when(expires_at)
