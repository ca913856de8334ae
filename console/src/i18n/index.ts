// A typed message catalogue: `en` defines the keys; every other language is a `Messages`,
// so a missing or unknown key is a type error. Placeholders look like {name}.
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import { en } from "./en";
import { zhCN } from "./zh-CN";

export type MessageKey = keyof typeof en;
export type Messages = { readonly [K in MessageKey]: string };
export const LANGS = ["en", "zh-CN"] as const;
export type Lang = (typeof LANGS)[number];
const CATALOGUES: Record<Lang, Messages> = { en, "zh-CN": zhCN };
const STORAGE_KEY = "tickwork.lang";

export type Vars = Record<string, string | number>;
export type T = (key: MessageKey, vars?: Vars) => string;

export function translate(lang: Lang, key: MessageKey, vars?: Vars): string {
  const text = CATALOGUES[lang][key];
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

/** The stored choice, else the browser's languages: zh* -> zh-CN, anything else -> en. */
export function initialLang(): Lang {
  try {
    const stored = localStorage.getItem(STORAGE_KEY);
    if (stored === "en" || stored === "zh-CN") return stored;
  } catch {
    /* storage may be disabled */
  }
  const prefs = navigator.languages?.length ? navigator.languages : [navigator.language];
  for (const pref of prefs) {
    const low = (pref ?? "").toLowerCase();
    if (low.startsWith("zh")) return "zh-CN";
    if (low.startsWith("en")) return "en";
  }
  return "en";
}

export function rememberLang(lang: Lang): void {
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    /* storage may be disabled */
  }
  document.documentElement.lang = lang;
}

/** The language and the zone instants are shown in (both chosen by the viewer). */
export interface I18n {
  lang: Lang;
  t: T;
  setLang: (lang: Lang) => void;
  zone: string;
  setZone: (zone: string) => void;
}

export const I18nContext = createContext<I18n>({
  lang: "en",
  t: (key, vars) => translate("en", key, vars),
  setLang: () => undefined,
  zone: "UTC",
  setZone: () => undefined,
});

export function useI18n(): I18n {
  return useContext(I18nContext);
}
