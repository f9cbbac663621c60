// The CodeMirror 6 view of a manifest: YAML highlighted in the course's colours (both themes, through its CSS
// variables), the API server's dry-run verdict underlined on its lines as the learner types, and field names
// completed from the cluster's own schema. Part of the lazily loaded editor chunk, never of the lesson page itself.
import {
  autocompletion,
  type CompletionContext,
  type CompletionResult,
  completionKeymap,
} from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { yaml } from '@codemirror/lang-yaml';
import { HighlightStyle, indentService, indentUnit, syntaxHighlighting } from '@codemirror/language';
import { type Diagnostic, linter, lintKeymap } from '@codemirror/lint';
import { EditorState } from '@codemirror/state';
import { drawSelection, EditorView, highlightSpecialChars, keymap, lineNumbers } from '@codemirror/view';
import { tags } from '@lezer/highlight';
import type { ApiSchema } from '../../sandbox-server/src/cluster/api-schema.ts';
import { documentKind, fieldsAt, indentAfter, keyPathAt, siblingKeys, valueAt } from './yaml-fields.ts';

/** How long typing pauses before the cluster is asked: one dry run per pause, not per key. */
const VALIDATE_AFTER_MS = 600;

/** One problem the server found, on a 1-based line. */
export interface LineProblem {
  line: number;
  message: string;
}

export interface ManifestViewOptions {
  parent: HTMLElement;
  text: string;
  /** The content's accessible name, and the id of the text list of problems that describes it. */
  label: string;
  describedBy: string;
  /** The server's problems with `content` (throws when it cannot tell). */
  validate: (content: string) => Promise<LineProblem[]>;
  /** Each finished check of the current text: its problems, or the error that kept it from being checked. */
  checked: (result: { problems: LineProblem[] } | { error: unknown }) => void;
  /** The cluster's field tree once it is there (completion offers nothing before). */
  schema: () => ApiSchema | undefined;
  save: () => void;
}

const highlight = HighlightStyle.define([
  { tag: tags.definition(tags.propertyName), color: 'var(--accent)' },
  { tag: [tags.string, tags.special(tags.string)], color: 'var(--ok)' },
  { tag: tags.content, color: 'var(--fg)' },
  { tag: tags.lineComment, color: 'var(--muted)', fontStyle: 'italic' },
  { tag: [tags.meta, tags.separator, tags.punctuation, tags.squareBracket, tags.brace], color: 'var(--muted)' },
  { tag: [tags.typeName, tags.labelName, tags.keyword], color: 'var(--warn)' },
]);

const theme = EditorView.theme({
  '&': { color: 'var(--fg)', backgroundColor: 'var(--code-bg)', borderTop: '1px solid var(--border)' },
  '&.cm-focused': { outline: '2px solid var(--accent)', outlineOffset: '-2px' },
  '.cm-scroller': {
    fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace',
    fontSize: '0.9rem',
    maxHeight: '32rem',
    overflow: 'auto',
  },
  '.cm-content': { caretColor: 'var(--fg)' },
  '.cm-gutters': { backgroundColor: 'var(--surface)', color: 'var(--muted)', borderRight: '1px solid var(--border)' },
  '&.cm-focused .cm-selectionBackground, .cm-selectionBackground': { backgroundColor: 'var(--term-selection)' },
  '.cm-tooltip': { backgroundColor: 'var(--bg)', color: 'var(--fg)', border: '1px solid var(--border)' },
  '.cm-tooltip-autocomplete ul li[aria-selected]': { backgroundColor: 'var(--accent)', color: 'var(--on-accent)' },
  '.cm-completionInfo': { maxWidth: '28rem', whiteSpace: 'normal' },
  '.cm-completionDetail': { color: 'var(--muted)', marginLeft: '0.5em' },
  '.cm-tooltip-autocomplete ul li[aria-selected] .cm-completionDetail': { color: 'inherit' },
  '.cm-lintRange-error': { textDecoration: 'underline wavy var(--bad)', textUnderlineOffset: '3px' },
  '.cm-diagnostic-error': { borderLeftColor: 'var(--bad)' },
});

