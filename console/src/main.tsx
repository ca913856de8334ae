import { render } from "preact";
import { prefetch } from "./api";
import { App } from "./app";
import { withoutBase } from "./base";
import "./styles.css";

// The list pages ask for their first page while the session is being checked, not after.
const FIRST_PAGE: Record<string, string> = { "/jobs": "/api/jobs?limit=50", "/runs": "/api/runs?limit=50" };
const first = location.search ? undefined : FIRST_PAGE[withoutBase(location.pathname)];
if (first) prefetch(first);

const root = document.getElementById("app");
if (root) {
  root.textContent = ""; // the static boot placeholder of index.html
  render(<App />, root);
}
