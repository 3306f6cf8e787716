-- 013: a turn the database failed is put in order when it answers again.
-- Until now the module gave back the unsettled reservation itself, only
-- while the database still answered: when it was away, the credits stayed
-- reserved, a streamed answer's row stayed 'streaming' with no text for
-- good, and a user message whose turn was never recorded stayed off its
-- conversation's visible thread. chat_turns_abandon does all three, once per
-- turn however often it is called: the module calls it at once and, when
-- that fails, again from a writer thread that retries until the database is
-- back (aic_batch). The function is in sql/functions/chat.sql.

-- The turns given back: one row each, so that a retry cannot give twice.
-- No foreign keys: a batch is one statement, and a row naming a user deleted
-- meanwhile must not make the others fail.
CREATE TABLE abandoned_turns (
    turn_id     uuid PRIMARY KEY, -- the turn's first answer id (chat_turn_reserve)
    user_id     uuid NOT NULL,
    released    bigint NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

GRANT SELECT, INSERT ON abandoned_turns TO :"app_role";
