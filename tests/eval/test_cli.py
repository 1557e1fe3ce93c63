import json

from tracemix import cli


def test_list_prints_tasks_and_suites(capsys):
    assert cli.main(["eval", "--list"]) == 0
    out = capsys.readouterr().out
    assert "reasoning12" in out and "first_letter_concat" in out and "humaneval" in out


def test_unknown_task_exits_2_with_did_you_mean(capsys, tmp_path):
    assert cli.main(["eval", "--model", "m", "--tasks", "gsm8kk", "--output", str(tmp_path)]) == 2
    assert "Did you mean 'gsm8k'" in capsys.readouterr().err


def test_missing_model_path_exits_2(capsys, tmp_path):
    code = cli.main(["eval", "--model", str(tmp_path / "nope"), "--tasks", "coin_flip", "--limit", "1",
                     "--output", str(tmp_path / "run")])
    assert code == 2
    assert "does not exist" in capsys.readouterr().err


def test_unreachable_endpoint_exits_2(capsys, tmp_path):
    code = cli.main(["eval", "--model", "m", "--backend", "openai", "--base-url", "http://127.0.0.1:9/v1",
                     "--tasks", "coin_flip", "--limit", "1", "--no-cache", "--retries", "0", "--output", str(tmp_path)])
    assert code == 2
    assert "cannot reach http://127.0.0.1:9/v1" in capsys.readouterr().err


def test_full_cli_round_trip(tmp_path, capsys):
    from eval.registry import get_task
    from eval.sources import build_prompt, load_examples
    from tests.openai_server import FakeOpenAIServer, answer_key

    task = get_task("reverse_list")
    replies = {build_prompt(task, ex): f"The answer is {ex.gold}." for ex in load_examples(task, 3)}
    with FakeOpenAIServer(answer_key(replies)) as server:
        assert cli.main(["eval", "--model", "m", "--backend", "openai", "--base-url", server.base_url,
                         "--tasks", "reverse_list", "--limit", "3", "--no-cache",
                         "--output", str(tmp_path / "a")]) == 0
    assert json.loads((tmp_path / "a" / "results.json").read_text())["overall"]["accuracy"] == 1.0
    assert cli.main(["eval", "rescore", str(tmp_path / "a"), "--output", str(tmp_path / "b")]) == 0
    assert cli.main(["eval", "compare", str(tmp_path / "a"), str(tmp_path / "b"),
                     "--output", str(tmp_path / "cmp")]) == 0
    assert "| symbolic | 100.0 | 100.0 |" in capsys.readouterr().out
    assert (tmp_path / "cmp" / "compare.png").is_file()


def test_missing_required_flags_is_a_usage_error(capsys):
    try:
        cli.main(["eval", "--tasks", "symbolic"])
    except SystemExit as exc:
        assert exc.code == 2
    assert "missing --model, --output" in capsys.readouterr().err
