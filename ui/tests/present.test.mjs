// node --test ui/tests/ : the window's presentation of each state, without a browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { present, describeCheck, STATES } from '../present.js';

const failover = {
  state: 'failover', headline: 'Failover: use your DR WorkSpace', problems: [],
  dr_registration_code: 'WSpdx+ABC12D', primary_registration_code: 'SLiad+ABCDEF',
  dr_region: 'us-west-2', primary_region: 'us-east-1', active: 'dr',
  message: { title: 'WorkSpaces failover', body: 'Use your DR WorkSpace.' },
  last_success_at: '2026-03-01T10:05:00Z',
  last_check: { at: '2026-03-01T10:05:00Z', outcome: 'accepted', detail: null },
  username: 'jdoe',
  history: [{ sequence: 2, issued_at: '2026-03-01T10:00:00Z', state: 'failover', active: 'dr', title: 'WorkSpaces failover', body: 'Use your DR WorkSpace.' }],
};

test('failover: alert tone, DR active, both codes, connect enabled', () => {
  const shown = present(failover);
  assert.equal(shown.tone, 'alert');
  assert.equal(shown.activeText, 'Use the disaster-recovery region (us-west-2).');
  assert.deepEqual(shown.sites.dr, { region: 'us-west-2', code: 'WSpdx+ABC12D', active: true });
  assert.equal(shown.sites.primary.active, false);
  assert.equal(shown.canConnect, true);
  assert.equal(shown.history.length, 1);
});

test('every state has words, a tone and a glyph', () => {
  for (const state of ['ready', 'failover', 'drill', 'recovered', 'stale', 'misconfigured']) {
    const entry = STATES[state];
    assert.ok(entry.advice.length > 20 && entry.tone && entry.glyph, state);
  }
});

test('misconfigured: problems listed, nothing to connect to', () => {
  const shown = present({ state: 'misconfigured', headline: 'x', problems: ['status_url is missing'] });
  assert.deepEqual(shown.problems, ['status_url is missing']);
  assert.equal(shown.canConnect, false);
  assert.equal(shown.activeText, 'Which region to use is not known yet.');
  assert.equal(shown.lastSuccess, 'never');
  assert.equal(shown.sites.dr.code, null);
});

test('checks in words', () => {
  assert.equal(describeCheck(null), 'not yet');
  assert.match(describeCheck({ at: '2026-03-01T10:00:00Z', outcome: 'rejected', detail: 'unknown signing key "x"' }), /refused \(unknown signing key "x"\); nothing changed/);
  assert.match(describeCheck({ at: '2026-03-01T10:00:00Z', outcome: 'failed', detail: 'HTTP 503' }), /could not reach the status server \(HTTP 503\)/);
});
