"""A micro BLIP-2 recipe over the tiny random parts and a micro SynthVL-web corpus."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from instructvl.blip2_pretrain import Blip2Recipe


@pytest.fixture(scope="session")
def web_corpus(tmp_path_factory) -> Path:
    """40 SynthVL-web items (avoiding a micro held-in suite)."""
    from instructvl.data.synthvl.generate import Scale, generate_suite
    from instructvl.data.synthvl.web_corpus import write_web

    suite = tmp_path_factory.mktemp("suite")
    generate_suite(suite, Scale(train=4, val=2, test=2), seed=3, names=["coco-cap"])
    root = tmp_path_factory.mktemp("web")
    write_web(root, 40, 0, suite)
    return root


@pytest.fixture(scope="session")
def micro_recipe(tiny_parts) -> Blip2Recipe:
    """Tiny tower, tiny BERT Q-Former (4 queries), tiny Llama (inject at layer 2), 2 + 2 steps."""
    return replace(
        Blip2Recipe(),
        size="micro",
        tower=tiny_parts["clip"],
        qformer_init=tiny_parts["bert"],
        num_queries=4,
        embed_dim=16,
        llm_source=tiny_parts["llama"],
        inject_layer=2,
        stage1_steps=2,
        stage1_batch=6,
        stage2_steps=2,
        stage2_batch=4,
        warmup=1,
        eval_images=8,
    )


@pytest.fixture(autouse=True)
def own_cache(monkeypatch, tmp_path):
    """Every test gets its own instructvl cache (feature cache, built artefacts)."""
    monkeypatch.setenv("INSTRUCTVL_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="session")
def built(micro_recipe, web_corpus, tmp_path_factory):
    """(folder, report) of one micro `pretrain_blip2` run."""
    from instructvl.blip2_pretrain import pretrain_blip2

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("INSTRUCTVL_CACHE", str(tmp_path_factory.mktemp("cache")))
        out = tmp_path_factory.mktemp("blip2") / "micro"
        report = pretrain_blip2(out, micro_recipe, data_root=web_corpus, show_progress=False, threads=1)
    return out, report
