// Guarantor's dashboard: one page over the server's own API, nothing fetched from elsewhere.
// Without a key it reads the public view (TLP:CLEAR only); with one, what the key's member may read. The key lives in
// sessionStorage and is sent only in the Authorization header.
'use strict';

const I18N = {
  en: {
    tabMap: 'Map', tabGuarantee: 'Guarantee', tabAnalyst: 'Review', tabLiaison: 'Obligations', tabAuditor: 'Audit',
    signIn: 'Sign in', signOut: 'Sign out', keyPlaceholder: 'API key', publicView: 'Public view (TLP:CLEAR)',
    signedInAs: '{0} of {1} ({2})', badKey: 'The key was refused: {0}',
    pickIncident: 'Click an incident on the map.', liveAlerts: 'Alerts', latestIncidents: 'Latest incidents',
    colTime: 'Time', colKind: 'Kind', colStatus: 'Status', colSector: 'Sector', colSide: 'Side', colReports: 'Reports',
    incidentsOnMap: '{0} incidents', levels: 'Level per sector', force: 'Deterrence force',
    pledges: 'Pledges by pillar', sanctions: 'Sanctions in force', violationsPerDay: 'Violations per day (last 30 days)',
    comparePeriods: 'Last 30 days against the previous 30', pledged: 'Pledged', deployed: 'Deployed',
    ceiling: 'Ceiling', none: 'None', sector: 'Sector', level: 'Level', party: 'Party', last30: 'Last 30 days',
    previous30: 'Previous 30', change: 'Change', pillar: 'Pillar', count: 'Pledges',
    statusReported: 'reported', statusCorroborated: 'corroborated', statusVerified: 'verified', statusRejected: 'rejected',
    statusDisputed: 'disputed', grave: 'grave', serious: 'serious', minor: 'minor',
    line: 'Agreement line', candidate: 'Candidate line', zone: 'Zone', site: 'Protected site',
    incident: 'Incident', kind: 'Kind', status: 'Status', side: 'Side', distance: 'Distance to the line',
    sources: 'Sources', timeline: 'Timeline', start: 'First report', end: 'Last report', verifiedAt: 'Verified',
    lastReview: 'Last review', findings: 'Findings', reports: 'Reports it may read',
    noFindings: 'No violation found.', attributedTo: 'attributed to {0}', unattributed: 'not attributed',
    reason: 'Reason', verify: 'Verify', reject: 'Reject', dispute: 'Dispute', reopen: 'Reopen', merge: 'Merge',
    split: 'Split', mergeWith: 'Incident ids to merge into this one (comma-separated)',
    splitHint: 'Tick the reports to split off', done: 'Done: {0}', refused: 'Refused: {0}',
    obligation: 'Obligation', deadline: 'Deadline', left: 'Time left', acknowledge: 'Acknowledge', fulfil: 'Fulfil',
    decline: 'Decline', reference: 'Reference (where the proof is)', overdue: 'overdue', noObligations: 'No obligations.',
    checkpoint: 'Latest checkpoint', size: 'Events', root: 'Root', signedAt: 'Signed', cosignatures: 'Cosignatures',
    noCheckpoint: 'No checkpoint yet.', newAlert: 'Alert: {0}', level1: 'level {0}', mapMissing: 'No line to draw.',
    loading: 'Loading…', dailyReport: 'Daily report', spotReport: 'Spot report',
    wholeLine: 'The whole line', logistics: 'Logistics continuity', item: 'Item', perPeriod: 'Pledged per period', delivered: 'Delivered',
    continuityAlerts: 'Continuity alerts', member: 'Member', verification: 'Verification of the log',
    verifyNow: 'Verify now', noVerification: 'The server has not verified the log since it started.',
    verificationRunning: 'Verifying {0} events, started {1}…', verificationClean: 'Clean: {0} events checked, finished {1}',
    verificationFailed: 'FAILED: {0} events checked, finished {1}',
    reportIssued: '{0} issued as event {1} of the log', reportServed: '{0} downloaded (public reports are not issued to the log)', reportRefused: 'No report: {0}',
  },
  uk: {
    tabMap: 'Мапа', tabGuarantee: 'Гарантія', tabAnalyst: 'Перевірка', tabLiaison: 'Зобовʼязання', tabAuditor: 'Аудит',
    signIn: 'Увійти', signOut: 'Вийти', keyPlaceholder: 'Ключ API', publicView: 'Публічний вигляд (TLP:CLEAR)',
    signedInAs: '{0} від {1} ({2})', badKey: 'Ключ відхилено: {0}',
    pickIncident: 'Натисніть на інцидент на мапі.', liveAlerts: 'Сповіщення', latestIncidents: 'Останні інциденти',
    colTime: 'Час', colKind: 'Вид', colStatus: 'Статус', colSector: 'Сектор', colSide: 'Сторона', colReports: 'Звіти',
    incidentsOnMap: 'Інцидентів: {0}', levels: 'Рівень за секторами', force: 'Сили стримування',
    pledges: 'Зобовʼязання за напрямами', sanctions: 'Чинні санкції',
    violationsPerDay: 'Порушення за добу (останні 30 днів)',
    comparePeriods: 'Останні 30 днів проти попередніх 30', pledged: 'Обіцяно', deployed: 'Розгорнуто',
    ceiling: 'Межа', none: 'Немає', sector: 'Сектор', level: 'Рівень', party: 'Сторона', last30: 'Останні 30 днів',
    previous30: 'Попередні 30', change: 'Зміна', pillar: 'Напрям', count: 'Зобовʼязань',
    statusReported: 'повідомлено', statusCorroborated: 'підтверджено кількома джерелами', statusVerified: 'перевірено',
    statusRejected: 'відхилено', statusDisputed: 'оскаржено', grave: 'тяжке', serious: 'серйозне', minor: 'незначне',
    line: 'Лінія угоди', candidate: 'Лінія-кандидат', zone: 'Зона', site: 'Захищений обʼєкт',
    incident: 'Інцидент', kind: 'Вид', status: 'Статус', side: 'Сторона', distance: 'Відстань до лінії',
    sources: 'Джерела', timeline: 'Хронологія', start: 'Перший звіт', end: 'Останній звіт', verifiedAt: 'Перевірено',
    lastReview: 'Остання перевірка', findings: 'Висновки', reports: 'Доступні звіти',
    noFindings: 'Порушень не виявлено.', attributedTo: 'приписано: {0}', unattributed: 'не приписано',
    reason: 'Підстава', verify: 'Підтвердити', reject: 'Відхилити', dispute: 'Оскаржити', reopen: 'Відкрити знову',
    merge: 'Обʼєднати', split: 'Розділити', mergeWith: 'Інциденти, які приєднати до цього (через кому)',
    splitHint: 'Позначте звіти, які виділити', done: 'Виконано: {0}', refused: 'Відмовлено: {0}',
    obligation: 'Зобовʼязання', deadline: 'Строк', left: 'Залишилось', acknowledge: 'Підтвердити отримання',
    fulfil: 'Виконати', decline: 'Відхилити', reference: 'Посилання (де доказ)', overdue: 'прострочено',
    noObligations: 'Зобовʼязань немає.', checkpoint: 'Остання контрольна точка', size: 'Подій', root: 'Корінь',
    signedAt: 'Підписано', cosignatures: 'Співпідписи', noCheckpoint: 'Контрольних точок ще немає.',
    newAlert: 'Сповіщення: {0}', level1: 'рівень {0}', mapMissing: 'Немає лінії для показу.',
    loading: 'Завантаження…', dailyReport: 'Щоденний звіт', spotReport: 'Терміновий звіт',
    wholeLine: 'Уся лінія', logistics: 'Безперервність постачання', item: 'Предмет', perPeriod: 'Обіцяно за період', delivered: 'Доставлено',
    continuityAlerts: 'Сповіщення про перерви', member: 'Член', verification: 'Перевірка журналу',
    verifyNow: 'Перевірити зараз', noVerification: 'Від запуску сервер ще не перевіряв журнал.',
    verificationRunning: 'Перевіряється подій: {0}, почато {1}…', verificationClean: 'Чисто: перевірено подій: {0}, завершено {1}',
    verificationFailed: 'ПОМИЛКА: перевірено подій: {0}, завершено {1}',
    reportIssued: '{0} видано як подію {1} журналу', reportServed: '{0} завантажено (публічні звіти не вносяться до журналу)', reportRefused: 'Звіту немає: {0}',
  },
};

