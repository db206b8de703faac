"""Reading a recipe file, applying ``--set`` overrides, and explaining what is wrong with it."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, ValidationError

from antkit.errors import RecipeError
from antkit.plugins.registry import Registry
from antkit.recipe.schema import recipe_model
from antkit.recipe.yaml_source import Location, line_of, load_yaml

COMPONENT_FIELDS = {
    "encoder": "encoder", "adaptor": "adaptor", "fusion": "fusion",
    "backbone": "backbone", "strategy": "strategy", "source": "data_source",
}


def load_recipe(path: str | Path, registry: Registry, overrides: list[str] = ()) -> BaseModel:
    """The validated recipe in ``path``, with ``overrides`` ("a.b=value") applied first."""
    path = Path(path)
    data, lines = load_yaml(path)
    if not isinstance(data, dict):
        raise RecipeError(f"{path}: a recipe is a mapping of sections (data, model, arms, ...)")
    overridden: dict[Location, str] = {}
    for override in overrides:
        location = apply_override(data, override)
        overridden[location] = override
    return validate_recipe(data, registry, source=str(path), lines=lines, overridden=overridden)


def validate_recipe(data: Any, registry: Registry, source: str = "<recipe>", lines=None, overridden=None) -> BaseModel:
    try:
        return recipe_model(registry).model_validate(data)
    except ValidationError as error:
        messages = [_explain(e, data, source, lines or {}, overridden or {}, registry) for e in error.errors()]
        raise RecipeError("\n".join(dict.fromkeys(messages))) from None


def apply_override(data: dict, override: str) -> Location:
    """Set one field: ``a.b.0.c=value`` (value in YAML syntax: 5, true, [a, b], {name: x})."""
    key, separator, raw = override.partition("=")
    if not separator or not key.strip():
        raise RecipeError(f"--set {override!r}: expected FIELD=VALUE, e.g. adapt.epochs=5")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        raise RecipeError(f"--set {override!r}: the value is not valid YAML") from None
    parts: list[Any] = [int(p) if p.isdigit() else p for p in key.strip().split(".")]
    node = data
    for depth, part in enumerate(parts[:-1]):
        if isinstance(node, list):
            if not isinstance(part, int) or part >= len(node):
                raise RecipeError(f"--set {override!r}: {'.'.join(map(str, parts[:depth]))} has no item {part}")
            node = node[part]
        elif isinstance(node, dict):
            node = node.setdefault(part, {})
        else:
            raise RecipeError(f"--set {override!r}: {'.'.join(map(str, parts[:depth]))} is not a section")
    last = parts[-1]
    if isinstance(node, list):
        if not isinstance(last, int) or last >= len(node):
            raise RecipeError(f"--set {override!r}: no list item {last}")
        node[last] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise RecipeError(f"--set {override!r}: {'.'.join(map(str, parts[:-1]))} is not a section")
    return tuple(parts)


def _written_location(data: Any, location: tuple) -> tuple:
    """The part of pydantic's error location that exists in the document (drops union tags)."""
    written, node = [], data
    for part in location:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            continue
        written.append(part)
    return tuple(written)


def _explain(error: dict, data, source: str, lines, overridden, registry: Registry) -> str:
    location = _written_location(data, error["loc"])
    kind = error["type"]
    field = ".".join(map(str, location)) or "recipe"
    if kind == "missing":
        field = ".".join(map(str, location + (error["loc"][-1],)))
    if kind in ("union_tag_invalid", "literal_error") and _component_kind(location) and (
        kind == "union_tag_invalid" or error["loc"][-1] == "name"
    ):
        name = _value_at(data, location)
        name = name.get("name") if isinstance(name, dict) else name
        component_kind = _component_kind(location)
        message = registry.unknown_message(component_kind, str(name))
        field = ".".join(map(str, location[: location.index(_component_key(location)) + 1])) + ".name"
    elif kind == "union_tag_not_found":
        message = f"missing 'name': which {_component_kind(location) or 'component'} to use"
    elif kind == "extra_forbidden":
        message = "unknown field" + _did_you_mean(recipe_model(registry), data, location)
    else:
        message = error["msg"]
        if kind != "missing" and "input" in error and not isinstance(error["input"], (dict, list)):
            message += f" (got {error['input']!r})"
    for written, override in overridden.items():
        if location[: len(written)] == written or written[: len(location)] == location:
            return f"--set {override}: {field}: {message}"
    line = line_of(lines, location)
    where = f"{source}, line {line}" if line else source
    return f"{where}: {field}: {message}"


def _component_key(location: tuple):
    for part in reversed(location):
        if part in COMPONENT_FIELDS:
            return part
    return None


def _component_kind(location: tuple) -> str | None:
    key = _component_key(location)
    return COMPONENT_FIELDS.get(key) if key else None


def _value_at(data, location):
    for part in location:
        data = data[part]
    return data


def _did_you_mean(model: type[BaseModel], data, location: tuple) -> str:
    """" (expected one of: ...; did you mean 'x'?)" for an unknown field at ``location``."""
    allowed = _fields_at(model, data, location[:-1])
    if not allowed:
        return ""
    hint = difflib.get_close_matches(str(location[-1]), allowed, n=1)
    return f" (expected one of: {', '.join(allowed)}" + (f"; did you mean '{hint[0]}'?)" if hint else ")")


def _fields_at(model: type[BaseModel], data, location: tuple) -> list[str]:
    """Field names of the pydantic model that describes the mapping at ``location``."""
    annotation: Any = model
    for part in location:
        data = data[part]
        annotation = _model_for(annotation, data)
        if annotation is None:
            return []
        if isinstance(part, int):
            continue
        field = annotation.model_fields.get(part) if isinstance(part, str) else None
        if field is None:
            return []
        annotation = field.annotation
    annotation = _model_for(annotation, data)
    return sorted(annotation.model_fields) if annotation is not None else []


def _model_for(annotation, data):
    """The BaseModel inside ``annotation`` (unwrapping Optional, list, Annotated, tagged unions) for ``data``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for member in get_args(annotation):
        if isinstance(member, type) and issubclass(member, BaseModel):
            name_field = member.model_fields.get("name")
            tags = get_args(name_field.annotation) if name_field is not None else ()
            if not tags or (isinstance(data, dict) and data.get("name") in tags):
                return member
        elif get_args(member):
            found = _model_for(member, data)
            if found is not None:
                return found
    return None
