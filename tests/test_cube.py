"""CUBE-style `cultural_t2i` tasks: bundled prompts, image features, bring-your-own images, evaluator, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from samplebench import SampleBenchError
from samplebench.registry import ModelSpec, TaskRegistry, TaskSpec
from samplebench.tasks import evaluator_for
from samplebench.tasks.cultural_t2i import ImageFeatureEmbedder, image_features

BUILTIN = Path(__file__).resolve().parents[1] / "samplebench" / "registry" / "builtin"
K = 4


# ----------------------------------------------------------------------------- image makers


def solid(rgb: tuple[int, int, int], size: int = 32) -> np.ndarray:
    return np.broadcast_to(np.array(rgb, dtype=np.uint8), (size, size, 3)).copy()


def pattern(rng: np.random.Generator, size: int = 32) -> np.ndarray:
    """One of stripes / checkers / rings / blobs / gradient, in random colours and scales."""
    yy, xx = np.mgrid[0:size, 0:size] / size
    kind = rng.integers(5)
    freq = rng.uniform(2, 8)
    if kind == 0:
        ang = rng.uniform(0, np.pi)
        m = np.sin(2 * np.pi * freq * (xx * np.cos(ang) + yy * np.sin(ang))) > 0
    elif kind == 1:
        m = (np.floor(xx * freq) + np.floor(yy * freq)) % 2 == 0
    elif kind == 2:
        cx, cy = rng.uniform(0.2, 0.8, 2)
        m = np.sin(2 * np.pi * freq * np.hypot(xx - cx, yy - cy)) > 0
    elif kind == 3:
        m = rng.random((size, size)) > 0.5
    else:
        m = xx + rng.uniform(-0.5, 0.5) * yy > 0.5
    a, b = rng.integers(0, 256, (2, 3))
    return np.where(m[..., None], a, b).astype(np.uint8)


def write_generations(root: Path, prompt_ids: list[str], kind: str, k: int = K, seed: int = 0,
                      ratings: float | None = None) -> Path:
    """A bring-your-own folder: `<id>/<j>.png` (solid: one colour for every image; varied: patterns)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    rows = []
    for pid in prompt_ids:
        (root / pid).mkdir(exist_ok=True)
        for j in range(k):
            arr = solid((200, 40, 40)) if kind == "solid" else pattern(rng)
            Image.fromarray(arr).save(root / pid / f"{j}.png")
            if ratings is not None:
                rows.append(f"{pid},{pid}/{j}.png,{ratings}")
    if ratings is not None:
        (root / "ratings.csv").write_text("prompt_id,file_name,awareness\n" + "\n".join(rows) + "\n")
    return root


def bytes_to_unicode() -> dict[int, str]:
    """The byte -> printable character table of byte-level BPE vocabularies (GPT-2/CLIP style)."""
    keep = set(range(33, 127)) | set(range(161, 173)) | set(range(174, 256))
    out, extra = {}, 0
    for b in range(256):
        if b in keep:
            out[b] = chr(b)
        else:
            out[b] = chr(256 + extra)
            extra += 1
    return out


def write_byte_level_vocab(root: Path) -> dict[str, int]:
    """A CLIP tokenizer vocabulary with no merges (every character is a token), for tiny test models."""
    chars = list(bytes_to_unicode().values())
    vocab = {c: i for i, c in enumerate(chars)}
    vocab.update({c + "</w>": len(chars) + i for i, c in enumerate(chars)})
    vocab.update({"<|startoftext|>": len(vocab), "<|endoftext|>": len(vocab) + 1})
    (root / "vocab.json").write_text(json.dumps(vocab))
    (root / "merges.txt").write_text("#version: 0.2\n")
    return vocab


def images_model(path: Path, name: str, **args):
    from samplebench.runners.adapters.images import ImageFolderAdapter

    return ImageFolderAdapter(ModelSpec(name=name, adapter="images", args={"path": str(path), **args}),
                              path=str(path), **args)


def _task(name: str) -> TaskSpec:
    return TaskRegistry(Path("/nonexistent-user-dir")).get(name)


def _prompt_ids(spec: TaskSpec) -> list[str]:
    ev = evaluator_for(spec)
    data = ev.load()
    return data.ids


# ------------------------------------------------------------------------------- bundled data


