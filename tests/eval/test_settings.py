import importlib.util

import pytest

from eval.settings import Backend, EvalSettings, Extractor, PerplexitySettings
from tracemix.errors import RecipeError


def test_backend_kwargs_follow_the_backend():
    assert EvalSettings(tasks="symbolic", chat_template="off", device="cpu").backend_kwargs() == {
        "chat_template": False, "device": "cpu"}
    openai = EvalSettings(tasks="symbolic", backend="openai", base_url="http://h/v1", cache=False, retries=1)
    assert openai.backend_kwargs() == {"base_url": "http://h/v1", "api_key_env": "OPENAI_API_KEY",
                                       "concurrency": 8, "max_retries": 1, "cache_dir": None}
    assert (openai.backend, EvalSettings(tasks="x").extractor) == (Backend.OPENAI, Extractor.RULES)


def test_check_resolves_tasks_and_names_the_key():
    EvalSettings(tasks="symbolic").check()
    with pytest.raises(RecipeError, match=r"^s\.yaml: eval\.tasks: unknown task or suite 'coin_flp'\. Did you mean "
                                          r"'coin_flip'"):
        EvalSettings(tasks=["coin_flp"]).check("s.yaml: eval.")


def test_check_knows_what_the_backend_needs(monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(RecipeError, match=r"^base_url: no endpoint is set, so requests would go to api\.openai\.com"):
        EvalSettings(tasks="symbolic", backend="openai").check()
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    EvalSettings(tasks="symbolic", backend="openai").check()
    with pytest.raises(RecipeError, match=r"^model_revision: a shared cache needs"):
        EvalSettings(tasks="symbolic", backend="openai", base_url="http://h/v1", shared_cache="c").check()
    if importlib.util.find_spec("vllm") is None:
        with pytest.raises(RecipeError, match=r"^backend: vllm is not installed here"):
            EvalSettings(tasks="symbolic", backend="vllm").check()


def test_perplexity_check_names_missing_folders(tmp_path):
    with pytest.raises(RecipeError, match=r"^perplexity\.data: probe data folder '.*nope' does not exist"):
        PerplexitySettings(data=str(tmp_path / "nope")).check("perplexity.")
    (tmp_path / "t").mkdir()
    with pytest.raises(RecipeError, match=r"^data: no \*\.parquet or \*\.jsonl shards"):
        PerplexitySettings(data=str(tmp_path / "t")).check()


def test_code_tasks_need_isolation_before_any_model_runs(monkeypatch):
    import eval.sandbox

    monkeypatch.setattr(eval.sandbox, "isolation_problem", lambda: "bubblewrap (`bwrap`) is not installed")
    with pytest.raises(RecipeError, match=r"^s\.yaml: eval\.tasks: .*bubblewrap \(`bwrap`\) is not installed"):
        EvalSettings(tasks="humaneval").check("s.yaml: eval.")
    EvalSettings(tasks="humaneval", unsafe_exec=True).check()
    EvalSettings(tasks="symbolic").check()  # no code task, no sandbox needed
