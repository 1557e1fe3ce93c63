import pytest
import torch

from tests.eval.conftest import save_tiny_llama
from tracemix.checkpoint import load_checkpoint, load_model, resolve_device
from tracemix.errors import DataError, TracemixError


def test_a_checkpoint_loads_with_its_tokenizer_in_eval_mode(tmp_path, tiny_tokenizer_dir):
    folder = save_tiny_llama(tmp_path / "ckpt", tiny_tokenizer_dir)
    model, tok = load_checkpoint(folder, device="cpu", dtype="bfloat16", padding_side="left")
    assert not model.training and model.dtype == torch.bfloat16 and model.device.type == "cpu"
    assert tok.padding_side == "left" and len(tok) == model.config.vocab_size


def test_a_missing_model_folder_is_named_without_a_traceback(tmp_path):
    with pytest.raises(DataError, match=r"model path '.*/runs/nope' does not exist; pass a folder written by"):
        load_model(tmp_path / "runs" / "nope", device="cpu")
    with pytest.raises(DataError, match=r"'no-such-model' \(no such local folder, so it was tried as a hub "
                       r"id\): .*[^.]\. Pass a folder written by `tracemix train`"):
        load_model("no-such-model", device="cpu")
    with pytest.raises(DataError, match="no config.json"):
        load_model(tmp_path, device="cpu")


def test_bad_dtype_and_missing_cuda_are_clear(tmp_path, tiny_tokenizer_dir):
    folder = save_tiny_llama(tmp_path / "ckpt", tiny_tokenizer_dir)
    with pytest.raises(TracemixError, match="unknown dtype 'float31'"):
        load_model(folder, dtype="float31")
    if not torch.cuda.is_available():
        with pytest.raises(TracemixError, match="no CUDA device is visible; use --device cpu"):
            resolve_device("cuda")
