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


def proxies(client):
    """The proxies the pipeline's ProxyPolicy sends every request through (None: direct)."""
    from azure.core.pipeline.policies import ProxyPolicy

    runners = client._client._client._pipeline._impl_policies
    policies = [getattr(runner, "_policy", runner) for runner in runners]
    return next(policy.proxies for policy in policies if isinstance(policy, ProxyPolicy))


async def test_proxies_come_from_the_environment_once_and_never_per_request(monkeypatch):
    from tests.fixtures.fakes import settings

    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3129")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    through_proxy = {"http": "http://proxy.example:3128", "https": "http://proxy.example:3129"}
    for flag, expected in ((True, through_proxy), (False, None)):
        configured = settings(http_use_env_settings=flag)
        acs, tables = clients.call_automation_client(configured), clients.table_service_client(configured)
        try:
            table = tables.get_table_client("callstate")
            assert proxies(acs) == expected
            assert proxies(tables) == expected
            for client in (acs, tables, table):
                # aiohttp's trust_env would look the variables (and .netrc) up again on every request.
                assert transport(client)._use_env_settings is False
        finally:
            await acs.close()
            await tables.close()


def test_no_proxy_exempts_an_endpoint(monkeypatch):
    from shared.transport import proxies_for

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3129")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,.internal.example")
    assert proxies_for("http://127.0.0.1:10002/devstoreaccount1") is None
    assert proxies_for("https://acs.internal.example") is None
    assert proxies_for("https://contoso.communication.azure.com") == {"https": "http://proxy.example:3129"}


async def test_sdk_requests_reuse_one_kept_alive_connection(storage_connection_string):
    """Sequential requests share one connection, and the pool drops idle ones before Azurite (5 s) closes them."""
    from shared.transport import LOCAL_KEEPALIVE_SECONDS, REMOTE_KEEPALIVE_SECONDS, keepalive_for
    from tests.fixtures.fakes import settings

    tables = clients.table_service_client(settings(storage_connection_string=storage_connection_string))
    async with tables:
        table = tables.get_table_client("keepalivecheck")
        await table.create_table()
        try:
            for index in range(5):
                await table.upsert_entity({"PartitionKey": "p", "RowKey": str(index)})
            connector = transport(table).session.connector
            assert connector._keepalive_timeout == LOCAL_KEEPALIVE_SECONDS < 5
            assert sum(len(kept) for kept in connector._conns.values()) == 1
        finally:
            await table.delete_table()
    assert keepalive_for("http://127.0.0.1:10002/devstoreaccount1") == LOCAL_KEEPALIVE_SECONDS
    assert keepalive_for("https://contoso.communication.azure.com") == REMOTE_KEEPALIVE_SECONDS < 240
