"""Visual tokens at layer k: below k the prompt does not depend on the image, gradients
stop at layer k, and k = 0 is the input embeddings."""

import pytest
import torch

from instructvl.errors import InstructVLError
from tests.models.helpers import build, samples


def _hidden_states(model, batch):
    visual = model.visual_sequence(batch)
    with torch.no_grad(), model._injection(batch, visual):
        out = model.llm.model.base_model(
            **model._text_inputs(batch, visual), attention_mask=batch.attention_mask, output_hidden_states=True
        )
    return out.hidden_states


def test_layers_below_k_do_not_depend_on_the_image(tiny_parts, images):
    k = 2
    model = build(tiny_parts, "mlp", llm__inject_layer=k)
    collator = model.collator()
    one, other = samples(images)[0], samples(images)[0]
    other.images = [images[1]]
    h1 = _hidden_states(model, collator.train_batch([one]))
    h2 = _hidden_states(model, collator.train_batch([other]))
    for layer in range(k):  # hidden_states[i] is the input of layer i
        assert torch.equal(h1[layer], h2[layer])
    assert not torch.allclose(h1[k + 1], h2[k + 1])


def test_visual_tokens_enter_exactly_at_layer_k(tiny_parts, images):
    k = 2
    model = build(tiny_parts, "mlp", llm__inject_layer=k)
    batch = model.collator().train_batch(samples(images)[:1])
    visual = model.visual_sequence(batch)
    seen = {}

    def record(_module, args, kwargs):
        seen["h"] = (args[0] if args else kwargs["hidden_states"]).clone()

    with torch.no_grad(), model._injection(batch, visual):
        handle = model.llm.layers[k].register_forward_pre_hook(record, with_kwargs=True)  # runs after ours
        try:
            model.llm.model.base_model(input_ids=batch.input_ids, attention_mask=batch.attention_mask)
        finally:
            handle.remove()
    assert torch.allclose(seen["h"][batch.image_mask], visual[batch.image_mask])


@pytest.mark.parametrize("k", [0, 2])
def test_backward_pass_stops_at_the_injection_layer(tiny_parts, images, k):
    """With the LLM frozen, backpropagation runs through layers >= k only."""
    model = build(tiny_parts, "mlp", llm__inject_layer=k)
    from instructvl.config.schema import FreezePolicy
    from instructvl.models.freeze import apply_freeze_policy

    apply_freeze_policy(model, FreezePolicy())
    reached = set()
    handles = [
        layer.register_full_backward_hook(lambda m, gi, go, i=i: reached.add(i))
        for i, layer in enumerate(model.llm.layers)
    ]
    try:
        model(model.collator().train_batch(samples(images))).loss.backward()
    finally:
        for h in handles:
            h.remove()
    assert reached == set(range(k, len(model.llm.layers)))
    assert model.projector.net[0].weight.grad.abs().sum() > 0


def test_inject_layer_out_of_range_is_a_clear_error(tiny_parts):
    with pytest.raises(InstructVLError, match="inject_layer=9 but the model has 4 layers"):
        build(tiny_parts, "mlp", llm__inject_layer=9)
