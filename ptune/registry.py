"""Name -> implementation registries that answer an unknown name with the choices and a "did you mean"."""
from __future__ import annotations

import difflib
from typing import Callable, Generic, TypeVar

T = TypeVar("T")


class UnknownNameError(KeyError):
    """Raised for a name that is not registered; the message lists the choices."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0])


class Registry(Generic[T]):
    """`discover`: imports the modules that register the entries, called at the first lookup (not when the registry
    is created), so that importing a registry stays cheap when its entries import torch."""

    def __init__(self, kind: str, discover: Callable[[], None] | None = None):
        self.kind = kind
        self._entries: dict[str, T] = {}
        self._discover = discover

    def register(self, name: str) -> Callable[[T], T]:
        def add(entry: T) -> T:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._entries[name] = entry
            return entry

        return add

    def get(self, name: str) -> T:
        self._discovered()
        if name not in self._entries:
            raise UnknownNameError(unknown_name_message(self.kind, name, self.names()))
        return self._entries[name]

    def names(self) -> list[str]:
        self._discovered()
        return sorted(self._entries)

    def _discovered(self) -> None:
        discover, self._discover = self._discover, None  # once (the modules it imports may look entries up)
        if discover is not None:
            try:
                discover()
            except BaseException:
                self._discover = discover  # a failed import is reported again at the next lookup
                raise


def unknown_name_message(kind: str, name: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(str(name), choices, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return f"unknown {kind} {name!r}.{hint} Choices: {', '.join(choices)}"
