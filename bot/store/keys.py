"""Every Redis key Facto uses, in one place.

Keys that belong together carry the same hash tag (`{...}`): one per conversation, one per
merchant, so the data of one conversation or one merchant lives on one Redis Cluster slot.
"""

from __future__ import annotations

# Conversations: key is "<channel>:<address>", e.g. "sms:+33612345678" or "telegram:4242".


def conv_state(conv: str) -> str:
    return f"conv:{{{conv}}}:state"


def conv_inbox(conv: str) -> str:
    """Events waiting for dispatch, oldest first (a list)."""
    return f"conv:{{{conv}}}:inbox"


def conv_seen(conv: str, event_id: str) -> str:
    """Dedupe marker for one provider delivery (message sid, update id, Stripe event id), as
    written before the markers moved into `conv_seen_ids`: still honoured until it expires."""
    return f"conv:{{{conv}}}:seen:{event_id}"


def conv_lock(conv: str) -> str:
    return f"conv:{{{conv}}}:lock"


def conv_invoices(conv: str) -> str:
    """Every invoice sent in this conversation, by when it was sent (a sorted set): the open
    ones of the same merchant are what "which invoice?" and the statement list."""
    return f"conv:{{{conv}}}:invoices"


def conv_reminders_sent(conv: str, merchant_id: str) -> str:
    """When this merchant's ladder reminders went out in this conversation (a sorted set by
    time, trimmed to the last weeks): the weekly cap per customer (flows.dunning)."""
    return f"conv:{{{conv}}}:reminders_sent:{merchant_id}"


def conv_telegram_applied(conv: str) -> str:
    """The highest Telegram update_id applied in the conversation (a later-arriving older
    update is then recorded, not acted upon: bot.engine.telegram_order)."""
    return f"conv:{{{conv}}}:tg:applied"


def conv_log(conv: str) -> str:
    """What was said, both ways, for agents and support (a capped list): the latest turns."""
    return f"conv:{{{conv}}}:log"


def conv_log_archive(conv: str) -> str:
    """The older turns of `conv_log`, folded into one zlib-compressed value (binary)."""
    return f"conv:{{{conv}}}:log:archive"


def conv_seen_ids(conv: str) -> str:
    """Dedupe markers of the conversation's deliveries, in one sorted set: event id -> the
    unix time (Redis's clock) until which a redelivery is recognised (bot.store.dedupe)."""
    return f"conv:{{{conv}}}:seen"


PIPELINE_WAKE = "pipeline:wake"  # stream: "conversation X has events"
PIPELINE_GROUP = "dispatchers"
PIPELINE_PENDING = "pipeline:pending"  # set: conversations whose inbox is not empty

# --- Pipeline resilience (issue 15): dead letters, the periodic lease. ---


def conv_dead(conv: str) -> str:
    """Events of the conversation whose dispatch failed for good (hash: event id -> record).

    Beside the inbox, on its slot: parking commits with the pop from the inbox.
    """
    return f"conv:{{{conv}}}:dead"


def conv_effects(conv: str) -> str:
    """Committed effects on other hash slots, not yet applied (a list, oldest first)."""
    return f"conv:{{{conv}}}:effects"


PIPELINE_DEAD_CONVERSATIONS = "pipeline:dead-conversations"  # set: conversations with some
PERIODIC_LEASE = "worker:periodic-lease"  # one worker at a time runs the sweeps (SET NX PX)
PERIODIC_SLOW_LEASE = "worker:slow-periodic-lease"  # the same for Stripe sweeps and retention

# --- end of pipeline resilience block ---

# Before each channel had its own stream, every wake-up went to this one; a sender moves what
# is left in it to the channels' streams at start-up (bot.engine.outbox), nothing else uses it.
OUTBOX_STREAM = "outbox:stream"
OUTBOX_GROUP = "senders"  # the consumer group of each channel's stream (and of the old one)


def outbox_stream(channel: str) -> str:
    """One channel's wake-ups for senders ("send conversation X"), read by `OUTBOX_GROUP`.

    The hash tag is the old single stream's name: every channel's stream and the old one
    share its slot, so one XREADGROUP reads all channels and the upgrade's move is one script.
    """
    return f"{{{OUTBOX_STREAM}}}:{channel}"


