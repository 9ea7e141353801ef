// The detail of one event, shared by the event page, the violation review
// and the alert pages: what happened where and when, the snapshot with the
// scene's rule drawn over it, the recorded clip, the review decision
// (disposition) and the actions a reviewer may take (confirm or reject a
// violation, acknowledge an alert, export the evidence).
//
// Also the small helpers the lists use: typeBadge, eventSummary,
// dispositionBadge, matchesTypes.

import * as api from './api.js';
import { h, s, replace } from './dom.js';
import { addMessages, t, has, fmtDateTime, fmtNumber, fmtPercent } from './i18n.js';
import { link } from './router.js';
import { canReview, hasCap, isICT, session } from './session.js';
import { badge, button, dialog, field, notify } from './ui.js';
import { exportEvidence } from './evidence.js';

addMessages({
  vi: {
    'ev.facts': 'Thông tin sự kiện',
    'ev.id': 'Mã sự kiện',
    'ev.system': 'Hệ thống',
    'ev.zone': 'Vùng',
    'ev.line': 'Vạch, tín hiệu',
    'ev.object': 'Đối tượng',
    'ev.objectValue': '{class}, độ tin cậy {confidence}',
    'ev.track': 'đối tượng theo dõi số {id}',
    'ev.counts': 'Số lượng',
    'ev.measures': 'Số đo',
    'ev.detail': 'Mô tả',
    'ev.model': 'Mô hình',
    'ev.node': 'Máy phân tích',
    'ev.snapshotHash': 'SHA-256 ảnh chụp',
    'ev.inZone': 'vùng {zone}',
    'ev.atLine': 'vạch {line}',
    'ev.inOut': 'vào {in}, ra {out}',
    'ev.snapshot': 'Ảnh chụp',
    'ev.snapshot.alt': 'Ảnh chụp sự kiện «{type}» của camera {camera} lúc {time}',
    'ev.snapshot.none': 'Không có ảnh chụp được lưu cho sự kiện này.',
    'ev.snapshot.failed': 'Không tải được ảnh chụp của sự kiện.',
    'ev.overlay': 'Vẽ quy tắc và đối tượng lên ảnh',
    'ev.clip': 'Đoạn phim',
    'ev.clip.window': 'Từ {from} đến {to}',
    'ev.clip.none': 'Không có bản ghi hình trong khoảng thời gian của sự kiện.',
    'ev.clip.forbidden': 'Bạn không có quyền xem lại hình ảnh của camera này.',
    'ev.clip.failed': 'Không phát được đoạn phim.',
    'ev.disposition': 'Kết quả xem xét',
    'ev.decision': 'Quyết định',
    'ev.reviewer': 'Người xem xét',
    'ev.reviewedAt': 'Thời điểm',
    'ev.decision.pending': 'Chờ xem xét',
    'ev.decision.confirmed': 'Đã xác nhận vi phạm',
    'ev.decision.rejected': 'Đã bác bỏ',
    'ev.decision.acknowledged': 'Đã xử lý',
    'ev.notReviewed': 'Sự kiện này chưa được xem xét.',
    'ev.actions': 'Thao tác',
    'ev.confirm': 'Xác nhận vi phạm',
    'ev.reject': 'Bác bỏ',
    'ev.acknowledge': 'Xác nhận đã xử lý',
    'ev.export': 'Trích xuất chứng cứ',
    'ev.title.confirmed': 'Xác nhận vi phạm',
    'ev.title.rejected': 'Bác bỏ vi phạm',
    'ev.title.acknowledged': 'Xác nhận đã xử lý cảnh báo',
    'ev.decideText': '{type} — camera {camera}, lúc {time}. Quyết định và lý do được ghi vào nhật ký kiểm toán.',
    'ev.reasonHint': 'Bắt buộc. Nêu căn cứ của quyết định (điều quan sát được trên ảnh, đoạn phim).',
    'ev.note': 'Ghi chú (không bắt buộc)',
    'ev.noteShort': 'Ghi chú',
    'ev.noteHint': 'Ví dụ: lực lượng đã đến hiện trường, báo cháy giả.',
    'ev.save': 'Lưu quyết định',
    'ev.reasonRequired': 'Hãy nhập lý do của quyết định.',
    'ev.saved.confirmed': 'Đã xác nhận vi phạm.',
    'ev.saved.rejected': 'Đã bác bỏ vi phạm.',
    'ev.saved.acknowledged': 'Đã ghi nhận xử lý cảnh báo.',
    'ev.measure.dwell_s': 'Thời gian dừng (giây)',
    'ev.measure.red_for_s': 'Đèn đỏ đã bật (giây)',
    'ev.measure.duration_s': 'Thời gian (giây)',
    'ev.measure.distance': 'Quãng đường (theo chiều cao khung hình)',
    'ev.measure.count': 'Số người',
    'ev.measure.level': 'Mức đông',
    'ev.measure.threshold': 'Ngưỡng',
    'ev.measure.held_s': 'Kéo dài (giây)',
    'ev.measure.density': 'Mật độ (người/m²)',
    'ev.measure.area_m2': 'Diện tích vùng (m²)',
    'ev.measure.in': 'Chiều vào',
    'ev.measure.out': 'Chiều ra',
    'ev.measure.interval_s': 'Khoảng đếm (giây)',
    'ev.measure.observed_s': 'Thời gian quan sát (giây)',
    'ev.measure.score': 'Điểm',
    'ev.measure.severity': 'Mức nghiêm trọng',
    'ev.measure.persistence_s': 'Duy trì (giây)',
  },
  en: {
    'ev.facts': 'Event facts',
    'ev.id': 'Event id',
    'ev.system': 'System',
    'ev.zone': 'Zone',
    'ev.line': 'Line, signal',
    'ev.object': 'Object',
    'ev.objectValue': '{class}, confidence {confidence}',
    'ev.track': 'track {id}',
    'ev.counts': 'Counts',
    'ev.measures': 'Measures',
    'ev.detail': 'Description',
    'ev.model': 'Model',
    'ev.node': 'Analysis node',
    'ev.snapshotHash': 'Snapshot SHA-256',
    'ev.inZone': 'zone {zone}',
    'ev.atLine': 'line {line}',
    'ev.inOut': 'in {in}, out {out}',
    'ev.snapshot': 'Snapshot',
    'ev.snapshot.alt': 'Snapshot of the «{type}» event of camera {camera} at {time}',
    'ev.snapshot.none': 'No snapshot was kept for this event.',
    'ev.snapshot.failed': 'The snapshot of the event could not be loaded.',
    'ev.overlay': 'Draw the rule and the object on the picture',
    'ev.clip': 'Clip',
    'ev.clip.window': 'From {from} to {to}',
    'ev.clip.none': 'There is no recording for the time of this event.',
    'ev.clip.forbidden': 'You have no playback right on this camera.',
    'ev.clip.failed': 'The clip cannot be played.',
    'ev.disposition': 'Review',
    'ev.decision': 'Decision',
    'ev.reviewer': 'Reviewed by',
    'ev.reviewedAt': 'At',
    'ev.decision.pending': 'Pending review',
    'ev.decision.confirmed': 'Violation confirmed',
    'ev.decision.rejected': 'Rejected',
    'ev.decision.acknowledged': 'Acknowledged',
    'ev.notReviewed': 'Nobody has reviewed this event yet.',
    'ev.actions': 'Actions',
    'ev.confirm': 'Confirm',
    'ev.reject': 'Reject',
    'ev.acknowledge': 'Acknowledge',
    'ev.export': 'Export evidence',
    'ev.title.confirmed': 'Confirm the violation',
    'ev.title.rejected': 'Reject the violation',
    'ev.title.acknowledged': 'Acknowledge the alert',
    'ev.decideText': '{type} — camera {camera}, at {time}. The decision and its reason go to the audit log.',
    'ev.reasonHint': 'Required. State what the decision rests on (what the picture and the clip show).',
    'ev.note': 'Note (optional)',
    'ev.noteShort': 'Note',
    'ev.noteHint': 'For example: a team is on site, false alarm.',
    'ev.save': 'Save decision',
    'ev.reasonRequired': 'Enter the reason for the decision.',
    'ev.saved.confirmed': 'Violation confirmed.',
    'ev.saved.rejected': 'Violation rejected.',
    'ev.saved.acknowledged': 'Alert acknowledged.',
    'ev.measure.dwell_s': 'Stood still (s)',
    'ev.measure.red_for_s': 'Red for (s)',
    'ev.measure.duration_s': 'Duration (s)',
    'ev.measure.distance': 'Distance (frame heights)',
    'ev.measure.count': 'People',
    'ev.measure.level': 'Crowd level',
    'ev.measure.threshold': 'Threshold',
    'ev.measure.held_s': 'Lasted (s)',
    'ev.measure.density': 'Density (people/m²)',
    'ev.measure.area_m2': 'Zone area (m²)',
    'ev.measure.in': 'In',
    'ev.measure.out': 'Out',
    'ev.measure.interval_s': 'Interval (s)',
    'ev.measure.observed_s': 'Observed (s)',
    'ev.measure.score': 'Score',
    'ev.measure.severity': 'Severity',
    'ev.measure.persistence_s': 'Persisted (s)',
  },
});

