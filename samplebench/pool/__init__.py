"""The sample pool: sample cards indexed for capability queries (ONEBench's open-ended evaluation).

    from samplebench.pool import build_index, Pool
    build_index(store)                                  # `bench pool index`
    result = Pool(store).query("multi-step arithmetic")  # `bench query TEXT`: samples, ranking, tau

Pieces: `embedder` (registered encoder + text-hash cache), `vectors` (faiss, exact or IVF),
`lexical` (BM25), `index` (build and publish), `ballots` (measurements of the cards),
`query` (search + ranking), `capabilities` (saved selections).
"""

from .capabilities import Capability, list_capabilities, load_capability, save_capability
from .index import IndexSummary, build_index
from .query import RETRIEVALS, Pool, QueryResult, SampleMatch

__all__ = ["RETRIEVALS", "Capability", "IndexSummary", "Pool", "QueryResult", "SampleMatch", "build_index",
           "list_capabilities", "load_capability", "save_capability"]
