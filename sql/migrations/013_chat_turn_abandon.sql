-- 013: a turn the database failed is put in order when it answers again.
-- Until now the module gave back the unsettled reservation itself, only
-- while the database still answered: when it was away, the credits stayed
-- reserved, a streamed answer's row stayed 'streaming' with no text for
-- good, and a user message whose turn was never recorded stayed off its
-- conversation's visible thread. chat_turns_abandon does all three, once per
-- turn however often it is called: the module calls it at once and, when
-- that fails, again from a writer thread that retries until the database is
-- back (aic_batch).

-- The turns given back: one row each, so that a retry cannot give twice.
-- No foreign keys: a batch is one statement, and a row naming a user deleted
-- meanwhile must not make the others fail.
CREATE TABLE abandoned_turns (
    turn_id     uuid PRIMARY KEY, -- the turn's first answer id (chat_turn_reserve)
    user_id     uuid NOT NULL,
    released    bigint NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Each element of batch a turn: turn (its first answer id), viewer,
-- released (the credits its failed models reserved), message (the message
-- its reservation named), conv, user_message (NULL for a regeneration),
-- title, counted (whether the conversation already counts the user
-- message), answer (the failed model's answer, NULL when it has no row).
-- The failed answer's row, when it is still 'streaming', ends as an error
-- and the thread's visible end; the user message joins the visible thread
-- when the turn did not record it. Returns the balance after the last turn
-- given back (NULL when none was).
CREATE FUNCTION chat_turns_abandon(batch json) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    t record;
    marked boolean;
    given bigint;
BEGIN
    FOR t IN SELECT * FROM json_to_recordset(batch)
                 AS x(turn uuid, viewer uuid, released bigint, message uuid, conv uuid,
                      user_message uuid, title text, counted boolean, answer uuid)
    LOOP
        INSERT INTO abandoned_turns (turn_id, user_id, released)
        VALUES (t.turn, t.viewer, t.released)
        ON CONFLICT (turn_id) DO NOTHING;
        CONTINUE WHEN NOT FOUND;
        UPDATE messages m
           SET status = 'error',
               error = 'The database became unavailable before the answer was stored.'
         WHERE m.id = t.answer AND m.status = 'streaming';
        marked := FOUND;
        IF marked OR (t.user_message IS NOT NULL AND NOT t.counted) THEN
            UPDATE conversations c
               SET total_messages = c.total_messages + marked::int
                                    + (t.user_message IS NOT NULL AND NOT t.counted)::int,
                   last_message_at = now(),
                   active_leaf_id = CASE WHEN marked THEN t.answer ELSE t.user_message END,
                   title = CASE WHEN t.user_message IS NOT NULL AND NOT t.counted AND c.title = ''
                                THEN t.title ELSE c.title END,
                   updated_at = now()
             WHERE c.id = t.conv;
        END IF;
        given := chat_turn_release(t.viewer, t.released, t.message);
    END LOOP;
    RETURN given;
END
$$;

GRANT SELECT, INSERT ON abandoned_turns TO :"app_role";