let lang = localStorage.getItem('guarantor.lang') === 'uk' ? 'uk' : 'en';

/** A label in the chosen language, with {0}, {1}… filled in. */
function t(key, ...values) {
  let text = I18N[lang][key] ?? I18N.en[key] ?? key;
  values.forEach((v, i) => { text = text.replace('{' + i + '}', String(v)); });
  return text;
}

const STATUS_COLOURS = {
  reported: '#8d99a6', corroborated: '#f0a202', verified: '#d7263d', rejected: '#c9d3dc', disputed: '#7b2cbf',
};
const SEVERITY_COLOURS = { grave: '#5c0011', serious: '#ef6c00', minor: '#d4b000' };
const SEVERITY_RANK = { minor: 1, serious: 2, grave: 3 };

const state = {
  key: sessionStorage.getItem('guarantor.key'),
  me: null,
  agreement: null,
  incidents: new Map(),
  findings: new Map(),   // incident id → its findings
  violations: [],
  alerts: [],
  lines: [],             // {id, agreement, geojson}
  zones: null,
  sectors: null,
  coalition: null,
  sanctions: [],
  selected: null,
  queue: null,
  queueState: 'reported',
  streamAbort: null,
  lastEventId: null,
};

const $ = (selector) => document.querySelector(selector);

/** An element with text content (never HTML from data). */
function el(tag, attributes = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attributes)) {
    if (k === 'class') e.className = v; else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null) e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c ?? ''));
  return e;
}

/** The API, with the key if there is one; a refusal throws with the server's reason. */
async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (state.key) headers.Authorization = 'Bearer ' + state.key;
  const response = await fetch(path, Object.assign({}, options, { headers }));
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = text; }
  if (!response.ok) {
    const error = new Error((body && body.error) || text || String(response.status));
    error.status = response.status;
    throw error;
  }
  return body;
}

function notice(text, ok = false) {
  const n = $('#notice');
  n.textContent = text;
  n.className = ok ? 'ok' : '';
  n.hidden = !text;
}

function time(iso) { return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : ''; }
function can(right) { return !!state.me && state.me.rights.includes(right); }

// MARK: Loading

async function loadAll() {
  notice('');
  state.incidents.clear();
  state.findings.clear();
  const [agreement, lines, zones, sectors] = await Promise.all([
    api('/agreement'), api('/lines'), api('/zones').catch(() => null), api('/sectors').catch(() => null),
  ]);
  state.agreement = agreement;
  $('#mission-name').textContent = agreement.id;
  state.zones = zones;
  state.sectors = sectors;
  state.lines = await Promise.all(lines.lines.map(async (l) => ({
    id: l.id, agreement: l.agreement, geojson: await api('/lines/' + encodeURIComponent(l.id)),
  })));
  fitMap();
  mark('lines');
  drawMap();
  await loadIncidents(() => drawMap());
  mark('incidents');
  await loadViolations();
  await Promise.all([loadCoalition(), loadAlerts()]);
  renderAll();
  startStream();
}

/** Reads every page of a paged list (`/incidents`, `/violations`: 1,000 a page, on with `next`), calling `each` with
 * each page's records as it arrives. */
async function readPages(path, field, each) {
  let after = null;
  for (let page = 0; page < 100; page++) {
    const body = await api(path + '?limit=1000' + (after ? '&after=' + encodeURIComponent(after) : ''));
    each(body[field]);
    if (!body.next) break;
    after = body.next;
  }
}

/** Every incident the reader may read; `pageLoaded` runs after each page (the map draws the first thousand while
 * the rest arrive). */
async function loadIncidents(pageLoaded = () => {}) {
  await readPages('/incidents', 'incidents', (incidents) => {
    for (const i of incidents) state.incidents.set(i.id, i);
    pageLoaded();
  });
}

/** Milliseconds since navigation at which the page reached each step (read by scripts/bench_dashboard.py). */
const timings = {};
window.guarantorTimings = timings;
function mark(name) { if (!(name in timings)) timings[name] = Math.round(performance.now()); }

