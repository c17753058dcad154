"""`srbench-eval datasets list|download|verify|manifest`."""

from __future__ import annotations

from pathlib import Path

import click

from srbench_eval.data.datasets import registry as ds
from srbench_eval.data.datasets.download import MIRROR_ENV
from srbench_eval.data.datasets.manifest import hash_images, manifest_digest, manifest_yaml
from srbench_eval.errors import SrbenchError
from srbench_eval.protocol import resolve

_MIRROR_HELP = f"Local folder or base URL tried before the public URLs (default: ${MIRROR_ENV})."


@click.group()
def datasets() -> None:
    """List, download and verify the benchmark datasets of datasets.yaml."""


@datasets.command("list")
@click.option("--mirror", default=None, help=_MIRROR_HELP)
def list_(mirror: str | None) -> None:
    """Show each dataset: images, where its copy is, and its verification state."""
    rows = [ds.dataset_status(e, mirror) for e in ds.DATASETS.values()]
    width = max(len(r.name) for r in rows)
    click.echo(f"{'name':<{width}}  {'images':>6}  where; verified")
    for r in rows:
        click.echo(f"{r.name:<{width}}  {r.images:>6}  {r.where}; {r.verified}")


@datasets.command()
@click.argument("names", nargs=-1, required=True)
@click.option("--mirror", default=None, help=_MIRROR_HELP)
@click.option("--strict", is_flag=True, help="Refuse a copy whose pixels differ from the manifest.")
@click.option("--force", is_flag=True, help="Download again even if a copy is in the cache.")
def download(names: tuple[str, ...], mirror: str | None, strict: bool, force: bool) -> None:
    """Download datasets into the cache ($SRBENCH_DATA), verified against their manifests."""
    for name in names:
        d = ds.download_dataset(name, mirror=mirror, strict=strict, force=force)
        click.echo(f"{d.name}: {len(d.images)} images, {d.verified} ({d.location})")


@datasets.command()
@click.argument("names", nargs=-1, required=True)
@click.option("--mirror", default=None, help=_MIRROR_HELP)
@click.option("--strict", is_flag=True, help="Exit with an error if a copy differs from its manifest.")
def verify(names: tuple[str, ...], mirror: str | None, strict: bool) -> None:
    """Decode every image of existing copies (names or folders) and check their pixel hashes."""
    failed = []
    for name in names:
        d = ds.verify_dataset(name, mirror=mirror)
        click.echo(f"{d.name}: {len(d.images)} images, {d.verified} ({d.location})")
        click.echo(f"  digest {d.manifest_digest}")
        if not d.ok:
            failed.append(d.name)
    if strict and failed:
        raise SrbenchError(
            f"{', '.join(failed)}: differs from datasets.yaml, so published numbers are not comparable"
        )


@datasets.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def manifest(folder: Path) -> None:
    """Print the manifest block of datasets.yaml for a folder of HR images."""
    if not folder.is_dir():
        raise SrbenchError(f"{folder}: no such folder; give a folder of HR images")
    images = ds.folder_images(folder)
    if not images:
        raise SrbenchError(f"{folder}: no image files in this folder")
    hashes = hash_images(images, None) or {}
    click.echo(f"# {len(hashes)} images from {folder.resolve()}; digest {manifest_digest(hashes)}")
    click.echo(manifest_yaml(hashes).rstrip("\n"))


# --- `datasets lr` (issue 11, h-proto): the LR inputs of a protocol, as `run` feeds them ---------


@datasets.command("lr")
@click.argument("dataset")
@click.option(
    "--scale",
    required=True,
    help="Downscaling factor: an integer, or a non-integer such as 2.5 (the protocol's size rule).",
)
@click.option(
    "--protocol",
    default="matlab",
    show_default=True,
    help="Protocol profile whose LR images to write (see `srbench-eval protocols`).",
)
@click.option(
    "--protocol-set", "protocol_set", multiple=True, metavar="FIELD=VALUE", help="Override a field."
)
@click.option(
    "--degradation",
    type=click.Choice(["bi", "bd", "dn", "given"]),
    default=None,
    help="The LR of this degradation (as `run --degradation`) [default: the protocol's, bi].",
)
@click.option("--mirror", default=None, help=_MIRROR_HELP)
@click.option("--strict", is_flag=True, help="Refuse a copy whose pixels differ from the manifest.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Output folder.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["png", "npy"]),
    default="png",
    show_default=True,
    help="png, or npy: the LR exactly, float64 0..255 arrays (for unrounded protocols).",
)
@click.option(
    "--force", is_flag=True, help="Write into a non-empty --out, replacing files of the same names."
)
def lr(
    dataset: str,
    scale: str,
    protocol: str,
    protocol_set: tuple[str, ...],
    degradation: str | None,
    mirror: str | None,
    strict: bool,
    out: Path,
    fmt: str,
    force: bool,
) -> None:
    """Write the LR input of every HR image of DATASET (a name or a folder) as OUT/<image name>.png,
    exactly as `run` feeds the models, to run a network elsewhere and score it with LABEL=folder.

    Rounded LR protocols give 8-bit PNGs equal to the LR. Unrounded ones (lapsrn, srcnn) give
    16-bit PNGs of round(LR * 65535 / 255): within 0.002 grey levels of the LR inside 0..255, the
    bicubic overshoot outside it clipped; --format npy writes their LR exactly (float64).

    Non-integer scales follow the protocol's size rule (Meta-SR's, or LIIF's under --protocol liif);
    the line printed names the folder the arbitrary-scale repositories keep such a set in
    (LR_bicubic/X2.50 for Meta-SR).

    A non-empty OUT is refused unless --force, a folder inside a finished run always; all files
    are written or none."""
    from srbench_eval.data.lr_export import export_lr
    from srbench_eval.runs.multiscale import parse_scales

    scales = parse_scales(scale)
    if len(scales) != 1:
        raise SrbenchError(f"--scale '{scale}': datasets lr writes one scale; run it once per scale")
    degraded = [f"lr_source={degradation}"] if degradation else []
    protocol_ = resolve(protocol, [*protocol_set, *degraded])
    result = export_lr(dataset, scales[0], protocol_, out, mirror=mirror, strict=strict, fmt=fmt, force=force)
    kind = "float64 .npy" if fmt == "npy" else f"{result.bits}-bit PNG"
    click.echo(
        f"{result.dataset} x{scales[0]}: {len(result.files)} LR images ({kind}) in {out} "
        f"(the SR repositories' folder name: LR_bicubic/{result.folder})"
    )
