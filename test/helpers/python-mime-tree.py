"""The MIME tree of each message file named on the command line as Python's email package reads it
(message_from_bytes, policy compat32), as JSON on stdout: one tree per file, in order. A node is
{"type", "children"} for a container (multipart, or a message/rfc822 part: its one child is the
message it carries) or {"type", "payload"} for a leaf (get_payload(decode=True), base64; null
when Python gives none). "opaque" marks what Python parses that IMAP does not (message/* types
other than rfc822/global, an attached message under a transfer encoding): its children are not
compared. The root also carries "envelope": its Message-ID (blanks collapsed) and the addresses
of From, To and Cc as email.utils.getaddresses reads them (null where it gives up). Used by test/unit/imap-structure-corpus.test.ts."""
import base64
import email
import email.utils
import json
import sys
from email import policy

IDENTITY = ("", "7bit", "8bit", "binary")


def node(msg):
    ctype = msg.get_content_type()
    cte = str(msg.get("content-transfer-encoding", "")).strip().lower()
    out = {"type": ctype, "cte": cte}
    if msg.is_multipart():
        if ctype.startswith("message/") and (ctype not in ("message/rfc822", "message/global") or cte not in IDENTITY):
            out["opaque"] = True
            return out
        out["children"] = [node(part) for part in msg.get_payload()]
        return out
    payload = msg.get_payload(decode=True)
    out["payload"] = None if payload is None else base64.b64encode(payload).decode("ascii")
    return out


def addresses(msg, name):
    try:
        # The raw values: compat32 hands a value with 8-bit bytes over as a Header object, whose text has lost them.
        found = email.utils.getaddresses([value for key, value in msg.raw_items() if key.lower() == name])
    except RecursionError:
        return None  # Python's address parser recurses per address: a huge To: header is beyond it
    # Raw 8-bit bytes come back as surrogate escapes: give them as the UTF-8 they were.
    return [text(address) for _, address in found if address]


def text(value):
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


trees = []
for path in sys.argv[1:]:
    with open(path, "rb") as handle:
        msg = email.message_from_bytes(handle.read(), policy=policy.compat32)
    tree = node(msg)
    message_id = msg.get("message-id")
    tree["envelope"] = {
        "messageId": None if message_id is None else " ".join(str(message_id).split()),
        "from": addresses(msg, "from"),
        "to": addresses(msg, "to"),
        "cc": addresses(msg, "cc"),
    }
    trees.append(tree)
json.dump(trees, sys.stdout)
