"""Reading policy data (YAML or JSON) with the path of every value, so a mistake in a policy
a BKPSDM officer edits is reported in Indonesian at its place ("kebijakan.types.cuti_besar.
approval_levels: harus 1 atau 2"). Each policy module turns the text into its own error."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, time
from decimal import Decimal, InvalidOperation
from typing import Any


class PolicyNode:
    """A value read from policy data and where it sits."""

    def __init__(self, value: Any, path: str, error: Callable[[str], Exception]) -> None:
        self.value = value
        self.path = path
        self._error = error

    def fail(self, problem: str) -> Exception:
        return self._error(f"{self.path}: {problem}")

    def _child(self, value: Any, key: Any) -> PolicyNode:
        return PolicyNode(value, f"{self.path}.{key}", self._error)

    def _mapping(self) -> Mapping[Any, Any]:
        if not isinstance(self.value, Mapping):
            raise self.fail("harus berupa pemetaan (kunci: nilai)")
        return self.value

    def has(self, key: str) -> bool:
        return key in self._mapping() and self._mapping()[key] is not None

    def is_null(self, key: str) -> bool:
        return self[key].value is None

    def __getitem__(self, key: str) -> PolicyNode:
        mapping = self._mapping()
        if key not in mapping:
            raise self._child(None, key).fail("wajib diisi")
        return self._child(mapping[key], key)

    def get(self, key: str) -> PolicyNode | None:
        return self[key] if self.has(key) else None

    def items(self) -> list[tuple[Any, PolicyNode]]:
        return [(k, self._child(v, k)) for k, v in self._mapping().items()]

    def as_list(self) -> list[PolicyNode]:
        if self.value is None:
            return []
        if not isinstance(self.value, list):
            raise self.fail("harus berupa daftar")
        return [PolicyNode(v, f"{self.path}[{i}]", self._error) for i, v in enumerate(self.value)]

    def as_str(self) -> str:
        if isinstance(self.value, bool) or not isinstance(self.value, (str, int)):
            raise self.fail("harus berupa teks")
        return str(self.value)

    def as_text(self) -> str:
        """Text that must say something: stripped, never empty."""
        if not isinstance(self.value, str) or not self.value.strip():
            raise self.fail("wajib diisi")
        return self.value.strip()

    def as_strs(self) -> tuple[str, ...]:
        return tuple(item.as_str() for item in self.as_list())

    def as_choice(self, choices: tuple[str, ...]) -> str:
        text = self.as_str()
        if text not in choices:
            raise self.fail(f"harus salah satu dari {', '.join(choices)}")
        return text

    def as_int(self) -> int:
        if isinstance(self.value, bool) or not isinstance(self.value, int):
            raise self.fail("harus berupa bilangan bulat")
        return self.value

    def as_count(self) -> int:
        """A whole number of days, bytes, levels…: never negative."""
        if isinstance(self.value, bool) or not isinstance(self.value, int) or self.value < 0:
            raise self.fail("harus bilangan bulat ≥ 0")
        return self.value

    def as_bool(self) -> bool:
        if not isinstance(self.value, bool):
            raise self.fail("harus true atau false")
        return self.value

    def as_date(self) -> date:
        if not isinstance(self.value, date):
            raise self.fail("harus berupa tanggal (YYYY-MM-DD)")
        return self.value

    def as_time(self) -> time:
        try:
            return time.fromisoformat(self.as_str())
        except ValueError:
            raise self.fail("harus berupa jam (HH:MM)") from None

    def as_decimal(self) -> Decimal:
        value = self.value
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise self.fail("harus berupa angka")
        try:
            # A float is read through its shortest repr: 0.5 -> "0.5", never 0.5000000000000001.
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise self.fail(f"{value!r} bukan angka") from None
        if not number.is_finite():
            raise self.fail(f"{value!r} bukan angka")
        return number
