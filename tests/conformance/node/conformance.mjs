// The official openai npm SDK against the gateway, scenario by scenario:
//
//   GATEWAY_URL=http://127.0.0.1:8000 API_KEY=sk-... node conformance.mjs [chat_stream ...]
//
// Prints one JSON object, by scenario: `result`, what it observed through the SDK (asserted by
// tests/conformance/test_openai_node.py), or `error`, and `exchanges`, every response the SDK received,
// logged by a fetch wrapper (method, url, status, content type, body text for JSON and SSE) so the Python
// side can check each body and event against OpenAI's spec. The SDK reads its own copy of each body as usual.
import OpenAI from 'openai';
import { zodFunction, zodResponseFormat } from 'openai/helpers/zod';
import { z } from 'zod';

const baseURL = `${process.env.GATEWAY_URL}/v1`;
const apiKey = process.env.API_KEY;
const exchanges = [];
const pending = [];
const sentHeaders = [];

async function loggingFetch(url, init = {}) {
  const request = new Request(url, init);
  sentHeaders.push([...request.headers.keys()]);
  const response = await fetch(request);
  const contentType = response.headers.get('content-type') || '';
  const record = { method: request.method, url: String(url), status: response.status, contentType, body: null };
  exchanges.push(record);
  if (contentType.includes('json') || contentType.includes('text/event-stream')) {
    // A tee of the body: the SDK streams its branch as it arrives; this one is read alongside.
    pending.push(response.clone().text().then((text) => { record.body = text; }));
  }
  return response;
}

function client(options = {}) {
  return new OpenAI({ baseURL, apiKey, fetch: loggingFetch, ...options });
}

const HI = [{ role: 'user', content: 'Hi' }];
const City = z.object({ city: z.string(), country: z.string(), population: z.number().int() });

