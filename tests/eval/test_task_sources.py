"""Every hub-backed task file against rows shaped like its real dataset.

Each case names the hub id, config and split the task must ask for, the file format the hub serves,
the column types (`datasets.Features`) and rows copied in the dataset's own layout and answer format.
The rows go through a real file round trip (Parquet or JSON Lines, as on the hub) before the task's
own mapping sees them, so a renamed column, a wrong config or a gold answer parsed the wrong way fails
here without any network.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import datasets
import pytest
from datasets import ClassLabel, Features, Sequence, Value

from eval.registry import get_task, task_files
from eval.sandbox import check_program, run_python
from eval.scoring import is_correct
from eval.sources import build_prompt, load_examples

S, I64 = Value("string"), Value("int64")


@dataclass
class HubCase:
    path: str
    name: str | None
    split: str
    fmt: str  # how the hub serves it: parquet | json
    features: Features
    rows: list[dict]
    golds: list  # after the task's gold transform, for the rows the task keeps
    in_prompt: list[str]  # per kept example, in order: a fragment its prompt must contain
    ids: list[str] = field(default_factory=list)


GSM8K_ROWS = [
    {"question": "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. "
                 "How many clips did Natalia sell altogether in April and May?",
     "answer": "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n"
               "Natalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May.\n#### 72"},
    {"question": "Janet’s ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins "
                 "for her friends every day with four. She sells the remainder at the farmers' market daily for "
                 "$2 per fresh duck egg. How much in dollars does she make every day at the farmers' market?",
     "answer": "Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.\n"
               "She makes 9 * 2 = $<<9*2=18>>18 every day at the farmer’s market.\n#### 18"},
]

SVAMP_ROWS = [
    {"ID": "chal-777", "Body": "There are 87 oranges and 290 bananas in Philip's collection. If the bananas are "
                              "organized into 2 groups and oranges are organized into 93 groups",
     "Question": "How big is each group of bananas?", "Equation": "( 290.0 / 2.0 )", "Answer": 145.0,
     "Type": "Common-Division",
     "question_concat": "There are 87 oranges and 290 bananas in Philip's collection. If the bananas are "
                        "organized into 2 groups and oranges are organized into 93 groups How big is each group "
                        "of bananas?"},
    {"ID": "chal-1", "Body": "Jack had 8 pens and Mary had 5 pens. Jack gave 3 pens to Mary.",
     "Question": "How many pens does Jack have now?", "Equation": "( 8.0 - 3.0 )", "Answer": 5.0,
     "Type": "Subtraction",
     "question_concat": "Jack had 8 pens and Mary had 5 pens. Jack gave 3 pens to Mary. How many pens does Jack "
                        "have now?"},
]

MULTIARITH_ROWS = [
    {"question": " While shopping for music online, Zoe bought 3 country albums and 5 pop albums. Each album "
                 "came with a lyric sheet and had 3 songs. How many songs did Zoe buy total? ",
     "final_ans": "24"},
    {"question": "A pet store had 13 siamese cats and 5 house cats. During a sale they sold 10 cats. How many "
                 "cats do they have left? ", "final_ans": "8"},
]

ASDIV_ROWS = [
    {"body": "Seven red apples and two green apples are in the basket.",
     "question": "How many apples are in the basket?", "solution_type": "Addition", "answer": "9 (apples)",
     "formula": "7+2=9"},
    {"body": "Ellen has six more balls than Marin. Marin has nine balls.", "question": "How many balls does Ellen "
     "have?", "solution_type": "Addition", "answer": "15 (balls)", "formula": "6+9=15"},
]

CLUTRR_ROWS = [
    {"id": "b2b9752f-d7fa-46a9-83ac-d4caac4ba8c4",
     "story": "[Dorothy]'s brother [Michael] and her went to get ice cream. [Michael] is the proud father of "
              "the lovely [Donald].",
     "query": "('Dorothy', 'Donald')", "target": 13, "target_text": "nephew",
     "clean_story": "[Dorothy]'s brother [Michael] and her went to get ice cream.",
     "proof_state": "[{('Dorothy', 'nephew', 'Donald'): [('Dorothy', 'brother', 'Michael'), "
                    "('Michael', 'son', 'Donald')]}]",
     "f_comb": "brother-son", "task_name": "task_1.2", "story_edges": "[(0, 1), (1, 2)]",
     "edge_types": "['brother', 'son']", "query_edge": "(0, 2)",
     "genders": "Dorothy:female,Michael:male,Donald:male", "task_split": "test"},
]

BABI_ROWS = [
    {"passage": "Mice are afraid of wolves.\nGertrude is a mouse.\nCats are afraid of sheep.\nWinona is a "
                "mouse.\nSheep are afraid of wolves.\nEmily is a mouse.\nJessica is a wolf.\nWolves are afraid "
                "of cats.\n", "question": "What is emily afraid of?", "answer": "wolf", "task": 15},
    {"passage": "Lily is a frog.\nBernhard is a frog.\nBernhard is green.\nBrian is a lion.\nBrian is white.\n"
                "Julius is a swan.\nJulius is green.\nLily is green.\nGreg is a swan.\n",
     "question": "What color is Greg?", "answer": "green", "task": 16},
    {"passage": "Mary moved to the bathroom.\nJohn went to the hallway.\n", "question": "Where is Mary?",
     "answer": "bathroom", "task": 1},
]

BBH_ROWS = [
    {"input": "The following paragraphs each describe a set of three objects arranged in a fixed order. The "
              "statements are logically consistent within each paragraph. On a branch, there are three birds: a "
              "blue jay, a quail, and a falcon. The falcon is to the right of the blue jay. The blue jay is to "
              "the right of the quail.\nOptions:\n(A) The blue jay is the second from the left\n(B) The quail "
              "is the second from the left\n(C) The falcon is the second from the left", "target": "(A)"},
    {"input": "The following paragraphs each describe a set of three objects arranged in a fixed order. The "
              "statements are logically consistent within each paragraph. In a golf tournament, there were "
              "three golfers: Amy, Eli, and Eve. Eve finished above Amy. Eli finished below Amy.\nOptions:\n"
              "(A) Amy finished last\n(B) Eli finished last\n(C) Eve finished last", "target": "(B)"},
]

MMLU_ROWS = [
    {"question": "Find the degree for the given field extension Q(sqrt(2), sqrt(3), sqrt(18)) over Q.",
     "subject": "abstract_algebra", "choices": ["0", "4", "2", "6"], "answer": 1},
    {"question": "What is the embryological origin of the hyoid bone?", "subject": "anatomy",
     "choices": ["The first pharyngeal arch", "The first and second pharyngeal arches",
                 "The second pharyngeal arch", "The second and third pharyngeal arches"], "answer": 3},
    {"question": "Which of the given formulas of PL is the best symbolization of the following sentence?\n"
                 "Turtles live long lives and are happy creatures, unless they are injured.",
     "subject": "formal_logic", "choices": ["(L • H) ≡ I", "(L • H) ∨ I", "L • (H ∨ I)", "L • (H ⊃ R)."],
     "answer": 1},
]

MATH500_ROWS = [
    {"problem": "Convert the point $(0,3)$ in rectangular coordinates to polar coordinates.  Enter your answer "
                "in the form $(r,\\theta),$ where $r > 0$ and $0 \\le \\theta < 2 \\pi.$",
     "solution": "We have that $r = \\sqrt{0^2 + 3^2} = 3.$  Also, if we draw the line connecting the origin "
                 "and $(0,3),$ this line makes an angle of $\\frac{\\pi}{2}$ with the positive $x$-axis.\n\n"
                 "Therefore, the polar coordinates are $\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}.$",
     "answer": "\\left( 3, \\frac{\\pi}{2} \\right)", "subject": "Precalculus", "level": 2,
     "unique_id": "test/precalculus/807.json"},
]

HUMANEVAL_ROWS = [
    {"task_id": "HumanEval/0",
     "prompt": "from typing import List\n\n\ndef has_close_elements(numbers: List[float], threshold: float) -> "
               "bool:\n    \"\"\" Check if in given list of numbers, are any two numbers closer to each other "
               "than\n    given threshold.\n    >>> has_close_elements([1.0, 2.0, 3.0], 0.5)\n    False\n    "
               ">>> has_close_elements([1.0, 2.8, 3.0, 4.0, 5.0, 2.0], 0.3)\n    True\n    \"\"\"\n",
     "canonical_solution": "    for idx, elem in enumerate(numbers):\n        for idx2, elem2 in "
                           "enumerate(numbers):\n            if idx != idx2:\n                distance = "
                           "abs(elem - elem2)\n                if distance < threshold:\n                    "
                           "return True\n\n    return False\n",
     "test": "\n\nMETADATA = {\n    'author': 'jt',\n    'dataset': 'test'\n}\n\n\ndef check(candidate):\n"
             "    assert candidate([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3) == True\n"
             "    assert candidate([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.05) == False\n"
             "    assert candidate([1.0, 2.0, 5.9, 4.0, 5.0], 0.95) == True\n"
             "    assert candidate([1.1, 2.2, 3.1, 4.1, 5.1], 1.0) == True\n\n",
     "entry_point": "has_close_elements"},
    {"task_id": "HumanEval/50",
     "prompt": "\n\ndef encode_shift(s: str):\n    \"\"\"\n    returns encoded string by shifting every character "
               "by 5 in the alphabet.\n    \"\"\"\n    return \"\".join([chr(((ord(ch) + 5 - ord(\"a\")) % 26) + "
               "ord(\"a\")) for ch in s])\n\n\ndef decode_shift(s: str):\n    \"\"\"\n    takes as input string "
               "encoded with encode_shift function. Returns decoded string.\n    \"\"\"\n",
     "canonical_solution": "    return \"\".join([chr(((ord(ch) - 5 - ord(\"a\")) % 26) + ord(\"a\")) for ch in "
                           "s])\n",
     "test": "\n\nMETADATA = {}\n\n\ndef check(candidate):\n    from random import randint, choice\n"
             "    import copy\n    import string\n\n    letters = string.ascii_lowercase\n    for _ in range(100):"
             "\n        str = ''.join(choice(letters) for i in range(randint(10, 20)))\n        encoded_str = "
             "encode_shift(str)\n        assert candidate(copy.deepcopy(encoded_str)) == str\n\n",
     "entry_point": "decode_shift"},
]

MBPP_ROWS = [
    {"task_id": 11, "text": "Write a python function to remove first and last occurrence of a given character "
                            "from the string.",
     "code": "def remove_Occ(s,ch): \r\n    for i in range(len(s)): \r\n        if (s[i] == ch): \r\n"
             "            s = s[0 : i] + s[i + 1:] \r\n            break\r\n    for i in range(len(s) - 1,-1,-1):  "
             "\r\n        if (s[i] == ch): \r\n            s = s[0 : i] + s[i + 1:] \r\n            break\r\n"
             "    return s ",
     "test_list": ['assert remove_Occ("hello","l") == "heo"', 'assert remove_Occ("abcda","a") == "bcd"',
                   'assert remove_Occ("PHP","P") == "H"'],
     "test_setup_code": "", "challenge_test_list": []},
]

CASES = {
    "gsm8k": HubCase("openai/gsm8k", "main", "test", "parquet", Features({"question": S, "answer": S}),
                     GSM8K_ROWS, ["72", "18"], ["Natalia sold clips", "Janet’s ducks"]),
    "svamp": HubCase("ChilleD/SVAMP", None, "test", "parquet",
                     Features({"ID": S, "Body": S, "Question": S, "Equation": S, "Answer": Value("float64"),
                               "Type": S, "question_concat": S}),
                     SVAMP_ROWS, ["145", "5"],
                     ["organized into 93 groups How big is each group of bananas?", "Jack gave 3 pens to Mary."],
                     ["chal-777", "chal-1"]),
    "multiarith": HubCase("ChilleD/MultiArith", None, "test", "json", Features({"question": S, "final_ans": S}),
                          MULTIARITH_ROWS, ["24", "8"], ["Zoe bought 3 country albums", "13 siamese cats"]),
    "asdiv": HubCase("EleutherAI/asdiv", None, "validation", "parquet",
                     Features({k: S for k in ("body", "question", "solution_type", "answer", "formula")}),
                     ASDIV_ROWS, ["9", "15"], ["in the basket. How many apples", "Marin has nine balls. How many"]),
    "clutrr": HubCase("CLUTRR/v1", "gen_train234_test2to10", "test", "parquet",
                      Features({k: Value("int32") if k == "target" else S for k in CLUTRR_ROWS[0]}),
                      CLUTRR_ROWS, ["nephew"], ["the lovely [Donald]."], ["b2b9752f-d7fa-46a9-83ac-d4caac4ba8c4"]),
    "babi_deductive": HubCase("Muennighoff/babi", None, "test", "json",
                              Features({"passage": S, "question": S, "answer": S, "task": I64}),
                              BABI_ROWS, ["wolf"], ["Wolves are afraid of cats.\n\nQ: What is emily afraid of?"]),
    "babi_inductive": HubCase("Muennighoff/babi", None, "test", "json",
                              Features({"passage": S, "question": S, "answer": S, "task": I64}),
                              BABI_ROWS, ["green"], ["What color is Greg?"]),
    "bbh_logical_deduction": HubCase("SaylorTwift/bbh", "logical_deduction_three_objects", "test", "parquet",
                                     Features({"input": S, "target": S}), BBH_ROWS, ["A", "B"],
                                     ["Options:\n(A) The blue jay", "(C) Eve finished last"]),
    "mmlu_stem": HubCase("cais/mmlu", "all", "test", "parquet",
                         Features({"question": S, "subject": S, "choices": Sequence(S),
                                   "answer": ClassLabel(names=["A", "B", "C", "D"])}),
                         MMLU_ROWS, ["B", "B"], ["Q(sqrt(2), sqrt(3), sqrt(18))", "Turtles live long lives"]),
    "math500": HubCase("HuggingFaceH4/MATH-500", None, "test", "json",
                       Features({"problem": S, "solution": S, "answer": S, "subject": S, "level": I64,
                                 "unique_id": S}),
                       MATH500_ROWS, ["\\left( 3, \\frac{\\pi}{2} \\right)"], ["Convert the point $(0,3)$"],
                       ["test/precalculus/807.json"]),
    "humaneval": HubCase("openai/openai_humaneval", None, "test", "parquet",
                         Features({k: S for k in HUMANEVAL_ROWS[0]}), HUMANEVAL_ROWS, [],
                         ["def has_close_elements(numbers: List[float]", "def decode_shift(s: str):"],
                         ["HumanEval/0", "HumanEval/50"]),
    "mbpp": HubCase("google-research-datasets/mbpp", "full", "test", "parquet",
                    Features({"task_id": Value("int32"), "text": S, "code": S, "test_list": Sequence(S),
                              "test_setup_code": S, "challenge_test_list": Sequence(S)}),
                    MBPP_ROWS, [], ["from the string.\nYour code should pass these tests:\nassert remove_Occ(\"hello\",\"l\") == \"heo\"\n"
                     'assert remove_Occ("abcda","a") == "bcd"\nassert remove_Occ("PHP","P") == "H"'],
                    ["11"]),
}


@pytest.fixture
def hub(monkeypatch, tmp_path):
    """`datasets.load_dataset` answering from CASES through a local file; records what was asked for."""
    calls = []

    def load_dataset(path, name=None, split=None, **kwargs):
        calls.append((path, name, split))
        case = next((c for c in CASES.values() if (c.path, c.name, c.split) == (path, name, split)), None)
        if case is None:
            raise FileNotFoundError(f"no verified hub source {path} (config {name}, split {split})")
        ds = datasets.Dataset.from_list(case.rows, features=case.features)
        file = tmp_path / f"{len(calls)}.{case.fmt}"
        cache = str(tmp_path / "cache")
        if case.fmt == "parquet":
            ds.to_parquet(str(file))
            return datasets.Dataset.from_parquet(str(file), features=case.features, cache_dir=cache)
        ds.to_json(str(file))
        return datasets.Dataset.from_json(str(file), features=case.features, cache_dir=cache)

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    return calls


def test_every_hub_task_has_a_verified_case():
    hub_tasks = {name for name in task_files() if get_task(name).source.kind == "hf"}
    assert hub_tasks == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_task_maps_real_rows(hub, name):
    case, task = CASES[name], get_task(name)
    examples = load_examples(task)
    assert hub == [(case.path, case.name, case.split)]
    assert len(examples) == len(case.in_prompt)
    for example, fragment in zip(examples, case.in_prompt, strict=True):
        assert fragment in build_prompt(task, example)
    if case.golds:
        assert [ex.gold for ex in examples] == case.golds
    if case.ids:
        assert [ex.id for ex in examples] == case.ids


def test_gsm8k_answer_scores_against_the_hashes_gold(hub):
    task = get_task("gsm8k")
    ex = load_examples(task)[0]
    assert is_correct(task, "72", ex.gold)[0] and not is_correct(task, "48", ex.gold)[0]


def test_mmlu_keeps_listed_subjects_and_renders_the_choices(hub):
    task = get_task("mmlu_stem")
    examples = load_examples(task)
    assert [ex.fields["subject"] for ex in examples] == ["abstract_algebra", "formal_logic"]
    assert examples[0].options == ["0", "4", "2", "6"]
    assert "A. 0\nB. 4\nC. 2\nD. 6" in build_prompt(task, examples[0])


def test_babi_tasks_keep_only_their_task_number(hub):
    (deductive,) = load_examples(get_task("babi_deductive"))
    (inductive,) = load_examples(get_task("babi_inductive"))
    assert deductive.fields["task"] == 15 and inductive.fields["task"] == 16


def test_bbh_letter_gold_matches_a_parenthesised_reply(hub):
    task = get_task("bbh_logical_deduction")
    ex = load_examples(task)[0]
    assert is_correct(task, "A", ex.gold)[0] and not is_correct(task, "C", ex.gold)[0]


def test_math500_gold_is_the_latex_answer_and_verifies_equivalents(hub):
    task = get_task("math500")
    (ex,) = load_examples(task)
    assert is_correct(task, "(3, \\frac{\\pi}{2})", ex.gold)[0]
    assert not is_correct(task, "(3, \\pi)", ex.gold)[0]


def test_humaneval_canonical_solutions_pass_and_wrong_ones_fail(hub):
    examples = {ex.id: ex for ex in load_examples(get_task("humaneval"))}
    for row in HUMANEVAL_ROWS:
        gold = examples[row["task_id"]].gold
        assert gold["entry_point"] == row["entry_point"] and gold["prefix"] == row["prompt"]
        assert run_python(check_program(row["canonical_solution"], gold)).passed
    # a full-function answer still sees the prompt's helper (the tests call encode_shift)
    gold = examples["HumanEval/50"].gold
    full = "def decode_shift(s: str):\n" + HUMANEVAL_ROWS[1]["canonical_solution"]
    assert run_python(check_program(full, gold)).passed
    assert not run_python(check_program("    return s\n", gold)).passed


def test_mbpp_reference_code_passes_its_asserts(hub):
    (ex,) = load_examples(get_task("mbpp"))
    assert ex.gold["tests"].count("assert remove_Occ") == 3
    assert run_python(check_program(MBPP_ROWS[0]["code"], ex.gold)).passed
    assert not run_python(check_program("def remove_Occ(s, ch):\n    return s\n", ex.gold)).passed


def test_mbpp_sanitized_rows_use_test_imports():
    from eval.sources import GOLD_TRANSFORMS

    row = {"source_file": "Benchmark Questions Verification V2.ipynb", "task_id": 2,
           "prompt": "Write a function to find the shared elements from the given two lists.",
           "code": "def similar_elements(test_tup1, test_tup2):\n  res = tuple(set(test_tup1) & set(test_tup2))\n"
                   "  return (res) ",
           "test_imports": ["import math"],
           "test_list": ["assert set(similar_elements((3, 4, 5, 6),(5, 7, 4, 10))) == set((4, 5))"]}
    gold = GOLD_TRANSFORMS["mbpp"](row["test_list"], row)
    assert gold["tests"].startswith("import math\nassert set(similar_elements(")
    assert run_python(check_program(row["code"], gold)).passed
