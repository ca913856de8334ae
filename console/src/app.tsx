// The shell: who is logged in, the language, the header and the page for the current path.
import { useEffect, useMemo, useState } from "preact/hooks";
import { api, onUnauthorized, setCsrf } from "./api";
import { Link, Loading, Raw } from "./components/ui";
import { initialZone, rememberZone } from "./format";
import { I18nContext, initialLang, LANGS, rememberLang, translate, useI18n as useI18nShell } from "./i18n";
import type { I18n, Lang } from "./i18n";
import { AccountPage } from "./pages/Account";
import { AlertsPage } from "./pages/Alerts";
import { AuditPage } from "./pages/Audit";
import { QueuesPage } from "./pages/Queues";
import { DashboardPage } from "./pages/Dashboard";
import { JobDetailPage } from "./pages/JobDetail";
import { JobEditorPage } from "./pages/JobEditor";
import { JobsPage } from "./pages/Jobs";
import { LoginPage } from "./pages/Login";
import { RunDetailPage } from "./pages/RunDetail";
import { RunsPage } from "./pages/Runs";
import { TokensPage } from "./pages/Tokens";
import { UsersPage } from "./pages/Users";
import { LazyKindPage } from "./components/LazyKindPages";
import { WorkflowEditorPage, WorkflowPage, WorkflowRunPage, WorkflowsPage } from "./pages/Workflows";
import { ForecastPage } from "./pages/Forecast";
import { TemplateDetailPage, TemplatesPage } from "./pages/Templates";
import { navigate, useLocation } from "./router";
import { covers, SessionContext, useSession } from "./session";
import type { Session } from "./session";
import type { ComponentChildren } from "preact";
import type { GrantRole, LoginOut, Me, Role, User } from "./types";
import { GroupDetailPage, GroupsPage } from "./pages/Groups";

interface Auth {
  user: User;
  role: Role;
  groups: Record<string, GrantRole>;
}

export function App() {
  const [lang, setLangState] = useState<Lang>(initialLang);
  const [zone, setZoneState] = useState<string>(initialZone);
  const [auth, setAuth] = useState<Auth | null | undefined>(undefined);
  const location = useLocation();

  const i18n = useMemo<I18n>(
    () => ({
      lang,
      t: (key, vars) => translate(lang, key, vars),
      setLang: (next) => {
        rememberLang(next);
        setLangState(next);
      },
      zone,
      setZone: (next) => {
        rememberZone(next);
        setZoneState(next);
      },
    }),
    [lang, zone],
  );

  useEffect(() => {
    document.documentElement.lang = lang;
    document.title = translate(lang, "app.title");
  }, [lang]);

  useEffect(() => {
    onUnauthorized(() => {
      setCsrf(null);
      setAuth(null);
    });
    api
      .get<Me>("/api/me")
      .then((me) => {
        setCsrf(me.csrf_token);
        setAuth({ user: me.user, role: me.role, groups: me.groups ?? {} });
      })
      .catch(() => setAuth(null));
  }, []);

  const session = useMemo<Session | null>(
    () =>
      auth
        ? {
            user: auth.user,
            role: auth.role,
            groups: auth.groups,
            logout: () => {
              void api.post("/api/auth/logout").finally(() => {
                setCsrf(null);
                setAuth(null);
                navigate("/login");
              });
            },
          }
        : null,
    [auth],
  );

  let body;
  if (auth === undefined) {
    body = <Loading />;
  } else if (!session || location.path === "/login") {
    body = (
      <LoginPage
        onLogin={(out: LoginOut) => {
          setCsrf(out.csrf_token);
          setAuth({ user: out.user, role: out.user.role, groups: {} });
          // a session's group roles come with /api/me
          void api.get<Me>("/api/me").then((me) => setAuth({ user: me.user, role: me.role, groups: me.groups ?? {} }));
          const next = location.query.get("next");
          navigate(next && next.startsWith("/") && !next.startsWith("//") ? next : "/", { replace: true });
        }}
      />
    );
    if (auth === null && location.path !== "/login") {
      const next = location.path + (location.query.toString() ? `?${location.query.toString()}` : "");
      queueMicrotask(() => navigate(`/login${next !== "/" ? `?next=${encodeURIComponent(next)}` : ""}`, { replace: true }));
    }
  } else {
    body = (
      <SessionContext.Provider value={session}>
        <Shell path={location.path}>{route(location.path, session.role)}</Shell>
      </SessionContext.Provider>
    );
  }
  return <I18nContext.Provider value={i18n}>{body}</I18nContext.Provider>;
}

