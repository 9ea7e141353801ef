// One event (/console/events/:id): its detail (lib/event-view.js) with the
// snapshot, the rule drawn on it, the clip, the review and the actions.

import * as api from '../lib/api.js';
import { h, replace } from '../lib/dom.js';
import { addMessages, t } from '../lib/i18n.js';
import { link } from '../lib/router.js';
import { loading, pageHeader, refusalBox } from '../lib/ui.js';
import { eventView } from '../lib/event-view.js';

addMessages({
  vi: {
    'eventPage.title': 'Chi tiết sự kiện',
    'eventPage.back.events': '← Về danh sách sự kiện',
    'eventPage.back.violations': '← Về danh sách vi phạm',
    'eventPage.back.alerts': '← Về danh sách cảnh báo',
    'eventPage.notFound': 'Không tìm thấy sự kiện này, hoặc bạn không có quyền xem sự kiện của camera này.',
  },
  en: {
    'eventPage.title': 'Event',
    'eventPage.back.events': '← Back to the events',
    'eventPage.back.violations': '← Back to the violations',
    'eventPage.back.alerts': '← Back to the alerts',
    'eventPage.notFound': 'This event does not exist, or you may not see the events of its camera.',
  },
});

// backTo is the list an event type belongs to.
function backTo(type = '') {
  if (type.startsWith('violation.')) return ['/violations', 'eventPage.back.violations'];
  if (type === 'alert.smoke' || type === 'alert.fire') return ['/alerts', 'eventPage.back.alerts'];
  return ['/events', 'eventPage.back.events'];
}

export async function render(main, params) {
  const back = h('span', { class: 'ev-back' }, link('/events', t('eventPage.back.events')));
  const body = h('div', {}, loading());
  replace(main, pageHeader(t('eventPage.title'), back), body);
  let detail;
  try {
    detail = await api.get(`/events/${encodeURIComponent(params.id)}`);
  } catch (err) {
    replace(body, refusalBox(err, t('eventPage.notFound')));
    return null;
  }
  const [path, key] = backTo(detail.event?.type);
  replace(back, link(path, t(key)));
  replace(body, eventView(detail));
  return null;
}
