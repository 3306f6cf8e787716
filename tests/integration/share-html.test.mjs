// Shared Gemini answers: an imported Gemini answer is stored as HTML
// (content_type text/html), and the page behind its share link shows it as
// formatted text (the chat's own rendering, without JavaScript), written
// again by the server from an allowlist: its paragraphs, lists, bold and
// code, never a script, an event handler or a javascript: link. The JSON
// variant gives the answer as stored, with its content type.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { api } from '../lib/http.mjs';
import { sqlValue } from '../lib/db.mjs';
import { assertHtml, assertJson } from '../lib/assert.mjs';
import { createUser, uniq } from '../lib/users.mjs';
import { imported, sample } from '../lib/imports.mjs';
import { publicPage, shareConv } from '../lib/share.mjs';

let owner;

before(async () => {
  owner = await createUser({ prefix: 'shhtml' });
});

/** Import Gemini activity (bytes) for owner: the conversation whose title starts with `title`. */
async function importedChat(bytes, title) {
  const { res, job } = await imported(owner, bytes, 'MyActivity.json');
  assert.equal(res.status, 202, res.text);
  assert.equal(job.status, 'done', JSON.stringify(job));
  const conv = job.conversations.find((c) => c.title.startsWith(title));
  assert.ok(conv, `no imported conversation titled "${title}…": ${JSON.stringify(job.conversations)}`);
  return conv;
}

/** The body of the page's answer (the article of the model's message). */
function answerOf(html) {
  const m = /<article class="msg ai">[\s\S]*?<div class="body">([\s\S]*?)<\/div><\/article>/.exec(html);
  assert.ok(m, `the page has no answer: ${html.slice(0, 2000)}`);
  return m[1];
}

/** Every HTML tag of a piece of the page, with its attributes. */
function tags(html) {
  return html.match(/<[^>]*>/g) ?? [];
}

test('a shared Gemini answer shows its text with its lists, bold and code', async () => {
  const conv = await importedChat(sample('gemini-takeout/MyActivity-a.json'), 'How do I reverse a list in Python');
  assert.equal(
    await sqlValue(`SELECT content_type FROM messages WHERE conversation_id = :'p1' AND sender_type = 'ai'`, conv.id),
    'text/html',
    'the Gemini answer is not stored as HTML',
  );
  const share = await shareConv(owner, conv.id, {});
  const page = assertHtml(await publicPage(share.token), 200);
  const answer = answerOf(page);

  assert.ok(answer.includes('<p>Two common ways:</p>'), `the answer's first paragraph is missing: ${answer}`);
  assert.ok(answer.includes('<ol><li><p><strong>In place</strong> with <code>list.reverse()</code>'),
    `the answer's numbered list, bold and code are missing: ${answer}`);
  assert.ok(answer.includes('<strong>A reversed copy</strong>'), answer);
  assert.ok(answer.includes('<pre><code>nums = [1, 2, 3]\nnums.reverse()\nprint(nums)  # [3, 2, 1]\n</code></pre>'),
    `the code block is missing or changed: ${answer}`);
  assert.ok(answer.includes('Use <code>reversed(nums)</code> when you only need to iterate.'), answer);
  // Its attributes (the code's class) are not kept.
  assert.ok(!answer.includes('class='), answer);
  // The user's prompt is still Markdown, shown as text.
  assert.ok(page.includes('How do I reverse a list in Python? Show two ways.'), 'the prompt is missing');

  // The JSON variant (the API's share content): the answer as stored, with its type.
  const body = assertJson(await api('GET', `/shares/${share.token}`, owner), 200);
  assert.deepEqual(body.messages.map((m) => [m.role, m.content_type]), [['user', 'text/markdown'], ['ai', 'text/html']]);
  assert.ok(body.messages[1].content.includes('<code class="language-python">'), body.messages[1].content);
});

test('a hostile answer on a share page shows its text, and no script, event handler or javascript: link', async () => {
  const title = `Hostile ${uniq()}`;
  const hostile =
    '<p>Safe <b>words</b></p><script>alert(1)</script><img src=x onerror=alert(1)>' +
    '<a href="javascript:alert(1)">click</a> <a href=" JaVaScRiPt:alert(2)">two</a>' +
    '<p onmouseover="alert(3)" style="color:red">styled</p><iframe src="https://example.org">framed</iframe>' +
    '<a href="https://example.org/a?b=1&amp;c=2" onclick="alert(4)">fine link</a>';
  const activity = [{
    header: 'Gemini Apps',
    title: `Prompted ${title}`,
    time: '2026-03-06T10:00:00.000Z',
    products: ['Gemini Apps'],
    safeHtmlItem: [{ html: hostile }],
  }];
  const conv = await importedChat(Buffer.from(JSON.stringify(activity)), title);
  assert.equal(
    await sqlValue(`SELECT content FROM messages WHERE conversation_id = :'p1' AND sender_type = 'ai'`, conv.id),
    hostile,
    'the answer is not stored as written',
  );
  const share = await shareConv(owner, conv.id, {});
  const res = await publicPage(share.token);
  const page = assertHtml(res, 200);
  const answer = answerOf(page);

  assert.ok(answer.includes('<p>Safe <b>words</b></p>'), `the answer's text is missing: ${answer}`);
  assert.ok(answer.includes('click') && answer.includes('two') && answer.includes('<p>styled</p>'), answer);
  assert.ok(answer.includes('<a href="https://example.org/a?b=1&amp;c=2" rel="nofollow noopener">fine link</a>'),
    `the https link is missing: ${answer}`);
  for (const tag of tags(page)) {
    assert.doesNotMatch(tag, /^<(script|img|iframe)\b/i, `the page has ${tag}`);
    assert.doesNotMatch(tag, /\son[a-z]+\s*=/i, `the page has an event handler: ${tag}`);
    assert.doesNotMatch(tag, /javascript:/i, `the page has a javascript: URL: ${tag}`);
    assert.doesNotMatch(tag, /\sstyle\s*=/i, `the page has a style attribute: ${tag}`);
  }
  assert.ok(!page.includes('alert('), 'the script text reached the page');
  assert.ok(!page.includes('framed'), "the iframe's content reached the page");
  // Still no script allowed by the page itself.
  assert.match(res.headers.get('content-security-policy'), /default-src 'none'/);
  assert.doesNotMatch(res.headers.get('content-security-policy'), /script-src/);
});
