-- Favourite prompts and templates as the API shows them, and their writes:
-- a prompt with its models, a template with its versions, the gallery, a use
-- counted. The C side (api/prompts/) checks every value first (the template
-- syntax and variables in core/aic_template.c); these functions store them.
-- Applied by scripts/aichat-migrate after the migrations, on every run that
-- finds sql/functions/ changed, all files in one transaction in name order
-- (see sql/README.md). Each function is defined here only.

-- A prompt as its owner sees it, with its models in their order.
CREATE OR REPLACE FUNCTION prompt_json(p favorite_prompts) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    tools jsonb;
BEGIN
    SELECT coalesce(jsonb_agg(jsonb_build_object('slug', t.slug, 'display_name', t.display_name)
                              ORDER BY l.position), '[]')
      INTO tools
      FROM favorite_prompt_tools l JOIN ai_tools t ON t.id = l.tool_id
     WHERE l.prompt_id = p.id;
    RETURN jsonb_build_object('id', p.id, 'title', p.title, 'text', p.content, 'tools', tools,
                              'created_at', p.created_at, 'updated_at', p.updated_at);
END
$$;

-- The first of slugs (JSON array of text) that names no model, or null.
CREATE OR REPLACE FUNCTION prompts_unknown_tool(slugs json) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT s FROM json_array_elements_text(slugs) s
     WHERE NOT EXISTS (SELECT 1 FROM ai_tools t WHERE t.slug = s) LIMIT 1
$$;

-- Take the transaction's lock on what owner creates of one kind (a table's
-- name), released at commit: creations of one owner are counted against
-- their cap one at a time (a statement after it sees every earlier one
-- committed); other owners wait only on a clash of the 32-bit hashes.
CREATE OR REPLACE FUNCTION prompts_lock_owner(kind text, owner uuid) RETURNS void
LANGUAGE sql AS $$
    SELECT pg_advisory_xact_lock(hashtext(kind), hashtext(owner::text))
$$;

-- Save a prompt. args (JSON): owner, id (null for a new prompt), title and
-- text (null: kept), tools (an array of model slugs, or null: kept), max (how
-- many prompts an owner may have). Returns JSON: code 'unknown_tool' (with
-- slug), 'not_found' or 'too_many' and nothing written; else code null, the
-- prompt and its old form (null for a new one).
CREATE OR REPLACE FUNCTION prompt_save(args json) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    owner uuid := (args->>'owner')::uuid;
    pid uuid := (args->>'id')::uuid;
    missing text;
    old jsonb;
    p favorite_prompts;
BEGIN
    IF json_typeof(args->'tools') = 'array' THEN
        missing := prompts_unknown_tool(args->'tools');
        IF missing IS NOT NULL THEN
            RETURN json_build_object('code', 'unknown_tool', 'slug', missing);
        END IF;
    END IF;
    IF pid IS NULL THEN
        -- The owner's creations wait for each other until commit, so that
        -- the count sees every one before it and the cap holds.
        PERFORM prompts_lock_owner('favorite_prompts', owner);
        IF (SELECT count(*) FROM favorite_prompts f WHERE f.owner_id = owner)
           >= (args->>'max')::int THEN
            RETURN json_build_object('code', 'too_many');
        END IF;
        INSERT INTO favorite_prompts (owner_id, title, content)
        VALUES (owner, args->>'title', args->>'text') RETURNING * INTO p;
    ELSE
        SELECT prompt_json(f) INTO old FROM favorite_prompts f
         WHERE f.id = pid AND f.owner_id = owner FOR UPDATE;
        IF NOT FOUND THEN
            RETURN json_build_object('code', 'not_found');
        END IF;
        UPDATE favorite_prompts
           SET title = coalesce(args->>'title', title), content = coalesce(args->>'text', content),
               updated_at = now()
         WHERE id = pid RETURNING * INTO p;
    END IF;
    IF json_typeof(args->'tools') = 'array' THEN
        DELETE FROM favorite_prompt_tools WHERE prompt_id = p.id;
        INSERT INTO favorite_prompt_tools (prompt_id, tool_id, position)
        SELECT p.id, t.id, s.ord - 1
          FROM json_array_elements_text(args->'tools') WITH ORDINALITY s(slug, ord)
          JOIN ai_tools t ON t.slug = s.slug
         ORDER BY s.ord
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN json_build_object('code', NULL, 'prompt', prompt_json(p), 'old', old);
END
$$;