OUTBOX_RETRY = "outbox:retry"  # zset: message key -> unix time to try again


def outbox_message(key: str) -> str:
    return f"outbox:msg:{key}"


def outbox_sent_body(key: str) -> str:
    """What a sent message's record no longer keeps (its content, merchant, invoice, cost),
    for the hours a status callback may still need it (a fallback sends the content again).

    Its hash tag is the record's own key name, so both share a slot (the send's last script
    writes both); an idempotency key holding a brace would break that, and none is slimmed.
    """
    return f"{{{outbox_message(key)}}}:body"


def outbox_delivery(provider_message_id: str) -> str:
    """What the provider reported about a message it accepted (status callbacks)."""
    return f"outbox:delivery:{provider_message_id}"


# --- Outbox: order, claims, outages (ISSUE 15 "Outbox") -------------------------------------
# A message's claim (owner, deadline) lives in its `outbox_message` record.


def outbox_conversation_queue(conv: str) -> str:
    """The conversation's outbound message keys in commit order; the head is sent next."""
    return f"conv:{{{conv}}}:outbox"


def outbox_circuit(channel: str) -> str:
    """One channel's circuit breaker: 5xx in a row, open until, cool-down, probe deadline."""
    return f"outbox:circuit:{channel}"


def merchant_failed_messages(merchant_id: str) -> str:
    """Zset of the merchant's messages given up on (key -> time), for `GET /api/v1/messages`."""
    return f"merchant:{{{merchant_id}}}:outbox:failed"


# --- end of outbox block ----------------------------------------------------------------------


# Merchants and their invoices (hash tag = merchant id).


def merchant(merchant_id: str) -> str:
    return f"merchant:{{{merchant_id}}}"


def merchant_logo(merchant_id: str) -> str:
    """The merchant's logo as re-encoded from its upload (bot.store.logos), one JSON value."""
    return f"merchant:{{{merchant_id}}}:logo"


def merchant_invoice_seq(merchant_id: str, year: int) -> str:
    return f"merchant:{{{merchant_id}}}:seq:{year}"


def merchant_invoices(merchant_id: str) -> str:
    """Zset of the merchant's invoice ids, scored by issue time."""
    return f"merchant:{{{merchant_id}}}:invoices"


def invoice(merchant_id: str, invoice_id: str) -> str:
    return f"merchant:{{{merchant_id}}}:invoice:{invoice_id}"


def invoice_checkout(merchant_id: str, invoice_id: str, instalment: int | None = None) -> str:
    """The Checkout Session currently offered for an invoice or one of its instalments."""
    suffix = f":{instalment}" if instalment is not None else ""
    return f"merchant:{{{merchant_id}}}:invoice:{invoice_id}:checkout{suffix}"


def invoice_applied_sessions(merchant_id: str, invoice_id: str) -> str:
    """Checkout Sessions counted before `invoice_payments` existed (read only, so that an old
    payment found again by the Events API sweep is not counted twice)."""
    return f"merchant:{{{merchant_id}}}:invoice:{invoice_id}:applied"


def invoice_promise(merchant_id: str, invoice_id: str) -> str:
    """The date the customer said they would pay (pay later)."""
    return f"merchant:{{{merchant_id}}}:invoice:{invoice_id}:promise"


def invoice_plan(merchant_id: str, invoice_id: str) -> str:
    """The instalment plan, when the customer chose to split."""
    return f"merchant:{{{merchant_id}}}:invoice:{invoice_id}:plan"


def invoice_telegram_buttons(merchant_id: str, invoice_id: str) -> str:
    """Set of outbox keys: the invoice's sent Telegram messages that still show pay, later or
    split buttons (their buttons are removed once the invoice is settled)."""
    return f"merchant:{{{merchant_id}}}:invoice:{invoice_id}:tg_buttons"


def invoice_paused(merchant_id: str, invoice_id: str) -> str:
    """Set while the invoice is disputed: no reminders."""
    return f"merchant:{{{merchant_id}}}:invoice:{invoice_id}:paused"


