-- Search of the visitors list by user id prefix (`q=`) reads an index range instead of every journey.
CREATE INDEX IF NOT EXISTS journeys_by_user ON journeys (site, user_id);
