"""BM25 over the cards' texts (bm25s), the lexical side of `--retrieval hybrid`.

Hybrid scoring adds `weight * bm25 / max(bm25)` to the dense cosine of every card the dense
search returned (a candidate pool of `max(4k, 100)`), so exact rare terms (a library name, a
person) can lift a card without letting word overlap alone pull in unrelated ones.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _tokens(texts: list[str]):
    import bm25s

    return bm25s.tokenize(texts, stopwords="en", show_progress=False)


class LexicalIndex:
    def __init__(self, retriever) -> None:
        self.retriever = retriever

    @classmethod
    def build(cls, texts: list[str]) -> LexicalIndex:
        import bm25s

        retriever = bm25s.BM25()
        retriever.index(_tokens(texts), show_progress=False)
        return cls(retriever)

    def save(self, folder: Path) -> None:
        self.retriever.save(str(folder / "bm25"))

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        import bm25s

        return cls(bm25s.BM25.load(str(folder / "bm25")))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every card for `query` (zeros when no query word is in the pool)."""
        import bm25s

        words = bm25s.tokenization.tokenize([query], stopwords="en", return_ids=False, show_progress=False)[0]
        vocab = self.retriever.vocab_dict
        words = [w for w in words if w in vocab]
        if not words:
            return np.zeros(self.retriever.scores["num_docs"], np.float32)
        return np.asarray(self.retriever.get_scores(words), np.float32)