def test_bundled_cube_1k_matches_source(shared_data):
    src = json.loads((shared_data / "cube" / "CUBE_1K.json").read_text(encoding="utf-8"))
    rows = [json.loads(line) for line in (BUILTIN / "data" / "cube-1k" / "cube_1k.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == len(src) == 1002
    for i, (r, s) in enumerate(zip(rows, src, strict=True)):
        assert r["id"] == f"cube1k-{i:04d}"
        assert (r["prompt"], r["concept"], r["domain"], r["country"]) == (s["prompt"], s["name"], s["domain"], s["country"])
    assert {r["region"] for r in rows} == {"Asia", "Europe", "Americas", "Africa"}


def test_builtin_cube_tasks_load():
    one_k = _task("cube-1k")
    ev = evaluator_for(one_k)
    data = ev.load()
    assert len(ev.sample_ids(data)) == 1002 and not data.groups
    div = _task("cube-diversity")
    ev = evaluator_for(div)
    data = ev.load()
    ids = ev.sample_ids(data)
    assert len(ids) == 60 and all(i.startswith("div:") for i in ids)
    assert all(len(rows) == 2 for rows in data.groups.values())  # two phrasings per group
    assert "div:cuisine|Brazil|Americas" in ids and "div:cuisine|Africa" in ids
    assert one_k.license == "CC-BY-NC-SA-4.0"


# ------------------------------------------------------------------------------ image features


def test_image_features_deterministic_and_discriminative():
    rng = np.random.default_rng(1)
    a = pattern(rng)
    f1, f2 = image_features(a), image_features(a.copy())
    assert f1.shape == (256,) and np.array_equal(f1, f2)
    assert abs(np.linalg.norm(image_features(solid((10, 200, 30)))) - 1 / np.sqrt(3)) < 1e-12
    emb = ImageFeatureEmbedder().embed_images([solid((200, 40, 40))] * 4)
    from samplebench import vendi_score

    assert abs(vendi_score(X=emb, normalize=True) - 1.0) < 1e-9
    varied = ImageFeatureEmbedder().embed_images([pattern(rng) for _ in range(8)])
    assert vendi_score(X=varied, normalize=True) > 3.0
    # inputs: PIL, float arrays in [0, 1], CHW, grey
    from PIL import Image

    assert np.allclose(image_features(Image.fromarray(a)), f1)
    assert np.allclose(image_features(a.astype(float) / 255), f1, atol=1e-6)
    assert np.allclose(image_features(np.moveaxis(a, -1, 0)), f1)
    assert image_features(a[..., 0]).shape == (256,)
    with pytest.raises(SampleBenchError, match="image"):
        image_features(np.zeros((0, 3)))


# --------------------------------------------------------------------- bring-your-own adapter


def test_image_folder_layouts(tmp_path):
    from PIL import Image

    img = Image.fromarray(solid((1, 2, 3)))
    flat = tmp_path / "flat"
    flat.mkdir()
    for name in ["p1.png", "p2_0.png", "p2_1.png", "p2_10.png", "p2_2.png", "notes.txt"]:
        (flat / name).write_bytes(b"x") if name.endswith(".txt") else img.save(flat / name)
    m = images_model(flat, "flat")
    assert [f.name for f in m.files_for("p2")] == ["p2_0.png", "p2_1.png", "p2_2.png", "p2_10.png"]
    assert [len(x) for x in m.generate_images(["a", "b", "c"], k=3, prompt_ids=["p1", "p2", "p3"])] == [1, 3, 0]
    ds = tmp_path / "ds"
    (ds / "imgs").mkdir(parents=True)
    for j in range(3):
        img.save(ds / "imgs" / f"{j}.jpg")
    (ds / "metadata.jsonl").write_text("".join(json.dumps({"file_name": f"imgs/{j}.jpg", "prompt_id": "q" if j < 2 else "r"}) + "\n" for j in range(3)))
    m2 = images_model(ds, "ds")
    assert [len(x) for x in m2.generate_images(["a", "b"], k=4, prompt_ids=["q", "r"])] == [2, 1]
    assert m2.revision.startswith("files-") and m2.revision != m.revision
    assert not m2.has_ratings


def test_image_folder_ratings_and_errors(tmp_path):
    d = write_generations(tmp_path / "g", ["a", "b"], "solid", k=2)
    (d / "ratings.csv").write_text("prompt_id,file_name,rating\na,a/0.png,5\na,a/1.png,1\nb,,4\n")
    m = images_model(d, "g", ratings_range=[1, 5])
    assert m.has_ratings
    assert m.image_ratings(["a", "b", "zzz"], k=2) == [[1.0, 0.0], [0.75, 0.75], []]
    (d / "ratings.csv").write_text("prompt_id,file_name,rating\na,a/0.png,7\n")
    with pytest.raises(SampleBenchError, match="outside ratings_range"):
        images_model(d, "g", ratings_range=[1, 5])
    (d / "ratings.csv").write_text("prompt_id,oops\na,1\n")
    with pytest.raises(SampleBenchError, match="awareness"):
        images_model(d, "g")
    with pytest.raises(SampleBenchError, match="not a folder"):
        images_model(tmp_path / "missing", "x")
    from samplebench.runners.adapters.images import ImageFolderAdapter

    with pytest.raises(SampleBenchError, match="unknown argument"):
        ImageFolderAdapter(ModelSpec(name="x", adapter="images"), path=str(d), colour="red")
    with pytest.raises(SampleBenchError, match="prompt id"):
        ImageFolderAdapter(ModelSpec(name="x", adapter="images"), path=str(tmp_path / "g" / "a")).generate_images(["p"], k=1)


# -------------------------------------------------------------------------------- evaluator


def _run(spec: TaskSpec, model, sample_ids=None) -> dict[tuple[str, str], object]:
    ev = evaluator_for(spec)
    data = ev.load()
    return {(r.sample_id, r.metric): r for r in ev.evaluate(model, data, sample_ids)}


def test_diversity_ranks_varied_above_solid(tmp_path):
    spec = _task("cube-diversity")
    ids = _prompt_ids(spec)
    solid_m = images_model(write_generations(tmp_path / "solid", ids, "solid", ratings=0.9), "solid")
    varied_m = images_model(write_generations(tmp_path / "varied", ids, "varied", ratings=0.5), "varied")
    a, b = _run(spec, solid_m), _run(spec, varied_m)
    groups = [s for s, m in a if m == "diversity"]
    assert len(groups) == 60 and set(a) == set(b)
    for g in groups:
        assert a[(g, "diversity")].value == pytest.approx(1.0, abs=1e-9)  # 8 identical images
        assert b[(g, "diversity")].value > 3.0
        assert a[(g, "quality_weighted_diversity")].value == pytest.approx(0.9)
        assert b[(g, "quality_weighted_diversity")].value == pytest.approx(0.5 * b[(g, "diversity")].value)
        assert b[(g, "diversity")].prediction == "n_images=8"


def test_awareness_from_ratings_and_missing_images(tmp_path):
    spec = _task("cube-1k")
    ids = _prompt_ids(spec)[:6]
    d = write_generations(tmp_path / "g", ids[:5], "varied", k=K)
    lines = ["prompt_id,file_name,awareness"] + [f"{pid},{pid}/{j}.png,{(j + i) % 5 + 1}" for i, pid in enumerate(ids[:5]) for j in range(K)]
    (d / "ratings.csv").write_text("\n".join(lines) + "\n")
    model = images_model(d, "g", ratings_range=[1, 5])
    res = _run(spec, model, ids)
    for i, pid in enumerate(ids[:5]):
        expected = np.mean([((j + i) % 5) / 4 for j in range(K)])
        assert res[(pid, "awareness")].value == pytest.approx(expected)
    missing = res[(ids[5], "awareness")]
    assert missing.value is None and "no images" in missing.error


def test_no_scorer_gives_error_rows_not_values(tmp_path):
    spec = _task("cube-diversity")
    ids = _prompt_ids(spec)
    d = write_generations(tmp_path / "g", ids, "varied")
    res = _run(spec, images_model(d, "g"), ["div:cuisine|Brazil|Americas"])
    assert res[("div:cuisine|Brazil|Americas", "diversity")].value > 1
    qwd = res[("div:cuisine|Brazil|Americas", "quality_weighted_diversity")]
    assert qwd.value is None and "ratings.csv" in qwd.error


def test_group_with_too_few_images_is_an_error(tmp_path):
    spec = _task("cube-diversity")
    ids = _prompt_ids(spec)
    d = write_generations(tmp_path / "g", ids, "varied", k=3)
    res = _run(spec, images_model(d, "g"), ["div:cuisine|France|Europe"])
    r = res[("div:cuisine|France|Europe", "diversity")]
    assert r.value is None and "k=4" in r.error


def _spec(**options) -> TaskSpec:
    data = {
        "name": "cube-tiny", "version": "1", "description": "x", "type": "cultural_t2i",
        "dataset": {"path": str(BUILTIN / "data" / "cube-diversity"), "data_files": {"test": "cube_diversity.jsonl"}},
        "columns": {"prompt": "prompt", "id": "id", "concept": "concept", "country": "country"},
        "metrics": [{"name": "diversity", "kind": "set", "higher_is_better": True}], "main_metric": "diversity",
        "options": {"awareness": False, "diversity_group_by": ["concept"], **options},
    }
    return TaskSpec.model_validate(data)


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        ({"k": 0}, "k"),
        ({"k": "four"}, "k"),
        ({"diversity_group_by": ["colour"]}, "diversity_group_by"),
        ({"diversity_group_by": ["region"]}, "not bound"),
        ({"diversity_group_by": None}, "nothing to measure"),
        ({"q": -2}, "q"),
        ({"embedder": "resnet"}, "embedder"),
        ({"scorer": "gpt"}, "scorer"),
        ({"colour": 1}, "colour"),
    ],
)
def test_bad_options_are_refused(options, needle):
    with pytest.raises(SampleBenchError, match=needle):
        evaluator_for(_spec(**options))