async function loadViolations() {
  state.violations = [];
  await readPages('/violations', 'violations', (violations) => state.violations.push(...violations));
  state.findings.clear();
  for (const v of state.violations) {
    if (!v.incidentId) continue;
    if (!state.findings.has(v.incidentId)) state.findings.set(v.incidentId, []);
    state.findings.get(v.incidentId).push(v);
  }
}

async function loadCoalition() {
  state.coalition = await api('/coalition').catch(() => null);
  const s = await api('/sanctions').catch(() => ({ sanctions: [] }));
  state.sanctions = s.sanctions;
}

async function loadAlerts() {
  state.alerts = (await api('/alerts').catch(() => ({ alerts: [] }))).alerts;
}

// MARK: The map (a canvas: the mission's own GeoJSON as the backdrop, thousands of incidents at once)

const map = { scale: 1, cx: 0, cy: 0, cos: 1, dragging: null };

function linePoints() {
  const points = [];
  for (const l of state.lines) {
    for (const f of l.geojson.features || []) forEachPosition(f.geometry, (p) => points.push(p));
  }
  return points;
}

function forEachPosition(geometry, body) {
  if (!geometry) return;
  const walk = (c, depth) => { if (depth === 0) body(c); else for (const x of c) walk(x, depth - 1); };
  const depth = { Point: 0, LineString: 1, MultiPoint: 1, MultiLineString: 2, Polygon: 2, MultiPolygon: 3 };
  if (geometry.type in depth) walk(geometry.coordinates, depth[geometry.type]);
}

function fitMap() {
  const points = linePoints();
  const canvas = $('#map');
  if (!points.length) return;
  const lons = points.map((p) => p[0]), lats = points.map((p) => p[1]);
  const [w, e, s, n] = [Math.min(...lons), Math.max(...lons), Math.min(...lats), Math.max(...lats)];
  map.cx = (w + e) / 2;
  map.cy = (s + n) / 2;
  map.cos = Math.cos(map.cy * Math.PI / 180);
  const width = canvas.clientWidth || 800, height = canvas.clientHeight || 500;
  map.scale = 0.9 * Math.min(width / (((e - w) * map.cos) || 1), height / ((n - s) || 1));
}

function project(lon, lat) {
  const canvas = $('#map');
  return [canvas.clientWidth / 2 + (lon - map.cx) * map.cos * map.scale,
    canvas.clientHeight / 2 - (lat - map.cy) * map.scale];
}

function unproject(x, y) {
  const canvas = $('#map');
  return [map.cx + (x - canvas.clientWidth / 2) / (map.cos * map.scale),
    map.cy - (y - canvas.clientHeight / 2) / map.scale];
}

function strokeGeometry(ctx, geometry, close) {
  const paths = geometry.type === 'LineString' ? [geometry.coordinates]
    : geometry.type === 'MultiLineString' || geometry.type === 'Polygon' ? geometry.coordinates
      : geometry.type === 'MultiPolygon' ? geometry.coordinates.flat() : [];
  ctx.beginPath();
  for (const path of paths) {
    path.forEach((p, i) => { const [x, y] = project(p[0], p[1]); if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y); });
    if (close) ctx.closePath();
  }
}

let drawQueued = false;
function drawMap() {
  if (drawQueued) return;
  drawQueued = true;
  requestAnimationFrame(() => { drawQueued = false; paint(); });
}

function paint() {
  const canvas = $('#map');
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth, height = canvas.clientHeight;
  canvas.width = width * ratio;
  canvas.height = height * ratio;
  const ctx = canvas.getContext('2d');
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.fillStyle = '#f7f9fb';
  ctx.fillRect(0, 0, width, height);
  // Sectors: polygons filled, or stretches of the line in alternating tints, each named.
  ctx.font = '11px "DejaVu Sans", sans-serif';
  (state.sectors?.features || []).forEach((f, i) => {
    if (!f.geometry) return;
    const polygon = f.geometry.type === 'Polygon' || f.geometry.type === 'MultiPolygon';
    strokeGeometry(ctx, f.geometry, polygon);
    if (polygon) {
      ctx.fillStyle = i % 2 ? '#eef2f6' : '#e6ecf2';
      ctx.fill();
      ctx.strokeStyle = '#c2ccd6';
      ctx.lineWidth = 1;
      ctx.stroke();
    } else {
      ctx.strokeStyle = i % 2 ? 'rgba(120,150,180,.25)' : 'rgba(120,150,180,.45)';
      ctx.lineWidth = 14;
      ctx.stroke();
    }
    const points = [];
    forEachPosition(f.geometry, (p) => points.push(p));
    if (points.length && f.properties?.name) {
      const p = polygon ? [points.reduce((a, q) => a + q[0], 0) / points.length,
        points.reduce((a, q) => a + q[1], 0) / points.length] : points[Math.floor(points.length / 2)];
      const [x, y] = project(p[0], p[1]);
      ctx.fillStyle = '#7d8e9f';
      ctx.fillText(f.properties.name, x + (polygon ? 0 : 10), y);
    }
  });
  // Zones: both edges, dashed.
  ctx.setLineDash([4, 4]);
  (state.zones?.features || []).forEach((f, i) => {
    strokeGeometry(ctx, f.geometry, false);
    ctx.strokeStyle = ['#4f8a8b', '#9c6644', '#6d597a'][i % 3];
    ctx.lineWidth = 1;
    ctx.stroke();
  });
  // Candidate lines dashed, the agreement's line solid.
  ctx.setLineDash([8, 5]);
  for (const l of state.lines.filter((x) => !x.agreement)) {
    for (const f of l.geojson.features) {
      strokeGeometry(ctx, f.geometry, false);
      ctx.strokeStyle = '#5a6b7c';
      ctx.lineWidth = 1.5;
      ctx.stroke();
    }
  }
  ctx.setLineDash([]);
  for (const l of state.lines.filter((x) => x.agreement)) {
    for (const f of l.geojson.features) {
      strokeGeometry(ctx, f.geometry, false);
      ctx.strokeStyle = '#111';
      ctx.lineWidth = 2.5;
      ctx.stroke();
    }
  }
  // Protected sites: squares.
  for (const site of state.coalition?.protectedSites || []) {
    const [x, y] = project(site.location.lon, site.location.lat);
    ctx.fillStyle = '#1565c0';
    ctx.fillRect(x - 5, y - 5, 10, 10);
    ctx.fillText(site.name, x + 8, y + 4);
  }
  // Incidents: coloured by status, sized by reports; a ring for the gravest finding.
  let drawn = 0;
  for (const i of state.incidents.values()) {
    const [x, y] = project(i.location.lon, i.location.lat);
    drawn++;
    if (x < -20 || y < -20 || x > width + 20 || y > height + 20) continue;
    const r = 2.5 + Math.min(8, Math.sqrt(i.observationIds.length) * 1.5);
    ctx.beginPath();
    ctx.arc(x, y, r, 0, 2 * Math.PI);
    ctx.fillStyle = STATUS_COLOURS[i.status] || '#8d99a6';
    ctx.fill();
    const gravest = (state.findings.get(i.id) || []).reduce(
      (g, v) => (SEVERITY_RANK[v.severity] || 0) > (SEVERITY_RANK[g] || 0) ? v.severity : g, null);
    if (gravest) {
      ctx.strokeStyle = SEVERITY_COLOURS[gravest];
      ctx.lineWidth = gravest === 'grave' ? 3 : 2;
      ctx.stroke();
    }
    if (state.selected === i.id) {
      ctx.beginPath();
      ctx.arc(x, y, r + 5, 0, 2 * Math.PI);
      ctx.strokeStyle = '#000';
      ctx.lineWidth = 1.5;
      ctx.stroke();
    }
  }
  canvas.dataset.incidents = String(drawn);
  if (drawn > 0) mark('firstPaintWithIncidents');
  $('#map-count').textContent = t('incidentsOnMap', drawn);
  if (!state.lines.length) { ctx.fillStyle = '#66788a'; ctx.fillText(t('mapMissing'), 20, 30); }
}

