"""Step deadlines: the longest the step's actions can take, scaled like the emulator's clock, plus grace."""

import pytest

from shared.actions import AddParticipant, HangUp, Play, Prompt, Recognize
from shared.deadlines import step_wait
from tests.fixtures.fakes import settings

MENU = Prompt(text=" ".join(["word"] * 25))  # 25 words at 150 words a minute: 10 s


@pytest.mark.parametrize(
    ("actions", "seconds"),
    [
        ((Play(prompts=(MENU,), operation_context="x"),), 10),
        ((Recognize(input_type="choices", target="t", prompts=(MENU,), operation_context="x"),), 15),
        ((Recognize(input_type="dtmf", target="t", prompts=(), max_tones=3, operation_context="x"),), 20),
        ((Play(prompts=(Prompt(audio_url="https://m/x.wav"),), loop=True, operation_context="x"),), 0),
        ((AddParticipant(target="t", invitation_timeout=45, operation_context="x"),), 45),
        ((Play(prompts=(Prompt(ssml="<speak><p>one two three</p></speak>"),), operation_context="x"),), 1.2),
        ((HangUp(),), 0),
    ],
)
def test_each_action_waits_as_long_as_acs_can_take_with_it(actions, seconds):
    assert step_wait(actions, settings(watchdog_grace_seconds=0)) == pytest.approx(seconds)


def test_the_emulators_time_scale_and_the_grace_apply_to_the_whole_step():
    actions = (Play(prompts=(MENU,), operation_context="x"), AddParticipant(target="t", operation_context="y"))

    wait = step_wait(actions, settings(watchdog_time_scale=0.1, watchdog_grace_seconds=2))

    assert wait == pytest.approx((10 + 30) * 0.1 + 2)