-- An owner's prompts, those for a model of the conversation first (each
-- marked with for_conversation), then the newest. args (JSON): owner,
-- conversation (or null), tools (the slugs of the models picked for a chat
-- not yet created, which then count as its models, or null). Returns JSON:
-- code 'not_found' when the owner may not see the conversation; else items.
CREATE OR REPLACE FUNCTION prompt_list(args json) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
    owner uuid := (args->>'owner')::uuid;
    conv uuid := (args->>'conversation')::uuid;
    picked uuid[];
BEGIN
    IF conv IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM conversations c
         WHERE c.id = conv AND c.deleted_at IS NULL
           AND (c.owner_id = owner OR conversation_member_sees(c.id, c.owner_id, owner))) THEN
        RETURN json_build_object('code', 'not_found');
    END IF;
    IF json_typeof(args->'tools') = 'array' THEN
        picked := ARRAY(SELECT t.id FROM ai_tools t
                         WHERE t.slug IN (SELECT json_array_elements_text(args->'tools')));
    ELSIF conv IS NOT NULL THEN
        picked := ARRAY(SELECT m.tool_id FROM conversation_ai_models m
                         WHERE m.conversation_id = conv);
    END IF;
    RETURN (
        SELECT json_build_object('code', NULL, 'items', coalesce(json_agg(x.j
                   ORDER BY x.fits DESC, x.updated_at DESC, x.id DESC), '[]'::json))
          FROM (SELECT prompt_json(p) || jsonb_build_object('for_conversation', f.fits) AS j,
                       f.fits, p.updated_at, p.id
                  FROM favorite_prompts p
                 CROSS JOIN LATERAL (
                       SELECT EXISTS (SELECT 1 FROM favorite_prompt_tools l
                                       WHERE l.prompt_id = p.id
                                         AND l.tool_id = ANY (picked)) AS fits) f
                 WHERE p.owner_id = owner) x);
END
$$;

-- Whether viewer may see template t: their own (even deleted), or a live
-- public one of a user who was not deleted.
CREATE OR REPLACE FUNCTION template_visible(t templates, viewer uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT t.owner_id = viewer
        OR (t.is_public AND t.deleted_at IS NULL
            AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = t.owner_id
                                                     AND u.deleted_at IS NOT NULL))
$$;

