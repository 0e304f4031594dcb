"""Phone numbers never reach the logs unmasked; call identifiers travel with every record."""

import logging

from shared.logging import call_logger, install_log_hygiene, install_phone_number_masking, mask, short_id
from tests.fixtures.fakes import event


def test_mask_keeps_prefix_and_last_four_digits():
    assert mask("from +15551230199 via 4:+18447649276") == "from +1555***0199 via 4:+1844***9276"
    assert mask("order 12345, call 0b004880") == "order 12345, call 0b004880"


def test_records_are_masked_in_message_and_arguments(caplog):
    install_phone_number_masking()
    install_phone_number_masking()  # idempotent
    with caplog.at_level(logging.INFO):
        logging.getLogger("any.module").info("Call from %s to +18005550100", "4:+18447649276")
    assert caplog.messages == ["Call from 4:+1844***9276 to +1800***0100"]


def test_call_logger_adds_call_identifiers(caplog):
    received = event("recognize_completed_choice", event_id="evt-1")
    with caplog.at_level(logging.INFO):
        call_logger(logging.getLogger("test"), received).info("hello")
    [record] = caplog.records
    assert record.call_connection_id == "0b004880-e406-40bf-8384-a4042a72fecd"
    assert (record.event_id, record.operation_context) == ("evt-1", "main-menu")
    assert record.correlation_id == "1b541d21-bd0e-4695-a9ce-bf3290a807bd"


def test_url_encoded_and_bare_numbers_are_masked():
    """Finding 7: the SDK's request lines carry table keys URL-encoded ("%2B1425..."); some logs drop the "+"."""
    line = "GET /routingrules(PartitionKey='%2B18005550100',RowKey='rule') for 4:14255550123 and 14255550123."
    assert (
        mask(line)
        == "GET /routingrules(PartitionKey='%2B1800***0100',RowKey='rule') for 4:1425***0123 and 1425***0123."
    )
    assert mask("%2b14255550123") == "%2b1425***0123"


def test_bare_digit_runs_that_are_not_numbers_are_left_alone():
    kept = "8:acs:00000000-0000-4000-8000-000000000001_x took 1764859000.123 s; card 4111111111111111; order 12345"
    assert mask(kept) == kept


def test_long_ids_are_shortened_and_short_ones_kept():
    recording_id = "eyJQbGF0Zm9ybUVuZHBvaW50SWQiOiI5NjAwYmU4MC02NmFhLTQ0YzItODYxOC0zMzdjMzNiMDkxZWQifQ"
    assert short_id(recording_id) == "eyJQbGF0Zm...ZWQifQ"
    assert short_id("0b004880-e406") == "0b004880-e406"


def test_the_sdks_warning_about_its_own_undeclared_field_is_dropped(caplog):
    """SDK 1.6.0 warns on every answer with transcription options; other warnings of that logger still pass."""
    from azure.communication.callautomation import TranscriptionOptions

    serializer = logging.getLogger("azure.communication.callautomation._generated._utils.serialization")
    kept = list(serializer.filters)
    for installed in kept:
        serializer.removeFilter(installed)
    options = TranscriptionOptions(
        transport_url="wss://receiver.example/ws", transport_type="websocket", locale="en-US", start_transcription=False
    )
    try:
        with caplog.at_level(logging.WARNING):
            options._to_generated()
            assert any("speech_recognition_model_endpoint_id" in message for message in caplog.messages)
            caplog.clear()
            install_log_hygiene()
            options._to_generated()
            serializer.warning("another attribute is not a known attribute of class X")
        assert caplog.messages == ["another attribute is not a known attribute of class X"]
    finally:
        for installed in list(serializer.filters):
            serializer.removeFilter(installed)
        for installed in kept:
            serializer.addFilter(installed)
