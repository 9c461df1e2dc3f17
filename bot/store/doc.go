// Package store keeps the bot's durable state: links between chat
// identities and agents, pending link codes, tickets, their transcripts, the
// outbox of deliveries and the inbound events already seen. It is meant to
// survive kill -9 (and a power cut) at any moment without losing any of it.
// What agents are online is not here: that is ephemeral and lives in the
// core.
//
// [Store] is the interface the core uses; [*SQLite], from [OpenSQLite], is
// the implementation for one server: embedded SQLite through
// modernc.org/sqlite, pure Go, no cgo. A PostgreSQL implementation, for
// several replicas, is meant to sit beside it behind the same interface
// with its own migrations.
//
// # No passwords
//
// The password of an invitation never reaches the store. There is no column
// for it, nor for anything derived from it, and a test fails if any column
// is even named like a password or a secret. A ticket records only whether
// the password was sent (Ticket.PasswordSent, column second_channel_sent). If
// the bot dies before sending it, the ticket says so and the core asks the
// agent for a new password instead of keeping a copy. For the same reason the
// password's message must never go through the outbox: a Delivery's Payload
// is stored as it is. Link codes are stored as their SHA-256 only, so the
// database alone does not let anyone redeem a live code; that holds only as
// far as the code has the entropy to resist guessing within its lifetime.
//
// # The outbox
//
// Everything the bot sends goes through the outbox, so a crash between
// deciding to send and sending loses nothing:
//
//  1. In the same step that changes a ticket, the core enqueues a
//     [Delivery] with an idempotency key derived from what it means, e.g.
//     "ticket/<id>/invitation-email". Enqueueing the same key again returns
//     the existing delivery (created=false), so a step redone after a crash
//     does not send twice.
//  2. A sender calls Claim(now, lease, limit): in one write transaction the
//     store takes due pending deliveries, and in-flight ones whose lease ran
//     out, and marks them in flight until now+lease. No delivery goes to two
//     claimers while its lease holds.
//  3. The sender sends and calls MarkSent with the network's id of the
//     message (SentRef: a Slack ts, a Message-ID), or MarkRetry with a
//     later time, or MarkFailed. A sent or failed delivery is never claimed
//     again.
//
// That is at least once, not exactly once: if the process dies after the
// network accepted a message and before MarkSent committed, the lease runs
// out and the delivery is claimed again. The store says so: Attempts counts
// attempts that ended, including one whose lease ran out, and does not count
// the one in hand; so a claimed delivery with Attempts > 0 may already have
// been sent. An adapter whose network can tell should check before sending
// again: Discord takes the Key as a message nonce with enforce_nonce; a
// Slack message can carry it in its metadata, to be looked for in the
// conversation before posting again; an e-mail's Message-ID made from the
// Key makes a resend the same message to every mail system and client. Where the network cannot tell, a rare duplicate is the
// price of never losing a message. The lease must be longer than a send can
// take: a sender that hangs past its lease lets a second claimer send too,
// and the later of their Mark calls fails with ErrConflict.
//
// # SQLite settings
//
// The file is in WAL mode: readers never block the writer, nor the writer
// readers. All writes go through a single connection, each in a BEGIN
// IMMEDIATE transaction, which takes the write lock when the transaction
// starts; a second process on the same file (a second bot, a backup tool)
// waits up to busy_timeout (10 s) instead of failing half-way. Foreign keys
// are enforced. synchronous=FULL: each commit is fsynced to the WAL before
// the call returns. In WAL mode, NORMAL already survives a crash of the
// process, but a power cut or kernel panic can roll back the last commits;
// for a bot that would mean a delivery recorded as sent turns pending again
// and is sent twice, or a ticket the person was told about disappears. A
// commit costs one fsync more, and a bot writes a few rows a second at most.
//
// # Schema and migrations
//
// The schema is a series of SQL files embedded from migrations/
// (0001_init.sql, …), never edited once released. schema_migrations lists
// those applied; each is applied in its own transaction with its row, so a
// crash leaves the database at a whole step. [OpenSQLite] applies the
// missing ones and refuses, with [ErrSchemaTooNew] naming both versions, a
// database that a newer binary migrated. Times are INTEGER microseconds
// since the Unix epoch, UTC (the precision of PostgreSQL's timestamptz);
// values come back in UTC. Tables are STRICT.
package store
