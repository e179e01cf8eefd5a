"""A small, thread-safe, bounded map that forgets its least recently used entries.

Uploads and finished jobs live here, in memory only: the server writes nothing to disk,
and a bound on the count (with the pixel limit on each image) bounds the memory.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from typing import Generic, TypeVar

Value = TypeVar("Value")

# ids are 16 URL-safe characters (96 random bits): unguessable, and checked by pattern
ID_PATTERN = r"^[A-Za-z0-9_-]{16}$"


def new_id() -> str:
    return secrets.token_urlsafe(12)


class BoundedStore(Generic[Value]):
    def __init__(self, capacity: int):
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._items: OrderedDict[str, Value] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, value: Value) -> str:
        """Keep ``value`` under a new id, forgetting the oldest entry if full."""
        key = new_id()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)
        return key

    def get(self, key: str) -> Value | None:
        """The value (now the most recently used), or None if unknown or forgotten."""
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
