// Writes a ChatGPT-format export (conversations.json) of about N messages,
// streamed: conversations of 20 stored messages each (10 prompts, 10
// answers) plus a regenerated answer (a branch) and the hidden system node,
// ~500 bytes of text per message.
//   node bench/imports/gen.mjs OUT MESSAGES
import { createWriteStream } from 'node:fs';

const [out, messagesArg] = process.argv.slice(2);
const total = Number(messagesArg);
const file = createWriteStream(out);
const words = 'the quick brown fox jumps over a lazy dog while import streams bytes through yajl '.repeat(6);
const write = (s) => (file.write(s) ? Promise.resolve() : new Promise((r) => file.once('drain', r)));

let stored = 0;
let n = 0;
await write('[');
while (stored < total) {
  const id = `bench-${n}`;
  const t0 = 1700000000 + n * 60;
  const mapping = { root: { id: 'root', message: null, parent: null, children: [] } };
  const node = (key, parent, role, text, t, extra = {}) => {
    mapping[key] = {
      id: key,
      parent,
      children: [],
      message: {
        id: key,
        author: { role, name: null, metadata: {} },
        create_time: t,
        content: { content_type: 'text', parts: [text] },
        metadata: role === 'assistant' ? { model_slug: 'gpt-4o' } : {},
        recipient: 'all',
        ...extra,
      },
    };
    mapping[parent].children.push(key);
  };
  node(`${id}-s`, 'root', 'system', '', null);
  let parent = `${id}-s`;
  for (let k = 0; k < 10; k++) {
    node(`${id}-u${k}`, parent, 'user', `Question ${k}: ${words}`, t0 + k * 4);
    node(`${id}-a${k}`, `${id}-u${k}`, 'assistant', `Answer ${k}: ${words}`, t0 + k * 4 + 1);
    if (k === 5) node(`${id}-r${k}`, `${id}-u${k}`, 'assistant', `Regenerated ${k}: ${words}`, t0 + k * 4 + 2);
    parent = `${id}-a${k}`;
  }
  stored += 21;
  const conv = { title: `Bench ${n}`, create_time: t0, update_time: t0 + 40, mapping, current_node: parent, conversation_id: id, default_model_slug: 'gpt-4o' };
  await write((n ? ',' : '') + JSON.stringify(conv));
  n++;
}
await write(']');
file.end();
await new Promise((r) => file.on('finish', r));
console.log(`${n} conversations, ${stored} messages`);
