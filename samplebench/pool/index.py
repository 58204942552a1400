"""`bench pool index`: embed every sample card once and publish a searchable index of the pool.

Layout under the store root::

    pool/CURRENT                     the published index version (atomic pointer, JSON)
    pool/index/<version>/            cards.arrow (task, sample_id, text, metadata; Arrow IPC, memory-mapped), fields.parquet
                                     (metadata as list columns, for --where), vectors.faiss + mean.npy,
                                     bm25/, meta.json
    pool/index/<version>/ballots-<measurements fingerprint>/   card ballots + cached whole-pool rankings
    pool/capabilities/<name>.json    saved selections (see capabilities.py)

The version is a hash of the embedder (name and weights revision) and the cards' content (keys
and text hashes, in order), so the same cards and embedder always give the same version. A new
version is assembled in a hidden folder and published by renaming it, then `CURRENT` is replaced
atomically: a reader sees the old index or the new one, never half of one. Embeddings are cached
by text hash (`PoolEmbedder`), so re-indexing a grown pool encodes only the new texts.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .._atomic import fsync_dir, write_text_atomic
from ..errors import SampleBenchError
from ..results.cards import CardStore
from .embedder import DEFAULT_EMBEDDER, PoolEmbedder, numpy_source
from .lexical import LexicalIndex
from .vectors import VectorIndex


def store_root(store) -> Path:
    """The root folder of `store`: a ResultStore, or its path."""
    return Path(store) if isinstance(store, str | os.PathLike) else Path(store.root)


def pool_dir(store) -> Path:
    return store_root(store) / "pool"


def cards_version(cards: pa.Table, embedder_identity: str) -> str:
    h = hashlib.sha256(embedder_identity.encode())
    for col in ("task", "sample_id", "text_sha1"):
        for chunk in cards[col].chunks:
            h.update(col.encode())
            for buf in chunk.buffers():
                if buf is not None:
                    h.update(buf)
    return h.hexdigest()[:16]


CARD_COLUMNS = ("task", "sample_id", "text", "metadata")


def write_cards(cards: pa.Table, folder: Path) -> None:
    """The indexed cards as an uncompressed Arrow IPC file, `cards.arrow`, in index row order."""
    import pyarrow.ipc as ipc

    cards = cards.combine_chunks()
    with pa.OSFile(str(folder / "cards.arrow"), "wb") as sink, ipc.new_file(sink, cards.schema) as writer:
        writer.write_table(cards, max_chunksize=1 << 16)


def read_cards(folder: Path) -> pa.Table:
    """The cards of an index folder, memory-mapped: opening costs no read of the texts, and a query
    touches only the pages of the cards it returns. (Indexes written before cards.arrow existed
    hold cards.parquet, read whole.)"""
    import pyarrow.ipc as ipc

    path = folder / "cards.arrow"
    if path.exists():
        return ipc.open_file(pa.memory_map(str(path), "r")).read_all()
    return pq.ParquetFile(folder / "cards.parquet").read(columns=list(CARD_COLUMNS))


def metadata_fields(metadata: list[str]) -> pa.Table:
    """Card metadata JSON -> one list<string> column per field (a scalar is a one-item list)."""
    columns: dict[str, list] = {}
    n = len(metadata)
    for i, raw in enumerate(metadata):
        for key, value in json.loads(raw).items():
            col = columns.get(key)
            if col is None:
                col = columns[key] = [None] * n
            col[i] = [str(v) for v in value] if isinstance(value, list) else [str(value).lower() if isinstance(value, bool) else str(value)]
    return pa.table({k: pa.array(v, pa.list_(pa.string())) for k, v in sorted(columns.items())})


@dataclass
class IndexSummary:
    version: str
    embedder: str
    cards: int
    encoded: int
    exact: bool
    seconds: float
    unchanged: bool = False

    def lines(self) -> list[str]:
        if self.unchanged:
            return [f"pool index {self.version} is up to date ({self.cards:,} cards, embedder {self.embedder})"]
        kind = "exact" if self.exact else "approximate (IVF, SQ8)"
        return [f"indexed {self.cards:,} sample cards ({self.encoded:,} newly encoded) with {self.embedder} "
                f"in {self.seconds:.1f} s", f"  version {self.version}; vector search: {kind}; BM25 alongside"]


def build_index(store, embedder: str = DEFAULT_EMBEDDER, *, progress: bool = True, exact_limit: int | None = None,
                vectors: np.ndarray | None = None) -> IndexSummary:
    """Index every card of `store` with `embedder`; a no-op when the current index is up to date.

    `vectors` (tests and benchmarks only) supplies the card embeddings instead of encoding them.
    """
    t0 = time.perf_counter()
    cards = CardStore(store).read()
    if cards.num_rows == 0:
        raise SampleBenchError(f"store {store_root(store)} has no sample cards to index",
                               hint="import some with `bench results import --format samples FILE.jsonl` "
                                    "or run `bench evaluate`")
    enc = PoolEmbedder(embedder) if vectors is None else None
    identity = enc.identity if enc is not None else f"{embedder}@supplied"
    version = cards_version(cards, identity)
    root = pool_dir(store)
    current = read_current(store)
    if current is not None and current["version"] == version and (root / "index" / version).is_dir():
        return IndexSummary(version, identity, cards.num_rows, 0, current.get("exact", True), 0.0, unchanged=True)
    texts = cards["text"].to_pylist()
    encoded = len(texts)
    if vectors is None:
        before = len(enc.cache) if enc.cache is not None else 0
        bar = _bar(len(texts), f"embedding {len(texts):,} cards", progress)
        vectors = enc.encode(texts, progress=bar.update)
        bar.close()
        encoded = (len(enc.cache) - before) if enc.cache is not None else len(texts)
    if vectors.shape[0] != cards.num_rows:
        raise ValueError(f"{vectors.shape[0]} vectors for {cards.num_rows} cards")
    from .vectors import EXACT_LIMIT

    vindex = VectorIndex.build(vectors, exact_limit=exact_limit or EXACT_LIMIT)
    folder = root / "index" / version
    tmp = root / "index" / f".{version}.{os.getpid()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        write_cards(cards.select(list(CARD_COLUMNS)), tmp)
        pq.write_table(metadata_fields(cards["metadata"].to_pylist()), tmp / "fields.parquet")
        vindex.save(tmp)
        LexicalIndex.build(texts).save(tmp)
        meta = {"version": version, "embedder": embedder, "embedder_identity": identity, "cards": cards.num_rows,
                "dim": int(vectors.shape[1]), "exact": vindex.exact, "cards_fingerprint": CardStore(store).fingerprint(),
                "numpy_encoder": numpy_source(embedder)}
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        os.rename(tmp, folder)
        fsync_dir(folder.parent)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    write_text_atomic(root / "CURRENT", json.dumps(meta))
    for old in (root / "index").iterdir():  # superseded versions (capabilities keep their own sample lists)
        if old.name != version and not old.name.startswith("."):
            shutil.rmtree(old, ignore_errors=True)
    if store_has_measurements(store):  # the card ballots and the whole-pool ranking, so queries start warm
        from .query import Pool

        pool = Pool(store)
        if pool.ballots().evidence.n_samples:
            pool.global_ranking()
    return IndexSummary(version, identity, cards.num_rows, encoded, vindex.exact, time.perf_counter() - t0)


def store_has_measurements(store) -> bool:
    return hasattr(store, "shard_paths") and bool(store.shard_paths("measurements"))


def read_current(store) -> dict | None:
    try:
        return json.loads((pool_dir(store) / "CURRENT").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _bar(total: int, desc: str, show: bool):
    if not show:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="card", leave=False)
