-- reader_id names the reader whose credentials a write changed (kind 'reader': a suspension, an account
-- deleted), so that every server ends that reader's live connections at once, as the server that wrote does,
-- rather than at its next periodic check. 0 for none.
ALTER TABLE events ADD COLUMN reader_id bigint NOT NULL DEFAULT 0;
