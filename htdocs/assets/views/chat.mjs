// Chat: #/chat (new chat), #/chat?tool=<slug> (new chat with that model
// picked, from the catalog's "Start a chat") and #/chat/<id> (a conversation).
//
// - Sidebar (chat/sidebar.mjs): New chat, search over titles, pinned chats
//   first, Load more.
// - New chat: pick one model, or several for a group chat (each answers in
//   turn), and optionally invite people by username. Nothing is created
//   until the first message is sent: then POST /conversations, the invites
//   (POST …/participants), and the message. The hash becomes #/chat/<id>
//   through history.replaceState, so the stream is not interrupted by a
//   re-render. If the message cannot be stored (e.g. 402), the empty
//   conversation is deleted again and the text stays in the composer.
// - Sending streams the answer (chat/stream.mjs: fetch + ReadableStream +
//   SSE parser); each delta re-renders the accumulated text as Markdown
//   (chat/markdown.mjs), at most once per animation frame. Stop aborts the
//   fetch; the server keeps what was written as "incomplete".
// - Messages (chat/message.mjs): sender, token use, status, ‹ n/m › between
//   versions (PUT …/active), Edit for your own messages (a new sibling, sent
//   with parent_id = the edited message's parent) and Regenerate for answers.
// - Share (the owner only) opens the Share dialog (chat/share.mjs): a link
//   to a snapshot of the chat, public or for signed-in users, with an expiry.
// - A chat none of whose models can answer (an import whose model is not in
//   the catalog) offers its owner a model to continue with (chat/continue.mjs).
// - Prompts and templates (chat/prompts.mjs): the composer's prompt list
//   (Prompts, or "/" and a title), "Save as prompt" under messages, the
//   template form (Templates, or #/chat?template=<id>) sent through the turn.
// - The header's credit balance follows the `end` event's credits (or GET
//   /me when a stream ended without it).
//
// Everything from the server goes in as text, except rendered Markdown,
// which only ever arrives as a DOMPurify-sanitised fragment.

import { api, del, get, getAll, patch, post, isAbort } from '../api.mjs';
import { h, replaceChildren, setMessage } from '../dom.mjs';
import { hrefFor } from '../router.mjs';
import { session } from '../session.mjs';
import { loadCodeTheme } from './chat/markdown.mjs';
import { createHistory } from './chat/history.mjs';
import { createModelChoice } from './chat/continue.mjs';
import { createMessageView, senderName } from './chat/message.mjs';
import { createPromptTools } from './chat/prompts.mjs';
import { createShareDialog } from './chat/share.mjs';
import { createSidebar, conversationTitle } from './chat/sidebar.mjs';
import { createOrganise, highlightMessage, openAt } from './chat/organise.mjs';
import { createExportLinks, sourceName } from './chat/export.mjs';
import { streamPost } from './chat/stream.mjs';

const MODEL_FILTER_MIN = 8; // show a filter box over the model list from this many models
const SYNC_AFTER_STOP_MS = 400; // give the server a moment to record a stopped answer
const BOTTOM_SLACK_PX = 120; // "at the bottom" for auto-scrolling while an answer streams

/** A non-empty trimmed string from the server, or ''. */
function str(value) {
  return typeof value === 'string' ? value.trim() : '';
}

function toolName(tool) {
  return str(tool?.display_name) || str(tool?.name) || str(tool?.slug);
}

/** "alice, bob carol" → ['alice', 'bob', 'carol'] (unique, without me). */
function parseUsernames(text, me) {
  const names = String(text ?? '')
    .split(/[\s,;]+/)
    .map((s) => s.trim().replace(/^@/, ''))
    .filter(Boolean);
  return [...new Set(names)].filter((n) => n !== me);
}