const enc = encodeURIComponent;

// typeName is the translated name of an event type.
export const typeName = (type) => (has(`event.type.${type}`) ? t(`event.type.${type}`) : type);

// className is the translated name of an object class.
export const className = (c) => (has(`class.${c}`) ? t(`class.${c}`) : c);

// typeKind is the badge colour of an event type: violations, fire and
// smoke red; crowds and camera or recording trouble amber; recoveries
// green; counts blue; detection summaries grey.
export function typeKind(type = '') {
  if (type.startsWith('violation.') || type === 'alert.fire' || type === 'alert.smoke') return 'bad';
  if (type === 'camera.online' || type === 'recording.resolved') return 'ok';
  if (type.startsWith('alert.') || type.startsWith('camera.') || type.startsWith('recording.')) return 'warn';
  if (type === 'traffic.count') return 'info';
  return 'muted';
}

// typeBadge is an event type as a coloured badge.
export const typeBadge = (type) => badge(typeName(type), typeKind(type));

// matchesTypes reports whether type is in spec, the events API's type
// filter: comma-separated exact types or prefixes ending in '.'; empty
// matches every type.
export function matchesTypes(type, spec) {
  if (!spec) return true;
  return spec.split(',').some((p) => (p.endsWith('.') ? type.startsWith(p) : type === p));
}

