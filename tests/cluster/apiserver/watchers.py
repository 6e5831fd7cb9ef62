"""A watch's queue of events, filtered by namespace and selectors as kube's watch cache filters them."""
from __future__ import annotations

import queue
from typing import Callable

CLOSED = ("CLOSED", None)


class Watcher:
    """Receives (event type, entry) pairs from the store until closed."""

    def __init__(self, gvr: tuple, namespace: str | None, label_selector: Callable | None,
                 field_selector: Callable | None) -> None:
        self.gvr = gvr
        self.namespace = namespace
        self._label = label_selector
        self._field = field_selector
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self.closed = False
        self.on_close: Callable[["Watcher"], None] | None = None

    def _matches(self, obj: dict) -> bool:
        if self.namespace is not None and obj["metadata"].get("namespace") != self.namespace:
            return False
        return (self._label is None or self._label(obj)) and (self._field is None or self._field(obj))

    def offer(self, event: str, gvr: tuple, entry, old) -> None:
        """Queue the event if it concerns this watch; an object entering or leaving the selection is
        reported as ADDED or DELETED, as kube does."""
        if gvr != self.gvr or self.closed:
            return
        now = self._matches(entry.obj)
        if event == "MODIFIED" and old is not None:
            before = self._matches(old.obj)
            if now and not before:
                event = "ADDED"
            elif before and not now:
                event, now = "DELETED", True
        if now:
            self._queue.put((event, entry))

    def push(self, event: str, entry) -> None:
        self._queue.put((event, entry))

    def next(self, timeout: float | None) -> tuple[str, object] | None:
        """The next event, CLOSED once closed, or None when `timeout` passes first."""
        if self.closed:
            return CLOSED
        try:
            item = self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
        return CLOSED if item is None else item

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._queue.put(None)
        if self.on_close:
            self.on_close(self)
