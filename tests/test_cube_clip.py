"""CLIP as the awareness scorer and the diversity embedder of `cultural_t2i` (`clip:<model>`),
on a tiny CLIP built from config with random weights and a byte-level tokenizer (no download)."""

from __future__ import annotations

import numpy as np
import pytest
from test_cube import BUILTIN, write_byte_level_vocab, write_generations  # tests/ is on sys.path

from samplebench.registry import ModelSpec, TaskSpec
from samplebench.tasks import evaluator_for

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory):
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor, CLIPTokenizer

    root = tmp_path_factory.mktemp("tiny-clip")
    vocab = write_byte_level_vocab(root)
    tok = CLIPTokenizer(str(root / "vocab.json"), str(root / "merges.txt"), model_max_length=32)
    proc = CLIPProcessor(image_processor=CLIPImageProcessor(size={"shortest_edge": 32},
                                                            crop_size={"height": 32, "width": 32}), tokenizer=tok)
    torch.manual_seed(0)
    cfg = CLIPConfig(
        text_config={"vocab_size": len(vocab), "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1,
                     "num_attention_heads": 2, "max_position_embeddings": 32, "bos_token_id": vocab["<|startoftext|>"],
                     "eos_token_id": vocab["<|endoftext|>"], "pad_token_id": vocab["<|endoftext|>"]},
        vision_config={"hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2,
                       "image_size": 32, "patch_size": 8},
        projection_dim=8,
    )
    CLIPModel(cfg).save_pretrained(root / "clip")
    proc.save_pretrained(root / "clip")
    return root / "clip"


def _spec(clip_dir, **options) -> TaskSpec:
    return TaskSpec.model_validate({
        "name": "cube-clip", "version": "1", "description": "x", "type": "cultural_t2i",
        "dataset": {"path": str(BUILTIN / "data" / "cube-diversity"), "data_files": {"test": "cube_diversity.jsonl"}},
        "columns": {"prompt": "prompt", "id": "id", "concept": "concept", "country": "country", "region": "region"},
        "metrics": [{"name": "awareness", "kind": "continuous", "higher_is_better": True},
                    {"name": "diversity", "kind": "set", "higher_is_better": True},
                    {"name": "quality_weighted_diversity", "kind": "set", "higher_is_better": True}],
        "main_metric": "awareness",
        "options": {"k": 2, "awareness": True, "diversity_group_by": ["concept", "country", "region"], **options},
    })


def _images_model(path):
    from samplebench.runners.adapters.images import ImageFolderAdapter

    return ImageFolderAdapter(ModelSpec(name="g", adapter="images"), path=str(path))


def test_clip_scorer_and_embedder(tiny_clip, tmp_path):
    from samplebench import vendi_score
    from samplebench.runners.adapters.clip import ClipModel

    ev = evaluator_for(_spec(tiny_clip, scorer=f"clip:{tiny_clip}", embedder=f"clip:{tiny_clip}"))
    data = ev.load()
    group = "div:cuisine|Brazil|Americas"
    pids = [data.ids[i] for i in data.groups[group]]
    model = _images_model(write_generations(tmp_path / "g", pids, "varied", k=2))
    res = {(r.sample_id, r.metric): r.value for r in ev.evaluate(model, data, [*pids, group])}
    clip = ClipModel(str(tiny_clip))
    prompts = [data.prompts[i] for i in data.groups[group]]
    images = model.generate_images(prompts, k=2, prompt_ids=pids)
    scores = clip.score_images(prompts, images)  # long prompts are truncated to the 32-token context
    for pid, s in zip(pids, scores, strict=True):
        assert 0.0 <= res[(pid, "awareness")] <= 1.0
        assert res[(pid, "awareness")] == pytest.approx(np.mean(s), abs=1e-6)
    emb = clip.embed_images([im for ims in images for im in ims])
    assert res[(group, "diversity")] == pytest.approx(vendi_score(X=emb, normalize=True), rel=1e-6)
    assert res[(group, "quality_weighted_diversity")] == pytest.approx(np.mean(scores) * res[(group, "diversity")], rel=1e-6)


def test_scorer_from_environment(tiny_clip, tmp_path, monkeypatch):
    ev = evaluator_for(_spec(tiny_clip))  # scorer: auto, no ratings beside the images
    data = ev.load()
    pid = data.ids[0]
    model = _images_model(write_generations(tmp_path / "g", [pid], "solid", k=2))
    no_scorer = next(iter(ev.evaluate(model, data, [pid])))
    assert no_scorer.value is None and "SAMPLEBENCH_T2I_SCORER" in no_scorer.error
    monkeypatch.setenv("SAMPLEBENCH_T2I_SCORER", f"clip:{tiny_clip}")
    scored = next(iter(ev.evaluate(model, data, [pid])))
    assert scored.error is None and 0.0 <= scored.value <= 1.0


def test_clip_model_that_does_not_exist(tmp_path):
    from samplebench import SampleBenchError

    ev = evaluator_for(_spec(None, scorer=f"clip:{tmp_path / 'nope'}"))
    data = ev.load()
    model = _images_model(write_generations(tmp_path / "g", [data.ids[0]], "solid", k=2))
    with pytest.raises(SampleBenchError, match="cannot load CLIP model"):
        list(ev.evaluate(model, data, [data.ids[0]]))
