"""The one importer driver: an importer declares what it reads, the driver does the rest.

An `Importer` declares its format name, the file suffixes it reads, the options it accepts (with
their defaults), which of them change what is written (`identity`), the most bytes one input
file of its format may plausibly have, and a `read` function. The driver, for every format:

1. refuses options the importer does not declare, and `--pairwise` where it does not apply;
2. walks PATH (a file or a folder; hidden entries skipped) for files with those suffixes and
   refuses any that is not a regular file (a device, a FIFO, a symlink to `/dev/zero`) or is
   larger than the format's limit, naming the file and the limit;
3. builds the model-name table (`org__name` -> `org/name`, then the aliases);
4. computes the import's identity: sha256 over the sorted relative file names and their bytes,
   salted with the format, the identity options and the alias table;
5. calls `read(ctx)` for `(kind, table)` pairs (a list or a generator that streams chunks);
   the store's writer applies its one rule for values that are not finite numbers to every
   table (NaN, +inf, -inf become rows with value null and an error naming the value);
6. stages and publishes the tables atomically (`run_import`: all or nothing, nothing when the
   same identity was imported before) and returns the summary, with the reader's notes, skips
   (reason -> count), details and metric metadata;
7. writes the sample cards a reader yields as `("cards", table)` pairs (formats whose source
   says what each sample is: `cards=True`), see `CardTap`: once every measurement table has
   been read and staged, before the measurements are published. So a source that fails to
   read writes neither; a kill leaves at worst cards whose measurements are not yet published
   (the next import of the source publishes them); measurements are never visible without
   their cards. Cards are idempotent by content, and are written also when the measurements
   were imported before (by a version that wrote no cards), so importing again completes them.

A reader gets an `ImportContext` and fills its `info` (metric metadata), `skips`, `notes`,
`details` and `meta`; it raises `SampleBenchError` naming the file for anything malformed.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from ...errors import SampleBenchError
from ..cards import CardStore
from ..store import ResultStore
from ._common import MetricInfos, Skips, content_hash, run_import
from .aliases import ModelNames
from .summary import ImportSummary

MiB = 1 << 20
GiB = 1 << 30


def human_bytes(n: int) -> str:
    for unit, size in (("GiB", GiB), ("MiB", MiB), ("KiB", 1024)):
        if n >= size:
            return f"{n / size:g} {unit}"
    return f"{n} bytes"


@dataclass
class ImportContext:
    """What a reader works with: the files, the options, the names, and the summary it fills."""

    root: Path
    files: list[Path]
    options: dict[str, Any]
    names: ModelNames
    kind: str = "measurements"
    aliases_given: bool = False
    info: MetricInfos = field(default_factory=MetricInfos)
    skips: Skips = field(default_factory=Skips)
    notes: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    after: list[Callable[[ImportSummary], None]] = field(default_factory=list)

    def option(self, name: str):
        return self.options[name]


Reader = Callable[[ImportContext], Iterable[tuple[str, pa.Table]]]


@dataclass(frozen=True)
class Importer:
    """One import format: its name, what files it reads, its options and its reader.

    `options` maps each option the format accepts to its default; `identity` names those that
    change what the import writes (they salt the content hash, so importing the same files with
    another value is not mistaken for a repeat). `max_bytes` is the largest input file of this
    format the importer accepts. `select(root, files)` may narrow or extend the walked files
    (e.g. add the results file beside a single samples file). `pairwise`: the format accepts
    `--pairwise`. `cards`: the reader also yields `("cards", table)` pairs (sample cards, in
    `cards.CARD_SCHEMA`), written as step 7 of the module docstring says. `cards_first`: its first
    pair is `("cards", table)` with all its cards (if it has any), so an import of content imported
    before reads only that far to complete the cards (the MTEB repository: not 104,642 files'
    scores again).
    """

    name: str
    suffixes: tuple[str, ...]
    read: Reader
    help: str
    options: Mapping[str, Any] = field(default_factory=dict)
    identity: tuple[str, ...] = ()
    max_bytes: int = 2 * GiB
    none_found: str = ""
    select: Callable[[Path, list[Path]], list[Path]] | None = None
    pairwise: bool = False
    cards: bool = False
    cards_first: bool = False
    publish: Callable[[ResultStore, ImportContext, Iterable[tuple[str, pa.Table]]], ImportSummary] | None = None

    def __call__(self, store: ResultStore, path: str | Path, *, aliases=None, kind: str = "measurements",
                 **options) -> ImportSummary:
        return run(self, store, Path(path), aliases=aliases, kind=kind, **options)


def refuse_options(unknown: Iterable[str], fmt: str) -> None:
    """A format option the importer does not know is a user error, not something to ignore."""
    unknown = sorted(unknown)
    if unknown:
        raise SampleBenchError(
            f"format '{fmt}' has no option(s) {', '.join(unknown)}",
            hint="see `bench importers list` and the importer's docstring for its options",
        )


def check_input_file(path: Path, max_bytes: int, fmt: str) -> None:
    """Refuse what cannot be a plausible input of `fmt`: not a regular file, or larger than `max_bytes`.

    The check follows symlinks (a link to `/dev/zero` is a character device) and reads only the
    file's metadata, so a sparse 1 GB file is refused before a byte of it is read.
    """
    try:
        st = os.stat(path)
    except OSError as exc:
        raise SampleBenchError(f"{path}: cannot read ({exc.strerror}); nothing was imported") from None
    if not stat.S_ISREG(st.st_mode):
        raise SampleBenchError(
            f"{path}: not a regular file (a device, pipe or socket, or a link to one); nothing was imported",
            hint=f"format '{fmt}' reads regular files only",
        )
    if st.st_size > max_bytes:
        raise SampleBenchError(
            f"{path}: {human_bytes(st.st_size)} is larger than format '{fmt}' accepts for one file "
            f"({human_bytes(max_bytes)}); nothing was imported",
            hint="a file this large is not a plausible result file of this format; check the path",
        )


def walk_files(root: Path, suffixes: tuple[str, ...]) -> list[Path]:
    """Files under `root` (or `root` itself) ending in one of `suffixes`, hidden entries skipped."""
    root = Path(root)
    if not root.exists():
        raise SampleBenchError(f"{root}: no such file or directory")
    if not root.is_dir():
        return [root]
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        out.extend(Path(dirpath, f) for f in sorted(filenames) if f.endswith(suffixes) and not f.startswith("."))
    return out


class CardTap:
    """Passes a reader's measurement/pairwise tables on and keeps its `("cards", table)` pairs;
    when the reader is exhausted (every measurement table read and staged, nothing published
    yet) it writes the cards to the store's card store, as one shard (`CardStore.write`)."""

    def __init__(self, store: ResultStore, tables: Iterable[tuple[str, pa.Table]], *, cards_first: bool = False) -> None:
        self.store = store
        self.tables = iter(tables)
        self.cards_first = cards_first
        self.cards: list[pa.Table] = []
        self.counts = {"written": 0, "unchanged": 0}
        self.done = False

    def __iter__(self):
        for kind, table in self.tables:
            if kind == "cards":
                self.cards.append(table)
            else:
                yield kind, table
        if not self.done:
            self.done = True
            if self.cards:
                self.counts = CardStore(self.store).write(pa.concat_tables(self.cards))

    def finish(self) -> None:
        """Read whatever the import did not (it stops early when the content was imported before);
        with `cards_first`, only the reader's first pair, its cards."""
        if self.cards_first and not self.done:
            self.done = True
            first = next(self.tables, None)
            if first is not None and first[0] == "cards":
                self.counts = CardStore(self.store).write(pa.concat_tables([*self.cards, first[1]]))
            return
        for _ in self:
            pass


