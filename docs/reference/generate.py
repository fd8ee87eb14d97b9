"""The reference pages, generated from the code at every docs build (a mkdocs hook).

Four pages have a source that the code itself keeps, so they are never written by hand
and never committed (a copy would go stale the day a tool gains a field):

- ``reference/tools.md``: each MCP tool's name, title, description, annotations, input
  schema and output schema, read from a server built in-process (``build_server``),
  plus the resource templates;
- ``reference/cli.md``: every command and option of ``memory-lifecycle``, walked from
  the argparse parser (``server.cli.build_parser``);
- ``reference/policy-file.md``: every field of the policy file, from its pydantic schema
  (``lifecycle.policies.schema``), and the shipped default file;
- ``reference/modules.md``: every module of ``lifecycle/`` and ``server/`` with the first
  paragraph of its docstring, read from the source without importing it.

``mkdocs.yml`` names this file under ``hooks:``; ``on_files`` adds the pages to the build
as in-memory files. ``python docs/reference/generate.py OUT_DIR`` writes them out to read.
"""

from __future__ import annotations

import argparse
import ast
import html
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
PAGES_DIR = "reference"


# ---------------------------------------------------------------- shared rendering


def cell(text: object) -> str:
    """Text for one Markdown table cell: one line, pipes escaped (in code spans too)."""
    line = " ".join(str(text).split())
    line = re.sub(r"(`+)([^`]+?)\1", lambda m: code(m[2]) if "|" in m[2] else m[0], line)
    return line.replace("|", "\\|")


def table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def code(text: object) -> str:
    """Inline code. A pipe inside backticks would still split a table cell, and escaped it
    shows its backslash, so such text is written as HTML with the pipe as an entity."""
    text = str(text)
    if "|" in text:
        escaped = html.escape(text).replace("|", "&#124;")
        return f"<code>{escaped}</code>"
    return f"`{text}`"


GENERATED_NOTE = (
    "_Generated from {source} at every docs build (`make docs`); edit the source, not this page._"
)


# ---------------------------------------------------------------- MCP tools


def tools_page() -> str:
    """The MCP tool reference, from the tools a freshly built server lists."""
    tools, templates = _server_listing()
    lines = [
        "# MCP tool reference",
        "",
        GENERATED_NOTE.format(source="the tool schemas of a server built in-process"),
        "",
        "Arguments marked *required* must be given; the others may be left out (or sent "
        "as `null`), which means their default. Times are epoch seconds. "
        "[MCP tools](../tools.md) explains the rules every tool shares (keys, numbers, "
        "errors).",
        "",
        *table(
            ("tool", "title", "kind"),
            [(f"[`{t.name}`](#{t.name})", t.title or "", _tool_kind(t)) for t in tools],
        ),
    ]
    for tool in tools:
        lines += _tool_section(tool)
    lines += ["## Resources", ""]
    for template in templates:
        lines += [
            f"### `{template.uri_template}`",
            "",
            f"**{template.title or template.name}** ({template.mime_type or 'text'}). "
            f"{template.description or ''}",
            "",
        ]
    return "\n".join(lines)


def _server_listing() -> tuple[list[Any], list[Any]]:
    import anyio

    from server.mcp.server import build_server

    server = build_server(maintenance_interval=0, bench_noop=False)  # opens no store

    async def listing() -> tuple[list[Any], list[Any]]:
        return await server.list_tools(), await server.list_resource_templates()

    return anyio.run(listing)


def _tool_kind(tool: Any) -> str:
    hints = tool.annotations
    if hints is None:
        return ""
    if hints.read_only_hint:
        return "read-only"
    kind = "destructive" if hints.destructive_hint else "write"
    return f"{kind}, idempotent" if hints.idempotent_hint else kind


