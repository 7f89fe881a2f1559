// What the window shows, as plain data from the tray's view (the JSON of wsdr_desktop_core::View).
// Pure: no DOM, no IPC, so it is tested with `node --test ui/tests/`.

/** Plain words, tone (colour) and glyph for each state. */
export const STATES = {
  ready: { tone: 'ok', glyph: '✓', advice: 'Keep using your usual WorkSpace. The DR registration code is ready if it is ever needed.' },
  failover: { tone: 'alert', glyph: '!', advice: 'The primary region has a problem. Use "Connect to DR" to open your DR WorkSpace.' },
  drill: { tone: 'drill', glyph: 'D', advice: 'A disaster-recovery drill is under way. Follow your administrators\' instructions.' },
  recovered: { tone: 'back', glyph: '↩', advice: 'The primary region is back. You may return to your usual WorkSpace.' },
  stale: { tone: 'unknown', glyph: '?', advice: 'wsdr has no current status. If WorkSpaces fails, "Connect to DR" still works with the last known code.' },
  misconfigured: { tone: 'config', glyph: '×', advice: 'Ask your IT department to fix the wsdr configuration.' },
};

const SITE_NAMES = { primary: 'the primary region', dr: 'the disaster-recovery region' };

/** A timestamp (RFC 3339) in the user's locale, or a fallback. */
export function formatTime(iso, fallback = 'never') {
  if (!iso) return fallback;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? fallback : date.toLocaleString();
}

/** The last check in words. */
export function describeCheck(check) {
  if (!check) return 'not yet';
  const when = formatTime(check.at);
  switch (check.outcome) {
    case 'accepted': return `${when}: new status received and verified`;
    case 'unchanged': return `${when}: no change`;
    case 'rejected': return `${when}: a status document was refused (${check.detail ?? 'invalid'}); nothing changed`;
    case 'failed': return `${when}: could not reach the status server (${check.detail ?? 'error'})`;
    default: return `${when}: not checked (configuration problem)`;
  }
}

/** Everything the window displays. */
export function present(view) {
  const state = STATES[view.state] ?? STATES.stale;
  const site = (role) => ({
    region: view[`${role}_region`] ?? '',
    code: view[`${role}_registration_code`] ?? null,
    active: view.active === role,
  });
  return {
    tone: state.tone,
    glyph: state.glyph,
    headline: view.headline,
    advice: state.advice,
    problems: view.problems ?? [],
    message: view.message ?? null,
    canConnect: view.state !== 'misconfigured' && Boolean(view.dr_registration_code),
    activeText: view.active ? `Use ${SITE_NAMES[view.active]}${view[`${view.active}_region`] ? ` (${view[`${view.active}_region`]})` : ''}.` : 'Which region to use is not known yet.',
    sites: { primary: site('primary'), dr: site('dr') },
    lastSuccess: formatTime(view.last_success_at),
    lastCheck: describeCheck(view.last_check),
    username: view.username ?? 'unknown',
    history: (view.history ?? []).map((entry) => ({
      when: formatTime(entry.issued_at, ''),
      state: entry.state,
      title: entry.title,
      body: entry.body,
    })),
  };
}
