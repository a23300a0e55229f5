-- The whole schema of ticket-admin. Each "-- migration: N" section is applied once, in order, and recorded in
-- PRAGMA user_version; a released section is never edited, only followed by a new one.

-- migration: 1

-- Bearer tokens. Only the SHA-256 of the secret is kept; the secret is shown once when the token is made.
CREATE TABLE tokens (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    secret_hash BLOB NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,            -- epoch milliseconds
    expires_at  INTEGER,                     -- epoch milliseconds; NULL never expires
    revoked_at  INTEGER                      -- epoch milliseconds; NULL is not revoked
);

-- What a token may do: permission@scope, scope a network id or '*'.
CREATE TABLE token_grants (
    token_id   TEXT NOT NULL REFERENCES tokens(id) ON DELETE CASCADE,
    permission TEXT NOT NULL,
    scope      TEXT NOT NULL,
    PRIMARY KEY (token_id, permission, scope)
) WITHOUT ROWID;

-- Purchasable tickets, one set per network.
CREATE TABLE tickets (
    network_id           TEXT NOT NULL,
    product_id           TEXT NOT NULL,
    event_name           TEXT NOT NULL,
    event_start_date     INTEGER NOT NULL,   -- epoch milliseconds
    event_end_date       INTEGER NOT NULL,   -- epoch milliseconds
    ticket_type          TEXT NOT NULL,
    ticket_name          TEXT NOT NULL,
    ticket_description   TEXT NOT NULL,
    price_cents          INTEGER NOT NULL CHECK (price_cents >= 0),
    thumbnail_id         TEXT NOT NULL,
    discount             TEXT NOT NULL,
    grants               TEXT NOT NULL,      -- JSON array of {grantType, grantTarget}
    allocation           INTEGER,            -- NULL is unlimited
    max_per_attendee     INTEGER,            -- NULL is unlimited
    visible              INTEGER NOT NULL,
    display_order        INTEGER NOT NULL,
    sold                 INTEGER NOT NULL DEFAULT 0,  -- active registrations holding it, kept by the writer
    sys_version          INTEGER NOT NULL,
    sys_created_at       INTEGER NOT NULL,
    sys_last_modified_at INTEGER NOT NULL,
    sys_created_by       TEXT NOT NULL,
    sys_last_modified_by TEXT NOT NULL,
    PRIMARY KEY (network_id, product_id)
) WITHOUT ROWID;
