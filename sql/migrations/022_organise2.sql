-- 022: organise, second part. Notes are searched like messages: their own
-- vector and index on annotations (notes are few; the messages' index and a
-- send's cost stay as they were). search_filter takes has_notes (the function
-- is in sql/functions/search.sql).

ALTER TABLE annotations ADD COLUMN search tsvector GENERATED ALWAYS AS (
    to_tsvector('simple', note)) STORED;
CREATE INDEX annotations_search ON annotations USING gin (search);

DROP FUNCTION IF EXISTS search_filter(conversations, boolean, text, text, uuid[], int, boolean);
