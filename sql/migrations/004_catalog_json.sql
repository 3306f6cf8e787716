-- 004: keep each model's API JSON with the row, so that listing the catalog
-- aggregates stored values instead of building them per row and request
-- (bench/catalog: the list query was six times the cost of its baseline).
-- Availability and the viewer's favourite flag still come at read time
-- (tool_json). The trigger ai_tools_api_json fills the column
-- (sql/functions/catalog.sql); on a fresh database ai_tools is empty here.

ALTER TABLE ai_tools ADD COLUMN api_json jsonb;
ALTER TABLE ai_tools ALTER COLUMN api_json SET NOT NULL;
