/* The playground: one key, then chat (streamed as it arrives), an image, a transcription and a
   spoken reply, each through the gateway's own OpenAI endpoints, each shown as code to copy. */
(() => {
  "use strict";
  const OC = window.OC;
  const $ = (id) => document.getElementById(id);
  const PREFERRED = {
    "Text Generation": ["gpt-4o-mini", "gpt-4o"],
    "Text-to-Image": ["dall-e-3", "gpt-image-1", "dall-e-2"],
    "Automatic Speech Recognition": ["whisper-1"],
    "Text-to-Speech": ["tts-1", "gpt-4o-mini-tts"],
  };
  let key = "";

  const panels = $("panels");
  const setReady = (ready) => {
    panels.setAttribute("aria-disabled", String(!ready));
    $("panels-hint").hidden = ready;
    for (const button of panels.querySelectorAll("button[type=submit]")) button.disabled = !ready;
  };

  /* Model pickers: aliases (their task is the Workers AI model's behind them) and the catalogue's
     models of the panel's task. With the catalogue unreadable, aliases are offered everywhere. */
  const fillModels = (models) => {
    const taskOf = new Map(models.map((m) => [m.id, m.task]));
    for (const select of document.querySelectorAll("select[data-task]")) {
      const task = select.dataset.task;
      const previous = select.value;
      const aliases = models.filter((m) => m.workers_ai_model)
        .filter((m) => [task, undefined, null].includes(taskOf.get(m.workers_ai_model)));
      const own = models.filter((m) => !m.workers_ai_model && m.task === task);
      select.replaceChildren();
      for (const [label, group] of [["Aliases", aliases], ["Workers AI models", own]]) {
        if (!group.length) continue;
        const node = OC.el("optgroup", { label });
        for (const m of group) node.append(OC.el("option", { value: m.id, text: m.id }));
        select.append(node);
      }
      if (!select.options.length) select.append(OC.el("option", { value: "", text: "no model for this task", disabled: true }));
      const ids = [...select.options].map((o) => o.value);
      select.value = [previous, ...(PREFERRED[task] || [])].find((id) => id && ids.includes(id)) || ids[0];
    }
    refreshCode();
  };

  OC.keyForm({
    async check(candidate) {
      const response = await OC.request("/v1/models", { key: candidate });
      const models = (await response.json()).data;
      key = candidate;
      fillModels(models);
      setReady(true);
      return `Key accepted: ${models.length} models listed.`;
    },
    forgotten() {
      key = "";
      setReady(false);
    },
  });

  const busy = (button, on) => {
    button.disabled = on || !key;
    button.setAttribute("aria-busy", String(on));
  };
  const failed = (status, err) => OC.status(status, err.message || String(err), "error");

  /* ---- Chat ---- */
  const chat = { history: [], controller: null, sent: null };
  const chatBody = (text) => ({
    model: $("chat-model").value,
    messages: [...chat.history, { role: "user", content: text }],
    stream: true,
    stream_options: { include_usage: true },
  });
  const addTurn = (role, text) => {
    const log = $("chat-log");
    log.querySelector(".empty")?.remove();
    const body = OC.el("span", { className: "text", text });
    // Models that reason stream their reasoning first: shown apart, and not sent back in the history.
    const reasoning = OC.el("span", { className: "reasoning", hidden: true });
    const turn = OC.el("div", { className: `turn ${role}` }, OC.el("span", { className: "who", text: role }),
      reasoning, body);
    log.append(turn);
    log.scrollTop = log.scrollHeight;
    return { turn, body, reasoning };
  };

  const sendChat = async () => {
    const input = $("chat-input"), status = $("chat-status"), log = $("chat-log");
    const text = input.value.trim();
    if (!text || chat.controller || !key) return;
    const body = chatBody(text);
    chat.sent = body;
    OC.showCode("chat", OC.snippets.chat(body));
    const asked = addTurn("user", text);
    const answer = addTurn("assistant", "");
    answer.turn.classList.add("streaming");
    input.value = "";
    chat.controller = new AbortController();
    busy($("chat-send"), true);
    $("chat-stop").disabled = false;
    log.setAttribute("aria-busy", "true");
    OC.status(status, "Waiting for the first token…");
    let reply = "", usage = null, finish = null, complete = false;
    try {
      const response = await OC.request("/v1/chat/completions",
        { key, method: "POST", json: body, signal: chat.controller.signal });
      OC.status(status, "Streaming…");
      for await (const data of OC.events(response)) {
        if (data === "[DONE]") { complete = true; break; }
        const chunk = JSON.parse(data);
        if (chunk.error) throw new OC.ApiError(0, chunk.error.message, chunk.error.code);
        if (chunk.usage) usage = chunk.usage;
        const choice = (chunk.choices || [])[0];
        if (!choice) continue;
        const delta = choice.delta || {};
        if (delta.reasoning_content) {
          answer.reasoning.hidden = false;
          answer.reasoning.textContent += delta.reasoning_content;
          log.scrollTop = log.scrollHeight;
        }
        if (delta.content) {
          reply += delta.content;
          answer.body.textContent = reply;
          log.scrollTop = log.scrollHeight;
        }
        if (choice.finish_reason) finish = choice.finish_reason;
      }
      if (!complete) throw new OC.ApiError(0, "The stream ended before the reply was complete.");
      chat.history.push({ role: "user", content: text }, { role: "assistant", content: reply });
      const model = response.headers.get("x-workers-ai-model");
      const counts = usage ? `${usage.prompt_tokens} tokens in, ${usage.completion_tokens} out` : "no usage reported";
      OC.status(status, `Done${model ? ` on ${model}` : ""}: ${counts}${finish === "length" ? " (cut at the token limit)" : ""}.`, "ok");
    } catch (err) {
      if (err.name === "AbortError") {
        chat.history.push({ role: "user", content: text }, { role: "assistant", content: reply });
        OC.status(status, "Stopped.");
      } else {
        if (!reply) { asked.turn.remove(); answer.turn.remove(); input.value = text; }
        failed(status, err);
      }
    } finally {
      answer.turn.classList.remove("streaming");
      log.setAttribute("aria-busy", "false");
      chat.controller = null;
      busy($("chat-send"), false);
      $("chat-stop").disabled = true;
    }
  };

  $("chat-form").addEventListener("submit", (event) => { event.preventDefault(); sendChat(); });
  $("chat-input").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); sendChat(); }
  });
  $("chat-stop").addEventListener("click", () => chat.controller?.abort());
  $("chat-reset").addEventListener("click", () => {
    chat.controller?.abort();
    chat.history = [];
    chat.sent = null;
    $("chat-log").replaceChildren(OC.el("p", { className: "empty", text: "A new conversation." }));
    OC.status($("chat-status"), "");
    refreshCode("chat");
  });

  /* ---- Image ---- */
  const imageBody = () => ({
    model: $("image-model").value,
    prompt: $("image-prompt").value.trim(),
    size: $("image-size").value,
    n: 1,
    response_format: document.body.dataset.imageFormat,
  });
  $("image-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const status = $("image-status"), button = $("image-send"), img = $("image-out");
    const body = imageBody();
    OC.showCode("image", OC.snippets.image(body));
    busy(button, true);
    OC.status(status, "Generating…");
    try {
      const response = await OC.request("/v1/images/generations", { key, method: "POST", json: body });
      const result = await response.json();
      const item = result.data[0];
      const format = result.output_format || "png";
      img.alt = `Generated from the prompt: ${body.prompt}`;
      img.src = item.url || `data:image/${format};base64,${item.b64_json}`;
      await img.decode().catch(() => { throw new OC.ApiError(0, "The image was made but did not load in the page."); });
      $("image-caption").textContent = `${img.naturalWidth}x${img.naturalHeight} ${format}, ` +
        (item.url ? "at a signed link served by the gateway" : "returned inline as base64");
      $("image-result").hidden = false;
      OC.status(status, `Done on ${response.headers.get("x-workers-ai-model") || body.model}.`, "ok");
    } catch (err) {
      failed(status, err);
    } finally {
      busy(button, false);
    }
  });

  /* ---- Transcription and translation ---- */
  const audioFields = () => ({ model: $("transcribe-model").value, response_format: "json" });
  const audioFile = () => $("transcribe-file").files[0];
  $("transcribe-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const status = $("transcribe-status"), button = $("transcribe-send");
    const task = $("transcribe-task").value, file = audioFile();
    if (!file) return;
    const fields = audioFields();
    OC.showCode("transcribe", OC.snippets.audio(task, fields, file.name));
    const form = new FormData();
    form.append("file", file, file.name);
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    busy(button, true);
    OC.status(status, `Uploading ${OC.number(file.size / 1024, 1)} KiB…`);
    try {
      const response = await OC.request(`/v1/audio/${task}`, { key, method: "POST", form });
      const result = await response.json();
      $("transcribe-out").textContent = result.text || "(no speech heard)";
      $("transcribe-result").hidden = false;
      OC.status(status, `Done on ${response.headers.get("x-workers-ai-model") || fields.model}.`, "ok");
    } catch (err) {
      failed(status, err);
    } finally {
      busy(button, false);
    }
  });

  /* ---- Speech ---- */
  let speechUrl = null;
  const speechBody = () => ({
    model: $("speech-model").value,
    input: $("speech-input").value.trim(),
    voice: $("speech-voice").value,
    response_format: $("speech-format").value,
  });
  $("speech-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const status = $("speech-status"), button = $("speech-send"), audio = $("speech-out");
    const body = speechBody();
    OC.showCode("speech", OC.snippets.speech(body));
    busy(button, true);
    OC.status(status, "Speaking…");
    try {
      const response = await OC.request("/v1/audio/speech", { key, method: "POST", json: body });
      const blob = await response.blob();
      if (speechUrl) URL.revokeObjectURL(speechUrl);
      speechUrl = URL.createObjectURL(blob);
      audio.src = speechUrl;
      $("speech-result").hidden = false;
      OC.status(status, `${OC.number(blob.size / 1024, 1)} KiB of ${body.response_format}.`, "ok");
      audio.play().catch(() => { /* the browser may want a click on play first */ });
    } catch (err) {
      failed(status, err);
    } finally {
      busy(button, false);
    }
  });

  /* Each code block follows its form as it is edited; the chat's shows the request just sent until
     a new message is typed. */
  const CODE = {
    chat: () => {
      const text = $("chat-input").value.trim();
      return !text && chat.sent ? OC.snippets.chat(chat.sent) : OC.snippets.chat(chatBody(text || "Hello"));
    },
    image: () => OC.snippets.image(imageBody()),
    transcribe: () => OC.snippets.audio($("transcribe-task").value, audioFields(), audioFile()?.name || "audio.mp3"),
    speech: () => OC.snippets.speech(speechBody()),
  };
  function refreshCode(panel) {
    for (const name of panel ? [panel] : Object.keys(CODE)) OC.showCode(name, CODE[name]());
  }
  for (const name of Object.keys(CODE)) {
    const form = $(`${name}-form`);
    form.addEventListener("input", () => refreshCode(name));
    form.addEventListener("change", () => refreshCode(name));
  }
  setReady(false);
  refreshCode();
})();
