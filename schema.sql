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

-- migration: 2

-- Registrations: a contact's place at an event. The client's fields are kept whole as canonical JSON in `fields`;
-- the columns beside it copy the ones the server filters, looks up or acts on, each behind an index. `seq` orders
-- a network's registrations by creation, which makes keyset paging stable while others are inserted.
CREATE TABLE registrations (
    seq                    INTEGER PRIMARY KEY,
    network_id             TEXT NOT NULL,
    id                     TEXT NOT NULL,
    event_id               TEXT NOT NULL,
    number                 INTEGER NOT NULL,
    contact_id             TEXT NOT NULL,
    type_id                TEXT NOT NULL,
    package_id             TEXT NOT NULL,
    product_id             TEXT,
    status                 TEXT NOT NULL,
    name                   TEXT NOT NULL,
    first_name             TEXT,
    last_name              TEXT,
    email_address          TEXT,
    city                   TEXT,
    state                  TEXT,
    country                TEXT,
    job_title              TEXT,
    organization_id        TEXT,
    order_id               TEXT,
    order_number           REAL,
    order_status           TEXT,
    is_guest_registration  INTEGER NOT NULL,
    group_id               TEXT,
    deadline_id            TEXT,
    parent_registration_id TEXT,
    date                   INTEGER,            -- epoch milliseconds
    order_balance_due      REAL,
    order_amount_paid      REAL,
    order_total            REAL,
    sys_locked             INTEGER NOT NULL,
    fields                 TEXT NOT NULL,      -- canonical JSON of every client field
    sys_version            INTEGER NOT NULL,
    sys_created_at         INTEGER NOT NULL,
    sys_last_modified_at   INTEGER NOT NULL,
    sys_created_by         TEXT NOT NULL,
    sys_last_modified_by   TEXT NOT NULL,
    UNIQUE (network_id, id),
    UNIQUE (network_id, event_id, number)
);
-- One index per look-up and filter; SQLite appends seq (the rowid) to each, so a filtered page is read in order.
CREATE INDEX registrations_event ON registrations (network_id, event_id);
CREATE INDEX registrations_contact ON registrations (network_id, contact_id);
CREATE INDEX registrations_event_contact ON registrations (network_id, event_id, contact_id);
CREATE INDEX registrations_event_organization ON registrations (network_id, event_id, organization_id);
CREATE INDEX registrations_organization ON registrations (network_id, organization_id);
CREATE INDEX registrations_parent ON registrations (network_id, parent_registration_id);
CREATE INDEX registrations_order ON registrations (network_id, order_id);
CREATE INDEX registrations_order_number ON registrations (network_id, order_number);
CREATE INDEX registrations_order_status ON registrations (network_id, order_status);
CREATE INDEX registrations_group ON registrations (network_id, group_id);
CREATE INDEX registrations_deadline ON registrations (network_id, deadline_id);
CREATE INDEX registrations_type ON registrations (network_id, type_id);
CREATE INDEX registrations_package ON registrations (network_id, package_id);
CREATE INDEX registrations_status ON registrations (network_id, status);
CREATE INDEX registrations_guest ON registrations (network_id, is_guest_registration);
CREATE INDEX registrations_date ON registrations (network_id, date);
CREATE INDEX registrations_balance_due ON registrations (network_id, order_balance_due);
CREATE INDEX registrations_amount_paid ON registrations (network_id, order_amount_paid);
CREATE INDEX registrations_total ON registrations (network_id, order_total);
-- Counting a contact's active holdings of a ticket (maxPerAttendee).
CREATE INDEX registrations_holding ON registrations (network_id, product_id, contact_id, status);

-- Case-insensitive "contains" search on the name and address fields, served by a trigram index. A change that
-- leaves the searchable text as it was (a status, a note, an order) leaves the index alone.
CREATE VIRTUAL TABLE registration_text USING fts5(
    first_name, last_name, name, email_address, city, state, country, job_title,
    content = 'registrations', content_rowid = 'seq', tokenize = 'trigram'
);
CREATE TRIGGER registrations_text_insert AFTER INSERT ON registrations BEGIN
    INSERT INTO registration_text (rowid, first_name, last_name, name, email_address, city, state, country, job_title)
    VALUES (new.seq, new.first_name, new.last_name, new.name, new.email_address, new.city, new.state, new.country,
            new.job_title);
END;
CREATE TRIGGER registrations_text_delete AFTER DELETE ON registrations BEGIN
    INSERT INTO registration_text (registration_text, rowid, first_name, last_name, name, email_address, city, state,
                                   country, job_title)
    VALUES ('delete', old.seq, old.first_name, old.last_name, old.name, old.email_address, old.city, old.state,
            old.country, old.job_title);
