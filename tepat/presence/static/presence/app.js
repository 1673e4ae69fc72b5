/* Tepat presence app (PWA): log in, check in and out, file daily work reports (e-Kinerja),
 * see every item's state.
 *
 * Offline first: a press signs the check-in with this phone's key and stores it in
 * IndexedDB *before* anything is sent (queue.js); a daily report is queued the same way,
 * with its own client id, and goes to the e-Kinerja API. The queue is flushed on start, on the
 * `online` event, when the app becomes visible, on a back-off timer and with "Kirim
 * sekarang"; Background Sync is registered too where the browser has it. The distance shown
 * here is only a hint: the server decides. Plain ES2017, no build step.
 */
(function () {
  'use strict';

  var Q = window.TepatQueue;
  var cfg = document.body.dataset;
  var API = (cfg.apiBase || '/api/v1').replace(/\/$/, '');
  var KIND = { in: 'Absen Masuk', out: 'Absen Pulang' };
  var STATE = {
    queued: 'Menunggu dikirim', sending: 'Mengirim…', accepted: 'Diterima',
    review: 'Perlu ditinjau atasan', refused: 'Ditolak',
  };
  // A report's state once the server has it: its review by the supervisor.
  var REVIEW = { pending: 'Diterima, menunggu persetujuan atasan', approved: 'Disetujui atasan',
    rejected: 'Ditolak atasan' };
  var FINAL_SHOWN = 20;     // final records listed under the pending ones
  var FIX_MAX_AGE = 10000;  // a watchPosition fix younger than this is used as is (ms)
  var BACKOFF_MIN = 5000;
  var BACKOFF_MAX = 5 * 60000;

  var employee = null;
  var token = null;
  var sites = [];
  var fix = null;
  var watchId = null;
  var busy = false;
  var retryTimer = null;
  var failures = 0;
  var flushing = null;
  var flushAgain = false;

  function $(id) { return document.getElementById(id); }
  function show(el, on) { el.hidden = !on; }
  function text(el, value) { el.textContent = value == null ? '' : String(value); }
  function el(tag, cls, content) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (content != null) e.textContent = content;
    return e;
  }

  // ---- formatting -------------------------------------------------------------------
  function pad(n, w) { return String(Math.abs(n)).padStart(w || 2, '0'); }

  // ISO 8601 with the device's own offset, e.g. 2026-11-23T07:12:05.120+07:00.
  function isoLocal(d) {
    var off = -d.getTimezoneOffset();
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) +
      'T' + pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds()) +
      '.' + pad(d.getMilliseconds(), 3) + (off < 0 ? '-' : '+') +
      pad(Math.floor(Math.abs(off) / 60)) + ':' + pad(Math.abs(off) % 60);
  }
  function hhmm(value) {
    if (!value) return '—';
    if (!/T/.test(value)) return String(value).slice(0, 5);
    var d = new Date(value);
    return isNaN(d) ? String(value) : pad(d.getHours()) + ':' + pad(d.getMinutes());
  }
  function dayTime(value) {
    var d = new Date(value);
    if (isNaN(d)) return String(value || '');
    return d.toLocaleDateString('id-ID', { weekday: 'short', day: 'numeric', month: 'short' }) +
      ' ' + pad(d.getHours()) + ':' + pad(d.getMinutes());
  }
  function metres(m) {
    if (m == null || isNaN(m)) return '';
    if (m < 1000) return Math.round(m) + ' m';
    return (m / 1000).toLocaleString('id-ID', { maximumFractionDigits: 1 }) + ' km';
  }
  function b64(buffer) {
    var bytes = new Uint8Array(buffer);
    var s = '';
    for (var i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return btoa(s);
  }
  function uuid4() {
    if (crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); });
    return h.slice(0, 4).join('') + '-' + h.slice(4, 6).join('') + '-' + h.slice(6, 8).join('') +
      '-' + h.slice(8, 10).join('') + '-' + h.slice(10).join('');
  }

  // Great-circle distance in metres (display only; the server decides).
  function haversine(lat1, lng1, lat2, lng2) {
    var R = 6371008.8;
    var rad = Math.PI / 180;
    var dLat = (lat2 - lat1) * rad;
    var dLng = (lng2 - lng1) * rad;
    var a = Math.pow(Math.sin(dLat / 2), 2) +
      Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.pow(Math.sin(dLng / 2), 2);
    return 2 * R * Math.asin(Math.min(1, Math.sqrt(a)));
  }

  // ---- device key -------------------------------------------------------------------
  // One non-extractable ECDSA P-256 key pair per browser profile, kept in IndexedDB
  // (structured clone keeps CryptoKey objects). Only the public half ever leaves the phone.
  async function deviceKeys() {
    var keys = await Q.kvGet('device_keys');
    if (keys && keys.privateKey) return keys;
    keys = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false,
      ['sign', 'verify']);
    await Q.kvSet('device_keys', keys);
    return keys;
  }

  // ---- position ---------------------------------------------------------------------
  var GEO_OPTIONS = { enableHighAccuracy: true, maximumAge: 0, timeout: 20000 };

  function geoError(err) {
    if (!('geolocation' in navigator)) return 'HP ini tidak bisa memberi lokasi.';
    if (err && err.code === 1) return 'Izin lokasi ditolak. Izinkan lokasi untuk aplikasi ini lalu coba lagi.';
    if (err && err.code === 3) return 'Lokasi belum didapat. Pindah ke tempat terbuka lalu coba lagi.';
    return 'Lokasi tidak tersedia. Nyalakan GPS lalu coba lagi.';
  }

  function onFix(position) {
    fix = position;
    var c = position.coords;
    text($('pos'), c.latitude.toFixed(5) + ', ' + c.longitude.toFixed(5) +
      ' (akurasi ±' + Math.round(c.accuracy) + ' m)');
    renderDistance();
  }

  function startWatch() {
    if (watchId !== null || !employee || !('geolocation' in navigator)) return;
    watchId = navigator.geolocation.watchPosition(onFix, function (err) {
      text($('pos'), geoError(err));
    }, GEO_OPTIONS);
  }
  function stopWatch() {
    if (watchId !== null) navigator.geolocation.clearWatch(watchId);
    watchId = null;
  }

  // A fresh fix: the watched one if recent, else a new reading (never a cached position).
  function freshPosition() {
    if (fix && Date.now() - fix.timestamp < FIX_MAX_AGE) return Promise.resolve(fix);
    return new Promise(function (resolve, reject) {
      if (!('geolocation' in navigator)) { reject(null); return; }
      navigator.geolocation.getCurrentPosition(function (p) { onFix(p); resolve(p); }, reject,
        GEO_OPTIONS);
    });
  }

  function renderDistance() {
    var out = $('dist');
    if (!fix || !sites.length) { text(out, ''); return; }
    var c = fix.coords;
    var best = null;
    sites.forEach(function (s) {
      var d = haversine(c.latitude, c.longitude, Number(s.latitude), Number(s.longitude));
      if (!best || d < best.d) best = { site: s, d: d };
    });
    var s = best.site;
    var msg = 'Jarak ke ' + s.name + ': ' + metres(best.d);
    var circle = s.radius_m && (!s.shape || s.shape === 'circle');
    if (circle) {
      msg += (best.d <= s.radius_m ? ' — di dalam area' : ' — di luar area') +
        ' (batas ' + s.radius_m + ' m)';
    } else {
      msg += ' dari titik pusat';
    }
    text(out, msg);
    out.className = circle ? (best.d <= s.radius_m ? 'ok' : 'warn') : '';
  }

  // ---- check-in -----------------------------------------------------------------------
  function actionMessage(msg, kind) {
    var out = $('action-msg');
    text(out, msg);
    out.className = 'action-msg' + (kind ? ' ' + kind : '');
  }
  function setBusy(on) {
    busy = on;
    $('btn-in').disabled = on;
    $('btn-out').disabled = on;
  }

  async function checkin(kind) {
    if (busy || !employee) return;
    var pressed = new Date();  // taken_at: the moment of the press, not of the GPS fix
    setBusy(true);
    actionMessage('Mengambil lokasi…');
    try {
      var position;
      try {
        position = await freshPosition();
      } catch (err) {
        actionMessage(geoError(err) + ' Absen belum dicatat.', 'error');
        return;
      }
      var record = await capture(kind, pressed, position);
      actionMessage(KIND[kind] + ' ' + hhmm(record.payload.taken_at) +
        ' tersimpan di HP ini. Status ada di Antrean.', 'ok');
      await renderQueue();
      registerSync();
      flush();
    } catch (err) {
      actionMessage('Absen gagal disimpan di HP: ' + (err && err.message || err), 'error');
    } finally {
      setBusy(false);
    }
  }

  // Signs the check-in and stores it in the queue; nothing is sent here.
  async function capture(kind, pressed, position) {
    var keys = await deviceKeys();
    var seq = await Q.nextSeq();
    var id = uuid4();
    var takenAt = isoLocal(pressed);
    // Rounded before signing so the server's formatting of the numbers it receives gives
    // back exactly the signed text (no half-way rounding differences between JS and Python).
    var lat = Number(position.coords.latitude.toFixed(6));
    var lng = Number(position.coords.longitude.toFixed(6));
    var acc = Number(position.coords.accuracy.toFixed(1));
    var signed = [id, kind, takenAt, lat.toFixed(6), lng.toFixed(6), acc.toFixed(1), seq].join('|');
    var signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, keys.privateKey,
      new TextEncoder().encode(signed));
    var record = {
      id: id,
      nip: employee.nip,
      kind: kind,
      state: 'queued',
      created_at: new Date().toISOString(),
      attempts: 0,
      payload: {
        id: id, kind: kind, taken_at: takenAt, latitude: lat, longitude: lng, accuracy_m: acc,
        position_at: new Date(position.timestamp).toISOString(), seq: seq,
        clock: (await Q.kvGet('clock')) || null, signature: b64(signature),
      },
    };
    await Q.queuePut(record);
    return record;
  }

  // ---- daily work reports (e-Kinerja) ------------------------------------------------
  function reportMessage(msg, kind) {
    var out = $('report-msg');
    text(out, msg);
    out.className = 'action-msg' + (kind ? ' ' + kind : '');
  }

  function readFile(file) {
    return new Promise(function (resolve, reject) {
      var reader = new FileReader();
      reader.onload = function () { resolve(b64(reader.result)); };
      reader.onerror = function () { reject(reader.error); };
      reader.readAsArrayBuffer(file);
    });
  }

  // Stores the report in the queue (with its attachment, base64) before anything is sent.
  async function fileReport(ev) {
    ev.preventDefault();
    if (!employee) return;
    var f = $('report-form');
    var v = function (name) { return f.elements[name].value.trim(); };
    var file = f.elements.attachment.files[0];
    var problem = !v('day') ? 'Isi tanggal.'
      : !v('start_time') || !v('end_time') ? 'Isi jam mulai dan selesai.'
      : v('end_time') <= v('start_time') ? 'Jam selesai harus setelah jam mulai.'
      : !v('activity') ? 'Tuliskan kegiatannya.'
      : file && file.size > 5000000 ? 'Lampiran terlalu besar (paling besar 5 MB).' : '';
    if (problem) { reportMessage(problem, 'error'); return; }
    $('report-submit').disabled = true;
    try {
      var id = uuid4();
      var payload = {
        id: id, day: v('day'), start_time: v('start_time'), end_time: v('end_time'),
        activity: v('activity'), output: v('output'),
        quantity: v('quantity').replace(',', '.') || '1',
        unit: v('unit'), skp_result_id: v('skp_result_id') ? Number(v('skp_result_id')) : null,
        written_at: isoLocal(new Date()),
      };
      if (file) payload.attachment = await readFile(file);
      await Q.queuePut({
        id: id, nip: employee.nip, kind: 'report', type: 'report', state: 'queued',
        created_at: new Date().toISOString(), attempts: 0, payload: payload,
      });
      ['start_time', 'end_time', 'activity', 'output', 'unit', 'attachment'].forEach(function (n) {
        f.elements[n].value = '';
      });
      f.elements.quantity.value = '1';
      reportMessage('Laporan tersimpan di HP ini. Statusnya ada di bawah.', 'ok');
      await renderQueue();
      registerSync();
      flush();
    } catch (err) {
      reportMessage('Laporan gagal disimpan di HP: ' + (err && err.message || err), 'error');
    } finally {
      $('report-submit').disabled = false;
    }
  }

  function reportStateLine(r, review) {
    if (r.state !== 'accepted') return stateLine(r);
    var now = (review && review.status) || (r.result && r.result.status);
    var line = REVIEW[now] || STATE.accepted;
    if (now === 'approved' && review && review.approved_minutes != null) {
      line += ' (' + review.approved_minutes + ' menit)';
    }
    if (now === 'rejected' && review && review.reason) line += ': ' + review.reason;
    return line;
  }

  async function renderReports(records) {
    var reviews = ((await Q.kvGet('kinerja_reports')) || {}).by_id || {};
    var list = $('report-queue');
    list.textContent = '';
    var pending = records.filter(function (r) { return !Q.isFinal(r); });
    pending.concat(records.filter(Q.isFinal).slice(0, FINAL_SHOWN)).forEach(function (r) {
      var p = r.payload;
      var li = el('li', 'q q-' + r.state);
      li.dataset.id = r.id;
      var head = el('div', 'q-head');
      head.appendChild(el('strong', 'q-kind', p.activity));
      head.appendChild(el('span', 'q-time', p.day + ' ' + p.start_time + '–' + p.end_time));
      li.appendChild(head);
      li.appendChild(el('div', 'q-state', reportStateLine(r, reviews[r.id])));
      if (r.state === 'queued' || r.state === 'sending') li.appendChild(el('div', 'q-why small', whyLine(r)));
      list.appendChild(li);
    });
    text($('report-note'), !records.length ? 'Belum ada laporan dari HP ini.'
      : pending.length ? pending.length + ' laporan belum terkirim.' : '');
  }

  function renderReportMonth(cached) {
    if (!cached || !cached.body) { text($('report-month'), ''); return; }
    var m = cached.body;
    text($('report-month'), 'Bulan ini: ' + m.approved_minutes + ' menit disetujui, ' +
      m.pending_minutes + ' menit menunggu atasan' +
      (m.predicate_label ? '; predikat ' + m.predicate_label : '') + '. Data server per ' +
      dayTime(cached.fetched_at) + '.');
  }

  function renderResults(items) {
    var select = $('report-result');
    var chosen = select.value;
    while (select.options.length > 1) select.remove(1);
    (items || []).forEach(function (r) {
      var o = el('option', null, r.text);
      o.value = String(r.id);
      select.appendChild(o);
    });
    select.value = chosen;
  }

  // The month's minutes, the SKP results to choose from and each report's review, kept on
  // the phone for the next start without signal. A 403 (no employee behind the account)
  // leaves the section empty.
  async function refreshKinerja(year, month) {
    var q = '?year=' + year + '&month=' + month;
    var res = await Q.api('GET', API + '/kinerja/month' + q, undefined, token);
    if (res.status !== 200) return;
    var cached = { body: res.body, fetched_at: new Date().toISOString() };
    await Q.kvSet('kinerja_month', cached);
    renderReportMonth(cached);
    res = await Q.api('GET', API + '/kinerja/results', undefined, token);
    if (res.status === 200) {
      await Q.kvSet('kinerja_results', res.body.items);
      renderResults(res.body.items);
    }
    res = await Q.api('GET', API + '/kinerja/reports' + q, undefined, token);
    if (res.status === 200) {
      var byId = {};
      res.body.items.forEach(function (r) { byId[r.id] = r; });
      await Q.kvSet('kinerja_reports', { by_id: byId });
      renderQueue();
    }
  }

  // ---- sending --------------------------------------------------------------------------
  // One flush at a time; a call during a flush runs another one after it (a check-in
  // captured meanwhile is not in the running flush's list).
  function flush() {
    if (flushing) { flushAgain = true; return flushing; }
    flushAgain = false;
    flushing = Q.flush(API).then(afterFlush).catch(function (err) {
      text($('queue-note'), 'Antrean belum terkirim: ' + (err && err.message || err));
      scheduleRetry();
    }).then(function (sent) {
      flushing = null;
      if (flushAgain) return flush();
      return sent;
    });
    return flushing;
  }

  async function afterFlush(result) {
    if (result.auth) {
      token = null;
      sessionEnded('Sesi Anda berakhir. Masuk lagi untuk mengirim antrean; absen yang sudah ' +
        'tersimpan di HP tidak hilang.');
    }
    if (result.retry || result.forbidden) scheduleRetry();
    else failures = 0;
    if (result.sent) refresh();
    else if (result.pending) await Q.heartbeat(API);  // what still waits after a failed send
    await renderQueue();
    return result.sent;
  }

  function scheduleRetry() {
    if (retryTimer) clearTimeout(retryTimer);
    var delay = Math.min(BACKOFF_MAX, BACKOFF_MIN * Math.pow(2, failures));
    delay = delay / 2 + Math.random() * delay / 2;  // jitter: not every phone at 07:30:00
    failures += 1;
    retryTimer = setTimeout(function () { retryTimer = null; flush(); }, delay);
  }

  function flushNow() {
    failures = 0;
    if (retryTimer) { clearTimeout(retryTimer); retryTimer = null; }
    return flush();
  }

  // The queue first, then the server's view (unless sending already refreshed it): one
  // request at a time on a slow link, and the view then holds what was just sent.
  function sync() {
    return flushNow().then(function (sent) { if (!sent) return refresh(); });
  }

  function registerSync() {
    if (!('serviceWorker' in navigator)) return;
    navigator.serviceWorker.ready.then(function (reg) {
      if (reg.sync) return reg.sync.register('tepat-flush');
    }).catch(function () { /* optional: the page flushes on its own */ });
  }

  // ---- rendering --------------------------------------------------------------------------
  function stateLine(r) {
    if (r.state === 'refused') return 'Ditolak: ' + (r.message || 'tanpa alasan dari server');
    return STATE[r.state] || r.state;
  }
  function whyLine(r) {
    if (r.state === 'queued' || r.state === 'sending') {
      if (employee && r.nip && r.nip !== employee.nip) return 'Milik NIP ' + r.nip + '; dikirim saat NIP itu masuk.';
      return r.last_error || (token ? 'Segera dikirim.' : 'Masuk lagi untuk mengirim.');
    }
    if (r.state === 'refused') return '';
    var site = r.result && r.result.site && r.result.site.name;
    if (!r.message) return site || '';
    return site && r.message.indexOf(site) < 0 ? r.message + ' · ' + site : r.message;
  }

  function isReport(r) { return r.type === 'report'; }

  async function renderQueue() {
    var stored = await Q.queueAll();
    renderReports(stored.filter(isReport));
    var all = stored.filter(function (r) { return !isReport(r); });
    var list = $('queue');
    var pending = all.filter(function (r) { return !Q.isFinal(r); });
    var finals = all.filter(Q.isFinal).slice(0, FINAL_SHOWN);
    list.textContent = '';
    pending.concat(finals).forEach(function (r) {
      var li = el('li', 'q q-' + r.state);
      li.dataset.id = r.id;
      var head = el('div', 'q-head');
      head.appendChild(el('strong', 'q-kind', KIND[r.kind] || r.kind));
      head.appendChild(el('span', 'q-time', dayTime(r.payload.taken_at)));
      li.appendChild(head);
      li.appendChild(el('div', 'q-state', stateLine(r)));
      var why = whyLine(r);
      if (why) li.appendChild(el('div', 'q-why small', why));
      list.appendChild(li);
    });
    if (!all.length) text($('queue-note'), 'Belum ada absen dari HP ini.');
    else if (pending.length) text($('queue-note'), pending.length + ' absen belum terkirim.');
    else text($('queue-note'), 'Semua absen dari HP ini sudah dijawab server.');
    show($('send-now'), stored.some(function (r) { return !Q.isFinal(r); }) && !!token);
  }

  function renderToday(cached) {
    if (!cached) return;
    var body = cached.body || {};
    sites = (Array.isArray(body.sites) ? body.sites : []).filter(function (s) {
      return s.latitude != null && s.longitude != null;  // a site not yet located
    });
    text($('today-summary'), body.summary || 'Belum ada absen hari ini.');
    var list = $('today-events');
    list.textContent = '';
    (body.events || []).forEach(function (e) {
      var parts = [hhmm(e.taken_at), KIND[e.kind] || e.kind,
        e.status === 'refused' ? 'Ditolak' : (STATE[e.status] || e.status)];
      if (e.site_name && !(e.message && e.message.indexOf(e.site_name) >= 0)) parts.push(e.site_name);
      var li = el('li', 'ev ev-' + e.status, parts.join(' · '));
      if (e.message) li.appendChild(el('div', 'small muted', e.message));
      list.appendChild(li);
    });
    text($('today-age'), 'Data server per ' + dayTime(cached.fetched_at) + '.');
    renderDistance();
  }

  function renderMonth(cached) {
    if (!cached) return;
    var tbody = $('month').tBodies[0];
    tbody.textContent = '';
    var days = (cached.body && cached.body.days) || [];
    days.forEach(function (d) {
      var tr = document.createElement('tr');
      var date = new Date(d.date + 'T00:00:00');
      tr.appendChild(el('td', null, isNaN(date) ? d.date
        : date.toLocaleDateString('id-ID', { weekday: 'short', day: 'numeric' })));
      tr.appendChild(el('td', null, hhmm(d.first_in)));
      tr.appendChild(el('td', null, hhmm(d.last_out)));
      tbody.appendChild(tr);
    });
    if (!days.length) {
      var tr = document.createElement('tr');
      var td = el('td', 'muted', 'Belum ada catatan bulan ini.');
      td.colSpan = 3;
      tr.appendChild(td);
      tbody.appendChild(tr);
    }
    text($('month-age'), 'Data server per ' + dayTime(cached.fetched_at) + '.');
  }

  function renderNet() {
    var online = navigator.onLine;
    text($('net'), online ? 'Daring' : 'Tanpa sinyal');
    $('net').className = 'net ' + (online ? 'on' : 'off');
    show($('offline-banner'), !online && !!employee);
  }

  // ---- server reads -------------------------------------------------------------------
  async function refresh() {
    if (!token) return;
    var now = new Date();
    var today = API + '/presence/today';
    var month = API + '/presence/month?year=' + now.getFullYear() + '&month=' + (now.getMonth() + 1);
    try {
      await Q.heartbeat(API);  // every contact tells the server what waits on this phone
      var res = await Q.api('GET', today, undefined, token);
      if (res.status === 401) { await lostLogin(); return; }
      if (res.status === 200) {
        var cached = { body: res.body, fetched_at: new Date().toISOString() };
        await Q.kvSet('today', cached);
        renderToday(cached);
      }
      res = await Q.api('GET', month, undefined, token);
      if (res.status === 200) {
        var m = { body: res.body, fetched_at: new Date().toISOString() };
        await Q.kvSet('month', m);
        renderMonth(m);
      }
      await refreshKinerja(now.getFullYear(), now.getMonth() + 1);
    } catch (e) { /* no signal: the last copy stays on screen with its date */ }
  }

  async function lostLogin() {
    token = null;
    await Q.kvDel('token');
    sessionEnded('Sesi Anda berakhir. Masuk lagi; absen yang tersimpan di HP tidak hilang.');
    renderQueue();
  }

  // ---- screens and login --------------------------------------------------------------
  function sessionEnded(reason) { showLogin(reason); }

  function showLogin(reason) {
    show($('login'), true);
    show($('login-reason'), !!reason);
    text($('login-reason'), reason || '');
    if (employee) $('nip').value = employee.nip;
  }

  function showHome() {
    show($('home'), true);
    show($('logout'), true);
    text($('who'), employee.name + ' · NIP ' + employee.nip);
    if (token) show($('login'), false);
    renderNet();
    if (document.visibilityState === 'visible') startWatch();
  }

  async function login(ev) {
    ev.preventDefault();
    var nip = $('nip').value.replace(/\s+/g, '');
    var password = $('password').value;
    var error = $('login-error');
    show(error, false);
    if (!nip || !password) {
      text(error, 'Isi NIP dan kata sandi.');
      show(error, true);
      return;
    }
    $('login-submit').disabled = true;
    try {
      var keys = await deviceKeys();
      var spki = await crypto.subtle.exportKey('spki', keys.publicKey);
      var res = await Q.api('POST', API + '/auth/token', {
        nip: nip, password: password,
        device: { public_key: b64(spki), label: (navigator.userAgent || '').slice(0, 200) },
      });
      if (res.status !== 200 || !res.body || !res.body.token) {
        text(error, (res.body && res.body.detail) || 'Gagal masuk (HTTP ' + res.status + ').');
        show(error, true);
        return;
      }
      $('password').value = '';
      token = res.body.token;
      employee = res.body.employee;
      await Q.kvSet('token', token);
      await Q.kvSet('token_expires_at', res.body.expires_at || null);
      await Q.kvSet('employee', employee);
      await Q.kvSet('device', res.body.device || null);
      if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(function () {});
      renderDevice(res.body.device);
      showHome();
      await renderQueue();
      sync();
    } catch (err) {
      text(error, 'Tidak bisa menghubungi server. Masuk membutuhkan sinyal; coba lagi nanti.');
      show(error, true);
    } finally {
      $('login-submit').disabled = false;
    }
  }

  function renderDevice(device) {
    var note = $('device-note');
    var pending = device && device.status === 'pending';
    text(note, pending ? 'HP ini belum disetujui sebagai perangkat Anda; absen dari HP ini ' +
      'dicatat dan mungkin ditinjau.' : '');
    show(note, pending);
  }

  async function logout() {
    var pending = (await Q.queueAll()).filter(function (r) { return !Q.isFinal(r); }).length;
    var ask = pending ? pending + ' absen/laporan belum terkirim. Semuanya tetap tersimpan di HP ini dan ' +
      'dikirim setelah Anda masuk lagi. Keluar?' : 'Keluar dari aplikasi?';
    if (!window.confirm(ask)) return;
    token = null;
    employee = null;
    stopWatch();
    await Q.kvDel('token');
    await Q.kvDel('employee');
    await Q.kvDel('today');
    await Q.kvDel('month');
    await Q.kvDel('kinerja_month');
    await Q.kvDel('kinerja_results');
    await Q.kvDel('kinerja_reports');
    show($('home'), false);
    show($('logout'), false);
    showLogin(pending ? pending + ' absen belum terkirim tersimpan di HP ini; masuk lagi untuk ' +
      'mengirimnya.' : '');
    $('nip').value = '';
    renderNet();
  }

  // ---- service worker -------------------------------------------------------------------
  function registerServiceWorker() {
    if (!('serviceWorker' in navigator) || !cfg.swUrl) return;
    var url = cfg.swUrl + '?queue=' + encodeURIComponent(cfg.queueJs || '');
    navigator.serviceWorker.register(url, { scope: cfg.scope || '/app/' }).catch(function () {});
    navigator.serviceWorker.addEventListener('message', function (e) {
      if (e.data && e.data.type === 'precached') {
        document.documentElement.dataset.offlineReady = '1';
        show($('offline-ready'), true);
      }
      if (e.data && e.data.type === 'queue') renderQueue();
    });
    navigator.serviceWorker.startMessages();
    navigator.serviceWorker.ready.then(function (reg) {
      // The first visit's files were fetched before the worker existed: hand it the list.
      var urls = [location.pathname];
      document.querySelectorAll('link[href]').forEach(function (l) { urls.push(l.getAttribute('href')); });
      document.querySelectorAll('script[src]').forEach(function (s) { urls.push(s.getAttribute('src')); });
      (cfg.shellExtra || '').split(/\s+/).forEach(function (u) { if (u) urls.push(u); });
      if (reg.active) reg.active.postMessage({ type: 'precache', urls: urls });
    });
  }

  // ---- start ----------------------------------------------------------------------------
  async function start() {
    registerServiceWorker();
    $('login-form').addEventListener('submit', login);
    $('logout').addEventListener('click', logout);
    $('send-now').addEventListener('click', flushNow);
    $('report-form').addEventListener('submit', fileReport);
    $('report-day').value = isoLocal(new Date()).slice(0, 10);
    Array.prototype.forEach.call(document.querySelectorAll('button.checkin'), function (b) {
      b.addEventListener('click', function () { checkin(b.dataset.kind); });
    });
    window.addEventListener('online', function () { renderNet(); sync(); });
    window.addEventListener('offline', renderNet);
    document.addEventListener('visibilitychange', function () {
      if (document.visibilityState === 'visible') { startWatch(); sync(); }
      else stopWatch();
    });
    Q.onChange(function (what) { if (what === 'queue') renderQueue(); });

    await Q.kvSet('api_base', API);  // for the service worker's Background Sync
    employee = (await Q.kvGet('employee')) || null;
    token = (await Q.kvGet('token')) || null;
    show($('boot'), false);
    renderNet();
    if (!employee) { showLogin(''); return; }
    showHome();
    if (!token) showLogin('Masuk lagi untuk mengirim antrean; absen tetap bisa dicatat.');
    renderDevice(await Q.kvGet('device'));
    renderToday(await Q.kvGet('today'));
    renderMonth(await Q.kvGet('month'));
    renderReportMonth(await Q.kvGet('kinerja_month'));
    renderResults(await Q.kvGet('kinerja_results'));
    await renderQueue();
    sync();
  }

  start().catch(function (err) {
    text($('boot'), 'Aplikasi gagal dimuat: ' + (err && err.message || err));
    show($('boot'), true);
  });
})();
