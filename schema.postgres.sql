-- The whole schema of ticket-admin on PostgreSQL, the same tables and columns as schema.sql (SQLite), each column of
-- the same kind, so one row codec (src/store/rows.rs) writes and reads both. Integers are bigint (flags 0 and 1,
-- times epoch milliseconds). Each "-- migration: N" section is applied once, in order, in one transaction, and
-- recorded in schema_version; a released section is never edited, only followed by a new one.

-- migration: 1

CREATE TABLE tokens (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    secret_hash bytea NOT NULL UNIQUE,
    created_at  bigint NOT NULL,
    expires_at  bigint,
    revoked_at  bigint
);

CREATE TABLE token_grants (
    token_id   text NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
    permission text NOT NULL,
    scope      text NOT NULL,
    PRIMARY KEY (token_id, permission, scope)
);

CREATE TABLE tickets (
    network_id           text NOT NULL,
    product_id           text NOT NULL,
    event_name           text NOT NULL,
    event_start_date     bigint NOT NULL,
    event_end_date       bigint NOT NULL,
    ticket_type          text NOT NULL,
    ticket_name          text NOT NULL,
    ticket_description   text NOT NULL,
    price_cents          bigint NOT NULL CHECK (price_cents >= 0),
    thumbnail_id         text NOT NULL,
    discount             text NOT NULL,
    grants               text NOT NULL,
    allocation           bigint,
    max_per_attendee     bigint,
    visible              bigint NOT NULL,
    display_order        bigint NOT NULL,
    sold                 bigint NOT NULL DEFAULT 0,
    sys_version          bigint NOT NULL,
    sys_created_at       bigint NOT NULL,
    sys_last_modified_at bigint NOT NULL,
    sys_created_by       text NOT NULL,
    sys_last_modified_by text NOT NULL,
    PRIMARY KEY (network_id, product_id)
);

-- Each network's ticket generation: raised, in the transaction that changes a ticket, by every server; a server
-- holding a list of the current generation needs nothing more. The row is locked from the raise to the commit, so
-- generations commit in order.
CREATE TABLE ticket_generations (
    network_id text PRIMARY KEY,
    generation bigint NOT NULL,
    kept_after bigint NOT NULL DEFAULT 0    -- the changes of generations up to this one are no longer kept
);

-- Which tickets each generation changed, kept for the latest generations only.
CREATE TABLE ticket_changes (
    network_id text NOT NULL,
    generation bigint NOT NULL,
    product_id text NOT NULL,
    PRIMARY KEY (network_id, generation, product_id)
);

CREATE TABLE registrations (
    seq                    bigserial PRIMARY KEY,
    network_id             text NOT NULL,
    id                     text NOT NULL,
    event_id               text NOT NULL,
    number                 bigint NOT NULL,
    contact_id             text NOT NULL,
    type_id                text NOT NULL,
    package_id             text NOT NULL,
    product_id             text,
    status                 text NOT NULL,
    name                   text NOT NULL,
    first_name             text,
    last_name              text,
    email_address          text,
    city                   text,
    state                  text,
    country                text,
    job_title              text,
    organization_id        text,
    order_id               text,
    order_number           bigint,
    order_status           text,
    is_guest_registration  bigint NOT NULL,
    group_id               text,
    deadline_id            text,
    parent_registration_id text,
    date                   bigint,
    order_balance_due      double precision,
    order_amount_paid      double precision,
    order_total            double precision,
    sys_locked             bigint NOT NULL,
    fields                 text NOT NULL,
    sys_version            bigint NOT NULL,
    sys_created_at         bigint NOT NULL,
    sys_last_modified_at   bigint NOT NULL,
    sys_created_by         text NOT NULL,
    sys_last_modified_by   text NOT NULL,
    UNIQUE (network_id, id),
    UNIQUE (network_id, event_id, number)
);
CREATE INDEX registrations_network ON registrations (network_id, seq);
CREATE INDEX registrations_event ON registrations (network_id, event_id, seq);
CREATE INDEX registrations_event_status ON registrations (network_id, event_id, status, seq);
CREATE INDEX registrations_contact ON registrations (network_id, contact_id, seq);
CREATE INDEX registrations_event_contact ON registrations (network_id, event_id, contact_id, seq);
CREATE INDEX registrations_organization ON registrations (network_id, organization_id, seq);
CREATE INDEX registrations_parent ON registrations (network_id, parent_registration_id);
CREATE INDEX registrations_order ON registrations (network_id, order_id, seq);
CREATE INDEX registrations_order_number ON registrations (network_id, order_number);
CREATE INDEX registrations_order_status ON registrations (network_id, order_status);
CREATE INDEX registrations_group ON registrations (network_id, group_id, seq);
CREATE INDEX registrations_deadline ON registrations (network_id, deadline_id);
CREATE INDEX registrations_type ON registrations (network_id, type_id);
CREATE INDEX registrations_package ON registrations (network_id, package_id);
CREATE INDEX registrations_status ON registrations (network_id, status);
CREATE INDEX registrations_date ON registrations (network_id, date);
CREATE INDEX registrations_balance_due ON registrations (network_id, order_balance_due);
CREATE INDEX registrations_amount_paid ON registrations (network_id, order_amount_paid);
CREATE INDEX registrations_total ON registrations (network_id, order_total);
CREATE INDEX registrations_holding ON registrations (network_id, product_id, contact_id, status);

