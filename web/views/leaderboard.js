// The Leaderboard page: Elo of each model's agentic and RAG answers over the votes on compare runs.
import { api } from "../api.js";
import { h, view } from "../dom.js";

export async function leaderboardView() {
  const board = await api("/v1/leaderboard");
  view.replaceChildren(
    h("h1", {}, "Leaderboard"),
    h(
      "p",
      { class: "muted" },
      `Elo over ${board.votes} votes on compare runs (each vote is a game between a model's agentic and RAG answers).`,
    ),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { id: "leaderboard" },
        h("thead", {}, h("tr", {}, ...["Mode", "Model", "Rating", "Wins", "Losses", "Ties"].map((x) => h("th", {}, x)))),
        h(
          "tbody",
          {},
          board.data.length
            ? board.data.map((r) =>
                h(
                  "tr",
                  {},
                  h("td", {}, r.mode),
                  h("td", {}, r.model),
                  h("td", {}, r.rating.toFixed(1)),
                  h("td", {}, r.wins),
                  h("td", {}, r.losses),
                  h("td", {}, r.ties),
                ),
              )
            : h("tr", {}, h("td", { colspan: 6, class: "muted" }, "No votes yet: run a compare and vote.")),
        ),
      ),
    ),
  );
}
