-- Named locks held across replicas sharing the database (issue 14: never two retrains at once). A row is held
-- until expires_at (unix microseconds) or its holder deletes it by token. IF NOT EXISTS: databases opened by
-- session 3's code already have the table, which it created on first use.
CREATE TABLE IF NOT EXISTS locks (
	name       text   PRIMARY KEY,
	holder     text   NOT NULL,
	token      text   NOT NULL,
	expires_at bigint NOT NULL
);
