from __future__ import annotations

import json
import time
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curation.mixing import build_mixture, load_recipe
from tests.curation.mixing.conftest import make_tagged, recipe_dict


def tokens_recipe(src: Path, **kw):
    base = recipe_dict(src, budget={"unit": "tokens", "total": 2000}, tokenizer="words",
                       density={"math_text": {"threshold": 0.5, "share": 0.5}},
                       output={"shard_bytes": 1500})
    base.update(kw)
    return load_recipe(base)


def read_mixture(out: Path) -> pl.DataFrame:
    shards = json.loads((out / "manifest.json").read_text())["output"]["shards"]
    return pl.concat([pl.read_parquet(out / s) for s in shards])


@pytest.fixture
def chats(tmp_path) -> Path:
    return make_tagged(tmp_path / "chats", 50, chats=True, tokens="words")


def test_output_is_identical_for_any_number_of_tasks(tagged, tmp_path):
    a = build_mixture(tokens_recipe(tagged), tmp_path / "a", tasks=1)
    b = build_mixture(tokens_recipe(tagged), tmp_path / "b", tasks=3, workers=1)
    assert a["output"]["shards"] == b["output"]["shards"] and len(a["output"]["shards"]) > 2
    fa, fb = read_mixture(tmp_path / "a"), read_mixture(tmp_path / "b")
    assert fa.equals(fb)
    assert fa.height == a["budget"]["documents"] and fa["n_tokens"].sum() == a["budget"]["achieved"]
    assert not (tmp_path / ".a.mix").exists()


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**31), tasks=st.integers(2, 5))
def test_tasks_never_change_the_output(tagged, tmp_path_factory, seed, tasks):
    tmp = tmp_path_factory.mktemp("tasks")
    build_mixture(tokens_recipe(tagged, seed=seed), tmp / "one", tasks=1)
    build_mixture(tokens_recipe(tagged, seed=seed), tmp / "many", tasks=tasks)
    assert read_mixture(tmp / "one").equals(read_mixture(tmp / "many"))


def test_output_is_shuffled_and_keeps_the_contract_columns(tagged, tmp_path):
    m = build_mixture(tokens_recipe(tagged), tmp_path / "m")
    df = read_mixture(tmp_path / "m")
    assert df.columns[:2] == ["id", "text"]
    assert {"source", "domain", "domain_scores", "scaffold_score", "n_bytes", "n_tokens", "tagger", "bucket",
            "repeat"} <= set(df.columns)
    assert df["domain"].to_list() != sorted(df["domain"].to_list())  # domains interleaved
    src = pl.read_parquet(sorted(tagged.glob("*.parquet")))
    joined = df.join(src.select("id", pl.col("text").alias("src_text")), on="id")
    assert (joined["text"] == joined["src_text"]).all()  # every row carries its own text
    assert m["entries"]["math_text"]["buckets"]["scaffold"]["achieved"] == \
        int(df.filter(pl.col("bucket") == "scaffold")["n_tokens"].sum())


def test_parquet_output_loads_with_datasets(chats, tmp_path):
    import datasets

    build_mixture(tokens_recipe(chats), tmp_path / "m")
    ds = datasets.load_dataset("parquet", data_dir=str(tmp_path / "m"), split="train")
    assert len(ds) == len(read_mixture(tmp_path / "m"))
    assert ds[0]["messages"][1]["role"] == "assistant"


def test_jsonl_and_save_to_disk_outputs_are_readable(chats, tmp_path):
    import datasets

    build_mixture(tokens_recipe(chats, output={"format": "jsonl", "shard_bytes": 1500}), tmp_path / "j")
    build_mixture(tokens_recipe(chats, output={"format": "hf"}), tmp_path / "h")
    build_mixture(tokens_recipe(chats), tmp_path / "p")
    ref = read_mixture(tmp_path / "p")
    j = datasets.load_dataset("json", data_dir=str(tmp_path / "j"), split="train")
    h = datasets.load_from_disk(str(tmp_path / "h"))
    assert j["id"] == h["id"] == ref["id"].to_list()
    assert h[0]["messages"] == ref["messages"][0].to_list()
    assert j[0]["messages"] == ref["messages"][0].to_list()
    manifest = json.loads((tmp_path / "h" / "manifest.json").read_text())
    assert manifest["output"]["format"] == "hf" and manifest["output"]["shards"][0].endswith(".arrow")


@pytest.mark.slow
def test_ray_executor_matches_local(tagged, tmp_path):
    ray = pytest.importorskip("ray")
    start = time.monotonic()
    try:
        ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    except Exception as err:  # noqa: BLE001 - no local Ray instance on this machine
        pytest.skip(f"a local Ray instance cannot start here: {err}")
    if time.monotonic() - start > 60:
        ray.shutdown()
        pytest.skip("a local Ray instance took over 60 s to start")
    try:
        local = build_mixture(tokens_recipe(tagged), tmp_path / "local", tasks=2)
        remote = build_mixture(tokens_recipe(tagged), tmp_path / "ray", tasks=1, executor="ray")
    finally:
        ray.shutdown()
    assert read_mixture(tmp_path / "ray").equals(read_mixture(tmp_path / "local"))
    assert remote["entries"] == local["entries"]
