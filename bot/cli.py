"""`python -m bot serve | worker | demo | merchant create | dead-letters | intents | policy`."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from pydantic import ValidationError
from redis.exceptions import RedisError

from bot.campaign_cli import add_campaign_parser
from bot.export_cli import add_export_parser
from bot.intents_cli import add_intents_parser
from bot.logs import report_startup_failure
from bot.policy_cli import add_policy_parser
from bot.settings import ConfigurationError
from bot.shop_cli import add_shop_parser

if TYPE_CHECKING:  # the runtime is imported by the commands that need it, not by `--help`
    from bot.runtime import Mounts


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot", description="Facto: invoices paid by chat."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the web server (webhooks, API, pages)")
    serve.set_defaults(func=_serve)

    worker = commands.add_parser("worker", help="run the background worker (dispatch, outbox)")
    worker.set_defaults(func=_worker)

    demo = commands.add_parser(
        "demo", help="run everything in one process with the sandbox and demo data"
    )
    demo.add_argument("--port", type=int, default=None, help="port to listen on (default: PORT)")
    demo.set_defaults(func=_demo)

    _add_merchant_parser(commands)
    _add_user_parser(commands)
    _add_operations_parsers(commands)
    add_intents_parser(commands)
    add_campaign_parser(commands)
    add_export_parser(commands)
    add_policy_parser(commands)
    add_shop_parser(commands)
    return parser


def _add_merchant_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    merchant = commands.add_parser("merchant", help="manage merchants")
    merchant_commands = merchant.add_subparsers(dest="merchant_command", required=True)
    create = merchant_commands.add_parser("create", help="create a merchant and its API key")
    create.add_argument("--name", required=True, help="trading name shown to customers")
    create.add_argument("--legal-name", required=True, help="legal name on invoices")
    create.add_argument("--siren", required=True, help="9-digit SIREN")
    create.add_argument(
        "--vat-number", default=None, help="intra-EU VAT number, e.g. FR44732829320"
    )
    create.add_argument("--address", required=True, help="registered office address")
    create.add_argument(
        "--legal-form", default=None, help="legal form printed on invoices: SAS, SARL, EI..."
    )
    create.add_argument(
        "--share-capital", default=None, help="share capital in euros, e.g. 10000 (not for EI)"
    )
    create.add_argument(
        "--rcs-city", default=None, help='trade register city, e.g. Paris ("RCS Paris")'
    )
    create.add_argument(
        "--iban", default=None, help="account for bank transfers, shown with an EPC QR code"
    )
    create.add_argument("--invoice-prefix", default=None, help="invoice number prefix (default F)")
    create.add_argument(
        "--max-instalments",
        type=int,
        choices=(2, 3, 4),
        default=3,
        help="most instalments customers may choose (default 3, LEGAL_FR §4.3; 4 needs review)",
    )
    create.add_argument(
        "--no-channel-fallback",
        dest="channel_fallback",
        action="store_false",
        help="never re-send an undeliverable message on the customer's other channel",
    )
    _add_sender_options(create)
    create.add_argument("--json", action="store_true", help="print JSON")
    create.set_defaults(func=_merchant_create)
    set_sender = merchant_commands.add_parser(
        "set-sender",
        help="the merchant's own SMS number, sender ID or Messaging Service, WhatsApp number "
        "or Telegram bot (the platform's are used where it has none)",
    )
    set_sender.add_argument("--merchant", required=True, help="merchant id (m_...)")
    _add_sender_options(set_sender)
    set_sender.set_defaults(func=_merchant_set_sender)
    remove_sender = merchant_commands.add_parser(
        "remove-sender", help="go back to the platform's sender on one channel"
    )
    remove_sender.add_argument("--merchant", required=True, help="merchant id (m_...)")
    remove_sender.add_argument("--channel", required=True, choices=("sms", "whatsapp", "telegram"))
    remove_sender.set_defaults(func=_merchant_remove_sender)
    set_iban = merchant_commands.add_parser(
        "set-iban", help="set or remove the IBAN shown on invoice pages for a bank transfer"
    )
    set_iban.add_argument("--merchant", required=True, help="merchant id (m_...)")
    set_iban.add_argument("--iban", default=None, help="the IBAN; leave out to remove it")
    set_iban.set_defaults(func=_merchant_set_iban)


def _add_sender_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sms-from", default=None, help="own SMS number (E.164) or alphanumeric sender ID"
    )
    parser.add_argument(
        "--sms-reply-number",
        default=None,
        help="with a sender ID: the number customers text back (STOP, replies)",
    )
    parser.add_argument(
        "--sms-messaging-service", default=None, help="own Twilio Messaging Service SID (MG...)"
    )
    parser.add_argument("--whatsapp-from", default=None, help="own WhatsApp number (E.164)")
    parser.add_argument(
        "--whatsapp-content-sids",
        default=None,
        help="with --whatsapp-account-sid: a JSON file of the templates' ContentSids in that "
        'account ({"facto_invoice:fr": "HX...", ...}; README, WhatsApp)',
    )
    for channel in ("sms", "whatsapp"):
        parser.add_argument(
            f"--{channel}-account-sid",
            default=None,
            help=f"the {channel} sender is in the merchant's own Twilio account (AC...)",
        )
        parser.add_argument(
            f"--{channel}-auth-token",
            default=None,
            help="that account's auth token; '-' reads it from standard input (kept out of "
            "the shell history)",
        )
    parser.add_argument(
        "--telegram-token",
        default=None,
        help="own Telegram bot token; its webhook is set to /webhooks/telegram/<bot id>",
    )
    parser.add_argument(
        "--telegram-webhook-secret", default=None, help="that bot's webhook secret (generated)"
    )


def _sender_fields(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """channel -> what was given for it on the command line."""
    wanted: dict[str, dict[str, Any]] = {}
    if args.sms_from or args.sms_messaging_service or args.sms_reply_number:
        wanted["sms"] = {
            "from": args.sms_from,
            "messaging_service_sid": args.sms_messaging_service,
            "reply_number": args.sms_reply_number,
            **_account_fields(args.sms_account_sid, args.sms_auth_token),
        }
    if args.whatsapp_from:
        wanted["whatsapp"] = {
            "from": args.whatsapp_from,
            **_account_fields(args.whatsapp_account_sid, args.whatsapp_auth_token),
        }
        if args.whatsapp_content_sids:
            wanted["whatsapp"]["content_sids"] = json.loads(
                Path(args.whatsapp_content_sids).read_text(encoding="utf-8")
            )
    if args.telegram_token or args.telegram_webhook_secret:
        wanted["telegram"] = {
            "token": args.telegram_token,
            "webhook_secret": args.telegram_webhook_secret,
        }
    return wanted


STDIN = "-"  # an option value meaning "read it from standard input"


def _account_fields(account_sid: str | None, auth_token: str | None) -> dict[str, str | None]:
    """A merchant's own Twilio account, when given ('-': the token from standard input)."""
    if auth_token == STDIN:
        auth_token = sys.stdin.readline().strip()
    return {"account_sid": account_sid, "auth_token": auth_token}


