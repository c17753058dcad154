"""Tiny seeded networks shared by tests (import, do not copy)."""

from __future__ import annotations

import torch


def conv_x2() -> torch.nn.Module:
    """Seeded float64 x2 network: two 3x3 convolutions (receptive radius 2 LR pixels) and a pixel
    shuffle."""
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.Conv2d(8, 12, 3, padding=1),
        torch.nn.PixelShuffle(2),
    ).double()
