"""The wings of `bot/` (ARCHITECTURE "Packages"): arrows only point down, web → engine → store.

Read from the source with `ast`, so an import added anywhere in a module (inside a function
too) is seen.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parents[2] / "bot"
WINGS = ("web", "engine", "store")
# What each wing may import from `bot.*`, besides the root modules.
ALLOWED = {"web": {"engine", "store"}, "engine": {"store"}, "store": set()}
# Root modules that start a process may wire the wings together; the others are shared tools.
ENTRY_POINTS = {
    "cli",
    "runtime",
    "demo",
    "demo_flash",
    "demo_history",
    "demo_history_flash",
    "demo_senders",
    "intents_cli",
    "campaign_cli",
    "export_cli",
    "policy_cli",
    "shop_cli",
    "__main__",
}


def bot_imports(path: Path) -> set[str]:
    """The `bot.<x>` modules a file imports, as dotted names."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "bot" or node.module.removeprefix("bot.") in WINGS:
                # "from bot import x" and "from bot.store import keys" name modules.
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif node.module.startswith("bot."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("bot."))
    return found


def wing_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[1] in WINGS else None


def modules_in(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.py"))


@pytest.mark.parametrize("wing", WINGS)
def test_a_wing_imports_only_the_wings_below_it(wing: str) -> None:
    wrong = {
        f"{path.name} imports {module}"
        for path in modules_in(BOT / wing)
        for module in bot_imports(path)
        if (target := wing_of(module)) not in (None, wing) and target not in ALLOWED[wing]
    }
    assert not wrong


#: `services` builds each process's long-lived resources, some of which are the store's
#: (the announcement retirer, the invoice locators kept, the adapters' sender lookups): it may
#: import the store, and the store never imports it (docs/decisions.md).
COMPOSITION = {"services": {"store"}}


def test_shared_root_modules_import_no_wing() -> None:
    wrong = {
        f"{path.name} imports {module}"
        for path in modules_in(BOT)
        if path.stem not in ENTRY_POINTS
        for module in bot_imports(path)
        if (wing := wing_of(module)) is not None and wing not in COMPOSITION.get(path.stem, ())
    }
    assert not wrong


def test_the_store_never_imports_services() -> None:
    wrong = {
        f"{path.name} imports bot.services"
        for path in modules_in(BOT / "store")
        if "bot.services" in bot_imports(path)
    }
    assert not wrong


def test_the_checker_sees_a_wing_module_imported_by_name(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from bot.engine import issuing\n")
    assert wing_of(next(iter(bot_imports(module)))) == "engine"


def test_every_module_of_bot_lives_in_a_wing_or_is_a_known_root_module() -> None:
    root = {path.stem for path in modules_in(BOT)} - {"__init__"}
    shared = {
        "settings",
        "logs",
        "i18n",
        "render",
        "clock",
        "services",
        "embedded_redis",
        "eventloop",
    }
    assert root <= shared | ENTRY_POINTS, root - shared - ENTRY_POINTS


def test_the_checker_sees_an_upward_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from bot.web.app import create_app\n")
    assert wing_of(next(iter(bot_imports(module)))) == "web"
