"""YAML with line numbers: every mapping key and list item remembers the line it was written on.

Merge keys (``adapt: {<<: *pretrain, epochs: 20}``) add the keys of the merged mappings that the mapping does
not write itself; a merged key keeps the line it was written on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn

import yaml

from antkit.errors import RecipeError

Location = tuple  # path of keys / list indices into the document

PLAIN_TAGS = (yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG)
MERGE_TAG = "tag:yaml.org,2002:merge"
MAX_VALUES = 100_000  # values a recipe may hold once its aliases are expanded (far above any real recipe)


class _Reader:
    """Python values from composed YAML nodes, noting the line of each key and list item in ``lines``."""

    def __init__(self, source: str, root: str):
        self.source, self.root = source, root  # root: what a problem with the whole document is blamed on
        self.lines: dict[Location, int] = {}
        self.open: list[yaml.Node] = []  # the lists and mappings being read, to catch one that contains itself
        self.count = 0  # values read so far: aliases repeat a value, and aliases of aliases multiply them

    def value(self, node: yaml.Node, path: Location) -> Any:
        self.tally(1)
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, path)
        if node.tag not in PLAIN_TAGS:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            self.fail(node, path, f"a recipe has plain lists and mappings, not '{tag}'")
        if node in self.open:
            self.fail(node, path, "this value contains itself (a recursive anchor)")
        self.open.append(node)
        result = self.mapping(node, path) if isinstance(node, yaml.MappingNode) else self.sequence(node, path)
        self.open.pop()
        return result

    def tally(self, values: int) -> None:
        """Count ``values`` more read values, refusing a document whose aliases expand beyond ``MAX_VALUES``."""
        self.count += values
        if self.count > MAX_VALUES:
            raise RecipeError(f"{self.source}: its aliases expand to more than {MAX_VALUES:,} values, far more "
                              "than a recipe holds; use fewer aliases of aliases")

    def mapping(self, node: yaml.MappingNode, path: Location) -> dict:
        result = {}
        own, merged = self.pairs(node, path)
        for index, (key_node, value_node) in enumerate(own + merged):
            if not isinstance(key_node, yaml.ScalarNode):
                self.fail(key_node, path, "a key must be a name, not a list or mapping")
            key = self.scalar(key_node, path)
            if key in result:
                if index >= len(own):
                    continue  # a merged key: the mapping's own key, or an earlier merged mapping's, wins
                self.fail(key_node, path + (key,), "given twice")
            self.lines[path + (key,)] = key_node.start_mark.line + 1
            result[key] = self.value(value_node, path + (key,))
        return result

    def pairs(self, node: yaml.MappingNode, path: Location) -> tuple[list, list]:
        """The (key, value) nodes a mapping writes itself, and those its merge keys bring, in priority order."""
        own, merged = [], []
        for key_node, value_node in node.value:
            if key_node.tag != MERGE_TAG:
                own.append((key_node, value_node))
                continue
            sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            for source in sources:
                if not isinstance(source, yaml.MappingNode) or source.tag not in PLAIN_TAGS:
                    self.fail(source, path, "'<<' (a merge key) takes a mapping or a list of mappings, e.g. "
                                            "'<<: *defaults' or '<<: [*a, *b]'")
                if source in self.open:
                    self.fail(source, path, "this value merges itself (a recursive anchor)")
                self.tally(len(source.value))
                self.open.append(source)
                merged.extend(sum(self.pairs(source, path), []))
                self.open.pop()
        return own, merged

    def sequence(self, node: yaml.SequenceNode, path: Location) -> list:
        items = []
        for index, item in enumerate(node.value):
            self.lines[path + (index,)] = item.start_mark.line + 1
            items.append(self.value(item, path + (index,)))
        return items

    def scalar(self, node: yaml.ScalarNode, path: Location) -> Any:
        try:
            return yaml.constructor.SafeConstructor().construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError) as error:
            written = node.start_mark.buffer[node.start_mark.index:node.end_mark.index]
            problem = getattr(error, "problem", None) or str(error)
            self.fail(node, path, f"cannot read {written!r}: {problem} (quote it to use it as text)")

    def fail(self, node: yaml.Node, path: Location, problem: str) -> NoReturn:
        field = ".".join(map(str, path)) or self.root
        raise RecipeError(f"{self.source}, line {node.start_mark.line + 1}: {field}: {problem}")


def load_yaml(path: Path) -> tuple[Any, dict[Location, int]]:
    """The document in ``path`` and the line of each key; malformed YAML is a RecipeError with its line."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise RecipeError(f"{path}: no such file") from None
    except OSError as error:
        raise RecipeError(f"{path}: cannot read: {error}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        before = data[:error.start].decode("utf-8")
        line, column = line_and_column(before, len(before))
        raise RecipeError(f"{path}, line {line}, column {column}: not UTF-8 text (byte 0x{data[error.start]:02x}); "
                          "save the recipe as UTF-8") from None
    document, lines = read_yaml(text, str(path))
    return ({}, {}) if document is None else (document, lines)


def read_yaml(text: str, source: str, root: str = "recipe") -> tuple[Any, dict[Location, int]]:
    """The document in ``text`` (None if empty) and the line of each key; errors name ``source`` and the field
    (``root`` for the whole document)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:
        raise RecipeError(f"{source}: cannot read: lists or mappings nested too deeply") from None
    except yaml.reader.ReaderError as error:  # a character YAML refuses; PyYAML gives only its index
        line, column = line_and_column(text, error.position)
        raise RecipeError(f"{source}, line {line}, column {column}: not valid YAML: the character "
                          f"U+{error.character:04X} is not allowed in YAML text; remove it") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise RecipeError(f"{source}{where}: not valid YAML: {problem}") from None
    if node is None:
        return None, {}
    reader = _Reader(source, root)
    return reader.value(node, ()), reader.lines


def line_of(lines: dict[Location, int], location: Location) -> int | None:
    """The line of the deepest written part of ``location``."""
    for end in range(len(location), 0, -1):
        if location[:end] in lines:
            return lines[location[:end]]
    return None


def line_and_column(text: str, index: int) -> tuple[int, int]:
    """The 1-based line and column of character ``index`` of ``text`` (``text`` may end at ``index``)."""
    line_start = text.rfind("\n", 0, index) + 1
    return text.count("\n", 0, index) + 1, index - line_start + 1
