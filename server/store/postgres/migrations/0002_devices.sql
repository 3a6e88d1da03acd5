-- Device enrolment (issue 11): one-time codes an operator hands to a pad or kiosk, and the devices enrolled with
-- them. Only SHA-256 hashes of codes and credentials are kept.
CREATE TABLE enrolments (
	code_hash  bytea       PRIMARY KEY,
	name       text        NOT NULL,
	created_at timestamptz NOT NULL,
	expires_at timestamptz NOT NULL,
	used_at    timestamptz,
	device_id  text
);

CREATE TABLE devices (
	seq             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id              text        NOT NULL UNIQUE,
	name            text        NOT NULL,
	credential_hash bytea       NOT NULL UNIQUE,
	created_at      timestamptz NOT NULL,
	revoked_at      timestamptz
);
