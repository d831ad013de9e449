// What the views share: the catalog's documents by doc_id, loaded once and dropped when the catalog changes.
import { api } from "./api.js";

export const docsById = new Map();
// GET /v1/documents' embeddings: the dense index's coverage ("dense: 64 of 181 filings, ~6 min left").
export const coverage = { dense: null };

export async function loadDocs() {
  if (docsById.size) return [...docsById.values()];
  const list = await api("/v1/documents?limit=5000");
  for (const d of list.data) docsById.set(d.doc_id, d);
  coverage.dense = list.embeddings || null;
  return list.data;
}
