"""The process-wide context: built once from the environment, over real Azurite tables."""

from shared import clients
from shared.seed import seed_demo_data


async def test_context_is_built_once_and_seeding_is_readable(monkeypatch, storage_connection_string):
    env = {
        "ACS_ENDPOINT": "http://127.0.0.1:8090",
        "ACS_ACCESS_KEY": "a2V5",
        "CALLBACK_BASE_URL": "http://127.0.0.1:7071",
        "CALLBACK_AUTH_ENABLED": "false",
        "STORAGE_CONNECTION_STRING": storage_connection_string,
        "STATE_TABLE_NAME": "clientstate",
        "ROUTING_TABLE_NAME": "clientrules",
        "ORDERS_TABLE_NAME": "clientorders",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    clients.use(None)
    try:
        ctx = await clients.context()
        assert await clients.context() is ctx
        await seed_demo_data(ctx)
        assert (await ctx.orders.get("12345"))["status"] == "out for delivery"
        assert (await ctx.routing_rules.get("+18005550199"))["mode"] == "busy"
        assert await ctx.orders.get("99999") is None
        await clients.verify_callback(None)  # auth disabled: no token needed
        acs = clients.call_automation_client(ctx.settings)
        assert acs._client._config.endpoint == "http://127.0.0.1:8090"  # http kept, not forced to https
        await acs.close()
    finally:
        await clients.close()


def transport(client):
    """The aiohttp transport under an SDK client's pipeline."""
    current = client._client._client._pipeline._transport
    while hasattr(current, "_transport"):
        current = current._transport
    return current


async def test_http_use_env_settings_reaches_both_sdk_clients():
    from tests.fixtures.fakes import settings

    for flag in (True, False):
        configured = settings(http_use_env_settings=flag)
        acs, tables = clients.call_automation_client(configured), clients.table_service_client(configured)
        try:
            table = tables.get_table_client("callstate")
            assert transport(acs)._use_env_settings is flag
            assert transport(tables)._use_env_settings is flag
            assert transport(table)._use_env_settings is flag
        finally:
            await acs.close()
            await tables.close()
