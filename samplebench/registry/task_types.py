"""The closed vocabularies of the registry: task types, column roles, metric kinds.

`TASK_TYPES` maps each type to the column roles a spec must bind (`required`) and may bind
(`optional`). A spec's `columns` maps a role to a column of its dataset; roles outside a type's
vocabulary are refused, so a typo like `lable` fails when the spec is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

TaskType = Literal[
    "classification",
    "pair_classification",
    "sts",
    "retrieval",
    "reranking",
    "clustering",
    "multiple_choice",
    "generation",
    "safety_rating",
    "cultural_t2i",
    "pairwise_preference",
]

MetricKind = Literal["binary", "continuous", "ordinal", "pairwise", "set"]


@dataclass(frozen=True)
class TypeColumns:
    required: frozenset[str]
    optional: frozenset[str] = frozenset()

    @property
    def allowed(self) -> frozenset[str]:
        return self.required | self.optional


def _t(required: str, optional: str = "") -> TypeColumns:
    return TypeColumns(frozenset(required.split()), frozenset(optional.split()))


_ID = "id"
TASK_TYPES: dict[str, TypeColumns] = {
    "classification": _t("text label", _ID),
    "pair_classification": _t("text1 text2 label", _ID),
    "sts": _t("text1 text2 score", _ID),
    # Retrieval/reranking data come as queries + corpus + relevance judgements (MTEB/BEIR layout).
    "retrieval": _t(
        "query_id query doc_id document relevance_query_id relevance_doc_id",
        f"relevance title {_ID}",
    ),
    "reranking": _t("query positive negative", _ID),
    "clustering": _t("text label", _ID),
    "multiple_choice": _t("question choices answer", f"context {_ID}"),
    "generation": _t("prompt", f"reference {_ID}"),
    "safety_rating": _t(
        "item_id rater_id vote",
        "context response safety_gold degree_of_harm harm_type",
    ),
    "cultural_t2i": _t("prompt", f"concept country domain region {_ID}"),
    "pairwise_preference": _t("prompt model_a model_b winner", f"response_a response_b judge {_ID}"),
}
