"""The plain-PNG decoder (ISA-L inflate + compiled unfilter): OpenCV's pixels on every benchmark
image and on PNG files written here byte by byte (each filter type, grey and RGB, odd sizes, IDAT
chunks split anywhere, every zlib window), and ``None`` (OpenCV then decides) for streams libpng
refuses or reads otherwise."""

from __future__ import annotations

import re
import sys
import zlib
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import pytest

from srbench_eval.data.io import images
from srbench_eval.data.io.images import read_image
from srbench_eval.data.io.png_decode import decode_plain, zlib_window_bits
from srbench_eval.data.io.png_unfilter import unfilter
from srbench_eval.errors import SrbenchError
from tests.conftest import SHARED_BENCHMARKS, requires_shared

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")


def _ihdr(width: int, height: int, colour: int, compression: int = 0, filtering: int = 0) -> bytes:
    fields = width.to_bytes(4, "big") + height.to_bytes(4, "big")
    return _chunk(b"IHDR", fields + bytes([8, colour, compression, filtering, 0]))


def _predictor(kind: int, a: int, b: int, c: int) -> int:
    """The PNG specification's predictors (section 9.2), written as it states them."""
    if kind == 0:
        return 0
    if kind == 1:
        return a
    if kind == 2:
        return b
    if kind == 3:
        return (a + b) // 2
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _filtered(img: np.ndarray, filters: Sequence[int]) -> bytes:
    """The scanlines of ``img`` (``(H, W)`` or ``(H, W, 3)`` ``uint8``), row ``y`` filtered with
    ``filters[y]`` (a byte over 4 is written as is, over unfiltered data)."""
    rows = img.reshape(img.shape[0], -1).astype(int)
    bpp = 1 if img.ndim == 2 else img.shape[2]
    out = bytearray()
    for y, row in enumerate(rows):
        kind = filters[y]
        out.append(kind)
        for x, value in enumerate(row):
            a = row[x - bpp] if x >= bpp else 0
            b = rows[y - 1][x] if y > 0 else 0
            c = rows[y - 1][x - bpp] if y > 0 and x >= bpp else 0
            out.append((value - _predictor(kind if kind <= 4 else 0, a, b, c)) % 256)
    return bytes(out)


def _png(img: np.ndarray, stream: bytes, pieces: Sequence[int] = (), between: bytes = b"") -> bytes:
    """A PNG file of ``img``'s size and colour type holding ``stream`` in IDAT chunks cut at the
    offsets ``pieces``, with ``between`` (whole chunks) after the first IDAT chunk."""
    height, width = img.shape[:2]
    cuts = [0, *pieces, len(stream)]
    idats = [_chunk(b"IDAT", stream[s:e]) for s, e in zip(cuts[:-1], cuts[1:], strict=True)]
    body = idats[0] + between + b"".join(idats[1:])
    return (
        SIGNATURE
        + _ihdr(width, height, 0 if img.ndim == 2 else 2)
        + _chunk(b"tIME", bytes(7))
        + body
        + _chunk(b"IEND", b"")
    )


def _opencv(data: bytes) -> np.ndarray | None:
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    return img if img is None or img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def _image(rng: np.random.Generator, height: int, width: int, channels: int) -> np.ndarray:
    shape = (height, width) if channels == 1 else (height, width, channels)
    img = rng.integers(0, 256, shape, dtype=np.uint8)
    img.reshape(-1)[::5] = 255  # extremes, so that every predictor wraps around 256
    img.reshape(-1)[1::7] = 0
    return img


@pytest.mark.parametrize("channels", [1, 3])
def test_each_filter_type_at_every_small_width(channels: int) -> None:
    rng = np.random.default_rng(channels)
    for width in range(1, 8):
        for height in (1, 2, 5):
            img = _image(rng, height, width, channels)
            for filters in ([k] * height for k in range(5)):
                data = _png(img, zlib.compress(_filtered(img, filters)))
                got = decode_plain(data)
                assert got is not None and got.shape == img.shape, (width, height, filters)
                assert np.array_equal(got, img) and np.array_equal(_opencv(data), img), (width, filters)
            filters = list(rng.integers(0, 5, height))  # a different filter on each row
            data = _png(img, zlib.compress(_filtered(img, filters)))
            assert np.array_equal(decode_plain(data), img), (width, height, filters)