-- A template as its viewer sees it: model is the preferred model's slug.
CREATE OR REPLACE FUNCTION template_json(t templates, viewer uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    owner jsonb;
    model ai_tools;
BEGIN
    SELECT jsonb_build_object('username', u.username,
                              'display_name', coalesce(u.display_name, u.username))
      INTO owner FROM users u WHERE u.id = t.owner_id;
    IF t.tool_id IS NOT NULL THEN
        SELECT * INTO model FROM ai_tools a WHERE a.id = t.tool_id;
    END IF;
    RETURN jsonb_build_object(
        'id', t.id, 'name', t.name, 'description', t.description, 'category', t.category,
        'content', t.content, 'system_prompt', t.system_prompt, 'model', model.slug,
        'model_display_name', model.display_name, 'variables', t.variables,
        'is_public', t.is_public, 'usage_count', t.usage_count, 'version', t.version,
        'copied_from', t.copied_from, 'owner', owner, 'is_owner', t.owner_id = viewer,
        'created_at', t.created_at, 'updated_at', t.updated_at, 'deleted_at', t.deleted_at);
END
$$;

-- One version of a template, as its owner sees it.
CREATE OR REPLACE FUNCTION template_version_json(v template_versions) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    model ai_tools;
    author text;
BEGIN
    IF v.tool_id IS NOT NULL THEN
        SELECT * INTO model FROM ai_tools a WHERE a.id = v.tool_id;
    END IF;
    SELECT u.username INTO author FROM users u WHERE u.id = v.created_by;
    RETURN jsonb_build_object(
        'version', v.version, 'note', v.note, 'name', v.name, 'description', v.description,
        'category', v.category, 'content', v.content, 'system_prompt', v.system_prompt,
        'model', model.slug, 'variables', v.variables, 'created_by', author,
        'created_at', v.created_at);
END
$$;

-- Save a template: a new one (version 1), or a change of the owner's live
-- one. A change of what a version holds (name, description, category,
-- content, system prompt, model, variables) makes a new version with the
-- note; is_public alone makes none. args (JSON): viewer, id (null: new),
-- name, description, category, content, system_prompt, model (a slug or
-- null), variables, is_public, note, copied_from (for a new one), max (how
-- many templates an owner may have). Returns JSON: code 'unknown_model',
-- 'not_found' or 'too_many' and nothing written; else code null, template
-- (its JSON), old (null for a new one) and versioned (a version was added).
CREATE OR REPLACE FUNCTION template_save(args json) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    viewer uuid := (args->>'viewer')::uuid;
    tid uuid := (args->>'id')::uuid;
    tool uuid;
    old templates;
    t templates;
    changed boolean := true;
BEGIN
    IF args->>'model' IS NOT NULL THEN
        SELECT a.id INTO tool FROM ai_tools a WHERE a.slug = args->>'model';
        IF NOT FOUND THEN
            RETURN json_build_object('code', 'unknown_model');
        END IF;
    END IF;
    IF tid IS NULL THEN
        PERFORM prompts_lock_owner('templates', viewer);
        IF (SELECT count(*) FROM templates x WHERE x.owner_id = viewer)
           >= (args->>'max')::int THEN
            RETURN json_build_object('code', 'too_many');
        END IF;
        INSERT INTO templates (owner_id, name, description, category, content, system_prompt,
                               tool_id, variables, is_public, copied_from)
        VALUES (viewer, args->>'name', args->>'description', args->>'category',
                args->>'content', args->>'system_prompt', tool, (args->'variables')::jsonb,
                (args->>'is_public')::boolean, (args->>'copied_from')::uuid)
        RETURNING * INTO t;
    ELSE
        SELECT * INTO old FROM templates x
         WHERE x.id = tid AND x.owner_id = viewer AND x.deleted_at IS NULL FOR UPDATE;
        IF NOT FOUND THEN
            RETURN json_build_object('code', 'not_found');
        END IF;
        changed := (old.name, old.description, old.category, old.content, old.system_prompt,
                    old.tool_id, old.variables)
                   IS DISTINCT FROM (args->>'name', args->>'description', args->>'category',
                                     args->>'content', args->>'system_prompt', tool,
                                     (args->'variables')::jsonb);
        UPDATE templates
           SET name = args->>'name', description = args->>'description',
               category = args->>'category', content = args->>'content',
               system_prompt = args->>'system_prompt', tool_id = tool,
               variables = (args->'variables')::jsonb, is_public = (args->>'is_public')::boolean,
               version = version + changed::int, updated_at = now()
         WHERE id = tid RETURNING * INTO t;
    END IF;
    IF changed THEN
        INSERT INTO template_versions (template_id, version, name, description, category,
                                       content, system_prompt, tool_id, variables, note,
                                       created_by)
        VALUES (t.id, t.version, t.name, t.description, t.category, t.content, t.system_prompt,
                t.tool_id, t.variables, coalesce(args->>'note', ''), viewer);
    END IF;
    RETURN json_build_object('code', NULL, 'template', template_json(t, viewer),
                             'old', CASE WHEN old.id IS NOT NULL THEN template_json(old, viewer) END,
                             'versioned', changed);
END
$$;

-- Whether a live public template t is in the gallery for a search: its
-- owner was not deleted, and pattern (an ILIKE pattern, or null for all)
-- matches its name or description.
CREATE OR REPLACE FUNCTION template_gallery_match(t templates, pattern text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT (pattern IS NULL OR t.name ILIKE pattern OR t.description ILIKE pattern)
       AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = t.owner_id AND u.deleted_at IS NOT NULL)
$$;

-- A page of the gallery: live public templates of users not deleted, as
-- JSON with the items and the cursor of the next page (core/aic_cursor:
-- kind 'gu' by use, 'gn' newest; fields id and usage count, or id and
-- creation time in microseconds since the epoch). Each order, in all
-- categories or one, is its own query, so that each walks its own index and
-- stops after a page (the first page starts after the greatest possible
-- key, so that the cursor's comparison is always the index's). args (JSON):
-- viewer, pattern (an ILIKE pattern for name and description, or null),
-- category (or null), sort ('u' or 'n'), after_id and after_value (the
-- cursor, or null), limit.
CREATE OR REPLACE FUNCTION template_gallery(args json) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
    viewer uuid := (args->>'viewer')::uuid;
    pattern text := args->>'pattern';
    cat text := args->>'category';
    sort text := args->>'sort';
    after_id uuid := coalesce((args->>'after_id')::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff');
    after_uses bigint := coalesce((args->>'after_value')::bigint, 9223372036854775807);
    after_at timestamptz := coalesce(timestamptz 'epoch' + (args->>'after_value')::bigint
                                     * interval '1 microsecond', 'infinity');
    lim int := (args->>'limit')::int;
    page templates[];
    last templates;
BEGIN
    IF sort = 'u' AND cat IS NULL THEN
        page := ARRAY(
            SELECT t FROM templates t
             WHERE t.is_public AND t.deleted_at IS NULL
               AND (t.usage_count, t.id) < (after_uses, after_id)
               AND template_gallery_match(t, pattern)
             ORDER BY t.usage_count DESC, t.id DESC LIMIT lim);
    ELSIF sort = 'u' THEN
        page := ARRAY(
            SELECT t FROM templates t
             WHERE t.is_public AND t.deleted_at IS NULL AND t.category = cat
               AND (t.usage_count, t.id) < (after_uses, after_id)
               AND template_gallery_match(t, pattern)
             ORDER BY t.usage_count DESC, t.id DESC LIMIT lim);
    ELSIF cat IS NULL THEN
        page := ARRAY(
            SELECT t FROM templates t
             WHERE t.is_public AND t.deleted_at IS NULL
               AND (t.created_at, t.id) < (after_at, after_id)
               AND template_gallery_match(t, pattern)
             ORDER BY t.created_at DESC, t.id DESC LIMIT lim);
    ELSE
        page := ARRAY(
            SELECT t FROM templates t
             WHERE t.is_public AND t.deleted_at IS NULL AND t.category = cat
               AND (t.created_at, t.id) < (after_at, after_id)
               AND template_gallery_match(t, pattern)
             ORDER BY t.created_at DESC, t.id DESC LIMIT lim);
    END IF;
    IF coalesce(array_length(page, 1), 0) = lim THEN
        last := page[lim];
    END IF;
    RETURN json_build_object(
        'items', (SELECT coalesce(json_agg(template_json(page[i], viewer) ORDER BY i), '[]'::json)
                    FROM generate_subscripts(page, 1) i),
        'next', CASE WHEN last.id IS NOT NULL THEN
                    encode(convert_to('g' || sort || '|' || last.id || '|'
                                      || CASE WHEN sort = 'u' THEN last.usage_count
                                         ELSE (extract(epoch FROM last.created_at)
                                               * 1000000)::bigint END, 'UTF8'), 'hex') END);
END
$$;

-- A use of a template version: its template's count raised by one. Called in
-- the transaction that stores the message sent from it (chat_turn_reserve),
-- or on its own for a use that only fills the template.
CREATE OR REPLACE FUNCTION template_used(version_id uuid) RETURNS bigint
LANGUAGE sql AS $$
    UPDATE templates t SET usage_count = t.usage_count + 1
      FROM template_versions v WHERE v.id = version_id AND t.id = v.template_id
    RETURNING t.usage_count
$$;
