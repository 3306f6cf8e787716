-- 027: the exports render conversations in the module (aic_imports_export.c),
-- reading them in batches, instead of three SQL functions called per
-- conversation and per format: those functions go.

DROP FUNCTION IF EXISTS import_export_markdown(uuid);
DROP FUNCTION IF EXISTS import_export_chatgpt(uuid);
DROP FUNCTION IF EXISTS import_export_json(uuid);
DROP FUNCTION IF EXISTS import_export_messages(uuid);
