"""Reading a recipe file, applying ``--set`` overrides, and explaining what is wrong with it.

Every problem becomes one line: ``FILE, line N: dotted.field: what is wrong (what was expected)``, or
``--set FIELD=VALUE: ...`` when an override wrote one of the fields involved.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from antkit.errors import RecipeError
from antkit.plugins.registry import Registry
from antkit.recipe.checks import Problem, cross_checks
from antkit.recipe.schema import MODALITIES, recipe_model
from antkit.recipe.yaml_source import Location, line_of, load_yaml, read_yaml

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
    overridden = apply_overrides(data, overrides)
    return validate_recipe(data, registry, source=str(path), lines=lines, overridden=overridden)


def apply_overrides(data: dict, overrides: list[str]) -> dict[Location, str]:
    """Apply ``overrides`` in order; the ones still in effect (not rewritten by a later one), by location."""
    overridden: dict[Location, str] = {}
    for override in overrides:
        location = apply_override(data, override)
        overridden = {at: given for at, given in overridden.items() if at[: len(location)] != location}
        overridden[location] = override
    return overridden


def validate_recipe(data: Any, registry: Registry, source: str = "<recipe>", lines=None, overridden=None) -> BaseModel:
    """Validate a recipe document; all its problems are reported together in one RecipeError."""
    try:
        recipe = recipe_model(registry).model_validate(data)
        problems = cross_checks(recipe, registry)
    except ValidationError as error:
        problems = _problems(error.errors(), data, registry)
    if problems:
        report = [_format(problem, source, lines or {}, overridden or {}) for problem in problems]
        raise RecipeError("\n".join(dict.fromkeys(report)))
    return recipe


def apply_override(data: dict, override: str) -> Location:
    """Set one field: ``a.b.0.c=value`` (value in YAML syntax: 5, true, [a, b], {name: x})."""
    key, separator, raw = override.partition("=")
    if not separator or not key.strip():
        raise RecipeError(f"--set {override}: expected FIELD=VALUE, e.g. --set adapt.epochs=5")
    value = read_yaml(raw, f"--set {override}", "the value")[0] if raw.strip() else ""  # as a file is read
    parts: list[Any] = [int(p) if p.isdigit() else p for p in key.strip().split(".")]
    node = data
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        where = ".".join(map(str, parts[:depth])) or "the recipe"
        if isinstance(node, list):
            if not isinstance(part, int) or part >= len(node):
                raise RecipeError(f"--set {override}: {where} has no item {part} (it has {len(node)})")
        elif not isinstance(node, dict):
            raise RecipeError(f"--set {override}: {where} is a value, not a section")
        elif not last:
            node.setdefault(part, {})
        if last:
            node[part] = value
        else:
            node = node[part]
    return tuple(parts)


# explaining pydantic's errors ---------------------------------------------------


def _problems(errors: list[dict], data, registry: Registry) -> list[Problem]:
    problems = [_problem(error, data, registry) for error in errors]
    # a misspelled field shows up twice (unknown + required): keep only the unknown one, which names both
    misspelled = {p.location[:-1] + (hint,) for p in problems if (hint := _hint_of(p.message))}
    return [p for p in problems if not (p.message == "field required" and p.location in misspelled)]


def _hint_of(message: str) -> str | None:
    marker = "did you mean '"
    return message.split(marker, 1)[1].split("'", 1)[0] if marker in message else None


def _problem(error: dict, data, registry: Registry) -> Problem:
    location = _written_location(data, error["loc"])
    kind = error["type"]
    component = _component_field(location)
    if kind == "missing":
        return Problem(location + (error["loc"][-1],), "field required")
    if component and kind in ("union_tag_invalid", "literal_error") and (
        kind == "union_tag_invalid" or error["loc"][-1] == "name"
    ):
        return _unknown_component(data, location, component, registry)
    if kind == "union_tag_not_found":
        return Problem(location, f"missing 'name': which {COMPONENT_FIELDS.get(component, 'component')} to use")
    if kind == "extra_forbidden":
        return Problem(location, "unknown field" + _did_you_mean(recipe_model(registry), data, location))
    if kind in ("model_type", "model_attributes_type"):  # a section given as nothing, or as a value
        return Problem(location, _not_a_section(data, location, error["input"], registry))
    message = str(error.get("ctx", {}).get("error")) if kind == "value_error" else error["msg"]
    if "input" in error and not isinstance(error["input"], (dict, list)):
        message += f" (got {error['input']!r})"
    return Problem(location, message[0].lower() + message[1:])


def _unknown_component(data, location: Location, field: str, registry: Registry) -> Problem:
    """The message for a component name that is not registered (or registered for another modality)."""
    index = len(location) - 1 - location[::-1].index(field)
    location = location[: index + 1]
    value = _value_at(data, location)
    name = str(value.get("name") if isinstance(value, dict) else value)
    kind = COMPONENT_FIELDS[field]
    modality = _modality_at(location, kind)
    if modality is not None:
        other = registry.components["encoder"].get(name)
        choices = _choices(registry, kind, location)
        if other is not None:
            return Problem(location + ("name",), f"'{name}' is a {other.cls.modality} encoder; {modality} "
                                                 f"encoders: {', '.join(choices)}")
        message = registry.unknown_message("encoder", name).replace(
            ", ".join(registry.names("encoder")), ", ".join(choices)
        )
        return Problem(location + ("name",), message)
    return Problem(location + ("name",), registry.unknown_message(kind, name))


def _not_a_section(data, location: Location, given: Any, registry: Registry) -> str:
    """The message for a section left empty (or given as a value or a list): what it needs."""
    empty = given is None or given == ""
    problem = "the section is empty" if empty else "expected a section (a mapping of fields)"
    if not empty and not isinstance(given, (dict, list)):
        problem += f", not {given!r}"
    if location and location[-1] in COMPONENT_FIELDS:
        kind = COMPONENT_FIELDS[location[-1]]
        label = kind.replace("_", " ")
        return f"{problem}; it needs 'name': which {label} to use ({', '.join(_choices(registry, kind, location))})"
    section = _section_model(recipe_model(registry), data, location)
    if section is None:
        return problem
    required = [name for name, field in section.model_fields.items() if field.is_required()]
    if required:
        return f"{problem}; it needs {', '.join(required)}"
    problem += f"; give some of its fields ({', '.join(sorted(section.model_fields))})"
    parent = _section_model(recipe_model(registry), data, location[:-1]) if location else None
    field = parent.model_fields.get(location[-1]) if parent is not None else None
    return problem + (", or leave it out for the defaults" if field is not None and not field.is_required() else "")


def _choices(registry: Registry, kind: str, location: Location) -> list[str]:
    """The names of ``kind`` a recipe may give at ``location``: for an encoder, those of its modality."""
    modality = _modality_at(location, kind)
    return sorted(n for n, r in registry.components[kind].items() if modality is None or r.cls.modality == modality)


def _modality_at(location: Location, kind: str) -> str | None:
    """The modality whose encoder ``location`` names (None for other kinds of component)."""
    return next((m for m in location if m in MODALITIES), None) if kind == "encoder" else None


def _format(problem: Problem, source: str, lines, overridden) -> str:
    field = ".".join(map(str, problem.location)) or "recipe"
    return f"{_origin(problem, source, lines, overridden)}: {field}: {problem.message}"


def _origin(problem: Problem, source: str, lines, overridden) -> str:
    """The last override that wrote a field of ``problem`` (or inside one, or around one), else the file's line."""
    fields = (problem.location, *problem.involves)
    for written, override in reversed(overridden.items()):
        if any(written[: len(field)] == field or field[: len(written)] == written for field in fields):
            return f"--set {override}"
    line = line_of(lines, problem.location)
    return f"{source}, line {line}" if line else source


