-- 007: a version number for the catalog, raised by every committed change to
-- models or categories (through the API, the admin pages, psql or a script),
-- so that each httpd process can keep the catalog in memory and learn with
-- one cheap read whether its copy is still current (bench/catalog).
--
-- The number is raised at commit time (deferred triggers), once per
-- transaction: a transaction holds the row lock only while it commits, after
-- every other lock it takes, so two transactions can never wait for each
-- other through it (starting conversations raise popularity concurrently).
-- The function and its triggers: catalog_version_raise in
-- sql/functions/catalog.sql.

CREATE TABLE catalog_version (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version   bigint NOT NULL DEFAULT 1,
    raised_by xid8
);
INSERT INTO catalog_version DEFAULT VALUES;

GRANT SELECT ON catalog_version TO :"app_role";