// decisionOf is the review state of an event: its disposition's decision,
// else 'pending'.
export const decisionOf = (disposition) => disposition?.decision || 'pending';

// dispositionBadge is the review state as a badge.
export function dispositionBadge(disposition) {
  const d = decisionOf(disposition);
  const kind = { pending: 'warn', confirmed: 'bad', rejected: 'muted', acknowledged: 'ok' }[d] || 'muted';
  return badge(has(`ev.decision.${d}`) ? t(`ev.decision.${d}`) : d, kind);
}

// countsText lists counts by class: "ô tô 3, xe máy 12".
function countsText(counts) {
  return Object.entries(counts || {})
    .sort((a, b) => b[1] - a[1])
    .map(([c, n]) => `${className(c)} ${fmtNumber(n)}`)
    .join(', ');
}

// eventSummary is a one-line summary of an event for lists.
export function eventSummary(ev) {
  const parts = [];
  if (ev.object?.class) parts.push(`${className(ev.object.class)} ${fmtPercent(ev.object.confidence, 0)}`);
  if (ev.zone) parts.push(t('ev.inZone', { zone: ev.zone }));
  if (ev.line) parts.push(t('ev.atLine', { line: ev.line }));
  if (ev.type === 'traffic.count' && ev.measures) {
    parts.push(t('ev.inOut', { in: fmtNumber(ev.measures.in || 0), out: fmtNumber(ev.measures.out || 0) }));
  }
  if (!ev.object && ev.counts && Object.keys(ev.counts).length) parts.push(countsText(ev.counts));
  if (ev.detail && !ev.type.startsWith('violation.')) parts.push(ev.detail);
  return parts.join(' · ');
}

// clipWindow is the recorded window of an event: the API's, else the
// evidence's, else 10 s before to 5 s after the event.
export function clipWindow(detail) {
  const ev = detail.event;
  if (detail.clip?.from && detail.clip?.to) return { from: new Date(detail.clip.from), to: new Date(detail.clip.to) };
  if (ev.evidence?.clip_from && ev.evidence?.clip_to) return { from: new Date(ev.evidence.clip_from), to: new Date(ev.evidence.clip_to) };
  const ts = new Date(ev.ts).getTime();
  return { from: new Date(ts - 10000), to: new Date(ts + 5000) };
}

// defaultPurpose is the export purpose an event type suggests.
function defaultPurpose(type) {
  if (type.startsWith('violation.')) return 'traffic_safety';
  if (type === 'alert.fire' || type === 'alert.smoke') return 'forest_fire';
  if (type === 'alert.crowd') return 'security_order';
  return '';
}

