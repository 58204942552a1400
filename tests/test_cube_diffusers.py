"""The diffusers adapter on a tiny Stable Diffusion pipeline built from config with random weights
(no download): seeded per (prompt id, image), batching-independent, saved folders round-trip
through the bring-your-own `images` adapter, and the cultural_t2i evaluator scores it."""

from __future__ import annotations

import numpy as np
import pytest
from test_cube import write_byte_level_vocab

from samplebench.registry import ModelSpec, TaskRegistry
from samplebench.tasks import evaluator_for

pytest.importorskip("diffusers", reason="diffusers is optional (pip install diffusers)")
torch = pytest.importorskip("torch")



@pytest.fixture(scope="module")
def tiny_pipeline(tmp_path_factory):
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    root = tmp_path_factory.mktemp("tiny-sd")
    vocab = write_byte_level_vocab(root)
    tokenizer = CLIPTokenizer(str(root / "vocab.json"), str(root / "merges.txt"), model_max_length=16)
    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(8, 16), layers_per_block=1, sample_size=8, in_channels=4, out_channels=4,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=16, norm_num_groups=4, attention_head_dim=2,
    )
    vae = AutoencoderKL(
        block_out_channels=(8, 16), in_channels=3, out_channels=3, down_block_types=["DownEncoderBlock2D"] * 2,
        up_block_types=["UpDecoderBlock2D"] * 2, latent_channels=4, norm_num_groups=4, sample_size=16,
    )
    text_encoder = CLIPTextModel(CLIPTextConfig(
        vocab_size=len(vocab), hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
        max_position_embeddings=16, bos_token_id=vocab["<|startoftext|>"], eos_token_id=vocab["<|endoftext|>"],
        pad_token_id=vocab["<|endoftext|>"],
    ))
    pipe = StableDiffusionPipeline(unet=unet, vae=vae, text_encoder=text_encoder, tokenizer=tokenizer,
                                   scheduler=DDIMScheduler(clip_sample=False), safety_checker=None, feature_extractor=None,
                                   requires_safety_checker=False)
    pipe.save_pretrained(root / "pipe")
    return root / "pipe"


def _adapter(path, **args):
    from samplebench.runners.adapters.diffusers_adapter import DiffusersAdapter

    # one denoising step, no classifier-free guidance: the adapter's contract, not image quality, is tested
    args = {"model": str(path), "num_inference_steps": 1, "guidance_scale": 1.0, "height": 16, "width": 16,
            "batch_size": 2, **args}
    return DiffusersAdapter(ModelSpec(name="tiny-sd", adapter="diffusers", args=args), **args)


def test_diffusers_adapter_seeded_and_batch_independent(tiny_pipeline, tmp_path):
    m = _adapter(tiny_pipeline, save_dir=str(tmp_path / "saved"))
    assert m.revision.startswith("local-")
    out = m.generate_images(["a dish", "a dance"], k=2, prompt_ids=["a", "b"])
    assert [len(x) for x in out] == [2, 2] and out[0][0].size == (16, 16)
    alone = m.generate_images(["a dance"], k=2, prompt_ids=["b"])[0]
    for x, y in zip(out[1], alone, strict=True):  # same seeds -> same images, batched or not
        assert np.abs(np.asarray(x, dtype=int) - np.asarray(y, dtype=int)).max() <= 2
    assert not np.array_equal(np.asarray(out[0][0]), np.asarray(out[0][1]))  # different seeds per image
    assert sorted(p.name for p in (tmp_path / "saved" / "a").iterdir()) == ["0.png", "1.png"]


def test_diffusers_generator_through_the_evaluator(tiny_pipeline, tmp_path):
    from samplebench.runners.adapters.images import ImageFolderAdapter

    spec = TaskRegistry().get("cube-diversity")
    ev = evaluator_for(spec)
    data = ev.load()
    groups = ["div:cuisine|Africa"]
    m = _adapter(tiny_pipeline, save_dir=str(tmp_path / "gens"), batch_size=4)
    live = {(r.sample_id, r.metric): r for r in ev.evaluate(m, data, groups)}
    for g in groups:
        assert 1.0 <= live[(g, "diversity")].value <= 8.0
        assert live[(g, "diversity")].prediction == "n_images=8"
    byo = ImageFolderAdapter(ModelSpec(name="gens", adapter="images"), path=str(tmp_path / "gens"))
    again = {(r.sample_id, r.metric): r for r in ev.evaluate(byo, data, groups)}
    for g in groups:  # PNG round trip is lossless: the saved folder scores the same
        assert again[(g, "diversity")].value == pytest.approx(live[(g, "diversity")].value, rel=1e-12)


def test_diffusers_bad_args(tmp_path):
    from samplebench import SampleBenchError
    from samplebench.runners.adapters.diffusers_adapter import DiffusersAdapter

    with pytest.raises(SampleBenchError, match="args.model"):
        DiffusersAdapter(ModelSpec(name="x", adapter="diffusers"))
    with pytest.raises(SampleBenchError, match="dtype"):
        DiffusersAdapter(ModelSpec(name="x", adapter="diffusers"), model=str(tmp_path), dtype="int8")
    with pytest.raises(SampleBenchError, match="cannot load diffusers pipeline"):
        _ = DiffusersAdapter(ModelSpec(name="x", adapter="diffusers"), model=str(tmp_path), local_files_only=True).pipeline
