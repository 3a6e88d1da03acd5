-- Device enrolment (issue 11): one-time codes an operator hands to a pad or kiosk, and the devices enrolled with
-- them. Only SHA-256 hashes of codes and credentials are kept. Times are unix microseconds (UTC).
CREATE TABLE enrolments (
	code_hash  BLOB    PRIMARY KEY,
	name       TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	used_at    INTEGER,
	device_id  TEXT
) STRICT;

CREATE TABLE devices (
	seq             INTEGER PRIMARY KEY AUTOINCREMENT,
	id              TEXT    NOT NULL UNIQUE,
	name            TEXT    NOT NULL,
	credential_hash BLOB    NOT NULL UNIQUE,
	created_at      INTEGER NOT NULL,
	revoked_at      INTEGER
) STRICT;
