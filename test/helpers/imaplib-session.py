"""Python's imaplib as a test's IMAP client: runs the calls given as JSON on stdin, prints what each
returned as JSON on stdout.

Input:  {"port": 1143, "calls": [["login", "u", "p"], ["select", "INBOX"], ["uid", "SEARCH", "ALL"], ...]}
        (a call is an imaplib.IMAP4 method name and its arguments); or {"port": ..., "structure": [1, 2]}
        to fetch those messages' RFC822 and describe each with the `email` package (see describe()).
Output: {"results": [[typ, data], ...]}; bytes are {"b64": "..."}, tuples lists. A call that raises
        ends the run: {"results": [...], "error": "class: message"}.
"""
import base64
import email
import email.policy
import imaplib
import json
import re
import sys


def encode(value):
    if isinstance(value, (bytes, bytearray)):
        return {"b64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    return value


BOM = b"\xef\xbb\xbf"


def describe(part):
    """A part as Python's email sees it: its type, its body's size in octets as transferred (still
    encoded, as BODYSTRUCTURE counts it), and its children (a multipart's parts, or the message a
    message/rfc822 part carries).

    Where IMAP's rules and Python's reading differ by design, the description says what IMAP makes
    of what Python read, and why:
    - Python parses every message/* type as a container (message/delivery-status into blocks of
      fields, message/partial into a message); IMAP's BODYSTRUCTURE opens only message/rfc822 and
      message/global, the rest are leaf parts. Python keeps no octet count for them: size None.
    - A multipart whose boundary never appears is, for Python, a leaf holding that text; IMAP's
      grammar needs at least one part (RFC 3501 body-type-mpart), so it is a multipart holding one
      empty text/plain part ("empty": True).
    - The last part of a multipart whose close delimiter is missing runs to the end of the message;
      Python drops its final line end: size None.
    """
    node = {"type": part.get_content_type()}
    if part.get_content_maintype() == "message" and part.get_content_subtype() not in ("rfc822", "global"):
        node["size"] = None
    elif part.is_multipart():
        payload = part.get_payload()
        if part.get_content_maintype() == "message":
            node["message"] = describe(payload[0])
        else:
            node["parts"] = [describe(p) for p in payload]
            last = node["parts"][-1] if node["parts"] else {}
            if any(type(d).__name__ == "CloseBoundaryNotFoundDefect" for d in part.defects) and "size" in last:
                last["size"] = None
    elif part.get_content_maintype() == "multipart":
        node["empty"] = True
    else:
        # The payload as parsed: get_payload() would turn 8-bit text into its charset's characters;
        # the parser keeps each 8-bit octet as a surrogate, which surrogateescape gives back.
        body = part._payload
        node["size"] = len(body.encode("ascii", "surrogateescape")) if isinstance(body, str) else len(body)
    return node


FIELD = re.compile(rb"^[\x21-\x39\x3b-\x7e]+[ \t]*:")


def parse(raw):
    """The message as Python's email reads it, with the two header mistakes it treats more strictly
    than IMAP servers (Kotak's included) taken out first, neither of which changes a body's bytes:
    a byte-order mark before the first field, and a line in the header that is neither a field nor
    a continuation (Python ends the header at either, making the rest a text/plain body; Kotak, as
    mailparser and MimeKit, reads the fields after them)."""
    if raw.startswith(BOM):
        raw = raw[len(BOM):]
    lines = raw.splitlines(keepends=True)
    kept = []
    for index, line in enumerate(lines):
        if line in (b"\r\n", b"\n"):
            kept.extend(lines[index:])
            break
        if index == 0 or FIELD.match(line) or line[:1] in (b" ", b"\t"):
            kept.append(line)
    return email.message_from_bytes(b"".join(kept), policy=email.policy.compat32)


def main():
    request = json.load(sys.stdin)
    client = imaplib.IMAP4("127.0.0.1", request["port"], timeout=60)
    results = []
    try:
        if "structure" in request:
            client.login("tester", "secret")
            client.select("INBOX", readonly=True)
            trees = []
            for number in request["structure"]:
                typ, data = client.fetch(str(number), "(RFC822)")
                raw = data[0][1]
                trees.append({"raw": encode(raw), "tree": describe(parse(raw))})
            client.logout()
            json.dump({"results": trees}, sys.stdout)
            return
        for call in request["calls"]:
            name, args = call[0], call[1:]
            results.append(encode(getattr(client, name)(*args)))
    except Exception as error:  # reported to the test, which shows it
        json.dump({"results": results, "error": f"{type(error).__name__}: {error}"}, sys.stdout)
        return
    json.dump({"results": results}, sys.stdout)


main()