function renderLegend() {
  const legend = $('#map-legend');
  legend.replaceChildren();
  for (const [status, colour] of Object.entries(STATUS_COLOURS)) {
    const dot = el('span', { class: 'dot' });
    dot.style.background = colour;
    legend.append(dot, t('status' + status[0].toUpperCase() + status.slice(1)));
  }
  legend.append(el('br'));
  for (const [severity, colour] of Object.entries(SEVERITY_COLOURS)) {
    const ring = el('span', { class: 'dot' });
    ring.style.border = '2px solid ' + colour;
    legend.append(ring, t(severity));
  }
}

function nearestIncident(x, y) {
  let best = null, bestDistance = 12 * 12;
  for (const i of state.incidents.values()) {
    const [px, py] = project(i.location.lon, i.location.lat);
    const d = (px - x) ** 2 + (py - y) ** 2;
    if (d < bestDistance) { best = i; bestDistance = d; }
  }
  return best;
}

function setUpMapEvents() {
  const canvas = $('#map');
  canvas.addEventListener('wheel', (event) => {
    event.preventDefault();
    const rect = canvas.getBoundingClientRect();
    const [lon, lat] = unproject(event.clientX - rect.left, event.clientY - rect.top);
    map.scale *= event.deltaY < 0 ? 1.25 : 0.8;
    const [lon2, lat2] = unproject(event.clientX - rect.left, event.clientY - rect.top);
    map.cx += lon - lon2;
    map.cy += lat - lat2;
    drawMap();
  }, { passive: false });
  canvas.addEventListener('mousedown', (event) => {
    map.dragging = { x: event.clientX, y: event.clientY, cx: map.cx, cy: map.cy, moved: false };
  });
  window.addEventListener('mousemove', (event) => {
    const d = map.dragging;
    if (!d) return;
    if (Math.abs(event.clientX - d.x) + Math.abs(event.clientY - d.y) > 3) d.moved = true;
    map.cx = d.cx - (event.clientX - d.x) / (map.cos * map.scale);
    map.cy = d.cy + (event.clientY - d.y) / map.scale;
    drawMap();
  });
  window.addEventListener('mouseup', (event) => {
    const d = map.dragging;
    map.dragging = null;
    if (!d || d.moved || event.target !== canvas) return;
    const rect = canvas.getBoundingClientRect();
    const hit = nearestIncident(event.clientX - rect.left, event.clientY - rect.top);
    if (hit) selectIncident(hit.id);
  });
  window.addEventListener('resize', drawMap);
}

// MARK: An incident

async function selectIncident(id) {
  state.selected = id;
  drawMap();
  const panel = $('#detail');
  const i = state.incidents.get(id);
  if (!i) return;
  panel.replaceChildren(incidentDetails(i));
  try {
    const body = await api('/incidents/' + encodeURIComponent(id) + '/observations');
    if (state.selected !== id) return;
    panel.append(el('h3', {}, t('reports')), reportsTable(body.observations));
  } catch (error) {
    panel.append(el('p', { class: 'refused' }, error.message));
  }
}

function incidentDetails(i) {
  const box = el('div', { 'data-incident': i.id });
  box.append(el('h2', {}, t('incident') + ' ' + i.id));
  const dl = el('dl');
  const add = (label, value) => { if (value !== undefined && value !== null && value !== '') dl.append(el('dt', {}, label), el('dd', {}, String(value))); };
  add(t('kind'), i.kind + (i.weaponClass ? ' (' + i.weaponClass + ')' : ''));
  add(t('status'), i.status);
  add(t('sector'), i.sector);
  add(t('side'), i.side);
  add(t('distance'), Math.round(i.distanceToLineMeters) + ' m');
  add(t('sources'), (i.sources || []).join(', '));
  box.append(dl);
  box.append(el('h3', {}, t('timeline')));
  const timeline = el('ul');
  for (const [label, value] of [['start', i.start], ['verifiedAt', i.verifiedAt],
    ['end', i.end]]) {
    if (value) timeline.append(el('li', {}, t(label) + ': ' + time(value)));
  }
  if (i.lastReview) {
    const r = i.lastReview;
    timeline.append(el('li', {}, t('lastReview') + ': ' + [r.action, r.member, r.user, time(r.at), r.reason]
      .filter(Boolean).join(' · ')));
  }
  box.append(timeline);
  box.append(el('h3', {}, t('findings')));
  const findings = state.findings.get(i.id) || [];
  if (!findings.length) box.append(el('p', { class: 'muted' }, t('noFindings')));
  const list = el('ul');
  for (const v of findings) {
    const who = v.attributedTo && v.attributedTo !== 'unattributed' ? t('attributedTo', v.attributedTo) : t('unattributed');
    list.append(el('li', { 'data-finding': v.id }, `${v.rule} · ${t(v.severity)} · ${who} · ${v.detail || ''}`));
  }
  box.append(list);
  return box;
}