def invoice_reward(merchant_id: str, invoice_id: str) -> str:
    """JSON, set once when the invoice is paid in full: when, whether by its due date, and the
    fast-payment reward it earned (payments.reward); its presence means "counted"."""
    return f"merchant:{{{merchant_id}}}:invoice:{invoice_id}:reward"


def payer(merchant_id: str, customer: str) -> str:
    """Hash of one customer (phone, or "tg:<chat id>") with the merchant: `streak` (invoices
    paid by their due date in a row), `on_time` (in all) and reward `points`."""
    return f"merchant:{{{merchant_id}}}:payer:{customer}"


def consent(merchant_id: str, address: str) -> str:
    """Marketing consent of one customer address ("sms:+33...", "telegram:42") for a merchant."""
    return f"merchant:{{{merchant_id}}}:consent:{address}"


def consent_log(merchant_id: str) -> str:
    """Every opt-out and opt-in, with its time and words (proof of consent)."""
    return f"merchant:{{{merchant_id}}}:consent-log"


def waiting_conversations(merchant_id: str) -> str:
    """Zset of conversations waiting for an agent, scored by when they started waiting."""
    return f"merchant:{{{merchant_id}}}:waiting"


def handoff(merchant_id: str, conversation: str) -> str:
    """Why and since when a conversation waits for an agent."""
    return f"merchant:{{{merchant_id}}}:handoff:{conversation}"


def api_key(key_hash: str) -> str:
    return f"apikey:{key_hash}"


def merchant_api_keys(merchant_id: str) -> str:
    """Hash: key digest -> the key's name, when it was created, its last characters (the
    dashboard's list; the key itself is never kept)."""
    return f"merchant:{{{merchant_id}}}:api-keys"


def merchant_api_keys_adopted(merchant_id: str) -> str:
    """String: set once the keys made before the list listed `merchant create`'s were
    looked for (bot.store.api_keys.adopt_unlisted)."""
    return f"merchant:{{{merchant_id}}}:api-keys:adopted"


def invoice_locator(invoice_id: str) -> str:
    """invoice id -> merchant id, for Stripe events that carry only the invoice id."""
    return f"locate:invoice:{invoice_id}"


def pay_token(token_hash: str) -> str:
    return f"token:pay:{token_hash}"


def view_token(token_hash: str) -> str:
    return f"token:view:{token_hash}"


# One hash tag for the schedule: releasing a job reads and removes it in one Lua script.
SCHEDULE = "schedule:{jobs}:due"  # zset: job id -> unix time it is due
SCHEDULE_EVENTS = "schedule:{jobs}:events"  # hash: job id -> the event it will deliver
SCHEDULE_RELEASING = "schedule:{jobs}:releasing"  # hash: "<job>@<due>" -> event, until ingested

NO_MERCHANT = "none"  # consent given in a conversation with no invoice: binds every merchant

CHECKOUT_SESSIONS_OPEN = "checkout:open"  # set: sessions our pay links opened, until they end
# Sorted set "<merchant>/<campaign>/<hold>" -> when its Checkout Session was opened: flash-sale
# holds the sweep looks at until they are paid or expired (bot.engine.offer_payments).
OFFER_SESSIONS_OPEN = "checkout:offers:open"

# Hash: Stripe event id -> the verified event we could not place (or of the other mode), kept
# once however often Stripe redelivers it (TESTCASES 6, 24).
# A hash (event id -> event) since events are kept once each; the list it replaced stays under
# its old name "payments:unmatched", so an upgrade never meets a key of the wrong type.
PAYMENTS_UNMATCHED = "payments:unmatched-events"
PAYMENTS_MISMATCH = "payments:mismatch"  # list of payments whose amount/currency differ


def review_claim(merchant_id: str, session_id: str) -> str:
    """What a person decided for a payment to review (apply to one invoice, or refund): set
    once (SET NX), so two clicks never apply one payment twice (bot.engine.review)."""
    return f"merchant:{{{merchant_id}}}:review:{session_id}"


