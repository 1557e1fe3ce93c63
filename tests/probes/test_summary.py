import numpy as np

from probes.summary import routing_rows, summarise


def _state():
    sel = np.array([[[4, 4, 0, 0], [0, 0, 2, 2], [0, 0, 0, 0]]])  # L=1, D=3 (third unprobed), E=4
    n = np.array([[4, 2, 0]])
    coact = np.zeros((1, 3, 4, 4), dtype=np.int64)
    coact[0, 0, 0, 1] = coact[0, 0, 1, 0] = 4
    for d in range(3):
        coact[0, d][np.arange(4), np.arange(4)] = sel[0, d]
    z = np.zeros((1, 3), dtype=np.int64)
    return {"selected": sel, "prob_sum": sel / 2.0, "n_tokens": n, "coact": coact, "repeat_pairs": n - 1,
            "repeat_any": n - 1, "repeat_first": z}


def test_summary_skips_unprobed_domains_and_weights_by_tokens():
    m = summarise(_state(), [3], ["pure_code", "math_text", "general"], 4, 2)
    assert m["domains"] == ["pure_code", "math_text"] and m["layers"] == [3]
    assert m["n_tokens"] == {"pure_code": 4, "math_text": 2}
    layer = m["per_layer"][0]
    assert layer["jsd"]["pure_code"]["math_text"] == 1.0
    # I(D;E) with weights 2/3, 1/3 equals H(D)
    assert abs(layer["generalised_jsd"] - 0.918296) < 1e-6
    assert layer["top_coactivation"][0] == [0, 1, 1.0]
    by_domain = {row["domain"]: row["top_coactivation"] for row in m["per_layer_domain"]}
    assert by_domain["pure_code"][:2] == [[0, 1, 1.0], [1, 0, 1.0]] and by_domain["math_text"] == []
    assert m["baselines"]["repeat_random"] == 1 - 1 / 6


def test_routing_rows_long_format():
    rows = routing_rows("m", _state(), [3], ["pure_code", "math_text", "general"])
    assert len(rows["expert"]) == 12
    assert rows["domain"][:4] == ["pure_code"] * 4 and rows["n_tokens"][4] == 2 and rows["n_selected"][2] == 0


def test_unprobed_domain_does_not_create_contested_experts():
    state = _state()
    state["selected"] = np.array([[[4, 2, 1, 1], [4, 1, 2, 1], [0, 0, 0, 0]]])
    state["n_tokens"] = np.array([[4, 4, 0]])
    m = summarise(state, [0], ["pure_code", "math_text", "general"], 4, 2, lift_threshold=1.2)
    # with a zero row in the mean, expert 0 would have lift 1.5 for both probed domains
    assert m["per_layer"][0]["contested_experts"] == []