function reportsTable(observations, selectable = false) {
  const table = el('table', { class: 'reports' });
  for (const o of observations) {
    const row = el('tr', { 'data-observation': o.id });
    if (selectable) row.append(el('td', {}, el('input', { type: 'checkbox', value: o.id })));
    row.append(el('td', {}, o.id), el('td', {}, o.source), el('td', {}, o.kind), el('td', {}, time(o.observedAt)),
      el('td', {}, o.tlp || 'GREEN'));
    table.append(row);
  }
  return table;
}

function renderIncidentTable() {
  const body = $('#incident-table tbody');
  const latest = [...state.incidents.values()].sort((a, b) => (a.start < b.start ? 1 : -1)).slice(0, 200);
  body.replaceChildren(...latest.map((i) => el('tr', { 'data-id': i.id, onclick: () => selectIncident(i.id) },
    el('td', {}, time(i.start)), el('td', {}, i.kind), el('td', {}, i.status), el('td', {}, i.sector || ''),
    el('td', {}, i.side || ''), el('td', {}, String(i.observationIds.length)))));
}

function renderAlerts() {
  const list = $('#alerts-live');
  list.replaceChildren(...[...state.alerts].reverse().slice(0, 50).map(alertItem));
}

function alertItem(a) {
  const item = el('li', { 'data-alert': a.id },
    `${time(a.firedAt)} · ${a.triggerId || a.kind} · ${t('level1', a.level)} · ${a.sector || ''} · ${a.detail || ''} `);
  if (a.kind === 'tripwire') {
    const button = el('button', { class: 'small' }, t('spotReport'));
    button.addEventListener('click', () => downloadReport(`/reports/spot/${encodeURIComponent(a.id)}?lang=${lang}`,
      `spot-${a.id}.html`));
    item.append(button);
  }
  return item;
}

/** Fetches a report with the key in the header and hands it to the browser as a download (issued to the log). */
async function downloadReport(path, name) {
  const status = $('#report-status');
  status.textContent = t('loading');
  const headers = {};
  if (state.key) headers.Authorization = 'Bearer ' + state.key;
  const response = await fetch(path, { headers });
  if (!response.ok) {
    let reason = await response.text();
    try { reason = JSON.parse(reason).error || reason; } catch { /* plain text */ }
    status.textContent = t('reportRefused', reason);
    return;
  }
  const link = el('a', { href: URL.createObjectURL(await response.blob()), download: name });
  document.body.append(link);
  link.click();
  link.remove();
  const event = response.headers.get('X-Report-Event');
  status.textContent = event ? t('reportIssued', name, event) : t('reportServed', name);
}

function setUpReports() {
  const date = $('#report-date');
  date.value = new Date(Date.now() - 86400000).toISOString().slice(0, 10);
  for (const format of ['html', 'pdf', 'md']) {
    $('#report-' + format).addEventListener('click', () => downloadReport(
      `/reports/daily/${date.value}?lang=${lang}&format=${format}`, `report-${date.value}.${format}`));
  }
}

// MARK: The guarantee

function renderGuarantee() {
  // Level per sector: the level its latest alert set (a quiet period steps it down again).
  const levels = new Map();
  // Alerts on the whole line (no sector) set its level; alerts about members (overdue, continuity) set none.
  const scoped = [...state.alerts].filter((x) => !['overdue', 'continuity', 'unpledged'].includes(x.kind));
  for (const a of scoped.sort((x, y) => (x.firedAt < y.firedAt ? -1 : x.firedAt > y.firedAt ? 1 : 0))) {
    levels.set(a.sector || t('wholeLine'), a.level || 0);
  }
  const table = $('#levels');
  table.replaceChildren(el('tr', {}, el('th', {}, t('sector')), el('th', {}, t('level'))));
  if (!levels.size) table.append(el('tr', {}, el('td', { colspan: 2, class: 'muted' }, t('none'))));
  for (const [sector, level] of [...levels].sort()) {
    table.append(el('tr', {}, el('td', {}, sector), el('td', {}, el('span', { class: 'badge level-' + level }, String(level)))));
  }
  // The force against its ceiling.
  const force = state.coalition?.deterrenceForce;
  const box = $('#force');
  box.replaceChildren();
  if (force) {
    const sum = (o) => Object.values(o || {}).reduce((a, b) => a + b, 0);
    const pledged = sum(force.pledged), deployed = sum(force.deployed), ceiling = force.ceiling;
    box.append(bar(t('pledged'), pledged, ceiling, '#90a4ae'), bar(t('deployed'), deployed, ceiling, '#1565c0'),
      el('p', {}, `${t('ceiling')}: ${ceiling.toLocaleString()}`));
  }
  const pillars = new Map();
  for (const p of state.coalition?.pledges || []) pillars.set(p.pillar, (pillars.get(p.pillar) || 0) + 1);
  $('#pillars').replaceChildren(el('tr', {}, el('th', {}, t('pillar')), el('th', {}, t('count'))),
    ...[...pillars].sort().map(([p, n]) => el('tr', {}, el('td', {}, p), el('td', {}, String(n)))));
  renderLogistics();
  // In force: each package's latest event activated it (a lifting follows its activation in the list).
  const latest = new Map();
  for (const s of [...state.sanctions].sort((x, y) => (x.at < y.at ? -1 : x.at > y.at ? 1 : 0))) latest.set(s.package, s);
  const sanctions = [...latest.values()].filter((s) => s.activated);
  $('#sanctions').replaceChildren(...(sanctions.length ? sanctions.map((s) => el('li', {}, `${s.package} · ${time(s.at)}`))
    : [el('li', { class: 'muted' }, t('none'))]));
  renderCharts();
}

