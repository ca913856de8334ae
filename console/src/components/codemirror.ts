// CodeMirror 6 for the script editor: loaded on demand (import() in CodeEditor.tsx) so pages
// without an editor never download it. Python and shell (bash) highlighting.
//
// The editor lives in a shadow root: CodeMirror then puts its styles in a constructed style
// sheet of that root instead of a <style> element, which the API's Content-Security-Policy
// (style-src 'self', no inline styles) would block. Its look is set by the theme below.
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { python } from "@codemirror/lang-python";
import { bracketMatching, defaultHighlightStyle, indentOnInput, StreamLanguage, syntaxHighlighting } from "@codemirror/language";
import { shell } from "@codemirror/legacy-modes/mode/shell";
import { EditorState } from "@codemirror/state";
import { drawSelection, EditorView, highlightActiveLine, highlightActiveLineGutter, keymap, lineNumbers } from "@codemirror/view";

const THEME = EditorView.theme({
  "&": { maxHeight: "480px", fontSize: "13px", backgroundColor: "#fff" },
  ".cm-scroller": { fontFamily: "var(--mono, monospace)", minHeight: "220px", overflow: "auto" },
  "&.cm-focused": { outline: "2px solid var(--accent, #1f5fbf)", outlineOffset: "-1px" },
  ".cm-gutters": { backgroundColor: "#f8f9fb", borderRight: "1px solid #e4e7ec", color: "#98a2b3" },
});

// Typing over a selection that spans lines lets Chrome's own editing merge the lines, and it
// marks the merged text with a style attribute the CSP refuses; CodeMirror replaces the
// selection itself instead (the result is the same text).
const REPLACE_SELECTION = EditorView.domEventHandlers({
  beforeinput(event, view) {
    if (event.inputType !== "insertText" || !event.data || view.state.selection.ranges.every((r) => r.empty)) return false;
    event.preventDefault();
    view.dispatch(view.state.replaceSelection(event.data), { userEvent: "input.type", scrollIntoView: true });
    return true;
  },
});

export interface Mounted {
  setDoc: (text: string) => void;
  destroy: () => void;
}

export function mount(
  parent: HTMLElement,
  options: { doc: string; language: "python" | "bash"; readOnly: boolean; label: string; onChange: (text: string) => void },
): Mounted {
  const root = parent.shadowRoot ?? parent.attachShadow({ mode: "open" });
  root.replaceChildren();
  const view = new EditorView({
    root,
    parent: root,
    state: EditorState.create({
      doc: options.doc,
      extensions: [
        lineNumbers(),
        highlightActiveLineGutter(),
        history(),
        drawSelection(),
        indentOnInput(),
        bracketMatching(),
        highlightActiveLine(),
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
        options.language === "python" ? python() : StreamLanguage.define(shell),
        THEME,
        REPLACE_SELECTION,
        EditorState.readOnly.of(options.readOnly),
        EditorView.editable.of(!options.readOnly),
        EditorView.contentAttributes.of({ "aria-label": options.label, translate: "no" }),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) options.onChange(update.state.doc.toString());
        }),
      ],
    }),
  });
  return {
    setDoc: (text) => {
      if (text !== view.state.doc.toString()) view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
    },
    destroy: () => view.destroy(),
  };
}