def pay_link_clicks(client: str, token: str, minute: int) -> str:
    """Clicks on one pay link from one address in one minute (rate limit)."""
    return f"ratelimit:pay:{client}:{token[:32]}:{minute}"


# --- Exposure (issue 15): link-token guessing -------------------------------------------


def link_misses(client: str, minute: int) -> str:
    """Unknown pay/view tokens asked for by one client address in one minute (one counter)."""
    return f"ratelimit:links:{client}:{minute}"


# Merchant API idempotency and atomic issuing (issue 6 §3). Hash tag = merchant id, like the
# invoice keys they are written with.


def idempotency(merchant_id: str, key_digest: str) -> str:
    """The first response to a POST sent with one Idempotency-Key (SHA-256 of the key)."""
    return f"merchant:{{{merchant_id}}}:idem:{key_digest}"


def idempotency_lock(merchant_id: str, key_digest: str) -> str:
    """Held while a request with that Idempotency-Key runs: a concurrent one gets 409."""
    return f"merchant:{{{merchant_id}}}:idem:{key_digest}:lock"


def merchant_announcements(merchant_id: str) -> str:
    """Hash: invoice id -> what its create still has to write outside the merchant's slot
    (locator, link tokens, the "invoice issued" event), until written (bot.engine.issuing)."""
    return f"merchant:{{{merchant_id}}}:announcing"


ANNOUNCING_MERCHANTS = "issuing:announcing"  # set: merchants that ever issued (never shrinks)


def invoice_void(merchant_id: str, invoice_id: str) -> str:
    """Set when a create whose answer was lost is settled as "not issued": the draft id can
    then never be committed by a script still in flight."""
    return f"merchant:{{{merchant_id}}}:invoice:{invoice_id}:void"


# --- Retention (issue 15): housekeeping bookkeeping -------------------------------------

CHECKOUT_SESSIONS_SINCE = "checkout:open:since"  # zset: tracked session -> first seen (unix)
CONVERSATIONS_SILENT_SINCE = "retention:silent"  # zset: conversation -> first seen silent


# --- Payments ledger: payments, credit notes, Events API sweep (payments branch) -------------


def invoice_payments(merchant_id: str, invoice_id: str) -> str:
    """Hash: Checkout Session id -> what was applied for it (payments.ledger.PaymentRecord)."""
    return f"merchant:{{{merchant_id}}}:invoice:{invoice_id}:payments"


def payment_intent_locator(payment_intent: str) -> str:
    """PaymentIntent id -> its invoice and session: refund and dispute events name only it."""
    return f"locate:payment_intent:{payment_intent}"


def merchant_credit_note_seq(merchant_id: str, year: int) -> str:
    """Credit notes have their own gap-free series per merchant and year (A-2026-000001)."""
    return f"merchant:{{{merchant_id}}}:credit-note-seq:{year}"


def credit_note(merchant_id: str, credit_note_id: str) -> str:
    return f"merchant:{{{merchant_id}}}:credit-note:{credit_note_id}"


def credit_note_source(merchant_id: str, source_id: str) -> str:
    """Refund or dispute id -> its credit note: one credit note per source, ever."""
    return f"merchant:{{{merchant_id}}}:credit-note-source:{source_id}"


def invoice_credit_notes(merchant_id: str, invoice_id: str) -> str:
    """List of the invoice's credit note ids, oldest first."""
    return f"merchant:{{{merchant_id}}}:invoice:{invoice_id}:credit-notes"


def credit_note_view_token(token_hash: str) -> str:
    """A credit note's page link, stored under its SHA-256 like pay and view tokens."""
    return f"token:credit-note:{token_hash}"


STRIPE_EVENTS_CHECKPOINT = "stripe:events:checkpoint"  # newest Events API id swept


# --- WhatsApp (issue 7) ----------------------------------------------------------------------


def whatsapp_last_inbound(conv: str) -> str:
    """When the customer last wrote on this WhatsApp conversation: its 24 h window opens."""
    return f"conv:{{{conv}}}:wa:last-inbound"


def outbox_by_provider_id(provider_message_id: str) -> str:
    """Which outbox message a provider id belongs to, for failures reported by callback."""
    return f"outbox:by-provider:{provider_message_id}"


