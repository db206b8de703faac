"""YAML with line numbers: every mapping key and list item remembers the line it was written on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from antkit.errors import RecipeError

Location = tuple  # path of keys / list indices into the document


def _to_python(node: yaml.Node, path: Location, lines: dict[Location, int], source: str) -> Any:
    if isinstance(node, yaml.MappingNode):
        result = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node)
            if key in result:
                field = ".".join(map(str, path + (key,)))
                raise RecipeError(f"{source}, line {key_node.start_mark.line + 1}: {field}: given twice")
            lines[path + (key,)] = key_node.start_mark.line + 1
            result[key] = _to_python(value_node, path + (key,), lines, source)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            lines[path + (index,)] = item.start_mark.line + 1
            items.append(_to_python(item, path + (index,), lines, source))
        return items
    return _scalar(node)


def _scalar(node: yaml.Node) -> Any:
    return yaml.constructor.SafeConstructor().construct_object(node, deep=True)


def load_yaml(path: Path) -> tuple[Any, dict[Location, int]]:
    """The document in ``path`` and the line of each key; malformed YAML is a RecipeError with its line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RecipeError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise RecipeError(f"{path}: cannot read: {error}") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise RecipeError(f"{path}{where}: not valid YAML: {problem}") from None
    lines: dict[Location, int] = {}
    if node is None:
        return {}, lines
    return _to_python(node, (), lines, str(path)), lines


def line_of(lines: dict[Location, int], location: Location) -> int | None:
    """The line of the deepest written part of ``location``."""
    for end in range(len(location), 0, -1):
        if location[:end] in lines:
            return lines[location[:end]]
    return None