def test_group_by_concept_orders_and_fraction(tmp_path):
    spec = _spec(k=2, q=2, diversity_fraction=True)
    ev = evaluator_for(spec)
    data = ev.load()
    assert sorted(data.groups) == sorted(f"div:{c}" for c in ["cuisine", "landmarks", "landscapes", "clothing", "performance"])
    d = write_generations(tmp_path / "g", data.ids, "varied", k=2)
    res = {r.sample_id: r for r in ev.evaluate(images_model(d, "g"), data, ["div:cuisine"])}
    n = len(data.groups["div:cuisine"]) * 2
    assert 1 / n <= res["div:cuisine"].value <= 1.0


def test_not_an_image_generator():
    ev = evaluator_for(_task("cube-diversity"))
    with pytest.raises(SampleBenchError, match="image generator"):
        list(ev.evaluate(object(), ev.load(), ["div:cuisine|Africa"]))


def test_generator_failure_becomes_error_rows():
    class Broken:
        def generate_images(self, prompts, *, k=1, prompt_ids=None):
            raise RuntimeError("CUDA out of memory")

    ev = evaluator_for(_task("cube-diversity"))
    res = list(ev.evaluate(Broken(), ev.load(), ["div:cuisine|Africa"]))
    assert {r.metric for r in res} == {"diversity", "quality_weighted_diversity"}
    assert all(r.value is None and "out of memory" in r.error for r in res)


