"""How far MATLAB's floating-point filtering in flat areas can move NIQE: the measured difference of
:mod:`srbench_eval.metrics.niqe` from the MATLAB release (oracle row ``niqe`` of
``../shared/oracles/iqa/results_official.csv``), image by image.

Where the 7x7 neighbourhood of a pixel is constant (value ``c``), ``I - mu`` is 0 in exact
arithmetic; MATLAB's ``imfilter(I, w, 'replicate')`` returns ``mu = c * (sum of the 49 weights, in
its summation order and rounding)``, so ``I - mu`` there is ``delta(c)``: 0 or a few units of
1e-14 of either sign, the same for every pixel of that value. The AGGD fits count such samples as
negative or positive (``vec < 0``, ``vec > 0``), which changes the left/right RMS and so the score.
Which ``delta(c)`` MATLAB got depends on its filter's summation order, on whether it separated the
kernel (``svd`` factors from its LAPACK) and on the value ``c``: nothing this side can reproduce.

This script recomputes NIQE with the flat pixels' ``I - mu`` set by several arithmetic models and
prints the difference from the oracle per image:

* ``exact``: 0 (our metric);
* ``signs A/B``: ``-1e-14``, 0 or ``+1e-14`` for every flat pixel of the first / second scale;
* ``random``: ``delta(c)`` of a sequential sum of the 49 products ``w_k c`` in a random order, or
  of a separable filter (the ``svd`` factors of the window, each perturbed by up to 2 units in the
  last place, as another LAPACK would give, summed in random orders), drawn independently per scale.

    python benchmarks/niqe_roundoff.py [--random 40] [--seed 1]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from scipy.ndimage import maximum_filter, minimum_filter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from srbench_eval.data.degrade.bicubic import imresize  # noqa: E402
from srbench_eval.metrics import niqe as N  # noqa: E402

IQA = ROOT.parent / "shared" / "oracles" / "iqa"
IMAGES = ("I03", "I04", "I06", "I08", "I19")
Delta = Callable[[float], float]


def planes(stem: str) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(plane, MSCN with exact zeros, flat mask) at both scales of the distorted image ``stem``."""
    from srbench_eval.metrics.luma import rgb2gray_uint8
    from tests.metrics.oracles import iqa_pair

    img = rgb2gray_uint8(iqa_pair(stem)[0])[0, 0].numpy()
    img = img[: img.shape[0] // N.BLOCK * N.BLOCK, : img.shape[1] // N.BLOCK * N.BLOCK]
    out = []
    for scale in (1, 2):
        flat = maximum_filter(img, N.WINDOW, mode="nearest") == minimum_filter(img, N.WINDOW, mode="nearest")
        out.append((img, N.mscn(img), flat))
        if scale == 1:
            img = imresize(torch.from_numpy(img)[None], 0.5)[0].numpy()
    return out


def niqe_with(scales, deltas: tuple[Delta, Delta], mu: np.ndarray, cov: np.ndarray) -> float:
    """NIQE (module docstring of :mod:`srbench_eval.metrics.niqe`, step 4) with ``I - mu`` of the flat
    pixels of scale ``s`` set to ``deltas[s](c)``."""
    rows = []
    for (img, j0, flat), delta in zip(scales, deltas, strict=True):
        j = j0.copy()
        values = {c: delta(c) for c in np.unique(img[flat])}
        j[flat] = [values[c] for c in img[flat]]
        b = j.shape[0] * N.BLOCK // scales[0][0].shape[0]
        cols, rws = range(0, j.shape[1], b), range(0, j.shape[0], b)
        rows.append([N.block_features(j[r : r + b, c : c + b]) for c in cols for r in rws])
    feats = np.concatenate([np.asarray(r) for r in rows], axis=1)
    nu = np.nanmean(feats, axis=0)
    d = mu.reshape(-1) - nu
    s = np.cov(feats[~np.isnan(feats).any(axis=1)], rowvar=False)
    return float(np.sqrt(d @ np.linalg.pinv((cov + s) / 2) @ d))


def _sum(terms: np.ndarray) -> float:
    acc = terms[0]
    for t in terms[1:]:
        acc = acc + t  # sequential, rounded at each step
    return float(acc)


def random_delta(rng: np.random.Generator) -> Delta:
    """``c - mu(c)`` of a random summation order (2-D), or of perturbed separable factors."""
    w = N.gaussian_window()
    if rng.random() < 0.5:
        taps = w.reshape(-1)[rng.permutation(w.size)]
        return lambda c: c - _sum(taps * c)
    u, s, vt = np.linalg.svd(w)
    hcol, hrow = (f * np.sqrt(s[0]) for f in (-u[:, 0], -vt[0]))
    hcol = (hcol + rng.integers(-2, 3, N.WINDOW) * np.spacing(hcol))[rng.permutation(N.WINDOW)]
    hrow = (hrow + rng.integers(-2, 3, N.WINDOW) * np.spacing(hrow))[rng.permutation(N.WINDOW)]
    return lambda c: c - _sum(hrow * _sum(hcol * c))


def main(argv: list[str] | None = None) -> dict[str, list[float]]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--random", type=int, default=40, help="number of random arithmetic models")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--images", default=",".join(IMAGES))
    args = ap.parse_args(argv)
    from tests.metrics.oracles import official

    params = np.load(IQA / "niqe_pris_params.npz")
    mu, cov = params["mu_pris_param"], params["cov_pris_param"]
    stems = args.images.split(",")
    data = {s: planes(s) for s in stems}
    oracle = official("niqe")
    np.seterr(invalid="ignore", divide="ignore")

    def row(label: str, deltas: tuple[Delta, Delta]) -> list[float]:
        diffs = [niqe_with(data[s], deltas, mu, cov) - oracle[s] for s in stems]
        print(f"{label:14s}", " ".join(f"{d:+.4f}" for d in diffs), flush=True)
        return diffs

    print(f"{'ours - oracle':14s}", " ".join(f"{s:>7s}" for s in stems))
    print(f"{'flat pixels':14s}", " ".join(f"{int(data[s][0][2].sum()):7d}" for s in stems))
    table = {"exact": row("exact", (lambda c: 0.0, lambda c: 0.0))}
    signs = {"-": -1e-14, "0": 0.0, "+": 1e-14}
    for a, da in signs.items():
        for b, db in signs.items():
            table[f"signs {a}/{b}"] = row(f"signs {a}/{b}", (lambda c, v=da: v, lambda c, v=db: v))
    rng = np.random.default_rng(args.seed)
    randoms = [row(f"random {k}", (random_delta(rng), random_delta(rng))) for k in range(args.random)]
    allrows = np.array(list(table.values()) + randoms)
    print(f"{'min':14s}", " ".join(f"{d:+.4f}" for d in allrows.min(0)))
    print(f"{'max':14s}", " ".join(f"{d:+.4f}" for d in allrows.max(0)))
    return table


if __name__ == "__main__":
    main()
