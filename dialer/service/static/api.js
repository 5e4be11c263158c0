// api.js - the service's HTTP API and live WebSocket, for every page (reusable: the agent
// desktop, the login page, the supervisor console).
//
//   import { Api, ApiError, EventSocket } from "./api.js";
//   const api = new Api();                   // same origin; cookie session
//   await api.login(name, password);         // keeps the CSRF token
//   await api.me();                          // after a reload: the token again (401 -> ApiError)
//   await api.get("/api/desk/campaigns");
//   await api.post("/api/desk/ready");       // X-CSRF-Token sent on every POST
//   api.onSessionEnded(() => location.assign("/"));   // any 401, or the socket's 4401
//
//   const ws = new EventSocket("/api/ws", { onEvent, onStatus, onEnded });
//   ws.start();   // reconnects by itself (1 s, doubling to 15 s); onStatus("open"|"closed")
//
// Errors: ApiError has status, code, message and fields ([{field, message}]) exactly as
// the service answers them ({error, message, fields}); a network failure is status 0.

export class ApiError extends Error {
  constructor(status, code, message, fields = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields || [];
  }
}

export class Api {
  constructor(base = "") {
    this.base = base;
    this.csrf = null;
    this.user = null;
    this.endedHandlers = [];
  }

  onSessionEnded(fn) {
    this.endedHandlers.push(fn);
  }

  ended() {
    for (const fn of this.endedHandlers) fn();
  }

  async request(method, path, body) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET" && this.csrf) headers["X-CSRF-Token"] = this.csrf;
    let response;
    try {
      response = await fetch(this.base + path, {
        method, headers, credentials: "same-origin",
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new ApiError(0, "network", String(err && err.message ? err.message : err));
    }
    let data = null;
    const text = await response.text();
    if (text) {
      try { data = JSON.parse(text); } catch { data = { message: text }; }
    }
    if (!response.ok) {
      const err = new ApiError(response.status, data?.error || "error",
                               data?.message || response.statusText, data?.fields);
      if (response.status === 401 && path !== "/api/login") this.ended();
      throw err;
    }
    return data;
  }

  get(path) { return this.request("GET", path); }

  post(path, body = undefined) { return this.request("POST", path, body); }

  async login(name, password) {
    const me = await this.post("/api/login", { name, password });
    this.csrf = me.csrf_token;
    this.user = me;
    return me;
  }

  async me() {
    const me = await this.get("/api/me");
    this.csrf = me.csrf_token;
    this.user = me;
    return me;
  }

  async logout() {
    try { await this.post("/api/logout"); } finally { this.csrf = null; this.user = null; }
  }
}

/** The WebSocket of live events, reconnecting with back-off until the session ends. */
export class EventSocket {
  constructor(path, { onEvent = () => {}, onStatus = () => {}, onEnded = () => {} } = {}) {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    this.url = `${scheme}//${location.host}${path}`;
    this.onEvent = onEvent;
    this.onStatus = onStatus;
    this.onEnded = onEnded;
    this.delay = 1000;
    this.stopped = false;
    this.socket = null;
    this.timer = null;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.socket) this.socket.close();
  }

  connect() {
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.onopen = () => {
      this.delay = 1000;
      this.onStatus("open");
    };
    socket.onmessage = (message) => {
      let event;
      try { event = JSON.parse(message.data); } catch { return; }
      if (event.type === "session.ended") {
        this.stopped = true;
        this.onEnded();
        return;
      }
      this.onEvent(event);
    };
    socket.onclose = (close) => {
      if (this.socket !== socket) return;
      this.onStatus("closed");
      if (close.code === 4401) {   // the session ended (see docs/dialer-service.md)
        this.stopped = true;
        this.onEnded();
        return;
      }
      if (this.stopped) return;
      this.timer = setTimeout(() => this.connect(), this.delay);
      this.delay = Math.min(this.delay * 2, 15000);
    };
  }
}