// eventView builds the detail of an event. detail is the answer of GET
// /api/v1/events/{id}: {event, disposition, snapshot, clip}. Options:
// onChanged(disposition) after a decision is saved; camera, the camera as
// /api/v1/cameras lists it (asked for when absent); level, the heading
// level of the view's title (2).
export function eventView(detail, { onChanged, camera, level = 2 } = {}) {
  const ev = detail.event;
  const id = ev.id;
  const isViolation = ev.type.startsWith('violation.');
  const isAlert = ev.type.startsWith('alert.');
  const time = fmtDateTime(ev.ts);
  let cam = camera || null;

  const cameraName = () => cam?.name || ev.camera_id;
  const cameraCell = h('span', {}, link(`/cameras/${enc(ev.camera_id)}`, cameraName()));
  const dispositionSlot = h('div', { class: 'ev-disposition-body' });
  const stateSlot = h('span', { class: 'ev-state' });
  const actions = h('div', { class: 'ev-actions', role: 'group', 'aria-label': t('ev.actions') });
  const titleId = `ev-title-${id}`;
  const dispositionHeading = h(`h${level + 1}`, { tabindex: '-1' }, t('ev.disposition'));

  function showDisposition() {
    replace(stateSlot, isViolation || isAlert || detail.disposition ? dispositionBadge(detail.disposition) : null);
    const d = detail.disposition;
    if (!d) {
      replace(dispositionSlot, h('p', { class: 'muted' }, t('ev.notReviewed')));
      return;
    }
    replace(dispositionSlot, h('dl', { class: 'ev-dl' },
      fact(t('ev.decision'), dispositionBadge(d)),
      fact(d.decision === 'acknowledged' ? t('ev.noteShort') : t('common.reason'), d.reason || '—'),
      fact(t('ev.reviewer'), d.username || d.user_id || '—'),
      fact(t('ev.reviewedAt'), fmtDateTime(d.at))));
  }

  // decide asks for the reason (or an optional note) and saves the decision.
  async function decide(decision) {
    const optional = decision === 'acknowledged';
    const text = h('textarea', { name: 'reason', rows: 4, maxlength: 1000, required: !optional });
    const saved = await dialog({
      title: t(`ev.title.${decision}`),
      body: [
        h('p', {}, t('ev.decideText', { type: typeName(ev.type), camera: cameraName(), time })),
        field(optional ? t('ev.note') : t('common.reason'), text, optional ? t('ev.noteHint') : t('ev.reasonHint')),
      ],
      actions: [{ label: t('common.cancel'), value: '' }, { label: t('ev.save'), kind: 'primary', value: 'saved' }],
      submit: async () => {
        const reason = text.value.trim();
        if (!optional && !reason) {
          text.focus();
          throw Object.assign(new Error(t('ev.reasonRequired')), { status: 400 });
        }
        return api.post(`/events/${enc(id)}/disposition`, { decision, reason });
      },
    });
    if (!saved || typeof saved !== 'object') return;
    detail.disposition = saved;
    showDisposition();
    if (optional) {
      // The acknowledge button goes away: keep the focus in the view.
      showActions();
      (actions.querySelector('button') || dispositionHeading).focus();
    }
    notify(t(`ev.saved.${decision}`));
    if (onChanged) onChanged(saved);
  }

  function showActions() {
    const items = [];
    if (canReview() && isViolation) {
      items.push(button(t('ev.confirm'), () => decide('confirmed'), 'primary'));
      items.push(button(t('ev.reject'), () => decide('rejected')));
    }
    if (canReview() && isAlert && decisionOf(detail.disposition) !== 'acknowledged') {
      items.push(button(t('ev.acknowledge'), () => decide('acknowledged'), 'primary'));
    }
    if (hasCap(cam, 'export')) {
      items.push(button(t('ev.export'), () => {
        const w = clipWindow(detail);
        exportEvidence({ camera: ev.camera_id, from: w.from, to: w.to, purpose: defaultPurpose(ev.type), outside: sharedOutside(cam) });
      }));
    }
    replace(actions, items);
    actions.hidden = items.length === 0;
  }

  const view = h('article', { class: 'ev-view', 'aria-labelledby': titleId, dataset: { eventId: id } },
    h('header', { class: 'ev-head' },
      h(`h${level}`, { id: titleId }, typeBadge(ev.type), ' ', h('span', { class: 'ev-head-time' }, time)),
      stateSlot,
      actions),
    h('div', { class: 'ev-media' }, snapshotFigure(detail, cameraName), clipFigure(detail, () => cam)),
    h('div', { class: 'ev-info' },
      h('section', { class: 'ev-facts', 'aria-label': t('ev.facts') }, h('dl', { class: 'ev-dl' }, facts(ev, cameraCell, time))),
      h('section', { class: 'ev-disposition' }, dispositionHeading, dispositionSlot)));

  showDisposition();
  showActions();
  if (!cam) {
    api.get(`/cameras/${enc(ev.camera_id)}`).then((c) => {
      cam = c;
      replace(cameraCell, link(`/cameras/${enc(ev.camera_id)}`, cameraName()));
      const img = view.querySelector('img[data-testid="event-snapshot"]');
      if (img) img.alt = snapshotAlt(ev, cameraName());
      showActions();
    }, () => { /* the camera's name and capabilities stay unknown: id shown, no export */ });
  }
  return view;
}