def _tool_section(tool: Any) -> list[str]:
    hints = tool.annotations
    flags = []
    if hints is not None:
        for name in ("read_only_hint", "destructive_hint", "idempotent_hint", "open_world_hint"):
            value = getattr(hints, name)
            if value is not None:
                flags.append(f"`{_camel(name)}: {str(value).lower()}`")
    lines = [f"## `{tool.name}`", "", f"**{tool.title or tool.name}**: {_tool_kind(tool)}.", ""]
    lines += [tool.description or "", "", "Annotations: " + ", ".join(flags) + ".", ""]
    lines += ["**Arguments**", ""]
    rows = list(_schema_rows(tool.input_schema, tool.input_schema.get("$defs", {}), ""))
    lines += table(("argument", "type", "given", "description"), rows) if rows else ["None.", ""]
    if tool.output_schema is not None:
        schema = tool.output_schema
        lines += ["**Result** (`structuredContent`)", ""]
        if schema.get("description"):
            lines += [schema["description"], ""]
        rows = [(f, kind, d) for f, kind, _, d in _schema_rows(schema, schema.get("$defs", {}), "")]
        lines += table(("field", "type", "description"), rows)
    return lines


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _schema_rows(
    schema: dict[str, Any], defs: dict[str, Any], prefix: str
) -> Iterator[tuple[str, str, str, str]]:
    required = set(schema.get("required", ()))
    for name, prop in schema.get("properties", {}).items():
        path = f"{prefix}{name}"
        given = "required" if name in required else _default(prop)
        yield (code(path), _type_of(prop, defs, optional=not given), given, _describe(prop))
        nested = _nested_object(prop, defs)
        if nested is not None:
            mark = "[]." if _is_array(prop) else "."
            yield from _schema_rows(nested, defs, prefix=f"{path}{mark}")


def _default(prop: dict[str, Any]) -> str:
    """``default X``, or "" when leaving it out means null (an optional argument)."""
    if prop.get("default") is None:
        return ""
    value = prop["default"]
    return "default " + code(str(value).lower() if isinstance(value, bool) else value)


def _describe(prop: dict[str, Any]) -> str:
    text = prop.get("description", "")
    limits = [
        f"{word} {prop[key]}"
        for key, word in (
            ("minimum", "at least"),
            ("exclusiveMinimum", "more than"),
            ("maximum", "at most"),
            ("minLength", "at least"),
            ("maxLength", "at most"),
            ("minItems", "at least"),
            ("maxItems", "at most"),
        )
        if key in prop
    ]
    return f"{text} ({', '.join(limits)})" if limits else text


def _variants(prop: dict[str, Any]) -> list[dict[str, Any]]:
    return list(prop.get("anyOf") or prop.get("oneOf") or [prop])