# ------------------------------------------------------------------- end to end, from the CLI


def _diversity_prompt_ids() -> list[str]:
    ev = evaluator_for(TaskRegistry().get("cube-diversity"))
    return ev.load().ids


def _register_images_model(home, name: str, folder) -> None:
    models = home / "models"
    models.mkdir(parents=True, exist_ok=True)
    spec = {"name": name, "adapter": "images", "args": {"path": str(folder), "ratings_range": [1, 5]},
            "description": "generations made by the test"}
    (models / f"{name}.yaml").write_text(yaml.safe_dump(spec))


def test_cli_ranks_varied_generator_above_homogeneous(bench, home, tmp_path):
    pytest.importorskip("samplebench.runners.runner", reason="the runner (`bench evaluate`) is not in this checkout")
    ids = _diversity_prompt_ids()
    # the homogeneous generator paints every image the same solid colour, and its raters like it more
    write_generations(tmp_path / "solid", ids, "solid", ratings=5)
    write_generations(tmp_path / "varied", ids, "varied", ratings=3)
    _register_images_model(home, "gen-solid", tmp_path / "solid")
    _register_images_model(home, "gen-varied", tmp_path / "varied")

    for name in ("gen-solid", "gen-varied"):
        res = bench("evaluate", name, "--tasks", "cube-diversity", "--quiet")
        assert res.exit_code == 0, res.output
        assert "cube-diversity" in res.output

    # a rerun finds every (model, task, sample) cell and builds no model
    again = bench("evaluate", "gen-varied", "--tasks", "cube-diversity", "--quiet")
    assert again.exit_code == 0 and "nothing to compute" in again.output

    for method in ("plackett-luce", "mean"):
        out = bench("aggregate", "--tasks", "cube-diversity", "--metrics", "diversity", "--method", method, "--json")
        assert out.exit_code == 0, out.output
        ranking = json.loads(out.output)
        order = [m["model"] for m in sorted(ranking["models"], key=lambda m: m["rank"])]
        assert order == ["gen-varied", "gen-solid"], (method, ranking)

    # the store holds one value per group and metric for each model, with the metric metadata
    from samplebench.results import ResultStore

    store = ResultStore(home / "store")
    t = store.scan(tasks=["cube-diversity"], columns=["model", "sample_id", "metric", "value", "error"]).to_pylist()
    assert len(t) == 2 * 60 * 2 and all(r["error"] is None for r in t)
    info = store.metric_info()["cube-diversity"]
    assert info["diversity"].higher_is_better and info["diversity"].kind == "set" and info["diversity"].main
    qwd = {r["model"]: r["value"] for r in t if r["metric"] == "quality_weighted_diversity" and r["sample_id"] == "div:cuisine|Africa"}
    assert qwd["gen-solid"] == pytest.approx(1.0)  # quality 1.0 x one distinct image
    assert qwd["gen-varied"] > qwd["gen-solid"]


