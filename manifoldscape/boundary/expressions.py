"""Arithmetic expressions of parameters (``"2*n-1"``, ``"n/2"``), parsed and evaluated flat.

Grid values of a sweep may be expressions of other parameters.  The grammar is numbers, names,
``+ - * /``, parentheses and unary signs, with the usual precedence (unary signs bind tightest).
Parsing is one pass of the shunting-yard algorithm into postfix order and evaluation one pass
over it with a stack, so no input can exhaust Python's recursion limit; the text is bounded
(``MAX_LENGTH`` characters, ``MAX_DEPTH`` nested parentheses) and every intermediate value must
be finite (``1e308*10`` is an overflow, not ``inf``).  Refusals are ``ValueError``s quoting the
text; callers prefix the parameter they belong to.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["MAX_DEPTH", "MAX_LENGTH", "Expression", "parse_expression"]

MAX_LENGTH = 256
MAX_DEPTH = 32

_TOKEN = re.compile(
    r"\s*(?:(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|(?P<name>[A-Za-z_]\w*)"
    r"|(?P<op>[-+*/()]))"
)
_BINARY = {"+": 1, "-": 1, "*": 2, "/": 2}
_UNARY = {"+": "pos", "-": "neg"}
_PRECEDENCE = {**_BINARY, "pos": 3, "neg": 3}


def _number_like(value: Any) -> bool:
    import numbers

    return isinstance(value, numbers.Real) and not isinstance(value, bool)


@dataclass(frozen=True)
class Expression:
    """A parsed expression: ``program`` in postfix order (floats, names and operator strings)."""

    text: str
    program: tuple[Any, ...]

    @property
    def names(self) -> set[str]:
        """The parameter names the expression uses."""
        return set(self.ordered_names())

    def ordered_names(self) -> list[str]:
        """The names in order of first appearance, left to right."""
        out: list[str] = []
        for item in self.program:
            if isinstance(item, _Name) and item not in out:
                out.append(str(item))
        return out

    @property
    def is_number(self) -> bool:
        """Whether the expression is a constant (no names)."""
        return not any(isinstance(item, _Name) for item in self.program)

    @property
    def is_name(self) -> bool:
        """Whether the expression is one name alone (``"n"``)."""
        return len(self.program) == 1 and isinstance(self.program[0], _Name)

    @property
    def is_literal(self) -> bool:
        """Whether the expression is one number alone (``"16"``)."""
        return len(self.program) == 1 and isinstance(self.program[0], float)

    def evaluate(self, values: Mapping[str, Any]) -> float:
        """The value with the names bound by ``values`` (numbers); ``ValueError`` otherwise."""
        stack: list[float] = []
        for item in self.program:
            if isinstance(item, _Name):
                bound = values.get(str(item))
                if not _number_like(bound):
                    raise ValueError(
                        f"{self.text!r}: {str(item)!r} must be a number, got {bound!r}"
                    )
                result = float(bound)
            elif isinstance(item, float):
                result = item
            elif item in ("neg", "pos"):
                result = -stack.pop() if item == "neg" else stack.pop()
            else:
                right, left = stack.pop(), stack.pop()
                if item == "+":
                    result = left + right
                elif item == "-":
                    result = left - right
                elif item == "*":
                    result = left * right
                else:
                    if right == 0:
                        raise ValueError(f"{self.text!r}: division by zero")
                    result = left / right
            if not math.isfinite(result):
                raise ValueError(f"{self.text!r}: the value overflows (it is not a finite number)")
            stack.append(result)
        return stack[0]

    def ratio(self) -> tuple[float, str] | None:
        """(c, name) when the expression is c*name or name*c (or just name), else None."""
        program = self.program
        if self.is_name:
            return 1.0, str(program[0])
        if len(program) == 3 and program[2] == "*":
            left, right = program[0], program[1]
            if isinstance(left, float) and isinstance(right, _Name):
                return left, str(right)
            if isinstance(left, _Name) and isinstance(right, float):
                return right, str(left)
        return None


class _Name(str):
    """A parameter name in a program (distinct from the operator strings)."""

    __slots__ = ()


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    stripped = text.rstrip()
    while position < len(stripped):
        match = _TOKEN.match(stripped, position)
        if match is None:
            raise ValueError(f"{text!r}: unexpected character {stripped[position:].lstrip()[0]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def parse_expression(text: str) -> Expression:
    """Parse ``text`` (numbers, names, ``+ - * /``, parentheses, unary signs).

    Raises ``ValueError`` saying where the text stops making sense, or that it is too long or
    too deeply nested.
    """
    if not isinstance(text, str):
        raise TypeError(f"an expression must be a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ValueError(
            f"an expression of {len(text)} characters (at most {MAX_LENGTH}): {text[:24]!r}…"
        )
    tokens = _tokens(text)
    if not tokens:
        raise ValueError("an empty expression")
    output: list[Any] = []
    operators: list[str] = []
    depth = 0
    expect_operand = True
    for kind, value in tokens:
        if expect_operand:
            if kind == "number":
                number = float(value)
                if not math.isfinite(number):
                    raise ValueError(f"{text!r}: the number {value} is out of range")
                output.append(number)
                expect_operand = False
            elif kind == "name":
                output.append(_Name(value))
                expect_operand = False
            elif value in _UNARY:
                operators.append(_UNARY[value])
            elif value == "(":
                depth += 1
                if depth > MAX_DEPTH:
                    raise ValueError(
                        f"{text[:24]!r}…: parentheses nested more than {MAX_DEPTH} deep"
                    )
                operators.append("(")
            else:
                raise ValueError(f"{text!r}: unexpected {value!r}")
            continue
        if value in _BINARY:
            while (
                operators and operators[-1] != "(" and _PRECEDENCE[operators[-1]] >= _BINARY[value]
            ):
                output.append(operators.pop())
            operators.append(value)
            expect_operand = True
        elif value == ")":
            while operators and operators[-1] != "(":
                output.append(operators.pop())
            if not operators:
                raise ValueError(f"{text!r}: unexpected ')'")
            operators.pop()
            depth -= 1
        else:
            raise ValueError(f"{text!r}: unexpected {value!r}")
    if expect_operand:
        raise ValueError(f"{text!r}: ends too early")
    while operators:
        operator = operators.pop()
        if operator == "(":
            raise ValueError(f"{text!r}: missing ')'")
        output.append(operator)
    return Expression(text.strip(), tuple(output))
