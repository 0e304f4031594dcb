"""`python -m emulator`: serve the emulator, or drive a running one (place calls, press keys, speak, hang up...)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from .app import create_app
from .config import build_parser, config_from_args
from .control_client import DEFAULT_URL, URL_VARIABLE, ControlApiError, EmulatorControl
from .people import ANSWERS
from .tls import CERT_FILE, client_exports, ensure_certificate, server_ssl_context

Command = Callable[[EmulatorControl, argparse.Namespace], Any]


def header(value: str) -> tuple[str, str]:
    name, sep, content = value.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {value!r}")
    return name, content


def place_call(control: EmulatorControl, args: argparse.Namespace) -> dict:
    context = {
        name: dict(headers)
        for name, headers in (("sipHeaders", args.sip_header), ("voipHeaders", args.voip_header))
        if headers
    }
    placed = control.place_call(
        args.caller, args.callee, custom_context=context or None, display_name=args.display_name
    )
    return {
        "serverCallId": placed.server_call_id,
        "correlationId": placed.correlation_id,
        "incomingCallContext": placed.incoming_call_context,
    }


def people(control: EmulatorControl, args: argparse.Namespace) -> dict:
    if args.identity is None:
        return control.people()
    return control.set_behaviour(args.identity, answer=args.answer, answer_after_ms=args.answer_after_ms)


def timeline(control: EmulatorControl, args: argparse.Namespace) -> list | str:
    entries = control.timeline(args.call_id)
    if args.json:
        return entries
    return "\n".join(f"{e['elapsedMs']:>10.1f} ms  {e['kind']:<9} {e['summary']}" for e in entries)


def calls(control: EmulatorControl, args: argparse.Namespace) -> Any:
    return control.call(args.call_id) if args.call_id else control.calls()


def reset(control: EmulatorControl, args: argparse.Namespace) -> str:
    control.reset()
    return "emulator reset"


def add_commands(parser: argparse.ArgumentParser) -> None:
    """The client subcommands; serving stays the default when none is given."""
    url_help = f"the running emulator, http or https [{URL_VARIABLE}] (default {DEFAULT_URL})"
    parser.add_argument("--emulator-url", default=os.environ.get(URL_VARIABLE, DEFAULT_URL), help=url_help)
    # Also accepted after the command; SUPPRESS keeps a value given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--emulator-url", default=argparse.SUPPRESS, help=url_help)
    commands = parser.add_subparsers(dest="command", title="commands (talk to a running emulator)", metavar="COMMAND")

    def command(name: str, handler: Command, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, parents=[common], help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    call = command("call", place_call, "a simulated person calls the app (IncomingCall to Event Grid subscribers)")
    call.add_argument("caller", metavar="FROM", help="E.164 number or raw id of the caller, e.g. +15551230000")
    call.add_argument("callee", metavar="TO", help="the app's number or user being called")
    call.add_argument("--display-name", help="callerDisplayName")
    call.add_argument(
        "--sip-header",
        type=header,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="custom SIP header (X-MS-Custom-...), repeatable",
    )
    call.add_argument(
        "--voip-header",
        type=header,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="custom VoIP header, repeatable",
    )

    press = command("press", lambda c, a: c.press(a.call_id, a.who, a.tones), "a person presses keys")
    press.add_argument("call_id", help="serverCallId or callConnectionId")
    press.add_argument("who", help="the person's number or raw id")
    press.add_argument("tones", help='keypad characters, e.g. "123#"')

    say = command("say", lambda c, a: c.say(a.call_id, a.who, " ".join(a.text)), "a person says something")
    say.add_argument("call_id", help="serverCallId or callConnectionId")
    say.add_argument("who", help="the person's number or raw id")
    say.add_argument("text", nargs="+", help="what they say")

    hangup = command("hangup", lambda c, a: c.hang_up(a.call_id, a.who), "a person hangs up")
    hangup.add_argument("call_id", help="serverCallId or callConnectionId")
    hangup.add_argument("who", help="the person's number or raw id")

    behaviour = command("people", people, "list how people behave, or set how IDENTITY behaves when dialled")
    behaviour.add_argument("identity", nargs="?", help="number or raw id to configure; omit to list")
    behaviour.add_argument("--answer", choices=ANSWERS, default="answer", help="what they do when rung")
    behaviour.add_argument("--answer-after-ms", type=int, default=0, help="emulated delay before they answer")

    show = command("timeline", timeline, "every request, event and person action of a call, with timestamps")
    show.add_argument("call_id", help="serverCallId or callConnectionId")
    show.add_argument("--json", action="store_true", help="print the raw entries")

    listing = command("calls", calls, "list calls, or show one call's participants and legs")
    listing.add_argument("call_id", nargs="?", help="serverCallId or callConnectionId")

    command("reset", reset, "forget every call, behaviour and delivery")


def build_cli() -> argparse.ArgumentParser:
    parser = build_parser()
    parser.description = f"{parser.description} Without a command it serves; with one it talks to a running emulator."
    add_commands(parser)
    return parser


def run_command(args: argparse.Namespace) -> int:
    control = EmulatorControl(args.emulator_url, ca_file=emulator_certificate(args.cert_dir))
    try:
        result = args.handler(control, args)
    except ControlApiError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        control.close()
    print(result if isinstance(result, str) else json.dumps(result, indent=2))
    return 0


def emulator_certificate(cert_dir: Path) -> str | None:
    """The certificate a `--tls` emulator with this --cert-dir serves, if it exists, for https control URLs."""
    cert = cert_dir / CERT_FILE
    return str(cert) if cert.is_file() else None


def serve(argv: list[str]) -> int:
    """Serve the emulator in the foreground until Ctrl-C."""
    try:
        config = config_from_args(argv)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ssl_context = None
    print(f"ACS emulator on {config.base_url}", flush=True)
    print(f"connection string: {config.connection_string}", flush=True)
    if config.tls:
        cert, key = ensure_certificate(config.cert_dir)
        ssl_context = server_ssl_context(cert, key)
        print("TLS on. For an unchanged app (connection string), export:", flush=True)
        print(client_exports(cert, config.connection_string), flush=True)
    with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
        web.run_app(
            create_app(config),
            host=config.host,
            port=config.port,
            ssl_context=ssl_context,
            print=None,
            access_log=None,
            shutdown_timeout=1.0,
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Serve when no command is given, else run the client command against a running emulator."""
    argv = sys.argv[1:] if argv is None else argv
    args = build_cli().parse_args(argv)
    return serve(argv) if args.command is None else run_command(args)
