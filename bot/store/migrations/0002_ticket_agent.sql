-- The agent (the person's computer) a ticket asked for consent, so that
-- later messages about the ticket (resend, cancel, chat) reach the same
-- computer when the person has several.
ALTER TABLE tickets ADD COLUMN agent_key TEXT NOT NULL DEFAULT '';
