"""Calls this instance is answering right now. ACS sends CallConnected as soon as it answers, often before the
IncomingCall handler has written the call's state; on the instance that is answering, the callback waits for that
write (a few milliseconds) instead of racing it through the store, and finds the state in the instance's cache.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

# Longer than an answer and a state write ever take; past it the callback adopts the call as any other instance does.
WAIT_SECONDS = 5.0

_answering: dict[str, tuple[asyncio.Task[object] | None, asyncio.Event]] = {}


@contextlib.contextmanager
def answering(server_call_id: str) -> Iterator[None]:
    """While the block runs, this instance is answering the call and writing its state."""
    done = asyncio.Event()
    _answering[server_call_id] = (asyncio.current_task(), done)
    try:
        yield
    finally:
        done.set()
        if _answering.get(server_call_id, (None, None))[1] is done:
            del _answering[server_call_id]


async def answered(server_call_id: str) -> bool:
    """Wait until this instance has answered the call and written its state; False if it is not answering it, if that
    took longer than WAIT_SECONDS, or if the caller is the answering task itself (which cannot wait for itself)."""
    pending = _answering.get(server_call_id)
    if pending is None or pending[0] is asyncio.current_task():
        return False
    try:
        await asyncio.wait_for(pending[1].wait(), WAIT_SECONDS)
    except TimeoutError:
        return False
    return True
