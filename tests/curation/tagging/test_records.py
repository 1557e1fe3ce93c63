import pytest

from curation.tagging.records import (
    BadInputLog,
    BadRecord,
    RecordsMixin,
    flatten_messages,
    normalise_messages,
)


def test_sharegpt_turns_become_chat_messages():
    turns = normalise_messages(
        [{"from": "human", "value": "a"}, {"from": "GPT", "value": "b"}, {"role": "system", "content": "c"}]
    )
    assert turns == [
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": "b"},
        {"role": "system", "content": "c"},
    ]
    assert flatten_messages(turns) == "user: a\n\nassistant: b\n\nsystem: c"


@pytest.mark.parametrize(
    "turns,detail",
    [
        ([], "non-empty list"),
        (["hi"], "turn 0 is str"),
        ([{"from": "alien", "value": "x"}], "role='alien'"),
        ([{"role": "user", "content": 3}], "content of type int"),
    ],
)
def test_malformed_chats_name_the_turn(turns, detail):
    with pytest.raises(BadRecord, match=detail) as err:
        normalise_messages(turns)
    assert err.value.reason == "malformed_chat"


def test_bad_input_log_caps_examples_but_not_counts():
    log = BadInputLog(max_examples=2)
    for line in range(5):
        log.add("empty_text", "a.jsonl", line + 1, "empty")
    assert log.to_dict()["counts"] == {"empty_text": 5}
    assert [e["line"] for e in log.to_dict()["examples"]] == [1, 2]


class _Records(RecordsMixin):
    text_key, id_key = "text", "id"

    def stat_update(self, *labels, value=1, unit=None):
        pass


def test_record_fields_and_reasons():
    r = _Records()
    r._init_records(max_doc_bytes=8, bad_input_folder=None, source="file")
    doc = r._record_to_document({"id": 7, "text": "héllo", "label": "general"}, "f.jsonl", 3, "file")
    assert (doc.id, doc.text, doc.metadata) == ("7", "héllo", {"label": "general", "source": "file"})
    assert r._record_to_document({"text": "x", "source": "web"}, "f.jsonl", 4, "file").id == "f.jsonl:4"
    for record, reason in [
        ([1], "malformed_json"),
        ({"text": 5}, "missing_text"),
        ({"text": b"\xff"}, "invalid_utf8"),
        ({"text": "\x00 \n"}, "empty_text"),
        ({"text": "ééééé"}, "too_large"),
    ]:
        with pytest.raises(BadRecord) as err:
            r._record_to_document(record, "f.jsonl", 1, "file")
        assert err.value.reason == reason
