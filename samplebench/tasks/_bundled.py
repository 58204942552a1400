"""Generator of the small bundled tasks (run once; its output is committed under registry/builtin/data).

Every text is built from hand-written templates and word lists with a fixed seed, so the data is
the project's own, realistic enough for embeddings to separate, and reproducible::

    python -m samplebench.tasks._bundled        # rewrites samplebench/registry/builtin/data/bundled-*

Tasks (one per embedding task type): topic classification, paraphrase pair classification,
graded STS, FAQ retrieval, FAQ reranking and headline clustering.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parents[1] / "registry" / "builtin" / "data"
SEED = 20261128

# -- topical vocabulary ------------------------------------------------------------------------
TOPICS: dict[str, dict[str, list[str]]] = {
    "sports": {
        "subj": ["the home team", "the striker", "the veteran goalkeeper", "the coach", "the sprinter",
                 "the tennis champion", "the rookie quarterback", "the cycling squad", "the captain"],
        "verb": ["won", "lost", "scored in", "dominated", "struggled in", "was injured during", "celebrated"],
        "obj": ["the championship final", "a tense derby", "the league opener", "the playoff game",
                "the marathon", "the semi-final", "an overtime thriller", "the season finale"],
        "tail": ["in front of a sold-out stadium", "after a late penalty", "despite heavy rain",
                 "with a record crowd watching", "to extend their winning streak", "on Sunday night"],
    },
    "business": {
        "subj": ["the retailer", "the central bank", "shareholders", "the startup", "the airline",
                 "the chief executive", "the automaker", "investors", "the supermarket chain"],
        "verb": ["reported", "announced", "cut", "raised", "warned about", "posted", "forecast"],
        "obj": ["quarterly profits", "interest rates", "a merger deal", "job cuts", "record revenue",
                "lower sales", "a share buyback", "its annual earnings"],
        "tail": ["as inflation eased", "amid weak consumer demand", "ahead of the holiday season",
                 "sending its stock higher", "according to a regulatory filing", "in a surprise move"],
    },
    "technology": {
        "subj": ["the chipmaker", "the software company", "researchers", "the smartphone maker",
                 "developers", "the cloud provider", "the open-source project", "engineers"],
        "verb": ["released", "unveiled", "patched", "launched", "delayed", "open-sourced", "tested"],
        "obj": ["a new processor", "a security update", "its latest operating system", "a language model",
                "a faster database", "an encrypted messaging app", "a battery breakthrough"],
        "tail": ["at its developer conference", "after a data breach", "to compete with rivals",
                 "for laptops and phones", "following months of beta testing", "for enterprise customers"],
    },
    "health": {
        "subj": ["doctors", "the health ministry", "a new study", "nurses", "the hospital",
                 "scientists", "public health officials", "the clinic"],
        "verb": ["recommended", "warned about", "linked", "approved", "studied", "reported", "expanded"],
        "obj": ["a flu vaccine", "daily exercise", "sleep quality", "a cancer treatment", "childhood obesity",
                "heart disease risk", "mental health services", "a measles outbreak"],
        "tail": ["in older adults", "during the winter season", "across rural areas",
                 "after a clinical trial", "to reduce hospital visits", "for pregnant women"],
    },
    "weather": {
        "subj": ["forecasters", "a powerful storm", "the heatwave", "heavy snow", "coastal towns",
                 "the national weather service", "strong winds", "flooding"],
        "verb": ["hit", "threatened", "disrupted", "swept across", "battered", "is expected to reach", "closed"],
        "obj": ["the northern coast", "major highways", "the capital", "mountain villages", "the river valley",
                "several airports", "farmland in the south"],
        "tail": ["over the weekend", "with temperatures dropping below freezing", "causing power outages",
                 "as residents were told to evacuate", "for the third day in a row", "overnight"],
    },
    "travel": {
        "subj": ["tourists", "the budget airline", "the national park", "cruise passengers", "hotels",
                 "backpackers", "the tourism board", "travel agents"],
        "verb": ["flocked to", "reopened", "promoted", "cancelled trips to", "booked", "rediscovered", "reviewed"],
        "obj": ["the old town", "island resorts", "hiking trails", "the historic castle", "beach hotels",
                "ski resorts", "the wine region"],
        "tail": ["during the summer holidays", "after new visa rules", "as prices fell",
                 "for the long weekend", "despite higher fares", "in record numbers"],
    },
    "science": {
        "subj": ["astronomers", "the space agency", "biologists", "physicists", "a research team",
                 "the telescope", "climate scientists", "geologists"],
        "verb": ["discovered", "observed", "measured", "mapped", "confirmed", "photographed", "modelled"],
        "obj": ["a distant exoplanet", "ancient fossils", "gravitational waves", "a new species of frog",
                "melting glaciers", "the ocean floor", "a comet"],
        "tail": ["for the first time", "using new instruments", "in a paper published this week",
                 "after years of observation", "with unprecedented precision", "near the equator"],
    },
    "politics": {
        "subj": ["the prime minister", "lawmakers", "the opposition party", "the senate", "voters",
                 "the mayor", "the president", "the coalition government"],
        "verb": ["debated", "passed", "rejected", "campaigned on", "proposed", "vetoed", "criticised"],
        "obj": ["a new budget", "the immigration bill", "tax reform", "a climate law", "election rules",
                "the healthcare plan", "a trade agreement"],
        "tail": ["after a heated session", "ahead of the election", "by a narrow margin",
                 "amid street protests", "in a late-night vote", "following a public consultation"],
    },
}


def _headline(rng: random.Random, topic: str) -> str:
    v = TOPICS[topic]
    s = f"{rng.choice(v['subj'])} {rng.choice(v['verb'])} {rng.choice(v['obj'])} {rng.choice(v['tail'])}"
    return s[0].upper() + s[1:] + "."


def _write_csv(path: Path, rows: list[dict], fields: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")


def _unique_headlines(rng: random.Random, topic: str, n: int, seen: set[str]) -> list[str]:
    out: list[str] = []
    while len(out) < n:
        h = _headline(rng, topic)
        if h not in seen:
            seen.add(h)
            out.append(h)
    return out


# -- classification: news topic --------------------------------------------------------------
def news_topics(rng: random.Random) -> None:
    seen: set[str] = set()
    topics = ["sports", "business", "technology", "health", "weather", "travel"]
    for split, per_topic in (("train", 40), ("test", 50)):
        rows = []
        for t in topics:
            rows += [{"text": h, "label": t} for h in _unique_headlines(rng, t, per_topic, seen)]
        rng.shuffle(rows)
        for i, r in enumerate(rows):
            r["id"] = f"{split}-{i:04d}"
        _write_csv(DATA_DIR / "bundled-news-topics" / f"{split}.csv", rows, ["id", "text", "label"])


# -- clustering: headlines of eight topics ---------------------------------------------------
def headline_clusters(rng: random.Random) -> None:
    seen: set[str] = set()
    rows = []
    for t in TOPICS:
        rows += [{"text": h, "label": t} for h in _unique_headlines(rng, t, 45, seen)]
    rng.shuffle(rows)
    for i, r in enumerate(rows):
        r["id"] = f"h{i:04d}"
    _write_csv(DATA_DIR / "bundled-headline-clustering" / "test.csv", rows, ["id", "text", "label"])


# -- STS and paraphrase: controlled edits of event sentences ---------------------------------
PEOPLE = ["my neighbour", "the teacher", "a young doctor", "the old fisherman", "my sister", "the new manager",
          "a local farmer", "the bus driver", "our landlord", "the librarian", "a tourist", "the chef"]
ACTIONS = [
    ("bought a new car", "purchased a new vehicle", "sold her old car"),
    ("fixed the broken fence", "repaired the damaged fence", "painted the garden fence"),
    ("cooked dinner for the family", "prepared the evening meal for everyone", "ordered pizza for the family"),
    ("walked the dog in the park", "took the dog for a stroll in the park", "washed the dog in the garden"),
    ("read a novel on the train", "was reading a book during the train ride", "lost a novel on the train"),
    ("planted tomatoes in the garden", "grew tomatoes in the backyard", "picked apples in the garden"),
    ("missed the morning bus", "did not catch the early bus", "took the morning bus"),
    ("painted the kitchen walls", "gave the kitchen walls a fresh coat of paint", "cleaned the kitchen walls"),
    ("won the chess tournament", "came first in the chess competition", "watched the chess tournament"),
    ("baked bread for the market", "made loaves of bread to sell at the market", "bought bread at the market"),
    ("called the plumber about the leak", "phoned a plumber because of the leak", "ignored the leak for weeks"),
    ("learned to play the guitar", "taught himself the guitar", "sold the old guitar"),
    ("visited the museum on Friday", "went to the museum on Friday", "closed the museum on Friday"),
    ("moved to a smaller apartment", "relocated to a smaller flat", "renovated a large apartment"),
    ("lost the house keys", "could not find the keys to the house", "copied the house keys"),
]
WHEN = ["yesterday", "last week", "this morning", "on Saturday", "after work", "in the afternoon", "last night"]
WHEN_SYN = {"yesterday": "the day before", "last week": "a week ago", "this morning": "earlier today",
            "on Saturday": "on the weekend", "after work": "once work was over",
            "in the afternoon": "during the afternoon", "last night": "late yesterday evening"}
UNRELATED = ["The stock market closed higher on Tuesday.", "Heavy rain is expected along the coast.",
             "The museum will host a photography exhibition.", "Scientists found water ice on the moon.",
             "The city council approved a new bike lane.", "Ticket prices for the concert have doubled.",
             "A rare bird was spotted near the lake.", "The bakery on Main Street is closing down.",
             "The train to the airport was delayed by an hour.", "Volunteers cleaned up the river bank."]


def _cap(s: str) -> str:
    return s[0].upper() + s[1:]


def _sts_pair(rng: random.Random) -> tuple[str, str, float]:
    who, (act, act_syn, act_other), when = rng.choice(PEOPLE), rng.choice(ACTIONS), rng.choice(WHEN)
    base = _cap(f"{who} {act} {when}.")
    level = rng.randrange(6)
    other_who = rng.choice([p for p in PEOPLE if p != who])
    other_when = rng.choice([w for w in WHEN if w != when])
    if level == 5:
        s2, score = _cap(f"{who} {act_syn} {WHEN_SYN[when]}."), 5.0
    elif level == 4:
        s2, score = _cap(f"{who} {act_syn} {when}."), 4.2
    elif level == 3:
        s2, score = _cap(f"{who} {act} {other_when}."), 3.4
    elif level == 2:
        s2, score = _cap(f"{other_who} {act} {other_when}."), 2.4
    elif level == 1:
        s2, score = _cap(f"{who} {act_other} {when}."), 1.4
    else:
        s2, score = rng.choice(UNRELATED), 0.2
    score = round(min(5.0, max(0.0, score + rng.uniform(-0.3, 0.3))), 2)
    return base, s2, score


def sts(rng: random.Random) -> None:
    rows, seen = [], set()
    while len(rows) < 300:
        a, b, s = _sts_pair(rng)
        if (a, b) in seen:
            continue
        seen.add((a, b))
        rows.append({"id": f"p{len(rows):04d}", "sentence1": a, "sentence2": b, "score": s})
    _write_csv(DATA_DIR / "bundled-sts" / "test.csv", rows, ["id", "sentence1", "sentence2", "score"])


def paraphrase(rng: random.Random) -> None:
    rows, seen = [], set()
    while len(rows) < 400:
        who, (act, act_syn, act_other), when = rng.choice(PEOPLE), rng.choice(ACTIONS), rng.choice(WHEN)
        a = _cap(f"{who} {act} {when}.")
        if rng.random() < 0.5:
            b = _cap(f"{when} {who} {act_syn}.") if rng.random() < 0.5 else _cap(f"{who} {act_syn} {WHEN_SYN[when]}.")
            label = 1
        else:
            b = _cap(f"{who} {act_other} {when}.") if rng.random() < 0.6 else _cap(
                f"{rng.choice([p for p in PEOPLE if p != who])} {act_syn} {when}.")
            label = 0
        if (a, b) in seen:
            continue
        seen.add((a, b))
        rows.append({"id": f"q{len(rows):04d}", "sentence1": a, "sentence2": b, "label": label})
    _write_csv(DATA_DIR / "bundled-paraphrase" / "test.csv", rows, ["id", "sentence1", "sentence2", "label"])


# -- FAQ retrieval and reranking -------------------------------------------------------------
PRODUCTS = ["the X200 router", "the Aurora e-bike", "the Breeze air purifier", "the Nova smartwatch",
            "the Orbit robot vacuum", "the Pulse headphones", "the Summit tent", "the Terra coffee grinder",
            "the Vega electric kettle", "the Zephyr desk fan", "the Atlas backpack", "the Lumen desk lamp"]
FAQ = [  # (question template, paraphrased query template, answer template)
    ("How do I reset {p} to factory settings?", "factory reset {p}",
     "To restore {p} to factory settings, hold the power button for ten seconds until the light blinks twice."),
    ("How long does the battery of {p} last?", "battery life of {p}",
     "A full charge of {p} lasts about twelve hours of normal use; heavy use shortens it to around eight."),
    ("Is {p} covered by a warranty?", "warranty period for {p}",
     "{P} comes with a two-year limited warranty covering manufacturing defects but not accidental damage."),
    ("How do I clean {p}?", "cleaning instructions {p}",
     "Wipe {p} with a soft damp cloth; never submerge it in water or use abrasive cleaners."),
    ("Where can I buy spare parts for {p}?", "replacement parts {p}",
     "Spare parts for {p} are sold in our online store and by authorised service centres."),
    ("Why is {p} making a strange noise?", "{p} noisy rattling sound",
     "A rattling noise from {p} usually means a loose part; tighten the screws on the base or contact support."),
    ("Can I use {p} abroad with a different voltage?", "{p} travel voltage adapter",
     "{P} supports 100 to 240 volts, so abroad you only need a plug adapter, not a voltage converter."),
    ("How do I update the firmware of {p}?", "firmware update {p}",
     "Open the companion app, select {p} and tap Update; keep it connected to power during the update."),
    ("What is the return policy for {p}?", "return {p} refund",
     "You can return {p} within thirty days of delivery for a full refund if it is in its original packaging."),
    ("How do I pair {p} with my phone?", "connect {p} to phone bluetooth",
     "Turn on Bluetooth on your phone, press the pairing button on {p} and select it from the device list."),
]


def faq(rng: random.Random) -> None:
    docs, queries, qrels = [], [], []
    doc_of: dict[tuple[int, int], str] = {}
    for pi, p in enumerate(PRODUCTS):
        for fi, (_, _, ans) in enumerate(FAQ):
            did = f"d{pi:02d}{fi:02d}"
            doc_of[(pi, fi)] = did
            docs.append({"_id": did, "title": f"{_cap(p.removeprefix('the '))} FAQ",
                         "text": ans.format(p=p, P=_cap(p))})
    pairs = [(pi, fi) for pi in range(len(PRODUCTS)) for fi in range(len(FAQ))]
    rng.shuffle(pairs)
    for pi, fi in pairs:  # every FAQ entry is asked twice: as a question and as a search-box query
        q, short, _ = FAQ[fi]
        p = PRODUCTS[pi]
        for text in (q.format(p=p), short.format(p=p)):
            qid = f"q{len(queries):03d}"
            queries.append({"_id": qid, "text": text})
            qrels.append({"query-id": qid, "corpus-id": doc_of[(pi, fi)], "score": 1})
    out = DATA_DIR / "bundled-faq-retrieval"
    _write_jsonl(out / "corpus.jsonl", docs)
    _write_jsonl(out / "queries.jsonl", queries)
    _write_jsonl(out / "qrels.jsonl", qrels)

    # Reranking: each query with its answer and hard negatives (same product, or same question type).
    rows = []
    for qi, (pi, fi) in enumerate(pairs):
        q, _, ans = FAQ[fi]
        p = PRODUCTS[pi]
        same_product = [FAQ[j][2].format(p=p, P=_cap(p)) for j in rng.sample([j for j in range(len(FAQ)) if j != fi], 4)]
        same_question = [ans.format(p=o, P=_cap(o)) for o in rng.sample([o for o in PRODUCTS if o != p], 4)]
        rows.append({"id": f"r{qi:03d}", "query": q.format(p=p), "positive": [ans.format(p=p, P=_cap(p))],
                     "negative": same_product + same_question})
    _write_jsonl(DATA_DIR / "bundled-faq-reranking" / "test.jsonl", rows)


# -- language-model tasks: arithmetic word problems ------------------------------------------
NAMES = ["Anna", "Ben", "Chloe", "David", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi", "Luca"]
ITEMS = ["apples", "books", "stickers", "marbles", "pencils", "cookies", "stamps", "shells"]


def _word_problem(rng: random.Random) -> tuple[str, int]:
    name, item = rng.choice(NAMES), rng.choice(ITEMS)
    a, b = rng.randint(2, 20), rng.randint(2, 15)
    kind = rng.randrange(4)
    if kind == 0:
        return f"{name} has {a} {item} and gets {b} more. How many {item} does {name} have now?", a + b
    if kind == 1:
        a = a + b
        return f"{name} had {a} {item} and gave away {b}. How many {item} are left?", a - b
    if kind == 2:
        a, b = rng.randint(2, 9), rng.randint(2, 9)
        return f"{name} buys {a} boxes with {b} {item} in each box. How many {item} is that in total?", a * b
    b = rng.randint(2, 6)
    a = b * rng.randint(2, 9)
    return f"{name} shares {a} {item} equally among {b} friends. How many {item} does each friend get?", a // b


def arithmetic(rng: random.Random) -> None:
    mc, qa, seen = [], [], set()
    while len(mc) < 200:
        q, ans = _word_problem(rng)
        if q in seen:
            continue
        seen.add(q)
        wrong = set()
        while len(wrong) < 3:
            w = ans + rng.choice([-3, -2, -1, 1, 2, 3, 10, -10])
            if w >= 0 and w != ans:
                wrong.add(w)
        choices = [str(v) for v in sorted([ans, *wrong])]
        mc.append({"id": f"mc{len(mc):03d}", "question": q, "choices": choices, "answer": choices.index(str(ans))})
    while len(qa) < 200:
        q, ans = _word_problem(rng)
        if q in seen:
            continue
        seen.add(q)
        qa.append({"id": f"qa{len(qa):03d}", "prompt": f"Question: {q}\nAnswer:", "reference": str(ans)})
    _write_jsonl(DATA_DIR / "bundled-arithmetic-mc" / "test.jsonl", mc)
    _write_jsonl(DATA_DIR / "bundled-arithmetic-qa" / "test.jsonl", qa)


def main() -> None:
    for fn in (news_topics, headline_clusters, sts, paraphrase, faq, arithmetic):
        fn(random.Random(f"{SEED}-{fn.__name__}"))
    print(f"wrote bundled data under {DATA_DIR}")


if __name__ == "__main__":
    main()
