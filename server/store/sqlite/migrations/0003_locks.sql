-- Named locks held across processes sharing the database (issue 14: never two retrains at once). A row is held
-- until expires_at (unix microseconds) or its holder deletes it by token. IF NOT EXISTS: databases opened by
-- session 3's code already have the table, which it created on first use.
CREATE TABLE IF NOT EXISTS locks (
	name       TEXT    PRIMARY KEY,
	holder     TEXT    NOT NULL,
	token      TEXT    NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT;
