"""report.png: grouped bars of test Recall@10 and NDCG@10 per arm, one panel per target domain (Pillow)."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont

PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
           (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]
METRICS = (("recall@10", "Recall@10"), ("ndcg@10", "NDCG@10"))
PANEL_WIDTH, PANEL_HEIGHT, MARGIN = 520, 360, 50


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType
        return ImageFont.load_default()


def render_chart(results) -> bytes:
    targets = list(results.targets)
    labels = list(dict.fromkeys(label for arms in results.targets.values() for label in arms))
    image = Image.new("RGB", (PANEL_WIDTH * len(targets), PANEL_HEIGHT + 40 + 18 * len(labels)), "white")
    draw = ImageDraw.Draw(image)
    font, small = _font(16), _font(12)
    for panel, target in enumerate(targets):
        arms = results.targets[target]
        left, top = panel * PANEL_WIDTH + MARGIN, 40
        bottom, right = top + PANEL_HEIGHT - MARGIN - 20, (panel + 1) * PANEL_WIDTH - 20
        peak = max((arm["test"][m] for arm in arms.values() for m, _ in METRICS), default=0) or 1.0
        draw.text((left, 10), f"{target}: test metrics", fill="black", font=font)
        draw.line([(left, top), (left, bottom), (right, bottom)], fill="black")
        for tick in range(5):
            value = peak * tick / 4
            y = bottom - (bottom - top) * tick / 4
            draw.line([(left - 4, y), (left, y)], fill="black")
            draw.text((left - 46, y - 7), f"{value:.3f}", fill="black", font=small)
        group_width = (right - left) / len(METRICS)
        bar_width = group_width * 0.8 / max(1, len(arms))
        for group, (metric, title) in enumerate(METRICS):
            x0 = left + group * group_width + group_width * 0.1
            for index, (label, arm) in enumerate(arms.items()):
                height = (bottom - top) * arm["test"][metric] / peak
                x = x0 + index * bar_width
                color = PALETTE[labels.index(label) % len(PALETTE)]
                draw.rectangle([x, bottom - height, x + bar_width - 2, bottom], fill=color)
            draw.text((x0 + group_width * 0.3, bottom + 4), title, fill="black", font=small)
    for index, label in enumerate(labels):
        y = PANEL_HEIGHT + 20 + 18 * index
        draw.rectangle([MARGIN, y, MARGIN + 12, y + 12], fill=PALETTE[index % len(PALETTE)])
        draw.text((MARGIN + 18, y - 2), label, fill="black", font=small)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
