"""Original-mode acknowledgements: MSA AA/AE/AR echoing MSH-10, one ERR segment per problem (HL7 2.5 ERR:
ERR-2 location segment^sequence^field, ERR-3 code from table 0357, ERR-4 severity, ERR-8 the user message)."""
from __future__ import annotations

import secrets

from app.core import clock

from .message import CODE_TEXT, Problem, escape

CONTENT_TYPE = "x-application/hl7-v2+er7"
RECEIVING_APP = "YGT"


def build(*, ack_code: str, control_id: str = "", sending_app: str = "", sending_facility: str = "",
          event: str = "", version: str = "2.5.1", text: str = "", problems: list[Problem] = ()) -> str:
    """The ACK for a message (whatever could be read of its MSH)."""
    stamp = clock.now().astimezone().strftime("%Y%m%d%H%M%S%z")
    msh = "|".join(["MSH", "^~\\&", RECEIVING_APP, RECEIVING_APP, escape(sending_app), escape(sending_facility), stamp,
                    "", f"ACK^{escape(event)}^ACK" if event else "ACK", "ACK" + secrets.token_hex(8), "P",
                    escape(version or "2.5.1")])
    segments = [msh, "|".join(["MSA", ack_code, escape(control_id), escape(text[:80])])]
    for p in problems:
        severity = "E"
        segments.append("|".join(["ERR", "", p.location(), f"{p.code}^{CODE_TEXT.get(p.code, '')}^HL70357",
                                  severity, "", "", "", escape(p.text[:250])]))
    return "\r".join(segments) + "\r"


def accept(parsed, text: str = "") -> str:
    return build(ack_code="AA", control_id=parsed.control_id, sending_app=parsed.sending_app,
                 sending_facility=parsed.sending_facility, event=parsed.event, version=parsed.version, text=text)
