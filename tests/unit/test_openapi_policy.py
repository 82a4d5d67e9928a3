"""The OpenAPI document's policy schemas are built from the policy parser's own field lists:
what GET /api/v1/policy answers is what the schema says it always holds, and PUT accepts
exactly the fields the schema lists."""

from __future__ import annotations

import pytest

from bot.web import policy
from bot.web.openapi_api import SCHEMAS


def test_the_schema_requires_exactly_what_get_answers() -> None:
    answered = policy.document(policy.parse({}), None)
    schema = SCHEMAS["Policy"]
    assert set(schema["required"]) == set(answered)
    properties = schema["properties"]
    assert set(properties["reminders"]["required"]) == set(answered["reminders"])
    assert set(properties["reward"]["required"]) == set(answered["reward"])


@pytest.mark.parametrize(
    ("section", "schema"),
    [
        ("reminders", SCHEMAS["PolicyIn"]["properties"]["reminders"]),
        ("reward", SCHEMAS["Reward"]),
    ],
)
def test_put_accepts_exactly_the_fields_the_schema_lists(
    section: str, schema: dict[str, object]
) -> None:
    listed = schema["properties"]
    assert isinstance(listed, dict)
    with pytest.raises(policy.PolicyError) as refused:
        policy.parse({section: {"not_a_field": 1}})
    assert refused.value.field == f"{section}.not_a_field"
    for field in listed:  # a listed field is never refused as unknown (maybe as a bad value)
        try:
            policy.parse({section: {field: None}})
        except policy.PolicyError as problem:
            assert problem.field.startswith(f"{section}.{field}") or problem.field == section
            assert str(problem) != "unknown field", field
