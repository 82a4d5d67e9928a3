"""Issue 11: a language's words live in `flows/lexicon/*.toml`, not in code.

Read from the source with `ast`: no module of `flows/` calls a word-alternation builder
(``_words``) with literal words; the only literals allowed are the normaliser's emoji tokens
("emojiyes"), which belong to no language.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

FLOWS = Path(__file__).resolve().parents[2] / "flows"
_LANGUAGE_FREE = re.compile(r"emoji[a-z]+")


def _literal_words(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "_words"
        ):
            continue
        for arg in node.args:
            if isinstance(arg, ast.JoinedStr):
                found.append(ast.unparse(arg))
            elif isinstance(arg, ast.Constant) and not _LANGUAGE_FREE.fullmatch(str(arg.value)):
                found.append(str(arg.value))
    return found


@pytest.mark.parametrize("path", sorted(FLOWS.glob("*.py")), ids=lambda p: p.name)
def test_no_word_table_in_code(path: Path) -> None:
    assert _literal_words(ast.parse(path.read_text(encoding="utf-8"))) == []


def test_the_check_sees_a_word_table() -> None:
    tree = ast.parse('T = _words(r"oui", "emojiyes", f"{X} non")')
    assert _literal_words(tree) == ["oui", "f'{X} non'"]
