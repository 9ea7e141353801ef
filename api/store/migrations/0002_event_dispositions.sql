-- matthan metadata schema, version 2: what reviewers decided about events.
-- The events themselves live in the event store (ClickHouse); a disposition
-- is keyed by the event's id and copies its camera and type, so that the
-- rules and the access checks need no look-up there.

CREATE TABLE event_dispositions (
    event_id   TEXT PRIMARY KEY,
    camera_id  TEXT NOT NULL REFERENCES cameras (id),
    event_type TEXT NOT NULL,
    decision   TEXT NOT NULL CHECK (decision IN ('confirmed', 'rejected', 'acknowledged')),
    reason     TEXT NOT NULL DEFAULT '',
    user_id    TEXT NOT NULL,
    username   TEXT NOT NULL,
    at_ms      BIGINT NOT NULL
);
CREATE INDEX event_dispositions_camera ON event_dispositions (camera_id, at_ms);
