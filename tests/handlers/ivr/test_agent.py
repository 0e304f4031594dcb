"""Agent transfer: hold music while the agent is invited; join or apology."""

from shared.settings import Settings
from tests.fixtures.fakes import call_at_main_menu, deliver, make_context


async def agent_invited(ctx):
    call = await call_at_main_menu(ctx)
    await deliver(ctx, "recognize_completed_choice", call)
    ctx.acs.ops.clear()
    return call


async def test_agent_answers_hold_music_stops_and_both_stay_on_the_line():
    ctx, acs, store = make_context()
    call = await agent_invited(ctx)

    await deliver(ctx, "add_participant_succeeded", call)

    assert acs.names() == ["cancel-all-media"]
    assert store.states[call].step == "with-agent"


async def test_agent_declines_caller_hears_apology_then_call_hangs_up():
    ctx, acs, _ = make_context()
    call = await agent_invited(ctx)

    await deliver(ctx, "add_participant_failed", call)
    assert acs.names() == ["cancel-all-media", "play"]
    assert acs.ops[1].request.prompts[0].text.startswith("Sorry, no agent is available")

    await deliver(ctx, "play_completed", call)

    assert acs.ops[-1].name == "hang-up" and acs.ops[-1].request.for_everyone is True


async def test_pstn_agent_is_dialled_with_the_configured_caller_id():
    ctx, acs, _ = make_context(agent_target="+18005550123", agent_caller_id="+18005550100")
    call = await call_at_main_menu(ctx)

    await deliver(ctx, "recognize_completed_choice", call)

    [add] = acs.calls("add-participant")
    assert add.request.target == "+18005550123"
    assert add.request.caller_id == "+18005550100"


async def test_without_an_agent_configured_the_caller_hears_an_apology():
    ctx, acs, store = make_context(agent_target=None)
    call = await call_at_main_menu(ctx)

    await deliver(ctx, "recognize_completed_choice", call)

    assert acs.names() == ["play"] and store.states[call].step == "goodbye"


def test_pstn_agent_without_caller_id_is_a_settings_error():
    env = {
        "ACS_ENDPOINT": "http://127.0.0.1:1",
        "CALLBACK_BASE_URL": "http://127.0.0.1:7071",
        "CALLBACK_AUTH_ENABLED": "false",
        "STORAGE_CONNECTION_STRING": "x",
        "AGENT_TARGET": "+18005550123",
    }
    try:
        Settings.from_env(env)
    except Exception as exc:
        assert "AGENT_CALLER_ID is missing" in str(exc)
    else:
        raise AssertionError("expected a settings error")


def participants(*raw_ids: str) -> list[dict]:
    return [
        {
            "identifier": {"rawId": raw_id, "kind": "phoneNumber", "phoneNumber": {"value": raw_id[2:]}},
            "isMuted": False,
            "isOnHold": False,
        }
        for raw_id in raw_ids
    ]


async def test_caller_hanging_up_while_with_the_agent_ends_the_call_for_the_agent_too():
    ctx, acs, store = make_context(agent_target="+18005550123", agent_caller_id="+18005550100")
    call = await agent_invited(ctx)
    await deliver(ctx, "add_participant_succeeded", call)
    acs.ops.clear()

    await deliver(ctx, "participants_updated", call, participants=participants("4:+18005550123"))

    assert acs.names() == ["hang-up"] and acs.ops[0].request.for_everyone is True
    assert store.states[call].step == "hanging-up"


async def test_participant_changes_with_the_caller_still_there_change_nothing():
    ctx, acs, store = make_context(agent_target="+18005550123", agent_caller_id="+18005550100")
    call = await agent_invited(ctx)
    await deliver(ctx, "add_participant_succeeded", call)
    acs.ops.clear()

    await deliver(ctx, "participants_updated", call, participants=participants("4:+18447649276", "4:+18005550123"))

    assert acs.names() == [] and store.states[call].step == "with-agent"