/** Each logistics pledge: what is owed per period and, for a key holder, what was delivered and the alerts. */
function renderLogistics() {
  const pledges = (state.coalition?.pledges || []).filter((p) => p.pillar === 'logistics');
  const table = $('#logistics');
  table.replaceChildren(el('tr', {}, ...['member', 'item', 'perPeriod', 'delivered', 'continuityAlerts']
    .map((k) => el('th', {}, t(k)))));
  if (!pledges.length) table.append(el('tr', {}, el('td', { colspan: 5, class: 'muted' }, t('none'))));
  for (const p of pledges) {
    const alerts = p.continuityAlerts;
    table.append(el('tr', {}, el('td', {}, p.member), el('td', {}, p.item || p.id),
      el('td', {}, `${p.quantity ?? '—'} ${p.unit || ''} / ${p.periodDays ?? '—'} d`),
      el('td', {}, p.delivered === undefined ? '—' : `${p.delivered} ${p.unit || ''}`),
      el('td', { class: alerts ? 'overdue' : '' }, alerts === undefined ? '—' : String(alerts))));
  }
}

function bar(label, value, max, colour) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 300 24');
  svg.setAttribute('width', '100%');
  const back = document.createElementNS(ns, 'rect');
  Object.entries({ x: 0, y: 4, width: 300, height: 16, fill: '#eceff1' }).forEach(([k, v]) => back.setAttribute(k, v));
  const front = document.createElementNS(ns, 'rect');
  Object.entries({ x: 0, y: 4, width: Math.min(300, 300 * value / (max || 1)), height: 16, fill: colour })
    .forEach(([k, v]) => front.setAttribute(k, v));
  svg.append(back, front);
  return el('div', {}, el('div', {}, `${label}: ${value.toLocaleString()}`), svg);
}

const DAY = 86400000;

/** Violations per day over the 30 days up to the mission's latest finding, and the two periods compared. */
function renderCharts() {
  const dated = state.violations.filter((v) => v.incidentId && v.at).map((v) => ({ v, at: Date.parse(v.at) }));
  const chart = $('#chart');
  chart.replaceChildren();
  const periods = $('#periods');
  periods.replaceChildren();
  if (!dated.length) { chart.append(el('p', { class: 'muted' }, t('none'))); return; }
  const end = Math.floor(Math.max(...dated.map((d) => d.at)) / DAY) * DAY + DAY;
  const days = Array.from({ length: 30 }, () => new Map());
  const parties = new Set();
  const rows = new Map();
  for (const { v, at } of dated) {
    const ago = Math.floor((end - 1 - at) / DAY);
    const party = v.attributedTo || 'unattributed';
    parties.add(party);
    const key = (v.sector || '—') + '\u0000' + party;
    const row = rows.get(key) || { sector: v.sector || '—', party, last: 0, previous: 0 };
    if (ago < 30) {
      days[29 - ago].set(party, (days[29 - ago].get(party) || 0) + 1);
      row.last++;
    } else if (ago < 60) row.previous++;
    rows.set(key, row);
  }
  const colours = ['#d7263d', '#1565c0', '#8d99a6', '#f0a202', '#2e7d32'];
  const partyList = [...parties].sort();
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 620 180');
  svg.setAttribute('width', '100%');
  const most = Math.max(1, ...days.map((d) => [...d.values()].reduce((a, b) => a + b, 0)));
  days.forEach((day, i) => {
    let y = 160;
    partyList.forEach((party, p) => {
      const n = day.get(party) || 0;
      if (!n) return;
      const h = 150 * n / most;
      const rect = document.createElementNS(ns, 'rect');
      Object.entries({ x: 10 + i * 20, y: y - h, width: 16, height: h, fill: colours[p % colours.length] })
        .forEach(([k, v]) => rect.setAttribute(k, v));
      const title = document.createElementNS(ns, 'title');
      title.textContent = `${new Date(end - (30 - i) * DAY).toISOString().slice(0, 10)} ${party}: ${n}`;
      rect.append(title);
      svg.append(rect);
      y -= h;
    });
  });
  const axis = document.createElementNS(ns, 'text');
  Object.entries({ x: 10, y: 176, 'font-size': 9 }).forEach(([k, v]) => axis.setAttribute(k, v));
  axis.textContent = new Date(end - 30 * DAY).toISOString().slice(0, 10) + ' – ' + new Date(end - DAY).toISOString().slice(0, 10);
  svg.append(axis);
  chart.append(svg, el('p', {}, ...partyList.map((p, i) => {
    const dot = el('span', { class: 'dot' });
    dot.style.cssText = `display:inline-block;width:10px;height:10px;margin:0 4px 0 10px;background:${colours[i % colours.length]}`;
    return el('span', {}, dot, p);
  })));
  periods.append(el('tr', {}, ...['sector', 'party', 'last30', 'previous30', 'change'].map((k) => el('th', {}, t(k)))));
  for (const r of [...rows.values()].sort((a, b) => b.last - a.last || a.sector.localeCompare(b.sector))) {
    const change = r.last - r.previous;
    periods.append(el('tr', {}, el('td', {}, r.sector), el('td', {}, r.party), el('td', {}, String(r.last)),
      el('td', {}, String(r.previous)), el('td', {}, (change > 0 ? '+' : '') + change)));
  }
}

// MARK: The analyst's queue

async function loadQueue() {
  state.queue = await api('/incidents/queue');
  renderQueue();
}

function renderQueue() {
  const states = $('#queue-states');
  states.replaceChildren(...Object.entries(state.queue || {}).map(([name, ids]) => el('button', {
    class: name === state.queueState ? 'active' : '', onclick: () => { state.queueState = name; renderQueue(); },
  }, `${name} (${ids.length})`)));
  const ids = (state.queue || {})[state.queueState] || [];
  $('#queue').replaceChildren(...ids.slice(0, 500).map((id) => {
    const i = state.incidents.get(id);
    return el('li', { 'data-id': id, class: state.selected === id ? 'selected' : '', onclick: () => openReview(id) },
      i ? `${time(i.start)} · ${i.kind} · ${i.sector || ''}` : id);
  }));
}

