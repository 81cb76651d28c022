-- Which origins may embed a site's threads (the thread page's Content-Security-Policy frame-ancestors): a JSON
-- array of origins, "*" for any. Existing sites, the demo among them, stay open to any.
ALTER TABLE sites ADD COLUMN frame_ancestors TEXT NOT NULL DEFAULT '["*"]' CHECK (json_valid(frame_ancestors));
