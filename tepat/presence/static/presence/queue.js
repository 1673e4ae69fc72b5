/* Tepat presence: the phone's own check-in queue in IndexedDB, and the sender.
 *
 * Loaded by the page (before app.js) and by the service worker (importScripts, for
 * Background Sync where the browser has it), so both send the same way. Plain ES2017.
 *
 * A record: {id, nip, kind, type, payload, state, created_at, attempts, last_error, result}.
 * type: absent or 'checkin' (a signed check-in) | 'report' (an e-Kinerja daily work report);
 * each type goes to its own API (SENDS), in the same flush and with the same rules.
 * state: queued → sending → accepted | review | refused. Only a server answer makes a
 * record final; anything else (no signal, timeout, 5xx, 429, expired login) puts it back
 * to "queued". Sending is idempotent by id, so re-sending after a lost answer is harmless.
 * Records are never deleted by the sender.
 */
(function (root) {
  'use strict';

  var DB_NAME = 'tepat-presence';
  var DB_VERSION = 1;
  var CHANNEL = 'tepat-presence';
  // Where each type of record goes: the batch endpoint (its own limit) and the single one.
  var SENDS = {
    checkin: { batch: '/presence/checkins/batch', one: '/presence/checkins', max: 500 },
    report: { batch: '/kinerja/reports/batch', one: '/kinerja/reports', max: 200 },
  };
  var TIMEOUT_MS = 20000;
  var FINAL = { accepted: true, review: true, refused: true };

  var dbPromise = null;

  function db() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var open = indexedDB.open(DB_NAME, DB_VERSION);
        open.onupgradeneeded = function () {
          var d = open.result;
          if (!d.objectStoreNames.contains('kv')) d.createObjectStore('kv');
          if (!d.objectStoreNames.contains('queue')) d.createObjectStore('queue', { keyPath: 'id' });
        };
        open.onsuccess = function () {
          var d = open.result;
          d.onversionchange = function () { d.close(); dbPromise = null; };
          resolve(d);
        };
        open.onerror = function () { dbPromise = null; reject(open.error); };
      });
    }
    return dbPromise;
  }

  function req(r) {
    return new Promise(function (resolve, reject) {
      r.onsuccess = function () { resolve(r.result); };
      r.onerror = function () { reject(r.error); };
    });
  }

  // Runs fn(transaction) and resolves with its result once the transaction has committed.
  // fn may await IndexedDB requests of that transaction (and nothing else).
  async function tx(stores, mode, fn) {
    var d = await db();
    return new Promise(function (resolve, reject) {
      var t = d.transaction(stores, mode);
      var out;
      Promise.resolve(fn(t)).then(function (v) { out = v; }, function (e) {
        try { t.abort(); } catch (ignored) { /* already finished */ }
        reject(e);
      });
      t.oncomplete = function () { resolve(out); };
      t.onerror = function () { reject(t.error); };
      t.onabort = function () { reject(t.error || new Error('IndexedDB transaction aborted')); };
    });
  }

  function kvGet(key) {
    return tx('kv', 'readonly', function (t) { return req(t.objectStore('kv').get(key)); });
  }
  function kvSet(key, value) {
    return tx('kv', 'readwrite', function (t) { return req(t.objectStore('kv').put(value, key)); });
  }
  function kvDel(key) {
    return tx('kv', 'readwrite', function (t) { return req(t.objectStore('kv').delete(key)); });
  }

  // The per-device counter sent with every check-in: read and bumped in one transaction.
  function nextSeq() {
    return tx('kv', 'readwrite', async function (t) {
      var store = t.objectStore('kv');
      var seq = ((await req(store.get('seq'))) || 0) + 1;
      await req(store.put(seq, 'seq'));
      return seq;
    });
  }

  function queueAll() {
    return tx('queue', 'readonly', function (t) { return req(t.objectStore('queue').getAll()); })
      .then(function (rows) {
        return rows.sort(function (a, b) { return a.created_at < b.created_at ? 1 : -1; });
      });
  }
  function queuePut(records) {
    var list = Array.isArray(records) ? records : [records];
    return tx('queue', 'readwrite', function (t) {
      var store = t.objectStore('queue');
      return Promise.all(list.map(function (r) { return req(store.put(r)); }));
    });
  }

  function isFinal(record) { return FINAL[record.state] === true; }

  var channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(CHANNEL) : null;
  var listeners = [];
  function changed(what) {
    listeners.forEach(function (fn) { fn(what); });
    if (channel) channel.postMessage({ type: what });
  }
  function onChange(fn) {
    listeners.push(fn);
    if (channel) channel.addEventListener('message', function (e) { fn(e.data && e.data.type); });
  }

  // Every answer carrying server_time re-anchors the device clock (sent as `clock`).
  function anchorClock(body) {
    if (body && typeof body.server_time === 'string') {
      return kvSet('clock', { server_time: body.server_time, device_time: new Date().toISOString() });
    }
    return Promise.resolve();
  }

  // fetch with a timeout; resolves {status, body} for any HTTP answer, rejects when there was
  // none (no signal, timeout). A hanging request on a weak signal must not block the queue.
  async function api(method, url, body, token, extraHeaders) {
    var headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (token) headers.Authorization = 'Bearer ' + token;
    Object.assign(headers, extraHeaders || {});
    var ctrl = typeof AbortController === 'function' ? new AbortController() : null;
    var timer = ctrl ? setTimeout(function () { ctrl.abort(); }, TIMEOUT_MS) : null;
    try {
      var res = await fetch(url, {
        method: method,
        headers: headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'omit',
        cache: 'no-store',
        signal: ctrl ? ctrl.signal : undefined,
      });
      var data = null;
      try { data = await res.json(); } catch (ignored) { /* not JSON (a proxy error page) */ }
      await anchorClock(data);
      return { status: res.status, body: data };
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  function retryable(status) {
    return status === 404 || status === 408 || status === 425 || status === 429 || status >= 500;
  }

  function detailOf(body, status) {
    if (body && typeof body.detail === 'string') {
      var fields = Array.isArray(body.errors)
        ? body.errors.map(function (e) { return e.field + ': ' + e.message; }).join('; ')
        : '';
      return fields ? body.detail + ' (' + fields + ')' : body.detail;
    }
    if (body && typeof body.message === 'string') return body.message;
    return 'jawaban server HTTP ' + status;
  }

  // Applies one server answer to a record. Returns 'final' | 'auth' (401: the login has
  // ended) | 'forbidden' (403: kept, shown with the server's reason) | 'retry'.
  function apply(record, status, body, now) {
    record.attempts = (record.attempts || 0) + 1;
    record.last_try = now;
    if (status === 200 || status === 201) {
      var s = body && body.status;
      record.state = s === 'review' || s === 'refused' ? s : 'accepted';
      record.result = body;
      record.message = (body && (body.message || body.detail)) || '';
      record.last_error = null;
      return 'final';
    }
    if (status === 401 || status === 403) {
      record.state = 'queued';
      record.last_error = status === 401 ? 'Perlu masuk lagi untuk mengirim'
        : 'Ditahan server: ' + detailOf(body, status);
      return status === 401 ? 'auth' : 'forbidden';
    }
    if (retryable(status)) {
      record.state = 'queued';
      record.last_error = 'Server belum bisa menerima (' + status + '); dicoba lagi otomatis';
      return 'retry';
    }
    // 422 (outside the fence, invalid) and other 4xx: the server refused this check-in.
    record.state = 'refused';
    record.result = body;
    record.message = detailOf(body, status);
    record.last_error = null;
    return 'final';
  }

  function withLock(name, fn) {
    var locks = root.navigator && root.navigator.locks;
    return locks ? locks.request(name, fn) : fn();
  }

  // Sends every queued record of the signed-in employee. Resolves
  // {pending, sent, retry, auth, forbidden, offline}: retry → try again later (backoff),
  // auth → the login has ended (token dropped; log in again), forbidden → the server holds
  // them back (403, reason on each record).
  function flush(apiBase) {
    return withLock('tepat-flush', async function () {
      var out = { pending: 0, sent: 0, retry: false, auth: false, forbidden: false, offline: false };
      var token = await kvGet('token');
      var employee = await kvGet('employee');
      var todo = (await queueAll()).filter(function (r) {
        return !isFinal(r) && (!employee || !r.nip || r.nip === employee.nip);
      }).reverse(); // oldest first
      if (!todo.length) return out;
      if (!token) {
        out.auth = true;
        out.pending = todo.length;
        return out;
      }
      var types = Object.keys(SENDS);
      for (var t = 0; t < types.length; t++) {
        var send = SENDS[types[t]];
        var mine = todo.filter(function (r) { return typeOf(r) === types[t]; });
        for (var i = 0; i < mine.length && !out.auth && !out.forbidden && !out.retry; i += send.max) {
          await sendChunk(apiBase + send.batch, apiBase + send.one, token,
            mine.slice(i, i + send.max), out);
        }
      }
      if (out.auth) await kvDel('token');
      out.pending = todo.filter(function (r) { return !isFinal(r); }).length;
      changed('queue');
      return out;
    });
  }

  function typeOf(record) { return record.type || 'checkin'; }

  async function sendChunk(batchUrl, oneUrl, token, chunk, out) {
    chunk.forEach(function (r) { r.state = 'sending'; });
    await queuePut(chunk);
    changed('queue');
    var now = new Date().toISOString();
    var res;
    try {
      res = await api('POST', batchUrl,
        { items: chunk.map(function (r) { return r.payload; }) }, token);
    } catch (e) {
      chunk.forEach(function (r) {
        r.state = 'queued';
        r.attempts = (r.attempts || 0) + 1;
        r.last_try = now;
        r.last_error = 'Belum terkirim: tidak ada koneksi ke server';
      });
      out.retry = true;
      out.offline = true;
      await queuePut(chunk);
      return;
    }
    if (res.status === 200 && res.body && Array.isArray(res.body.results)) {
      var byId = {};
      res.body.results.forEach(function (item) { byId[item.id] = item; });
      chunk.forEach(function (r) {
        var item = byId[r.id];
        // The client checks every item: a missing answer is not a success.
        var verdict = item ? apply(r, item.http_status, item.body, now)
          : apply(r, 503, null, now);
        note(verdict, out);
      });
    } else if (res.status === 401 || res.status === 403 || retryable(res.status)) {
      chunk.forEach(function (r) { note(apply(r, res.status, res.body, now), out); });
    } else {
      // The batch as a whole was refused (e.g. one malformed item): send one by one so
      // only the bad item is refused.
      for (var j = 0; j < chunk.length; j++) {
        await sendOne(oneUrl, token, chunk[j], out);
        if (out.auth || out.forbidden || out.offline) break;
      }
      chunk.forEach(function (r) { if (r.state === 'sending') r.state = 'queued'; });
    }
    await queuePut(chunk);
  }

  async function sendOne(url, token, record, out) {
    var now = new Date().toISOString();
    try {
      var res = await api('POST', url, record.payload, token,
        { 'Idempotency-Key': record.id });
      note(apply(record, res.status, res.body, now), out);
    } catch (e) {
      record.state = 'queued';
      record.last_error = 'Belum terkirim: tidak ada koneksi ke server';
      out.retry = true;
      out.offline = true;
    }
  }

  function note(verdict, out) {
    if (verdict === 'final') out.sent += 1;
    else if (verdict === 'auth') out.auth = true;
    else if (verdict === 'forbidden') out.forbidden = true;
    else out.retry = true;
  }

  // Tells the server, at a contact, how many check-ins of the signed-in employee still wait
  // on this phone (and since when), so the dashboard can count them as "queued offline"
  // instead of "not checked in". Best effort: no signal, no report; nothing waits for it.
  async function heartbeat(apiBase) {
    var token = await kvGet('token');
    if (!token) return null;
    var employee = await kvGet('employee');
    var waiting = (await queueAll()).filter(function (r) {
      return typeOf(r) === 'checkin' && !isFinal(r) && (!employee || !r.nip || r.nip === employee.nip);
    });
    var oldest = waiting.reduce(function (min, r) {
      var at = (r.payload && r.payload.taken_at) || r.created_at;
      return !min || at < min ? at : min;
    }, null);
    try {
      var res = await api('POST', apiBase + '/phone/heartbeat',
        { queued: waiting.length, oldest_queued_at: oldest }, token);
      return res.status;
    } catch (e) {
      return null;
    }
  }

  root.TepatQueue = {
    kvGet: kvGet, kvSet: kvSet, kvDel: kvDel, nextSeq: nextSeq,
    queueAll: queueAll, queuePut: queuePut, isFinal: isFinal,
    api: api, flush: flush, onChange: onChange, changed: changed, heartbeat: heartbeat,
  };
})(self);
