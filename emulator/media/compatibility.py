"""Contract §7.2, the media action compatibility table: which media operations may run or queue behind which."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Kind(StrEnum):
    """A media operation as the compatibility table classifies it (the values are the table's own names)."""

    PLAY_TO_ALL = "PlayToAll"
    RECOGNIZE = "Recognize(Non-Group Call)"
    PLAY_TO = "PlayTo"
    RECOGNIZE_GROUP = "Recognize(Group Call)"
    SEND_DTMF = "SendDTMF"
    CONTINUOUS_DTMF = "StartContinuousDtmfRecognition"


class Lane(StrEnum):
    MAIN = "Main"  # one FIFO queue per call: an operation waits for the one ahead of it
    SUB = "Sub"  # runs at once, beside the main queue; the table allows only one at a time
    PARALLEL = "Parallel"  # continuous DTMF recognition: a subscription, not a queued action


LANE = {
    Kind.PLAY_TO_ALL: Lane.MAIN,
    Kind.RECOGNIZE: Lane.MAIN,
    Kind.PLAY_TO: Lane.SUB,
    Kind.RECOGNIZE_GROUP: Lane.SUB,
    Kind.SEND_DTMF: Lane.SUB,
    Kind.CONTINUOUS_DTMF: Lane.PARALLEL,
}

_EVERYTHING = frozenset(Kind)
_MAIN_ONLY = frozenset({Kind.PLAY_TO_ALL, Kind.RECOGNIZE})

# The table's "Allowed (run/queue)" column, row by row; every other new operation is in its "Disallowed" column.
ALLOWED_AFTER: dict[Kind, frozenset[Kind]] = {
    Kind.PLAY_TO_ALL: _EVERYTHING,
    Kind.RECOGNIZE: _EVERYTHING,
    Kind.PLAY_TO: _MAIN_ONLY,
    Kind.RECOGNIZE_GROUP: _MAIN_ONLY,
    Kind.SEND_DTMF: _MAIN_ONLY,
    Kind.CONTINUOUS_DTMF: _EVERYTHING,
}

COMPATIBLE: dict[tuple[Kind, Kind], bool] = {
    (existing, new): new in ALLOWED_AFTER[existing] for existing in Kind for new in Kind
}


def first_conflict(existing: Iterable[Kind], new: Kind) -> Kind | None:
    """The first running or queued operation that the table says `new` may not run or queue behind."""
    return next((kind for kind in existing if not COMPATIBLE[(kind, new)]), None)
