"""The built-in default data: a deterministic multi-domain catalogue that needs no download.

Every domain is one product category with its own nouns, brands and price scale, over the same latent
item attributes: a *kind* (what the item is), a *colour* and a *price tier*. What the domains share is how
users move between kinds (one Markov chain over kinds for every domain), which is the knowledge a sequence
model can transfer. What differs is which attribute users are loyal to: colour in some domains, price tier
in others. An item side learned on colour-loyal domains therefore emphasises the wrong attribute for a
tier-loyal one, which is how naive transfer (fine-tuning the pre-trained item side) can hurt.

Items carry generated text ("<brand> <material> <colour> <noun>"), a 32x32 PNG picture (the kind's shape,
drawn in the item's colour on a background set by its price tier) and a price; some items miss their
picture or price.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

from antkit.data.domain import RawDomain

KINDS = 12
COLORS = {
    "red": (200, 40, 40), "blue": (40, 70, 200), "green": (40, 160, 60),
    "yellow": (230, 200, 40), "purple": (130, 50, 170), "black": (25, 25, 25),
}
TIER_BACKGROUNDS = ((250, 250, 250), (215, 200, 170), (150, 170, 200))
TIER_WORDS = (("basic", "value", "everyday"), ("classic", "standard", "select"), ("premium", "deluxe", "professional"))
MATERIALS = ("steel", "wooden", "plastic", "glass", "cotton", "ceramic", "bamboo", "rubber")


@dataclass(frozen=True)
class DomainSpec:
    nouns: tuple[str, ...]  # one per kind
    brands: tuple[str, ...]
    price_scale: float
    loyalty: str  # "color" or "tier": the attribute users of this domain stick to


DOMAINS: dict[str, DomainSpec] = {
    "kitchen": DomainSpec(
        ("pan", "knife", "kettle", "blender", "spatula", "colander", "whisk", "cutting board", "toaster", "mug",
         "teapot", "grater"), ("Cookwell", "Chefline", "Hearth & Co"), 25.0, "color"),
    "garden": DomainSpec(
        ("shovel", "hose", "planter", "rake", "pruner", "watering can", "trowel", "wheelbarrow", "sprinkler",
         "gloves", "birdhouse", "lantern"), ("GreenThumb", "Yardly", "Bloomfield"), 40.0, "color"),
    "toys": DomainSpec(
        ("puzzle", "doll", "robot", "kite", "yo-yo", "train set", "block set", "ball", "teddy bear", "race car",
         "drum", "spinning top"), ("Playnest", "Toyvo", "Jolly Jam"), 15.0, "color"),
    "office": DomainSpec(
        ("stapler", "notebook", "pen", "desk lamp", "binder", "calculator", "folder", "tape dispenser", "planner",
         "paper tray", "marker", "hole punch"), ("Deskmate", "Officio", "Paperline"), 12.0, "tier"),
    "sports": DomainSpec(
        ("racket", "yoga mat", "dumbbell", "water bottle", "jump rope", "helmet", "backpack", "tennis ball",
         "skateboard", "headband", "stopwatch", "frisbee"), ("Stridex", "Peakform", "Vantage"), 35.0, "tier"),
    "pets": DomainSpec(
        ("leash", "bowl", "collar", "chew toy", "pet bed", "brush", "feeder", "carrier", "scratcher", "treat jar",
         "harness", "cat tree"), ("Pawsome", "Tailwise", "Furbuddy"), 20.0, "tier"),
}


@dataclass(frozen=True)
class WorldSettings:
    users: int = 800
    items_per_cell: int = 2  # items per (kind, colour, tier)
    mean_length: float = 9.0  # mean interactions per user (before filtering)
    loyalty_strength: float = 0.8  # chance that the next item has the user's preferred loyal attribute
    missing_image: float = 0.1
    missing_price: float = 0.1


def _transition() -> np.ndarray:
    """The kind-to-kind chain shared by every domain: two favourite successors, a repeat, the rest uniform."""
    matrix = np.full((KINDS, KINDS), 0.15 / KINDS)
    for kind in range(KINDS):
        matrix[kind, (kind + 1) % KINDS] += 0.45
        matrix[kind, (kind + 5) % KINDS] += 0.25
        matrix[kind, kind] += 0.15
    return matrix / matrix.sum(1, keepdims=True)


def _draw_shape(pixels: np.ndarray, shape: int, color: tuple[int, int, int]) -> None:
    yy, xx = np.mgrid[0:32, 0:32]
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
    transition = _transition()
    rng = np.random.default_rng([seed, sorted(DOMAINS).index(name)])
    shapes = rng.permutation(KINDS)  # how each kind looks differs by domain

    colors = list(COLORS)
    items: dict[str, list] = {"item_id": [], "text": [], "price": [], "images": []}
    attributes = []  # (kind, colour index, tier) per item
    for kind in range(KINDS):
        for color_index, color in enumerate(colors):
            for tier in range(3):
                for _ in range(settings.items_per_cell):
                    item_id = f"{name}-{len(attributes):04d}"
                    brand = spec.brands[rng.integers(len(spec.brands))]
                    words = [brand, TIER_WORDS[tier][rng.integers(3)], MATERIALS[rng.integers(len(MATERIALS))],
                             color, spec.nouns[kind]]
                    price = spec.price_scale * (1.0, 2.5, 6.0)[tier] * float(np.exp(rng.normal(0, 0.25)))
                    items["item_id"].append(item_id)
                    items["text"].append(" ".join(words))
                    items["price"].append(None if rng.random() < settings.missing_price else round(price, 2))
                    items["images"].append(
                        [] if rng.random() < settings.missing_image else [_picture(rng, shapes[kind], color, tier)]
                    )
                    attributes.append((kind, color_index, tier))
    attributes_array = np.array(attributes)
    popularity = rng.pareto(1.5, len(attributes)) + 1.0

    interactions: dict[str, list] = {"user_id": [], "item_id": [], "timestamp": []}
    for user in range(settings.users):
        favourite_color, favourite_tier = rng.integers(len(colors)), rng.integers(3)
        length = 5 + rng.poisson(settings.mean_length - 5)
        kind = rng.choice(KINDS)
        for step in range(length):
            if step:
                kind = rng.choice(KINDS, p=transition[kind])
            loyal = rng.random() < settings.loyalty_strength
            mask = attributes_array[:, 0] == kind
            if loyal and spec.loyalty == "color":
                mask &= attributes_array[:, 1] == favourite_color
            elif loyal:
                mask &= attributes_array[:, 2] == favourite_tier
            candidates = np.flatnonzero(mask)
            weights = popularity[candidates] / popularity[candidates].sum()
            item = candidates[rng.choice(len(candidates), p=weights)]
            interactions["user_id"].append(f"{name}-u{user:05d}")
            interactions["item_id"].append(items["item_id"][item])
            interactions["timestamp"].append(step)
    return RawDomain(name, items, interactions)
