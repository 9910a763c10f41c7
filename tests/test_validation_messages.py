"""pydantic's English messages never reach a user: every boundary shows them in Chinese."""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hazardjudge.errors import validation_message_zh

ENGLISH = re.compile(r"[A-Za-z]{4,}")


class Sample(BaseModel):
    model_config = ConfigDict(extra="forbid")
    count: int
    on: dt.date
    kind: Literal["gas", "fire"]
    name: str = Field(max_length=3)
    width: float = Field(gt=0)
    note: str = ""

    @field_validator("note")
    @classmethod
    def _refuse(cls, value: str) -> str:
        if value:
            raise ValueError("备注不能含有控制字符")
        return value


def _errors(**data) -> list[dict]:
    with pytest.raises(ValidationError) as caught:
        Sample.model_validate(data)
    return caught.value.errors()


def test_each_kind_of_error_reads_in_chinese():
    errors = _errors(count="三个", on="下周", kind="coal", name="太长的名字", width=-1, note="x", extra=1)
    messages = {e["loc"][0]: validation_message_zh(e) for e in errors}
    assert messages["count"] == "应为整数"
    assert "2026-12-31" in messages["on"]
    assert messages["kind"] == "取值无效，可用：'gas'、'fire'"
    assert messages["name"] == "过长（最多 3 个字符）"
    assert messages["width"] == "应大于 0"
    assert messages["note"] == "备注不能含有控制字符"  # our own validator's text, not "Value error, …"
    assert messages["extra"] == "不认识的键"
    for text in messages.values():
        assert not ENGLISH.search(text.replace("gas", "").replace("fire", "")), text


def test_missing_and_unknown_types_keep_the_detail():
    (missing,) = [e for e in _errors(on="2026-12-01", kind="gas", name="a", width=1) if e["loc"] == ("count",)]
    assert validation_message_zh(missing) == "缺少必填项"
    odd = {"type": "some_future_type", "msg": "Something new", "loc": ("x",)}
    assert validation_message_zh(odd) == "取值无效（Something new）"


def test_the_service_answers_a_malformed_request_in_chinese():
    from fastapi.testclient import TestClient

    from hazardjudge.service.app import create_app

    client = TestClient(create_app())
    response = client.post("/api/judge", json={"date": "昨天", "facts": {}})
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "请求格式有误"
    for problem in body["problems"]:
        assert not ENGLISH.search(problem["message"].split("：", 1)[1]), problem
