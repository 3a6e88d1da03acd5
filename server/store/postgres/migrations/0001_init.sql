CREATE TABLE predictions (
	seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id           text        NOT NULL UNIQUE,
	created_at   timestamptz NOT NULL,
	client_id    text        NOT NULL,
	code         text        NOT NULL,
	model_sha256 text        NOT NULL,
	result       jsonb       NOT NULL, -- recognize.Result without Inputs
	inputs       bytea,                -- float32 little-endian, 784 per digit
	ink_png      bytea
);

CREATE TABLE feedback (
	-- seq orders feedback for export; SaveFeedback serialises inserts so it is also commit order.
	seq             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id              text        NOT NULL UNIQUE,
	idempotency_key text        NOT NULL UNIQUE,
	prediction_id   text        NOT NULL,
	client_id       text        NOT NULL,
	code            text        NOT NULL,
	labels          jsonb       NOT NULL,
	predicted       text        NOT NULL,
	digits          jsonb       NOT NULL,
	ink_png         bytea,
	inputs          bytea,                -- 784 bytes per digit
	model_sha256    text        NOT NULL,
	created_at      timestamptz NOT NULL, -- client clock
	received_at     timestamptz NOT NULL  -- server clock
);

CREATE INDEX feedback_prediction_id ON feedback (prediction_id) WHERE prediction_id <> '';
