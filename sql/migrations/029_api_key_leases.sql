-- 029: credits a process holds for a key's calls (api_call_reserve takes
-- them from the user's balance and the key's budget; api_calls_settle gives
-- back what the process's calls did not take). A call's row is written once
-- it is settled, so api_call_settle, which finished a pending row, goes.
CREATE TABLE api_key_leases (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- No reference: a key deleted while its credits are held still gives
    -- them back to its user.
    key_id     uuid NOT NULL,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credits    bigint NOT NULL CHECK (credits > 0),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_key_leases_key ON api_key_leases (key_id);

GRANT SELECT, INSERT, DELETE ON api_key_leases TO :"app_role";

DROP FUNCTION IF EXISTS api_call_settle(json);
-- A call's user is its key's (api_calls_settle writes only such rows), and a
-- user's keys go with the user, their calls with them: the reference to
-- users checked the user's row again for every call a batch settles, the row
-- each of those calls' settlements updates.
ALTER TABLE api_calls DROP CONSTRAINT api_calls_user_id_fkey;
-- keys_authenticate also returns when the key expires (the module's memo of
-- keys refuses it from then on).
DROP FUNCTION IF EXISTS keys_authenticate(text);
