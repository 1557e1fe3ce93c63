import importlib

import pytest

from tracemix import cli
from tracemix.errors import TracemixError


def test_help_lists_every_verb(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for verb in cli.VERBS:
        assert verb in out


def test_unknown_verb_suggests_the_closest(capsys):
    assert cli.main(["tagg"]) == 2
    assert "Did you mean `tracemix tag`?" in capsys.readouterr().err


@pytest.mark.parametrize("verb", list(cli.VERBS))
def test_every_verb_resolves_to_a_main(verb):
    module_name, func_name = cli.VERBS[verb][0].split(":")
    assert callable(getattr(importlib.import_module(module_name), func_name))


def test_user_errors_print_without_traceback(monkeypatch, capsys):
    def boom(argv):
        raise TracemixError("recipes/x.yaml: key `mixture.foo` is not a domain")

    monkeypatch.setitem(cli.VERBS, "boom", ("tests.tracemix.test_cli:boom", ""))
    monkeypatch.setattr(importlib, "import_module", lambda name: type("M", (), {"boom": staticmethod(boom)}))
    assert cli.main(["boom"]) == 2
    assert "error: recipes/x.yaml: key `mixture.foo`" in capsys.readouterr().err
