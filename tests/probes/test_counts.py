import numpy as np
import torch

from probes.counts import RoutingCounts, load_counts


def _batch():
    """2 layers, batch of 2 rows x 3 positions, k = 2 of E = 4; row 1 has one padding position."""
    idx = torch.tensor([
        [[[0, 1], [0, 1], [1, 2]], [[2, 3], [3, 0], [3, 3]]],  # layer 0; [1, 2] is padding, its ids are junk
        [[[1, 0], [2, 3], [2, 3]], [[0, 1], [0, 2], [1, 1]]],  # layer 1
    ])  # [L, B, S, k]
    weights = torch.tensor([[0.9, 0.1]]).expand(2, 2, 3, 2)
    mask = torch.tensor([[1, 1, 1], [1, 1, 0]])
    return idx.reshape(2, 6, 2), weights.reshape(2, 6, 2), mask


def test_counts_per_layer_equal_tokens_times_k_and_padding_is_skipped():
    idx, w, mask = _batch()
    c = RoutingCounts([0, 1], ["pure_code", "general"], 4, 2, sample_tokens=0)
    c.update(idx, w, None, mask, torch.tensor([0, 1]))
    assert c.n_tokens.tolist() == [[3, 2], [3, 2]]
    assert c.selected.sum(-1).tolist() == [[6, 4], [6, 4]]  # tokens x k per (layer, domain)
    assert c.selected[0, 1].tolist() == [1, 0, 1, 2]  # the padding slot [3, 3] is not counted
    assert c.selected[0, 0].tolist() == [2, 3, 1, 0]
    # co-activation: pair (0, 1) in two code tokens of layer 0; diagonal is N(i)
    assert c.coact[0, 0, 0, 1] == 2 and c.coact[0, 0, 1, 0] == 2
    assert torch.equal(torch.diagonal(c.coact, dim1=-2, dim2=-1), c.selected)
    # consecutive repeats: code layer 0 pairs ({0,1},{0,1}) share, ({0,1},{1,2}) share -> 2 of 2
    assert c.repeat_pairs.tolist() == [[2, 1], [2, 1]]
    assert c.repeat_any.tolist() == [[2, 1], [1, 1]]
    # first choice is the higher weight (position 0 here): code layer 0: 0,0,1 -> one repeat;
    # code layer 1: 1,2,2 -> one; general layer 1: 0,0 -> one
    assert c.repeat_first.tolist() == [[1, 0], [1, 1]]


def test_soft_load_from_softmax_and_sigmoid_logits():
    idx, w, mask = _batch()
    logits = torch.zeros(2, 6, 4)
    c = RoutingCounts([0, 1], ["a", "b"], 4, 2, sample_tokens=0)
    c.update(idx, w, logits, mask, torch.tensor([0, 1]))
    assert torch.allclose(c.prob_sum[:, 0], torch.full((2, 4), 0.75, dtype=torch.float64))
    s = RoutingCounts([0, 1], ["a", "b"], 4, 2, sample_tokens=0)
    s.update(idx, w, logits, mask, torch.tensor([0, 1]), scoring="sigmoid")
    assert torch.allclose(s.prob_sum.sum(-1), s.n_tokens.double())  # normalised to a distribution


def test_memory_is_flat_and_sample_is_bounded(tmp_path):
    idx, w, mask = _batch()
    c = RoutingCounts([0, 1], ["a", "b"], 4, 2, sample_tokens=4)
    before = c.nbytes()
    ids = torch.arange(6).view(2, 3)
    for step in range(50):
        c.update(idx, w, None, mask, torch.tensor([0, 1]), input_ids=ids, doc_ids=[f"d{step}", f"e{step}"],
                 offsets=[0, 0])
    assert c.nbytes() == before
    s = c.samples()
    assert s["experts"].shape == (8, 2, 2)  # 4 tokens per domain, all layers, k
    assert s["domain"].tolist() == [0, 0, 0, 1, 1, 0, 1, 1]  # data order: batch 0 then batch 1
    assert s["doc"].tolist()[:3] == ["d0", "d0", "d0"] and s["position"].tolist()[:3] == [0, 1, 2]
    assert s["experts"][0].tolist() == [[0, 1], [0, 1]]  # sorted expert sets per layer
    c.save(tmp_path / "counts.npz")
    z = load_counts(tmp_path / "counts.npz")
    assert z["selected"].sum() == 50 * 20 and z["domains"].tolist() == ["a", "b"]


def test_merge_adds_shards():
    idx, w, mask = _batch()
    a = RoutingCounts([0, 1], ["a", "b"], 4, 2, sample_tokens=0)
    b = RoutingCounts([0, 1], ["a", "b"], 4, 2, sample_tokens=0)
    a.update(idx, w, None, mask, torch.tensor([0, 1]))
    b.update(idx, w, None, mask, torch.tensor([1, 0]))
    a.merge(b)
    assert np.array_equal(a.n_tokens.numpy(), [[5, 5], [5, 5]])
