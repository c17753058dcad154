"""The image files of a folder of HR images.

Both the reading side (:mod:`srbench_eval.data.datasets.registry`) and the installing side
(:mod:`srbench_eval.data.datasets.install`) list folders through :func:`folder_images`.
"""

from __future__ import annotations

import os
from pathlib import Path

from srbench_eval.data.io.images import is_image_file
from srbench_eval.errors import SrbenchError


def folder_images(folder: Path) -> list[Path]:
    """The image files directly in ``folder``, sorted by name; stems must be unique.

    A symbolic link named like an image whose target is missing is an error (it names the link),
    not a file silently left out of the dataset.
    """
    images = []
    try:
        entries = list(folder.iterdir())
    except OSError as e:
        raise SrbenchError(f"{folder}: cannot list this folder ({e.strerror or e})") from None
    for p in entries:
        if not is_image_file(p):
            continue
        if p.is_file():
            images.append(p)
        elif p.is_symlink() and not p.exists():
            raise SrbenchError(
                f"{p}: dangling symbolic link (its target {os.readlink(p)} does not exist); fix or remove it"
            )
    images.sort(key=lambda p: p.name)
    seen: dict[str, Path] = {}
    for p in images:
        if p.stem in seen:
            raise SrbenchError(
                f"{folder}: two images named {p.stem} ({seen[p.stem].name}, {p.name}); keep one of them"
            )
        seen[p.stem] = p
    return images
