-- Each site's own rules of the house, and the credentials of its owner's tools.
ALTER TABLE sites ADD COLUMN premoderation INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sites ADD COLUMN edit_window_ms INTEGER NOT NULL DEFAULT 0; -- 0: authors may edit at any time
ALTER TABLE sites ADD COLUMN rules TEXT NOT NULL
    DEFAULT '["Threat of violence","Harassment","Spam","Off-topic"]' CHECK (json_valid(rules));
-- The secret a site signs its single-sign-on tokens with (HS256). Empty until the site is created by the
-- site command, which prints it; the demo site has none.
ALTER TABLE sites ADD COLUMN signing_secret TEXT NOT NULL DEFAULT '';

-- Keys for a site's moderators' tools: only their SHA-256 is stored; each is shown once, when made.
CREATE TABLE moderator_keys (
    id         INTEGER PRIMARY KEY,
    site_id    INTEGER NOT NULL REFERENCES sites (id),
    name       TEXT    NOT NULL,
    key_hash   BLOB    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
) STRICT;
