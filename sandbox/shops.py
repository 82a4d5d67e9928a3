"""Shop order webhooks as Shopify and WooCommerce send them: payloads in their formats (the
fields Facto reads, shaped as in each platform's REST order resource) and their signatures
(base64 HMAC-SHA256 of the raw body with the shared secret), for the tests and the demo."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any


def sign(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def shopify_order(
    order_id: int = 5_820_000_001,
    *,
    phone: str = "+33612345678",
    financial_status: str = "pending",
) -> dict[str, Any]:
    """A French Shopify shop's order, prices VAT included (`taxes_included`), in EUR."""
    return {
        "id": order_id,
        "name": f"#{order_id % 10_000}",
        "currency": "EUR",
        "customer_locale": "fr-FR",
        "financial_status": financial_status,
        "taxes_included": True,
        "total_price": "84.90",
        "total_tax": "14.15",
        "phone": None,
        "customer": {"first_name": "Camille", "last_name": "Martin", "phone": phone},
        "billing_address": {
            "first_name": "Camille",
            "last_name": "Martin",
            "name": "Camille Martin",
            "phone": phone,
            "country_code": "FR",
        },
        "line_items": [
            {
                "title": "Lampe de bureau",
                "name": "Lampe de bureau - Laiton",
                "quantity": 1,
                "price": "60.00",
                "total_discount": "0.00",
                "discount_allocations": [],
                "tax_lines": [{"title": "TVA", "price": "10.00", "rate": 0.2}],
            },
            {
                "title": "Ampoule LED",
                "name": "Ampoule LED",
                "quantity": 2,
                "price": "10.00",
                "total_discount": "0.00",
                "discount_allocations": [],
                "tax_lines": [{"title": "TVA", "price": "3.33", "rate": 0.2}],
            },
        ],
        "shipping_lines": [
            {
                "title": "Colissimo",
                "price": "4.90",
                "discounted_price": "4.90",
                "tax_lines": [{"title": "TVA", "price": "0.82", "rate": 0.2}],
            }
        ],
    }


def shopify_request(
    order: dict[str, Any],
    secret: str,
    *,
    shop: str,
    webhook_id: str = "b54557e4-1",
    topic: str = "orders/create",
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(order).encode()
    return body, {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": sign(body, secret),
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-API-Version": "2025-07",
    }


def woocommerce_order(
    order_id: int = 727, *, phone: str = "06 12 34 56 78", paid: bool = False
) -> dict[str, Any]:
    """A French WooCommerce shop's order: line totals without VAT, rates in `tax_lines`."""
    return {
        "id": order_id,
        "number": str(order_id),
        "status": "processing" if paid else "pending",
        "currency": "EUR",
        "prices_include_tax": False,
        "date_paid": "2026-03-02T10:00:00" if paid else None,
        "total": "47.25",
        "total_tax": "4.25",
        "billing": {
            "first_name": "Inès",
            "last_name": "Durand",
            "company": "",
            "country": "FR",
            "phone": phone,
            "email": "ines@example.fr",
        },
        "shipping": {"first_name": "Inès", "last_name": "Durand", "country": "FR"},
        "line_items": [
            {
                "name": "Miel de lavande 500 g",
                "quantity": 3,
                "subtotal": "30.00",
                "total": "30.00",
                "total_tax": "1.65",
                "taxes": [{"id": 2, "total": "1.65", "subtotal": "1.65"}],
            },
            {
                "name": "Coffret cadeau",
                "quantity": 1,
                "subtotal": "10.00",
                "total": "10.00",
                "total_tax": "2.00",
                "taxes": [{"id": 1, "total": "2", "subtotal": "2"}, {"id": 2, "total": ""}],
            },
        ],
        "shipping_lines": [
            {
                "method_title": "Livraison",
                "total": "3.00",
                "total_tax": "0.60",
                "taxes": [{"id": 1, "total": "0.6"}],
            }
        ],
        "fee_lines": [],
        "tax_lines": [
            {"id": 91, "rate_id": 1, "label": "TVA 20 %", "compound": False, "rate_percent": 20},
            {"id": 92, "rate_id": 2, "label": "TVA 5,5 %", "compound": False, "rate_percent": 5.5},
        ],
    }


def woocommerce_request(
    order: dict[str, Any],
    secret: str,
    *,
    site: str,
    delivery_id: str = "d-1",
    topic: str = "order.created",
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(order).encode()
    return body, {
        "Content-Type": "application/json",
        "X-WC-Webhook-Source": site,
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": "order",
        "X-WC-Webhook-Event": topic.rsplit(".", maxsplit=1)[-1],
        "X-WC-Webhook-Signature": sign(body, secret),
        "X-WC-Webhook-ID": "12",
        "X-WC-Webhook-Delivery-ID": delivery_id,
    }
