"""The shape every change keeps, checked in the source (docs/architecture.md says why):
- only the unit of work and the sweep, both in hub_shared, call `relay`;
- no view catches a use case's NotFound or Conflict: the app's one error mapping answers them.
Each check is also run on a planted offence, so it is known to fail when it should."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "services"
SHARED = ROOT / "shared" / "hub_shared"
DOMAIN_ERRORS = {"NotFound", "Conflict", "DomainError"}


def code_files(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*.py")):
        if "migrations" not in path.parts:
            yield path


def relay_calls(source: str) -> list[int]:
    """Lines that call `<anything>.relay(...)`."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "relay"
    ]


def caught_domain_errors(source: str) -> list[int]:
    """Lines of `except` clauses that name NotFound, Conflict or DomainError."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ExceptHandler) and node.type is not None:
            names = {n.id if isinstance(n, ast.Name) else getattr(n, "attr", "") for n in ast.walk(node.type)}
            if names & DOMAIN_ERRORS:
                lines.append(node.lineno)
    return lines


def is_view_module(path: Path) -> bool:
    """A module that serves routes: it makes a Blueprint (views.py, own_pages.py...)."""
    return "Blueprint(" in path.read_text()


def test_only_the_unit_of_work_and_the_sweep_relay() -> None:
    offenders = [
        f"{p.relative_to(ROOT)}:{n}" for p in code_files(SERVICES) for n in relay_calls(p.read_text())
    ]
    assert offenders == []
    in_shared = {p.name: relay_calls(p.read_text()) for p in code_files(SHARED)}
    # The unit of work's relayer is handed `bus.relay` (in bus.py) and calls it on its thread;
    # the one call by name is the sweep's.
    assert {name for name, lines in in_shared.items() if lines} == {"app.py"}
    assert len(in_shared["app.py"]) == 1


def test_no_view_catches_not_found_or_conflict() -> None:
    views = [p for p in code_files(SERVICES) if is_view_module(p)]
    assert views, "no view modules found: has the layout changed?"
    offenders = [f"{p.relative_to(ROOT)}:{n}" for p in views for n in caught_domain_errors(p.read_text())]
    assert offenders == []


def test_the_checks_find_a_planted_offence() -> None:
    planted = """
def view():
    try:
        with hub.uow.begin() as session:
            change(session)
    except (NotFound, errors.Conflict):
        return page()
    hub.bus.relay()
"""
    assert relay_calls(planted) == [8]
    assert caught_domain_errors(planted) == [6]