def _written_location(data: Any, location: tuple) -> Location:
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


def _component_field(location: Location) -> str | None:
    return next((part for part in reversed(location) if part in COMPONENT_FIELDS), None)


def _value_at(data, location: Location):
    for part in location:
        data = data[part]
    return data


def _did_you_mean(model: type[BaseModel], data, location: Location) -> str:
    """" (expected one of: ...; did you mean 'x'?)" for an unknown field at ``location``."""
    allowed = _fields_at(model, data, location[:-1])
    if not allowed:
        return ""
    hint = difflib.get_close_matches(str(location[-1]), allowed, n=1)
    return f" (expected one of: {', '.join(allowed)}" + (f"; did you mean '{hint[0]}'?)" if hint else ")")


def _fields_at(model: type[BaseModel], data, location: Location) -> list[str]:
    """Field names of the pydantic model that describes the mapping at ``location``."""
    section = _section_model(model, data, location)
    return sorted(section.model_fields) if section is not None else []


def _section_model(model: type[BaseModel], data, location: Location) -> type[BaseModel] | None:
    """The pydantic model that describes the mapping at ``location`` (None where it depends on a missing name)."""
    annotation: Any = model
    for part in location:
        data = data[part]
        annotation = _model_for(annotation, data)
        if annotation is None:
            return None
        if isinstance(part, int):
            continue
        field = annotation.model_fields.get(part)
        if field is None:
            return None
        annotation = field.annotation
    return _model_for(annotation, data)


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
