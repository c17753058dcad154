"""Decoding the benchmark PNG files: libspng (``pyspng``), ``png_decode`` (ISA-L + numba), OpenCV.

    python benchmarks/bench_png_decode.py [--repeat 3] [--sets Set5,Set14,BSD100,Urban100]

Reads the HR files of the sets from ``../shared/benchmarks`` into memory, then times each decoder
over all of them (the file bytes to the ``uint8`` RGB/grey array ``read_image`` returns):

* ``pyspng``: ``pyspng.load`` (what decoded the plain files before ``png_decode``);
* ``png_decode``: :func:`srbench_eval.data.io.images.plain_png_layout` (the chunk walk and CRCs) and
  :func:`srbench_eval.data.io.png_decode.decode_plain`, as ``read_image`` calls them, and the inflate
  and unfilter halves alone;
* ``cv2``: ``cv2.imdecode`` (``IMREAD_UNCHANGED``) and ``cv2.cvtColor`` to RGB;

with one thread (CPU seconds of the process, the best of ``--repeat``) and with two threads each
taking every other file (wall seconds and CPU seconds, best of ``--repeat``). Then, in a fresh
interpreter, the first call: importing ``png_decode`` (numba loads the kernel from its on-disk
cache) and decoding the first file. Every decoder's pixels are checked equal to OpenCV's first.
Not a test: no test times anything.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT.parent / "shared" / "benchmarks"

FIRST_CALL = """
import sys, time
start = time.perf_counter()
from srbench_eval.data.io import png_decode
imported = time.perf_counter()
png_decode.decode_plain(open(sys.argv[1], "rb").read())
done = time.perf_counter()
print(imported - start, done - imported)
"""


def opencv(data: bytes) -> np.ndarray:
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    return img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def best_cpu(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.process_time()
        run()
        times.append(time.process_time() - start)
    return min(times)


def best_two_threads(
    decode: Callable[[bytes], object], files: list[bytes], repeat: int
) -> tuple[float, float]:
    """(wall, CPU) seconds, best of ``repeat``, of two threads decoding every other file each."""
    walls, cpus = [], []
    with ThreadPoolExecutor(2) as pool:
        for _ in range(repeat):
            start, cpu = time.perf_counter(), time.process_time()
            list(pool.map(lambda part: [decode(d) for d in part], (files[0::2], files[1::2])))
            walls.append(time.perf_counter() - start)
            cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sets", default="Set5,Set14,BSD100,Urban100")
    args = parser.parse_args(argv)
    import pyspng
    from isal import isal_zlib

    from srbench_eval.data.io.images import plain_png_layout
    from srbench_eval.data.io.png_decode import decode_plain
    from srbench_eval.data.io.png_unfilter import unfilter

    paths = [p for name in args.sets.split(",") for p in sorted((BENCHMARKS / name / "HR").glob("*.png"))]
    files = [p.read_bytes() for p in paths]
    layouts = [plain_png_layout(d) for d in files]
    ours = lambda d: decode_plain(d, plain_png_layout(d))  # noqa: E731
    for path, data in zip(paths, files, strict=True):
        want = opencv(data)
        assert np.array_equal(ours(data), want) and np.array_equal(pyspng.load(data), want), path
    streams = [
        b"".join(memoryview(d)[a:b] for a, b in lay.idat) for d, lay in zip(files, layouts, strict=True)
    ]
    raws = [np.frombuffer(isal_zlib.decompress(s), np.uint8) for s in streams]
    outs = [np.empty((lay.height, lay.width * lay.channels), np.uint8) for lay in layouts]
    decoded = sum(o.nbytes for o in outs)
    print(
        f"{len(files)} files, {sum(map(len, files)) / 1e6:.0f} MB compressed, "
        f"{decoded / 1e6:.0f} MB decoded; load average {os.getloadavg()[0]:.2f}; best of {args.repeat}"
    )
    print("| decoder | 1 thread, CPU s | 2 threads, wall s | 2 threads, CPU s |")
    print("| --- | --- | --- | --- |")
    for name, decode in (("pyspng", pyspng.load), ("png_decode", ours), ("cv2 + BGR->RGB", opencv)):
        one = best_cpu(lambda decode=decode: [decode(d) for d in files], args.repeat)
        wall, cpu = best_two_threads(decode, files, args.repeat)
        print(f"| {name} | {one:.2f} | {wall:.2f} | {cpu:.2f} |")
    parts = {
        "plain_png_layout (chunks, CRCs)": lambda: [plain_png_layout(d) for d in files],
        "ISA-L inflate": lambda: [isal_zlib.decompressobj().decompress(s) for s in streams],
        "unfilter": lambda: [
            unfilter(r, o, lay.channels) for r, o, lay in zip(raws, outs, layouts, strict=True)
        ],
    }
    for name, run in parts.items():
        print(f"| png_decode part: {name} | {best_cpu(run, args.repeat):.2f} | | |")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for _ in range(2):
        out = subprocess.run(
            [sys.executable, "-c", FIRST_CALL, str(paths[0])],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        imported, first = map(float, out.stdout.split())
        print(
            f"fresh process: import png_decode {imported:.2f} s, "
            f"first decode_plain ({paths[0].name}) {first:.3f} s"
        )


if __name__ == "__main__":
    main()
