-- 009: share views are written in batches. Each httpd process collects the
-- views of its share pages (the view and its audit row) and a writer thread
-- hands them over a few times a second in one statement, so that a share
-- page costs no database round trip while its answer is in the process's
-- cache (bench/share). The batch adds each share's views to view_count
-- directly: one row update per share and batch, so views no longer wait for
-- each other on a hot share's row, and share_views is not needed. The batch
-- is share_views_record (sql/functions/share.sql).

-- Views still waiting in share_views are counted before it goes.
UPDATE shared_chats s SET view_count = s.view_count + v.views,
       last_viewed_at = greatest(s.last_viewed_at, v.last)
  FROM (SELECT share_id, count(*) AS views, max(viewed_at) AS last
          FROM share_views GROUP BY share_id) v
 WHERE s.id = v.share_id;
DROP TABLE share_views;
