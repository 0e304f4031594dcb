"""Fault mode: seeded duplicate, late, reordered and dropped deliveries, failed REST requests, key rotation."""

from .plan import FaultPlan

__all__ = ["FaultPlan"]
