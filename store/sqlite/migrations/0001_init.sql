-- Threadline's first schema. Times are Unix milliseconds (UTC). Tables are STRICT so that a wrong type is an
-- error, not a silent conversion.

CREATE TABLE sites (
    id         INTEGER PRIMARY KEY,
    slug       TEXT    NOT NULL UNIQUE,
    name       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE articles (
    id              INTEGER PRIMARY KEY,
    site_id         INTEGER NOT NULL REFERENCES sites (id),
    key             TEXT    NOT NULL,
    url             TEXT    NOT NULL DEFAULT '',
    title           TEXT    NOT NULL DEFAULT '',
    standfirst      TEXT    NOT NULL DEFAULT '',
    body            TEXT    NOT NULL DEFAULT '',
    locked          INTEGER NOT NULL DEFAULT 0,
    -- Denormalised so that a page never counts rows: published comments, replies included; and top-level
    -- comments a reader sees (published, or placeholders of deleted ones with replies).
    comment_count   INTEGER NOT NULL DEFAULT 0,
    top_level_count INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    UNIQUE (site_id, key)
) STRICT;

-- A reader is a display name on one site. Imported authors have no token and cannot sign in. Nothing else
-- about a person is stored: no e-mail, no address, no user agent.
CREATE TABLE readers (
    id           INTEGER PRIMARY KEY,
    site_id      INTEGER NOT NULL REFERENCES sites (id),
    display_name TEXT    NOT NULL,
    token_hash   BLOB UNIQUE, -- SHA-256 of the bearer token
    created_at   INTEGER NOT NULL
) STRICT;

CREATE TABLE comments (
    id          INTEGER PRIMARY KEY,
    article_id  INTEGER NOT NULL REFERENCES articles (id),
    parent_id   INTEGER REFERENCES comments (id),
    author_id   INTEGER REFERENCES readers (id),
    body        TEXT    NOT NULL, -- Markdown as written
    body_html   TEXT    NOT NULL, -- rendered and sanitized
    status      TEXT    NOT NULL CHECK (status IN ('published', 'pending', 'removed', 'deleted')),
    depth       INTEGER NOT NULL,
    like_count  INTEGER NOT NULL DEFAULT 0,
    reply_count INTEGER NOT NULL DEFAULT 0, -- direct replies a reader sees
    created_at  INTEGER NOT NULL,
    edited_at   INTEGER
) STRICT;

-- One index per order the API offers, so that a page is a range scan from its cursor: OLDEST and NEWEST read
-- the first index forwards and backwards, TOP reads the second, replies read the third.
CREATE INDEX comments_top_level_by_time ON comments (article_id, created_at, id) WHERE parent_id IS NULL;
CREATE INDEX comments_top_level_by_likes ON comments (article_id, like_count DESC, created_at, id) WHERE parent_id IS NULL;
CREATE INDEX comments_replies_by_time ON comments (parent_id, created_at, id) WHERE parent_id IS NOT NULL;
CREATE INDEX comments_by_author ON comments (author_id) WHERE author_id IS NOT NULL;

-- One like per reader per comment; the count lives on the comment.
CREATE TABLE likes (
    comment_id INTEGER NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    reader_id  INTEGER NOT NULL REFERENCES readers (id),
    PRIMARY KEY (comment_id, reader_id)
) STRICT, WITHOUT ROWID;
