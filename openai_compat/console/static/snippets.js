/* Each playground request as code a user can copy: curl, and Python with the official `openai` SDK,
   both pointed at this gateway's base_url. The key is never written out: both read OPENAI_API_KEY. */
(() => {
  "use strict";
  const OC = window.OC;
  const KEY_NOTE = "# export OPENAI_API_KEY=<your gateway key>";

  const shell = (text) => `'${String(text).replace(/'/g, "'\\''")}'`;

  /* A Python literal for a JSON value (JSON strings are valid Python strings). */
  const py = (value, depth = 0) => {
    if (value === null || value === undefined) return "None";
    if (value === true) return "True";
    if (value === false) return "False";
    if (typeof value === "number" || typeof value === "string") return JSON.stringify(value);
    const pad = "    ".repeat(depth + 1), end = "    ".repeat(depth);
    if (Array.isArray(value)) {
      if (!value.length) return "[]";
      return `[\n${value.map((item) => `${pad}${py(item, depth + 1)},`).join("\n")}\n${end}]`;
    }
    const entries = Object.entries(value).map(([name, item]) => `${JSON.stringify(name)}: ${py(item, depth + 1)}`);
    return `{${entries.join(", ")}}`;
  };

  const call = (fn, args) => {
    const lines = Object.entries(args).filter(([, v]) => v !== undefined).map(([k, v]) => `    ${k}=${py(v, 1)},`);
    return `${fn}(\n${lines.join("\n")}\n)`;
  };

  const client = () =>
    `from openai import OpenAI\n\n${KEY_NOTE}\nclient = OpenAI(base_url=${JSON.stringify(OC.baseUrl)})\n\n`;

  const curlJson = (path, body, extra = "") =>
    `${KEY_NOTE}\ncurl${path.stream ? " -N" : ""} ${OC.baseUrl}${path.url} \\\n` +
    `  -H "Authorization: Bearer $OPENAI_API_KEY" \\\n  -H "Content-Type: application/json" \\\n` +
    `  -d ${shell(JSON.stringify(body, null, 2))}${extra}`;

  OC.snippets = {
    chat(body) {
      return {
        curl: curlJson({ url: "/chat/completions", stream: body.stream }, body),
        python: `${client()}stream = ${call("client.chat.completions.create", body)}\n` +
          "for chunk in stream:\n    if chunk.choices and chunk.choices[0].delta.content:\n" +
          "        print(chunk.choices[0].delta.content, end=\"\", flush=True)\nprint()",
      };
    },
    image(body) {
      const save = body.response_format === "b64_json"
        ? "import base64\n\nwith open(\"image.png\", \"wb\") as out:\n    out.write(base64.b64decode(result.data[0].b64_json))"
        : "print(result.data[0].url)  # a signed link, served by the gateway";
      return {
        curl: curlJson({ url: "/images/generations" }, body),
        python: `${client()}result = ${call("client.images.generate", body)}\n${save}`,
      };
    },
    audio(task, fields, filename) {
      const form = Object.entries(fields).map(([k, v]) => `  -F ${shell(`${k}=${v}`)} \\\n`).join("");
      const args = Object.entries(fields).map(([k, v]) => `        ${k}=${py(v)},\n`).join("");
      return {
        curl: `${KEY_NOTE}\ncurl ${OC.baseUrl}/audio/${task} \\\n  -H "Authorization: Bearer $OPENAI_API_KEY" \\\n` +
          `${form}  -F ${shell(`file=@${filename}`)}`,
        python: `${client()}with open(${JSON.stringify(filename)}, "rb") as audio:\n` +
          `    result = client.audio.${task}.create(\n${args}        file=audio,\n    )\nprint(result.text)`,
      };
    },
    speech(body) {
      const file = `speech.${body.response_format}`;
      return {
        curl: curlJson({ url: "/audio/speech" }, body, ` \\\n  --output ${file}`),
        python: `${client()}with ${call("client.audio.speech.with_streaming_response.create", body)} as response:\n` +
          `    response.stream_to_file(${JSON.stringify(file)})`,
      };
    },
  };

  /* Writes a panel's snippets into its code block (ids `<panel>-curl`, `<panel>-python`). */
  OC.showCode = (panel, code) => {
    document.getElementById(`${panel}-curl`).textContent = code.curl;
    document.getElementById(`${panel}-python`).textContent = code.python;
  };
})();
