"""Seed Table Storage with demo routing rules, orders and a masking pair: `python -m shared.seed`.

The e2e tests and the local stack call seed_demo_data(); admins can add rules with put_routing_rule().
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from shared.clients import (
    build_context,
    call_automation_client,
    ensure_tables,
    load_settings,
    table_service_client,
)
from shared.context import Context
from shared.pairings import Pairing
from shared.routing_rules import RoutingRule

logger = logging.getLogger(__name__)

DEMO_ORDERS: Mapping[str, Mapping[str, str]] = {
    "12345": {"status": "out for delivery"},
    "24680": {"status": "shipped"},
    "11111": {"status": "being prepared"},
}

# The demo line answers into the IVR; the second number shows a busy line; the third is a masking proxy.
DEMO_RULES = (
    RoutingRule(number="+18005550100", mode="answer", flow="ivr"),
    RoutingRule(number="+18005550199", mode="busy"),
    RoutingRule(number="+18005550142", mode="masking"),
)

# A buyer and a seller who reach each other through the proxy number without learning each other's number.
DEMO_PAIRINGS = (Pairing(name="order-1001", proxy="+18005550142", party_a="+14255550101", party_b="+14255550102"),)


async def put_routing_rule(ctx: Context, rule: RoutingRule) -> None:
    """Store (replace) the routing rule for rule.number."""
    await ctx.routing_rules.put(rule.number, rule.to_entity())


async def put_order(ctx: Context, order_number: str, status: str) -> None:
    await ctx.orders.put(order_number, {"status": status})


async def seed_demo_data(ctx: Context) -> None:
    """Idempotently write the demo routing rules and orders."""
    for rule in DEMO_RULES:
        await put_routing_rule(ctx, rule)
    for number, order in DEMO_ORDERS.items():
        await put_order(ctx, number, order["status"])
    for pairing in DEMO_PAIRINGS:
        await ctx.pairings.put(pairing)


async def main() -> None:
    settings = load_settings()
    async with table_service_client(settings) as tables, call_automation_client(settings) as call_automation:
        await ensure_tables(tables, settings)
        await seed_demo_data(build_context(settings, call_automation=call_automation, tables=tables))
    logger.info("Seeded %d routing rule(s) and %d order(s)", len(DEMO_RULES), len(DEMO_ORDERS))


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    asyncio.run(main())
