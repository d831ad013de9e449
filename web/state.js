// What the views share: the catalog's documents by doc_id, loaded once and dropped when the catalog changes.
import { api } from "./api.js";

export const docsById = new Map();

export async function loadDocs() {
  if (docsById.size) return [...docsById.values()];
  const list = await api("/v1/documents?limit=5000");
  for (const d of list.data) docsById.set(d.doc_id, d);
  return list.data;
}
