import importlib.util

import pytest

from eval.backends import get_backend
from tracemix.errors import RecipeError, TracemixError


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vllm is installed here")
def test_vllm_missing_is_a_clear_error():
    with pytest.raises(TracemixError, match="needs vLLM and a CUDA GPU.*--backend hf"):
        get_backend("vllm", "some/model")


def test_unknown_backend_suggests_the_closest():
    with pytest.raises(RecipeError, match="Did you mean 'vllm'"):
        get_backend("vlm", "m")
