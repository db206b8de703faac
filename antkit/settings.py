"""The base of every settings model (a recipe's sections, a component's config): unknown fields are an error,
numbers must be finite, and settings added after a first release stay out of dumps while at their default.

Dumps feed fingerprints (resuming, reusing finished stages) and checkpoint checks, so a setting added later
must not change the dump of a recipe that does not use it: name it in ``added_later``, with a default that
behaves as before.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, model_serializer


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    added_later: ClassVar[tuple[str, ...]] = ()

    @model_serializer(mode="wrap")
    def _leave_out_new_defaults(self, handler):
        data = handler(self)
        for name in self.added_later:
            if name in data and getattr(self, name) == type(self).model_fields[name].default:
                del data[name]
        return data
