"""Back torch's large CPU tensors with transparent huge pages.

Every training step allocates a few large tensors afresh (the experts' dropped-out copies of the catalogue's
features, their outputs and their gradients: over 100 MB each for a 12,000-item catalogue), and Linux faults
them in 4 KB at a time. torch can ask for 2 MB pages instead (``THP_MEM_ALLOC_ENABLE=1``): 512 times fewer
faults; at ANT's reference sizes on 2 cores that was about a quarter of an adaptation step, and peak
memory did not grow (docs/performance.md). torch reads the switch once, when it first allocates, so
importing antkit sets it, before torch is loaded; a value already set is kept (``THP_MEM_ALLOC_ENABLE=0``
turns it off). It only matters on Linux, where transparent huge pages are not disabled.
"""

from __future__ import annotations

import os

SWITCH = "THP_MEM_ALLOC_ENABLE"


def prefer_huge_pages() -> None:
    """Turn torch's huge-page allocations on for this process and its children, unless the user chose."""
    os.environ.setdefault(SWITCH, "1")
