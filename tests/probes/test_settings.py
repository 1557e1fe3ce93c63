import pytest

from probes.settings import Device, ProbeSettings
from tests.probes.conftest import write_tagged
from tracemix.config import load_config
from tracemix.errors import RecipeError


def test_defaults_are_the_librarys_and_shard_reads_i_of_n():
    settings = load_config({"shard": "1/4", "device": "cpu"}, ProbeSettings)
    assert (settings.seq_len, settings.max_tokens_per_domain, settings.shard, settings.device) == (
        512, 100_000, (1, 4), Device.CPU)
    with pytest.raises(RecipeError, match=r"<config file>: shard: 4/4: need 0 <= I < N"):
        load_config({"shard": [4, 4]}, ProbeSettings)


def test_check_reads_the_layout_not_the_rows(tmp_path):
    write_tagged(tmp_path / "tagged", [{"id": "a", "text": "x = 1", "domain": "pure_code"}])
    ProbeSettings(data=str(tmp_path / "tagged"), domains=["pure_code"]).check()
    with pytest.raises(RecipeError, match=r"^s\.yaml: probe\.domains: unknown domain 'math_txt' \(did you mean "
                                          r"'math_text'\?\)"):
        ProbeSettings(data=str(tmp_path / "tagged"), domains=["math_txt"]).check("s.yaml: probe.")
    with pytest.raises(RecipeError, match=r"^data: probe data folder '.*missing' does not exist"):
        ProbeSettings(data=[str(tmp_path / "tagged"), str(tmp_path / "missing")]).check()
