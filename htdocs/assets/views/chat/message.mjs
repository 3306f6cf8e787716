// One message of the thread: sender, rendered Markdown, status, token use,
// version arrows (‹ 2/3 ›) and the Edit / Regenerate actions.
//
// The body is the only part built from Markdown (renderMarkdown: sanitised
// fragment); everything else is text through h().

import { h, replaceChildren, formatNumber } from '../../dom.mjs';
import { renderHtml, renderMarkdown } from './markdown.mjs';

/** Friendlier words for the error codes of a failed answer (the server's message follows). */
const ERROR_LEAD = {
  provider_rate_limited: "The model's provider is rate-limiting requests; try again in a moment.",
  provider_timeout: "The model's provider did not answer in time.",
  provider_overloaded: "The model's provider is overloaded right now.",
  provider_auth: "The model's provider refused this server's credentials.",
  provider_incomplete: 'The answer was cut off.',
  provider_stream_error: "The model's provider failed while answering.",
  provider_malformed: "The model's provider sent an answer that could not be read.",
  provider_error: "The model's provider failed.",
};

function str(value) {
  return typeof value === 'string' ? value.trim() : '';
}

/** The name shown above a message: the user's display name, or the model's. */
export function senderName(msg) {
  const s = msg?.sender ?? {};
  if (msg?.sender_type === 'ai') return str(s.display_name) || str(s.slug) || 'Assistant';
  return str(s.display_name) || str(s.username) || 'Someone';
}

/** "123 tokens" / "123 tokens (estimated)", or '' when nothing was counted. */
export function tokenText(msg) {
  const prompt = Number(msg?.prompt_tokens) || 0;
  const completion = Number(msg?.completion_tokens) || 0;
  const total = prompt + completion;
  if (total <= 0) return '';
  return `${formatNumber(total)} ${total === 1 ? 'token' : 'tokens'}${msg.tokens_estimated ? ' (estimated)' : ''}`;
}

function errorText(msg) {
  const lead = ERROR_LEAD[msg.error_code] ?? '';
  const detail = str(msg.error);
  if (lead && detail && detail !== lead) return `${lead} ${detail}`;
  return lead || detail || 'This answer failed.';
}

/**
 * Build the view of one message.
 *
 * options:
 *   me            the signed-in user (GET /me object)
 *   isGroup       () => boolean: label answers with their model, mark the first responder
 *   isBusy        () => boolean: actions are disabled while an answer streams
 *   onEdit(msg), onRegenerate(msg), onSibling(msg, delta)
 *   onDeleteBranch(msg)  given to the conversation's owner: a message with
 *                 other versions offers to delete this one and all below it
 *
 * Returns { el, msg, update(msg), setStreamingText(text), showEditor(node), hideEditor(), setBusy(b) }.
 */
