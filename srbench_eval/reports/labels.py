"""Point labels that do not overlap (the perception-distortion plane's model names).

:func:`place_labels` tries, for each point in turn, a ring of offsets around it (right, left, above,
below, then further out) and keeps the first whose text box overlaps no label already placed, no
marker and stays inside the axes; when none is free, the one with the fewest overlaps. The boxes are
measured by an Agg renderer after the figure's layout is done, so they are the boxes that are drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.transforms import Bbox

# (dx, dy) in points, with the horizontal / vertical alignment that keeps the text off the point
_OFFSETS: tuple[tuple[float, float, str, str], ...] = tuple(
    (dx * r, dy * r, ha, va)
    for r in (1.0, 2.2, 3.4)
    for dx, dy, ha, va in (
        (5, 3, "left", "bottom"),
        (5, -3, "left", "top"),
        (-5, 3, "right", "bottom"),
        (-5, -3, "right", "top"),
        (0, 7, "center", "bottom"),
        (0, -7, "center", "top"),
    )
)


def _renderer(fig: Any) -> Any:
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    fig.canvas.draw()  # the layout (constrained) fixes the axes before the boxes are measured
    return fig.canvas.get_renderer()


def place_labels(
    ax: Any, points: Sequence[tuple[float, float, str]], fontsize: float = 7, colors: Sequence[Any] = ()
) -> list[Any]:
    """Annotate every ``(x, y, text)`` of ``ax`` without overlaps where possible, each in the colour of
    its marker (``colors``), so a label beside two close points names the right one; returns the texts."""
    renderer = _renderer(ax.figure)
    inside = ax.get_window_extent(renderer)
    pad = 2.0
    markers = [
        Bbox.from_extents(px - pad, py - pad, px + pad, py + pad)
        for px, py in (ax.transData.transform((x, y)) for x, y, _ in points)
    ]
    placed: list[Bbox] = []
    texts = []
    for k, (x, y, text) in enumerate(points):
        best, best_cost, best_box = None, None, None
        color = colors[k] if k < len(colors) else None
        for dx, dy, ha, va in _OFFSETS:
            ann = ax.annotate(
                text,
                (x, y),
                textcoords="offset points",
                xytext=(dx, dy),
                ha=ha,
                va=va,
                fontsize=fontsize,
                color=color,
            )
            box = ann.get_window_extent(renderer)
            cost = sum(box.overlaps(b) for b in placed) + sum(box.overlaps(m) for m in markers)
            cost += 0 if inside.containsx(box.x0) and inside.containsx(box.x1) else 2
            cost += 0 if inside.containsy(box.y0) and inside.containsy(box.y1) else 2
            if best_cost is None or cost < best_cost:
                if best is not None:
                    best.remove()
                best, best_cost, best_box = ann, cost, box
            else:
                ann.remove()
            if cost == 0:
                break
        assert best is not None and best_box is not None
        placed.append(best_box)
        texts.append(best)
    return texts


__all__ = ["place_labels"]
