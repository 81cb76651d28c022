-- Accountable moderation: every action a moderator (or the report threshold) takes is appended to a log that
-- nobody can rewrite, and what readers write about it (reports, appeals) is kept the same way.

-- How many reports from different readers hold a published comment for review.
ALTER TABLE sites ADD COLUMN report_threshold INTEGER NOT NULL DEFAULT 3 CHECK (report_threshold > 0);

-- Readers a site signs in itself carry the site's own ID for the person (the token's `sub`), and nothing more.
ALTER TABLE readers ADD COLUMN sso_subject TEXT;
CREATE UNIQUE INDEX readers_by_sso_subject ON readers (site_id, sso_subject) WHERE sso_subject IS NOT NULL;
-- A suspended reader may not write until this time (Unix ms); the reason is the moderator's, shown to them.
ALTER TABLE readers ADD COLUMN suspended_until INTEGER;
ALTER TABLE readers ADD COLUMN suspension_reason TEXT NOT NULL DEFAULT '';

-- Where a moderator left a comment: the rule cited (removal) or reported (hold), the moderator's note to the
-- author, and how many readers reported it since a moderator last looked at it.
ALTER TABLE comments ADD COLUMN rule TEXT NOT NULL DEFAULT '';
ALTER TABLE comments ADD COLUMN note TEXT NOT NULL DEFAULT '';
ALTER TABLE comments ADD COLUMN moderated_at INTEGER;
ALTER TABLE comments ADD COLUMN report_count INTEGER NOT NULL DEFAULT 0;
-- Whether its author's appeal waits for a moderator's answer.
ALTER TABLE comments ADD COLUMN appeal_open INTEGER NOT NULL DEFAULT 0;
-- The moderation queue: pending comments, reported ones and open appeals. It is small, so the index is too.
CREATE INDEX comments_queue ON comments (created_at, id) WHERE status = 'pending' OR report_count > 0 OR appeal_open = 1;

-- The moderation log. No foreign keys to comments or articles: the record outlives what it is about. The
-- moderator column says who acted ("reader:12", "key:3") for the site's owner; the API never shows it.
CREATE TABLE moderation_actions (
    id         INTEGER PRIMARY KEY,
    site_id    INTEGER NOT NULL REFERENCES sites (id),
    article_id INTEGER,
    comment_id INTEGER,
    reader_id  INTEGER, -- the reader acted upon: the comment's author, or the suspended reader
    appeal_id  INTEGER,
    action     TEXT    NOT NULL CHECK (action IN ('approve', 'remove', 'restore', 'hold', 'lock', 'unlock', 'suspend', 'answer_appeal')),
    by_role    TEXT    NOT NULL CHECK (by_role IN ('moderator', 'system')),
    moderator  TEXT    NOT NULL DEFAULT '',
    rule       TEXT    NOT NULL DEFAULT '',
    note       TEXT    NOT NULL DEFAULT '',
    decision   TEXT    NOT NULL DEFAULT '' CHECK (decision IN ('', 'upheld', 'reversed')),
    until      INTEGER, -- the end of a suspension
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX moderation_actions_by_article ON moderation_actions (article_id, id) WHERE article_id IS NOT NULL;
CREATE INDEX moderation_actions_by_site ON moderation_actions (site_id, action, rule);
CREATE INDEX moderation_actions_by_appeal ON moderation_actions (appeal_id) WHERE appeal_id IS NOT NULL;
CREATE TRIGGER moderation_actions_no_update BEFORE UPDATE ON moderation_actions
BEGIN SELECT RAISE(ABORT, 'the moderation log is append-only'); END;
CREATE TRIGGER moderation_actions_no_delete BEFORE DELETE ON moderation_actions
BEGIN SELECT RAISE(ABORT, 'the moderation log is append-only'); END;

-- One report per reader per comment, citing one of the site's rules. Reports carry no free text.
CREATE TABLE reports (
    comment_id INTEGER NOT NULL,
    reader_id  INTEGER NOT NULL REFERENCES readers (id),
    rule       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (comment_id, reader_id)
) STRICT, WITHOUT ROWID;
CREATE TRIGGER reports_no_update BEFORE UPDATE ON reports
BEGIN SELECT RAISE(ABORT, 'reports are append-only'); END;
CREATE TRIGGER reports_no_delete BEFORE DELETE ON reports
BEGIN SELECT RAISE(ABORT, 'reports are append-only'); END;

-- One appeal per moderated comment, ever. Its answer is a moderation action (answer_appeal). The one change
-- allowed is the author's text being blanked when the author deletes their account.
CREATE TABLE appeals (
    id         INTEGER PRIMARY KEY,
    comment_id INTEGER NOT NULL UNIQUE,
    author_id  INTEGER NOT NULL REFERENCES readers (id),
    text       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE TRIGGER appeals_only_blanked BEFORE UPDATE ON appeals
WHEN NEW.text <> '' OR NEW.id IS NOT OLD.id OR NEW.comment_id IS NOT OLD.comment_id
    OR NEW.author_id IS NOT OLD.author_id OR NEW.created_at IS NOT OLD.created_at
BEGIN SELECT RAISE(ABORT, 'appeals are append-only'); END;
CREATE TRIGGER appeals_no_delete BEFORE DELETE ON appeals
BEGIN SELECT RAISE(ABORT, 'appeals are append-only'); END;