/** A clear sentence for an error that stopped a message from being sent. */
function describeError(err) {
  const message = str(err?.message);
  switch (err?.code) {
    case 'insufficient_credits':
      return `Not enough credits for this message. ${message} Ask an administrator for more credits.`;
    case 'provider_rate_limited': {
      const wait = Number.isFinite(err.retryAfter) ? ` Try again in ${err.retryAfter} s.` : ' Try again in a moment.';
      return `The model's provider is rate-limiting requests.${wait}`;
    }
    case 'message_too_long':
    case 'context_too_long':
      return message || 'The message is too long.';
    case 'network':
      return message || 'Could not reach the server.';
    default:
      break;
  }
  if (err?.status === 429) {
    const wait = Number.isFinite(err.retryAfter) ? ` Try again in ${err.retryAfter} s.` : ' Try again in a moment.';
    return `Too many requests.${wait}`;
  }
  if (err?.status === 502 || err?.status === 504 || String(err?.code).startsWith('provider_')) {
    return `The model's provider failed: ${message || 'no answer.'}`;
  }
  if (err?.status === 503) return 'The service is temporarily unavailable. Try again in a moment.';
  return message || 'Something went wrong.';
}

function nearBottom() {
  const doc = document.documentElement;
  return window.innerHeight + window.scrollY >= doc.scrollHeight - BOTTOM_SLACK_PX;
}

function scrollToBottom() {
  window.scrollTo({ top: document.documentElement.scrollHeight });
}

