"""Call media: play, recognize, DTMF, hold, and contract §7.2's rules for which media operations queue behind which."""

from ..operations import CALL, Operation
from .dtmf import send_dtmf_tones, start_continuous_dtmf_recognition, stop_continuous_dtmf_recognition
from .engine import MediaState, heard_tones, media_state
from .hold import hold, unhold
from .listener import listener
from .play import cancel_all_media_operations, play
from .recognize import recognize

OPERATIONS = [
    Operation("CallMedia_Play", "POST", CALL + r":play", play),
    Operation(
        "CallMedia_CancelAllMediaOperations", "POST", CALL + r":cancelAllMediaOperations", cancel_all_media_operations
    ),
    Operation("CallMedia_Recognize", "POST", CALL + r":recognize", recognize),
    Operation(
        "CallMedia_StartContinuousDtmfRecognition",
        "POST",
        CALL + r":startContinuousDtmfRecognition",
        start_continuous_dtmf_recognition,
    ),
    Operation(
        "CallMedia_StopContinuousDtmfRecognition",
        "POST",
        CALL + r":stopContinuousDtmfRecognition",
        stop_continuous_dtmf_recognition,
    ),
    Operation("CallMedia_SendDtmfTones", "POST", CALL + r":sendDtmfTones", send_dtmf_tones, repeatable=True),
    Operation("CallMedia_Hold", "POST", CALL + r":hold", hold),
    Operation("CallMedia_Unhold", "POST", CALL + r":unhold", unhold),
]

__all__ = ["OPERATIONS", "MediaState", "heard_tones", "listener", "media_state"]