def test_cli_missing_folder_is_a_clear_error(bench, home, tmp_path):
    pytest.importorskip("samplebench.runners.runner", reason="the runner (`bench evaluate`) is not in this checkout")
    _register_images_model(home, "gen-gone", tmp_path / "does-not-exist")
    res = bench("evaluate", "gen-gone", "--tasks", "cube-diversity", "--quiet")
    assert res.exit_code == 2
    assert "not a folder" in res.output


# ------------------------------------------------------------------ CUBE's label (geo-tag) kernel


def _label_spec(**options) -> TaskSpec:
    data = _spec(**options).model_dump(mode="json", exclude_defaults=True)
    data["columns"]["region"] = "region"
    data["options"]["diversity_group_by"] = ["concept", "country", "region"]
    data["metrics"].append({"name": "quality_weighted_diversity", "kind": "set", "higher_is_better": True})
    return TaskSpec.model_validate(data)


def test_label_kernel_matches_cube_reference(tmp_path, shared_data):
    """8 images of one group geo-tagged Asia x5, Europe x2, Africa x1; CUBE's global similarity
    (same continent) gives the reference package's Vendi score, and VS / 8 with diversity_fraction."""
    ref = json.loads((shared_data / "reference" / "vendi_reference_values.json").read_text())
    group = "div:cuisine|Africa"
    continents = ["Asia"] * 5 + ["Europe"] * 2 + ["Africa"]
    countries = ["Japan", "India", "India", "Turkey", "Japan", "France", "Italy", "Nigeria"]
    for fraction, key in [(False, "cube_style_8labels_continent_sim_VS"), (True, "cube_style_8labels_continent_sim_VS_over_8")]:
        ev = evaluator_for(_label_spec(embedder="labels", label_weights={"continent": 1, "country": 0},
                                       diversity_fraction=fraction))
        data = ev.load()
        pids = [data.ids[i] for i in data.groups[group]]
        d = write_generations(tmp_path / f"g{fraction}", pids, "solid", k=K, ratings=1.0)
        lines = ["prompt_id,file_name,continent,country,artifact"] + [
            f"{pid},{pid}/{j}.png,{continents[i * K + j]},{countries[i * K + j]},dish {i * K + j}"
            for i, pid in enumerate(pids) for j in range(K)]
        (d / "labels.csv").write_text("\n".join(lines) + "\n")
        res = {(r.sample_id, r.metric): r for r in ev.evaluate(images_model(d, "g"), data, [group])}
        assert abs(res[(group, "diversity")].value - ref[key]) < 1e-9
        assert abs(res[(group, "quality_weighted_diversity")].value - ref[key]) < 1e-9  # quality 1
    # country tags with half weight: same country 1, same continent only 0.5
    ev = evaluator_for(_label_spec(embedder="labels", label_weights={"continent": 1, "country": 1}))
    res = {(r.sample_id, r.metric): r for r in ev.evaluate(images_model(d, "g"), data, [group])}
    from samplebench import vendi_score

    Kc = np.array([[(a == b) + (c == e) for b, e in zip(continents, countries, strict=True)]
                   for a, c in zip(continents, countries, strict=True)]) / 2
    assert abs(res[(group, "diversity")].value - vendi_score(K=Kc)) < 1e-12
    assert res[(group, "diversity")].value > ref["cube_style_8labels_continent_sim_VS"]