async function openReview(id) {
  state.selected = id;
  renderQueue();
  const box = $('#review');
  const i = state.incidents.get(id);
  let details = i ? incidentDetails(i) : el('h2', {}, id);
  box.replaceChildren(details);
  let observations = [];
  try { observations = (await api('/incidents/' + encodeURIComponent(id) + '/observations')).observations; } catch { }
  const reports = reportsTable(observations, true);
  const reason = el('textarea', { id: 'reason', 'aria-label': t('reason'), placeholder: t('reason') });
  const mergeWith = el('input', { id: 'merge-with', placeholder: t('mergeWith'), size: 40 });
  const outcome = el('span', { id: 'review-outcome' });
  const act = async (action) => {
    const body = { id: 'web/' + Date.now() + '/' + Math.random().toString(16).slice(2, 10), action,
      member: state.me.member, user: state.me.user, incident: id, reason: reason.value };
    if (action === 'merge') body.mergeIncidents = mergeWith.value.split(',').map((s) => s.trim()).filter(Boolean);
    if (action === 'split') body.splitObservations = [...reports.querySelectorAll('input:checked')].map((c) => c.value);
    const before = state.incidents.get(id)?.status;
    try {
      await api('/actions', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      outcome.className = '';
      outcome.textContent = t('done', action);
      await refreshIncident(id, before);
      if (state.incidents.has(id)) {
        const fresh = incidentDetails(state.incidents.get(id));
        details.replaceWith(fresh);
        details = fresh;
      }
      await loadQueue();
    } catch (error) {
      // Separation of duties and every other refusal: the server's reason, shown where the button is.
      outcome.className = 'refused';
      outcome.textContent = t('refused', error.message);
    }
  };
  box.append(el('h3', {}, t('reports')), el('p', { class: 'muted' }, t('splitHint')), reports, reason,
    el('div', {}, ...['verify', 'reject', 'dispute', 'reopen'].map((a) => el('button', { 'data-action': a, onclick: () => act(a) }, t(a)))),
    el('div', {}, mergeWith, el('button', { 'data-action': 'merge', onclick: () => act('merge') }, t('merge')),
      el('button', { 'data-action': 'split', onclick: () => act('split') }, t('split'))), outcome);
}

/** Reads the incidents again until one's status is no longer `before` (the action applied), and redraws. */
async function refreshIncident(id, before) {
  for (let attempt = 0; attempt < 20; attempt++) {
    await loadIncidents();
    if (state.incidents.get(id)?.status !== before) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  await loadViolations();
  drawMap();
  renderIncidentTable();
}

// MARK: The liaison's obligations

let obligations = [];
async function loadObligations() {
  obligations = (await api('/obligations?member=' + encodeURIComponent(state.me.member))).obligations;
  renderObligations();
}

function renderObligations() {
  const table = $('#obligations');
  table.replaceChildren(el('tr', {}, ...['obligation', 'status', 'deadline', 'left', ''].map((k) => el('th', {}, k ? t(k) : ''))));
  if (!obligations.length) table.append(el('tr', {}, el('td', { colspan: 5, class: 'muted' }, t('noObligations'))));
  for (const o of obligations) {
    const outcome = el('span');
    const reference = el('input', { placeholder: t('reference') + ' / ' + t('reason'), size: 28 });
    const answer = async (action) => {
      const body = { id: 'web/' + Date.now() + '/' + Math.random().toString(16).slice(2, 10), action,
        member: state.me.member, user: state.me.user, obligation: o.id };
      if (action === 'fulfil') body.reference = reference.value;
      if (action === 'decline') body.reason = reference.value;
      try {
        await api('/actions', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
        outcome.className = '';
        outcome.textContent = t('done', action);
        setTimeout(loadObligations, 500);
      } catch (error) {
        outcome.className = 'refused';
        outcome.textContent = t('refused', error.message);
      }
    };
    const open = o.status === 'open' || o.status === 'acknowledged' || o.status === 'overdue';
    table.append(el('tr', { 'data-obligation': o.id }, el('td', {}, `${o.kind} · ${o.pillar} · ${o.sector || ''}`),
      el('td', {}, o.status), el('td', {}, time(o.deadline)), el('td', { class: 'countdown', 'data-deadline': o.deadline }),
      el('td', {}, ...(open ? [reference, ...['acknowledge', 'fulfil', 'decline'].map((a) => el('button', { onclick: () => answer(a) }, t(a)))] : []), outcome)));
  }
  tickCountdowns();
}

function tickCountdowns() {
  for (const cell of document.querySelectorAll('.countdown')) {
    const left = Date.parse(cell.dataset.deadline) - Date.now();
    const abs = Math.abs(left);
    const text = `${Math.floor(abs / 3600000)} h ${String(Math.floor(abs / 60000) % 60).padStart(2, '0')} min`;
    cell.textContent = left < 0 ? `${t('overdue')} ${text}` : text;
    cell.className = 'countdown' + (left < 0 ? ' overdue' : '');
  }
}

// MARK: The auditor

/** The server's last verification of the log, and a button to run one (polled until it ends). */
async function loadVerification() {
  const box = $('#verification');
  try {
    const body = await api('/verification');
    const button = el('button', {}, t('verifyNow'));
    button.disabled = !!body.running;
    button.addEventListener('click', async () => {
      button.disabled = true;
      try { await api('/verification', { method: 'POST' }); } catch (error) { box.append(el('p', { class: 'refused' }, error.message)); }
      loadVerification();
    });
    box.replaceChildren(el('h2', {}, t('verification')), button);
    if (body.running) box.append(el('p', { class: 'muted' }, t('verificationRunning', body.running.events, time(body.running.startedAt))));
    const last = body.last;
    if (!last) {
      box.append(el('p', { class: 'muted' }, t('noVerification')));
    } else {
      box.append(el('p', { class: last.clean ? 'clean' : 'refused', id: 'verification-result' },
        t(last.clean ? 'verificationClean' : 'verificationFailed', last.events, time(last.finishedAt))));
      const list = el('ul');
      for (const line of last.failures || []) list.append(el('li', { class: 'refused' }, line));
      if (last.error) list.append(el('li', { class: 'refused' }, last.error));
      for (const line of last.passed || []) list.append(el('li', {}, line));
      box.append(list);
    }
    if (body.running) setTimeout(loadVerification, 1000);
  } catch (error) {
    box.replaceChildren(el('p', { class: 'refused' }, error.message));
  }
}

async function loadCheckpoints() {
  const box = $('#checkpoints');
  try {
    const body = await api('/checkpoints');
    const latest = body.latest;
    box.replaceChildren(el('h2', {}, t('checkpoint')));
    if (!latest) { box.append(el('p', { class: 'muted' }, t('noCheckpoint'))); return; }
    const dl = el('dl');
    const flat = latest.checkpoint || latest;
    for (const [k, v] of Object.entries(flat)) {
      if (typeof v !== 'object') dl.append(el('dt', {}, k), el('dd', {}, String(v)));
    }
    box.append(dl, el('h3', {}, `${t('cosignatures')} (quorum ${body.quorum})`));
    const table = el('table', {}, el('tr', {}, el('th', {}, t('size')), el('th', {}, t('cosignatures'))));
    for (const c of [...(body.checkpoints || [])].reverse().slice(0, 200)) {
      table.append(el('tr', {}, el('td', {}, String(c.size)),
        el('td', { class: c.cosignedBy.length >= body.quorum ? '' : 'overdue' }, c.cosignedBy.join(', ') || '—')));
    }
    box.append(table);
  } catch (error) {
    box.replaceChildren(el('p', { class: 'refused' }, error.message));
  }
}

// MARK: Live: the stream (read with fetch, so that the key goes in a header and never in a URL)

function startStream() {
  if (state.streamAbort) state.streamAbort.abort();
  const controller = new AbortController();
  state.streamAbort = controller;
  (async () => {
    while (!controller.signal.aborted) {
      try {
        const headers = {};
        if (state.key) headers.Authorization = 'Bearer ' + state.key;
        if (state.lastEventId) headers['Last-Event-ID'] = state.lastEventId;
        const response = await fetch('/stream', { headers, signal: controller.signal });
        if (!response.ok) throw new Error(String(response.status));
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            streamEvent(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
          }
        }
      } catch (error) {
        if (controller.signal.aborted) return;
      }
      await new Promise((r) => setTimeout(r, 2000));
    }
  })();
}

function streamEvent(chunk) {
  let name = 'message', data = '', id = null;
  for (const line of chunk.split('\n')) {
    if (line.startsWith('event: ')) name = line.slice(7);
    else if (line.startsWith('data: ')) data += line.slice(6);
    else if (line.startsWith('id: ')) id = line.slice(4);
  }
  if (id) state.lastEventId = id;
  if (!data) return;
  const record = JSON.parse(data);
  if (name === 'incident') {
    state.incidents.set(record.id, record);
    drawMap();
    scheduleTable();
  } else if (name === 'alert') {
    if (!state.alerts.some((a) => a.id === record.id)) state.alerts.push(record);
    const item = alertItem(record);
    item.className = 'new';
    $('#alerts-live').prepend(item);
    notice(t('newAlert', `${record.triggerId || record.kind} · ${record.sector || ''}`), true);
    renderGuarantee();
  }
}

let tableTimer = null;
function scheduleTable() {
  if (tableTimer) return;
  tableTimer = setTimeout(() => { tableTimer = null; renderIncidentTable(); }, 500);
}

// MARK: Views, session, language

function showView(name) {
  for (const b of document.querySelectorAll('#tabs button')) b.classList.toggle('active', b.dataset.view === name);
  for (const v of document.querySelectorAll('.view')) v.hidden = v.id !== 'view-' + name;
  if (name === 'map') drawMap();
  if (name === 'analyst') loadQueue().catch((e) => notice(e.message));
  if (name === 'liaison') loadObligations().catch((e) => notice(e.message));
  if (name === 'auditor') { loadVerification(); loadCheckpoints(); }
}

function applyLanguage() {
  document.documentElement.lang = lang;
  for (const e of document.querySelectorAll('[data-t]')) e.textContent = t(e.dataset.t);
  for (const e of document.querySelectorAll('[data-t-placeholder]')) e.placeholder = t(e.dataset.tPlaceholder);
  $('#lang').value = lang;
  renderSession();
  renderLegend();
}

function renderSession() {
  const signedIn = !!state.me;
  $('#sign-in').hidden = signedIn;
  $('#sign-out').hidden = !signedIn;
  $('#who').textContent = signedIn ? t('signedInAs', state.me.user, state.me.member, state.me.role) : t('publicView');
  for (const b of document.querySelectorAll('#tabs button[data-right]')) b.hidden = !can(b.dataset.right);
}

function renderAll() {
  renderLegend();
  drawMap();
  renderIncidentTable();
  renderAlerts();
  renderGuarantee();
}

async function signIn(key) {
  state.key = key;
  try {
    state.me = await api('/me');
    sessionStorage.setItem('guarantor.key', key);
  } catch (error) {
    state.key = null;
    state.me = null;
    sessionStorage.removeItem('guarantor.key');
    notice(t('badKey', error.message));
  }
  renderSession();
  showView('map');
  await loadAll().catch((e) => notice(e.message));
}

function signOut() {
  state.key = null;
  state.me = null;
  sessionStorage.removeItem('guarantor.key');
  renderSession();
  showView('map');
  loadAll().catch((e) => notice(e.message));
}

document.addEventListener('DOMContentLoaded', () => {
  setUpMapEvents();
  for (const b of document.querySelectorAll('#tabs button')) b.addEventListener('click', () => showView(b.dataset.view));
  $('#sign-in').addEventListener('submit', (event) => {
    event.preventDefault();
    const key = $('#key').value.trim();
    $('#key').value = '';
    if (key) signIn(key);
  });
  $('#sign-out').addEventListener('click', signOut);
  setUpReports();
  $('#lang').addEventListener('change', (event) => {
    lang = event.target.value === 'uk' ? 'uk' : 'en';
    localStorage.setItem('guarantor.lang', lang);
    applyLanguage();
    renderAll();
  });
  setInterval(tickCountdowns, 1000);
  applyLanguage();
  if (state.key) signIn(state.key); else loadAll().catch((e) => notice(e.message));
});
