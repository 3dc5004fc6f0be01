// lib.js — the view library (Preact + htm, vendored from npm) in one place.
import { h, render, Fragment, createContext, toChildArray } from '../vendor/preact/preact.module.js';
import {
  useState, useEffect, useRef, useMemo, useCallback, useContext, useReducer, useLayoutEffect,
} from '../vendor/preact/hooks.module.js';
import htm from '../vendor/htm/htm.module.js';

export const html = htm.bind(h);
export {
  h, render, Fragment, createContext, toChildArray,
  useState, useEffect, useRef, useMemo, useCallback, useContext, useReducer, useLayoutEffect,
};

// A small event bus (session changes, language changes, toasts).
const listeners = new Map();
export function on(name, fn) {
  if (!listeners.has(name)) listeners.set(name, new Set());
  listeners.get(name).add(fn);
  return () => listeners.get(name).delete(fn);
}
export function emit(name, data) {
  for (const fn of listeners.get(name) || []) fn(data);
}

// Re-renders the calling component whenever the named event fires.
export function useEvent(name) {
  const [, bump] = useReducer((n) => n + 1, 0);
  useEffect(() => on(name, bump), [name]);
}

let idSeq = 0;
export function uid(prefix = 'id') {
  idSeq += 1;
  return `${prefix}-${idSeq}`;
}