def test_label_kernel_errors(tmp_path):
    for bad in (None, {}, {"continent": -1}, {"continent": 0}, {"continent": "high"}):
        with pytest.raises(SampleBenchError, match="label_weights"):
            evaluator_for(_label_spec(embedder="labels", label_weights=bad))
    with pytest.raises(SampleBenchError, match="only used with embedder: labels"):
        evaluator_for(_label_spec(label_weights={"continent": 1}))
    ev = evaluator_for(_label_spec(embedder="labels", label_weights={"continent": 1}))
    data = ev.load()
    group = "div:cuisine|Africa"
    pids = [data.ids[i] for i in data.groups[group]]
    d = write_generations(tmp_path / "g", pids, "solid", k=K)
    res = {(r.sample_id, r.metric): r for r in ev.evaluate(images_model(d, "g"), data, [group])}
    assert "labels.csv" in res[(group, "diversity")].error
    (d / "labels.csv").write_text(f"prompt_id,file_name,continent\n{pids[0]},{pids[0]}/0.png,Asia\n")
    res = {(r.sample_id, r.metric): r for r in ev.evaluate(images_model(d, "g"), data, [group])}
    assert "missing labels" in res[(group, "diversity")].error


def test_expected_metrics_per_sample_kind():
    ev = evaluator_for(_label_spec())
    assert ev.expected_metrics("div:cuisine|Africa") == ["diversity", "quality_weighted_diversity"]
    assert ev.expected_metrics("cubediv-cuisine-brazil-0") == []  # awareness is not declared in this spec
    assert evaluator_for(_task("cube-1k")).expected_metrics("cube1k-0000") == ["awareness"]


def test_prompt_ids_may_not_look_like_groups(tmp_path):
    rows = [{"id": "div:x", "prompt": "a", "concept": "c"}, {"id": "p2", "prompt": "b", "concept": "c"}]
    (tmp_path / "d.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    data = _spec().model_dump(mode="json", exclude_defaults=True)
    data["dataset"] = {"path": str(tmp_path / "d.jsonl")}
    data["columns"] = {"prompt": "prompt", "id": "id", "concept": "concept"}
    ev = evaluator_for(TaskSpec.model_validate(data))
    with pytest.raises(SampleBenchError, match="names diversity groups"):
        ev.load()


def test_saved_dataset_of_generations(tmp_path):
    import datasets
    from PIL import Image

    rng = np.random.default_rng(4)
    pids = ["a", "a", "b", "a"]
    arrays = [pattern(rng) for _ in pids]
    ds = datasets.Dataset.from_dict({"prompt_id": pids, "picture": [Image.fromarray(a) for a in arrays]})
    ds = ds.cast_column("picture", datasets.Image())
    ds.save_to_disk(str(tmp_path / "gens"))
    (tmp_path / "gens" / "ratings.csv").write_text("prompt_id,file_name,awareness\na,row-3,0.2\na,,0.6\nb,,1\n")
    with pytest.raises(SampleBenchError, match="image_column"):
        images_model(tmp_path / "gens", "ds")
    m = images_model(tmp_path / "gens", "ds", image_column="picture")
    out = m.generate_images(["x", "y"], k=4, prompt_ids=["a", "b"])
    assert [len(x) for x in out] == [3, 1]
    assert np.array_equal(np.asarray(out[0][2]), arrays[3])  # row order within a prompt
    assert m.image_ratings(["a", "b"], k=4) == [[0.6, 0.6, 0.2], [1.0]]
    assert m.revision.startswith("files-")