// fact is one term and its description.
function fact(term, value) {
  return [h('dt', {}, term), h('dd', {}, value)];
}

// facts lists what the event says.
function facts(ev, cameraCell, time) {
  const out = [
    fact(t('common.type'), typeName(ev.type)),
    fact(t('common.camera'), cameraCell),
    fact(t('common.time'), h('time', { datetime: ev.ts }, time)),
  ];
  if (ev.system_id) out.push(fact(t('ev.system'), ev.tier ? `${ev.system_id} · ${t(`tier.${ev.tier}`)}` : ev.system_id));
  if (ev.zone) out.push(fact(t('ev.zone'), ev.zone));
  if (ev.line) out.push(fact(t('ev.line'), ev.line));
  if (ev.object?.class) {
    const o = ev.object;
    out.push(fact(t('ev.object'), [t('ev.objectValue', { class: className(o.class), confidence: fmtPercent(o.confidence, 0) }),
      o.track_id ? h('span', { class: 'muted' }, ` · ${t('ev.track', { id: o.track_id })}`) : null]));
  }
  if (ev.counts && Object.keys(ev.counts).length) out.push(fact(t('ev.counts'), countsText(ev.counts)));
  if (ev.measures && Object.keys(ev.measures).length) {
    out.push(fact(t('ev.measures'), h('ul', { class: 'ev-measures' }, Object.entries(ev.measures)
      // Named measures first, then the engine's own names.
      .sort(([a], [b]) => (has(`ev.measure.${b}`) - has(`ev.measure.${a}`)) || a.localeCompare(b))
      .map(([k, v]) => h('li', {}, `${has(`ev.measure.${k}`) ? t(`ev.measure.${k}`) : k}: `,
        fmtNumber(v, { maximumFractionDigits: 2 }))))));
  }
  if (ev.detail) out.push(fact(t('ev.detail'), ev.detail));
  if (ev.model?.name) out.push(fact(t('ev.model'), `${ev.model.name} ${ev.model.version || ''}`.trim()));
  if (ev.evidence?.snapshot_sha256) out.push(fact(t('ev.snapshotHash'), h('code', { class: 'ev-hash' }, ev.evidence.snapshot_sha256)));
  if (ev.node) out.push(fact(t('ev.node'), ev.node));
  out.push(fact(t('ev.id'), h('code', { class: 'ev-hash' }, ev.id)));
  return out;
}

function snapshotAlt(ev, cameraName) {
  return t('ev.snapshot.alt', { type: typeName(ev.type), camera: cameraName, time: fmtDateTime(ev.ts) });
}

// snapshotFigure is the event's snapshot with the scene's rule and the
// object drawn over it.
// sharedOutside reports whether exporting from the camera shares its data
// outside the managing agency, as the server counts it (R-18.3): a user of
// another agency than the system's managing agency or operating unit, but
// the ICT department's administrator.
function sharedOutside(cam) {
  const sys = cam && cam.system;
  const agency = session()?.agency?.id;
  if (!sys || !agency || isICT()) return false;
  return agency !== sys.managing_agency && agency !== sys.operating_unit;
}

