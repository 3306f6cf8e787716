// The catalog page (#/catalog) in a real browser against a running site
// (AICHAT_URL). Needs the seeded users demo/demo and admin/admin, the demo
// catalog (GPT-4o mini, Claude 3.5 Sonnet, …), and a provider configured
// without an API key, named `nokey` (AICHAT_NOKEY_PROVIDER overrides the
// name). Every test puts back what it changed (favourites, created tools).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { apiAs, assertNoPageErrors, baseUrl, launch, newPage, signIn, unique, url, WAIT_MS } from './lib.mjs';

const NOKEY_PROVIDER = process.env.AICHAT_NOKEY_PROVIDER || 'nokey';
const CARD = '[data-testid="tool-card"]';
const GPT_MINI = 'gpt-4o-mini';
const CLAUDE = 'claude-3-5-sonnet';

const card = (page, slug) => page.locator(`${CARD}[data-slug="${slug}"]`);
const categoryFilter = (page, id) => page.locator(`[data-testid="category-filter"][data-category="${id}"]`);

/** GET on the API with the page's session (the user signed in in that page). */
async function apiGet(page, path) {
  const res = await page.request.get(url(`/chat/api/v1${path}`));
  assert.equal(res.status(), 200, `GET ${path}`);
  return res.json();
}

/** Every tool GET /tools returns for these filters (one page of up to 100). */
async function listTools(page, params = {}) {
  const qs = new URLSearchParams({ limit: '100', ...params }).toString().replace(/\+/g, '%20');
  const body = await apiGet(page, `/tools?${qs}`);
  assert.equal(body.next, null, 'the catalog fits in one page of 100 (the test compares whole lists)');
  return body.items;
}

/** PUT or DELETE a favourite as the page's user, outside the UI (setup and clean-up). */
async function setFavorite(page, slug, on) {
  const res = await page.request.fetch(url(`/chat/api/v1/tools/${slug}/favorite`), {
    method: on ? 'PUT' : 'DELETE',
    headers: { Origin: baseUrl() },
  });
  assert.equal(res.status(), 200, `${on ? 'PUT' : 'DELETE'} favourite ${slug}`);
}

/** The data-slug of every card on the page, in order. */
async function cardSlugs(page) {
  return page.locator(CARD).evaluateAll((cards) => cards.map((c) => c.dataset.slug));
}

/** Wait until the grid has settled on exactly these slugs (in this order when `ordered`). */
async function waitForSlugs(page, expected, { ordered = false } = {}) {
  const want = ordered ? expected : [...expected].sort();
  try {
    await page.waitForFunction(
      ([sel, wanted, keepOrder]) => {
        const grid = document.getElementById('catalog-results');
        if (!grid || grid.hasAttribute('aria-busy')) return false;
        const got = [...document.querySelectorAll(sel)].map((c) => c.dataset.slug);
        if (!keepOrder) got.sort();
        return JSON.stringify(got) === JSON.stringify(wanted);
      },
      [CARD, want, ordered],
      { timeout: WAIT_MS },
    );
  } catch {
    const got = await cardSlugs(page);
    assert.deepEqual(ordered ? got : got.sort(), want, `cards shown on ${page.url()}`);
  }
}

/** Sign in as demo and open the catalog through the navigation bar. */
async function openCatalog(page) {
  await signIn(page, 'demo', 'demo');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Catalog', exact: true }).click();
  await page.getByRole('heading', { name: 'Catalog', level: 1 }).waitFor();
  assert.equal(new URL(page.url()).hash, '#/catalog');
}

/** Type into the search box key by key, as a person would (exercises the debounce and cancellation). */
async function typeSearch(page, text) {
  const search = page.getByLabel('Search models');
  await search.fill('');
  await search.pressSequentially(text, { delay: 40 });
}

function hashQuery(page) {
  const hash = new URL(page.url()).hash;
  const i = hash.indexOf('?');
  return new URLSearchParams(i === -1 ? '' : hash.slice(i + 1));
}

/** Create a tool through the admin API; returns the API's tool object. */
async function createTool(fields) {
  const res = await apiAs('admin', 'admin', 'POST', '/admin/tools', fields);
  assert.equal(res.status, 201, `POST /admin/tools: ${res.text}`);
  return res.json;
}

