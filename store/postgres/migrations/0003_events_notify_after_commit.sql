-- Followers are woken by a NOTIFY sent after the write's commit (eventlog.Notifier), not by this trigger: a
-- NOTIFY inside the write's transaction serializes every such commit, disk flush included, on PostgreSQL's
-- notification lock.
DROP TRIGGER events_notify ON events;
DROP FUNCTION events_notify();
