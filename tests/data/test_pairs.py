"""HR/LR pairs made ahead of use: order, errors, bounded look-ahead, the metrics' HR-side work."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from srbench_eval.data.degrade.bicubic import degrade_bicubic
from srbench_eval.data.io.images import write_image
from srbench_eval.data.pairs import hr_lr_pairs, make_pair, read_ahead
from srbench_eval.errors import SrbenchError
from srbench_eval.protocol import DEFAULT


def test_results_come_in_input_order_with_bounded_look_ahead() -> None:
    lock = threading.Lock()
    running = started = 0
    peak = 0

    def work(i: int) -> int:
        nonlocal running, started, peak
        with lock:
            running += 1
            started += 1
            peak = max(peak, running)
        time.sleep(0.002 * (i % 3))  # finish out of order
        with lock:
            running -= 1
        return i * i

    consumed = []
    for k, value in enumerate(read_ahead(range(20), work, workers=3, lookahead=4)):
        consumed.append(value)
        assert started <= k + 4 + 1  # never more than `lookahead` items ahead of the consumer
    assert consumed == [i * i for i in range(20)]
    assert 1 <= peak <= 3


def test_an_error_surfaces_at_its_item_and_stops_the_rest() -> None:
    done: list[int] = []

    def work(i: int) -> int:
        if i == 3:
            raise SrbenchError(f"item {i} is bad")
        done.append(i)
        return i

    got = []
    with pytest.raises(SrbenchError, match="item 3 is bad"):
        for value in read_ahead(range(100), work, workers=2, lookahead=2):
            got.append(value)
    assert got == [0, 1, 2]
    assert max(done) < 10  # the work after the error was not all run
    with pytest.raises(ValueError, match=">= 1"):
        list(read_ahead([1], work, workers=0))


def test_pairs_are_the_protocol_pairs_with_precomputed_extras(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    paths = []
    for k, shape in enumerate([(30, 41, 3), (27, 33), (12, 13, 3)]):
        paths.append(tmp_path / f"img{k}.png")
        write_image(paths[-1], rng.integers(0, 256, shape, dtype=np.uint8))
    cpu = torch.device("cpu")
    pairs = list(hr_lr_pairs(paths[:2], 4, DEFAULT, cpu, {"sum": lambda hr: float(hr.sum())}))
    assert [p.path for p in pairs] == paths[:2]
    first = pairs[0]
    assert first.hr.shape == (1, 3, 28, 40) and first.hr.dtype == torch.float32
    hr = first.hr[0].permute(1, 2, 0).numpy().astype(np.uint8)
    assert np.array_equal(first.lr[0].permute(1, 2, 0).numpy(), degrade_bicubic(hr, 4))
    assert first.extra == {"sum": float(first.hr.sum())}
    assert pairs[1].hr.shape == (1, 1, 24, 32) and pairs[1].lr.shape == (1, 1, 6, 8)
    with pytest.raises(SrbenchError, match=r"img2.png: 12x12 is too small for x4 with a 4-pixel border"):
        make_pair(paths[2], 4, DEFAULT, cpu)
