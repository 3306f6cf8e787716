-- 016: favourite prompts (linked to any number of models), templates with
-- typed variables, their versions and usage counts, the template version a
-- message was sent from, and users deleted softly.

-- An administrator's soft delete: the account cannot sign in, its content
-- is kept and hidden from others; clearing it brings everything back.
ALTER TABLE users ADD COLUMN deleted_at timestamptz;

CREATE TABLE favorite_prompts (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title      text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    content    text NOT NULL CHECK (char_length(content) BETWEEN 1 AND 20000),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX favorite_prompts_owner ON favorite_prompts (owner_id, updated_at DESC, id DESC);

-- The models a prompt is for (many-to-many).
CREATE TABLE favorite_prompt_tools (
    prompt_id uuid NOT NULL REFERENCES favorite_prompts (id) ON DELETE CASCADE,
    tool_id   uuid NOT NULL REFERENCES ai_tools (id) ON DELETE CASCADE,
    position  integer NOT NULL CHECK (position >= 0),
    PRIMARY KEY (prompt_id, tool_id)
);
CREATE INDEX favorite_prompt_tools_tool ON favorite_prompt_tools (tool_id);

-- A template's current form; each form it had is a row of template_versions
-- (the current one too, with the same number). Templates are never deleted by the application:
-- deleted_at hides one, and the messages sent from it keep their version.
CREATE TABLE templates (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    description   text NOT NULL DEFAULT '' CHECK (char_length(description) <= 2000),
    category      text NOT NULL CHECK (char_length(category) BETWEEN 1 AND 50),
    content       text NOT NULL CHECK (char_length(content) BETWEEN 1 AND 20000),
    system_prompt text CHECK (system_prompt IS NULL OR char_length(system_prompt) <= 20000),
    tool_id       uuid REFERENCES ai_tools (id) ON DELETE SET NULL, -- the preferred model
    variables     jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(variables) = 'array'),
    is_public     boolean NOT NULL DEFAULT false,
    usage_count   bigint NOT NULL DEFAULT 0,
    version       integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    copied_from   uuid REFERENCES templates (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    deleted_at    timestamptz
);
CREATE INDEX templates_owner ON templates (owner_id, updated_at DESC, id DESC);
-- The gallery: live public templates, by use or newest, in all categories or one.
CREATE INDEX templates_gallery_use ON templates (usage_count DESC, id DESC)
    WHERE is_public AND deleted_at IS NULL;
CREATE INDEX templates_gallery_new ON templates (created_at DESC, id DESC)
    WHERE is_public AND deleted_at IS NULL;
CREATE INDEX templates_gallery_category ON templates (category, usage_count DESC, id DESC)
    WHERE is_public AND deleted_at IS NULL;
CREATE INDEX templates_gallery_category_new ON templates (category, created_at DESC, id DESC)
    WHERE is_public AND deleted_at IS NULL;
-- Gallery search: substring matches (ILIKE '%q%') on name and description.
CREATE INDEX templates_name_trgm ON templates USING gin (name gin_trgm_ops)
    WHERE is_public AND deleted_at IS NULL;
CREATE INDEX templates_description_trgm ON templates USING gin (description gin_trgm_ops)
    WHERE is_public AND deleted_at IS NULL;
CREATE INDEX templates_tool ON templates (tool_id) WHERE tool_id IS NOT NULL;

CREATE TABLE template_versions (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    template_id   uuid NOT NULL REFERENCES templates (id) ON DELETE CASCADE,
    version       integer NOT NULL CHECK (version >= 1),
    name          text NOT NULL,
    description   text NOT NULL,
    category      text NOT NULL,
    content       text NOT NULL,
    system_prompt text,
    tool_id       uuid REFERENCES ai_tools (id) ON DELETE SET NULL,
    variables     jsonb NOT NULL,
    note          text NOT NULL DEFAULT '' CHECK (char_length(note) <= 500),
    created_by    uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (template_id, version)
);
CREATE INDEX template_versions_tool ON template_versions (tool_id) WHERE tool_id IS NOT NULL;

-- The template version a user's message was sent from.
ALTER TABLE messages ADD COLUMN template_version_id uuid
    REFERENCES template_versions (id) ON DELETE SET NULL;
CREATE INDEX messages_template_version ON messages (template_version_id)
    WHERE template_version_id IS NOT NULL;

GRANT SELECT, INSERT, UPDATE, DELETE ON favorite_prompts, favorite_prompt_tools TO :"app_role";
GRANT SELECT, INSERT, UPDATE ON templates, template_versions TO :"app_role";
