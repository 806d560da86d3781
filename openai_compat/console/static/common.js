/* What both console pages share: the key kept in session storage, calls to the gateway's API with it,
   an SSE reader, small DOM helpers, and the copy buttons. No framework: the page must stay small and
   work offline. Keys go only into sessionStorage and the Authorization header, never into a URL. */
(() => {
  "use strict";
  const OC = (window.OC = {});
  const STORE = "openai-compat.console.";
  OC.baseUrl = document.body.dataset.baseUrl;

  OC.keys = {
    get(slot) { try { return sessionStorage.getItem(STORE + slot) || ""; } catch { return ""; } },
    set(slot, value) { try { sessionStorage.setItem(STORE + slot, value); } catch { /* storage off: memory only */ } },
    forget(slot) { try { sessionStorage.removeItem(STORE + slot); } catch { /* nothing kept */ } },
  };

  class ApiError extends Error {
    constructor(status, message, code = null, param = null) {
      super(message);
      this.status = status;
      this.code = code;
      this.param = param;
    }
  }
  OC.ApiError = ApiError;

  async function errorOf(response) {
    let message = `${response.status} ${response.statusText}`.trim();
    let code = null, param = null;
    try {
      const body = await response.json();
      if (body && body.error) ({ message = message, code = null, param = null } = body.error);
    } catch { /* not JSON: keep the status line */ }
    return new ApiError(response.status, message, code, param);
  }

  /* One call to the gateway: JSON or a FormData body; an OpenAI-shaped error becomes an ApiError. */
  OC.request = async (path, { key, method = "GET", json, form, signal } = {}) => {
    const headers = {};
    if (key) headers.Authorization = `Bearer ${key}`;
    let body;
    if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(json);
    } else if (form) {
      body = form;
    }
    let response;
    try {
      response = await fetch(path, { method, headers, body, signal, cache: "no-store", credentials: "omit" });
    } catch (err) {
      if (err.name === "AbortError") throw err;
      throw new ApiError(0, `The gateway could not be reached (${err.message}).`);
    }
    if (!response.ok) throw await errorOf(response);
    return response;
  };

  /* The `data:` payloads of a server-sent event stream, as they arrive. */
  OC.events = async function* events(response) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer = (buffer + decoder.decode(value, { stream: true })).replace(/\r\n/g, "\n");
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const data = block.split("\n").filter((line) => line.startsWith("data:"))
          .map((line) => line.slice(5).replace(/^ /, "")).join("\n");
        if (data) yield data;
      }
    }
  };

  OC.el = (tag, props = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(props)) {
      if (value === undefined || value === null || value === false) continue;
      if (name === "text") node.textContent = value;
      else if (name === "className") node.className = value;
      else node.setAttribute(name, value === true ? "" : value);
    }
    node.append(...children.filter((child) => child !== null && child !== undefined));
    return node;
  };

  OC.status = (node, text, kind = "") => {
    node.textContent = text || "";
    node.className = `status ${kind}`.trim();
  };

  OC.number = (value, digits = 0) =>
    Number(value || 0).toLocaleString("en-US", { maximumFractionDigits: digits });
  OC.usd = (value) => {
    const amount = Number(value || 0);
    const digits = amount > 0 && amount < 1 ? { maximumSignificantDigits: 3 } : { minimumFractionDigits: 2, maximumFractionDigits: 2 };
    return `$${amount.toLocaleString("en-US", digits)}`;
  };

  /* A key form: checks the key with `check` (which throws an ApiError when the gateway refuses it),
     keeps it for this tab only when accepted, and re-checks a kept key when the page opens. */
  OC.keyForm = ({ check, forgotten }) => {
    const form = document.getElementById("key-form");
    const input = document.getElementById("key-input");
    const forget = document.getElementById("key-forget");
    const status = document.getElementById("key-status");
    const slot = form.dataset.keySlot;

    const use = async (key) => {
      OC.status(status, "Checking the key…");
      try {
        const message = await check(key);
        OC.keys.set(slot, key);
        input.value = "";
        input.placeholder = "a key is in use for this tab";
        forget.hidden = false;
        OC.status(status, message, "ok");
      } catch (err) {
        OC.keys.forget(slot);
        forget.hidden = true;
        forgotten();
        OC.status(status, err.message, "error");
        input.focus();
      }
    };
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const key = input.value.trim();
      if (key) use(key);
    });
    forget.addEventListener("click", () => {
      OC.keys.forget(slot);
      forget.hidden = true;
      input.placeholder = "";
      forgotten();
      OC.status(status, "The key is forgotten.");
      input.focus();
    });
    const kept = OC.keys.get(slot);
    if (kept) use(kept);
  };

  document.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-copy]");
    if (!button) return;
    const text = document.getElementById(button.dataset.copy).textContent;
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = "Copied";
    } catch {
      const range = document.createRange(); // no clipboard (plain http): select it for Ctrl+C
      range.selectNodeContents(document.getElementById(button.dataset.copy));
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      button.textContent = "Selected";
    }
    setTimeout(() => { button.textContent = "Copy"; }, 1500);
  });
})();
