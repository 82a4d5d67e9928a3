"""Local emulators of the Stripe, Twilio and Telegram HTTP APIs, a test checkout page and a
phone simulator, served under `/sandbox` when FACTO_SANDBOX=1 (never in production)."""

from sandbox.app import create_sandbox_app
from sandbox.state import SandboxState, WebhookPaths

__all__ = ["SandboxState", "WebhookPaths", "create_sandbox_app"]