def _resolve(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = prop.get("$ref", "")
    return dict(defs.get(ref.rsplit("/", 1)[-1], {})) if ref else prop


def _is_array(prop: dict[str, Any]) -> bool:
    return any(v.get("type") == "array" for v in _variants(prop))


def _nested_object(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any] | None:
    """The object schema a field holds (directly or as array items), if it has fields."""
    for variant in _variants(prop):
        inner = variant.get("items", variant) if variant.get("type") == "array" else variant
        target = _resolve(inner, defs)
        if target.get("properties"):
            return target
    return None


def _type_of(prop: dict[str, Any], defs: dict[str, Any], optional: bool = False) -> str:
    """The JSON type(s) a field takes; ``optional`` leaves out the null that means "absent"."""
    names = []
    for variant in _variants(prop):
        if optional and variant.get("type") == "null":
            continue
        variant = _resolve(variant, defs) if "$ref" in variant else variant
        kind = variant.get("type")
        if "enum" in variant:
            names.append(" | ".join(code(v) for v in variant["enum"]))
        elif "const" in variant:
            names.append(code(variant["const"]))
        elif kind == "array":
            names.append(f"array of {_type_of(variant.get('items', {}), defs)}")
        elif kind == "object" and variant.get("properties"):
            names.append("object")
        elif kind is not None:
            names.append("null" if kind == "null" else str(kind))
        else:
            names.append("any JSON")
    return " or ".join(dict.fromkeys(names))


# ---------------------------------------------------------------- the command line


def cli_page() -> str:
    """The command-line reference, walked from the parser ``memory-lifecycle`` uses."""
    from server.cli import build_parser

    parser = build_parser()  # no argv: every command's parser
    lines = [
        "# Command-line reference",
        "",
        GENERATED_NOTE.format(source="the argparse parser of `memory-lifecycle`"),
        "",
        "Global options come before the command: "
        "`memory-lifecycle [GLOBAL OPTIONS] COMMAND [OPTIONS]`. "
        "[The memory-lifecycle command](../cli.md) shows them at work.",
        "",
        "## Global options",
        "",
        *_options_table(parser),
    ]
    for names, sub in _subcommands(parser):
        path = ["memory-lifecycle", names[0]]
        lines += _command_section(path, names, sub, _help_of(parser, names[0]))
    return "\n".join(lines)


def _subcommands(
    parser: argparse.ArgumentParser,
) -> list[tuple[list[str], argparse.ArgumentParser]]:
    """Each subcommand parser once, with its names (aliases after the name)."""
    found: dict[int, tuple[list[str], argparse.ArgumentParser]] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.setdefault(id(sub), ([], sub))[0].append(name)
    return list(found.values())


def _help_of(parser: argparse.ArgumentParser, name: str) -> str:
    """The one-line help its parent gave the subcommand ``name``."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                if choice.dest == name:
                    return str(choice.help or "")
    return ""


def _command_section(
    path: list[str], names: list[str], parser: argparse.ArgumentParser, help_text: str
) -> list[str]:
    level = min(len(path), 4)  # memory-lifecycle X: ##, memory-lifecycle hook X: ###
    lines = ["#" * level + f" `{' '.join(path)}`", ""]
    if len(names) > 1:
        help_text += f" (also `{'`, `'.join(names[1:])}`)"
    if help_text.strip():
        lines += [help_text.strip(), ""]
    if parser.description:
        lines += [parser.description, ""]
    lines += _options_table(parser)
    quiet = []
    for sub_names, sub in _subcommands(parser):
        sub_help = _help_of(parser, sub_names[0])
        if sub_help:
            lines += _command_section([*path, sub_names[0]], sub_names, sub, sub_help)
        else:
            quiet.append(code(sub_names[0]))
    if quiet:
        lines += [
            "Accepted with no memory effect (claude-flow's other hooks; each says so on "
            f"stderr and exits 0): {', '.join(quiet)}.",
            "",
        ]
    return lines


def _options_table(parser: argparse.ArgumentParser) -> list[str]:
    rows, ignored = [], []
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        if action.help == argparse.SUPPRESS:
            ignored += action.option_strings
            continue
        rows.append(
            (
                ", ".join(code(s) for s in action.option_strings) or code(_metavar(action)),
                _value_of(action),
                _action_default(action),
                str(action.help or ""),
            )
        )
    lines = table(("option", "value", "default", "description"), rows) if rows else []
    if ignored:
        names = ", ".join(code(s) for s in ignored)
        lines += [f"Also accepted and ignored (claude-flow's options): {names}.", ""]
    return lines or ["No options.", ""]


def _metavar(action: argparse.Action) -> str:
    return str(action.metavar or action.dest.upper())


def _value_of(action: argparse.Action) -> str:
    if action.nargs == 0:
        return ""
    if action.choices:
        value = " | ".join(code(c) for c in action.choices)
    else:
        value = code(_metavar(action)) if action.option_strings else ""
    if action.nargs == "?":
        value = f"{value} (optional)".strip()
    if isinstance(action, argparse._AppendAction):
        value += " (repeatable)"
    return value


def _action_default(action: argparse.Action) -> str:
    default = action.default
    if default in (None, False, "", argparse.SUPPRESS) or action.nargs == 0:
        return ""
    return code(default)


# ---------------------------------------------------------------- the policy file


def policy_page() -> str:
    """The policy-file reference, from the pydantic models that validate the file."""
    from lifecycle.policies import schema

    shipped = (REPO / "lifecycle" / "memory-retention-policies.yaml").read_text()
    lines = [
        "# Policy file reference",
        "",
        GENERATED_NOTE.format(source="the policy file's pydantic schema"),
        "",
        "The file has three sections, each optional: `namespaces` (a list of policies), "
        "`default` (the policy of keys that match none) and `settings` (store-wide). "
        "A field not listed here is an error naming it. "
        "[Retention policies](../policies.md) explains matching and reloading.",
        "",
        "## `namespaces[]`: one policy per key pattern",
        "",
        *_model_table(schema.PolicyModel),
        "## `default`: keys that match no pattern",
        "",
        "Every field is optional; unset ones take the built-in default's values.",
        "",
        *_model_table(schema.DefaultPolicyModel),
        "## `settings`: store-wide",
        "",
        *_model_table(schema.SettingsModel),
        "## The shipped file",
        "",
        "`memory-lifecycle init` writes this file into a project that has none; it holds "
        "the built-in defaults.",
        "",
        "```yaml",
        shipped.rstrip("\n"),
        "```",
        "",
    ]
    return "\n".join(lines)


def _model_table(model: Any) -> list[str]:
    """One row per field: the model's own fields first (a policy's ``namespace`` and the
    fields it makes required), then those it inherits."""
    own = list(model.__annotations__)
    fields = sorted(model.model_fields.items(), key=lambda item: item[0] not in own)
    rows = []
    for name, field in fields:
        rows.append(
            (
                code(name),
                _annotation_name(field.annotation),
                "required" if field.is_required() else _field_default(field.default),
                _field_description(field),
            )
        )
    return table(("field", "type", "default", "description"), rows)


def _annotation_name(annotation: Any) -> str:
    from enum import Enum

    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return " | ".join(code(member.value) for member in annotation)
    names = {float: "number", int: "integer", str: "string", bool: "boolean"}
    args = getattr(annotation, "__args__", None)
    if args:
        return " or ".join(names.get(a, "null" if a is type(None) else a.__name__) for a in args)
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _field_default(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "value"):  # an enum member
        value = value.value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return code(str(value).lower() if isinstance(value, bool) else value)


def _field_description(field: Any) -> str:
    limits = []
    for rule in field.metadata:
        for attr, word in (("ge", "at least"), ("le", "at most"), ("min_length", "at least")):
            if getattr(rule, attr, None) is not None:
                limits.append(f"{word} {getattr(rule, attr):,}")
        if getattr(rule, "max_length", None) is not None:
            limits.append(f"at most {rule.max_length:,} characters")
    text = field.description or ""
    return f"{text} ({', '.join(limits)})" if limits else text


# ---------------------------------------------------------------- the module map


def modules_page() -> str:
    """Every module of the engine and the server, with what its docstring says it is for."""
    lines = [
        "# Module map",
        "",
        GENERATED_NOTE.format(source="the modules' docstrings"),
        "",
        "[Architecture](../architecture.md) explains the layers.",
        "",
    ]
    for package in ("lifecycle", "server"):
        lines += [f"## `{package}/`", ""]
        rows = [(code(path), summary) for path, summary in _module_summaries(REPO / package)]
        lines += table(("module", "what it holds, and why"), rows)
    return "\n".join(lines)


def _module_summaries(root: Path) -> Iterator[tuple[str, str]]:
    for path in sorted(root.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        doc = ast.get_docstring(tree) or ""
        yield str(path.relative_to(REPO)), doc.split("\n\n", 1)[0]


# ---------------------------------------------------------------- the pages, the hook

PAGES: dict[str, Callable[[], str]] = {
    f"{PAGES_DIR}/tools.md": tools_page,
    f"{PAGES_DIR}/cli.md": cli_page,
    f"{PAGES_DIR}/policy-file.md": policy_page,
    f"{PAGES_DIR}/modules.md": modules_page,
}


def on_files(files: Any, config: Any) -> Any:
    """mkdocs hook: add the generated pages to the build as in-memory files."""
    from mkdocs.structure.files import File

    for uri, render in PAGES.items():
        files.append(File.generated(config, uri, content=render()))
    return files


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python docs/reference/generate.py OUT_DIR", file=sys.stderr)
        return 2
    out = Path(argv[0])
    for uri, render in PAGES.items():
        target = out / uri
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render())
        print(target)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main(sys.argv[1:]))
