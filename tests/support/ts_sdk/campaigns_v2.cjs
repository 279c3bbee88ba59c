// Runs a v2 campaign's whole life with Vapi's TypeScript SDK: create, list with counters,
// get, its contacts by status, cancel, delete. Prints every answer as JSON, for the test to
// judge (the SDK hands back the JSON it received: it validates nothing at run time).
//
// usage: node campaigns_v2.cjs BASE_URL API_KEY PHONE_NUMBER_ID NUMBER...   (NODE_PATH: the SDK)
"use strict";

const { VapiClient } = require("@vapi-ai/server-sdk");

const [baseUrl, token, phoneNumberId, ...numbers] = process.argv.slice(2);

async function main() {
  const client = new VapiClient({ token, environment: baseUrl });
  const campaigns = client.campaigns;
  const created = await campaigns.campaignControllerCreateV2({
    name: "typescript v2",
    assistantId: "assistant-ts",
    phoneNumberId,
    customers: numbers.map((number) => ({ number })),
    schedulePlan: { earliestAt: "2099-01-01T00:00:00Z" },
  });
  const id = created.id;
  const listed = await campaigns.campaignControllerFindAllV2({ includeCounters: true, limit: 10 });
  const got = await campaigns.campaignControllerFindOneV2({ id, includeCounters: true });
  const contacts = await campaigns.campaignControllerGetCampaignV2Contacts({
    id,
    status: ["contact.pending", "contact.skipped"],
    sortBy: "position",
    limit: 2,
    page: 2,
  });
  const cancelled = await campaigns.campaignControllerUpdateV2({ id, body: { status: "cancelled" } });
  const skipped = await campaigns.campaignControllerGetCampaignV2Contacts({ id, status: "contact.skipped" });
  const deleted = await campaigns.campaignControllerRemoveV2({ id });
  process.stdout.write(
    JSON.stringify({ created, listed, got, contacts, cancelled, skipped, deleted }),
  );
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n${JSON.stringify(error.body || null)}\n`);
  process.exit(1);
});
