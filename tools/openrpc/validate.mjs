// Validates an OpenRPC document with the OpenRPC project's own validator: the document against the OpenRPC
// meta-schema, then parsed whole (every $ref dereferenced). Usage: node validate.mjs DOCUMENT.json
import { readFileSync } from "node:fs";
import { parseOpenRPCDocument, validateOpenRPCDocument } from "@open-rpc/schema-utils-js";

const path = process.argv[2];
if (!path) {
  console.error("usage: node validate.mjs DOCUMENT.json");
  process.exit(2);
}
const document = JSON.parse(readFileSync(path, "utf8"));
const valid = validateOpenRPCDocument(document);
if (valid !== true) {
  console.error(valid.message);
  process.exit(1);
}
try {
  const parsed = await parseOpenRPCDocument(JSON.stringify(document));
  console.log(`valid: OpenRPC ${parsed.openrpc}, ${parsed.methods.length} methods`);
} catch (e) {
  console.error(`does not parse: ${e.message}`);
  process.exit(1);
}
