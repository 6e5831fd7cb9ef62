"""The store's change log: a bounded event history for watch replay, live watchers, and subscribers.

All methods but dispatch() run under the store's lock; dispatch() calls subscribers after it is released.
"""
from __future__ import annotations

import json
import logging
import threading
from collections import deque
from itertools import islice
from typing import Callable

from . import errors
from .watchers import Watcher

log = logging.getLogger(__name__)
Callback = Callable[[str, tuple, dict], None]


class EventLog:
    def __init__(self, lock: threading.RLock, size: int) -> None:
        self._lock = lock
        self.size = size
        self._history: deque = deque()   # (resourceVersion, event type, gvr, entry, previous entry)
        self.compacted = 0               # the newest resourceVersion no longer in the history
        self._watchers: list[Watcher] = []
        self._subscribers: list[Callback] = []
        self._pending: deque = deque()
        self._dispatch_lock = threading.Lock()
        self._local = threading.local()

    def record(self, rv: int, event: str, gvr: tuple, entry, old) -> None:
        self._history.append((rv, event, gvr, entry, old))
        while len(self._history) > self.size:
            self.compacted = self._history.popleft()[0]
        for watcher in self._watchers:
            watcher.offer(event, gvr, entry, old)
        if self._subscribers:
            self._pending.append((event, gvr, entry))

    def replay(self, watcher: Watcher, since: int) -> None:
        """Feed `watcher` every recorded event after `since`; 410 Expired when those are compacted."""
        if since < self.compacted:
            raise errors.expired(f"too old resource version: {since} ({self.compacted + 1})")
        if not self._history:
            return
        # resourceVersions in the history are consecutive: start right after `since`
        for _, event, gvr, entry, old in islice(self._history, max(0, since + 1 - self._history[0][0]), None):
            watcher.offer(event, gvr, entry, old)

    @property
    def watcher_count(self) -> int:
        with self._lock:
            return len(self._watchers)

    def add(self, watcher: Watcher) -> None:
        self._watchers.append(watcher)
        watcher.on_close = self._forget

    def _forget(self, watcher: Watcher) -> None:
        with self._lock:
            if watcher in self._watchers:
                self._watchers.remove(watcher)

    def close_watchers(self) -> None:
        with self._lock:
            watchers, self._watchers = self._watchers, []
        for watcher in watchers:
            watcher.close()

    def subscribe(self, callback: Callback) -> Callable[[], None]:
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)
        return unsubscribe

    def dispatch(self) -> None:
        """Call subscribers for pending events, in commit order; a subscriber that writes is not re-entered."""
        if getattr(self._local, "dispatching", False):
            return
        self._local.dispatching = True
        try:
            with self._dispatch_lock:
                while True:
                    with self._lock:
                        if not self._pending:
                            return
                        event, gvr, entry = self._pending.popleft()
                        callbacks = list(self._subscribers)
                    for callback in callbacks:
                        try:
                            callback(event, gvr, json.loads(entry.raw))
                        except Exception:  # a broken subscriber must not break writers
                            log.exception("store subscriber failed")
        finally:
            self._local.dispatching = False
