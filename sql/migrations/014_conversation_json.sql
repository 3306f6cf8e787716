-- 014: the conversation and share APIs' reads. conversation_json and
-- share_json became PL/pgSQL, which keeps its plans for the session (the
-- SQL functions' sub-selects were planned again for every statement that
-- used them); they are in sql/functions/.
--
-- The conversation list's second half (the conversations a user takes part
-- in without owning them) read every participant row of the user, their own
-- conversations' included (the owner is each one's admin participant), and
-- joined them all, at a cost growing with the user's conversations. It now
-- reads the member rows only.

CREATE INDEX conversation_participants_member ON conversation_participants (user_id)
    WHERE role = 'member';
