import pytest

from tests.training.conftest import tiny_config
from training.config import load_config
from training.model import build_model, describe_model, is_moe_config, lora_config


@pytest.mark.parametrize(("model_type", "experts_attr"), [
    ("qwen3_moe", "num_experts"), ("olmoe", "num_experts"), ("mixtral", "num_local_experts")])
def test_generic_moe_options_map_onto_each_family(tiny_tokenizer, tiny_tokenizer_dir, model_type, experts_attr):
    cfg = load_config(tiny_config(tiny_tokenizer_dir, model_type))
    model = build_model(cfg.model, tiny_tokenizer, seed=0)
    config = model.config
    assert is_moe_config(config) and getattr(config, experts_attr) == 4 and config.num_experts_per_tok == 2
    assert config.router_aux_loss_coef == 0.01 and config.output_router_logits is True
    assert config.vocab_size == len(tiny_tokenizer) and config.pad_token_id == tiny_tokenizer.pad_token_id
    info = describe_model(model)
    # top-2 of 4 experts: half of the expert weights are active per token
    expert = sum(p.numel() for n, p in model.named_parameters() if ".experts." in n)
    assert expert > 0 and info["n_active_params"] == info["n_params"] - expert // 2
    assert info["moe"] == {"num_experts": 4, "top_k": 2, "router_aux_loss_coef": 0.01, "output_router_logits": True}


def test_dense_model_and_seeded_init(tiny_tokenizer, tiny_tokenizer_dir):
    cfg = load_config(tiny_config(tiny_tokenizer_dir, "llama"))
    a, b = (build_model(cfg.model, tiny_tokenizer, seed=3) for _ in range(2))
    c = build_model(cfg.model, tiny_tokenizer, seed=4)
    assert not is_moe_config(a.config) and describe_model(a)["n_active_params"] == describe_model(a)["n_params"]
    wa, wb, wc = (m.model.embed_tokens.weight for m in (a, b, c))
    assert wa.equal(wb) and not wa.equal(wc)


def test_lora_config_from_the_section(tiny_tokenizer_dir):
    raw = tiny_config(tiny_tokenizer_dir, "llama")
    raw["model"]["lora"] = {"r": 4, "alpha": 8, "target_modules": ["q_proj", "v_proj"], "merge": True}
    lora = lora_config(load_config(raw).model)
    assert (lora.r, lora.lora_alpha, sorted(lora.target_modules)) == (4, 8, ["q_proj", "v_proj"])
    assert lora_config(load_config(tiny_config(tiny_tokenizer_dir, "llama")).model) is None


def test_lora_fine_tune_of_a_local_checkpoint(tiny_tokenizer_dir, text_mixture, tmp_path):
    from transformers import AutoModelForCausalLM

    from training import run_training

    base = tmp_path / "base"
    run_training(tiny_config(tiny_tokenizer_dir, "llama"), data=text_mixture, output=base, max_steps=1)
    cfg = tiny_config(tiny_tokenizer_dir, "llama")
    cfg["model"] = {"from_pretrained": str(base), "lora": {"r": 4, "alpha": 8, "dropout": 0.0}}
    manifest = run_training(cfg, data=text_mixture, output=tmp_path / "lora", max_steps=4)
    assert (tmp_path / "lora" / "adapter_config.json").is_file() and manifest["final_loss"] < manifest["first_loss"]
    tuned = AutoModelForCausalLM.from_pretrained(str(tmp_path / "lora"))  # base + adapter via peft
    assert any("lora_A" in name for name, _ in tuned.named_parameters())

    cfg["model"]["lora"]["merge"] = True
    run_training(cfg, data=text_mixture, output=tmp_path / "merged", max_steps=2)
    merged = AutoModelForCausalLM.from_pretrained(str(tmp_path / "merged"))
    assert not (tmp_path / "merged" / "adapter_config.json").exists()
    assert not any("lora" in name for name, _ in merged.named_parameters())


def test_lora_on_a_random_init_must_merge(tiny_tokenizer_dir):
    import pytest

    from tracemix.errors import RecipeError

    raw = tiny_config(tiny_tokenizer_dir, "llama")
    raw["model"]["lora"] = {"r": 4}
    with pytest.raises(RecipeError, match="set `lora.merge: true`"):
        load_config(raw)