@pytest.mark.parametrize("channels", [1, 3])
def test_odd_sizes_every_row_filter_and_idat_cut_anywhere(channels: int) -> None:
    rng = np.random.default_rng(10 + channels)
    img = _image(rng, 37, 23, channels)
    filters = [y % 5 for y in range(37)]
    stream = zlib.compress(_filtered(img, filters), 9)
    row_bytes = 1 + 23 * channels
    cuts = [
        (),
        (1,),  # the zlib header split
        (2, 3, 50, 51, len(stream) - 4),  # one-byte IDATs and the Adler-32 on its own
        tuple(range(7, len(stream), 7)),
        (len(stream) // 2, len(stream) // 2),  # an empty IDAT chunk
    ]
    for pieces in cuts:
        data = _png(img, stream, pieces)
        assert images.plain_png_layout(data).idat == _idat_spans(data)
        assert np.array_equal(decode_plain(data), img) and np.array_equal(_opencv(data), img), pieces
    # a stream stored uncompressed (level 0), cut mid-row: the IDAT boundaries fall inside rows
    stored = zlib.compress(_filtered(img, filters), 0)
    data = _png(img, stored, (row_bytes // 2, 5 * row_bytes + 3))
    assert np.array_equal(decode_plain(data), img) and np.array_equal(_opencv(data), img)


def _idat_spans(data: bytes) -> tuple[tuple[int, int], ...]:
    spans, pos = [], 8
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        if data[pos + 4 : pos + 8] == b"IDAT":
            spans.append((pos + 8, pos + 8 + length))
        pos += 12 + length
    return tuple(spans)


def test_every_zlib_window_libpng_takes() -> None:
    img = _image(np.random.default_rng(2), 9, 600, 3)  # rows of 1801 bytes: distances up to 32 KiB
    raw = _filtered(img, [4] * 9)
    for wbits in range(9, 16):
        packer = zlib.compressobj(9, zlib.DEFLATED, wbits)
        stream = packer.compress(raw) + packer.flush()
        assert zlib_window_bits(stream) == wbits
        data = _png(img, stream)
        assert np.array_equal(decode_plain(data), img) and np.array_equal(_opencv(data), img), wbits


def _with_header(stream: bytes, cmf: int, dictionary: bool = False) -> bytes:
    flg = 0x20 if dictionary else 0
    while (cmf << 8 | flg) % 31:
        flg += 1
    return bytes([cmf, flg]) + (b"\0\0\0\1" if dictionary else b"") + stream[2:]


def _broken_streams(img: np.ndarray) -> dict[str, tuple[bytes, np.ndarray]]:
    """zlib streams libpng refuses (``cannot decode``), each with the image its file claims."""
    raw = _filtered(img, [1] * img.shape[0])
    stream = zlib.compress(raw, 9)
    far = np.tile(img[:1], (img.shape[0], 1, 1))  # the first row again and again, 1801 bytes back
    far_stream = zlib.compress(_filtered(far, [0] * far.shape[0]), 9)
    streams = {
        "corrupt": stream[:2] + bytes([stream[2] ^ 0xFF]) + stream[3:],
        "adler": stream[:-1] + bytes([stream[-1] ^ 1]),
        "no-adler": stream[:-4],
        "truncated": stream[: len(stream) // 2],
        "short": zlib.compress(raw[: -(1 + img.shape[1] * 3)]),  # one row fewer
        "bad-filter": zlib.compress(_filtered(img, [1, 5] + [0] * (img.shape[0] - 2))),
        "window-64k": _with_header(stream, 0x88),
        "not-deflate": _with_header(stream, 0x77),
        "dictionary": _with_header(stream, 0x78, dictionary=True),
        "bad-check": bytes([0x78, 0x9D]) + stream[2:],
    }
    cases = {name: (s, img) for name, s in streams.items()}
    cases["too-far-back"] = (_with_header(far_stream, 0x18), far)  # a 512-byte window declared
    return cases


def test_streams_libpng_refuses_give_none_and_read_image_its_one_line_error(tmp_path: Path) -> None:
    img = _image(np.random.default_rng(4), 6, 600, 3)
    for name, (stream, pixels) in _broken_streams(img).items():
        data = _png(pixels, stream)
        assert images.plain_png(data), name
        assert decode_plain(data) is None, name
        assert _opencv(data) is None, name  # the premise: OpenCV refuses it too
        path = tmp_path / f"{name}.png"
        path.write_bytes(data)
        with pytest.raises(
            SrbenchError, match=f"^{re.escape(str(path))}: cannot decode image \\(corrupt or not an image\\)$"
        ):
            read_image(path)


def test_streams_libpng_reads_with_a_warning_go_to_opencv(tmp_path: Path) -> None:
    """A stream with more rows than the header, or data after its end: ``None`` here, and
    ``read_image`` returns OpenCV's pixels."""
    img = _image(np.random.default_rng(5), 6, 11, 3)
    raw = _filtered(img, [4] * 6)
    extra = zlib.compress(raw + raw[: 1 + 33])  # one row too many
    after = zlib.compress(raw) + b"tail"  # bytes after the end of the stream
    for name, stream in {"extra-row": extra, "after-end": after}.items():
        data = _png(img, stream)
        path = tmp_path / f"{name}.png"
        path.write_bytes(data)
        want = _opencv(data)
        assert want is not None and np.array_equal(want, img), name
        assert np.array_equal(read_image(path), img), name
        if name == "extra-row":
            assert decode_plain(data) is None
        else:  # libpng and ISA-L both stop at the end of the stream
            assert np.array_equal(decode_plain(data), img)


def test_chunk_layouts_libpng_refuses_or_judges_are_not_plain(tmp_path: Path) -> None:
    img = _image(np.random.default_rng(6), 4, 5, 3)
    stream = zlib.compress(_filtered(img, [2] * 4))
    text = _chunk(b"tEXt", b"k\0v")
    head = SIGNATURE + _ihdr(5, 4, 2)
    files = {
        "idat-apart": _png(img, stream, (len(stream) // 2,), between=text),
        "unknown-critical": _png(img, stream, (), between=_chunk(b"ABCD", b"x")),
        "palette-in-rgb": head + _chunk(b"PLTE", bytes(6)) + _chunk(b"IDAT", stream) + _chunk(b"IEND", b""),
        "two-headers": head + _ihdr(5, 4, 2) + _chunk(b"IDAT", stream) + _chunk(b"IEND", b""),
        "no-idat": head + _chunk(b"IEND", b""),
        "compression-1": SIGNATURE
        + _ihdr(5, 4, 2, compression=1)
        + _chunk(b"IDAT", stream)
        + _chunk(b"IEND", b""),
        "filter-method-1": SIGNATURE
        + _ihdr(5, 4, 2, filtering=1)
        + _chunk(b"IDAT", stream)
        + _chunk(b"IEND", b""),
        "width-0": SIGNATURE + _ihdr(0, 4, 2) + _chunk(b"IDAT", stream) + _chunk(b"IEND", b""),
        "width-1000001": SIGNATURE
        + _ihdr(1_000_001, 1, 0)
        + _chunk(b"IDAT", zlib.compress(bytes(1_000_002)))
        + _chunk(b"IEND", b""),  # over libpng's limit: OpenCV refuses it
    }
    assert images.plain_png(_png(img, stream, (len(stream) // 2,), between=b""))
    widest = np.arange(1_000_000, dtype=np.uint32).astype(np.uint8).reshape(1, -1)  # libpng's limit
    data = _png(widest, zlib.compress(b"\0" + widest.tobytes()))
    assert np.array_equal(decode_plain(data), widest) and np.array_equal(_opencv(data), widest)
    for name, data in files.items():
        assert not images.plain_png(data) and decode_plain(data) is None, name
        path = tmp_path / f"{name}.png"
        path.write_bytes(data)
        want = _opencv(data)
        if want is None:
            with pytest.raises(SrbenchError, match="cannot decode image"):
                read_image(path)
        else:  # a suggested palette in an RGB file: OpenCV reads it
            assert name == "palette-in-rgb" and np.array_equal(read_image(path), want)


def test_unfilter_refuses_a_filter_type_over_4() -> None:
    raw = np.array([0, 1, 2, 5, 3, 4], np.uint8)  # rows of two bytes: None, then type 5
    out = np.zeros((2, 2), np.uint8)
    assert not unfilter(raw, out, 1)
    assert unfilter(np.array([0, 1, 2, 4, 3, 4], np.uint8), out, 1)
    assert out.tolist() == [[1, 2], [4, 8]]  # Paeth: b = 1 at x = 0; at x = 1 a = 4, b = 2, c = 1 -> a


def test_without_isal_libspng_decodes_plain_files(monkeypatch: pytest.MonkeyPatch) -> None:
    img = _image(np.random.default_rng(7), 5, 6, 3)
    data = _png(img, zlib.compress(_filtered(img, [4] * 5)))
    monkeypatch.setitem(sys.modules, "srbench_eval.data.io.png_decode", None)  # its import now fails
    pytest.importorskip("pyspng")
    assert np.array_equal(images.decode_plain_png(data), img)


@requires_shared
def test_every_benchmark_png_decodes_to_opencvs_pixels() -> None:
    paths = sorted(SHARED_BENCHMARKS.glob("*/HR/*.png"))
    assert paths
    for path in paths:
        data = path.read_bytes()
        layout = images.plain_png_layout(data)
        assert layout is not None and images.plain_png(data), path
        got = images.decode_plain_png(data, layout)  # decode_plain, as read_image calls it
        assert got is not None and np.array_equal(got, _opencv(data)), path
