-- 007: a version number for the catalog, raised by every committed change to
-- models or categories (through the API, the admin pages, psql or a script),
-- so that each httpd process can keep the catalog in memory and learn with
-- one cheap read whether its copy is still current (bench/catalog).
--
-- The number is raised at commit time (deferred triggers), once per
-- transaction: a transaction holds the row lock only while it commits, after
-- every other lock it takes, so two transactions can never wait for each
-- other through it (starting conversations raise popularity concurrently).

CREATE TABLE catalog_version (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version   bigint NOT NULL DEFAULT 1,
    raised_by xid8
);
INSERT INTO catalog_version DEFAULT VALUES;

-- SECURITY DEFINER: the application role reads the version but cannot set it.
CREATE FUNCTION catalog_version_raise() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    UPDATE catalog_version SET version = version + 1, raised_by = pg_current_xact_id()
     WHERE raised_by IS DISTINCT FROM pg_current_xact_id();
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER ai_tools_catalog_version AFTER INSERT OR UPDATE OR DELETE ON ai_tools
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION catalog_version_raise();
CREATE CONSTRAINT TRIGGER categories_catalog_version AFTER INSERT OR UPDATE OR DELETE ON categories
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION catalog_version_raise();
-- TRUNCATE takes an exclusive lock anyway; constraint triggers cannot see it.
CREATE TRIGGER ai_tools_catalog_version_truncate AFTER TRUNCATE ON ai_tools
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_version_raise();
CREATE TRIGGER categories_catalog_version_truncate AFTER TRUNCATE ON categories
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_version_raise();

GRANT SELECT ON catalog_version TO :"app_role";
