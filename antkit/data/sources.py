"""Built-in data sources: the generated default data, RecBole atomic files, and raw Amazon 2014/2018/2023 files."""

from __future__ import annotations

import dataclasses
import json
from typing import Literal

from pydantic import Field

from antkit.components.base import ComponentConfig, DataSource
from antkit.data import synthetic
from antkit.data.amazon2018 import Amazon2018Source
from antkit.data.amazon2023 import Amazon2023Source
from antkit.data.recbole import RecBoleSource
from antkit.errors import DataError
from antkit.plugins import hookimpl

MAX_USERS = 10_000_000  # per domain
MAX_MEAN_LENGTH = 10_000.0


class DomainSize(ComponentConfig):
    users: int | None = Field(None, ge=1, le=MAX_USERS)
    mean_length: float | None = Field(None, ge=5, le=MAX_MEAN_LENGTH)


class SyntheticConfig(ComponentConfig):
    seed: int = Field(0, ge=0, description="the same seed gives the same data")
    users: int = Field(800, ge=1, le=MAX_USERS, description="users per domain")
    mean_length: float = Field(9.0, ge=5, le=MAX_MEAN_LENGTH, description="mean interactions per user before filtering")
    domains: dict[str, DomainSize] = Field(default_factory=dict, description="users / mean_length of particular domains")
    items_per_cell: int = Field(1, ge=1, le=10_000, description="items per (kind, colour, price tier)")
    loyalty_strength: float = Field(0.8, ge=0, le=1, description="how strongly users stick to their attribute")
    missing_image: float = Field(0.1, ge=0, le=1)
    missing_price: float = Field(0.1, ge=0, le=1)
    words: Literal[synthetic.WORDS] = Field(
        "regroup", description="how the item words of office/sports/pets differ from kitchen/garden/toys's: 'regroup' "
        "(their product words name collections, not kinds), 'rename' (the same words name other kinds) or 'scatter' "
        "(their product words name a random series per item)")


class SyntheticSource(DataSource):
    """Generated multi-domain catalogue (``antkit.data.synthetic``): text, pictures and prices, no download."""

    name = "synthetic"
    description = f"built-in generated domains: {', '.join(sorted(synthetic.DOMAINS))}"
    Config = SyntheticConfig

    def fingerprint(self, domain: str) -> str:
        """What generates ``domain``: its own sizes, and the words setting only where it applies (family 1), so
        changing a target's size or words keeps the other domains' cached data and features."""
        settings = dataclasses.asdict(self._settings(domain))
        if synthetic.DOMAINS[domain].look == 0:
            del settings["words"]
        return f"synthetic-v{synthetic.VERSION}:{self.config.seed}:{json.dumps(settings, sort_keys=True)}:{domain}"

    def load(self, domain: str):
        return synthetic.generate(domain, self.config.seed, self._settings(domain))

    def _settings(self, domain: str) -> synthetic.WorldSettings:
        if domain not in synthetic.DOMAINS:
            raise DataError(
                f"synthetic data has no domain '{domain}'; available: {', '.join(sorted(synthetic.DOMAINS))}"
            )
        c = self.config
        size = c.domains.get(domain, DomainSize())
        return synthetic.WorldSettings(
            users=size.users or c.users, items_per_cell=c.items_per_cell,
            mean_length=size.mean_length or c.mean_length, loyalty_strength=c.loyalty_strength,
            missing_image=c.missing_image, missing_price=c.missing_price, words=c.words,
        )


@hookimpl
def register_data_sources(register):
    register(SyntheticSource)
    register(RecBoleSource)
    register(Amazon2018Source)
    register(Amazon2023Source)
