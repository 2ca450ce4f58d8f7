"""POST /api/v1/connectors/hl7v2 — one HL7 v2 message in, its ACK out (HL7 over HTTP: 200 with the ACK, whose
MSA-1 says AA/AE/AR). Authenticated like a webhook (signed, `X-Client-Id`) or with an integration bearer token."""
from __future__ import annotations

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint

from app.auth.access import check_roles
from app.auth.principal import current_principal
from app.core import ratelimit
from app.core.errors import Unauthorized
from app.webhooks.signature import verify

from . import inbound
from .ack import CONTENT_TYPE

blp = Blueprint("hl7v2", __name__, url_prefix="/api/v1/connectors",
                description="HL7 v2 接入 (ADT A01/A04/A08, ORU^R01, REF^I12) — ACK AA/AE/AR")


def caller_client_id(body: bytes) -> str:
    """The integration client: a bearer token's user, or a signed request's `X-Client-Id`."""
    principal = current_principal()
    if principal is not None:
        check_roles(principal, "integration")
        return principal.username
    if request.headers.get("X-Client-Id"):
        return verify(request.headers, body).client_id
    raise Unauthorized("需要签名或集成客户端令牌 (signed request or integration token required)")


@blp.route("/hl7v2")
class Hl7v2(MethodView):
    @blp.doc(requestBody={"content": {CONTENT_TYPE: {"schema": {"type": "string"}}}},
             responses={"200": {"description": "the ACK (MSA-1 AA accepted, AE error, AR rejected; ERR segments "
                                               "name segment^sequence^field)",
                                "content": {CONTENT_TYPE: {"schema": {"type": "string"}}}},
                        "401": {"description": "unauthorized | unknown_client | invalid_signature"},
                        "429": {"description": "rate_limited"}},
             security=[{"bearer": []}])
    def post(self):
        """Take one HL7 v2 message (ER7) and answer its ACK."""
        body = request.get_data(cache=True)
        client_id = caller_client_id(body)
        ratelimit.check(client_id)
        outcome = inbound.receive(body, client_id=client_id, content_type=request.content_type or "")
        text = outcome.body if isinstance(outcome.body, str) else str(outcome.body)
        return Response(text.encode("utf-8"), status=200, content_type=f"{CONTENT_TYPE}; charset=utf-8")
