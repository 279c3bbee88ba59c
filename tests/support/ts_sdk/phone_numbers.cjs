// Lists the phone numbers of an API with Vapi's TypeScript SDK, then gets each one, and checks
// every answer against the SDK's own declarations: the SDK does no validation at run time (it
// hands back the JSON it received), so what its types promise is checked here. Prints JSON.
//
// usage: node phone_numbers.cjs BASE_URL API_KEY   (NODE_PATH: where the SDK is installed)
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const { VapiClient } = require("@vapi-ai/server-sdk");

const [baseUrl, token] = process.argv.slice(2);
const types = path.join(path.dirname(require.resolve("@vapi-ai/server-sdk")), "api");

// Each kind of number the SDK's union has: its provider, the interface it extends, and that
// interface's properties, required (no "?") or not, with their type when it is a primitive.
function kindsOfNumber() {
  const union = path.join(types, "resources/phoneNumbers/types/ListPhoneNumbersResponseItem.d.ts");
  const members = fs.readFileSync(union, "utf8").matchAll(/extends Vapi\.(\w+) \{\s*provider: "([^"]+)"/g);
  const kinds = {};
  for (const [, name, provider] of members) {
    const declaration = fs.readFileSync(path.join(types, "types", `${name}.d.ts`), "utf8");
    const fields = {};
    for (const [, field, optional, type] of declaration.matchAll(/^ {4}(\w+)(\??): ([^;]+);$/gm)) {
      const primitive = type.replace(" | undefined", "").trim();
      fields[field] = {
        required: optional !== "?",
        type: ["string", "boolean", "number"].includes(primitive) ? primitive : null,
      };
    }
    kinds[provider] = { name, fields };
  }
  return kinds;
}

function problemsOf(number, kinds) {
  const kind = kinds[number.provider];
  if (kind === undefined) return [`${number.id}: provider ${number.provider} is no kind the SDK knows`];
  const problems = [];
  for (const [field, { required, type }] of Object.entries(kind.fields)) {
    const value = number[field];
    if (value === undefined || value === null) {
      if (required) problems.push(`${number.id}: ${kind.name}.${field} is required`);
    } else if (type !== null && typeof value !== type) {
      problems.push(`${number.id}: ${kind.name}.${field} must be a ${type}`);
    }
  }
  return problems;
}

async function main() {
  const kinds = kindsOfNumber();
  const client = new VapiClient({ token, baseUrl, maxRetries: 0 });
  const listed = await client.phoneNumbers.list();
  const problems = listed.flatMap((number) => problemsOf(number, kinds));
  const fetched = [];
  for (const number of listed) {
    const one = await client.phoneNumbers.get({ id: number.id });
    problems.push(...problemsOf(one, kinds));
    if (JSON.stringify(one) !== JSON.stringify(number)) problems.push(`${number.id}: get differs from list`);
    fetched.push(one.id);
  }
  const seen = listed.map((number) => ({ id: number.id, kind: kinds[number.provider]?.name ?? null }));
  console.log(JSON.stringify({ kinds: Object.keys(kinds).sort(), listed: seen, fetched, problems }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