END;
CREATE TRIGGER registrations_text_update
AFTER UPDATE OF first_name, last_name, name, email_address, city, state, country, job_title ON registrations
WHEN old.first_name IS NOT new.first_name OR old.last_name IS NOT new.last_name OR old.name IS NOT new.name
    OR old.email_address IS NOT new.email_address OR old.city IS NOT new.city OR old.state IS NOT new.state
    OR old.country IS NOT new.country OR old.job_title IS NOT new.job_title
BEGIN
    INSERT INTO registration_text (registration_text, rowid, first_name, last_name, name, email_address, city, state,
                                   country, job_title)
    VALUES ('delete', old.seq, old.first_name, old.last_name, old.name, old.email_address, old.city, old.state,
            old.country, old.job_title);
    INSERT INTO registration_text (rowid, first_name, last_name, name, email_address, city, state, country, job_title)
    VALUES (new.seq, new.first_name, new.last_name, new.name, new.email_address, new.city, new.state, new.country,
            new.job_title);
END;

-- The last registration number handed out per event; numbers are never reused.
CREATE TABLE event_numbers (
    network_id  TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    last_number INTEGER NOT NULL,
    PRIMARY KEY (network_id, event_id)
) WITHOUT ROWID;

-- migration: 3

-- How many registrations each network holds: the count of an unfiltered search, without counting rows.
CREATE TABLE registration_totals (
    network_id TEXT PRIMARY KEY,
    total      INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO registration_totals (network_id, total) SELECT network_id, count(*) FROM registrations GROUP BY network_id;
-- A network's registrations in creation order (the rowid follows network_id): an unfiltered page reads only itself.
CREATE INDEX registrations_network ON registrations (network_id);

-- migration: 4

-- Function tickets: a seat at one function of an event. As for registrations, the client's fields are kept whole
-- in `fields`, and the columns beside it serve the look-ups and the integrity checks.
CREATE TABLE function_tickets (
    seq                  INTEGER PRIMARY KEY,
    network_id           TEXT NOT NULL,
    id                   TEXT NOT NULL,
    event_id             TEXT NOT NULL,
    function_id          TEXT NOT NULL,
    contact_id           TEXT NOT NULL,
    registration_id      TEXT,
    status               TEXT NOT NULL,
    fields               TEXT NOT NULL,
    sys_version          INTEGER NOT NULL,
    sys_created_at       INTEGER NOT NULL,
    sys_last_modified_at INTEGER NOT NULL,
    sys_created_by       TEXT NOT NULL,
    sys_last_modified_by TEXT NOT NULL,
    UNIQUE (network_id, id)
);
CREATE INDEX function_tickets_function ON function_tickets (network_id, function_id);
CREATE INDEX function_tickets_event_contact ON function_tickets (network_id, event_id, contact_id);
CREATE INDEX function_tickets_registration ON function_tickets (network_id, registration_id);

-- migration: 5

-- An event's registrations of some statuses, the commonest search of a dashboard: a page read from this index in
-- creation order.
CREATE INDEX registrations_event_status ON registrations (network_id, event_id, status);

-- How many registrations each event holds per status, kept by triggers in the writing transaction: the count of a
-- search by event (and status) without counting rows, however many the event holds.
CREATE TABLE registration_event_counts (
    network_id TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    status     TEXT NOT NULL,
    n          INTEGER NOT NULL,
    PRIMARY KEY (network_id, event_id, status)
) WITHOUT ROWID;
INSERT INTO registration_event_counts (network_id, event_id, status, n)
    SELECT network_id, event_id, status, count(*) FROM registrations GROUP BY network_id, event_id, status;
CREATE TRIGGER registration_counted AFTER INSERT ON registrations BEGIN
    INSERT INTO registration_event_counts (network_id, event_id, status, n)
        VALUES (new.network_id, new.event_id, new.status, 1)
        ON CONFLICT (network_id, event_id, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER registration_uncounted AFTER DELETE ON registrations BEGIN
    UPDATE registration_event_counts SET n = n - 1
        WHERE network_id = old.network_id AND event_id = old.event_id AND status = old.status;
END;
CREATE TRIGGER registration_recounted AFTER UPDATE OF event_id, status ON registrations
    WHEN old.event_id IS NOT new.event_id OR old.status IS NOT new.status
BEGIN
    UPDATE registration_event_counts SET n = n - 1
        WHERE network_id = old.network_id AND event_id = old.event_id AND status = old.status;
    INSERT INTO registration_event_counts (network_id, event_id, status, n)
        VALUES (new.network_id, new.event_id, new.status, 1)
        ON CONFLICT (network_id, event_id, status) DO UPDATE SET n = n + 1;
END;


-- migration: 6

-- Tenant limits: how many records of each kind a network may hold; no row, or NULL, is no limit.
CREATE TABLE network_limits (
    network_id           TEXT PRIMARY KEY,
    max_tickets          INTEGER,
    max_registrations    INTEGER,
    max_function_tickets INTEGER
) WITHOUT ROWID;

-- migration: 7

-- Each network's own templates, one per kind (`certificate`, `confirmationEmail`); a network without one of a kind
-- is served the built-in default. `subject` is an e-mail's only.
CREATE TABLE templates (
    network_id           TEXT NOT NULL,
    kind                 TEXT NOT NULL,
    subject              TEXT,
    body                 TEXT NOT NULL,
    sys_version          INTEGER NOT NULL,
    sys_created_at       INTEGER NOT NULL,
    sys_last_modified_at INTEGER NOT NULL,
    sys_created_by       TEXT NOT NULL,
    sys_last_modified_by TEXT NOT NULL,
    PRIMARY KEY (network_id, kind)
) WITHOUT ROWID;

-- migration: 8

-- Orders: what a registration, or a group of them, costs, priced by the server and numbered per network. Its lines
-- and the registrations it holds are written once, when it is made, as JSON; what changes (its state, what was
-- paid) has columns of its own. `seq` orders a network's orders by creation, for keyset paging.
CREATE TABLE orders (
    seq                  INTEGER PRIMARY KEY,
    network_id           TEXT NOT NULL,
    id                   TEXT NOT NULL,
    number               INTEGER NOT NULL,
    status               TEXT NOT NULL,
    amount_paid_cents    INTEGER NOT NULL CHECK (amount_paid_cents >= 0),
    lines                TEXT NOT NULL,      -- JSON array of the lines, each with its registration and prices
    registration_ids     TEXT NOT NULL,      -- JSON array of the registrations it is the order of
    sys_version          INTEGER NOT NULL,
    sys_created_at       INTEGER NOT NULL,
    sys_last_modified_at INTEGER NOT NULL,
    sys_created_by       TEXT NOT NULL,
    sys_last_modified_by TEXT NOT NULL,
    UNIQUE (network_id, id),
    UNIQUE (network_id, number)
);
CREATE INDEX orders_network ON orders (network_id);
CREATE INDEX orders_status ON orders (network_id, status);

-- Which orders hold each registration, by number: a registration's order is its latest, and order.list finds the
-- orders of some registrations here.
CREATE TABLE order_registrations (
    network_id      TEXT NOT NULL,
    registration_id TEXT NOT NULL,
    order_number    INTEGER NOT NULL,
    PRIMARY KEY (network_id, registration_id, order_number)
) WITHOUT ROWID;

-- The last order number handed out per network; numbers are never reused.
CREATE TABLE order_numbers (
    network_id  TEXT PRIMARY KEY,
    last_number INTEGER NOT NULL
) WITHOUT ROWID;

-- migration: 9

-- The outbox: each e-mail the server is asked to send, written in the same transaction as the change that asks for
-- it. `seq` orders a network's messages for paging; the sender takes due `queued` messages by
-- (`status`, `next_attempt_at`). See `domain::mail` for the states.
CREATE TABLE mail_outbox (
    seq                  INTEGER PRIMARY KEY AUTOINCREMENT,
    network_id           TEXT NOT NULL,
    id                   TEXT NOT NULL,
    registration_id      TEXT,
    recipient            TEXT NOT NULL,
    subject              TEXT NOT NULL,
    html                 TEXT NOT NULL,
    text                 TEXT NOT NULL,
    status               TEXT NOT NULL,
    attempts             INTEGER NOT NULL,
    last_error           TEXT,
    sent_at              INTEGER,
    queued_at            INTEGER NOT NULL,
    next_attempt_at      INTEGER NOT NULL,
    sys_version          INTEGER NOT NULL,
    sys_created_at       INTEGER NOT NULL,
    sys_last_modified_at INTEGER NOT NULL,
    sys_created_by       TEXT NOT NULL,
    sys_last_modified_by TEXT NOT NULL
);
CREATE UNIQUE INDEX mail_outbox_id ON mail_outbox (network_id, id);
CREATE INDEX mail_outbox_registration ON mail_outbox (network_id, registration_id, seq);
CREATE INDEX mail_outbox_due ON mail_outbox (status, next_attempt_at);
