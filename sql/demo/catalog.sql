-- Demo catalog loaded by `scripts/dev up`: the models the seed documents
-- name, each on a provider that the dev configuration points at the mock
-- provider with the protocol its real provider speaks. Safe to run again.

INSERT INTO categories (name, description, icon) VALUES
    ('General', 'Everyday assistants for writing, questions and ideas.', 'chat'),
    ('Coding', 'Models tuned for programming and technical work.', 'code'),
    ('Open models', 'Open-weight models you can also run on your own hardware.', 'open')
ON CONFLICT (name) DO NOTHING;

INSERT INTO ai_tools (slug, name, display_name, provider, model_id, description, category_id,
                      popularity, capabilities, default_settings)
SELECT v.slug, v.name, v.display_name, v.provider, v.model_id, v.description,
       (SELECT id FROM categories WHERE name = v.category), v.popularity,
       v.capabilities::jsonb, v.default_settings::jsonb
FROM (VALUES
    ('gemini-1-5-flash', 'Gemini Flash 1.5', 'Gemini Flash 1.5', 'google', 'gemini-1.5-flash',
     'Google''s fast multimodal model with a very long context.', 'General', 120,
     '{"context_window": 1000000, "streaming": true, "vision": true}',
     '{"temperature": 0.7, "max_tokens": 2048}'),
    ('gpt-4o-mini', 'GPT-4o mini', 'GPT-4o mini', 'openai', 'gpt-4o-mini',
     'OpenAI''s small, fast and affordable model for everyday tasks.', 'General', 150,
     '{"context_window": 128000, "streaming": true, "vision": true}',
     '{"temperature": 0.7, "max_tokens": 2048}'),
    ('claude-3-5-sonnet', 'Claude 3.5 Sonnet', 'Claude 3.5 Sonnet', 'anthropic',
     'claude-3-5-sonnet-latest', 'Anthropic''s balanced model for writing, analysis and code.',
     'General', 140, '{"context_window": 200000, "streaming": true, "vision": true}',
     '{"temperature": 0.7, "max_tokens": 2048}'),
    ('llama-3-8b', 'Llama 3 8B', 'Llama 3 8B', 'meta', 'llama3:8b',
     'Meta''s open 8-billion-parameter model, served over an OpenAI-compatible API.',
     'Open models', 80, '{"context_window": 8192, "streaming": true, "vision": false}',
     '{"temperature": 0.8, "max_tokens": 1024}'),
    ('deepseek-v2-coder', 'DeepSeek V2 Coder', 'DeepSeek V2 Coder', 'deepseek', 'deepseek-coder',
     'DeepSeek''s code model for completion, review and explanation.', 'Coding', 90,
     '{"context_window": 128000, "streaming": true, "vision": false}',
     '{"temperature": 0.2, "max_tokens": 2048}'),
    ('qwen-2-7b', 'Qwen 2 7B', 'Qwen 2 7B', 'qwen', 'qwen2:7b',
     'Alibaba''s open 7-billion-parameter multilingual model.', 'Open models', 60,
     '{"context_window": 32768, "streaming": true, "vision": false}',
     '{"temperature": 0.7, "max_tokens": 1024}')
) AS v(slug, name, display_name, provider, model_id, description, category, popularity,
       capabilities, default_settings)
ON CONFLICT (slug) DO NOTHING;