def invoice_deliveries(merchant_id: str, invoice_id: str) -> str:
    """What happened to the invoice's messages that did not simply arrive (a capped list)."""
    return f"merchant:{{{merchant_id}}}:invoice:{invoice_id}:deliveries"


# --- Support agents (issue 8): merchant users, sessions, claims, console -----------------
# Users and what belongs to one merchant carry its hash tag; login lookups are global.


def merchant_users(merchant_id: str) -> str:
    """Set of the merchant's user ids."""
    return f"merchant:{{{merchant_id}}}:users"


def user(merchant_id: str, user_id: str) -> str:
    return f"merchant:{{{merchant_id}}}:user:{user_id}"


def user_email(email_digest: str) -> str:
    """SHA-256 of a lower-cased email -> "<merchant id> <user id>" (emails are unique)."""
    return f"user:email:{email_digest}"


def user_sessions(merchant_id: str, user_id: str) -> str:
    """Set of the user's session digests: "log out everywhere" deletes them all."""
    return f"merchant:{{{merchant_id}}}:user:{user_id}:sessions"


def session(token_digest: str) -> str:
    """A console session (or a half-done login waiting for its TOTP code), by token digest."""
    return f"session:{token_digest}"


def login_failures(scope: str, digest: str) -> str:
    """Failed logins of one email or one client address in the current window."""
    return f"ratelimit:login:{scope}:{digest}"


def totp_used(merchant_id: str, user_id: str) -> str:
    """The last TOTP time step accepted for the user: a code is good once."""
    return f"merchant:{{{merchant_id}}}:user:{user_id}:totp-step"


def conversation_ref(merchant_id: str, ref: str) -> str:
    """Opaque console reference -> conversation key (no phone number in URLs or logs)."""
    return f"merchant:{{{merchant_id}}}:conv-ref:{ref}"


def claim(merchant_id: str, conversation: str) -> str:
    """Who holds a waiting conversation: {user_id, name, at}. Set only by the claim script."""
    return f"merchant:{{{merchant_id}}}:claim:{conversation}"


def user_claims(merchant_id: str, user_id: str) -> str:
    """Set of the conversations a user holds (released at logout)."""
    return f"merchant:{{{merchant_id}}}:user:{user_id}:claims"


def audit(merchant_id: str) -> str:
    """What people did in the console: claims, replies, hand-backs, payment actions (a list)."""
    return f"merchant:{{{merchant_id}}}:audit"


def dashboard_channel(merchant_id: str) -> str:
    """Pub/sub channel: the merchant's invoices or money to review changed (the dashboard's
    live lists; apart from the console's so that an agent's queue does not refresh for it)."""
    return f"merchant:{{{merchant_id}}}:dashboard"


def console_channel(merchant_id: str) -> str:
    """Pub/sub channel: something changed in one of the merchant's conversations."""
    return f"console:{merchant_id}"


# --- end of support agents block ----------------------------------------------------------
def telegram_link(token_hash: str) -> str:
    """A Telegram deep link's start token (hashed, like the pay tokens): merchant, chat id."""
    return f"token:telegram-link:{token_hash}"


# --- Flash sales: customers, audiences, campaigns (merchant's hash tag) ----------------------


def customers(merchant_id: str) -> str:
    """Hash: customer id -> the customer (bot.store.customers)."""
    return f"merchant:{{{merchant_id}}}:customers"


def audiences(merchant_id: str) -> str:
    """Hash: audience id -> its filter or explicit list."""
    return f"merchant:{{{merchant_id}}}:audiences"


def campaign(merchant_id: str, campaign_id: str) -> str:
    """Hash: the campaign's definition (`spec`), `state`, and its enqueue `cursor`."""
    return f"merchant:{{{merchant_id}}}:campaign:{campaign_id}"


def campaign_recipients(merchant_id: str, campaign_id: str) -> str:
    """List of the recipients fixed when the campaign first started (one JSON each)."""
    return f"merchant:{{{merchant_id}}}:campaign:{campaign_id}:recipients"


