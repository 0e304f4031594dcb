"""Call recording: the five REST operations, the file written on stop, and its control API."""

from ..models import Backend
from .control import routes
from .operations import OPERATIONS, RecordingListener


def listener(backend: Backend) -> RecordingListener:
    return RecordingListener(backend)


__all__ = ["OPERATIONS", "listener", "routes"]
