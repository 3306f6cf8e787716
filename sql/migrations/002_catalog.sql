-- 002: the catalog of models (ai_tools) by category, and favourites.

CREATE TABLE categories (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL UNIQUE CHECK (char_length(name) BETWEEN 1 AND 100),
    description text NOT NULL DEFAULT '' CHECK (char_length(description) <= 2000),
    icon        text CHECK (icon IS NULL OR char_length(icon) <= 64),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ai_tools (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug             text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name             text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    display_name     text NOT NULL CHECK (char_length(display_name) BETWEEN 1 AND 200),
    avatar           text CHECK (avatar IS NULL OR char_length(avatar) <= 2048),
    provider         text NOT NULL CHECK (provider ~ '^[A-Za-z0-9._-]{1,64}$'),
    model_id         text NOT NULL CHECK (char_length(model_id) BETWEEN 1 AND 200),
    description      text NOT NULL DEFAULT '' CHECK (char_length(description) <= 10000),
    -- A category with tools cannot be deleted (the API answers 409 first).
    category_id      uuid REFERENCES categories (id) ON DELETE RESTRICT,
    popularity       bigint NOT NULL DEFAULT 0 CHECK (popularity >= 0),
    api_key_required boolean NOT NULL DEFAULT true,
    capabilities     jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(capabilities) = 'object'),
    default_settings jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(default_settings) = 'object'),
    is_active        boolean NOT NULL DEFAULT true,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
-- Keyset pagination for each sort order of GET /tools.
CREATE INDEX ai_tools_popularity ON ai_tools (popularity DESC, id DESC) WHERE is_active;
CREATE INDEX ai_tools_name ON ai_tools (name, id) WHERE is_active;
CREATE INDEX ai_tools_newest ON ai_tools (created_at DESC, id DESC) WHERE is_active;
CREATE INDEX ai_tools_category ON ai_tools (category_id);
CREATE INDEX ai_tools_provider ON ai_tools (provider);
-- Search as you type: substring matches (ILIKE '%q%') on each searched column.
CREATE INDEX ai_tools_name_trgm ON ai_tools USING gin (name gin_trgm_ops);
CREATE INDEX ai_tools_display_name_trgm ON ai_tools USING gin (display_name gin_trgm_ops);
CREATE INDEX ai_tools_slug_trgm ON ai_tools USING gin (slug gin_trgm_ops);
CREATE INDEX ai_tools_description_trgm ON ai_tools USING gin (description gin_trgm_ops);

CREATE TABLE user_favorite_tools (
    user_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tool_id  uuid NOT NULL REFERENCES ai_tools (id) ON DELETE CASCADE,
    added_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, tool_id)
);
CREATE INDEX user_favorite_tools_tool ON user_favorite_tools (tool_id);

GRANT SELECT, INSERT, UPDATE, DELETE ON categories, ai_tools, user_favorite_tools TO :"app_role";