export async function render({ outlet, params, query, signal, navigate, setTitle }) {
  loadCodeTheme();

  const me = session.user;
  let conv = null; // the conversation, once it exists
  let thread = []; // the active path, root first
  const views = new Map(); // message id → message view
  let turn = null; // { controller } while an answer streams
  let editing = null; // { id, close } while a message is being edited
  const stopped = new Set(); // answers stopped here (shown as Stopped even before the server catches up)
  let tools = []; // GET /tools (new chat)
  let syncTimer = 0;

  // ---- Elements -----------------------------------------------------------

  const organise = createOrganise({ signal });
  const sidebar = createSidebar({
    signal,
    currentId: params.id ?? null,
    onNewChat: () => navigate('/chat'),
    listParams: organise.listParams,
    decorate: organise.decorate,
  });
  organise.attach(sidebar);

  const title = h('h1', { id: 'chat-title', class: 'chat-title', 'data-testid': 'chat-title' }, 'New chat');
  const subtitle = h('p', { class: 'chat-subtitle muted', 'data-testid': 'chat-subtitle' });
  const shareDialog = createShareDialog({ signal });
  const shareButton = h(
    'button',
    { type: 'button', class: 'button small', 'aria-haspopup': 'dialog', 'data-testid': 'share-chat', hidden: true },
    'Share',
  );
  const pinButton = h('button', { type: 'button', class: 'button small', 'data-testid': 'pin-chat', hidden: true }, 'Pin');
  const exportLinks = createExportLinks();
  const deleteButton = h(
    'button',
    { type: 'button', class: 'button small danger', 'data-testid': 'delete-chat', hidden: true },
    'Delete',
  );
  const head = h(
    'header',
    { class: 'chat-head' },
    h('div', { class: 'chat-head-text' }, title, subtitle),
    h('div', { class: 'chat-head-actions' }, exportLinks.el, shareButton, pinButton, deleteButton),
  );

  // New chat: model picker and invitations.
  const modelFilter = h('input', {
    id: 'chat-model-filter',
    type: 'search',
    autocomplete: 'off',
    placeholder: 'Filter models',
    'aria-controls': 'chat-models',
    hidden: true,
  });
  const modelList = h('ul', { id: 'chat-models', class: 'model-picker-list', 'data-testid': 'model-picker' });
  const modelStatus = h('p', { class: 'hint', role: 'status' }, 'Loading models…');
  const groupHint = h(
    'p',
    { class: 'hint', 'data-testid': 'group-hint', hidden: true },
    'Group chat: the models answer in turn, each seeing the earlier answers; answers are kept short (280 characters).',
  );
  const inviteInput = h('input', {
    id: 'chat-invite',
    type: 'text',
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: 'usernames, separated by commas',
    'aria-describedby': 'chat-invite-hint',
    'data-testid': 'chat-invite',
  });
  const setup = h(
    'section',
    { class: 'chat-setup', 'aria-labelledby': 'chat-setup-title', 'data-testid': 'chat-setup', hidden: true },
    h('h2', { id: 'chat-setup-title' }, 'Start a new chat'),
    h('p', { class: 'muted' }, 'Pick a model, or several for a group chat, then send your first message.'),
    h(
      'fieldset',
      { class: 'model-picker' },
      h('legend', {}, 'Models'),
      h('label', { for: 'chat-model-filter', class: 'visually-hidden' }, 'Filter models'),
      modelFilter,
      modelStatus,
      modelList,
      groupHint,
    ),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'chat-invite' }, 'Invite people (optional)'),
      inviteInput,
      h('p', { id: 'chat-invite-hint', class: 'hint' }, 'Invited people can read this chat and write in it.'),
    ),
  );

  const threadEl = h('div', { class: 'chat-thread', 'data-testid': 'chat-thread' });
  const threadEmpty = h('p', { class: 'chat-thread-empty muted', hidden: true }, 'No messages yet. Say hello below.');
  const notice = h('div', { class: 'chat-notice form-error', role: 'alert', 'data-testid': 'chat-error', hidden: true });
  const announcer = h('p', { class: 'visually-hidden', role: 'status', 'data-testid': 'chat-status' });
  const modelChoice = createModelChoice({
    signal,
    onChosen: (updated) => {
      conv = updated;
      drawHead();
      input.focus();
    },
  });
  const historyPanel = createHistory({ signal, threadEl, navigate, onError: (text) => showNotice(text), onSummary: () => sidebar.refresh() });

  const input = h('textarea', {
    id: 'chat-input',
    name: 'content',
    rows: '2',
    class: 'chat-input',
    placeholder: 'Write a message…',
    'aria-describedby': 'chat-input-hint',
    'data-testid': 'chat-input',
  });
  const sendButton = h('button', { type: 'submit', class: 'button primary', 'data-testid': 'send' }, 'Send');
  const stopButton = h(
    'button',
    { type: 'button', class: 'button', 'data-testid': 'stop', hidden: true, onclick: () => turn?.controller.abort() },
    'Stop',
  );
  const composer = h(
    'form',
    { class: 'chat-composer', 'aria-label': 'Send a message', 'data-testid': 'composer' },
    h('label', { for: 'chat-input', class: 'visually-hidden' }, 'Message'),
    input,
    h(
      'div',
      { class: 'chat-composer-bar' },
      h('p', { id: 'chat-input-hint', class: 'hint' }, 'Enter to send, Shift+Enter for a new line.'),
      h('div', { class: 'chat-composer-buttons' }, stopButton, sendButton),
    ),
  );

  const main = h(
    'section',
    { class: 'chat-main', 'aria-labelledby': 'chat-title' },
    head,
    historyPanel.el,
    setup,
    threadEl,
    threadEmpty,
    notice,
    announcer,
    modelChoice.el,
    composer,
    shareDialog.el,
  );

  replaceChildren(outlet, h('div', { class: 'chat-page', 'data-testid': 'chat-page' }, sidebar.el, main));

  const promptTools = createPromptTools({
    input,
    composer,
    signal,
    conversation: () => conv,
    pickedModels: () => selectedTools(),
    pickModel: (slug) => {
      const boxes = [...modelList.querySelectorAll('input[type="checkbox"]')];
      for (const box of boxes) box.checked = box.value === slug;
      return boxes.some((box) => box.checked);
    },
    sendTemplate: (turnArgs) => submitTurn(turnArgs),
    showNotice,
  });
  composer.querySelector('.chat-composer-buttons').prepend(...promptTools.buttons);

  // ---- Helpers ------------------------------------------------------------

  const isGroup = () => (conv ? conv.is_group === true : selectedTools().length > 1);
  const isBusy = () => turn !== null;

  function showNotice(text) {
    setMessage(notice, text);
  }

  function announce(text) {
    announcer.textContent = text;
  }

  function selectedTools() {
    return [...modelList.querySelectorAll('input[type="checkbox"]:checked')].map((c) => c.value);
  }

  function drawHead() {
    if (!conv) {
      title.textContent = 'New chat';
      subtitle.textContent = '';
      subtitle.hidden = true;
      shareButton.hidden = true;
      exportLinks.set(null);
      pinButton.hidden = true;
      deleteButton.hidden = true;
      setTitle('New chat');
      return;
    }
    const name = conversationTitle(conv);
    title.textContent = conv.title ? name : 'New chat';
    setTitle(conv.title ? name : 'Chat');
    const models = (conv.tools ?? []).map(toolName).filter(Boolean);
    const others = (conv.participants ?? []).filter((p) => p.username !== me.username).map((p) => str(p.display_name) || p.username);
    const parts = [];
    if (conv.is_group) parts.push(`Group chat with ${models.join(', ')}`);
    else if (models.length) parts.push(models[0]);
    if (others.length) parts.push(`People: ${others.join(', ')}`);
    if (!conv.is_owner && conv.owner) parts.push(`Owned by ${conv.owner}`);
    if (conv.source === 'share') parts.push('Continued from a shared link');
    if (sourceName(conv)) parts.push(`Imported from ${sourceName(conv)}`);
    exportLinks.set(conv);
    subtitle.textContent = parts.join(' · ');
    subtitle.hidden = parts.length === 0;
    shareButton.hidden = !conv.is_owner;
    pinButton.hidden = !conv.is_owner;
    pinButton.textContent = conv.pinned ? 'Unpin' : 'Pin';
    pinButton.setAttribute('aria-pressed', String(conv.pinned === true));
    deleteButton.hidden = !conv.is_owner;
    input.placeholder = conv.is_group ? 'Message the group…' : `Message ${models[0] || 'the model'}…`;
  }

  function setBusy(busy) {
    stopButton.hidden = !busy;
    sendButton.disabled = busy;
    threadEl.toggleAttribute('aria-busy', busy);
    for (const view of views.values()) view.setBusy(busy);
    for (const box of modelList.querySelectorAll('input')) box.disabled = busy || conv !== null;
  }

  function addMessage(msg) {
    const view = createMessageView(msg, {
      me,
      isGroup,
      isBusy,
      onEdit: (m) => startEdit(m),
      onRegenerate: (m) => regenerate(m),
      onSibling: (m, delta) => showSibling(m, delta),
      onDeleteBranch: conv?.is_owner ? async (m) => (await historyPanel.deleteBranch(m)) && loadConversation(conv.id) : null,
    });
    views.set(msg.id, view);
    promptTools.decorate(view);
    threadEl.append(view.el);
    threadEmpty.hidden = true;
    return view;
  }

  function renderThread() {
    editing = null;
    views.clear();
    threadEl.replaceChildren();
    for (const msg of thread) {
      addMessage(stopped.has(msg.id) && msg.status === 'streaming' ? { ...msg, status: 'incomplete' } : msg);
    }
    threadEmpty.hidden = thread.length > 0 || conv === null;
    historyPanel.highlight();
  }

  /** Replace a message in the thread (and its view), e.g. the pending user message by the stored one. */
  function replaceMessage(oldId, msg) {
    const i = thread.findIndex((m) => m.id === oldId);
    if (i !== -1) thread[i] = msg;
    const view = views.get(oldId);
    if (view) {
      views.delete(oldId);
      views.set(msg.id, view);
      view.update(msg);
      promptTools.decorate(view);
    }
  }

  // ---- New chat: models ---------------------------------------------------

  function modelItem(tool, checked) {
    const slug = str(tool.slug);
    const id = `chat-model-${slug}`;
    const box = h('input', { type: 'checkbox', id, name: 'tools', value: slug, 'aria-describedby': `${id}-desc` });
    box.checked = checked;
    box.addEventListener('change', () => {
      groupHint.hidden = selectedTools().length < 2;
      updatePlaceholder();
    });
    const provider = [str(tool.provider), str(tool.model_id)].filter(Boolean).join(' · ');
    return h(
      'li',
      { class: 'model-option', 'data-slug': slug, 'data-testid': 'model-option' },
      box,
      h('label', { for: id }, toolName(tool)),
      h('span', { id: `${id}-desc`, class: 'model-option-meta' }, provider),
    );
  }

  function updatePlaceholder() {
    if (conv) return;
    const chosen = selectedTools();
    const byslug = new Map(tools.map((t) => [t.slug, t]));
    input.placeholder =
      chosen.length > 1
        ? 'Message the group…'
        : chosen.length === 1
          ? `Message ${toolName(byslug.get(chosen[0]))}…`
          : 'Write a message…';
  }

  async function loadTools() {
    try {
      tools = (await getAll('tools?limit=100&sort=popularity', { signal })).filter(
        (t) => str(t.slug) && t.available !== false,
      );
    } catch (err) {
      if (isAbort(err) || err?.code === 'unauthenticated') return;
      modelStatus.textContent = `The models could not be loaded: ${err.message}`;
      return;
    }
    const wanted = query.get('tool');
    let preset = tools.find((t) => t.slug === wanted)?.slug;
    if (wanted && !preset) showNotice(`The model “${wanted}” is not available; pick another one.`);
    preset ??= tools[0]?.slug;
    replaceChildren(modelList, tools.map((t) => modelItem(t, t.slug === preset)));
    modelStatus.textContent = tools.length ? '' : 'No models are available yet.';
    modelStatus.hidden = tools.length > 0;
    modelFilter.hidden = tools.length < MODEL_FILTER_MIN;
    groupHint.hidden = selectedTools().length < 2;
    updatePlaceholder();
  }

  modelFilter.addEventListener('input', () => {
    const words = modelFilter.value.trim().toLowerCase();
    for (const li of modelList.children) {
      const tool = tools.find((t) => t.slug === li.dataset.slug);
      const hay = [toolName(tool), tool?.slug, tool?.provider, tool?.model_id].join(' ').toLowerCase();
      li.hidden = words !== '' && !hay.includes(words) && !li.querySelector('input').checked;
    }
  });

  /** POST /conversations with the picked models, then the invitations. False (and a notice) on failure. */
  async function createConversation() {
    const slugs = selectedTools();
    if (slugs.length === 0) {
      showNotice('Pick at least one model to chat with.');
      modelList.querySelector('input')?.focus();
      return false;
    }
    try {
      conv = await post('conversations', { tools: slugs }, { signal });
    } catch (err) {
      if (isAbort(err) || err?.code === 'unauthenticated') return false;
      showNotice(`The chat could not be created: ${describeError(err)}`);
      return false;
    }
    const failed = [];
    for (const username of parseUsernames(inviteInput.value, me.username)) {
      try {
        conv = await post(`conversations/${encodeURIComponent(conv.id)}/participants`, { username }, { signal });
      } catch (err) {
        if (isAbort(err)) return false;
        failed.push(`${username} (${err.message})`);
      }
    }
    if (failed.length) showNotice(`Could not invite ${failed.join(', ')}.`);
    history.replaceState(history.state, '', hrefFor(`/chat/${conv.id}`));
    setup.hidden = true;
    sidebar.setCurrent(conv.id);
    sidebar.upsert(conv);
    drawHead();
    return true;
  }

  /** Back to the new-chat form after the first message could not be stored. */
  async function discardConversation(created) {
    const id = created.id;
    conv = null;
    thread = [];
    renderThread();
    setup.hidden = false;
    drawHead();
    for (const box of modelList.querySelectorAll('input')) box.disabled = false;
    const qs = query.toString();
    history.replaceState(history.state, '', hrefFor('/chat') + (qs ? `?${qs}` : ''));
    sidebar.setCurrent(null);
    try {
      await del(`conversations/${encodeURIComponent(id)}`, { signal });
    } catch (err) {
      if (!isAbort(err)) console.warn('could not delete the empty chat', err);
    }
    sidebar.refresh();
  }

  // ---- Loading a conversation ---------------------------------------------

  async function loadConversation(id) {
    announce('Loading the chat…');
    try {
      const [c, m] = await Promise.all([
        get(`conversations/${encodeURIComponent(id)}`, { signal }),
        get(`conversations/${encodeURIComponent(id)}/messages`, { signal }),
      ]);
      conv = c;
      thread = Array.isArray(m?.items) ? m.items : [];
      // A search result opens the chat at its message, on its branch.
      if (query.get('message') && !thread.some((x) => x.id === query.get('message'))) {
        thread = (await openAt(id, query.get('message'), signal)) ?? thread;
      }
    } catch (err) {
      if (isAbort(err) || err?.code === 'unauthenticated') return;
      conv = null;
      composer.hidden = true;
      if (err?.status === 404) {
        title.textContent = 'Chat not found';
        setTitle('Chat not found');
        showNotice('This chat does not exist, was deleted, or is not shared with you.');
      } else {
        title.textContent = 'Chat';
        showNotice(`The chat could not be loaded: ${err.message}`);
      }
      threadEl.replaceChildren(
        h('p', {}, h('button', { type: 'button', class: 'button', onclick: () => navigate('/chat') }, 'Start a new chat')),
      );
      announce('');
      return;
    }
    drawHead();
    renderThread();
    historyPanel.show(conv);
    modelChoice.check(conv);
    announce('');
    if (!query.get('message') || !highlightMessage(threadEl, query.get('message'))) scrollToBottom();
  }

  /** Re-read the active path from the server (after a stop, a cut stream or a surprise). */
  async function syncThread() {
    if (!conv || turn) return;
    try {
      const m = await get(`conversations/${encodeURIComponent(conv.id)}/messages`, { signal });
      if (turn || !Array.isArray(m?.items)) return;
      const stick = nearBottom();
      thread = m.items;
      renderThread();
      if (stick) scrollToBottom();
    } catch (err) {
      if (!isAbort(err) && err?.code !== 'unauthenticated') console.warn('could not reload the thread', err);
    }
  }

  /** Re-read the conversation (its title is set from the first message). */
  async function refreshConversation() {
    if (!conv) return;
    try {
      const c = await get(`conversations/${encodeURIComponent(conv.id)}`, { signal });
      conv = c;
      drawHead();
      sidebar.upsert(conv);
    } catch (err) {
      if (!isAbort(err) && err?.code !== 'unauthenticated') console.warn('could not reload the chat', err);
    }
  }

  // ---- Sending and streaming ----------------------------------------------

  /**
   * Send a message (content, optional parentId) or regenerate an answer
   * (regenerate: message id), streaming the answers into the thread.
   *
   * replaceFrom: id of the message this one replaces on screen (edit,
   * regenerate): it and everything after it leave the visible thread.
   * restore(): called when nothing was stored, to give the text back.
   * via(conv): { path, body } of another endpoint that runs the turn (a template's use).
   */
  async function submitTurn({ content, parentId, regenerateId, replaceFrom, restore, via }) {
    if (turn) return;
    clearTimeout(syncTimer);
    showNotice('');
    let created = null;
    if (!conv) {
      if (!(await createConversation())) {
        restore?.();
        return;
      }
      if (signal.aborted) return;
      created = conv;
    }

    const before = thread.slice();
    if (replaceFrom) {
      // The edited message or regenerated answer, and all after it, leave the screen.
      const i = thread.findIndex((m) => m.id === replaceFrom);
      if (i !== -1) {
        for (const m of thread.slice(i)) {
          views.get(m.id)?.el.remove();
          views.delete(m.id);
        }
        thread = thread.slice(0, i);
      }
    }
    editing?.close();
    const expectedParent = parentId !== undefined ? parentId : (thread.at(-1)?.id ?? null);

    let pendingId = null;
    if (content !== undefined) {
      pendingId = `pending-${Date.now()}`;
      const pending = {
        id: pendingId,
        parent_id: expectedParent,
        sender_type: 'user',
        sender: { username: me.username, display_name: me.display_name },
        content,
        status: 'sending',
        sibling_ids: [],
      };
      thread.push(pending);
      addMessage(pending);
    }
    scrollToBottom();

    const controller = new AbortController();
    turn = { controller };
    setBusy(true);
    announce(content !== undefined ? 'Sending…' : 'Regenerating…');

    const live = new Map(); // answer id → { msg, view, text, frame, done }
    let stored = false;
    let credits = null;
    let surprise = false; // the server's thread differs from what is shown

    const paint = (a) => {
      a.frame = 0;
      const stick = nearBottom();
      a.view.setStreamingText(a.text);
      if (stick) scrollToBottom();
    };

    const finish = (a, msg) => {
      if (a.frame) cancelAnimationFrame(a.frame);
      a.frame = 0;
      a.done = true;
      const stick = nearBottom();
      replaceMessage(a.msg.id, msg);
      a.msg = msg;
      if (stick) scrollToBottom();
    };

    const onEvent = ({ event, data }) => {
      if (signal.aborted) return;
      if (event === 'start') {
        stored = true;
        if (data.user_message && pendingId) {
          replaceMessage(pendingId, data.user_message);
          if ((data.user_message.parent_id ?? null) !== expectedParent) surprise = true;
          pendingId = null;
        }
        const msg = {
          id: data.message_id,
          conversation_id: conv.id,
          parent_id: data.parent_id ?? null,
          sender_type: 'ai',
          sender: { slug: data.model, display_name: data.display_name },
          content: '',
          status: 'streaming',
          is_first_responder: data.is_first_responder === true,
          sibling_ids: [],
        };
        const stick = nearBottom();
        thread.push(msg);
        const view = addMessage(msg);
        live.set(msg.id, { msg, view, text: '', frame: 0, done: false });
        announce(`${senderName(msg)} is answering…`);
        if (stick) scrollToBottom();
      } else if (event === 'delta') {
        const a = live.get(data.message_id);
        if (!a || a.done || typeof data.text !== 'string') return;
        a.text += data.text;
        if (!a.frame) a.frame = requestAnimationFrame(() => paint(a));
      } else if (event === 'done' || event === 'error') {
        const a = live.get(data.message_id);
        if (!a) return;
        const final = data.message && typeof data.message === 'object' ? { ...data.message } : { ...a.msg, content: a.text };
        if (event === 'error') {
          final.status = 'error';
          final.error = final.error || data.error?.message || null;
          final.error_code = data.error?.code;
        } else if (!data.message) {
          final.status = 'complete';
          final.prompt_tokens = data.usage?.prompt_tokens ?? 0;
          final.completion_tokens = data.usage?.completion_tokens ?? 0;
          final.tokens_estimated = data.usage?.estimated === true;
        }
        finish(a, final);
        announce(event === 'error' ? `${senderName(final)} could not answer.` : `${senderName(final)} answered.`);
      } else if (event === 'end') {
        if (typeof data.credits === 'number') credits = data.credits;
      }
    };

    const sent = via?.(conv); // another endpoint that runs the turn (a template's use)
    const path = sent
      ? sent.path
      : regenerateId
        ? `messages/${encodeURIComponent(regenerateId)}/regenerate`
        : `conversations/${encodeURIComponent(conv.id)}/messages`;
    const body = sent ? sent.body : regenerateId ? {} : { content, ...(parentId !== undefined ? { parent_id: parentId } : {}) };

    let failure = null;
    let ended = false;
    try {
      ({ ended } = await streamPost(path, body, { signal: controller.signal, onEvent }));
    } catch (err) {
      failure = err;
    }
    const aborted = controller.signal.aborted;
    turn = null;
    if (signal.aborted) return; // the user left the page

    // Whatever is still streaming stops here.
    for (const a of live.values()) {
      if (a.done) continue;
      if (a.frame) cancelAnimationFrame(a.frame);
      stopped.add(a.msg.id);
      finish(a, { ...a.msg, content: a.text, status: 'incomplete' });
    }
    setBusy(false);

    if (failure && !aborted && failure?.code === 'unauthenticated') return;

    if (!stored) {
      // Nothing reached the database: put everything back as it was.
      thread = before;
      renderThread();
      if (created) await discardConversation(created);
      restore?.();
      if (aborted) announce('Cancelled.');
      else if (failure) {
        showNotice(describeError(failure));
        announce('The message was not sent.');
      }
      return;
    }

    if (credits !== null) session.set({ ...session.user, token_credits: credits });
    else session.refresh().catch(() => {});

    if (aborted) {
      announce('Stopped.');
      syncTimer = setTimeout(syncThread, SYNC_AFTER_STOP_MS);
    } else if (failure || !ended) {
      showNotice(
        failure?.code === 'network' || !failure
          ? 'The connection was lost before the answer was complete. What was written is kept.'
          : describeError(failure),
      );
      syncThread();
    } else if (surprise || replaceFrom) {
      // Versions changed (edit, regenerate) or the server's thread differs: take its view.
      announce('Answer complete.');
      syncThread();
    } else {
      announce('Answer complete.');
    }

    if (created || !conv.title) refreshConversation();
    else sidebar.refresh();
  }

  function send(text) {
    if (turn) return;
    if (!text.trim()) {
      input.focus();
      return;
    }
    input.value = '';
    submitTurn({
      content: text,
      restore: () => {
        if (input.value === '') input.value = text;
        input.focus();
      },
    });
  }

  function regenerate(msg) {
    if (turn || !conv) return;
    submitTurn({ regenerateId: msg.id, replaceFrom: msg.id });
  }

  // ---- Editing ------------------------------------------------------------

  function startEdit(msg, text = msg.content ?? '') {
    if (turn) return;
    editing?.close();
    const view = views.get(msg.id);
    if (!view) return;
    const area = h('textarea', {
      class: 'chat-input edit-input',
      'aria-label': 'Edit your message',
      'data-testid': 'edit-input',
      rows: '3',
    });
    area.value = text;
    const save = h('button', { type: 'submit', class: 'button primary small', 'data-testid': 'edit-save' }, 'Save and send');
    const cancel = h('button', { type: 'button', class: 'button small', 'data-testid': 'edit-cancel' }, 'Cancel');
    const form = h('form', { class: 'message-edit' }, area, h('div', { class: 'actions' }, save, cancel));
    const close = () => {
      if (editing?.id === msg.id) editing = null;
      view.hideEditor();
    };
    editing = { id: msg.id, close };
    cancel.addEventListener('click', () => {
      close();
      view.el.querySelector('[data-testid="edit-message"]')?.focus();
    });
    area.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        event.preventDefault();
        cancel.click();
      } else if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const content = area.value;
      if (!content.trim() || turn) {
        area.focus();
        return;
      }
      close();
      submitTurn({
        content,
        parentId: msg.parent_id ?? null,
        replaceFrom: msg.id,
        restore: () => startEdit(msg, content),
      });
    });
    view.showEditor(form);
    area.focus();
  }

  // ---- Versions -----------------------------------------------------------

  async function showSibling(msg, delta) {
    if (turn || !conv) return;
    const ids = Array.isArray(msg.sibling_ids) ? msg.sibling_ids : [];
    let index = ids.indexOf(msg.id);
    if (index === -1) index = msg.sibling_index ?? 0;
    const target = ids[index + delta];
    if (!target) return;
    showNotice('');
    threadEl.setAttribute('aria-busy', 'true');
    try {
      const body = await api(`conversations/${encodeURIComponent(conv.id)}/active`, {
        method: 'PUT',
        body: { message_id: target },
        signal,
      });
      thread = Array.isArray(body?.items) ? body.items : thread;
      renderThread();
      const view = views.get(target);
      const button = view?.el.querySelector(`[data-testid="${delta < 0 ? 'sibling-prev' : 'sibling-next'}"]`);
      (button && !button.disabled ? button : view?.el.querySelector('[data-testid="sibling-position"]'))?.focus?.();
      announce(`Showing version ${index + delta + 1} of ${ids.length}.`);
    } catch (err) {
      if (isAbort(err) || err?.code === 'unauthenticated') return;
      showNotice(`Could not switch versions: ${err.message}`);
    } finally {
      threadEl.toggleAttribute('aria-busy', turn !== null);
    }
  }

  // ---- Header actions -----------------------------------------------------

  shareButton.addEventListener('click', () => {
    if (conv) shareDialog.open(conv);
  });

  pinButton.addEventListener('click', async () => {
    if (!conv || pinButton.disabled) return;
    pinButton.disabled = true;
    try {
      conv = await patch(`conversations/${encodeURIComponent(conv.id)}`, { pinned: !conv.pinned }, { signal });
      drawHead();
      sidebar.refresh();
    } catch (err) {
      if (!isAbort(err) && err?.code !== 'unauthenticated') showNotice(`Could not change the pin: ${err.message}`);
    } finally {
      pinButton.disabled = false;
    }
  });

  deleteButton.addEventListener('click', async () => {
    if (!conv || turn) return;
    // eslint-disable-next-line no-alert
    if (!window.confirm(`Delete “${conversationTitle(conv)}”? This removes it from your chats.`)) return;
    try {
      await del(`conversations/${encodeURIComponent(conv.id)}`, { signal });
      sidebar.refresh();
      navigate('/chat');
    } catch (err) {
      if (!isAbort(err) && err?.code !== 'unauthenticated') showNotice(`The chat could not be deleted: ${err.message}`);
    }
  });

  // ---- Composer -----------------------------------------------------------

  composer.addEventListener('submit', (event) => {
    event.preventDefault();
    send(input.value);
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.altKey && !event.ctrlKey && !event.metaKey && !event.isComposing) {
      event.preventDefault();
      send(input.value);
    }
  });

  // ---- Start --------------------------------------------------------------

  const cleanup = () => {
    clearTimeout(syncTimer);
    turn?.controller.abort();
    sidebar.stop();
  };
  signal.addEventListener('abort', cleanup, { once: true });

  if (params.id) {
    await loadConversation(params.id);
  } else {
    setup.hidden = false;
    drawHead();
    loadTools();
  }
  if (query.get('template')) promptTools.openTemplate(query.get('template'));
  return cleanup;
}
