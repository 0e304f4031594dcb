"""Media streaming and live transcription: REST operations, call options, and the WebSocket the emulator feeds."""

from ..models import Backend
from .operations import OPERATIONS, StreamingListener
from .options import configure_from_request


def listener(backend: Backend) -> StreamingListener:
    return StreamingListener(backend)


__all__ = ["OPERATIONS", "configure_from_request", "listener"]
