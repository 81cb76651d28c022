-- A post added to its article's counts in the article's row, and an updated row stays locked until its
-- transaction's commit is on disk: posts to one article followed each other one disk flush at a time (1,000-1,500
-- posts/s on the load-test machine, against 3,800-4,700/s spread over 100 articles). A new comment now adds to
-- one of 16 rows of its article's counts, picked at random, so that posts to one article commit together in one
-- flush. An article's counts are its row's plus the sum of its shards'. Rarer writes (deletions, moderation,
-- imports) still move the row's; both are deltas, so the sum is exact whichever a write moves.
-- No foreign key: the comment inserted beside it already checks the article, and each key check would take a
-- share lock on the article's row.
CREATE TABLE article_count_shards (
    article_id      bigint   NOT NULL,
    shard           smallint NOT NULL,
    comment_count   integer  NOT NULL,
    top_level_count integer  NOT NULL,
    PRIMARY KEY (article_id, shard)
);
