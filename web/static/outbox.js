// IndexedDB outbox of feedback records (protocol.Feedback JSON shape, keyed by idempotency_key). Records stay
// until the server acknowledges them, so confirmed codes survive reloads, crashes and days offline.
//
// A record is pending (in the outbox), sending (claimed: handed to the socket at least once, so the server may
// hold it), then gone once acknowledged (sent). claim and withdraw each run in one transaction over the outbox
// and the claims, so they never interleave: a withdrawn record is never claimed, and a claimed record is never
// withdrawn ("already sent"). A claim is released only when the server answered that it did not store the
// record (a typed error reply); after a lost connection it stays, and the record is resent (the idempotency
// key makes that harmless).

const DB_NAME = 'digitpad';
const STORE = 'outbox';
const SETTINGS = 'settings'; // the device credential and other per-device values, never in a URL
const SENDING = 'sending'; // idempotency_key -> ms when first handed to the socket

function req2promise(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function openDB() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 3);
    req.onupgradeneeded = (ev) => {
      if (ev.oldVersion < 1) {
        const store = req.result.createObjectStore(STORE, { keyPath: 'idempotency_key' });
        store.createIndex('created_at', 'created_at');
      }
      if (ev.oldVersion < 2) req.result.createObjectStore(SETTINGS);
      if (ev.oldVersion < 3) req.result.createObjectStore(SENDING);
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

export class Outbox {
  constructor(db) { this.db = db; this.listeners = new Set(); }

  static async open() { return new Outbox(await openDB()); }

  // onChange registers fn(count) called after every add or delete.
  onChange(fn) { this.listeners.add(fn); }

  async notify() {
    const n = await this.count();
    for (const fn of this.listeners) fn(n);
  }

  async run(mode, fn) {
    const tx = this.db.transaction(STORE, mode);
    const out = await req2promise(fn(tx.objectStore(STORE)));
    await new Promise((resolve, reject) => {
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error || new Error('outbox transaction aborted'));
    });
    return out;
  }

  async add(record) {
    await this.run('readwrite', (s) => s.add(record));
    await this.notify();
  }

  // both runs fn(outbox, sending, done) in one readwrite transaction over the records and the claims; done(v)
  // sets the result, which the returned promise gives once the transaction has committed.
  both(fn) {
    return new Promise((resolve, reject) => {
      const tx = this.db.transaction([STORE, SENDING], 'readwrite');
      let out;
      tx.oncomplete = () => resolve(out);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error || new Error('outbox transaction aborted'));
      fn(tx.objectStore(STORE), tx.objectStore(SENDING), (v) => { out = v; });
    });
  }

  // delete removes an acknowledged record (and its claim).
  async delete(key) {
    await this.both((recs, sending) => { recs.delete(key); sending.delete(key); });
    await this.notify();
  }

  // claim marks a record as sending just before it is handed to the socket and returns it; null when it is
  // no longer in the outbox (withdrawn or acknowledged meanwhile).
  async claim(key) {
    const rec = await this.both((recs, sending, done) => {
      recs.get(key).onsuccess = (ev) => {
        const r = ev.target.result;
        done(r || null);
        if (r) {
          sending.get(key).onsuccess = (e2) => { if (e2.target.result === undefined) sending.put(Date.now(), key); };
        }
      };
    });
    if (rec) await this.notify();
    return rec;
  }

  // release returns a claimed record to pending: the server answered that it did not store it.
  async release(key) {
    await this.both((recs, sending) => { sending.delete(key); });
    await this.notify();
  }

  // withdraw takes a record back before it was ever sent: 'withdrawn' (deleted, it will never be sent),
  // 'sending' (already handed to the socket: refused) or 'sent' (no longer in the outbox: acknowledged).
  async withdraw(key) {
    const out = await this.both((recs, sending, done) => {
      sending.get(key).onsuccess = (ev) => {
        if (ev.target.result !== undefined) { done('sending'); return; }
        recs.get(key).onsuccess = (e2) => {
          if (!e2.target.result) { done('sent'); return; }
          recs.delete(key);
          done('withdrawn');
        };
      };
    });
    if (out === 'withdrawn') await this.notify();
    return out;
  }

  // states maps the key of every record in the outbox to 'pending' or 'sending'.
  async states() {
    const tx = this.db.transaction([STORE, SENDING], 'readonly');
    const [keys, claimed] = await Promise.all([
      req2promise(tx.objectStore(STORE).getAllKeys()), req2promise(tx.objectStore(SENDING).getAllKeys())]);
    const c = new Set(claimed);
    return new Map(keys.map((k) => [k, c.has(k) ? 'sending' : 'pending']));
  }

  // all returns the records oldest first.
  all() { return this.run('readonly', (s) => s.index('created_at').getAll()); }

  count() { return this.run('readonly', (s) => s.count()); }
}

// getSetting and putSetting keep per-device values (the enrolment's device credential) in IndexedDB.
export async function getSetting(key) {
  const db = await openDB();
  try {
    const tx = db.transaction(SETTINGS, 'readonly');
    return await req2promise(tx.objectStore(SETTINGS).get(key));
  } finally { db.close(); }
}

export async function putSetting(key, value) {
  const db = await openDB();
  try {
    const tx = db.transaction(SETTINGS, 'readwrite');
    tx.objectStore(SETTINGS).put(value, key);
    await new Promise((resolve, reject) => { tx.oncomplete = resolve; tx.onerror = () => reject(tx.error); });
  } finally { db.close(); }
}