def campaign_counts(merchant_id: str, campaign_id: str) -> str:
    """Hash: counter name (or "<variant>:<counter>") -> count."""
    return f"merchant:{{{merchant_id}}}:campaign:{campaign_id}:counts"


def campaign_done(merchant_id: str, campaign_id: str) -> str:
    """Set of recipients whose message was decided (sent, skipped): counts stay exact on
    a replayed dispatch."""
    return f"merchant:{{{merchant_id}}}:campaign:{campaign_id}:decided"


def merchant_campaigns(merchant_id: str) -> str:
    """Zset of the merchant's campaign ids by creation time."""
    return f"merchant:{{{merchant_id}}}:campaigns"


CAMPAIGNS_RUNNING = "campaigns:running"  # set: "<merchant>/<campaign>" still to enqueue


def campaign_enqueue_lease(merchant_id: str, campaign_id: str) -> str:
    """One process enqueues a campaign at a time (SET NX PX)."""
    return f"merchant:{{{merchant_id}}}:campaign:{campaign_id}:enqueuing"


def pacing(channel: str, sender: str) -> str:
    """Hash tag of one sender's rate limiter: its windows and pause live on one slot."""
    return f"pace:{{{channel}:{sender}}}"


def offer_token(token_hash: str) -> str:
    """A personal offer link (`/o/<token>`), stored under its SHA-256 like pay tokens."""
    return f"token:offer:{token_hash}"


def campaign_holds(merchant_id: str, campaign_id: str) -> str:
    """Hash: customer id -> their open stock hold (bot.store.offers)."""
    return f"merchant:{{{merchant_id}}}:campaign:{campaign_id}:holds"


def offer_session(merchant_id: str, campaign_id: str, hold_id: str) -> str:
    """The Checkout Session minted for one hold (id and URL)."""
    return f"merchant:{{{merchant_id}}}:campaign:{campaign_id}:hold:{hold_id}"


def conv_offer(conv: str) -> str:
    """The last flash-sale offer sent in the conversation (its replies are read against it)."""
    return f"conv:{{{conv}}}:offer"


def cart(merchant_id: str, cart_id: str) -> str:
    """An abandoned-cart candidate (bot.store.carts)."""
    return f"merchant:{{{merchant_id}}}:cart:{cart_id}"


def cart_counts(merchant_id: str) -> str:
    """Hash: carts, relaunched, paid, paid_after_relaunch."""
    return f"merchant:{{{merchant_id}}}:cart-counts"


def campaign_orders(merchant_id: str, campaign_id: str) -> str:
    """Sorted set: paid holds (orders) -> when paid; each hold's record names its invoice."""
    return f"merchant:{{{merchant_id}}}:campaign:{campaign_id}:orders"


def campaign_bought(merchant_id: str, campaign_id: str) -> str:
    """Hash: customer id -> units paid, against the offer's per-customer limit."""
    return f"merchant:{{{merchant_id}}}:campaign:{campaign_id}:bought"


# --- Outgoing webhooks to the merchant's systems (merchant's hash tag) -------------------------
WEBHOOK_MERCHANTS = "webhooks:merchants"  # set: merchants with events or deliveries to handle


def merchant_webhook_endpoints(merchant_id: str) -> str:
    """Hash: endpoint id -> JSON (url, events, secret, created_at)."""
    return f"merchant:{{{merchant_id}}}:webhook-endpoints"


def merchant_webhook_events(merchant_id: str) -> str:
    """List: events emitted and not yet fanned out to the endpoints."""
    return f"merchant:{{{merchant_id}}}:webhook-events"


def merchant_webhook_seen(merchant_id: str, event_id: str) -> str:
    """An event id already fanned out (deduplication), kept for 30 days."""
    return f"merchant:{{{merchant_id}}}:webhook-seen:{event_id}"


def merchant_webhook_delivery(merchant_id: str, delivery_id: str) -> str:
    return f"merchant:{{{merchant_id}}}:webhook-delivery:{delivery_id}"


def merchant_webhook_due(merchant_id: str) -> str:
    """Sorted set: delivery id -> when its next attempt is due."""
    return f"merchant:{{{merchant_id}}}:webhook-due"


