import pytest
import torch

from probes.discover import discover_routers
from probes.hooks import RouterHooks, parse_router_output
from tests.probes.conftest import FAMILY_CONFIGS, tiny_model
from tracemix.errors import TracemixError


@pytest.mark.parametrize("family", sorted(FAMILY_CONFIGS))
def test_each_family_is_hooked_on_a_forward(family):
    model = tiny_model(family)
    sites = discover_routers(model)
    ids = torch.randint(0, 512, (2, 5))
    with RouterHooks(sites) as hooks, torch.no_grad():
        model(input_ids=ids)
        indices, weights, logits = hooks.take(10, torch.device("cpu"))
    e = sites[0].num_experts
    assert indices.shape == (2, 10, 2) and weights.shape == (2, 10, 2) and logits.shape == (2, 10, e)
    assert indices.dtype == torch.int64 and int(indices.min()) >= 0 and int(indices.max()) < e
    # each token picks k distinct experts
    assert (indices[..., 0] != indices[..., 1]).all()
    assert all(not s.module._forward_hooks for s in sites)


def test_bias_corrected_deepseek_router_is_read_from_its_indices():
    model = tiny_model("deepseek_v3")
    sites = discover_routers(model)
    bias = torch.zeros(8)
    bias[[5, 6]] = 100.0  # the correction dominates the choice, not the sigmoid scores
    for s in sites:
        s.module.e_score_correction_bias.copy_(bias)
    ids = torch.randint(0, 512, (3, 7))
    with RouterHooks(sites) as hooks, torch.no_grad():
        model(input_ids=ids)
        indices, _, logits = hooks.take(21, torch.device("cpu"))
    chosen = indices.sort(-1).values
    assert (chosen == torch.tensor([5, 6])).all()
    naive = logits.topk(2, -1).indices.sort(-1).values  # what recomputing topk(logits) would report
    assert not (naive == torch.tensor([5, 6])).all()


def test_hooks_are_removed_after_an_exception():
    model = tiny_model("olmoe")
    sites = discover_routers(model)
    with pytest.raises(RuntimeError, match="boom"), RouterHooks(sites):
        assert all(len(s.module._forward_hooks) == 1 for s in sites)
        raise RuntimeError("boom")
    assert all(not s.module._forward_hooks for s in sites)
    with pytest.raises(IndexError), RouterHooks(sites), torch.no_grad():
        model(input_ids=torch.tensor([[10_000]]))  # out-of-vocabulary id fails inside the forward
    assert all(not s.module._forward_hooks for s in sites)


def test_router_without_indices_is_refused():
    model = tiny_model("mixtral")
    site = discover_routers(model)[0]
    with pytest.raises(TracemixError, match="returned no top-k expert indices"):
        parse_router_output(torch.randn(5, 4), site)


def test_token_count_mismatch_is_reported():
    model = tiny_model("mixtral")
    sites = discover_routers(model)
    with RouterHooks(sites) as hooks, torch.no_grad():
        model(input_ids=torch.randint(0, 512, (1, 4)))
        with pytest.raises(TracemixError, match="saw 4 tokens but the batch has 6"):
            hooks.take(6, torch.device("cpu"))
