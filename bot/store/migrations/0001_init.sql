-- 0001: the bot's first schema.
--
-- Times are INTEGER microseconds since the Unix epoch (UTC); NULL is "not
-- set". Tables are STRICT so a value of the wrong type is an error, not a
-- surprise. No column holds a password, or anything derived from one: the
-- password of an invitation never reaches the store (see doc.go), and a test
-- checks that no column is even named like one.

-- Pending link codes. Only the SHA-256 of the code is kept.
CREATE TABLE link_codes (
	code_sha256 BLOB PRIMARY KEY CHECK (length(code_sha256) = 32),
	agent_key   TEXT NOT NULL,
	agent_name  TEXT NOT NULL,
	expires_at  INTEGER NOT NULL,
	created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX link_codes_expires ON link_codes (expires_at);

-- An agent (by its key's pin) bound to a chat identity.
CREATE TABLE links (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	network      TEXT NOT NULL CHECK (network <> ''),
	workspace    TEXT NOT NULL,
	user_id      TEXT NOT NULL CHECK (user_id <> ''),
	display_name TEXT NOT NULL,
	email        TEXT NOT NULL,
	agent_key    TEXT NOT NULL CHECK (agent_key <> ''),
	agent_name   TEXT NOT NULL,
	created_at   INTEGER NOT NULL,
	UNIQUE (network, workspace, user_id, agent_key)
) STRICT;
CREATE INDEX links_agent ON links (agent_key);

-- Requests for help. helper_* identity columns are all NULL until a helper
-- takes the ticket; helper_email is where the invitation is e-mailed.
-- second_channel_sent is Ticket.PasswordSent: only whether the password went
-- out, never the password.
CREATE TABLE tickets (
	id                    TEXT PRIMARY KEY CHECK (id <> ''),
	state                 TEXT NOT NULL CHECK (state IN ('requested', 'awaiting_helper',
	                          'awaiting_consent', 'invited', 'delivered', 'connected',
	                          'ended', 'cancelled', 'failed')),
	requester_network     TEXT NOT NULL CHECK (requester_network <> ''),
	requester_workspace   TEXT NOT NULL,
	requester_user_id     TEXT NOT NULL CHECK (requester_user_id <> ''),
	requester_name        TEXT NOT NULL,
	requester_email       TEXT NOT NULL,
	helper_network        TEXT,
	helper_workspace      TEXT,
	helper_user_id        TEXT,
	helper_name           TEXT,
	helper_identity_email TEXT,
	helper_email          TEXT NOT NULL,
	description           TEXT NOT NULL,
	origin_network        TEXT NOT NULL,
	origin_channel_id     TEXT NOT NULL,
	origin_thread_id      TEXT NOT NULL,
	email_root_message_id TEXT NOT NULL,
	email_last_message_id TEXT NOT NULL,
	reply_token           TEXT NOT NULL UNIQUE CHECK (length(reply_token) = 16),
	invitation_id         TEXT NOT NULL,
	invitation_file       BLOB,
	invitation_expires    INTEGER,
	second_channel_sent   INTEGER NOT NULL CHECK (second_channel_sent IN (0, 1)),
	summary               TEXT NOT NULL CHECK (summary = '' OR json_valid(summary)),
	created_at            INTEGER NOT NULL,
	updated_at            INTEGER NOT NULL,
	version               INTEGER NOT NULL,
	CHECK ((helper_network IS NULL) = (helper_workspace IS NULL)
	   AND (helper_network IS NULL) = (helper_user_id IS NULL)
	   AND (helper_network IS NULL) = (helper_name IS NULL)
	   AND (helper_network IS NULL) = (helper_identity_email IS NULL))
) STRICT;
CREATE INDEX tickets_origin ON tickets (origin_network, origin_channel_id, origin_thread_id, created_at);
CREATE INDEX tickets_open ON tickets (created_at) WHERE state NOT IN ('ended', 'cancelled', 'failed');

-- What was said about a ticket, from every side, in order.
CREATE TABLE transcript (
	ticket_id  TEXT NOT NULL REFERENCES tickets (id),
	seq        INTEGER NOT NULL CHECK (seq > 0),
	at         INTEGER NOT NULL,
	source     TEXT NOT NULL CHECK (source IN ('chat', 'email', 'session', 'bot')),
	author     TEXT NOT NULL,
	body       TEXT NOT NULL,
	dedupe_key TEXT NOT NULL,
	PRIMARY KEY (ticket_id, seq)
) STRICT;
CREATE UNIQUE INDEX transcript_dedupe ON transcript (ticket_id, dedupe_key) WHERE dedupe_key <> '';

-- The outbox.
CREATE TABLE deliveries (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	idempotency_key TEXT NOT NULL UNIQUE CHECK (idempotency_key <> ''),
	ticket_id       TEXT REFERENCES tickets (id),
	channel         TEXT NOT NULL CHECK (channel <> ''),
	kind            TEXT NOT NULL CHECK (kind <> ''),
	payload         TEXT NOT NULL CHECK (json_valid(payload)),
	state           TEXT NOT NULL CHECK (state IN ('pending', 'in_flight', 'sent', 'failed')),
	attempts        INTEGER NOT NULL CHECK (attempts >= 0),
	next_attempt    INTEGER NOT NULL,
	lease_until     INTEGER CHECK ((state = 'in_flight') = (lease_until IS NOT NULL)),
	last_error      TEXT NOT NULL,
	sent_ref        TEXT NOT NULL,
	created_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX deliveries_due ON deliveries (next_attempt, id) WHERE state = 'pending';
CREATE INDEX deliveries_lease ON deliveries (lease_until, id) WHERE state = 'in_flight';
CREATE INDEX deliveries_ticket ON deliveries (ticket_id);

-- Inbound events already handled, against webhook retries.
CREATE TABLE seen_events (
	event_key TEXT PRIMARY KEY,
	seen_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX seen_events_at ON seen_events (seen_at);
