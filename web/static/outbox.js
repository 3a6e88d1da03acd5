// IndexedDB outbox of feedback records (protocol.Feedback JSON shape, keyed by idempotency_key). Records stay
// until the server acknowledges them, so confirmed codes survive reloads, crashes and days offline.

const DB_NAME = 'digitpad';
const STORE = 'outbox';
const SETTINGS = 'settings'; // the device credential and other per-device values, never in a URL

function req2promise(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function openDB() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 2);
    req.onupgradeneeded = (ev) => {
      if (ev.oldVersion < 1) {
        const store = req.result.createObjectStore(STORE, { keyPath: 'idempotency_key' });
        store.createIndex('created_at', 'created_at');
      }
      if (ev.oldVersion < 2) req.result.createObjectStore(SETTINGS);
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

  async delete(key) {
    await this.run('readwrite', (s) => s.delete(key));
    await this.notify();
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
