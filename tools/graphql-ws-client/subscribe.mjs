// Subscribes to commentEvents with graphql-ws, the reference graphql-transport-ws client, and prints each event
// as a line of JSON; exits after the given number of events.
//
//   node subscribe.mjs ws://HOST/graphql ARTICLE_ID COUNT [TOKEN]
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const [url, articleId, count, token] = process.argv.slice(2);
const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: token ? { Authorization: `Bearer ${token}` } : undefined,
  retryAttempts: 0,
});
let left = Number(count);
client.on("connected", () => console.log(JSON.stringify({ connected: true })));
client.subscribe(
  {
    query: `subscription($a: ID!) { commentEvents(articleId: $a) { kind commentId comment { bodyHTML } } }`,
    variables: { a: articleId },
  },
  {
    next: (result) => {
      console.log(JSON.stringify(result));
      if (--left === 0) {
        client.dispose();
        process.exit(0);
      }
    },
    error: (err) => {
      console.error(JSON.stringify(err instanceof Error ? err.message : err));
      process.exit(1);
    },
    complete: () => process.exit(left === 0 ? 0 : 1),
  },
);