function route(path: string, role: Role) {
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const [first, second, third] = parts;
  if (parts.length === 0) return <DashboardPage />;
  if (first === "jobs") {
    if (parts.length === 1) return <JobsPage />;
    if (second === "new" && parts.length === 2) return <JobEditorPage jobId={null} key="new" />;
    if (second && third === "edit" && parts.length === 3) return <JobEditorPage jobId={second} key={`edit-${second}`} />;
    if (second && parts.length === 2) return <JobDetailPage jobId={second} key={second} />;
  }
  if (first === "runs") {
    if (parts.length === 1) return <RunsPage />;
    if (second && /^\d+$/.test(second) && parts.length === 2) return <RunDetailPage runId={Number(second)} key={second} />;
  }
  if (first === "workflows") {
    const fourth = parts[3];
    if (parts.length === 1) return <WorkflowsPage />;
    if (second === "new" && parts.length === 2) return covers(role, "admin") ? <WorkflowEditorPage workflowId={null} key="new" /> : <Forbidden />;
    if (second && third === "edit" && parts.length === 3) return covers(role, "admin") ? <WorkflowEditorPage workflowId={second} key={`edit-${second}`} /> : <Forbidden />;
    if (second && parts.length === 2) return <WorkflowPage workflowId={second} key={second} />;
    if (second && third === "runs" && fourth && /^\d+$/.test(fourth) && parts.length === 4)
      return <WorkflowRunPage workflowId={second} runId={Number(fourth)} key={`${second}-${fourth}`} />;
  }
  if (first === "groups") {
    if (parts.length === 1) return <GroupsPage />;
    if (second && parts.length === 2) return <GroupDetailPage name={second} key={second} />;
  }
  if (first === "audit" && parts.length === 1) return covers(role, "admin") ? <AuditPage /> : <Forbidden />;
  if (first === "users" && parts.length === 1) return covers(role, "admin") ? <UsersPage /> : <Forbidden />;
  if (first === "tokens" && parts.length === 1) return <TokensPage />;
  if (first === "account" && parts.length === 1) return <AccountPage />;
  // job kinds (issue 17): scripts, connections, the deployment's settings
  if (first === "scripts") {
    if (parts.length === 1) return <LazyKindPage render={(p) => <p.ScriptsPage />} key="scripts" />;
    if (second === "new" && parts.length === 2) return <LazyKindPage render={(p) => <p.ScriptPage name={null} />} key="new" />;
    if (second && parts.length === 2) return <LazyKindPage render={(p) => <p.ScriptPage name={second} />} key={`script-${second}`} />;
  }
  if (first === "connections" && parts.length === 1) return <LazyKindPage render={(p) => <p.ConnectionsPage />} key="connections" />;
  if (first === "settings" && parts.length === 1)
    return covers(role, "admin") ? <LazyKindPage render={(p) => <p.SettingsPage />} key="settings" /> : <Forbidden />;
  if (first === "forecast" && parts.length === 1) return <ForecastPage />;
  if (first === "templates" && parts.length === 1) return <TemplatesPage />;
  if (first === "templates" && second && parts.length === 2) return <TemplateDetailPage name={second} key={second} />;
  if (first === "queues" && parts.length === 1) return <QueuesPage />;
  if (first === "alerts" && parts.length === 1) return <AlertsPage />;
  return <NotFound />;
}

function Forbidden() {
  const { t } = useI18nShell();
  return (
    <div class="page">
      <div class="alert error" role="alert">
        {t("error.adminOnly")}
      </div>
    </div>
  );
}

function NotFound() {
  const { t } = useI18nShell();
  return (
    <div class="page">
      <h1>{t("error.pageNotFound")}</h1>
      <Link href="/">{t("nav.dashboard")}</Link>
    </div>
  );
}

function Shell(props: { path: string; children: ComponentChildren }) {
  const { t, lang, setLang } = useI18nShell();
  const session = useSession();
  const admin = covers(session.role, "admin");
  const nav: [string, string, boolean][] = [
    ["/", t("nav.dashboard"), true],
    ["/jobs", t("nav.jobs"), true],
    ["/runs", t("nav.runs"), true],
    ["/workflows", t("nav.workflows"), true],
    ["/templates", t("nav.templates"), true],
    ["/forecast", t("nav.forecast"), true],
    ["/groups", t("nav.groups"), true],
    ["/queues", t("nav.queues"), true],
    ["/audit", t("nav.audit"), admin],
    ["/users", t("nav.users"), admin],
    ["/tokens", t("nav.tokens"), true],
    ["/scripts", t("nav.scripts"), true],
    ["/connections", t("nav.connections"), true],
    ["/settings", t("nav.settings"), admin],
    ["/alerts", t("nav.alerts"), true],
  ];
  const active = (href: string) => (href === "/" ? props.path === "/" : props.path === href || props.path.startsWith(`${href}/`));
  return (
    <div class="shell">
      <header class="top">
        <Link href="/" class="brand">
          <span class="logo" aria-hidden="true" />
          Tickwork
        </Link>
        <nav class="nav">
          {nav
            .filter(([, , shown]) => shown)
            .map(([href, label]) => (
              <Link href={href} class={active(href) ? "active" : undefined} key={href}>
                {label}
              </Link>
            ))}
        </nav>
        <div class="top-right">
          <select
            class="lang"
            aria-label={t("nav.language")}
            value={lang}
            onChange={(e) => setLang(e.currentTarget.value as Lang)}
            data-testid="lang"
          >
            {LANGS.map((l) => (
              <option value={l} key={l} translate={false}>
                {l === "en" ? "English" : "简体中文"}
              </option>
            ))}
          </select>
          <Link href="/account" class="who" title={t("nav.account")}>
            <Raw>{session.user.username}</Raw> <span class={`badge role-${session.role}`}>{t(`role.${session.role}`)}</span>
          </Link>
          <button type="button" class="link" onClick={session.logout}>
            {t("nav.logout")}
          </button>
        </div>
      </header>
      <main>{props.children}</main>
    </div>
  );
}

