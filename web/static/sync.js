// Websocket link to the digitpad server (/v1/ws, envelopes of shared/protocol): server-side prediction, outbox
// sync (feedback -> ack, deleted only after the ack) and model announcements. Reconnects with capped, jittered
// exponential backoff.

const PROTOCOL_VERSION = 1;
const REQUEST_TIMEOUT_MS = 10000;

export class ServerError extends Error {
  // maybeDelivered: the message went out but no reply came (connection lost, timeout): the server may have
  // acted on it. A typed error reply, or a request never sent, leaves it false.
  constructor(code, message, maybeDelivered = false) {
    super(`${code}: ${message}`);
    this.code = code;
    this.maybeDelivered = maybeDelivered;
  }
}

export class ServerLink {
  // url: absolute ws:// or wss:// URL. handlers: onState(state), onModel(announcement).
  constructor(url, handlers = {}) {
    this.url = url;
    this.handlers = handlers;
    this.ws = null;
    this.seq = 0;
    this.pending = new Map();
    this.backoff = 500;
    this.state = 'closed';
    this.openWaiters = [];
    this.stopped = false;
    this.protocols = undefined; // e.g. ['digitpad', 'digitpad.bearer.<device credential>']
  }

  // reconnect drops the connection and opens a new one with new subprotocols (after enrolment).
  reconnect(protocols) {
    this.protocols = protocols;
    this.backoff = 500;
    if (this.ws) this.ws.close(1000); else this.start();
  }

  setState(s) {
    this.state = s;
    if (this.handlers.onState) this.handlers.onState(s);
    if (s === 'open') {
      for (const w of this.openWaiters.splice(0)) w();
    }
  }

  start() {
    if (this.ws || this.stopped) return;
    this.setState('connecting');
    const ws = this.protocols ? new WebSocket(this.url, this.protocols) : new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => { this.backoff = 500; this.setState('open'); };
    ws.onmessage = (ev) => this.receive(ev.data);
    ws.onclose = () => {
      this.ws = null;
      for (const [, p] of this.pending) p.reject(new ServerError('unavailable', 'connection closed', true));
      this.pending.clear();
      this.setState('closed');
      if (this.stopped) return;
      const wait = this.backoff * (0.75 + Math.random() / 2);
      this.backoff = Math.min(this.backoff * 2, 30000);
      setTimeout(() => this.start(), wait);
    };
  }

  stop() { this.stopped = true; if (this.ws) this.ws.close(1000); }

  whenOpen() {
    if (this.state === 'open') return Promise.resolve();
    return new Promise((resolve) => this.openWaiters.push(resolve));
  }

  receive(text) {
    let env;
    try { env = JSON.parse(text); } catch { return; }
    if (!env || env.v !== PROTOCOL_VERSION) return;
    if (env.type === 'model') {
      if (this.handlers.onModel) this.handlers.onModel(env.data);
      return;
    }
    const p = env.id && this.pending.get(env.id);
    if (!p) return;
    this.pending.delete(env.id);
    clearTimeout(p.timer);
    if (env.type === 'error') p.reject(new ServerError(env.data?.code || 'internal', env.data?.message || 'server error'));
    else p.resolve(env.data);
  }

  // request sends one envelope and resolves with the reply's data (prediction, ack) or rejects with ServerError.
  request(type, data) {
    if (!this.ws || this.state !== 'open') return Promise.reject(new ServerError('unavailable', 'not connected'));
    const id = `c${++this.seq}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ServerError('unavailable', `no reply to ${type} within ${REQUEST_TIMEOUT_MS} ms`, true));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      this.ws.send(JSON.stringify({ v: PROTOCOL_VERSION, type, id, data }));
    });
  }
}

// OutboxSync sends outbox records over the link one at a time and deletes each only after its ack.
export class OutboxSync {
  constructor(link, outbox, onStatus) {
    this.link = link;
    this.outbox = outbox;
    this.onStatus = onStatus || (() => {});
    this.running = false;
    this.again = false;
    this.retry = 1000;
    this.timer = null;
  }

  kick() {
    if (this.running) { this.again = true; return; }
    clearTimeout(this.timer);
    this.running = true;
    this.round().finally(() => {
      this.running = false;
      if (this.again) { this.again = false; this.kick(); }
    });
  }

  async round() {
    if (this.link.state !== 'open') return;
    const records = await this.outbox.all();
    for (const pending of records) {
      // Claimed in the same transaction that checks it is still there: a withdrawn record is never sent,
      // and a record once handed to the socket can no longer be withdrawn (Outbox.withdraw).
      if (this.link.state !== 'open') return;
      const rec = await this.outbox.claim(pending.idempotency_key);
      if (!rec) continue;
      try {
        const ack = await this.link.request('feedback', rec);
        if (ack && ack.idempotency_key && ack.idempotency_key !== rec.idempotency_key) {
          throw new ServerError('internal', 'ack for another record');
        }
        await this.outbox.delete(rec.idempotency_key);
        this.retry = 1000;
      } catch (e) {
        if (!e.maybeDelivered) await this.outbox.release(rec.idempotency_key).catch(() => {});
        this.onStatus(`sync paused: ${e.message}`, e);
        // A pad the server refuses waits for its enrolment (which reconnects and kicks) or the next code.
        if (e.code === 'unauthorized' || e.code === 'forbidden') return;
        const wait = this.retry * (0.75 + Math.random() / 2);
        this.retry = Math.min(this.retry * 2, 60000);
        this.timer = setTimeout(() => this.kick(), wait);
        return;
      }
    }
    this.onStatus(records.length ? 'synced' : '', null);
  }
}
