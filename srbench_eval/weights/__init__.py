"""Pretrained network weights that metrics and losses need, found where their libraries look.

Every network is loaded through its library's own path (torchvision, lpips, pytorch-fid), which all
read ``<torch hub dir>/checkpoints/<file name>`` (``$TORCH_HOME/hub/checkpoints``, by default
``~/.cache/torch/hub/checkpoints``) and download there when the file is missing. This module lists
those files in one place so that they can be listed, fetched on a connected machine, verified, and
copied to an air-gapped one, and so that a missing file is a clear error instead of a network
traceback.

torchvision-style file names carry the first hex digits of the file's SHA-256 (``vgg19-dcbb9e9d.pth``);
a file whose hash does not start with them is not the published weights (for example the identically
seeded stand-in weights the tests use). Only that prefix is published, so verification is by prefix,
torchvision's own convention (``torch.hub.download_url_to_file(..., hash_prefix=...)``): 8 hex digits,
32 bits, enough to catch a wrong or truncated file, not to authenticate one. Results computed with
non-published files are never presented as real: :func:`require` refuses them unless
``SRBENCH_ALLOW_STAND_IN_WEIGHTS=1`` is set (the tests set it), and then :func:`stand_ins_used` reports
them for the run's provenance.

One weights store: every file, of a metric, a loss or a published model, is found the same way: the
cache (``$TORCH_HOME/hub/checkpoints`` for the metrics and losses, ``$SRBENCH_DATA/weights`` for the
published models), then a mirror (``--mirror`` / ``$SRBENCH_MIRROR``) as ``<mirror>/weights/<file
name>`` or ``<mirror>/weights/<relative path>``, copied into the cache once its SHA-256 is checked,
then (``weights fetch``) its public URL. ``weights list``, ``fetch`` and ``verify`` treat them alike.

Air-gapped machines: put the files in a mirror folder beside the datasets (``weights fetch`` on a
connected machine, then copy the caches ``weights list`` prints), pass ``--mirror DIR``, and check
with ``srbench-eval weights verify --mirror DIR``.

Networks built from these files are cached per process by :func:`load_network`, so a metric object
built once per (model, dataset) loads its network once per process and device.

The parts: the metric and loss weight files and the network cache (:mod:`.hub`) and the published
models' weight files (:mod:`.published`); import from this package.
"""

from srbench_eval.weights.hub import (
    ALLOW_STAND_INS_ENV,
    FILES,
    WEIGHTS,
    WeightFile,
    WeightStatus,
    checkpoint_dir,
    fetch,
    file_identity,
    from_mirror,
    get,
    is_genuine,
    keys_for,
    keys_of,
    load_network,
    mirror_in_use,
    mirror_location,
    path_of,
    require,
    stand_ins_used,
    status,
)
from srbench_eval.weights.published import (
    PIN_ENV_PREFIX,
    check_published,
    expected_hash,
    pin_env,
    pin_file,
    published_dir,
    published_locations,
    published_path,
    published_status,
)

__all__ = [
    "ALLOW_STAND_INS_ENV",
    "FILES",
    "PIN_ENV_PREFIX",
    "WEIGHTS",
    "WeightFile",
    "WeightStatus",
    "check_published",
    "checkpoint_dir",
    "expected_hash",
    "fetch",
    "file_identity",
    "from_mirror",
    "get",
    "is_genuine",
    "keys_for",
    "keys_of",
    "load_network",
    "mirror_in_use",
    "mirror_location",
    "path_of",
    "pin_env",
    "pin_file",
    "published_dir",
    "published_locations",
    "published_path",
    "published_status",
    "require",
    "stand_ins_used",
    "status",
]