async function deleteTool(slug) {
  const res = await apiAs('admin', 'admin', 'DELETE', `/admin/tools/${slug}`);
  assert.equal(res.status, 204, `DELETE /admin/tools/${slug}: ${res.text}`);
}

describe('the catalog', () => {
  let browser;

  before(async () => {
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
  });

  test('search as you type, star a model, find it under Favourites, un-star it', async () => {
    const { context, page, errors } = await newPage(browser);
    let wasFavorite = null;
    try {
      await signIn(page, 'demo', 'demo');
      const gpt = await apiGet(page, `/tools/${GPT_MINI}`);
      wasFavorite = gpt.favorite;
      if (wasFavorite) await setFavorite(page, GPT_MINI, false);

      const navLabels = await page
        .getByRole('navigation', { name: 'Main' })
        .getByRole('link')
        .evaluateAll((links) => links.map((a) => a.textContent.trim()));
      assert.deepEqual(navLabels.slice(0, 2), ['Chat', 'Catalog'], 'Catalog follows Chat');

      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Catalog', exact: true }).click();
      await page.getByRole('heading', { name: 'Catalog', level: 1 }).waitFor();
      const link = page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Catalog', exact: true });
      assert.equal(await link.getAttribute('aria-current'), 'page');
      await card(page, GPT_MINI).waitFor();
      assert.equal(await categoryFilter(page, 'all').getAttribute('aria-pressed'), 'true');

      // Part of a model name, in another case than the catalog's.
      const q = 'GPT-4o';
      const matching = await listTools(page, { q });
      const slugs = matching.map((t) => t.slug);
      assert.ok(slugs.includes(GPT_MINI), `the API finds ${GPT_MINI} for "${q}"`);
      assert.ok(!slugs.includes(CLAUDE), `the API does not find ${CLAUDE} for "${q}"`);
      for (const t of matching) {
        const haystack = [t.name, t.display_name, t.slug, t.description].join('\n').toLowerCase();
        assert.ok(haystack.includes(q.toLowerCase()), `${t.slug} matches "${q}"`);
      }
      await typeSearch(page, q);
      await waitForSlugs(page, slugs);
      assert.equal(hashQuery(page).get('q'), q, 'the hash keeps the search');
      await card(page, GPT_MINI).getByTestId('tool-name').waitFor();
      assert.equal((await card(page, GPT_MINI).getByTestId('tool-name').textContent()).trim(), gpt.display_name);
      const model = await card(page, GPT_MINI).getByTestId('tool-model').textContent();
      assert.ok(model.includes(gpt.provider) && model.includes(gpt.model_id), `provider and model id shown: ${model}`);
      if (gpt.available) {
        assert.equal(
          await card(page, GPT_MINI).getByRole('link', { name: 'Start a chat' }).getAttribute('href'),
          `#/chat?tool=${GPT_MINI}`,
        );
      }

      // A reload restores the search.
      await page.reload();
      await page.getByRole('heading', { name: 'Catalog', level: 1 }).waitFor();
      assert.equal(await page.getByLabel('Search models').inputValue(), q);
      await waitForSlugs(page, slugs);

      // Star it: the star turns on at once and the server agrees.
      const star = card(page, GPT_MINI).getByRole('button', { name: `Favourite ${gpt.display_name}`, exact: true });
      assert.equal(await star.getAttribute('aria-pressed'), 'false');
      const put = page.waitForResponse(
        (r) => r.request().method() === 'PUT' && r.url().endsWith(`/tools/${GPT_MINI}/favorite`),
      );
      await star.click();
      assert.equal(await star.getAttribute('aria-pressed'), 'true', 'the star turns on before the server answers');
      assert.equal((await put).status(), 200);
      assert.equal((await apiGet(page, `/tools/${GPT_MINI}`)).favorite, true);
      const favs = (await apiGet(page, '/me/favorites')).items.map((t) => t.slug);
      assert.ok(favs.includes(GPT_MINI), 'GET /me/favorites lists it');

      // Favourites shows it (the search still applies).
      await categoryFilter(page, 'favorites').click();
      assert.equal(await categoryFilter(page, 'favorites').getAttribute('aria-pressed'), 'true');
      const favMatching = (await listTools(page, { q, favorites: 'true' })).map((t) => t.slug);
      assert.ok(favMatching.includes(GPT_MINI));
      await waitForSlugs(page, favMatching);
      assert.equal(hashQuery(page).get('category'), 'favorites', 'the hash keeps the category');

      // And a reload keeps Favourites selected.
      await page.reload();
      await page.getByRole('heading', { name: 'Catalog', level: 1 }).waitFor();
      await waitForSlugs(page, favMatching);
      assert.equal(await categoryFilter(page, 'favorites').getAttribute('aria-pressed'), 'true');

      // Un-star it.
      const del = page.waitForResponse(
        (r) => r.request().method() === 'DELETE' && r.url().endsWith(`/tools/${GPT_MINI}/favorite`),
      );
      await star.click();
      assert.equal(await star.getAttribute('aria-pressed'), 'false');
      assert.equal((await del).status(), 200);
      assert.equal((await apiGet(page, `/tools/${GPT_MINI}`)).favorite, false);
      assertNoPageErrors(errors);
    } finally {
      if (wasFavorite !== null) await setFavorite(page, GPT_MINI, wasFavorite).catch(() => {});
      await context.close();
    }
  });

  test('a model an admin adds shows up in the catalog, its text shown as text', async () => {
    const slug = unique('catalog-test');
    const displayName = `Catalog Test ${slug.slice('catalog-test-'.length)}`;
    const description = '<b>Not bold</b> <img src=x onerror="window.__pwned=1"> added by the browser test';
    let created = false;
    const { context, page, errors } = await newPage(browser);
    try {
      const tool = await createTool({
        slug,
        name: slug,
        display_name: displayName,
        provider: 'openai',
        model_id: 'gpt-4o-mini',
        description,
      });
      created = true;
      assert.equal(tool.slug, slug);

      await openCatalog(page);
      await typeSearch(page, displayName.toLowerCase());
      await waitForSlugs(page, [slug]);

      const c = card(page, slug);
      assert.equal((await c.getByTestId('tool-name').textContent()).trim(), displayName);
      assert.equal((await c.getByTestId('tool-description').textContent()).trim(), description);
      assert.equal(await c.locator('b, img').count(), 0, 'markup in the description is not rendered');
      assert.equal(await page.evaluate(() => window.__pwned ?? null), null);
      assert.match(await c.getByTestId('tool-model').textContent(), /gpt-4o-mini/);
      const start = c.getByTestId('start-chat');
      if (tool.available) {
        assert.equal(await start.getAttribute('href'), `#/chat?tool=${slug}`);
      } else {
        assert.equal(await start.getAttribute('aria-disabled'), 'true');
      }
      assertNoPageErrors(errors);
    } finally {
      await context.close();
      if (created) await deleteTool(slug);
    }
  });

  test(`a model whose provider (${NOKEY_PROVIDER}) has no API key is greyed out with the reason`, async () => {
    const slug = unique('catalog-nokey');
    const displayName = `No Key ${slug.slice('catalog-nokey-'.length)}`;
    let created = false;
    const { context, page, errors } = await newPage(browser);
    try {
      const tool = await createTool({
        slug,
        name: slug,
        display_name: displayName,
        provider: NOKEY_PROVIDER,
        model_id: 'nokey-model',
        description: 'A model whose provider has no key.',
      });
      created = true;
      assert.equal(tool.available, false, `the API reports a ${NOKEY_PROVIDER} tool as unavailable`);

      await openCatalog(page);
      await typeSearch(page, slug);
      await waitForSlugs(page, [slug]);

      const c = card(page, slug);
      assert.equal(await c.getAttribute('data-available'), 'false');
      assert.match(await c.getAttribute('class'), /\bis-unavailable\b/, 'the card is greyed out');
      const reason = c.getByTestId('tool-unavailable');
      assert.ok(await reason.isVisible(), 'the reason is visible');
      const reasonText = (await reason.textContent()).trim();
      assert.match(reasonText, /key/i, 'the reason mentions the missing key');
      if (tool.unavailable_reason) {
        assert.ok(reasonText.includes(tool.unavailable_reason), `the server's reason is shown: ${reasonText}`);
      }

      const start = c.getByTestId('start-chat');
      assert.equal(await start.getAttribute('aria-disabled'), 'true');
      assert.equal(await start.evaluate((el) => el.tagName === 'A' || el.hasAttribute('href')), false, 'not a link');
      assert.equal(await c.getByRole('link', { name: 'Start a chat', disabled: false }).count(), 0);
      assertNoPageErrors(errors);
    } finally {
      await context.close();
      if (created) await deleteTool(slug);
    }
  });

  test('a favourite the server refuses turns the star back off and says so', async () => {
    const { context, page, errors } = await newPage(browser);
    try {
      await openCatalog(page);
      await typeSearch(page, GPT_MINI);
      await card(page, GPT_MINI).waitFor();
      const gpt = await apiGet(page, `/tools/${GPT_MINI}`);
      const before = gpt.favorite;

      // Hold the request until the optimistic state has been seen, then fail it.
      let release;
      const held = new Promise((resolve) => {
        release = resolve;
      });
      const favoriteUrl = (u) => u.pathname.endsWith(`/api/v1/tools/${GPT_MINI}/favorite`);
      await page.route(
        favoriteUrl,
        async (route) => {
          await held;
          await route.fulfill({
            status: 500,
            contentType: 'application/json',
            body: JSON.stringify({ error: { code: 'internal', message: 'Simulated failure.' } }),
          });
        },
      );

      const star = card(page, GPT_MINI).getByTestId('favorite-toggle');
      await star.click();
      assert.equal(await star.getAttribute('aria-pressed'), String(!before), 'optimistic toggle');
      release();
      await page.waitForFunction(
        ([sel, want]) => document.querySelector(sel)?.getAttribute('aria-pressed') === want,
        [`${CARD}[data-slug="${GPT_MINI}"] [data-testid="favorite-toggle"]`, String(before)],
        { timeout: WAIT_MS },
      );
      const message = page.getByTestId('catalog-message');
      await message.waitFor({ state: 'visible' });
      assert.match(await message.textContent(), /Simulated failure\./);
      assert.equal(await message.getAttribute('role'), 'alert');
      await page.unroute(favoriteUrl);
      assert.equal((await apiGet(page, `/tools/${GPT_MINI}`)).favorite, before, 'the server state is unchanged');
      assertNoPageErrors(errors);
    } finally {
      await context.close();
    }
  });

  test('Load more follows the cursor; sort by name; an unmatched search says so', async () => {
    const { context, page, errors } = await newPage(browser);
    try {
      // Pages of two, so the demo catalog needs several of them.
      await page.route(
        (u) => u.pathname.endsWith('/api/v1/tools'),
        (route) => {
          const u = new URL(route.request().url());
          u.searchParams.set('limit', '2');
          route.continue({ url: u.href });
        },
      );
      await openCatalog(page);
      const all = (await listTools(page)).map((t) => t.slug);
      assert.ok(all.length > 4, 'the demo catalog has more than two pages of two');

      await waitForSlugs(page, all.slice(0, 2), { ordered: true });
      const more = page.getByTestId('load-more');
      for (let shown = 2; shown < all.length; shown += 2) {
        await more.click();
        await waitForSlugs(page, all.slice(0, Math.min(shown + 2, all.length)), { ordered: true });
      }
      // A full last page may still carry a cursor; following it finds nothing more.
      if (await more.isVisible()) {
        await more.click();
        await page.waitForFunction(() => document.querySelector('[data-testid="load-more"]')?.hidden === true);
        await waitForSlugs(page, all, { ordered: true });
      }
      assert.equal(await more.isVisible(), false, 'no Load more once everything is shown');

      const byName = (await listTools(page, { sort: 'name' })).map((t) => t.slug);
      await page.getByLabel('Sort by').selectOption({ label: 'Name' });
      await waitForSlugs(page, byName.slice(0, 2), { ordered: true });
      assert.equal(hashQuery(page).get('sort'), 'name');

      const nonsense = unique('zz-no-such-model');
      await typeSearch(page, nonsense);
      await waitForSlugs(page, []);
      const empty = page.getByTestId('catalog-empty');
      await empty.waitFor({ state: 'visible' });
      assert.match(await empty.textContent(), new RegExp(`No models match “${nonsense}”`));
      await page.getByRole('button', { name: 'Clear search' }).click();
      await waitForSlugs(page, byName.slice(0, 2), { ordered: true });
      assert.equal(hashQuery(page).get('q'), null);
      assertNoPageErrors(errors);
    } finally {
      await context.close();
    }
  });
});
