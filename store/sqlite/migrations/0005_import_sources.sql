-- What an import brought in, by its identifier in the source, so that importing the same file again changes
-- nothing and a reply finds the parent an earlier batch wrote. kind is 'thread', 'comment', 'author', 'action' or 'appeal'.
CREATE TABLE import_sources (
    site_id   INTEGER NOT NULL REFERENCES sites (id),
    source    TEXT    NOT NULL, -- the format: disqus, wxr, threadline
    kind      TEXT    NOT NULL CHECK (kind IN ('thread', 'comment', 'author', 'action', 'appeal')),
    source_id TEXT    NOT NULL,
    target_id INTEGER NOT NULL,
    PRIMARY KEY (site_id, source, kind, source_id)
) STRICT, WITHOUT ROWID;
