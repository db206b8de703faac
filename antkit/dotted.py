"""Nested settings (a recipe, a checkpoint's config) as dotted paths, to compare two field by field."""

from __future__ import annotations


def dotted_fields(value, path: str = "") -> dict[str, object]:
    """``value`` as dotted path -> leaf value (``arms.0.label``); an empty list or mapping is a leaf."""
    if isinstance(value, (dict, list)) and value:
        items = value.items() if isinstance(value, dict) else enumerate(value)
        return {k: v for key, item in items for k, v in dotted_fields(item, f"{path}.{key}" if path else str(key)).items()}
    return {path: value}
