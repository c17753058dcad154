"""`srbench-eval weights list|fetch|verify`: the pretrained files that metrics, losses and published
models need, one store (:mod:`srbench_eval.weights`): each is found in its cache
(``$TORCH_HOME/hub/checkpoints``, ``$SRBENCH_DATA/weights``), then in a mirror as
``<mirror>/weights/<file>`` (copied into the cache), then at its public URL (``fetch`` only).
"""

from __future__ import annotations

from collections.abc import Iterator

import click

from srbench_eval import weights as w
from srbench_eval.errors import SrbenchError
from srbench_eval.models.published import registry as published

_NAMES = click.argument("names", nargs=-1, metavar="[NAME]...")
_MIRROR = click.option(
    "--mirror",
    default=None,
    help="Folder or base URL holding weights/<relative path> (default $SRBENCH_MIRROR).",
)
_STATE = {"ok": "present", "missing": "MISSING", "mismatch": "NOT GENUINE", "unpinned": "NO HASH"}


def _split(names: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """(metric/loss weights keys, published model names) selected by ``names``: no name = every
    metric/loss file; ``@pub`` = every published model; ``NAME@pub`` = that one."""
    pub = [n for n in names if published.is_published(n)]
    other = [n for n in names if not published.is_published(n)]
    if "@pub" in pub:
        pub = published.names()
    for n in pub:
        published.get(n)  # unknown name: one-line error with a suggestion
    return (w.keys_for(other) if other or not names else []), pub


def _published_files(
    names: list[str],
) -> Iterator[tuple[published.PublishedModel, published.PublishedFile, str]]:
    for name in names:
        entry = published.get(name)
        for f in entry.files:
            yield entry, f, f"{entry.name} {'x' + str(f.scale) if f.scale else 'all scales'}"


def _hash_text(entry: published.PublishedModel, f: published.PublishedFile) -> str:
    want = w.expected_hash(entry.key, f)
    return "sha256 none (pin it)" if want is None else f"{want[0]} {want[1][:12]}..."


def _short_users(f: w.WeightFile) -> str:
    return ", ".join(f.used_by)


@click.group()
def weights() -> None:
    """List, fetch and verify the pretrained weights that metrics and losses load.

    NAME is a weights key (alexnet, inception-fid, ...), a metric/loss name (lpips, fid, ...), a
    published model (srcnn-955@pub, ...) or @pub for every published model; no NAME means every
    metric/loss file. Published model files live in $SRBENCH_DATA/weights/<relative path>; a mirror
    folder or URL serves weights/<relative path>.
    """


@weights.command("list")
@_NAMES
@_MIRROR
def list_(names: tuple[str, ...], mirror: str | None) -> None:
    """Show each file: key, users, file name, SHA-256 prefix, state, URL and path."""
    keys, pub = _split(names)
    if keys:
        click.echo(f"hub cache: {w.checkpoint_dir()}  (follows $TORCH_HOME)")
    width = max((len(k) for k in keys), default=0)
    for key in keys:
        s = w.status(key, mirror)
        click.echo(
            f"{key:<{width}}  {_STATE[s.state]:<11}  sha256 {s.file.sha256_prefix}...  {s.file.filename}  "
            f"[{_short_users(s.file)}]"
        )
        click.echo(f"{'':<{width}}  url  {s.file.url}")
        click.echo(f"{'':<{width}}  path {s.path}")
    if not names:
        click.echo("published models: 'srbench-eval weights list @pub'")
    if pub:
        click.echo(f"published models: {w.published_dir()}  (follows $SRBENCH_DATA)")
    for entry, f, label in _published_files(pub):
        state, path = w.published_status(entry, f, mirror)
        click.echo(f"{label}  {_STATE[state]}  {_hash_text(entry, f)}  {f.path}")
        for url in f.urls or ("(no stable public URL: put it in a mirror as weights/" + f.path + ")",):
            click.echo(f"    url  {url}")
        if path is not None:
            click.echo(f"    path {path}")


@weights.command("fetch")
@_NAMES
@_MIRROR
@click.option("--quiet", is_flag=True, help="No download progress bars.")
@click.option(
    "--sha256",
    "pins",
    multiple=True,
    metavar="HEX",
    help="Pin the SHA-256 of a published file that has no published hash (one NAME@pub; once per "
    "file, in 'weights list' order, for a model of several files: sftgan@pub).",
)
def fetch(names: tuple[str, ...], mirror: str | None, quiet: bool, pins: tuple[str, ...]) -> None:
    """Download missing (or non-genuine) files, checking their SHA-256 (published models: from a
    mirror or the public URLs into $SRBENCH_DATA/weights)."""
    keys, pub = _split(names)
    files = list(_published_files(pub))
    if pins and (len(pub) != 1 or keys or len(pins) != len(files)):
        raise SrbenchError(
            "--sha256 pins the files of one NAME@pub: give exactly one NAME@pub and one --sha256 per file "
            "(in 'weights list' order)"
        )
    for i, (entry, f, label) in enumerate(files):
        pin = pins[i] if pins else None
        path, digest = w.published_path(entry, f, mirror=mirror, pin=pin, keep=True)
        click.echo(f"{label}: ok {path}  sha256 {digest}")
    for key in keys:
        before = w.status(key)
        if before.ok:
            click.echo(f"{key}: present {before.path}")
            continue
        after = w.fetch(key, progress=not quiet, mirror=mirror)
        if not after.ok:  # a stand-in from a mirror, where the tests allow one
            raise SrbenchError(
                f"{key}: {after.path} is not the published file ({_STATE[after.state].lower()})"
            )
        click.echo(f"{key}: fetched {after.path}")


@weights.command("verify")
@_NAMES
@_MIRROR
def verify(names: tuple[str, ...], mirror: str | None) -> None:
    """Hash each file and compare with its published SHA-256 (or prefix, or pin); fail if any is
    missing or wrong."""
    bad, bad_pub = [], []
    keys, pub = _split(names)
    for entry, f, label in _published_files(pub):
        state, path = w.published_status(entry, f, mirror)
        click.echo(f"{label}: {'ok' if state == 'ok' else _STATE[state].lower()}  {path or f.path}")
        if state != "ok":
            bad_pub.append(f"{label} ({_STATE[state].lower()})")
    for key in keys:
        s = w.status(key, mirror)
        click.echo(f"{key}: {'ok' if s.ok else _STATE[s.state].lower()}  {s.path}")
        if not s.ok:
            bad.append(f"{key} ({_STATE[s.state].lower()})")
    hints = []
    if bad:
        hints.append(
            f"{', '.join(bad)}: run 'srbench-eval weights fetch' (connected, or with --mirror DIR), "
            f"or put the files in {w.checkpoint_dir()} or in a mirror as <mirror>/weights/<file name>"
        )
    if bad_pub:
        hints.append(
            f"{', '.join(bad_pub)}: run 'srbench-eval weights fetch NAME@pub' (--mirror DIR), or put the "
            f"files in {w.published_dir()}/<path> or in a mirror as <mirror>/weights/<path>"
        )
    if hints:
        raise SrbenchError(f"{len(bad) + len(bad_pub)} weights file(s) not usable: " + "; ".join(hints))