export function createMessageView(initial, { me, isGroup, isBusy, onEdit, onRegenerate, onSibling, onDeleteBranch }) {
  let msg = initial;
  const body = h('div', { class: 'message-body markdown', 'data-testid': 'message-body' });
  const head = h('header', { class: 'message-head' });
  const foot = h('footer', { class: 'message-foot' });
  const error = h('p', { class: 'message-error', 'data-testid': 'message-error', hidden: true });
  const el = h('article', { class: 'message' }, head, body, error, foot);
  let editor = null;
  let renderedText = null;

  function actionButton(label, testid, onclick, extra = {}) {
    return h('button', { type: 'button', class: 'message-action', 'data-testid': testid, onclick, ...extra }, label);
  }

  function drawHead() {
    const isAi = msg.sender_type === 'ai';
    const first = isAi && msg.is_first_responder && isGroup();
    replaceChildren(
      head,
      h('span', { class: 'message-avatar', 'aria-hidden': 'true' }, (senderName(msg).charAt(0) || '?').toUpperCase()),
      h('span', { class: 'message-sender', 'data-testid': 'message-sender' }, senderName(msg)),
      isAi && isGroup() && str(msg.sender?.model_id)
        ? h('span', { class: 'message-model', 'data-testid': 'message-model' }, msg.sender.model_id)
        : null,
      first ? h('span', { class: 'badge', 'data-testid': 'first-responder' }, 'First responder') : null,
    );
  }

  function drawBody(text) {
    if (text === renderedText) return;
    renderedText = text;
    replaceChildren(body, msg.content_type === 'text/html' ? renderHtml(text) : renderMarkdown(text));
  }

  function drawFoot() {
    const parts = [];
    const status = msg.status;
    const busy = isBusy();
    if (status === 'sending') parts.push(h('span', { class: 'message-status', 'data-testid': 'message-status' }, 'Sending…'));
    else if (status === 'streaming') {
      parts.push(h('span', { class: 'message-status', 'data-testid': 'message-status' }, 'Writing…'));
    } else if (status === 'incomplete') {
      parts.push(h('span', { class: 'message-status is-stopped', 'data-testid': 'message-status' }, 'Stopped'));
    }
    if (msg.sender_type === 'ai' && status !== 'streaming') {
      const tokens = tokenText(msg);
      if (tokens) {
        parts.push(
          h(
            'span',
            {
              class: 'message-tokens',
              'data-testid': 'message-tokens',
              title: `${formatNumber(msg.prompt_tokens || 0)} prompt + ${formatNumber(msg.completion_tokens || 0)} completion tokens`,
            },
            tokens,
          ),
        );
      }
    }

    const actions = [];
    const ids = Array.isArray(msg.sibling_ids) ? msg.sibling_ids : [];
    if (ids.length > 1) {
      let index = ids.indexOf(msg.id);
      if (index === -1) index = Number.isInteger(msg.sibling_index) ? msg.sibling_index : 0;
      const what = msg.sender_type === 'ai' ? 'answer' : 'message';
      actions.push(
        h(
          'div',
          { class: 'sibling-nav', role: 'group', 'aria-label': `Versions of this ${what}`, 'data-testid': 'sibling-nav' },
          actionButton('‹', 'sibling-prev', () => onSibling(msg, -1), {
            'aria-label': `Previous version`,
            disabled: busy || index <= 0,
          }),
          h(
            'span',
            { class: 'sibling-position', 'data-testid': 'sibling-position', 'aria-label': `Version ${index + 1} of ${ids.length}` },
            `${index + 1}/${ids.length}`,
          ),
          actionButton('›', 'sibling-next', () => onSibling(msg, +1), {
            'aria-label': `Next version`,
            disabled: busy || index >= ids.length - 1,
          }),
        ),
      );
    }
    const stored = status !== 'sending' && status !== 'streaming' && !String(msg.id).startsWith('pending-');
    if (stored && ids.length > 1 && onDeleteBranch) {
      actions.push(
        actionButton('Delete branch', 'delete-branch', () => onDeleteBranch(msg), {
          disabled: busy,
          title: 'Delete this version and everything after it',
        }),
      );
    }
    if (stored && msg.sender_type === 'user' && msg.sender?.username === me?.username) {
      actions.push(actionButton('Edit', 'edit-message', () => onEdit(msg), { disabled: busy }));
    }
    if (stored && msg.sender_type === 'ai') {
      actions.push(actionButton('Regenerate', 'regenerate', () => onRegenerate(msg), { disabled: busy }));
    }
    replaceChildren(
      foot,
      h('div', { class: 'message-meta' }, parts),
      actions.length ? h('div', { class: 'message-actions' }, actions) : null,
    );
  }

  function draw() {
    el.className = `message message-${msg.sender_type === 'ai' ? 'ai' : 'user'}`;
    el.setAttribute('data-testid', 'message');
    el.dataset.messageId = msg.id;
    el.dataset.senderType = msg.sender_type;
    el.dataset.status = msg.status || 'complete';
    el.setAttribute('aria-label', `${senderName(msg)}`);
    body.classList.toggle('is-streaming', msg.status === 'streaming');
    drawHead();
    drawBody(msg.content ?? '');
    // A failed answer says why; so does one stopped by the server (an answer too long).
    if (msg.status === 'error' || (msg.status === 'incomplete' && str(msg.error))) {
      error.textContent = errorText(msg);
      error.hidden = false;
    } else {
      error.textContent = '';
      error.hidden = true;
    }
    if (msg.status === 'error' && !msg.content) body.hidden = true;
    else body.hidden = editor !== null;
    drawFoot();
  }

  draw();

  return {
    el,
    get msg() {
      return msg;
    },
    /** Show a new version of the message (same element). */
    update(next) {
      msg = next;
      draw();
    },
    /** The text streamed so far (re-rendered as Markdown). */
    setStreamingText(text) {
      body.hidden = false;
      drawBody(text);
    },
    /** Replace body and footer with an inline editor. */
    showEditor(node) {
      editor = node;
      body.hidden = true;
      foot.hidden = true;
      el.insertBefore(node, error);
    },
    hideEditor() {
      editor?.remove();
      editor = null;
      foot.hidden = false;
      draw();
    },
    /** Enable or disable the actions (an answer is streaming). */
    setBusy() {
      drawFoot();
    },
  };
}