def merchant_webhook_log(merchant_id: str) -> str:
    """Capped list: every delivery attempt, newest last (the dashboard's delivery log)."""
    return f"merchant:{{{merchant_id}}}:webhook-log"


def merchant_handoffs(merchant_id: str) -> str:
    """Sorted set: invoice id -> when its conversation was first handed to a person (KPIs)."""
    return f"merchant:{{{merchant_id}}}:kpi-handoffs"


def document_pdf(merchant_id: str, kind: str, document_id: str) -> str:
    """The archived PDF of an invoice or credit note (`kind`), written once, kept 10 years."""
    return f"merchant:{{{merchant_id}}}:{kind}:{document_id}:pdf"


def document_render_lock(merchant_id: str, kind: str, document_id: str) -> str:
    """Held while one process renders the document: rendered once (bot.engine.documents)."""
    return f"merchant:{{{merchant_id}}}:{kind}:{document_id}:pdf:rendering"


DOCUMENTS_STREAM = "documents:render"  # stream: an issued invoice whose PDF is to be archived
DOCUMENTS_GROUP = "archivers"


def merchant_erasures(merchant_id: str) -> str:
    """GDPR erasures carried out for the merchant (JSON list, oldest first): the record of them."""
    return f"merchant:{{{merchant_id}}}:erasures"


def merchant_policy(merchant_id: str) -> str:
    """JSON: the merchant's collection policy (reminder ladder, hours); GET/PUT /api/v1/policy."""
    return f"merchant:{{{merchant_id}}}:policy"


# --- Merchants' own senders (issue 7): SMS number / Messaging Service, WhatsApp, Telegram bot ---


def channel_sender(channel: str, ref: str) -> str:
    """One sender of one merchant, by what receives the customer's replies (a number, a
    Messaging Service SID, a Telegram bot id): inbound routing and outbound sending read it."""
    return f"sender:{channel}:{ref}"


# Pub/sub: a sender was registered or removed; each web process drops what it remembers of
# inbound routing (bot.store.sender_routes).
SENDERS_CHANGED = "senders:changed"


def merchant_senders(merchant_id: str) -> str:
    """Hash: channel -> the ref of the merchant's own sender on it (none: the platform's)."""
    return f"merchant:{{{merchant_id}}}:senders"


def sms_not_capable(phone: str) -> str:
    """Set when Twilio said the number cannot receive SMS (30006: landline, unreachable
    carrier): later SMS to it are not sent (bot.store.sms_reach)."""
    return f"sms:not-capable:{phone}"


def consent_channel_marketing(merchant_id: str, address: str) -> str:
    """Set when the customer stopped marketing on one channel only ("whatsapp:+33...": Meta
    131050): marketing there stops, elsewhere and transactional messages go on."""
    return f"merchant:{{{merchant_id}}}:consent-channel:{address}"


# --- Shop connections (bot.store.shops) ---


def shop_connection(connection_id: str) -> str:
    """String: one shop connection (JSON, its secret sealed), found by its webhook path."""
    return f"shop:{{{connection_id}}}"


def shop_delivery(connection_id: str, delivery_id: str) -> str:
    """Marker: a webhook delivery of this connection already handled (X-Shopify-Webhook-Id,
    X-WC-Webhook-Delivery-ID)."""
    return f"shop:{{{connection_id}}}:delivery:{delivery_id}"


def shop_paid_order(connection_id: str, order_id: str) -> str:
    """Marker: the shop said this order is paid before Facto invoiced it (a paid webhook
    delivered before the order's create): the create then issues it paid."""
    return f"shop:{{{connection_id}}}:paid:{order_id}"


def shop_refusals(connection_id: str) -> str:
    """List: the last orders of this connection that were not invoiced, and why."""
    return f"shop:{{{connection_id}}}:refused"


def merchant_shops(merchant_id: str) -> str:
    """Set: the ids of the merchant's shop connections."""
    return f"merchant:{{{merchant_id}}}:shops"


def customer_phones(merchant_id: str) -> str:
    """Hash: E.164 number -> customer id, for customers found or made from shop orders."""
    return f"merchant:{{{merchant_id}}}:customer_phones"
