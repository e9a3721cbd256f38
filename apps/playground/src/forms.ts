import { checkOption, createSpec, describeInterval, getDefinition, type OptimizerSpec, type OptionSchema } from '@descent/core';

/**
 * An optimizer's options as a form, generated from its definition's option schema: a text field per number (so a
 * user can type anything and read the library's own message for it), two for a pair, a checkbox per boolean, a
 * menu per enum. Values are checked with core's `checkOption` field by field and then with `createSpec` as a
 * whole, so the page shows exactly the messages the library raises, next to the field they name.
 *
 * @packageDocumentation
 */

/** Options the page does not offer: the race decides them (`nonFinite`) or they do not apply to one 2-D point. */
const HIDDEN = new Set(['nonFinite', 'maximize']);

/** A rendered form. */
export interface OptionsForm {
  readonly element: HTMLElement;
  /** The spec for the current values, or the messages that stop it (by option name; `''` for the whole). */
  read(): { spec: OptimizerSpec } | { errors: Map<string, string> };
  /** Shows `errors` next to their fields (and clears the others). */
  showErrors(errors: ReadonlyMap<string, string>): void;
}

function parseNumber(text: string): unknown {
  const t = text.trim();
  if (t === '') return text;
  const n = Number(t);
  return Number.isNaN(n) && t !== 'NaN' ? text : n;
}

/** The form for `optimizer` with `values` filled in (defaults elsewhere); `onChange` runs after every edit. */
export function optionsForm(optimizer: string, values: Readonly<Record<string, unknown>>, onChange: () => void): OptionsForm {
  const def = getDefinition(optimizer);
  const root = document.createElement('div');
  root.className = 'options';
  const readers = new Map<string, () => unknown>();
  const messages = new Map<string, HTMLElement>();
  const whole = document.createElement('div');
  whole.className = 'error';
  whole.dataset.error = optimizer;
  for (const [key, schema] of Object.entries(def.schema) as Array<[string, OptionSchema]>) {
    if (HIDDEN.has(key)) continue;
    const row = document.createElement('label');
    row.className = 'option';
    row.title = schema.doc;
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = key;
    row.append(name);
    const value = key in values ? values[key] : schema.default;
    // The controls of one option share a cell, so a pair's two fields sit side by side.
    const cell = document.createElement('span');
    cell.className = 'control';
    row.append(cell);
    const input = (text: string, hint: string): HTMLInputElement => {
      const el = document.createElement('input');
      el.type = 'text';
      el.value = text;
      el.placeholder = hint;
      el.dataset.option = key;
      el.addEventListener('input', onChange);
      cell.append(el);
      return el;
    };
    switch (schema.type) {
      case 'number': {
        // A nullable option ("not set", e.g. Prodigy's beta3) is an empty field.
        const el = input(value === null ? '' : String(value), schema.nullable ? `${describeInterval(schema)}, or empty for not set` : describeInterval(schema));
        readers.set(key, () => (schema.nullable && el.value.trim() === '' ? null : parseNumber(el.value)));
        break;
      }
      case 'pair': {
        const pair = Array.isArray(value) ? value : schema.default;
        const a = input(String(pair[0]), describeInterval(schema.items[0]));
        const b = input(String(pair[1]), describeInterval(schema.items[1]));
        a.dataset.option = `${key}.0`;
        b.dataset.option = `${key}.1`;
        readers.set(key, () => [parseNumber(a.value), parseNumber(b.value)]);
        break;
      }
      case 'triple': {
        const triple = Array.isArray(value) ? value : schema.default;
        const els = [0, 1, 2].map((i) => {
          const el = input(String(triple[i]), describeInterval(schema.items[i as 0 | 1 | 2]));
          el.dataset.option = `${key}.${i}`;
          return el;
        });
        readers.set(key, () => els.map((el) => parseNumber(el.value)));
        break;
      }
      case 'boolean': {
        const el = document.createElement('input');
        el.type = 'checkbox';
        el.checked = value === true;
        el.dataset.option = key;
        el.addEventListener('change', onChange);
        cell.append(el);
        readers.set(key, () => el.checked);
        break;
      }
      case 'enum': {
        const el = document.createElement('select');
        el.dataset.option = key;
        for (const v of schema.values) el.append(new Option(v, v, false, v === value));
        el.addEventListener('change', onChange);
        cell.append(el);
        readers.set(key, () => el.value);
        break;
      }
      default: {
        // A schema type this page does not know yet: JSON, checked by the library like any other value.
        const el = input(JSON.stringify(value), 'JSON');
        readers.set(key, () => {
          try {
            return JSON.parse(el.value) as unknown;
          } catch {
            return el.value;
          }
        });
      }
    }
    const msg = document.createElement('span');
    msg.className = 'error';
    msg.dataset.errorFor = key;
    row.append(msg);
    messages.set(key, msg);
    root.append(row);
  }
  root.append(whole);
  const showErrors = (errors: ReadonlyMap<string, string>): void => {
    for (const [key, el] of messages) el.textContent = errors.get(key) ?? '';
    whole.textContent = errors.get('') ?? '';
  };
  return {
    element: root,
    showErrors,
    read() {
      const options: Record<string, unknown> = {};
      const errors = new Map<string, string>();
      for (const [key, read] of readers) {
        const value = read();
        try {
          checkOption(optimizer, key, def.schema[key]!, value);
          if (JSON.stringify(value) !== JSON.stringify(def.schema[key]!.default)) options[key] = value;
        } catch (err) {
          errors.set(key, (err as Error).message);
        }
      }
      if (errors.size === 0) {
        try {
          return { spec: createSpec(optimizer, options) };
        } catch (err) {
          // A cross-option rule: put the message next to the option it names, else under the form.
          const message = (err as Error).message;
          const named = /option "([^"]+)"/.exec(message)?.[1];
          errors.set(named !== undefined && messages.has(named) ? named : '', message);
        }
      }
      return { errors };
    },
  };
}
