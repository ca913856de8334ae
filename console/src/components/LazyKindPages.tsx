// The job kinds' pages (scripts, connections, settings) load when first opened, so the
// console's main file stays about as small as before them.
import { useEffect, useState } from "preact/hooks";
import { Loading } from "./ui";

type Pages = typeof import("../pages/kindPages");
let loading: Promise<Pages> | null = null;

export function LazyKindPage(props: { render: (pages: Pages) => preact.JSX.Element }) {
  const [pages, setPages] = useState<Pages | null>(null);
  useEffect(() => {
    loading ??= import("../pages/kindPages");
    void loading.then((m) => setPages(() => m));
  }, []);
  return pages ? props.render(pages) : <Loading />;
}
