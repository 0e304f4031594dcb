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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from . import narration
from .app import create_app
from .config import build_parser, config_from_args
from .control_client import DEFAULT_URL, URL_VARIABLE, ControlApiError, EmulatorControl
from .people import ANSWERS
from .tls import CERT_FILE, client_exports, ensure_certificate, server_ssl_context

Command = Callable[[EmulatorControl, argparse.Namespace], "Output"]
DOWN_HINT = "is it running? `make run` starts the whole local stack, `python -m emulator` the emulator alone"


@dataclass(frozen=True)
class Output:
    """What a command prints: short human lines by default, `data` as JSON with --json."""

    text: str
    data: Any


def header(value: str) -> tuple[str, str]:
    name, sep, content = value.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {value!r}")
    return name, content


def place_call(control: EmulatorControl, args: argparse.Namespace) -> Output:
    """Place the call, then (unless --no-wait) wait until an app answers, rejects or lets it ring out."""
    context = {
        name: dict(headers)
        for name, headers in (("sipHeaders", args.sip_header), ("voipHeaders", args.voip_header))
        if headers
    }
    placed = control.place_call(
        args.caller, args.callee, custom_context=context or None, display_name=args.display_name
    )
    data = {
        "serverCallId": placed.server_call_id,
        "correlationId": placed.correlation_id,
        "incomingCallContext": placed.incoming_call_context,
        "callConnectionId": None,
        "offer": "ringing",
    }
    lines = [f"{args.caller} calls {args.callee}", f"  serverCallId      {placed.server_call_id}"]
    if args.no_wait:
        return Output("\n".join(lines), data)
    if not _incoming_call_subscribers(control):
        lines.append("  nobody subscribes to IncomingCall, so no app is told; answer it with the incomingCallContext")
        return Output("\n".join(lines), data)
    view = control.wait_for_call(placed.server_call_id, _offer_settled, timeout=args.wait)
    offer = view["incomingCalls"][0]["state"] if view["incomingCalls"] else "ringing"
    data["offer"] = offer
    answered = [c["callConnectionId"] for c in view["connections"]]
    if answered:
        data["callConnectionId"] = answered[0]
        lines += [
            f"  callConnectionId  {answered[0]}   (the app's leg: the HTTP API's callId)",
            f"answered. Next: python -m emulator press {answered[0]} {args.caller} 1",
        ]
    elif offer == "ringing":
        lines.append(f"  still ringing after {args.wait:g} s: is the app up and subscribed to IncomingCall?")
    else:
        lines.append(f"  the app did not answer: the call was {offer}")
    return Output("\n".join(lines), data)


def _offer_settled(view: dict[str, Any]) -> bool:
    return view["state"] == "ended" or any(offer["state"] != "ringing" for offer in view["incomingCalls"])


def _incoming_call_subscribers(control: EmulatorControl) -> list[dict[str, Any]]:
    return [
        s
        for s in control.subscriptions()
        if s["eventTypes"] is None or any(t.endswith("IncomingCall") for t in s["eventTypes"])
    ]


def person_action(action: str) -> Command:
    """press, say, hangup, answer, decline: one short line saying what the person did."""

    def run(control: EmulatorControl, args: argparse.Namespace) -> Output:
        if action == "press":
            view = control.press(args.call_id, args.who, args.tones)
            did = f"pressed {args.tones}"
        elif action == "say":
            view = control.say(args.call_id, args.who, " ".join(args.text))
            did = f"said {' '.join(args.text)!r}"
        else:
            view = getattr(control, action)(args.call_id, args.who)
            did = {"hang_up": "hung up", "answer": "answered", "decline": "declined"}[action]
        data = {"callId": args.call_id, "who": args.who, "action": action, "callState": view["state"]}
        return Output(f"{args.who} {did} (call {view['state']})", data)

    return run


def people(control: EmulatorControl, args: argparse.Namespace) -> Output:
    if args.identity is None:
        known = control.people()
        rows = [f"{p['rawId']:<40} {p['answer']:<8} after {p['answerAfterMs']} ms" for p in known["people"]]
        default = known["default"]
        rows.append(f"{'everyone else':<40} {default['answer']:<8} after {default['answerAfterMs']} ms")
        return Output("\n".join(rows), known)
    set_to = control.set_behaviour(args.identity, answer=args.answer, answer_after_ms=args.answer_after_ms)
    return Output(f"{set_to['rawId']} will {set_to['answer']} after {set_to['answerAfterMs']} ms", set_to)


def timeline(control: EmulatorControl, args: argparse.Namespace) -> Output:
    entries = control.timeline(args.call_id)
    return Output(narration.lines(entries), entries)


def calls(control: EmulatorControl, args: argparse.Namespace) -> Output:
    if args.call_id:
        view = control.call(args.call_id)
        return Output(_describe_call(view), view)
    listing = control.calls()
    rows = [
        f"{call['state']:<10} {' '.join(call['callConnectionIds']) or '-':<38} {', '.join(call['participants'])}"
        for call in listing
    ]
    return Output("\n".join(rows) or "no calls", listing)


def _describe_call(view: dict[str, Any]) -> str:
    rows = [
        f"call {view['state']}{' (group)' if view['isGroup'] else ''}",
        f"  serverCallId      {view['serverCallId']}",
    ]
    rows += [f"  callConnectionId  {c['callConnectionId']} ({c['state']})" for c in view["connections"]]
    for person in view["participants"]:
        flags = [flag for flag, on in (("app", person["isApp"]), ("muted", person["isMuted"]),
                                       ("on hold", person["isOnHold"])) if on]  # fmt: skip
        rows.append(f"  {person['rawId']}  {person['state']}{' (' + ', '.join(flags) + ')' if flags else ''}")
    return "\n".join(rows)


