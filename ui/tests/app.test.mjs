// node --test ui/tests/ : the window's script against a mocked IPC (invoke/listen) and a fake DOM
// built from index.html, fed the exact JSON the Rust side produces (a snapshot in
// desktop/wsdr-desktop-core/tests/fixtures/, checked by the Rust tests).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseDocument } from './fake-dom.mjs';

const here = new URL('.', import.meta.url);
const html = readFileSync(new URL('../index.html', here), 'utf8');
const failover = JSON.parse(readFileSync(new URL('../../desktop/wsdr-desktop-core/tests/fixtures/status-failover.json', here), 'utf8'));

// The mocked IPC: records invocations, answers `view` with the fixture, lets tests emit events.
const calls = [];
const listeners = {};
let connectReply = () => Promise.resolve('workspaces://jdoe@WSpdx+ABC12D');
const copied = [];
globalThis.document = parseDocument(html);
globalThis.navigator = { clipboard: { writeText: async (text) => { copied.push(text); } } };
globalThis.window = {
  __TAURI__: {
    core: {
      invoke: (command, args) => {
        calls.push([command, args]);
        if (command === 'view') return Promise.resolve(failover);
        if (command === 'connect') return connectReply(args);
        return Promise.resolve(null);
      },
    },
    event: { listen: (name, handler) => { listeners[name] = handler; return Promise.resolve(() => {}); } },
  },
};
await import('../app.js');
await new Promise((resolve) => setImmediate(resolve));
const $ = (id) => document.getElementById(id);
const settle = () => new Promise((resolve) => setImmediate(resolve));

test('renders the failover view it was given over IPC', () => {
  assert.deepEqual(calls[0], ['view', undefined]);
  assert.equal($('status').dataset.state, 'failover');
  assert.ok($('status').classList.contains('tone-alert'));
  assert.equal($('headline').textContent, 'Failover: use your DR WorkSpace');
  assert.equal($('message-title').textContent, 'WorkSpaces failover');
  assert.equal($('message').hidden, false);
  assert.equal(document.querySelector('#site-dr .code').textContent, 'WSpdx+ABC12D');
  assert.equal(document.querySelector('#site-dr .badge').hidden, false);
  assert.equal(document.querySelector('#site-primary .badge').hidden, true);
  assert.ok($('connect-dr').classList.contains('primary'), 'the site in use stands out');
  assert.equal($('history').children.length, 2);
  assert.equal($('history-empty').hidden, true);
  assert.equal($('username').textContent, 'jdoe');
});

test('"Connect to DR" forwards to the connect command', async () => {
  $('connect-dr').click();
  await settle();
  assert.deepEqual(calls.at(-1), ['connect', { target: 'dr' }]);
  assert.equal($('action-result').textContent, 'The WorkSpaces client was asked to open.');
  connectReply = () => Promise.reject('could not open the WorkSpaces client: xdg-open failed');
  $('connect-active').click();
  await settle();
  assert.deepEqual(calls.at(-1), ['connect', { target: 'active' }]);
  assert.equal($('action-result').textContent, 'could not open the WorkSpaces client: xdg-open failed');
});

test('copy buttons copy the codes', async () => {
  document.querySelector('#site-primary .copy').click();
  await settle();
  assert.deepEqual(copied, ['SLiad+ABCDEF']);
});

test('a view event re-renders; a misconfigured view disables connecting', async () => {
  $('check-now').click();
  assert.deepEqual(calls.at(-1), ['check_now', undefined]);
  listeners['wsdr://view']({ payload: { state: 'misconfigured', headline: 'wsdr is not configured correctly', problems: ['status_url is missing'], history: [] } });
  assert.equal($('status').dataset.state, 'misconfigured');
  assert.equal($('problems').hidden, false);
  assert.equal($('problems').children[0].textContent, 'status_url is missing');
  assert.equal($('connect-dr').disabled, true);
  assert.equal($('message').hidden, true);
  assert.equal(document.querySelector('#site-dr .code').textContent, 'unknown');
  assert.equal($('history-empty').hidden, false);
  assert.equal($('action-result').textContent, '', '"Checking…" is cleared by the new view');
});

test('the admins\' message is text, never markup', () => {
  listeners['wsdr://view']({ payload: { ...failover, message: { title: '<img src=x onerror=alert(1)>', body: '<b>x</b>' } } });
  assert.equal($('message-title').textContent, '<img src=x onerror=alert(1)>');
  assert.equal($('message-title').children.length, 0);
});
