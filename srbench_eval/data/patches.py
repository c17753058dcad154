"""Aligned training patches: HR crops and their MATLAB-bicubic LR counterparts.

The LR image of a training pair is made exactly like the benchmarks' (the protocol of
:mod:`srbench_eval.data.degrade.bicubic`): ``LR = uint8(imresize(modcrop(HR, s), 1/s, 'bicubic'))`` of the
*whole* image, computed once per image (kept in memory, or cached on disk as PNG under
``$SRBENCH_DATA/lr-cache``). A patch is an aligned crop of both::

    LR patch: rows  y .. y + P/s,        columns  x .. x + P/s
    HR patch: rows  s*y .. s*(y + P/s),  columns  s*x .. s*(x + P/s)

followed by the same random horizontal flip, vertical flip and transpose (90-degree rotation) of
both (the dihedral augmentation of BasicSR's ``augment``).

Randomness is counter-based: sample ``k`` of the stream (``k = 0, 1, 2, ...`` over the whole
training run, across all ranks) is a pure function of ``(seed, k)``. The image is the ``k mod N``-th
entry of a seeded permutation of the ``N`` images for epoch ``k // N`` (every image once per epoch),
and the crop position and flips come from a generator seeded with ``(seed, k)``. So a resumed run
(which restarts the stream at ``k = step * global_batch``) and any number of data loader workers
or ranks see exactly the samples of an uninterrupted single-process run: no worker RNG state has to
be saved. :class:`StreamSampler` hands each rank its share of every global batch.

Large datasets can be cut once into overlapping sub-images (BasicSR's ``extract_subimages``, e.g.
480x480 with step 240) by :func:`extract_subimages`: small files decode much faster than 2K
images, which keeps the workers ahead of a GPU. The LR sub-images are crops of the whole-image LR,
so patches cut from them are the same pixels as patches cut from the full images.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from srbench_eval.data.datasets import download as dl
from srbench_eval.data.datasets.registry import folder_images
from srbench_eval.data.degrade.bicubic import degrade_bicubic
from srbench_eval.data.io.images import modcrop, read_image, write_image
from srbench_eval.digests import sha256_text
from srbench_eval.errors import SrbenchError

#: Preload the images into memory when all decoded HR pixels take at most this many bytes.
PRELOAD_LIMIT_BYTES = 3 << 30


@dataclass(frozen=True)
class ImagePair:
    """An HR image (mod-cropped to the scale) and its bicubic LR image: arrays in memory or files.

    ``shape`` is the HR ``(H, W)`` after the mod-crop; ``name`` identifies the pair in messages.
    """

    name: str
    hr: np.ndarray | Path
    lr: np.ndarray | Path
    shape: tuple[int, int]

    def load(self, scale: int) -> tuple[np.ndarray, np.ndarray]:
        """``(hr, lr)`` as ``uint8`` arrays ``(H, W, 3)`` and ``(H/s, W/s, 3)``."""
        hr = self.hr if isinstance(self.hr, np.ndarray) else modcrop(read_image(self.hr), scale)
        lr = self.lr if isinstance(self.lr, np.ndarray) else read_image(self.lr)
        return _rgb(hr), _rgb(lr)


def _rgb(img: np.ndarray) -> np.ndarray:
    """Grey images become three equal channels (the networks take RGB)."""
    return np.repeat(img[:, :, None], 3, axis=2) if img.ndim == 2 else img


def _cache_key(path: Path, scale: int) -> str:
    st = path.stat()
    text = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|x{scale}|matlab-bicubic-v1"
    return sha256_text(text)[:24]


def lr_cache_dir() -> Path:
    """Where whole-image LR files are cached: ``$SRBENCH_DATA/lr-cache``."""
    return dl.data_dir() / "lr-cache"


def prepare_pairs(
    images: Sequence[Path],
    scale: int,
    *,
    preload: bool | None = None,
    cache: bool = True,
    min_size: int = 0,
) -> list[ImagePair]:
    """Make the ``(HR, LR)`` pairs of ``images`` at ``scale``.

    ``preload``: keep decoded arrays in memory (``None``: when they fit in
    :data:`PRELOAD_LIMIT_BYTES`); otherwise the pairs point at the HR file and a cached LR PNG.
    ``cache``: read and write whole-image LR files under :func:`lr_cache_dir` (always on without
    preloading). ``min_size``: the HR patch size; an image whose mod-cropped side is smaller is a
    :class:`SrbenchError` that names it.
    """
    if not images:
        raise SrbenchError("no training images")
    cache = cache or preload is False
    cache_dir = lr_cache_dir()
    if preload is None:
        preload = _decoded_bytes(images) <= PRELOAD_LIMIT_BYTES
    pairs: list[ImagePair] = []
    too_small: list[str] = []
    for path in images:
        lr_file = cache_dir / f"{_cache_key(path, scale)}.png" if cache else None
        cached = lr_file is not None and lr_file.is_file()
        hr = modcrop(read_image(path), scale) if preload or not cached else None
        lr = read_image(lr_file) if cached and (preload or hr is None) else None
        if hr is not None:
            shape = (int(hr.shape[0]), int(hr.shape[1]))
        else:  # only the cached LR was read: the mod-cropped HR is s times its size
            assert lr is not None
            shape = (lr.shape[0] * scale, lr.shape[1] * scale)
        if min(shape) < min_size:
            too_small.append(f"{path.name} ({shape[1]}x{shape[0]})")
            continue
        if not cached:
            assert hr is not None
            lr = degrade_bicubic(hr, scale)
            if lr_file is not None:
                write_image(lr_file, lr)
        if preload:
            assert hr is not None and lr is not None
            pairs.append(ImagePair(path.stem, hr, lr, shape))
        else:
            assert lr_file is not None
            pairs.append(ImagePair(path.stem, path, lr_file, shape))
    if too_small:
        folder = images[0].parent
        raise SrbenchError(
            f"{folder}: {len(too_small)} of {len(images)} training images are smaller than the "
            f"{min_size}x{min_size} HR patch after the mod-{scale} crop ({', '.join(too_small[:3])}"
            f"{', ...' if len(too_small) > 3 else ''}): use a smaller --patch or remove them"
        )
    return pairs


def _decoded_bytes(images: Sequence[Path]) -> int:
    """Estimated decoded size (RGB uint8) of ``images``, from their headers."""
    from PIL import Image

    total = 0
    for p in images:
        try:
            with Image.open(p) as im:
                w, h = im.size
        except OSError:
            raise SrbenchError(f"{p}: cannot read the image header (corrupt or not an image)") from None
        total += w * h * 3
    return total


# --------------------------------------------------------------------------- sub-images


def _positions(length: int, size: int, step: int, scale: int) -> list[int]:
    """Crop starts along one side: every ``step``, and a last one flush with the end (multiples of scale)."""
    if length <= size:
        return [0]
    starts = list(range(0, length - size + 1, step))
    if starts[-1] + size < length:
        starts.append(length - size)
    return [s - s % scale for s in starts]


def extract_subimages(
    images: Sequence[Path], scale: int, *, size: int = 480, step: int = 240, root: Path | None = None
) -> list[ImagePair]:
    """Cut every image (and its whole-image LR) once into ``size x size`` HR sub-images with ``step``.

    The sub-images go to ``root`` (default ``$SRBENCH_DATA/subimages/<key>``, where the key hashes the
    image files, scale, size and step) as ``HR/*.png`` and ``LR/*.png``; the folder is built in a
    temporary sibling and renamed into place, so an interrupted extraction leaves nothing behind.
    Returns file-backed pairs. ``size`` and ``step`` must be multiples of ``scale``.
    """
    if size % scale or step % scale or size <= 0 or step <= 0:
        raise SrbenchError(f"sub-image size {size} and step {step} must be positive multiples of x{scale}")
    key_text = "|".join(_cache_key(p, scale) for p in images) + f"|{size}|{step}"
    key = sha256_text(key_text)[:24]
    folder = root or dl.data_dir() / "subimages" / f"x{scale}-{size}-{step}-{key}"
    index = folder / "index.json"
    if not index.is_file():
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.partial-"))
        try:
            entries = []
            for pair in prepare_pairs(images, scale, preload=False):
                hr, lr = pair.load(scale)
                h, w = pair.shape
                for i, y in enumerate(_positions(h, size, step, scale)):
                    for j, x in enumerate(_positions(w, size, step, scale)):
                        name = f"{pair.name}_s{i:02d}{j:02d}"
                        sub = hr[y : y + size, x : x + size]
                        ly, lx, ls = y // scale, x // scale, size // scale
                        write_image(tmp / "HR" / f"{name}.png", np.ascontiguousarray(sub))
                        write_image(
                            tmp / "LR" / f"{name}.png", np.ascontiguousarray(lr[ly : ly + ls, lx : lx + ls])
                        )
                        entries.append([name, int(sub.shape[0]), int(sub.shape[1])])
            (tmp / "index.json").write_text(json.dumps({"scale": scale, "images": entries}))
            if folder.exists():
                shutil.rmtree(folder)
            os.replace(tmp, folder)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    doc = json.loads(index.read_text())
    return [
        ImagePair(name, folder / "HR" / f"{name}.png", folder / "LR" / f"{name}.png", (h, w))
        for name, h, w in doc["images"]
    ]


def pairs_from_folder(folder: Path, scale: int, **kwargs: object) -> list[ImagePair]:
    """:func:`prepare_pairs` of the images directly in ``folder``."""
    return prepare_pairs(folder_images(folder), scale, **kwargs)  # type: ignore[arg-type]


def preload_pairs(pairs: Sequence[ImagePair], scale: int) -> list[ImagePair]:
    """File-backed pairs read into memory."""
    out = []
    for p in pairs:
        hr, lr = p.load(scale)
        out.append(ImagePair(p.name, hr, lr, p.shape))
    return out


# --------------------------------------------------------------------------- the patch stream


class PatchDataset(Dataset):
    """Sample ``k`` is an aligned ``(lr, hr)`` patch pair, float32 ``(3, P/s, P/s)`` and ``(3, P, P)``
    in [0, 1], a pure function of ``(seed, k)`` (see the module docstring).

    ``len()`` is one epoch (the number of images); indices beyond it continue into later epochs.
    """

    def __init__(
        self, pairs: Sequence[ImagePair], scale: int, hr_patch: int, *, augment: bool = True, seed: int = 0
    ) -> None:
        if hr_patch % scale:
            raise SrbenchError(f"HR patch {hr_patch} is not a multiple of the scale x{scale}")
        if not pairs:
            raise SrbenchError("no training images")
        small = [p for p in pairs if min(p.shape) < hr_patch]
        if small:
            raise SrbenchError(
                f"training image {small[0].name} ({small[0].shape[1]}x{small[0].shape[0]}) is smaller than "
                f"the {hr_patch}x{hr_patch} HR patch ({len(small)} such): use a smaller --patch"
            )
        self.pairs = list(pairs)
        self.scale = scale
        self.hr_patch = hr_patch
        self.augment = augment
        self.seed = seed

    def __len__(self) -> int:
        return len(self.pairs)

    @lru_cache(maxsize=2)  # noqa: B019 - one dataset per run; the cache holds two small permutations
    def _order(self, epoch: int) -> np.ndarray:
        return np.random.default_rng([self.seed, 0, epoch]).permutation(len(self.pairs))

    def choice(self, k: int) -> tuple[int, int, int, int, int, int]:
        """``(image, y, x, hflip, vflip, transpose)`` of sample ``k``; ``y, x`` are LR coordinates."""
        n = len(self.pairs)
        index = int(self._order(k // n)[k % n])
        h, w = self.pairs[index].shape
        lp = self.hr_patch // self.scale
        rng = np.random.default_rng([self.seed, 1, k])
        y = int(rng.integers(0, h // self.scale - lp + 1))
        x = int(rng.integers(0, w // self.scale - lp + 1))
        flips = rng.integers(0, 2, size=3) if self.augment else np.zeros(3, dtype=np.int64)
        return index, y, x, int(flips[0]), int(flips[1]), int(flips[2])

    def __getitem__(self, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        index, y, x, hflip, vflip, transpose = self.choice(int(k))
        hr, lr = self.pairs[index].load(self.scale)
        s, lp = self.scale, self.hr_patch // self.scale
        lr = lr[y : y + lp, x : x + lp]
        hr = hr[s * y : s * (y + lp), s * x : s * (x + lp)]
        return _to_tensor(lr, hflip, vflip, transpose), _to_tensor(hr, hflip, vflip, transpose)


def _to_tensor(img: np.ndarray, hflip: int, vflip: int, transpose: int) -> torch.Tensor:
    if hflip:
        img = img[:, ::-1]
    if vflip:
        img = img[::-1]
    if transpose:
        img = img.transpose(1, 0, 2)
    t = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))
    return t.to(torch.float32).div_(255.0)


class StreamSampler(Sampler[int]):
    """The sample indices of one rank, from training step ``start_step`` on (endless).

    With per-rank batch ``b`` and ``world`` ranks, slot ``j`` of rank ``r`` at step ``t`` is sample
    ``k = (t*b + j)*world + r``: the global batch of step ``t`` is samples ``t*b*world .. (t+1)*b*world - 1``
    whatever the number of ranks, so sharded training sees the samples of a single-process run.
    """

    def __init__(self, batch_per_rank: int, start_step: int = 0, rank: int = 0, world: int = 1) -> None:
        self.batch = batch_per_rank
        self.start = start_step
        self.rank = rank
        self.world = world

    def __iter__(self) -> Iterator[int]:
        i = self.start * self.batch
        while True:
            yield i * self.world + self.rank
            i += 1


def worker_init(_worker_id: int) -> None:
    """Data loader workers: one thread each for torch and OpenCV (the main process computes)."""
    import cv2

    torch.set_num_threads(1)
    cv2.setNumThreads(1)