/**
 * Field names from the schema for the key being typed, by its YAML path in its document's kind; after `key: `, the
 * field's allowed values when the schema lists them.
 */
function fieldCompletion(schema: () => ApiSchema | undefined) {
  return (context: CompletionContext): CompletionResult | null => {
    const tree = schema();
    const line = context.state.doc.lineAt(context.pos);
    const lines = context.state.doc.toJSON();
    const row = line.number - 1;
    const kind = documentKind(lines, row);
    if (!tree || !kind) return null;
    const column = context.pos - line.from;
    const value = valueAt(lines, row, column);
    if (value) {
      const allowed = fieldsAt(tree, kind, value.path)?.[value.key]?.enum;
      if (!allowed) return null;
      return {
        from: line.from + value.from,
        validFor: /^[A-Za-z0-9_.-]*$/,
        options: allowed.map((label) => ({ label, type: 'enum' })),
      };
    }
    const word = context.matchBefore(/[A-Za-z0-9_.-]*/);
    const path = keyPathAt(lines, row, column);
    if (!word || !path || (word.from === word.to && !context.explicit)) return null;
    const fields = fieldsAt(tree, kind, path);
    if (!fields) return null;
    const present = siblingKeys(lines, row, word.from - line.from);
    return {
      from: word.from,
      validFor: /^[A-Za-z0-9_.-]*$/,
      options: Object.entries(fields)
        .filter(([name]) => !present.has(name))
        .map(([name, field]) => ({
          label: name,
          type: 'property',
          detail: field.enum ? field.enum.join(' | ') : field.type,
          info: field.description,
          // A scalar's value follows on the line; an object's or a list's fields on the next.
          apply: ['object', 'list', 'map'].includes(field.type) ? `${name}:` : `${name}: `,
        })),
    };
  };
}

/** The problems as CodeMirror diagnostics, each from the line's first non-blank character to its end. */
function toDiagnostics(state: EditorState, problems: LineProblem[]): Diagnostic[] {
  return problems.map(({ line, message }) => {
    const at = state.doc.line(Math.min(Math.max(line, 1), state.doc.lines));
    const indent = at.text.length - at.text.trimStart().length;
    return { from: at.from + indent, to: at.to, severity: 'error', message, source: 'Kubernetes API server' };
  });
}

export function manifestView(options: ManifestViewOptions): EditorView {
  const check = linter(
    async (view) => {
      const state = view.state;
      try {
        const problems = await options.validate(state.doc.toString());
        if (view.state.doc === state.doc) options.checked({ problems });
        return toDiagnostics(state, problems);
      } catch (error) {
        if (view.state.doc === state.doc) options.checked({ error });
        return [];
      }
    },
    { delay: VALIDATE_AFTER_MS },
  );
  return new EditorView({
    parent: options.parent,
    state: EditorState.create({
      doc: options.text,
      extensions: [
        lineNumbers(),
        highlightSpecialChars(),
        history(),
        drawSelection(),
        EditorState.tabSize.of(2),
        indentUnit.of('  '),
        yaml(),
        // Enter after `spec:` goes in two spaces; after `- name: x` lines up with `name`.
        indentService.of((context, pos) =>
          context.simulatedBreak === pos ? indentAfter(context.lineAt(pos, -1).text) : undefined,
        ),
        syntaxHighlighting(highlight),
        autocompletion({ override: [fieldCompletion(options.schema)], icons: false }),
        check,
        // Tab indents; Escape then Tab leaves the editor, as CodeMirror does for keyboard users.
        keymap.of([
          {
            key: 'Mod-s',
            preventDefault: true,
            run: () => {
              options.save();
              return true;
            },
          },
          ...completionKeymap,
          ...lintKeymap,
          ...historyKeymap,
          ...defaultKeymap,
          indentWithTab,
        ]),
        EditorView.contentAttributes.of({
          'aria-label': options.label,
          'aria-describedby': options.describedBy,
          autocapitalize: 'off',
          spellcheck: 'false',
        }),
        theme,
      ],
    }),
  });
}

/** Puts `text` in place of the whole document (a reload from the sandbox). */
export function replaceText(view: EditorView, text: string): void {
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
}