-- The last registration number handed out per event; numbers are never reused.
CREATE TABLE event_numbers (
    network_id  text NOT NULL,
    event_id    text NOT NULL,
    last_number bigint NOT NULL,
    PRIMARY KEY (network_id, event_id)
);

CREATE TABLE function_tickets (
    seq                  bigserial PRIMARY KEY,
    network_id           text NOT NULL,
    id                   text NOT NULL,
    event_id             text NOT NULL,
    function_id          text NOT NULL,
    contact_id           text NOT NULL,
    registration_id      text,
    status               text NOT NULL,
    fields               text NOT NULL,
    sys_version          bigint NOT NULL,
    sys_created_at       bigint NOT NULL,
    sys_last_modified_at bigint NOT NULL,
    sys_created_by       text NOT NULL,
    sys_last_modified_by text NOT NULL,
    UNIQUE (network_id, id)
);
CREATE INDEX function_tickets_function ON function_tickets (network_id, function_id, seq);
CREATE INDEX function_tickets_event_contact ON function_tickets (network_id, event_id, contact_id, seq);
CREATE INDEX function_tickets_registration ON function_tickets (network_id, registration_id);

CREATE TABLE network_limits (
    network_id           text PRIMARY KEY,
    max_tickets          bigint,
    max_registrations    bigint,
    max_function_tickets bigint
);

-- migration: 2

-- Case-insensitive "contains" search on the name and address fields. Each searched column has a folded copy,
-- written by the server with the same folding as the SQLite store's trigram index (src/domain/fold.rs), behind a
-- trigram index (pg_trgm) that serves LIKE '%text%'.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
ALTER TABLE registrations
    ADD COLUMN first_name_folded    text,
    ADD COLUMN last_name_folded     text,
    ADD COLUMN name_folded          text,
    ADD COLUMN email_address_folded text,
    ADD COLUMN city_folded          text,
    ADD COLUMN state_folded         text,
    ADD COLUMN country_folded       text,
    ADD COLUMN job_title_folded     text;
CREATE INDEX registrations_first_name_text ON registrations USING gin (first_name_folded gin_trgm_ops);
CREATE INDEX registrations_last_name_text ON registrations USING gin (last_name_folded gin_trgm_ops);
CREATE INDEX registrations_name_text ON registrations USING gin (name_folded gin_trgm_ops);
CREATE INDEX registrations_email_address_text ON registrations USING gin (email_address_folded gin_trgm_ops);
CREATE INDEX registrations_city_text ON registrations USING gin (city_folded gin_trgm_ops);
CREATE INDEX registrations_state_text ON registrations USING gin (state_folded gin_trgm_ops);
CREATE INDEX registrations_country_text ON registrations USING gin (country_folded gin_trgm_ops);
CREATE INDEX registrations_job_title_text ON registrations USING gin (job_title_folded gin_trgm_ops);

