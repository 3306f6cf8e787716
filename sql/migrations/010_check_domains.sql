-- 010: the rules on the columns of the tables every chat send writes (users,
-- conversations, messages, credit_ledger) move from CHECK constraints to
-- domains. Same rules, same SQLSTATE (23514) when one is broken.
--
-- Why (bench/chat): PostgreSQL reads a table's CHECK constraints back from
-- their stored text and compiles them for every INSERT or UPDATE statement,
-- and checks all of them even when an UPDATE sets one column. A send runs
-- eight such statements (users twice, conversations twice, messages three
-- times, credit_ledger twice). A domain's rule is kept parsed in each
-- backend's type cache, and an UPDATE checks only the columns it sets. In
-- pgbench, chat_turn_begin and chat_answer_finish took 10-25% less time and
-- PostgreSQL's CPU time per send fell by 5-25% (noisy runs).
--
-- Changing a column to a domain with a rule rewrites the table under an
-- exclusive lock: on a large site, run this migration in a quiet hour.

CREATE DOMAIN count_int AS integer CHECK (VALUE >= 0);
CREATE DOMAIN credit_amount AS bigint CHECK (VALUE >= 0);

CREATE DOMAIN username_text AS text CHECK (length(VALUE) BETWEEN 1 AND 255);
CREATE DOMAIN email_text AS text CHECK (length(VALUE) BETWEEN 3 AND 254);
CREATE DOMAIN display_name_text AS text CHECK (char_length(VALUE) BETWEEN 1 AND 100);
CREATE DOMAIN user_role AS text CHECK (VALUE IN ('user', 'admin'));

CREATE DOMAIN title_text AS text CHECK (char_length(VALUE) <= 200);
CREATE DOMAIN source_text AS text CHECK (char_length(VALUE) <= 64);
CREATE DOMAIN system_prompt_text AS text CHECK (char_length(VALUE) <= 20000);
CREATE DOMAIN settings_object AS jsonb CHECK (jsonb_typeof(VALUE) = 'object');
CREATE DOMAIN conversation_status AS text CHECK (VALUE IN ('active', 'deleted'));

CREATE DOMAIN message_sender_type AS text CHECK (VALUE IN ('user', 'ai', 'system'));
CREATE DOMAIN message_status AS text
    CHECK (VALUE IN ('complete', 'streaming', 'error', 'incomplete'));

CREATE DOMAIN ledger_reason AS text
    CHECK (VALUE IN ('initial', 'grant', 'reserve', 'settle', 'release'));

ALTER TABLE users
    DROP CONSTRAINT users_username_check,
    DROP CONSTRAINT users_email_check,
    DROP CONSTRAINT users_display_name_check,
    DROP CONSTRAINT users_role_check,
    DROP CONSTRAINT users_token_credits_check,
    ALTER username TYPE username_text,
    ALTER email TYPE email_text,
    ALTER display_name TYPE display_name_text,
    ALTER role TYPE user_role,
    ALTER token_credits TYPE credit_amount;

ALTER TABLE conversations
    DROP CONSTRAINT conversations_title_check,
    DROP CONSTRAINT conversations_source_check,
    DROP CONSTRAINT conversations_system_prompt_check,
    DROP CONSTRAINT conversations_settings_check,
    DROP CONSTRAINT conversations_status_check,
    DROP CONSTRAINT conversations_total_messages_check,
    ALTER title TYPE title_text,
    ALTER source TYPE source_text,
    ALTER system_prompt TYPE system_prompt_text,
    ALTER settings TYPE settings_object,
    ALTER status TYPE conversation_status,
    ALTER total_messages TYPE count_int;

ALTER TABLE messages
    DROP CONSTRAINT messages_sender_type_check,
    DROP CONSTRAINT messages_status_check,
    DROP CONSTRAINT messages_prompt_tokens_check,
    DROP CONSTRAINT messages_completion_tokens_check,
    ALTER sender_type TYPE message_sender_type,
    ALTER status TYPE message_status,
    ALTER prompt_tokens TYPE count_int,
    ALTER completion_tokens TYPE count_int;

ALTER TABLE credit_ledger
    DROP CONSTRAINT credit_ledger_balance_after_check,
    DROP CONSTRAINT credit_ledger_reason_check,
    ALTER balance_after TYPE credit_amount,
    ALTER reason TYPE ledger_reason;
