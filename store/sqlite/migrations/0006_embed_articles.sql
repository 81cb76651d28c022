-- Who brings a site's articles into being, and how fast. A page's first embed creates its article unless the
-- site's owner turned that off (then only the owner's tools do: `threadline article create`, imports), and at
-- most embed_articles_per_hour of them in any hour, so that requests made by hand cannot fill a site.
ALTER TABLE sites ADD COLUMN no_embed_articles INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sites ADD COLUMN embed_articles_per_hour INTEGER NOT NULL DEFAULT 100 CHECK (embed_articles_per_hour > 0);

-- The articles first embeds created, counted against that bound by the index below.
ALTER TABLE articles ADD COLUMN from_embed INTEGER NOT NULL DEFAULT 0;
CREATE INDEX articles_from_embed_by_time ON articles (site_id, created_at) WHERE from_embed = 1;
