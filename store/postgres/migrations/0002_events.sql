-- The event log: every change readers may see, recorded in the transaction of the write, so that it commits
-- with the write or not at all. Every server reads it in the same order, (xid, id), and only below the oldest
-- running transaction (pg_snapshot_xmin), where no more rows can appear: a position (xid, id) is then valid on
-- every server and after restarts. See store/postgres/eventlog.
--
-- kind is a thread.EventKind, about comment_id of article_id, or 'changed': only the cached answers about
-- article_id (0: every article) are stale (site settings, locks, imports, accounts). IDs are 0 for none.
CREATE TABLE events (
	id bigint GENERATED ALWAYS AS IDENTITY,
	xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
	kind text NOT NULL,
	site_id bigint NOT NULL DEFAULT 0,
	article_id bigint NOT NULL DEFAULT 0,
	comment_id bigint NOT NULL DEFAULT 0,
	parent_id bigint NOT NULL DEFAULT 0,
	at timestamptz NOT NULL DEFAULT now(),
	-- The reading order is the key: one index serves followers, pruning and uniqueness (id alone is unique too).
	PRIMARY KEY (xid, id)
);

-- A subscriber catching up reads its article's events only.
CREATE INDEX events_by_article ON events (article_id, xid, id);

-- event_log_pruned holds the greatest position pruned: a reader after an earlier position may have missed
-- events, and must start again (RESYNC).
CREATE TABLE event_log_pruned (
	one boolean PRIMARY KEY DEFAULT true CHECK (one),
	xid xid8 NOT NULL DEFAULT '0',
	id bigint NOT NULL DEFAULT 0
);
INSERT INTO event_log_pruned DEFAULT VALUES;

-- One notification per writing transaction wakes every server's follower: NOTIFY is delivered on commit only,
-- and identical notifications of one transaction fold into one.
CREATE FUNCTION events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('threadline_events', '');
	RETURN NULL;
END
$$;

CREATE TRIGGER events_notify AFTER INSERT ON events FOR EACH STATEMENT EXECUTE FUNCTION events_notify();