-- How many registrations each network holds, and each event per status: the count of an unfiltered search, and of
-- a search by event (and status), without counting rows. Kept by triggers in the writing transaction.
CREATE TABLE registration_totals (
    network_id text PRIMARY KEY,
    total      bigint NOT NULL
);
CREATE TABLE registration_event_counts (
    network_id text NOT NULL,
    event_id   text NOT NULL,
    status     text NOT NULL,
    n          bigint NOT NULL,
    PRIMARY KEY (network_id, event_id, status)
);
CREATE FUNCTION registrations_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE registration_event_counts SET n = n - 1
            WHERE network_id = OLD.network_id AND event_id = OLD.event_id AND status = OLD.status;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO registration_event_counts (network_id, event_id, status, n)
            VALUES (NEW.network_id, NEW.event_id, NEW.status, 1)
            ON CONFLICT (network_id, event_id, status) DO UPDATE SET n = registration_event_counts.n + 1;
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO registration_totals (network_id, total) VALUES (NEW.network_id, 1)
            ON CONFLICT (network_id) DO UPDATE SET total = registration_totals.total + 1;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE registration_totals SET total = total - 1 WHERE network_id = OLD.network_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER registrations_counted_insert_delete AFTER INSERT OR DELETE ON registrations
    FOR EACH ROW EXECUTE FUNCTION registrations_counted();
CREATE TRIGGER registrations_counted_update AFTER UPDATE OF event_id, status ON registrations
    FOR EACH ROW WHEN (OLD.event_id IS DISTINCT FROM NEW.event_id OR OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION registrations_counted();

-- migration: 3

-- The tickets each generation changed, one row per generation (a group of writes raises it once for all its
-- changes), in place of a row per ticket.
CREATE TABLE ticket_change_sets (
    network_id  text NOT NULL,
    generation  bigint NOT NULL,
    product_ids text[] NOT NULL,
    PRIMARY KEY (network_id, generation)
);
INSERT INTO ticket_change_sets (network_id, generation, product_ids)
    SELECT network_id, generation, array_agg(product_id ORDER BY product_id) FROM ticket_changes
    GROUP BY network_id, generation;
DROP TABLE ticket_changes;

-- migration: 4

-- Each network's own templates, one per kind; as in schema.sql.
CREATE TABLE templates (
    network_id           text NOT NULL,
    kind                 text NOT NULL,
    subject              text,
    body                 text NOT NULL,
    sys_version          bigint NOT NULL,
    sys_created_at       bigint NOT NULL,
    sys_last_modified_at bigint NOT NULL,
    sys_created_by       text NOT NULL,
    sys_last_modified_by text NOT NULL,
    PRIMARY KEY (network_id, kind)
);

-- migration: 5

-- Orders, as in schema.sql: lines and registrations as JSON written once, state and payments in columns.
CREATE TABLE orders (
    seq                  bigserial PRIMARY KEY,
    network_id           text NOT NULL,
    id                   text NOT NULL,
    number               bigint NOT NULL,
    status               text NOT NULL,
    amount_paid_cents    bigint NOT NULL CHECK (amount_paid_cents >= 0),
    lines                text NOT NULL,
    registration_ids     text NOT NULL,
    sys_version          bigint NOT NULL,
    sys_created_at       bigint NOT NULL,
    sys_last_modified_at bigint NOT NULL,
    sys_created_by       text NOT NULL,
    sys_last_modified_by text NOT NULL,
    UNIQUE (network_id, id),
    UNIQUE (network_id, number)
);
CREATE INDEX orders_network ON orders (network_id, seq);
CREATE INDEX orders_status ON orders (network_id, status, seq);

-- Which orders hold each registration, by number: a registration's order is its latest.
CREATE TABLE order_registrations (
    network_id      text NOT NULL,
    registration_id text NOT NULL,
    order_number    bigint NOT NULL,
    PRIMARY KEY (network_id, registration_id, order_number)
);

-- The last order number handed out per network, locked by the upsert that reads it; numbers are never reused.
CREATE TABLE order_numbers (
    network_id  text PRIMARY KEY,
    last_number bigint NOT NULL
);

-- migration: 6

-- The outbox, as in schema.sql.
CREATE TABLE mail_outbox (
    seq                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    network_id           text NOT NULL,
    id                   text NOT NULL,
    registration_id      text,
    recipient            text NOT NULL,
    subject              text NOT NULL,
    html                 text NOT NULL,
    text                 text NOT NULL,
    status               text NOT NULL,
    attempts             bigint NOT NULL,
    last_error           text,
    sent_at              bigint,
    queued_at            bigint NOT NULL,
    next_attempt_at      bigint NOT NULL,
    sys_version          bigint NOT NULL,
    sys_created_at       bigint NOT NULL,
    sys_last_modified_at bigint NOT NULL,
    sys_created_by       text NOT NULL,
    sys_last_modified_by text NOT NULL,
    UNIQUE (network_id, id)
);
CREATE INDEX mail_outbox_registration ON mail_outbox (network_id, registration_id, seq);
CREATE INDEX mail_outbox_due ON mail_outbox (status, next_attempt_at);
