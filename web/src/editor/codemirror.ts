/**
 * The config editor: CodeMirror 6 with JSON, YAML and TOML highlighting, lint markers fed from
 * outside (local JSON parse and the server's render endpoint), and colours taken from the page's
 * CSS variables so both themes follow the app. This module is only ever imported dynamically
 * (CodeEditor.vue), which keeps CodeMirror out of the first download (issue 6, bundle budget).
 */
import { closeBrackets, closeBracketsKeymap } from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { json } from '@codemirror/lang-json';
import { yaml } from '@codemirror/lang-yaml';
import { bracketMatching, defaultHighlightStyle, foldGutter, foldKeymap, HighlightStyle, indentOnInput, StreamLanguage, syntaxHighlighting } from '@codemirror/language';
import { toml } from '@codemirror/legacy-modes/mode/toml';
import { type Diagnostic, lintGutter, lintKeymap, setDiagnostics } from '@codemirror/lint';
import { highlightSelectionMatches, searchKeymap } from '@codemirror/search';
import { Annotation, Compartment, EditorState, type Extension } from '@codemirror/state';
import { drawSelection, EditorView, highlightActiveLine, highlightActiveLineGutter, keymap, lineNumbers } from '@codemirror/view';

export type EditorFormat = 'json' | 'yaml' | 'toml' | 'raw';

/** A problem at a 1-based line and column (columns in code points, as the server reports them). */
export interface EditorProblem {
  line: number;
  column: number;
  message: string;
}

export interface EditorOptions {
  doc: string;
  format: EditorFormat;
  readOnly: boolean;
  /** Accessible name of the text area (e.g. "Content of myapp/config"). */
  label: string;
  onChange: (doc: string) => void;
}

export interface ConfigEditor {
  /** Replaces the whole text without reporting it as an edit. */
  setDoc(doc: string): void;
  setFormat(format: EditorFormat): void;
  setReadOnly(readOnly: boolean): void;
  setLabel(label: string): void;
  setProblems(problems: readonly EditorProblem[]): void;
  focus(): void;
  destroy(): void;
}

const external = Annotation.define<boolean>();

function language(format: EditorFormat): Extension {
  if (format === 'json') return json();
  if (format === 'yaml') return yaml();
  if (format === 'toml') return StreamLanguage.define(toml);
  return [];
}

/**
 * CodeMirror's default highlight rules with every colour replaced by a CSS variable (set per
 * theme in CodeEditor.vue, contrast-checked), falling back to the default colour.
 */
const SYNTAX_VARS: Record<string, string> = {
  '#404740': 'meta', '#708': 'keyword', '#219': 'atom', '#164': 'literal', '#a11': 'string', '#e40': 'escape', '#00f': 'definition',
  '#30a': 'local', '#085': 'type', '#167': 'class', '#256': 'special', '#00c': 'property', '#940': 'comment', '#f00': 'invalid',
};
const themedHighlight = HighlightStyle.define(
  defaultHighlightStyle.specs.map((spec) => {
    const color = typeof spec.color === 'string' ? SYNTAX_VARS[spec.color] : undefined;
    return color ? { ...spec, color: `var(--syn-${color}, ${String(spec.color)})` } : spec;
  }),
);

const appTheme = EditorView.theme({
  '&': { backgroundColor: 'var(--surface)', color: 'var(--text)', height: '100%', fontSize: '13px' },
  '.cm-scroller': { fontFamily: 'var(--mono)', lineHeight: '1.55' },
  '.cm-content': { caretColor: 'var(--text)' },
  '.cm-cursor, .cm-dropCursor': { borderLeftColor: 'var(--text)' },
  '&.cm-focused': { outline: 'none' },
  '.cm-gutters': { backgroundColor: 'var(--surface-2)', color: 'var(--muted)', borderRight: '1px solid var(--border)' },
  '.cm-activeLine': { backgroundColor: 'var(--editor-active-line)' },
  '.cm-activeLineGutter': { backgroundColor: 'var(--editor-active-line)', color: 'var(--text)' },
  '&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground, .cm-selectionBackground, ::selection': { backgroundColor: 'var(--editor-selection)' },
  '.cm-selectionMatch': { backgroundColor: 'var(--editor-match)' },
  '.cm-tooltip': { backgroundColor: 'var(--surface)', color: 'var(--text)', border: '1px solid var(--border)' },
  '.cm-panels': { backgroundColor: 'var(--surface-2)', color: 'var(--text)' },
  '.cm-diagnostic-error': { borderLeftColor: 'var(--danger)' },
  '.cm-foldPlaceholder': { backgroundColor: 'var(--surface-2)', color: 'var(--text)', border: '1px solid var(--border)' },
});

/** The offset of a 1-based line/column (column in code points), clamped to the document. */
function offsetOf(state: EditorState, problem: EditorProblem): number {
  const lineNo = Math.min(Math.max(problem.line, 1), state.doc.lines);
  const line = state.doc.line(lineNo);
  let offset = line.from;
  let column = 1;
  for (const ch of line.text) {
    if (column >= problem.column) break;
    offset += ch.length;
    column++;
  }
  return offset;
}

function toDiagnostics(state: EditorState, problems: readonly EditorProblem[]): Diagnostic[] {
  return problems.map((p) => {
    const from = offsetOf(state, p);
    const lineEnd = state.doc.lineAt(from).to;
    return { from, to: Math.min(lineEnd, from + 1), severity: 'error', message: p.message };
  });
}

export function createConfigEditor(parent: HTMLElement, options: EditorOptions): ConfigEditor {
  const lang = new Compartment();
  const editable = new Compartment();
  const label = new Compartment();
  // Read-only stays focusable and selectable (keyboard users can still read and copy).
  const readOnlyExtensions = (readOnly: boolean) => [EditorState.readOnly.of(readOnly), EditorView.contentAttributes.of({ 'aria-readonly': String(readOnly) })];
  const labelExtension = (text: string) => EditorView.contentAttributes.of({ 'aria-label': text });

  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: options.doc,
      extensions: [
        lineNumbers(),
        highlightActiveLineGutter(),
        foldGutter(),
        lintGutter(),
        history(),
        drawSelection(),
        indentOnInput(),
        bracketMatching(),
        closeBrackets(),
        highlightActiveLine(),
        highlightSelectionMatches(),
        syntaxHighlighting(themedHighlight),
        // Tab is left to move focus (no indentWithTab): the editor must not trap the keyboard.
        keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...searchKeymap, ...historyKeymap, ...foldKeymap, ...lintKeymap]),
        appTheme,
        lang.of(language(options.format)),
        editable.of(readOnlyExtensions(options.readOnly)),
        label.of(labelExtension(options.label)),
        EditorView.updateListener.of((update) => {
          if (update.docChanged && !update.transactions.some((t) => t.annotation(external))) options.onChange(update.state.doc.toString());
        }),
      ],
    }),
  });

  return {
    setDoc(doc) {
      if (doc === view.state.doc.toString()) return;
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: doc }, annotations: external.of(true) });
    },
    setFormat: (format) => view.dispatch({ effects: lang.reconfigure(language(format)) }),
    setReadOnly: (readOnly) => view.dispatch({ effects: editable.reconfigure(readOnlyExtensions(readOnly)) }),
    setLabel: (text) => view.dispatch({ effects: label.reconfigure(labelExtension(text)) }),
    setProblems: (problems) => view.dispatch(setDiagnostics(view.state, toDiagnostics(view.state, problems))),
    focus: () => view.focus(),
    destroy: () => view.destroy(),
  };
}