const scenarios = {
  async chat_stream() {
    const out = {};
    for (const model of ['gpt-4.1', 'gpt-4o-mini']) {
      const stream = await client().chat.completions.create({
        model, messages: HI, stream: true, stream_options: { include_usage: true },
      });
      let text = '';
      let usage = null;
      let firstRole = null;
      for await (const chunk of stream) {
        if (chunk.choices.length) {
          firstRole ??= chunk.choices[0].delta.role;
          text += chunk.choices[0].delta.content ?? '';
        }
        if (chunk.usage) usage = chunk.usage;
      }
      out[model] = { text, firstRole, completionTokens: usage?.completion_tokens ?? null };
    }
    return out;
  },

  async chat_stream_helper() {
    const stream = client().chat.completions.stream({ model: 'gpt-4o-mini', messages: HI });
    let deltas = '';
    stream.on('content', (delta) => { deltas += delta; });
    const final = await stream.finalChatCompletion();
    return { deltas, finalContent: final.choices[0].message.content, finishReason: final.choices[0].finish_reason };
  },

  async run_tools() {
    const calls = [];
    const runner = client().chat.completions.runTools({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'What is the weather in Paris' }],
      tools: [zodFunction({
        name: 'get_weather',
        parameters: z.object({ city: z.string() }),
        function: (args) => { calls.push(args); return `sunny in ${args.city}`; },
      })],
    });
    const content = await runner.finalContent();
    return { calls, content, messages: runner.messages.map((m) => m.role) };
  },

  async parse_zod() {
    const reply = await client().chat.completions.parse({
      model: 'gpt-4.1',
      messages: [{ role: 'user', content: 'Which is the largest city in France?' }],
      response_format: zodResponseFormat(City, 'city'),
    });
    return { parsed: reply.choices[0].message.parsed };
  },

  async embeddings() {
    const input = ['the cat', 'the dog'];
    const byDefault = await client().embeddings.create({ model: 'text-embedding-3-small', input });
    const floats = await client().embeddings.create({ model: 'text-embedding-3-small', input, encoding_format: 'float' });
    const same = byDefault.data.every((d, i) => d.embedding.length === floats.data[i].embedding.length
      && d.embedding.every((v, j) => v === Math.fround(floats.data[i].embedding[j])));
    return {
      dimensions: byDefault.data[0].embedding.length,
      isArray: Array.isArray(byDefault.data[0].embedding),
      sameAsFloat: same,
    };
  },

  async responses_stream() {
    const stream = client().responses.stream({ model: 'gpt-4o-mini', input: 'Hi' });
    const kinds = [];
    for await (const event of stream) kinds.push(event.type);
    const final = await stream.finalResponse();
    return { kinds, outputText: final.output_text, status: final.status };
  },

  async errors() {
    const caught = async (promise) => {
      try { await promise; return null; } catch (error) {
        return {
          class: error.constructor.name,
          status: error.status ?? null,
          code: error.code ?? null,
          type: error.type ?? null,
          param: error.param ?? null,
          isNotFound: error instanceof OpenAI.NotFoundError,
          isAuth: error instanceof OpenAI.AuthenticationError,
          isBadRequest: error instanceof OpenAI.BadRequestError,
          requestId: error.requestID ?? null,
        };
      }
    };
    return {
      notFound: await caught(client().chat.completions.create({ model: '@cf/nobody/nothing', messages: HI })),
      auth: await caught(client({ apiKey: 'sk-wrong' }).models.list()),
      badRequest: await caught(client().chat.completions.create({ model: 'gpt-4o-mini', messages: HI, temperature: 7 })),
    };
  },

  // What a browser does before letting openai-node (dangerouslyAllowBrowser) call another origin: a
  // preflight naming every non-safelisted header the SDK is about to send, lower-cased and sorted.
  async cors_preflight() {
    const origin = 'http://localhost:5173';
    await client({ dangerouslyAllowBrowser: true }).chat.completions.create({ model: 'gpt-4o-mini', messages: HI });
    // CORS-safelisted headers need no permission; the forbidden ones a page cannot set at all.
    const leftOut = new Set(['accept', 'accept-language', 'content-language', 'user-agent', 'accept-encoding',
      'connection', 'content-length', 'host']);
    const requested = [...new Set(sentHeaders.flat())].filter((h) => !leftOut.has(h)).sort();
    const preflight = await fetch(`${baseURL}/chat/completions`, {
      method: 'OPTIONS',
      headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': requested.join(',') },
    });
    const actual = await fetch(`${baseURL}/chat/completions`, {
      method: 'POST',
      headers: { Origin: origin, Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: HI }),
    });
    await actual.text();
    return {
      requested,
      preflightStatus: preflight.status,
      allowOrigin: preflight.headers.get('access-control-allow-origin'),
      allowMethods: preflight.headers.get('access-control-allow-methods'),
      allowHeaders: preflight.headers.get('access-control-allow-headers'),
      actualAllowOrigin: actual.headers.get('access-control-allow-origin'),
      actualExposeHeaders: actual.headers.get('access-control-expose-headers'),
    };
  },
};

// One Node.js start for the lot (the SDK's import is most of a run's time): every scenario named on the
// command line (default: all) runs in turn, each with its own log of exchanges and its own outcome.
const names = process.argv.length > 2 ? process.argv.slice(2) : Object.keys(scenarios);
const unknown = names.filter((n) => !scenarios[n]);
if (unknown.length) {
  console.error(`unknown scenario ${unknown.join(', ')}; one of ${Object.keys(scenarios).join(', ')}`);
  process.exit(2);
}
const outcomes = {};
for (const name of names) {
  exchanges.length = 0;
  pending.length = 0;
  sentHeaders.length = 0;
  let result = null;
  let error = null;
  try {
    result = await scenarios[name]();
  } catch (caught) {
    error = caught?.stack ?? String(caught);
  }
  await Promise.all(pending);
  outcomes[name] = { result, error, exchanges: [...exchanges] };
}
console.log(JSON.stringify(outcomes));