def run(importer: Importer, store: ResultStore, root: Path, *, aliases=None, kind: str = "measurements",
        **options) -> ImportSummary:
    """Import `root` with `importer`: the steps in the module docstring."""
    refuse_options(set(options) - set(importer.options), importer.name)
    if kind not in ("measurements", "pairwise"):
        raise SampleBenchError(f"unknown table kind '{kind}'; use measurements or pairwise")
    if kind == "pairwise" and not importer.pairwise:
        raise SampleBenchError(f"--pairwise does not apply to format '{importer.name}'; its files hold measurements",
                               hint="--pairwise applies to the canonical formats and onebench")
    opts = {**importer.options, **options}
    files = walk_files(root, importer.suffixes)
    if importer.select is not None:
        files = importer.select(root, files)
    if not files:
        raise SampleBenchError(f"{root}: {importer.none_found or 'no ' + '/'.join(importer.suffixes) + ' files found'}")
    for f in files:
        check_input_file(f, importer.max_bytes, importer.name)
    names = ModelNames(aliases)
    ctx = ImportContext(root=root, files=files, options=opts, names=names, kind=kind,
                        aliases_given=aliases is not None)
    if importer.publish is not None:
        return importer.publish(store, ctx, importer.read(ctx))
    salt = ":".join([importer.name, *(str(opts[k]) for k in importer.identity),
                     json.dumps(sorted(names.table.items()))])
    source_hash = content_hash(files, root if root.is_dir() else root.parent, salt=salt)
    tables = importer.read(ctx)
    tap = CardTap(store, tables, cards_first=importer.cards_first) if importer.cards else None
    summary = run_import(store, tap if tap is not None else tables, source=str(root), source_hash=source_hash,
                         fmt=importer.name, metric_info=ctx.info, skips=ctx.skips, notes=ctx.notes, meta=ctx.meta,
                         streamed=not isinstance(tables, list | tuple))
    if tap is not None:
        tap.finish()  # measurements imported before: the source's cards are still written (idempotent)
        summary.cards, summary.cards_unchanged = tap.counts["written"], tap.counts["unchanged"]
    if not summary.already_imported:
        summary.details.update(ctx.details)
        for hook in ctx.after:
            hook(summary)
    return summary


__all__ = ["CardTap", "GiB", "ImportContext", "Importer", "MiB", "check_input_file", "refuse_options", "run", "walk_files"]
