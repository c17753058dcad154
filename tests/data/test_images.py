"""Image I/O: RGB order, grey stays grey, clear errors for bad files, atomic writes, mod-crop."""

from __future__ import annotations

import re
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from srbench_eval.data.io import images
from srbench_eval.data.io.images import modcrop, read_image, write_image
from srbench_eval.errors import SrbenchError


def test_rgb_order_and_grey(tmp_path: Path) -> None:
    rgb = np.zeros((4, 6, 3), np.uint8)
    rgb[..., 0] = 200  # red
    cv2.imwrite(str(tmp_path / "c.png"), rgb[..., ::-1])  # OpenCV writes BGR
    assert read_image(tmp_path / "c.png")[0, 0].tolist() == [200, 0, 0]
    cv2.imwrite(str(tmp_path / "g.png"), np.full((4, 6), 7, np.uint8))
    assert read_image(tmp_path / "g.png").shape == (4, 6)


def test_write_read_round_trip(tmp_path: Path) -> None:
    img = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    write_image(tmp_path / "sub" / "x.png", img)
    assert np.array_equal(read_image(tmp_path / "sub" / "x.png"), img)
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["x.png"]


def test_bad_files_give_one_line_errors(tmp_path: Path) -> None:
    (tmp_path / "bad.png").write_bytes(b"not a png")
    with pytest.raises(SrbenchError, match=r"bad.png: cannot decode"):
        read_image(tmp_path / "bad.png")
    with pytest.raises(SrbenchError, match="no such image"):
        read_image(tmp_path / "missing.png")
    cv2.imwrite(str(tmp_path / "deep.png"), np.zeros((3, 3), np.uint16))
    with pytest.raises(SrbenchError, match="8-bit"):
        read_image(tmp_path / "deep.png")


def test_modcrop() -> None:
    assert modcrop(np.zeros((321, 481, 3)), 4).shape == (320, 480, 3)
    assert modcrop(np.zeros((12, 12)), 3).shape == (12, 12)


def _png_variants(tmp_path: Path) -> dict[str, Path]:
    """PNG files of every kind the decoders must agree on: the plain ones libspng takes (grey, RGB,
    with an ancillary chunk) and the ones left to OpenCV (alpha, palette, transparency chunk,
    16-bit, 1-bit, interlaced)."""
    from PIL import Image

    rng = np.random.default_rng(3)
    rgb = rng.integers(0, 256, (9, 13, 3), dtype=np.uint8)
    grey = rng.integers(0, 256, (9, 13), dtype=np.uint8)
    files = {}

    def save(name: str, im: Image.Image, **options: object) -> None:
        files[name] = tmp_path / f"{name}.png"
        im.save(files[name], **options)

    save("rgb", Image.fromarray(rgb))
    save("grey", Image.fromarray(grey))
    save("rgb-phys", Image.fromarray(rgb), dpi=(72, 72))  # an ancillary pHYs chunk
    save("rgba", Image.fromarray(np.dstack([rgb, grey])))
    save("grey-alpha", Image.fromarray(np.dstack([grey, grey[::-1]]), "LA"))
    save("palette", Image.fromarray(rgb).quantize(16))
    save("rgb-trns", Image.fromarray(rgb), transparency=tuple(int(v) for v in rgb[0, 0]))
    save("grey-trns", Image.fromarray(grey), transparency=int(grey[0, 0]))
    save("bits-1", Image.fromarray(grey > 128))
    save("grey-16", Image.fromarray(grey.astype(np.uint16) * 257))
    # Neither library writes Adam7: the flag set on a plain file (which no decoder can then read) is
    # enough to send it to OpenCV.
    cv2.imwrite(str(tmp_path / "interlaced.png"), rgb)
    data = bytearray((tmp_path / "interlaced.png").read_bytes())
    files["interlaced"] = tmp_path / "interlaced.png"
    data[28] = 1
    data[29:33] = zlib.crc32(bytes(data[12:29])).to_bytes(4, "big")
    files["interlaced"].write_bytes(bytes(data))
    return files


def test_plain_pngs_decode_as_opencv_decodes_them_and_others_go_to_opencv(tmp_path: Path) -> None:
    files = _png_variants(tmp_path)
    plain = {name for name, path in files.items() if images.plain_png(path.read_bytes())}
    assert plain == {"rgb", "grey", "rgb-phys"}
    for name, path in files.items():
        data = path.read_bytes()
        try:
            want = images.decode_opencv(data, path)
        except SrbenchError as err:  # 16-bit and broken files: refused, whoever decodes them
            with pytest.raises(SrbenchError, match=re.escape(str(err))):
                read_image(path)
            continue
        got = read_image(path)
        assert got.dtype == want.dtype and got.shape == want.shape and np.array_equal(got, want), name
        if name in plain:
            fast = images.decode_plain_png(data)
            assert fast is not None and np.array_equal(fast, want), name


def test_a_png_with_a_wrong_crc_is_refused_as_before(tmp_path: Path) -> None:
    path = tmp_path / "x.png"
    cv2.imwrite(str(path), np.arange(48, dtype=np.uint8).reshape(4, 4, 3))
    data = bytearray(path.read_bytes())
    idat = data.index(b"IDAT")
    length = int.from_bytes(data[idat - 4 : idat], "big")
    data[idat + 4 + length] ^= 0xFF  # the CRC's first byte
    path.write_bytes(bytes(data))
    assert not images.plain_png(bytes(data))
    with pytest.raises(SrbenchError, match="x.png: cannot decode"):
        read_image(path)


# Every benchmark image decoded as OpenCV decodes it: tests/data/test_png_decode.py.
