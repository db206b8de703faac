"""The built-in default data: a deterministic multi-domain catalogue that needs no download.

Every domain is one product category (its own brands and price scale) over the same latent item
attributes: a *kind*, a *colour* and a *price tier*.

What the domains share: how users move between kinds. Each user follows a *theme*, a cycle of four kinds
(24 kinds, 12 themes, every kind in two themes), and mostly buys the kind after their last one in that
cycle: the next kind depends on the last item and on the theme, which only the whole history reveals. It is
the same in every domain: knowledge a sequence model needs many sequences to learn, and the knowledge
pre-training can transfer.

What differs, in two families of domains (``look`` 0 and 1):
- what the item content means. In family 0 the product word ("rack", "holder", ...) and the drawing name the
  kind. In family 1 (``words="regroup"``, the default) each kind has a word of its own ("folder", "binder",
  ...) and family 0's product words name the item's *collection* (its colour and price tier): an item side
  learned on family 0 groups family 1's items by collection, confidently and wrongly. With ``words="rename"``
  family 1 names each kind with another of family 0's words instead: the grouping carries over, only the
  names are wrong. With ``words="scatter"`` family 0's words name an arbitrary *series* per item (drawn at
  random, unrelated to kind, colour and tier) beside the kind word: the pre-trained grouping is noise. In all,
  the drawings and the tier words and backgrounds are re-assigned (colours keep their meaning);
- which attribute users stick to: colour in family 0; price tier in family 1, where users also avoid the
  colour they just bought.
So the pre-trained item side is meant to mislead on the other family while the sequence layers stay useful:
the situation ANT's re-learning is designed for (measured: fine-tuning that item side does about as well as
re-learning it; docs/generated-experiments.md).

Items carry generated text ("<brand> <tier word> <colour> <noun>", in family 1 with "regroup"
"<brand> <tier word> <colour> <collection noun> <kind word>", with "scatter" the series noun in its place),
a 32x32 PNG picture (the kind's drawing in the item's colour, on a background set by its price tier) and a
price; some items miss their picture or price.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

from antkit.data.domain import RawDomain

VERSION = 10  # bump whenever the generated data changes, so caches are rebuilt
KINDS = 24
NOUNS = ("holder", "organizer", "case", "stand", "kit", "set", "pack", "bag", "box", "tray", "rack", "cover",
         "basket", "bottle", "mat", "lamp", "clip", "hook", "pad", "jar", "brush", "bin", "strap", "shelf")
WORDS = ("regroup", "rename", "scatter")  # the worlds: see the module docstring
KIND_WORDS = ("folder", "binder", "stapler", "ruler", "marker", "pen", "tape", "glue", "lock", "rope", "ball", "glove",
              "helmet", "sock", "towel", "whistle", "net", "cap", "vest", "belt", "bell", "fan", "clock", "mirror")
COLORS = {"red": (200, 40, 40), "blue": (40, 70, 200), "green": (40, 160, 60), "black": (25, 25, 25)}
TIER_BACKGROUNDS = ((250, 250, 250), (215, 200, 170), (150, 170, 200))
TIER_WORDS = (("basic", "value"), ("classic", "standard"), ("premium", "deluxe"))


@dataclass(frozen=True)
class DomainSpec:
    brands: tuple[str, ...]
    price_scale: float
    loyalty: str  # "color" or "tier": the attribute users of this domain stick to
    look: int  # family: what the words and pictures of items mean


DOMAINS: dict[str, DomainSpec] = {
    "kitchen": DomainSpec(("Cookwell", "Chefline", "Hearth"), 25.0, "color", 0),
    "garden": DomainSpec(("GreenThumb", "Yardly", "Bloomfield"), 40.0, "color", 0),
    "toys": DomainSpec(("Playnest", "Toyvo", "Jollyjam"), 15.0, "color", 0),
    "office": DomainSpec(("Deskmate", "Officio", "Paperline"), 12.0, "tier", 1),
    "sports": DomainSpec(("Stridex", "Peakform", "Vantage"), 35.0, "tier", 1),
    "pets": DomainSpec(("Pawsome", "Tailwise", "Furbuddy"), 20.0, "tier", 1),
}


@dataclass(frozen=True)
class WorldSettings:
    users: int = 800
    items_per_cell: int = 1  # items per (kind, colour, tier)
    mean_length: float = 9.0  # mean interactions per user (before filtering)
    loyalty_strength: float = 0.8  # chance that the next item has the user's preferred loyal attribute
    missing_image: float = 0.1
    missing_price: float = 0.1
    words: str = "regroup"  # how family 1's item words differ from family 0's: one of WORDS


# twelve cycles of four kinds; every kind is in two, with a different successor in each
THEMES = tuple(tuple(range(4 * t, 4 * t + 4)) for t in range(6)) + tuple(
    tuple((4 * ((t + i) % 6) + i) for i in range(4)) for t in range(6)
)


def _next_kind(rng: np.random.Generator, theme: tuple[int, ...], last: int) -> int:
    """The dynamics shared by every domain: within the user's theme (a cycle of kinds), mostly the kind after
    the last one. Which kind comes next depends on the theme, which only the whole history reveals."""
    draw = rng.random()
    if last in theme and draw < 0.6:
        return theme[(theme.index(last) + 1) % len(theme)]
    if draw < 0.8:
        return theme[int(rng.integers(len(theme)))]
    if draw < 0.9:
        return last
    return int(rng.integers(KINDS))


def _draw_shape(pixels: np.ndarray, shape: int, color: tuple[int, int, int]) -> None:
    """One of 24 drawings: 12 patterns, each full-size or shrunk into the picture's upper-left quarter."""
    yy, xx = np.mgrid[0:32, 0:32]
    if shape >= 12:
        yy, xx, shape = yy * 2, xx * 2, shape - 12
    cy = cx = 15.5
    masks = [
        (yy - cy) ** 2 + (xx - cx) ** 2 < 110,  # disc
        (abs(yy - cy) < 10) & (abs(xx - cx) < 10),  # square
        (yy > 6) & (abs(xx - cx) < (yy - 6) * 0.55),  # triangle
        (abs(yy - cy) < 3) | (abs(xx - cx) < 3),  # cross
        (yy // 4) % 2 == 0,  # horizontal stripes
        (xx // 4) % 2 == 0,  # vertical stripes
        abs(yy - cy) + abs(xx - cx) < 12,  # diamond
        ((yy - cy) ** 2 + (xx - cx) ** 2 < 140) & ((yy - cy) ** 2 + (xx - cx) ** 2 > 50),  # ring
        ((yy % 8) < 4) & ((xx % 8) < 4),  # dots
        ((yy // 8) + (xx // 8)) % 2 == 0,  # checker
        xx < 16,  # half
        (yy < 4) | (yy > 27) | (xx < 4) | (xx > 27),  # frame
    ]
    pixels[masks[shape]] = color


def _picture(rng: np.random.Generator, shape: int, color: str, tier: int) -> bytes:
    pixels = np.empty((32, 32, 3), dtype=np.float64)
    pixels[:] = TIER_BACKGROUNDS[tier]
    _draw_shape(pixels, shape, COLORS[color])
    pixels += rng.normal(0, 12, pixels.shape)
    buffer = io.BytesIO()
    Image.fromarray(pixels.clip(0, 255).astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def generate(name: str, seed: int, settings: WorldSettings = WorldSettings()) -> RawDomain:
    """The raw domain ``name`` (one of ``DOMAINS``), identical for the same seed and settings."""
    spec = DOMAINS[name]
    if settings.words not in WORDS:
        raise ValueError(f"words must be one of {', '.join(WORDS)}, not {settings.words!r}")
    rng = np.random.default_rng([seed, sorted(DOMAINS).index(name)])
    # each family shifts the same random assignment, so the families disagree about every kind and tier
    assignment = np.random.default_rng([seed, 1000])
    role = np.roll(assignment.permutation(KINDS), 7 * spec.look)  # kind -> noun and drawing
    tier_look = np.roll(assignment.permutation(3), spec.look)  # tier -> tier word and background

    # "scatter" draws its series from a stream of its own, so every other draw (and so the other worlds) is unchanged
    series_rng = np.random.default_rng([seed, 2000, sorted(DOMAINS).index(name)])
    colors = list(COLORS)
    items: dict[str, list] = {"item_id": [], "text": [], "price": [], "images": []}
    attributes = []  # (kind, colour index, tier) per item
    for kind in range(KINDS):
        for color_index, color in enumerate(colors):
            for tier in range(3):
                for _ in range(settings.items_per_cell):
                    brand = spec.brands[rng.integers(len(spec.brands))]
                    product = NOUNS[role[kind]]
                    if spec.look == 1 and settings.words == "regroup":
                        collection = role[KINDS // 2 + 4 * tier + color_index]  # one per (tier, colour)
                        product = f"{NOUNS[collection]} {KIND_WORDS[kind]}"
                    elif spec.look == 1 and settings.words == "scatter":
                        collection = role[KINDS // 2 + int(series_rng.integers(12))]  # the same 12 nouns, at random
                        product = f"{NOUNS[collection]} {KIND_WORDS[kind]}"
                    words = [brand, TIER_WORDS[tier_look[tier]][rng.integers(2)], color, product]
                    price = spec.price_scale * (1.0, 2.5, 6.0)[tier] * float(np.exp(rng.normal(0, 0.25)))
                    items["item_id"].append(f"{name}-{len(attributes):04d}")
                    items["text"].append(" ".join(words))
                    items["price"].append(None if rng.random() < settings.missing_price else round(price, 2))
                    items["images"].append(
                        [] if rng.random() < settings.missing_image else [_picture(rng, role[kind], color, tier_look[tier])]
                    )
                    attributes.append((kind, color_index, tier))
    attributes_array = np.array(attributes)
    popularity = rng.pareto(1.5, len(attributes)) + 1.0

    interactions: dict[str, list] = {"user_id": [], "item_id": [], "timestamp": []}
    for user in range(settings.users):
        favourite_color, favourite_tier = rng.integers(len(colors)), rng.integers(3)
        length = 5 + rng.poisson(settings.mean_length - 5)
        theme = THEMES[int(rng.integers(len(THEMES)))]
        kind = theme[int(rng.integers(len(theme)))]
        last_color = None
        for step in range(length):
            if step:
                kind = _next_kind(rng, theme, kind)
            loyal = rng.random() < settings.loyalty_strength
            mask = attributes_array[:, 0] == kind
            if loyal and spec.loyalty == "color":
                mask &= attributes_array[:, 1] == favourite_color
            elif loyal:  # tier-loyal users seek variety in colour: never the colour they just bought
                mask &= (attributes_array[:, 2] == favourite_tier) & (attributes_array[:, 1] != last_color)
            candidates = np.flatnonzero(mask)
            weights = popularity[candidates] / popularity[candidates].sum()
            item = candidates[rng.choice(len(candidates), p=weights)]
            last_color = attributes_array[item, 1]
            interactions["user_id"].append(f"{name}-u{user:05d}")
            interactions["item_id"].append(items["item_id"][item])
            interactions["timestamp"].append(step)
    return RawDomain(name, items, interactions)