def _set_senders(merchant_id: str, args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    from bot.runtime import set_sender_command

    for channel, fields in _sender_fields(args).items():
        try:
            sender = asyncio.run(set_sender_command(merchant_id, channel, fields))
        except ValueError as exc:
            print(f"error: {channel}: {exc}", file=sys.stderr)  # noqa: T201 - CLI output
            return 2
        print(f"{channel} sender: {json.dumps(sender.public())}", file=out)
    return 0


def _merchant_set_sender(args: argparse.Namespace) -> int:
    if not _sender_fields(args):
        print("error: give at least one sender option", file=sys.stderr)  # noqa: T201
        return 2
    done = _set_senders(args.merchant, args)
    if done == 0:
        _say_which_redis()
    return done


def _merchant_remove_sender(args: argparse.Namespace) -> int:
    from bot.runtime import remove_sender_command

    if not asyncio.run(remove_sender_command(args.merchant, args.channel)):
        print(f"no own {args.channel} sender: the platform's is in use")  # noqa: T201
        return 1
    _say_which_redis()
    print(f"{args.channel}: back to the platform's sender")  # noqa: T201 - CLI output
    return 0


def _add_user_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    user = commands.add_parser("user", help="merchant users (owners and support agents)")
    user_commands = user.add_subparsers(dest="user_command", required=True)
    user_create = user_commands.add_parser(
        "create", help="create a console user; prints a first password (TOTP enrolled at login)"
    )
    user_create.add_argument("--merchant", required=True, help="merchant id (m_...)")
    user_create.add_argument("--email", required=True, help="login email")
    user_create.add_argument("--name", default="", help="name shown to colleagues")
    user_create.add_argument("--role", choices=("owner", "agent"), default="agent")
    user_create.add_argument("--json", action="store_true", help="print JSON")
    user_create.set_defaults(func=_user_create)
    user_code = user_commands.add_parser(
        "totp-code", help="print the current code of a TOTP secret (the demo's users)"
    )
    user_code.add_argument("secret", help="base32 TOTP secret")
    user_code.set_defaults(func=_user_totp_code)


def _add_operations_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    telegram = commands.add_parser("telegram", help="Telegram bot setup")
    telegram_commands = telegram.add_subparsers(dest="telegram_command", required=True)
    webhook = telegram_commands.add_parser(
        "set-webhook",
        help="register PUBLIC_BASE_URL/webhooks/telegram with TELEGRAM_WEBHOOK_SECRET",
    )
    webhook.set_defaults(func=_telegram_set_webhook)

    dead = commands.add_parser(
        "dead-letters", help="events whose dispatch failed for good: list, replay, drop"
    )
    dead_commands = dead.add_subparsers(dest="dead_command", required=True)
    dead_list = dead_commands.add_parser("list", help="id, type, conversation, error, when")
    dead_list.add_argument("--json", action="store_true", help="print JSON lines")
    dead_list.set_defaults(func=_dead_letters)
    for name, text in (
        ("replay", "put the event back at the head of its conversation's inbox"),
        ("drop", "forget the event"),
    ):
        action = dead_commands.add_parser(name, help=text)
        action.add_argument("id", help="the dead letter's id, as `list` shows it")
        action.set_defaults(func=_dead_letters)


def main(argv: Sequence[str] | None = None, *, serve_mounts: Mounts | None = None) -> int:
    """`serve_mounts`: what `serve` adds to the app (`python -m sandbox serve`: the emulators)."""
    args = build_parser().parse_args(argv)
    args.serve_mounts = serve_mounts
    if args.func not in (_serve, _worker):
        gc.enable()  # off during start-up (bot/__main__.py); serve and worker settle it later
    try:
        result: int = args.func(args)
    except (ConfigurationError, ValidationError, OSError, RedisError) as exc:
        # A process that cannot start says why in one JSON line, not a traceback (a
        # supervisor's log shows it as is; nothing in it is a secret or an input value).
        report_startup_failure(_reason(exc))
        return 1
    return result


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        # Field names and messages only: `str(exc)` would echo the values, maybe secrets.
        problems = [
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors()
        ]
        return "invalid configuration: " + "; ".join(problems)
    if isinstance(exc, RedisError):
        return f"Redis unreachable ({type(exc).__name__}): check REDIS_URL"
    return str(exc) or type(exc).__name__


def _serve(args: argparse.Namespace) -> int:
    from bot import eventloop
    from bot.runtime import serve
    from bot.settings import Settings

    choice = Settings().event_loop  # before the coroutine: a refused setting leaves none behind
    return eventloop.run(serve(args.serve_mounts), choice)


def _worker(_args: argparse.Namespace) -> int:
    from bot import eventloop
    from bot.runtime import run_worker
    from bot.settings import Settings

    choice = Settings().event_loop  # before the coroutine: a refused setting leaves none behind
    return eventloop.run(run_worker(), choice)


def _demo(args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    return asyncio.run(run_demo(port=args.port))


def _telegram_set_webhook(_args: argparse.Namespace) -> int:
    from bot.runtime import set_telegram_webhook
    from channels.base import ChannelError

    try:
        url = asyncio.run(set_telegram_webhook())
    except ChannelError as exc:
        print(f"error: Telegram refused: {exc}", file=sys.stderr)  # noqa: T201 - CLI output
        return 1
    print(f"Telegram now delivers updates to {url}")  # noqa: T201
    return 0


def _dead_letters(args: argparse.Namespace) -> int:
    from bot.logs import mask_phone
    from bot.runtime import dead_letters_command

    letters = asyncio.run(dead_letters_command(args.dead_command, getattr(args, "id", None)))
    if args.dead_command != "list":
        if not letters:
            print(f"no dead letter {args.id} (already replayed or dropped?)")  # noqa: T201
            return 1
        print(f"{args.dead_command}: {args.id}")  # noqa: T201
        return 0
    for letter in letters:
        channel, _, address = letter.conversation.partition(":")
        shown = {
            "id": letter.id,
            "type": letter.type,
            "conversation": f"{channel}:{mask_phone(address)}",
            "error": letter.error,
            "at": letter.at,
        }
        if args.json:
            print(json.dumps(shown, ensure_ascii=False))  # noqa: T201
        else:
            print("\t".join(shown.values()))  # noqa: T201
    return 0


def _say_which_redis() -> None:
    """Loudly, on stderr: a merchant created while the demo runs lives in the demo's Redis."""
    import os

    from bot.runtime import demo_redis_file, load_settings

    settings = load_settings()
    demo_file = demo_redis_file(settings)
    if os.environ.get("REDIS_URL") or settings.redis_url:
        where = "the Redis at REDIS_URL"
    elif demo_file.is_file():
        url = demo_file.read_text().strip()
        where = f"the running demo's Redis ({url}): the demo's API knows it"
    else:
        where = f"the embedded Redis under {settings.data_dir}/redis (no demo is running)"
    print(f"stored in {where}", file=sys.stderr)  # noqa: T201 - CLI output


def _merchant_create(args: argparse.Namespace) -> int:
    from bot.runtime import create_merchant_command

    try:
        merchant, api_key = asyncio.run(
            create_merchant_command(
                name=args.name,
                legal_name=args.legal_name,
                siren=args.siren,
                vat_number=args.vat_number,
                address=args.address,
                invoice_prefix=args.invoice_prefix,
                max_instalments=args.max_instalments,
                channel_fallback=args.channel_fallback,
                legal_form=args.legal_form,
                share_capital=args.share_capital,
                rcs_city=args.rcs_city,
                iban=args.iban,
            )
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)  # noqa: T201 - CLI output
        return 2
    _say_which_redis()
    if args.json:
        print(json.dumps({"merchant_id": merchant.id, "api_key": api_key}))  # noqa: T201
    else:
        print(f"merchant id: {merchant.id}")  # noqa: T201
        print(f"API key (shown once, keep it safe): {api_key}")  # noqa: T201
    # Its own senders, if any were given (a refused one is said; the merchant stays, and
    # `merchant set-sender` can add it). With --json, stdout keeps only the JSON.
    return _set_senders(merchant.id, args, sys.stderr if args.json else sys.stdout)


def _merchant_set_iban(args: argparse.Namespace) -> int:
    from bot.runtime import set_iban_command

    try:
        merchant = asyncio.run(set_iban_command(args.merchant, args.iban))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)  # noqa: T201 - CLI output
        return 2
    if merchant is None:
        print(f"error: no merchant {args.merchant}", file=sys.stderr)  # noqa: T201
        return 2
    _say_which_redis()
    print(f"IBAN: {merchant.iban or 'none'}")  # noqa: T201 - CLI output
    return 0


def _user_create(args: argparse.Namespace) -> int:
    from bot.runtime import create_user_command

    try:
        user, password = asyncio.run(
            create_user_command(
                merchant_id=args.merchant, email=args.email, name=args.name, role=args.role
            )
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)  # noqa: T201 - CLI output
        return 2
    if args.json:
        print(json.dumps({"user_id": user.id, "email": user.email, "password": password}))  # noqa: T201
    else:
        print(f"user id: {user.id} ({user.role.value} of {user.merchant_id})")  # noqa: T201
        print(f"email: {user.email}")  # noqa: T201
        print(f"first password (shown once; two-factor set up at first login): {password}")  # noqa: T201
    return 0


def _user_totp_code(args: argparse.Namespace) -> int:
    import binascii

    import pyotp

    try:
        print(pyotp.TOTP(args.secret.strip().upper()).now())  # noqa: T201 - CLI output
    except (binascii.Error, ValueError):
        print("error: not a base32 TOTP secret", file=sys.stderr)  # noqa: T201
        return 2
    return 0
