"""No status is written as a string literal in a service's code or templates: statuses are the
`StrEnum`s named `...Status` in the service's `enums.py` modules, and only there (and in the
migrations, which are history) do their values appear as text. The check is also run on a
planted literal, so it is known to fail when it should."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from enum import StrEnum
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("intake", "dispatch", "notify")
QUOTED = re.compile(r"""(["'])([a-z_]+)\1""")


def package_dir(service: str) -> Path:
    return ROOT / "services" / service / service


def status_values(service: str) -> set[str]:
    """The values of every `...Status` StrEnum in the service's enums modules."""
    values: set[str] = set()
    for path in sorted(package_dir(service).rglob("enums.py")):
        dotted = ".".join(path.relative_to(package_dir(service).parent).with_suffix("").parts)
        module = importlib.import_module(dotted)
        for name, member in vars(module).items():
            if inspect.isclass(member) and issubclass(member, StrEnum) and name.endswith("Status"):
                values |= {status.value for status in member}
    return values


def literals_in_code(source: str, values: set[str]) -> list[tuple[int, str]]:
    return [
        (node.lineno, node.value)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in values
    ]


def literals_in_template(text: str, values: set[str]) -> list[tuple[int, str]]:
    return [
        (text.count("\n", 0, found.start()) + 1, found.group(2))
        for found in QUOTED.finditer(text)
        if found.group(2) in values
    ]


def offences(service: str, values: set[str]) -> list[str]:
    found = []
    for path in sorted(package_dir(service).rglob("*")):
        if "migrations" in path.parts or path.name == "enums.py" or not path.is_file():
            continue
        if path.suffix == ".py":
            hits = literals_in_code(path.read_text(), values)
        elif path.suffix in (".html", ".txt"):
            hits = literals_in_template(path.read_text(), values)
        else:
            continue
        found += [f"{path.relative_to(ROOT)}:{line}: {value!r}" for line, value in hits]
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_no_status_is_written_as_a_literal(service: str) -> None:
    values = status_values(service)
    assert values, f"{service} has no ...Status enums in an enums.py"
    assert offences(service, values) == []


def test_the_check_finds_planted_literals() -> None:
    values = {"escalated", "offered"}
    code = 'if request.status == "escalated":\n    move(request, to="offered")\n'
    assert literals_in_code(code, values) == [(1, "escalated"), (2, "offered")]
    template = '<p>\n{% if offer.status == "offered" %}open{% endif %}</p>'
    assert literals_in_template(template, values) == [(2, "offered")]
    assert literals_in_code('label = "Offered to a volunteer"', values) == []