function snapshotFigure(detail, cameraName) {
  const ev = detail.event;
  const body = h('div', { class: 'ev-figure-body' });
  const fig = h('figure', { class: 'ev-figure' }, h('figcaption', {}, t('ev.snapshot')), body);
  if (detail.snapshot === false) {
    replace(body, h('p', { class: 'notice ev-missing' }, t('ev.snapshot.none')));
    return fig;
  }
  const img = h('img', { src: api.url(`/events/${enc(ev.id)}/snapshot.jpg`), alt: snapshotAlt(ev, cameraName()),
    'data-testid': 'event-snapshot', decoding: 'async' });
  // The engine draws the rule and the object into evidence snapshots
  // itself: the console's drawing (from the camera's current scene) is
  // offered on top, off at first.
  const picture = h('div', { class: 'picture ev-no-overlay' }, img);
  const toggle = h('input', { type: 'checkbox', checked: false, onchange: () => picture.classList.toggle('ev-no-overlay', !toggle.checked) });
  img.addEventListener('error', () => replace(body, h('p', { class: 'notice warn ev-missing', role: 'status' }, t('ev.snapshot.failed'))));
  replace(body, picture, h('label', { class: 'ev-check' }, toggle, t('ev.overlay')));
  drawOverlay(picture, ev);
  return fig;
}

// drawOverlay draws the camera's scene (the rule of the event highlighted)
// and the object's box over the picture; without the scene, the box only.
async function drawOverlay(picture, ev) {
  const box = ev.object?.box;
  let svg = null;
  try {
    const [mod, scene] = await Promise.all([import('./scene-draw.js'), api.get(`/cameras/${enc(ev.camera_id)}/scene`)]);
    svg = mod.sceneOverlay(scene, { highlight: { line: ev.line, zone: ev.zone }, object: box ? { box, class: ev.object.class } : null });
  } catch {
    svg = boxOverlay(box);
  }
  if (svg) picture.append(svg);
}

// boxOverlay draws an object's box (normalised [x1, y1, x2, y2]).
function boxOverlay(box) {
  if (!Array.isArray(box) || box.length !== 4 || !(box[2] > box[0] && box[3] > box[1])) return null;
  const [x1, y1, x2, y2] = box;
  // The facts list says in words what it shows.
  return s('svg', { class: 'overlay', viewBox: '0 0 1 1', preserveAspectRatio: 'none', 'aria-hidden': 'true' },
    s('rect', { class: 'ev-box', x: x1, y: y1, width: x2 - x1, height: y2 - y1, 'vector-effect': 'non-scaling-stroke' }));
}

// clipFigure is the recorded clip around the event, or why it cannot be
// played. camera() is the event's camera when known (its capabilities say
// whether the user may play recordings back).
function clipFigure(detail, camera) {
  const ev = detail.event;
  const w = clipWindow(detail);
  const src = api.url(`/events/${enc(ev.id)}/clip.mp4`);
  const body = h('div', { class: 'ev-figure-body' });
  const noPlayback = () => camera()?.capabilities && !hasCap(camera(), 'playback');
  const problem = (why) => replace(body, h('div', { class: 'notice warn ev-missing', role: 'status' }, h('strong', {}, why.text),
    why.message ? h('p', { class: 'muted' }, why.message) : null));
  const video = h('video', { controls: true, preload: 'metadata', 'data-testid': 'event-clip',
    'aria-label': `${t('ev.clip')}: ${t('ev.clip.window', { from: fmtDateTime(w.from), to: fmtDateTime(w.to) })}` });
  // The engine answers 404 both without a recording and without the
  // playback right: the camera's capabilities tell them apart.
  video.addEventListener('error', async () => problem(noPlayback() ? { text: t('ev.clip.forbidden') } : await clipProblem(src)));
  if (noPlayback()) {
    problem({ text: t('ev.clip.forbidden') });
  } else {
    video.src = src; // set here: a media element with a source loads even outside the page
    replace(body, h('div', { class: 'picture' }, video));
  }
  return h('figure', { class: 'ev-figure' },
    h('figcaption', {}, t('ev.clip'), h('span', { class: 'muted' }, ` · ${t('ev.clip.window', { from: fmtDateTime(w.from), to: fmtDateTime(w.to) })}`)),
    body);
}

// clipProblem asks the clip's URL for its first byte to learn why the
// video element could not play it: no recording (404), no playback right
// (403), or something else.
async function clipProblem(src) {
  const abort = new AbortController();
  try {
    const res = await fetch(src, { headers: { Range: 'bytes=0-0' }, credentials: 'same-origin', signal: abort.signal });
    let message = '';
    if (!res.ok) {
      try {
        message = (await res.json()).error || '';
      } catch {
        /* not JSON */
      }
    }
    abort.abort();
    if (res.status === 404) return { text: t('ev.clip.none'), message };
    if (res.status === 403) return { text: t('ev.clip.forbidden'), message };
    return { text: t('ev.clip.failed'), message: message || (res.ok ? '' : `HTTP ${res.status}`) };
  } catch (err) {
    return { text: t('ev.clip.failed'), message: err.message };
  }
}
