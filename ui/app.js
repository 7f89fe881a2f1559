// The window: renders the tray's view and forwards clicks to the tray's commands. Text is only ever
// set through textContent (the admins' message is plain text, never markup).
import { present } from './present.js';

const { invoke } = window.__TAURI__.core;
const { listen } = window.__TAURI__.event;

const $ = (id) => document.getElementById(id);
let codes = { primary: null, dr: null };

function render(view) {
  const shown = present(view);
  const status = $('status');
  status.className = `status tone-${shown.tone}`;
  status.dataset.state = view.state;
  $('status-glyph').textContent = shown.glyph;
  $('headline').textContent = shown.headline;
  $('advice').textContent = shown.advice;

  const problems = $('problems');
  problems.replaceChildren(...shown.problems.map((text) => item(text)));
  problems.hidden = shown.problems.length === 0;

  $('message').hidden = !shown.message;
  $('message-title').textContent = shown.message?.title ?? '';
  $('message-body').textContent = shown.message?.body ?? '';

  $('connect-active').disabled = !shown.canConnect;
  $('connect-dr').disabled = !shown.canConnect;
  // The button for the site in use stands out.
  $('connect-active').classList.toggle('primary', view.active !== 'dr');
  $('connect-dr').classList.toggle('primary', view.active === 'dr');
  $('active-site').textContent = shown.activeText;
  for (const role of ['primary', 'dr']) {
    const site = shown.sites[role];
    const row = $(`site-${role}`);
    row.querySelector('.region').textContent = site.region ? `(${site.region})` : '';
    row.querySelector('.code').textContent = site.code ?? 'unknown';
    row.querySelector('.badge').hidden = !site.active;
    row.querySelector('.copy').disabled = !site.code;
  }
  codes = { primary: shown.sites.primary.code, dr: shown.sites.dr.code };

  $('last-success').textContent = shown.lastSuccess;
  $('last-check').textContent = shown.lastCheck;
  $('username').textContent = shown.username;

  $('history').replaceChildren(...shown.history.map((entry) => {
    const li = item('');
    const when = document.createElement('span');
    when.className = 'when';
    when.textContent = `${entry.when} · ${entry.state}`;
    const title = document.createElement('strong');
    title.textContent = entry.title;
    li.append(when, title, document.createTextNode(entry.body ? ` — ${entry.body}` : ''));
    return li;
  }));
  $('history-empty').hidden = shown.history.length > 0;
}

function item(text) {
  const li = document.createElement('li');
  li.textContent = text;
  return li;
}

function say(text) {
  $('action-result').textContent = text;
}

async function connect(target) {
  say('Opening the WorkSpaces client…');
  try {
    await invoke('connect', { target });
    say('The WorkSpaces client was asked to open.');
  } catch (error) {
    say(String(error));
  }
}

async function copy(role) {
  const code = codes[role];
  if (!code) return;
  try {
    await navigator.clipboard.writeText(code);
  } catch {
    // WebKitGTK may refuse the async clipboard outside a secure context: fall back.
    const area = document.createElement('textarea');
    area.value = code;
    document.body.append(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
  say(`Copied ${code}.`);
}

$('connect-active').addEventListener('click', () => connect('active'));
$('connect-dr').addEventListener('click', () => connect('dr'));
$('check-now').addEventListener('click', () => {
  say('Checking…');
  invoke('check_now').catch((error) => say(String(error)));
});
for (const button of document.querySelectorAll('button.copy')) {
  button.addEventListener('click', () => copy(button.dataset.copy));
}

listen('wsdr://view', (event) => {
  render(event.payload);
  if ($('action-result').textContent === 'Checking…') say('');
});
invoke('view').then(render).catch((error) => say(String(error)));
