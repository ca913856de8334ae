// A code editor (CodeMirror 6, fetched the first time one is shown). The text is controlled
// by the parent: `value` in, `onChange` out; a new `value` from outside (a version opened
// from the history) replaces the document.
import { useEffect, useRef, useState } from "preact/hooks";
import { useI18n } from "../i18n";
import type { Mounted } from "./codemirror";

export function CodeEditor(props: {
  value: string;
  language: "python" | "bash";
  readOnly?: boolean;
  label: string;
  onChange?: (text: string) => void;
}) {
  const { t } = useI18n();
  const host = useRef<HTMLDivElement>(null);
  const editor = useRef<Mounted | null>(null);
  const change = useRef(props.onChange);
  change.current = props.onChange;
  const [ready, setReady] = useState(false);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    let gone = false;
    import("./codemirror")
      .then(({ mount }) => {
        if (gone || !host.current) return;
        editor.current = mount(host.current, {
          doc: props.value,
          language: props.language,
          readOnly: props.readOnly ?? false,
          label: props.label,
          onChange: (text) => change.current?.(text),
        });
        setReady(true);
      })
      .catch(() => setFailed(true));
    return () => {
      gone = true;
      editor.current?.destroy();
      editor.current = null;
    };
  }, [props.language, props.readOnly]);

  useEffect(() => editor.current?.setDoc(props.value), [props.value]);

  return (
    <div class="code-editor" data-testid="code-editor" data-ready={ready ? "yes" : "no"}>
      <div ref={host} />
      {failed ? <div class="alert error">{t("scripts.editorFailed")}</div> : ready ? null : <div class="muted small">{t("common.loading")}</div>}
    </div>
  );
}
