-- 028: the keys list is paged (keys_list gains a cursor); the function
-- without one goes.
DROP FUNCTION IF EXISTS keys_list(uuid, integer);