def recordings(control: EmulatorControl, args: argparse.Namespace) -> Output:
    found = control.recordings(args.call_id)
    rows = [
        f"{r['recordingId']}  {r['state']:<8} {r['durationMs'] / 1000:6.1f} s  file: {(r['file'] or {}).get('status')}"
        for r in found
    ]
    return Output("\n".join(rows) or "no recordings", found)


def download_recording(control: EmulatorControl, args: argparse.Namespace) -> Output:
    wav = control.recording_content(args.recording_id)
    target = args.output or Path(f"recording-{args.recording_id[-12:]}.wav")
    target.write_bytes(wav)
    return Output(f"wrote {len(wav)} bytes to {target}", {"path": str(target), "bytes": len(wav)})


def reset(control: EmulatorControl, args: argparse.Namespace) -> Output:
    control.reset()
    return Output("emulator reset", {"status": "reset"})


def add_commands(parser: argparse.ArgumentParser) -> None:
    """The client subcommands; serving stays the default when none is given."""
    url_help = f"the running emulator, http or https [{URL_VARIABLE}] (default {DEFAULT_URL})"
    parser.add_argument("--emulator-url", default=os.environ.get(URL_VARIABLE, DEFAULT_URL), help=url_help)
    # Also accepted after the command; SUPPRESS keeps a value given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--emulator-url", default=argparse.SUPPRESS, help=url_help)
    common.add_argument("--json", action="store_true", help="print JSON for scripts instead of short lines")
    commands = parser.add_subparsers(dest="command", title="commands (talk to a running emulator)", metavar="COMMAND")

    def command(name: str, handler: Command, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, parents=[common], help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    def person(name: str, action: str, help_text: str) -> argparse.ArgumentParser:
        sub = command(name, person_action(action), help_text)
        sub.add_argument("call_id", help="callConnectionId or serverCallId")
        sub.add_argument("who", help="the person's number or raw id")
        return sub

    call = command(
        "call", place_call, "a simulated person calls the app; waits for the answer and prints the callConnectionId"
    )
    call.add_argument("caller", metavar="FROM", help="E.164 number or raw id of the caller, e.g. +15551230000")
    call.add_argument("callee", metavar="TO", help="the app's number or user being called")
    call.add_argument("--display-name", help="callerDisplayName")
    call.add_argument("--sip-header", type=header, action="append", default=[], metavar="NAME=VALUE",
                      help="custom SIP header (X-MS-Custom-...), repeatable")  # fmt: skip
    call.add_argument("--voip-header", type=header, action="append", default=[], metavar="NAME=VALUE",
                      help="custom VoIP header, repeatable")  # fmt: skip
    call.add_argument("--no-wait", action="store_true", help="return once the call rings, without waiting")
    call.add_argument("--wait", type=float, default=10.0, metavar="SECONDS", help="how long to wait (default 10)")

    person("press", "press", "a person presses keys").add_argument("tones", help='keypad characters, e.g. "123#"')
    person("say", "say", "a person says something").add_argument("text", nargs="+", help="what they say")
    person("hangup", "hang_up", "a person hangs up")
    person("answer", "answer", "a person being rung with --answer manual picks up (e.g. an agent)")
    person("decline", "decline", "a person being rung with --answer manual declines")

    behaviour = command("people", people, "list how people behave, or set how IDENTITY behaves when dialled")
    behaviour.add_argument("identity", nargs="?", help="number or raw id to configure; omit to list")
    behaviour.add_argument("--answer", choices=ANSWERS, default="answer", help="what they do when rung")
    behaviour.add_argument("--answer-after-ms", type=int, default=0, help="emulated delay before they answer")

    show = command("timeline", timeline, "every request, event and person action of a call, and what is heard")
    show.add_argument("call_id", help="callConnectionId or serverCallId")

    listing = command("calls", calls, "list calls, or show one call's participants and legs")
    listing.add_argument("call_id", nargs="?", help="callConnectionId or serverCallId")

    files = command("recordings", recordings, "list recordings (of one call) with their state and file")
    files.add_argument("call_id", nargs="?", help="callConnectionId or serverCallId")
    download = command("recording", download_recording, "download a recording's WAV file")
    download.add_argument("recording_id", help="the recordingId (from `recordings` or the app's index)")
    download.add_argument("-o", "--output", type=Path, help="where to write it (default recording-<id>.wav)")

    command("reset", reset, "forget every call, behaviour and delivery")


def build_cli() -> argparse.ArgumentParser:
    parser = build_parser()
    parser.description = f"{parser.description} Without a command it serves; with one it talks to a running emulator."
    add_commands(parser)
    return parser


def run_command(args: argparse.Namespace) -> int:
    control = EmulatorControl(args.emulator_url, ca_file=emulator_certificate(args.cert_dir))
    try:
        output: Output = args.handler(control, args)
    except ControlApiError as error:
        hint = f"; {DOWN_HINT}" if error.status is None else ""
        print(f"error: {error}{hint}", file=sys.stderr)
        return 1
    except TimeoutError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        control.close()
    print(json.dumps(output.data, indent=2) if args.json else output.text)
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
