-- Times are unix microseconds (UTC), the precision PostgreSQL keeps too, so both backends round-trip alike.
CREATE TABLE predictions (
	seq          INTEGER PRIMARY KEY AUTOINCREMENT,
	id           TEXT    NOT NULL UNIQUE,
	created_at   INTEGER NOT NULL,
	client_id    TEXT    NOT NULL,
	code         TEXT    NOT NULL,
	model_sha256 TEXT    NOT NULL,
	result       TEXT    NOT NULL, -- recognize.Result as JSON, without Inputs
	inputs       BLOB,             -- float32 little-endian, 784 per digit
	ink_png      BLOB
) STRICT;

CREATE TABLE feedback (
	-- seq orders feedback for export; with one writer it is also commit order.
	seq             INTEGER PRIMARY KEY AUTOINCREMENT,
	id              TEXT    NOT NULL UNIQUE,
	idempotency_key TEXT    NOT NULL UNIQUE,
	prediction_id   TEXT    NOT NULL,
	client_id       TEXT    NOT NULL,
	code            TEXT    NOT NULL,
	labels          TEXT    NOT NULL, -- JSON array of ints
	predicted       TEXT    NOT NULL,
	digits          TEXT    NOT NULL, -- JSON array of recognize.Digit
	ink_png         BLOB,
	inputs          BLOB,             -- 784 bytes per digit
	model_sha256    TEXT    NOT NULL,
	created_at      INTEGER NOT NULL, -- client clock
	received_at     INTEGER NOT NULL  -- server clock
) STRICT;

CREATE INDEX feedback_prediction_id ON feedback (prediction_id) WHERE prediction_id <> '';
