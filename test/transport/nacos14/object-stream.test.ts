import assert from "node:assert/strict";
import { test } from "node:test";
import { objectMembers } from "../../../src/transport/nacos14/codecs/object-stream.js";
import { fixtureText } from "./support.js";

async function* piecesOf(text: string, size: number): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

async function members(text: string, size: number): Promise<Array<[string, unknown]>> {
  const out: Array<[string, unknown]> = [];
  for await (const [key, value] of objectMembers(piecesOf(text, size))) out.push([key, JSON.parse(value)]);
  return out;
}

test("members come out whole however the text is cut", async () => {
  const text = fixtureText("datum-map.json");
  const expected = Object.entries(JSON.parse(text) as Record<string, unknown>);
  for (const size of [1, 2, 3, 7, 64, 1000, text.length]) assert.deepEqual(await members(text, size), expected, `pieces of ${size}`);
});

test("strings holding braces, quotes, escapes and commas do not end a member", async () => {
  const value = { a: 'x}{,"\\', b: ["]", { c: "}" }], d: null };
  const text = JSON.stringify({ 'k"ey,}': value, second: 2, third: "3", fourth: null, fifth: [1, [2]] });
  for (const size of [1, 5, text.length]) {
    assert.deepEqual(await members(text, size), Object.entries(JSON.parse(text) as Record<string, unknown>));
  }
});

test("an empty object has no members; whitespace is allowed around everything", async () => {
  assert.deepEqual(await members("  {  }  ", 1), []);
  assert.deepEqual(await members(' \n{ "a" :\t{ "b" : 1 } ,\r\n "c": 2 }\n', 3), [
    ["a", { b: 1 }],
    ["c", 2],
  ]);
});

test("a truncated or malformed stream fails instead of ending quietly", async () => {
  const full = JSON.stringify({ a: { b: 1 }, c: { d: 2 } });
  await assert.rejects(members(full.slice(0, full.length - 1), 4), /ends early/);
  await assert.rejects(members(full.slice(0, 10), 4), /ends early/);
  await assert.rejects(members("[1,2]", 4), /expected '\{'/);
  await assert.rejects(members('{"a":1,}', 4), /expected a key/);
  await assert.rejects(members('{"a" 1}', 4), /expected ':'/);
  await assert.rejects(members('{"a":1} x', 4), /after the object/);
});
