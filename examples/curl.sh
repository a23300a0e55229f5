#!/usr/bin/env bash
# The README's walk-through as a script: run it against a live server; it stops at the first unexpected answer.
#
#   ADMIN_TOKEN=ta_... examples/curl.sh            # URL defaults to http://127.0.0.1:8080
#
# It makes a network.manage token for the network $NETWORK (default demo-<pid>, fresh on every run, so a run that
# stopped half-way never gets in the way of the next one), leaves that network without tickets when it ends, and
# revokes the token it made when it ends, also when it stops at an unexpected answer.
# Needs curl and python3 (for reading the JSON answers).
set -euo pipefail
for tool in curl python3; do
  command -v "$tool" >/dev/null || { echo "curl.sh needs $tool" >&2; exit 1; }
done

URL=${URL:-http://127.0.0.1:8080}
: "${ADMIN_TOKEN:?set ADMIN_TOKEN to an all@* token (printed when the server first starts)}"
NETWORK=${NETWORK:-demo-$$}
J='Content-Type: application/json'

# expect JSON PYTHON-CONDITION: shows the answer; fails unless the condition holds for it (bound to `a`).
expect() {
  echo "$1"
  if ! python3 -c "import json,sys; a=json.loads(sys.argv[1]); sys.exit(0 if ($2) else 1)" "$1"; then
    echo "unexpected answer: $1" >&2
    echo "expected: $2" >&2
    exit 1
  fi
}

step() { printf '\n== %s\n' "$*"; }

step "a token that may manage network $NETWORK"
answer=$(curl -sS "$URL/jsonRpc/admin.createToken" -H "$J" -H "Authorization: Bearer $ADMIN_TOKEN" \
  -d "{\"name\":\"curl walk-through\",\"grants\":[\"network.manage@$NETWORK\"]}")
expect "$answer" 'a["error"]["status"] is False and a["data"]["token"].startswith("ta_")'
TOKEN=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["data"]["token"])' "$answer")
TOKEN_ID=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["data"]["tokenInfo"]["id"])' "$answer")

# The token made above is revoked when the script ends, whether it got through or stopped half-way.
revoke() {
  local answer
  answer=$(curl -sS "$URL/jsonRpc/admin.revokeToken" -H "$J" -H "Authorization: Bearer $ADMIN_TOKEN" \
    -d "{\"tokenId\":\"$TOKEN_ID\"}") || true
  if python3 -c "import json,sys; sys.exit(0 if json.loads(sys.argv[1])['error']['status'] is False else 1)" \
    "$answer" 2>/dev/null; then
    echo "token $TOKEN_ID revoked" >&2
  else
    echo "could not revoke token $TOKEN_ID: $answer" >&2
  fi
}
trap revoke EXIT
AUTH="Authorization: Bearer $TOKEN"
NET="X-Network-Id: $NETWORK"
TICKET='{"productId":"vip-2027","eventName":"Summit 2027","eventStartDate":"2027-05-01T09:00:00Z",
  "eventEndDate":"2027-05-03T18:00:00Z","ticketType":"single","ticketName":"VIP","price":199.99,"allocation":100}'

step "path form, bare params: create"
answer=$(curl -sS "$URL/jsonRpc/ticket.createPurchasableTicket" -H "$J" -H "$AUTH" -H "$NET" -d "{\"ticket\":$TICKET}")
expect "$answer" 'a["error"] == {"status": False, "code": 0, "message": ""} and a["data"]["ticket"]["price"] == 199.99'

step "path form: list"
answer=$(curl -sS "$URL/jsonRpc/ticket.getPurchasableTickets" -H "$J" -H "$AUTH" -H "$NET" -d "{}")
expect "$answer" 'a["data"]["count"] == 1 and a["data"]["tickets"][0]["productId"] == "vip-2027"'

step "path form: update (whole replacement, version checked)"
answer=$(curl -sS "$URL/jsonRpc/ticket.updatePurchasableTicket" -H "$J" -H "$AUTH" -H "$NET" \
  -d '{"ticket":{"productId":"vip-2027","eventName":"Summit 2027","eventStartDate":"2027-05-01T09:00:00Z",
  "eventEndDate":"2027-05-03T18:00:00Z","ticketType":"days:2of3","ticketName":"VIP","price":149,"sysVersion":1}}')
expect "$answer" 'a["data"]["ticket"]["sysVersion"] == 2 and a["data"]["ticket"]["ticketType"] == "days:2of3"'

step "path form: an invalid ticket, every problem at once"
answer=$(curl -sS "$URL/jsonRpc/ticket.createPurchasableTicket" -H "$J" -H "$AUTH" -H "$NET" \
  -d '{"ticket":{"productId":"x","price":-1}}')
expect "$answer" 'a["data"] is None and a["error"]["code"] == -32602 and len(a["error"]["details"]["errors"]) >= 6'

step "path form: delete"
answer=$(curl -sS "$URL/jsonRpc/ticket.deletePurchasableTicket" -H "$J" -H "$AUTH" -H "$NET" -d '{"productId":"vip-2027"}')
expect "$answer" 'a["data"] == {} and a["error"]["status"] is False'

step "plain JSON-RPC: create, list, update, delete (the network as a params member)"
rpc() {
  curl -sS "$URL/jsonRpc" -H "$J" -H "$AUTH" \
    -d "{\"jsonrpc\":\"2.0\",\"id\":$1,\"method\":\"$2\",\"params\":$3}"
}
answer=$(rpc 1 ticket.createPurchasableTicket "{\"networkId\":\"$NETWORK\",\"ticket\":$TICKET}")
expect "$answer" 'a["id"] == 1 and a["result"]["ticket"]["sysVersion"] == 1'
answer=$(rpc 2 ticket.getPurchasableTickets "{\"networkId\":\"$NETWORK\",\"orderBy\":\"price\",\"limit\":10}")
expect "$answer" 'a["id"] == 2 and a["result"]["count"] == 1 and a["result"]["nextCursor"] is None'
answer=$(rpc 3 ticket.updatePurchasableTicket "{\"networkId\":\"$NETWORK\",\"ticket\":$(echo "$TICKET" | sed 's/199.99/99/')}")
expect "$answer" 'a["result"]["ticket"]["price"] == 99 and a["result"]["ticket"]["sysVersion"] == 2'
answer=$(rpc 4 ticket.deletePurchasableTicket "{\"networkId\":\"$NETWORK\",\"productId\":\"vip-2027\"}")
expect "$answer" 'a["id"] == 4 and a["result"] == {}'
answer=$(rpc 5 ticket.getPurchasableTicket "{\"networkId\":\"$NETWORK\",\"productId\":\"vip-2027\"}")
expect "$answer" 'a["error"]["code"] == -32004'

printf '\nall answers as expected\n'
