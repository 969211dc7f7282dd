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
import sys


def encode(value):
    if isinstance(value, (bytes, bytearray)):
        return {"b64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    return value


def describe(part):
    """A part as Python's email sees it: its type, its body's size in octets as transferred (still
    encoded, as BODYSTRUCTURE counts it), and its children (a multipart's parts, or the message a
    message/rfc822 part carries)."""
    node = {"type": part.get_content_type()}
    if part.is_multipart():
        payload = part.get_payload()
        if part.get_content_maintype() == "message":
            node["message"] = describe(payload[0])
        else:
            node["parts"] = [describe(p) for p in payload]
    else:
        body = part.get_payload(decode=False)
        # surrogateescape gives back the 8-bit octets the parser kept as they were.
        node["size"] = len(body.encode("ascii", "surrogateescape")) if isinstance(body, str) else len(body)
    return node


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
                trees.append({"raw": encode(raw), "tree": describe(email.message_from_bytes(raw, policy=email.policy.compat32))})
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
