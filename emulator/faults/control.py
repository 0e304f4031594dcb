"""Control API of the fault mode: read and replace the plan, read what was injected, rotate the signing key."""

from __future__ import annotations

from aiohttp import web

from ..control import ControlError, json_body
from ..models import backend_of
from .injector import Faults
from .plan import FaultPlan

routes = web.RouteTableDef()


def _faults(request: web.Request) -> Faults:
    return backend_of(request).faults


@routes.get("/emulator/faults")
async def get_faults(request: web.Request) -> web.Response:
    """The plan in force (with the seed it uses), counters of every injected fault, the published signing keys."""
    return web.json_response(_faults(request).view())


@routes.put("/emulator/faults")
async def put_faults(request: web.Request) -> web.Response:
    """Replace the plan (absent fields take their defaults) and restart its generators from its seed."""
    try:
        plan = FaultPlan.from_dict(await json_body(request))
    except ControlError as error:
        return error.to_response()
    except ValueError as error:
        return ControlError(400, f"Bad fault plan: {error}.").to_response()
    faults = _faults(request)
    faults.apply(plan)
    return web.json_response(faults.view())


@routes.get("/emulator/faults/log")
async def fault_log(request: web.Request) -> web.Response:
    """Every injected fault, oldest first; `?channel=callback|eventgrid|rest|keys` filters."""
    channel = request.query.get("channel")
    log = _faults(request).log
    return web.json_response([entry for entry in log if channel is None or entry["channel"] == channel])


@routes.post("/emulator/faults/rotate-key")
async def rotate_key(request: web.Request) -> web.Response:
    """Sign callback tokens with a new key from now on; the JWKS publishes it (and keeps old ones per the plan)."""
    faults = _faults(request)
    faults.backend.tokens.rotate()
    return web.json_response(faults.view()["signingKeys"])
