#!/usr/bin/env python3
"""A ticket-admin client with Python's standard library only (urllib): one call, or use `call` from your own code.

    TICKET_ADMIN_TOKEN=ta_... TICKET_ADMIN_NETWORK=demo python3 examples/client.py ticket.getPurchasableTickets '{"limit": 5}'

It posts the params bare to <url>/jsonRpc/<method> and reads the {data, error} envelope back. The environment:
TICKET_ADMIN_URL (the server's base URL, default http://127.0.0.1:8080), TICKET_ADMIN_TOKEN (sent as
Authorization: Bearer), TICKET_ADMIN_NETWORK (sent as X-Network-Id). Exit codes as `ticket-admin call`: 0 the
result printed, 1 the server answered with an error, 2 a wrong command line, 3 the server could not be reached.
"""

import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

DEFAULT_URL = "http://127.0.0.1:8080"


class CallError(Exception):
    """The server answered the call with an error: its JSON-RPC code, message and details."""

    def __init__(self, method, code, message, details=None):
        super().__init__(f"{method} failed: error {code}: {message}")
        self.code = code
        self.message = message
        self.details = details


def call(method, params=None, url=None, token=None, network=None, timeout=30):
    """Calls `method` with `params` (any JSON value, or None for none); returns the result or raises CallError.

    url, token and network default to TICKET_ADMIN_URL, TICKET_ADMIN_TOKEN and TICKET_ADMIN_NETWORK. A server that
    cannot be reached raises urllib.error.URLError.
    """
    url = (url or os.environ.get("TICKET_ADMIN_URL") or DEFAULT_URL).rstrip("/")
    token = token or os.environ.get("TICKET_ADMIN_TOKEN")
    network = network or os.environ.get("TICKET_ADMIN_NETWORK")
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if network:
        headers["X-Network-Id"] = network
    body = b"" if params is None else json.dumps(params).encode()
    request = urllib.request.Request(f"{url}/jsonRpc/{method}", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            envelope = json.load(response)
    except urllib.error.HTTPError as refused:
        # An HTTP-level refusal (404, 413, 415, 429, ...): no envelope, the status says why.
        raise CallError(method, refused.code, f"HTTP {refused.code}: {refused.read().decode(errors='replace')}")
    error = envelope["error"]
    if error["status"]:
        raise CallError(method, error["code"], error["message"], error.get("details"))
    return envelope["data"]


def main(argv):
    if len(argv) not in (2, 3) or argv[1] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr)
        return 0 if len(argv) == 2 and argv[1] in ("-h", "--help") else 2
    url = os.environ.get("TICKET_ADMIN_URL") or DEFAULT_URL
    if urllib.parse.urlsplit(url).path.strip("/"):
        print(f"client.py: TICKET_ADMIN_URL {url}: give the server's base URL, without a path such as /jsonRpc",
              file=sys.stderr)
        return 2
    try:
        params = json.loads(argv[2]) if len(argv) == 3 else None
    except json.JSONDecodeError as e:
        print(f"client.py: the params are not JSON: {e}", file=sys.stderr)
        return 2
    try:
        result = call(argv[1], params, url=url)
    except CallError as e:
        print(f"client.py: {e}", file=sys.stderr)
        if e.details is not None:
            print(json.dumps(e.details, indent=2), file=sys.stderr)
        return 1
    except (urllib.error.URLError, OSError) as e:
        print(f"client.py: cannot reach the server at {url} (is it running there?): {e}", file=sys.stderr)
        return 3
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
